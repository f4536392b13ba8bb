/* SOFTMAX over the last dimension.
 *
 * Quantized (uint8 -> uint8, int8 -> int8): TFLite's reference integer
 * softmax (reference_ops::Softmax with SoftmaxParams from
 * PreprocessSoftmaxScaling), built on gemmlowp's fixed-point exp:
 *   - input differences to the row maximum are scaled by beta * input_scale
 *     into Q5.26 (kScaledDiffIntegerBits = 5); differences below diff_min
 *     (the most negative one that still fits) contribute exp = 0;
 *   - exp_on_negative_values gives Q0.31 values, summed in Q12.19
 *     (kAccumulationIntegerBits = 12);
 *   - the reciprocal of the sum comes from one_over_one_plus_x_for_x_in_0_1
 *     (Newton-Raphson), and each output is exp * reciprocal rounded down to
 *     8 bits; the output quantization is fixed at scale 1/256 with zero point
 *     0 (uint8) or -128 (int8).
 * Float: exp((x - max) * beta) / sum, in float. */
#include "ops.h"
#include "nn/quant.h"

#include <math.h>
#include <stdlib.h>

enum { SOFTMAX_BETA = 0 };

#define SCALED_DIFF_BITS 5
#define ACCUM_BITS 12
/* Quantized rows longer than this could overflow TFLite's Q12.19 sum. */
#define MAX_QUANT_DEPTH 4095

typedef struct softmax_params {
    int32_t in, out;
    int type;
    size_t rows;
    int depth;
    int32_t mult;   /* input_beta_multiplier */
    int left_shift; /* input_beta_left_shift */
    int32_t diff_min;
    float beta;
} softmax_params;

/* gemmlowp SaturatingRoundingMultiplyByPOT<exponent> for exponent > 0. */
static inline int32_t sat_shl(int32_t x, int e) {
    const int32_t threshold = (int32_t)(((int64_t)1 << (31 - e)) - 1);
    if (x > threshold) return INT32_MAX;
    if (x < -threshold) return INT32_MIN;
    return (int32_t)((uint32_t)x << e);
}

/* exp(a) for a in [-1/4, 0), Q0.31 in and out: Taylor series around -1/8. */
static int32_t exp_quarter(int32_t a) {
    const int32_t exp_minus_one_eighth = 1895147668; /* exp(-1/8) in Q0.31 */
    const int32_t one_third = 715827883;              /* 1/3 in Q0.31 */
    int32_t x = a + (1 << 28);                        /* a + 1/8 */
    int32_t x2 = sl_srdhm(x, x);
    int32_t x3 = sl_srdhm(x2, x);
    int32_t x4 = sl_srdhm(x2, x2);
    int32_t x4_over_4 = sl_rdivpot(x4, 2);
    int32_t poly = sl_rdivpot(sl_srdhm(x4_over_4 + x3, one_third) + x2, 1);
    return exp_minus_one_eighth + sl_srdhm(exp_minus_one_eighth, x + poly);
}

/* exp(a) for a <= 0 given in Q5.26; result in Q0.31. */
static int32_t exp_negative(int32_t a) {
    const int frac_bits = 31 - SCALED_DIFF_BITS; /* 26 */
    const int32_t one_quarter = 1 << (frac_bits - 2);
    int32_t a_mod = (a & (one_quarter - 1)) - one_quarter; /* in [-1/4, 0) */
    int32_t result = exp_quarter(sat_shl(a_mod, SCALED_DIFF_BITS));
    int32_t remainder = a_mod - a; /* multiple of 1/4, >= 0 */
    /* exp(-2^k) for k = -2 .. 4, Q0.31, applied for each set bit. */
    static const int32_t mults[7] = {1672461947, 1302514674, 790015084, 290630308,
                                     39332535,   720401,     242};
    for (int k = -2; k <= 4; k++)
        if (remainder & (1 << (frac_bits + k))) result = sl_srdhm(result, mults[k + 2]);
    return a == 0 ? INT32_MAX : result;
}

