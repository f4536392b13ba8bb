/* Operator interface of the TFLite interpreter.
 *
 * Each operator has a prepare function, called once at open time, that
 * checks everything the operator needs (tensor count, types, shapes,
 * quantization, options), precomputes its fixed-point parameters and sets
 * node->run. After a successful prepare, run cannot fail: it only reads
 * its inputs and writes its outputs through the tensor data table.
 *
 * Arithmetic follows TensorFlow Lite's reference kernels
 * (tensorflow/lite/kernels/internal/reference/...); docs/TFLITE.md lists
 * the definitions each operator reproduces. */
#ifndef SL_TFLITE_OPS_H
#define SL_TFLITE_OPS_H

#include "nn/qconv.h"
#include "schema.h"

#include <stdarg.h>

typedef struct sl_tfl_node sl_tfl_node;

/* What a run sees: tensor data pointers (index = tensor index; constant
 * tensors point at aligned constant data, activations into the arena),
 * the thread pool and scratch for the fast convolutions. */
typedef struct sl_tfl_exec {
    uint8_t *const *data;
    sl_pool *pool;
    uint8_t *scratch;       /* sl_pool_threads(pool) blocks, 64-byte aligned */
    size_t scratch_stride;
} sl_tfl_exec;

typedef void (*sl_tfl_run_fn)(const sl_tfl_node *node, const sl_tfl_exec *ex);

struct sl_tfl_node {
    uint32_t index;          /* operator index in the subgraph (messages) */
    const sl_tfl_op *op;
    sl_tfl_run_fn run;
    void *params;            /* operator parameters, owned by the node */
    void (*release)(void *params); /* frees params (NULL: plain free) */
    uint8_t *uses;           /* (op->n_in) 1 = input read at run time */
};

/* Open-time context shared by the prepare functions. */
typedef struct sl_tfl_ctx {
    const sl_tfl_model *m;
    int reference;           /* use the reference conv kernels only */
    int cpu_level;           /* fast kernels for this sl_cpu_level, -1 = sl_cpu() */
    uint64_t work;           /* multiply-accumulates of one run so far */
    size_t scratch_max;      /* largest per-thread conv scratch */
} sl_tfl_ctx;

/* Caps: total work of one run (multiply-accumulates or element visits). */
#define SL_TFL_MAX_WORK ((uint64_t)1 << 36)

/* ---- helpers (ops_common.c) --------------------------------------------- */

/* sl_fail with "operator N (NAME): " in front. */
sl_status sl_tfl_fail(const sl_tfl_node *n, sl_status st, const char *fmt, ...) SL_PRINTF(3, 4);

/* Checks the operator's input/output counts: min_in <= n_in <= max_in and
 * n_out == n_out_want (SL_ERR_CORRUPT otherwise). */
sl_status sl_tfl_check_arity(const sl_tfl_node *n, uint32_t min_in, uint32_t max_in,
                             uint32_t n_out_want);

/* Input i (NULL when omitted with -1 or beyond n_in) and output i. */
const sl_tfl_tensor *sl_tfl_in(const sl_tfl_ctx *c, const sl_tfl_node *n, uint32_t i);
const sl_tfl_tensor *sl_tfl_out(const sl_tfl_ctx *c, const sl_tfl_node *n, uint32_t i);
int32_t sl_tfl_in_index(const sl_tfl_node *n, uint32_t i);
int32_t sl_tfl_out_index(const sl_tfl_node *n, uint32_t i);

/* Marks input i as read at run time (it must then be constant or written
 * by an earlier operator; the planner checks). Inputs not marked are only
 * read at open time (weights, shapes). */
void sl_tfl_use_input(sl_tfl_ctx *c, const sl_tfl_node *n, uint32_t i);

/* Adds to the work counter; SL_ERR_LIMIT above SL_TFL_MAX_WORK. */
sl_status sl_tfl_add_work(sl_tfl_ctx *c, const sl_tfl_node *n, uint64_t work);

/* Integer range of a quantized type: UINT8 [0, 255], INT8 [-128, 127]. */
int sl_tfl_is_quantized_type(int type);
void sl_tfl_qrange(int type, int32_t *lo, int32_t *hi);

