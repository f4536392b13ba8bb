/* The part of the TensorFlow Lite schema (tensorflow/lite/schema/schema.fbs)
 * the interpreter needs, decoded from the flatbuffer into plain structs.
 * Decoding validates every index and size; what it accepts is internally
 * consistent (indices in range, constant data as large as the shape says),
 * but operator-specific rules are checked later by each operator. */
#ifndef SL_TFLITE_SCHEMA_H
#define SL_TFLITE_SCHEMA_H

#include "flatbuf.h"

#include <stddef.h>
#include <stdint.h>

/* TensorType values of the schema. */
enum {
    SL_TFL_FLOAT32 = 0,
    SL_TFL_FLOAT16 = 1,
    SL_TFL_INT32 = 2,
    SL_TFL_UINT8 = 3,
    SL_TFL_INT64 = 4,
    SL_TFL_STRING = 5,
    SL_TFL_BOOL = 6,
    SL_TFL_INT16 = 7,
    SL_TFL_COMPLEX64 = 8,
    SL_TFL_INT8 = 9,
    SL_TFL_FLOAT64 = 10
};

/* BuiltinOperator codes we implement (the full name table is in opnames.c). */
enum {
    SL_OP_ADD = 0,
    SL_OP_AVERAGE_POOL_2D = 1,
    SL_OP_CONV_2D = 3,
    SL_OP_DEPTHWISE_CONV_2D = 4,
    SL_OP_DEQUANTIZE = 6,
    SL_OP_FULLY_CONNECTED = 9,
    SL_OP_MAX_POOL_2D = 17,
    SL_OP_RESHAPE = 22,
    SL_OP_SOFTMAX = 25,
    SL_OP_CUSTOM = 32,
    SL_OP_PAD = 34,
    SL_OP_MEAN = 40,
    SL_OP_QUANTIZE = 114
};

/* BuiltinOptions union type tags (1-based position in the union). */
enum {
    SL_OPT_CONV2D = 1,
    SL_OPT_DEPTHWISE_CONV2D = 2,
    SL_OPT_POOL2D = 5,
    SL_OPT_FULLY_CONNECTED = 8,
    SL_OPT_SOFTMAX = 9,
    SL_OPT_ADD = 11,
    SL_OPT_RESHAPE = 17,
    SL_OPT_PAD = 22,
    SL_OPT_REDUCER = 27
};

/* ActivationFunctionType and Padding enums. */
enum { SL_ACT_NONE = 0, SL_ACT_RELU = 1, SL_ACT_RELU_N1_TO_1 = 2, SL_ACT_RELU6 = 3 };
enum { SL_PAD_SAME = 0, SL_PAD_VALID = 1 };

#define SL_TFL_MAX_RANK 6

/* Safety caps on what one model may declare. */
#define SL_TFL_MAX_TENSORS 100000u
#define SL_TFL_MAX_OPS 10000u  /* also bounds the O(n^2) arena planner */
#define SL_TFL_MAX_BUFFERS 100000u
#define SL_TFL_MAX_OPCODES 10000u
#define SL_TFL_MAX_SUBGRAPHS 1000u
#define SL_TFL_MAX_OP_IO 1024u
#define SL_TFL_MAX_NAME 4096u
/* Elements of one tensor; keeps every byte offset within int32 range. */
#define SL_TFL_MAX_ELEMENTS ((size_t)1 << 30)

typedef struct sl_tfl_tensor {
    int type;                        /* SL_TFL_* */
    int rank;                        /* 0 .. SL_TFL_MAX_RANK */
    int32_t shape[SL_TFL_MAX_RANK];  /* dims, all >= 1 */
    size_t count;                    /* number of elements (1 for a scalar) */
    size_t elem_size;                /* bytes per element */
    size_t bytes;                    /* count * elem_size */
    const char *name;                /* points into the model, not terminated */
    uint32_t name_len;
    const uint8_t *data;             /* constant data (bytes long) or NULL */
    /* Quantization: n_quant == 0 means none; otherwise n_quant scales and
     * zero points, per slice of dimension quant_dim when n_quant > 1. */
    uint32_t n_quant;
    float *scales;                   /* (n_quant) */
    int32_t *zero_points;            /* (n_quant) */
    int quant_dim;
} sl_tfl_tensor;

typedef struct sl_tfl_op {
    int32_t code;        /* BuiltinOperator */
    int32_t version;
    uint32_t n_in, n_out;
    int32_t *in;         /* (n_in) tensor indices, -1 = omitted optional */
    int32_t *out;        /* (n_out) tensor indices */
    uint8_t opt_type;    /* BuiltinOptions union tag, 0 = none */
    int has_opts;
    sl_fb_table opts;    /* the options table when has_opts */
    const char *custom;  /* custom_code for CUSTOM operators */
    uint32_t custom_len;
} sl_tfl_op;

typedef struct sl_tfl_model {
    sl_fb fb;            /* the whole file; must outlive the model */
    uint32_t version;
    uint32_t n_subgraphs;
    uint32_t n_tensors;
    sl_tfl_tensor *tensors;
    uint32_t n_ops;
    sl_tfl_op *ops;
    uint32_t n_inputs, n_outputs;
    int32_t *inputs, *outputs;
} sl_tfl_model;

/* Decodes subgraph 0 of the model held in data[0, size) (not copied: the
 * bytes must outlive the model). Option tables point at m->fb, so *m must
 * not move afterwards (parse it in place inside its final home). Errors: SL_ERR_CORRUPT, SL_ERR_LIMIT,
 * SL_ERR_UNSUPPORTED (unknown tensor types, custom quantization, sparse
 * tensors), SL_ERR_NOMEM. On failure *m is released. */
sl_status sl_tfl_model_parse(const uint8_t *data, size_t size, sl_tfl_model *m);
void sl_tfl_model_release(sl_tfl_model *m);

/* "CONV_2D", ..., or "UNKNOWN" for codes outside the table. */
const char *sl_tfl_op_name(int32_t code);
/* "FLOAT32", "UINT8", ... */
const char *sl_tfl_type_name(int type);

#endif /* SL_TFLITE_SCHEMA_H */