/* 1 / (1 + a) for a in [0, 1), Q0.31 in and out. */
static int32_t reciprocal_one_plus(int32_t a) {
    int64_t s = (int64_t)a + INT32_MAX;
    int32_t half_den = (int32_t)((s + (s >= 0 ? 1 : -1)) / 2); /* RoundingHalfSum(a, 1) */
    const int32_t c48_17 = 1515870810, cm32_17 = -1010580540; /* Q2.29 */
    const int32_t one_q2 = 1 << 29;
    int32_t x = c48_17 + sl_srdhm(half_den, cm32_17);
    for (int i = 0; i < 3; i++) {
        int32_t hdx = sl_srdhm(half_den, x);
        x = x + sat_shl(sl_srdhm(x, one_q2 - hdx), 2);
    }
    return sat_shl(x, 1);
}

/* x / 2^e rounded to nearest, ties away from zero, for 0 <= e <= 62. TFLite
 * calls RoundingDivideByPOT with exponents above 31 when a row's exp sum
 * reaches 512 (undefined behaviour there); this gives the intended value. */
static int32_t rdivpot_wide(int32_t x, int e) {
    if (e <= 31) return sl_rdivpot(x, e);
    int64_t mag = x < 0 ? -(int64_t)x : x;
    int64_t half = (int64_t)1 << (e - 1);
    int64_t q = mag >= half ? 1 : 0; /* |x| < 2^31 < 2^e */
    return (int32_t)(x < 0 ? -q : q);
}

static void softmax_run_q(const sl_tfl_node *n, const sl_tfl_exec *ex) {
    const softmax_params *p = n->params;
    const int is_u8 = p->type == SL_TFL_UINT8;
    const uint8_t *in = ex->data[p->in];
    uint8_t *out = ex->data[p->out];
    const int bits_out = 8;
    for (size_t r = 0; r < p->rows; r++) {
        const size_t base = r * (size_t)p->depth;
        int32_t mx = INT32_MIN;
        for (int c = 0; c < p->depth; c++) {
            int32_t v = is_u8 ? (int32_t)in[base + c] : (int32_t)((const int8_t *)in)[base + c];
            if (v > mx) mx = v;
        }
        int32_t sum = 0; /* Q12.19 */
        for (int c = 0; c < p->depth; c++) {
            int32_t v = is_u8 ? (int32_t)in[base + c] : (int32_t)((const int8_t *)in)[base + c];
            int32_t diff = v - mx;
            if (diff >= p->diff_min) {
                int32_t scaled = sl_srdhm((int32_t)((int64_t)diff * ((int64_t)1 << p->left_shift)),
                                          p->mult);
                sum += sl_rdivpot(exp_negative(scaled), ACCUM_BITS);
            }
        }
        /* sum >= 2^19 (the maximum contributes exactly one), so 1 <= clz <= 12. */
        int headroom = __builtin_clz((uint32_t)sum);
        int bits_over_unit = ACCUM_BITS - headroom;
        int32_t shifted_minus_one =
            (int32_t)(((uint32_t)sum << headroom) - ((uint32_t)1 << 31));
        int32_t recip = reciprocal_one_plus(shifted_minus_one);
        for (int c = 0; c < p->depth; c++) {
            int32_t v = is_u8 ? (int32_t)in[base + c] : (int32_t)((const int8_t *)in)[base + c];
            int32_t diff = v - mx;
            int32_t q = 0;
            if (diff >= p->diff_min) {
                int32_t scaled = sl_srdhm((int32_t)((int64_t)diff * ((int64_t)1 << p->left_shift)),
                                          p->mult);
                int32_t e = exp_negative(scaled);
                q = rdivpot_wide(sl_srdhm(recip, e), bits_over_unit + 31 - bits_out);
            }
            if (is_u8) {
                out[base + c] = (uint8_t)sl_clamp_i32(q, 0, 255);
            } else {
                ((int8_t *)out)[base + c] = (int8_t)sl_clamp_i32(q - 128, -128, 127);
            }
        }
    }
}

static void softmax_run_f32(const sl_tfl_node *n, const sl_tfl_exec *ex) {
    const softmax_params *p = n->params;
    const float *in = (const float *)ex->data[p->in];
    float *out = (float *)ex->data[p->out];
    for (size_t r = 0; r < p->rows; r++) {
        const float *x = in + r * (size_t)p->depth;
        float *y = out + r * (size_t)p->depth;
        float mx = x[0];
        for (int c = 1; c < p->depth; c++)
            if (x[c] > mx) mx = x[c];
        float sum = 0.0f;
        for (int c = 0; c < p->depth; c++) sum += expf((x[c] - mx) * p->beta);
        for (int c = 0; c < p->depth; c++) y[c] = expf((x[c] - mx) * p->beta) / sum;
    }
}