/* Per-tensor quantization of an 8-bit tensor: exactly one scale and a zero
 * point inside the type's range. `role` names the tensor in messages. */
sl_status sl_tfl_quant1(const sl_tfl_node *n, const sl_tfl_tensor *t, const char *role,
                        float *scale, int32_t *zp);

/* Fused activation clamp in the output's integer domain, as TFLite's
 * CalculateActivationRangeQuantized: quantize(f) = zp + round(f / scale). */
sl_status sl_tfl_act_range(const sl_tfl_node *n, int act, int type, float scale, int32_t zp,
                           int32_t *lo, int32_t *hi);
/* The same for float outputs. */
sl_status sl_tfl_act_range_f(const sl_tfl_node *n, int act, float *lo, float *hi);

/* tflite::QuantizeMultiplier of a positive real multiplier, refusing
 * multipliers whose exponent would make the fixed-point shifts undefined
 * (shift outside [-31, max_left]). */
sl_status sl_tfl_multiplier(const sl_tfl_node *n, double m, int max_left, int32_t *q,
                            int *shift, const char *what);

/* TFLite's ComputeOutSize + ComputePaddingHeightWidth for one axis:
 * output size and padding before the first element. SL_ERR_CORRUPT when the
 * window does not fit (VALID with a filter larger than the input). */
sl_status sl_tfl_padding(const sl_tfl_node *n, int padding, int in, int filter, int stride,
                         int dilation, int *out, int *pad);

/* True when the two tensors have the same shape. */
int sl_tfl_same_shape(const sl_tfl_tensor *a, const sl_tfl_tensor *b);

/* Options table of the expected union tag. A missing table, or one of
 * another union type, is absent: SL_ERR_CORRUPT when required, else
 * *present = 0 and the operator uses the schema defaults. */
sl_status sl_tfl_options(const sl_tfl_node *n, uint8_t tag, int required, int *present,
                         const sl_fb_table **opts);

/* ---- operators ---------------------------------------------------------- */

sl_status sl_tfl_prepare_conv(sl_tfl_ctx *c, sl_tfl_node *n);       /* CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED */
sl_status sl_tfl_prepare_add(sl_tfl_ctx *c, sl_tfl_node *n);        /* ADD */
sl_status sl_tfl_prepare_pool(sl_tfl_ctx *c, sl_tfl_node *n);       /* AVERAGE_POOL_2D, MAX_POOL_2D */
sl_status sl_tfl_prepare_mean(sl_tfl_ctx *c, sl_tfl_node *n);       /* MEAN */
sl_status sl_tfl_prepare_softmax(sl_tfl_ctx *c, sl_tfl_node *n);    /* SOFTMAX */
sl_status sl_tfl_prepare_quantize(sl_tfl_ctx *c, sl_tfl_node *n);   /* QUANTIZE */
sl_status sl_tfl_prepare_dequantize(sl_tfl_ctx *c, sl_tfl_node *n); /* DEQUANTIZE */
sl_status sl_tfl_prepare_reshape(sl_tfl_ctx *c, sl_tfl_node *n);    /* RESHAPE */
sl_status sl_tfl_prepare_pad(sl_tfl_ctx *c, sl_tfl_node *n);        /* PAD */

/* Dispatches on the builtin code; SL_ERR_UNSUPPORTED "unsupported operator
 * NAME (builtin code N)" for anything else. */
sl_status sl_tfl_prepare_node(sl_tfl_ctx *c, sl_tfl_node *n);

/* Frees the node's parameters. */
/* Refuses (SL_ERR_CORRUPT) an output whose type differs from the input's
 * and, when `numeric_only`, (SL_ERR_UNSUPPORTED) types other than float32
 * and the quantized ones. */
sl_status sl_tfl_check_io_type(const sl_tfl_node *n, const sl_tfl_tensor *in,
                               const sl_tfl_tensor *out, int numeric_only);
void sl_tfl_node_release(sl_tfl_node *n);

#endif /* SL_TFLITE_OPS_H */
