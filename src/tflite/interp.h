/* Internal queries on an opened TFLite model, for tests, benchmarks and the
 * fuzz target (the public API is in searchlite.h). */
#ifndef SL_TFLITE_INTERP_H
#define SL_TFLITE_INTERP_H

#include "searchlite.h"

#include <stddef.h>
#include <stdint.h>

/* As sl_tflite_open_memory, with the fast convolutions prepared for an
 * explicit instruction-set level (an sl_cpu_level; -1 = sl_cpu()), so one
 * process can hold every level against the reference. A level above what
 * the CPU supports is refused (SL_ERR_UNSUPPORTED). */
sl_status sl_tflite_open_level(const void *data, size_t size, const sl_tflite_opts *opts,
                               int cpu_level, sl_tflite **out);

/* Multiply-accumulates (or element visits) of one run, including copying
 * the input in and reading the output once. */
uint64_t sl_tflite_work(const sl_tflite *model);
/* Bytes of the activation arena. */
size_t sl_tflite_arena_bytes(const sl_tflite *model);
/* Sum of the activation bytes, as if every tensor had its own buffer. */
size_t sl_tflite_activation_bytes(const sl_tflite *model);
/* Number of operators. */
uint32_t sl_tflite_op_count(const sl_tflite *model);
/* Builtin code of operator i (-1 when out of range). */
int32_t sl_tflite_op_code(const sl_tflite *model, uint32_t i);

/* Tensor indices of operator i (borrowed; -1 marks an omitted input). */
sl_status sl_tflite_op_tensors(const sl_tflite *model, uint32_t i, const int32_t **inputs,
                               uint32_t *n_inputs, const int32_t **outputs, uint32_t *n_outputs);
/* 1 when operator i reads its input j at run time (activations), 0 for
 * inputs only read at open time (weights, shapes). */
int sl_tflite_op_reads(const sl_tflite *model, uint32_t i, uint32_t j);
/* Size in bytes of tensor t (0 when out of range). */
size_t sl_tflite_tensor_bytes(const sl_tflite *model, int32_t t);
/* Schema TensorType of tensor t (FLOAT32 = 0, UINT8 = 3, INT8 = 9, ...), -1
 * when out of range. */
int sl_tflite_tensor_type(const sl_tflite *model, int32_t t);

/* Runs operator i alone, for single-layer tests: inputs[j] replaces the
 * data of the operator's input j (NULL keeps the model's own, e.g. for
 * constants), the result goes to `output` (sl_tflite_tensor_bytes of the
 * operator's output). Does not touch the model's activations. */
sl_status sl_tflite_run_op(sl_tflite *model, uint32_t i, const void *const *inputs, void *output);

#endif /* SL_TFLITE_INTERP_H */