sl_status sl_tfl_prepare_softmax(sl_tfl_ctx *c, sl_tfl_node *n) {
    sl_status st;
    if ((st = sl_tfl_check_arity(n, 1, 1, 1))) return st;
    const sl_tfl_tensor *in = sl_tfl_in(c, n, 0), *out = sl_tfl_out(c, n, 0);
    if (!in) return sl_tfl_fail(n, SL_ERR_CORRUPT, "input tensor omitted");
    if (in->type != out->type)
        return sl_tfl_fail(n, SL_ERR_UNSUPPORTED, "%s input with %s output",
                           sl_tfl_type_name(in->type), sl_tfl_type_name(out->type));
    if (!sl_tfl_same_shape(in, out) || in->rank < 1)
        return sl_tfl_fail(n, SL_ERR_CORRUPT, "input and output shapes differ");
    int present;
    const sl_fb_table *o;
    float beta = 0.0f;
    if ((st = sl_tfl_options(n, SL_OPT_SOFTMAX, 0, &present, &o))) return st;
    if (present && (st = sl_fb_f32(o, SOFTMAX_BETA, 0.0f, &beta))) return st;
    if (!isfinite(beta) || beta < 0.0f)
        return sl_tfl_fail(n, SL_ERR_CORRUPT, "beta %g is not a finite non-negative number",
                           (double)beta);
    if ((st = sl_tfl_add_work(c, n, 2 * (uint64_t)in->count))) return st;

    softmax_params *p = calloc(1, sizeof *p);
    if (!p) return sl_fail(SL_ERR_NOMEM, "out of memory");
    n->params = p;
    p->in = sl_tfl_in_index(n, 0);
    p->out = sl_tfl_out_index(n, 0);
    p->type = in->type;
    p->depth = in->shape[in->rank - 1];
    p->rows = in->count / (size_t)p->depth;
    p->beta = beta;
    if (in->type == SL_TFL_FLOAT32) {
        n->run = softmax_run_f32;
    } else if (sl_tfl_is_quantized_type(in->type)) {
        float si, so;
        int32_t zi, zo;
        if ((st = sl_tfl_quant1(n, in, "input", &si, &zi)) ||
            (st = sl_tfl_quant1(n, out, "output", &so, &zo)))
            return st;
        if (so != 1.0f / 256 || zo != (in->type == SL_TFL_UINT8 ? 0 : -128))
            return sl_tfl_fail(n, SL_ERR_UNSUPPORTED,
                               "output quantization must be scale 1/256, zero point %d",
                               in->type == SL_TFL_UINT8 ? 0 : -128);
        if (p->depth > MAX_QUANT_DEPTH)
            return sl_tfl_fail(n, SL_ERR_UNSUPPORTED, "quantized rows of %d > %d entries",
                               p->depth, MAX_QUANT_DEPTH);
        /* PreprocessSoftmaxScaling: beta * scale in Q5.26, capped, as a
         * multiplier greater than one. */
        double real = (double)beta * (double)si * (double)(1 << (31 - SCALED_DIFF_BITS));
        if (real > (double)((1ll << 31) - 1)) real = (double)((1ll << 31) - 1);
        if (!(real >= 1.0))
            return sl_tfl_fail(n, SL_ERR_UNSUPPORTED, "beta * input scale %g is too small",
                               (double)beta * (double)si);
        if ((st = sl_tfl_multiplier(n, real, 31, &p->mult, &p->left_shift, "input beta")))
            return st;
        /* CalculateInputRadius: the largest |diff| whose rescaled value fits. */
        double radius = 1.0 * ((1 << SCALED_DIFF_BITS) - 1) *
                        (double)(1ll << (31 - SCALED_DIFF_BITS)) / (double)(1ll << p->left_shift);
        p->diff_min = -(int32_t)floor(radius);
        n->run = softmax_run_q;
    } else {
        return sl_tfl_fail(n, SL_ERR_UNSUPPORTED, "%s tensors are not supported",
                           sl_tfl_type_name(in->type));
    }
    sl_tfl_use_input(c, n, 0);
    return SL_OK;
}
