/* Quantized 2-D convolution and depthwise convolution, NHWC, with
 * TensorFlow Lite's integer arithmetic.
 *
 * Two quantization schemes are covered by one descriptor:
 *  - legacy uint8: activations uint8 with zero points, filter uint8 with one
 *    zero point (per-tensor scale);
 *  - TF2 int8: activations int8 with zero points, filter int8 symmetric
 *    (zero point 0) with per-output-channel scales.
 * For each output element:
 *   acc = bias[oc] + sum over taps (in - in_zp) * (w - filter_zp)
 *   out = clamp(out_zp + sl_mul_qm(acc, mult[oc], shift[oc]), act_min, act_max)
 * Taps that fall in the padding contribute nothing (TFLite skips them,
 * which equals padding the input with in_zp).
 *
 * sl_qconv_ref / sl_qdwconv_ref are the plain C reference twins: literal
 * loops, no packing. sl_qconv_prepare + sl_qconv_run is the fast path
 * (prepacked weights, SIMD, runtime dispatch); it must return exactly the
 * same bytes as the reference. */
#ifndef SL_NN_QCONV_H
#define SL_NN_QCONV_H

#include "core/core.h"

#include <stdint.h>

typedef enum sl_qtype {
    SL_QTYPE_U8 = 0,
    SL_QTYPE_S8 = 1
} sl_qtype;

typedef struct sl_qconv_desc {
    int depthwise;        /* 0: CONV_2D (also FULLY_CONNECTED as 1x1), 1: DEPTHWISE_CONV_2D */
    int batch;            /* N */
    int in_h, in_w, in_c; /* input  (N, in_h, in_w, in_c) NHWC */
    int out_h, out_w, out_c; /* output (N, out_h, out_w, out_c) NHWC */
    int k_h, k_w;         /* conv filter (out_c, k_h, k_w, in_c) OHWI;
                             depthwise filter (1, k_h, k_w, out_c) */
    int depth_multiplier; /* depthwise: out_c == in_c * depth_multiplier */
    int stride_h, stride_w;
    int dil_h, dil_w;     /* dilation factors, >= 1 */
    int pad_top, pad_left;/* padding before the first row / column */
    sl_qtype act_type;    /* type of input and output activations */
    sl_qtype filter_type; /* U8 (with filter_zp) or S8 (filter_zp == 0) */
    int32_t in_zp;        /* input zero point */
    int32_t filter_zp;    /* filter zero point (U8 filters) */
    int32_t out_zp;       /* output zero point */
    int32_t act_min, act_max; /* clamp range in the output integer domain */
} sl_qconv_desc;

/* Per-output-channel requantization; arrays of out_c entries. bias may be
 * NULL (zero). Per-tensor models repeat one value. */
typedef struct sl_qconv_weights {
    const void *filter;     /* layout as described above, type filter_type */
    const int32_t *bias;    /* (out_c) or NULL */
    const int32_t *mult;    /* (out_c) Q31 multipliers */
    const int32_t *shift;   /* (out_c) exponents, > 0 = left */
} sl_qconv_weights;

/* Checks a descriptor: positive sizes, consistent output size for the
 * given stride/padding is NOT required (callers compute it), but channel
 * counts, depth multiplier and types must agree, and sizes must not
 * overflow. Returns SL_ERR_ARG with a message otherwise. */
sl_status sl_qconv_check(const sl_qconv_desc *d);

/* Reference twins. input/output are uint8_t* or int8_t* per act_type. */
void sl_qconv_ref(const sl_qconv_desc *d, const sl_qconv_weights *w,
                  const void *input, void *output);

/* ---- fast path ---------------------------------------------------------- */

typedef struct sl_qconv sl_qconv;

/* Packs the weights for the best kernel of this CPU (sl_cpu()). The
 * descriptor and weights are copied; the caller may free its arrays.
 * Besides sl_qconv_check, refuses (SL_ERR_ARG) zero points outside their
 * type's range, an activation range outside the output type's range and
 * shifts outside [-31, 31]; refuses (SL_ERR_LIMIT) more than 2^24 input
 * or output channels and layers whose packed weights would exceed
 * 256 MiB. */
sl_status sl_qconv_prepare(const sl_qconv_desc *d, const sl_qconv_weights *w,
                           sl_qconv **out);
void sl_qconv_free(sl_qconv *c);

/* Like sl_qconv_prepare, but for an explicit instruction-set level instead
 * of sl_cpu() (tests and benchmarks hold every level against the
 * reference on one machine). A level above sl_cpu() is refused with
 * SL_ERR_UNSUPPORTED: it could execute illegal instructions. */
sl_status sl_qconv_prepare_level(const sl_qconv_desc *d, const sl_qconv_weights *w,
                                 sl_cpu_level level, sl_qconv **out);

/* The level a prepared convolution runs at, and a short static name of the
 * kernel it picked ("gemm-vnni", "dw-avx2", ...), for logs and benchmarks. */
sl_cpu_level sl_qconv_level(const sl_qconv *c);
const char *sl_qconv_kernel_name(const sl_qconv *c);

/* Bytes of scratch memory one run needs per participating thread. */
size_t sl_qconv_scratch_size(const sl_qconv *c);

/* Runs the convolution. `scratch` points to sl_pool_threads(pool) blocks of
 * sl_qconv_scratch_size bytes each, 64-byte aligned, laid end to end with
 * stride `scratch_stride` bytes. pool may be NULL (one thread). Results do
 * not depend on the thread count. */
void sl_qconv_run(const sl_qconv *c, const void *input, void *output,
                  sl_pool *pool, void *scratch, size_t scratch_stride);

#endif /* SL_NN_QCONV_H */
