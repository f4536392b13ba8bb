/* TensorFlow Lite's fixed-point requantization arithmetic, bit-exact.
 *
 * A real multiplier m (e.g. input_scale * filter_scale / output_scale) is
 * represented as a Q31 mantissa in [2^30, 2^31) and a power-of-two exponent
 * (`shift`, > 0 means shift left). An int32 accumulator x is scaled as
 *   RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x << left, q), right)
 * exactly as tflite::MultiplyByQuantizedMultiplier does (round half away
 * from zero in the high multiply, round half up in magnitude... see the
 * functions). Every kernel, scalar or SIMD, must produce the same integers. */
#ifndef SL_NN_QUANT_H
#define SL_NN_QUANT_H

#include <stdint.h>

/* Splits a real multiplier into (q, shift); m == 0 gives (0, 0). Follows
 * tflite::QuantizeMultiplier: frexp, round(q * 2^31), 2^31 carried into the
 * exponent, exponents below -31 flush to zero. */
void sl_quantize_multiplier(double m, int32_t *q, int *shift);

/* gemmlowp SaturatingRoundingDoublingHighMul. */
static inline int32_t sl_srdhm(int32_t a, int32_t b) {
    if (a == b && a == INT32_MIN) return INT32_MAX;
    int64_t ab = (int64_t)a * (int64_t)b;
    int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* gemmlowp RoundingDivideByPOT: x / 2^e rounded to nearest, ties away from
 * zero. 0 <= e <= 31. */
static inline int32_t sl_rdivpot(int32_t x, int e) {
    int32_t mask = (int32_t)(((int64_t)1 << e) - 1);
    int32_t remainder = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> e) + (remainder > threshold ? 1 : 0);
}

/* tflite::MultiplyByQuantizedMultiplier. */
static inline int32_t sl_mul_qm(int32_t x, int32_t q, int shift) {
    int left = shift > 0 ? shift : 0;
    int right = shift > 0 ? 0 : -shift;
    return sl_rdivpot(sl_srdhm((int32_t)((uint32_t)x << left), q), right);
}

static inline int32_t sl_clamp_i32(int32_t x, int32_t lo, int32_t hi) {
    return x < lo ? lo : (x > hi ? hi : x);
}

#endif /* SL_NN_QUANT_H */
