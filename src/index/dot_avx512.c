/* AVX-512 dot products, four rows at a time; the tail of each row is a
 * masked load, so no scalar remainder loop. */
#include "dot_kernels.h"

/* sl_l2sq* and the table kernels promise the same bits as their twins:
 * no multiply-add contraction of plain C expressions (clang contracts by
 * default where FMA is available; GCC does not in ISO C mode). Explicit
 * fmadd intrinsics are unaffected. */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

#include <immintrin.h>

static inline float dot1(const float *q, const float *r, size_t dim) {
    __m512 a = _mm512_setzero_ps();
    size_t j = 0;
    for (; j + 16 <= dim; j += 16) a = _mm512_fmadd_ps(_mm512_loadu_ps(q + j), _mm512_loadu_ps(r + j), a);
    if (j < dim) {
        __mmask16 m = (__mmask16)((1u << (dim - j)) - 1);
        a = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, q + j), _mm512_maskz_loadu_ps(m, r + j), a);
    }
    return _mm512_reduce_add_ps(a);
}

void sl_dot_rows_avx512(const float *q, const float *x, size_t n, size_t dim, float *scores) {
    size_t i = 0;
    const size_t full = dim & ~(size_t)15;
    const __mmask16 m = (__mmask16)((1u << (dim - full)) - 1);
    for (; i + 4 <= n; i += 4) {
        const float *r0 = x + i * dim, *r1 = r0 + dim, *r2 = r1 + dim, *r3 = r2 + dim;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (size_t j = 0; j < full; j += 16) {
            __m512 qv = _mm512_loadu_ps(q + j);
            a0 = _mm512_fmadd_ps(qv, _mm512_loadu_ps(r0 + j), a0);
            a1 = _mm512_fmadd_ps(qv, _mm512_loadu_ps(r1 + j), a1);
            a2 = _mm512_fmadd_ps(qv, _mm512_loadu_ps(r2 + j), a2);
            a3 = _mm512_fmadd_ps(qv, _mm512_loadu_ps(r3 + j), a3);
        }
        if (m) {
            __m512 qv = _mm512_maskz_loadu_ps(m, q + full);
            a0 = _mm512_fmadd_ps(qv, _mm512_maskz_loadu_ps(m, r0 + full), a0);
            a1 = _mm512_fmadd_ps(qv, _mm512_maskz_loadu_ps(m, r1 + full), a1);
            a2 = _mm512_fmadd_ps(qv, _mm512_maskz_loadu_ps(m, r2 + full), a2);
            a3 = _mm512_fmadd_ps(qv, _mm512_maskz_loadu_ps(m, r3 + full), a3);
        }
        scores[i] = _mm512_reduce_add_ps(a0);
        scores[i + 1] = _mm512_reduce_add_ps(a1);
        scores[i + 2] = _mm512_reduce_add_ps(a2);
        scores[i + 3] = _mm512_reduce_add_ps(a3);
    }
    for (; i < n; i++) scores[i] = dot1(q, x + i * dim, dim);
}

/* One 16-lane accumulator is the twin's 16 lanes; the masked tail adds
 * 0 * 0 to the lanes past dim, which leaves them unchanged. */
float sl_l2sq_avx512(const float *q, const float *x, size_t dim) {
    __m512 a = _mm512_setzero_ps();
    size_t j = 0;
    for (; j + 16 <= dim; j += 16) {
        const __m512 d = _mm512_sub_ps(_mm512_loadu_ps(q + j), _mm512_loadu_ps(x + j));
        a = _mm512_add_ps(a, _mm512_mul_ps(d, d));
    }
    if (j < dim) {
        const __mmask16 m = (__mmask16)((1u << (dim - j)) - 1);
        const __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, q + j), _mm512_maskz_loadu_ps(m, x + j));
        a = _mm512_add_ps(a, _mm512_mul_ps(d, d));
    }
    float lanes[16], s = 0;
    _mm512_storeu_ps(lanes, a);
    for (int t = 0; t < 16; t++) s += lanes[t];
    return s;
}

/* vcvtph2ps widens exactly; the masked tail reads zero halves. */
float sl_l2sq_f16_avx512(const float *q, const uint16_t *x, size_t dim) {
    __m512 a = _mm512_setzero_ps();
    size_t j = 0;
    for (; j + 16 <= dim; j += 16) {
        const __m512 v = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(x + j)));
        const __m512 d = _mm512_sub_ps(_mm512_loadu_ps(q + j), v);
        a = _mm512_add_ps(a, _mm512_mul_ps(d, d));
    }
    if (j < dim) {
        const __mmask16 m = (__mmask16)((1u << (dim - j)) - 1);
        const __m512 v = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, x + j));
        const __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, q + j), v);
        a = _mm512_add_ps(a, _mm512_mul_ps(d, d));
    }
    float lanes[16], s = 0;
    _mm512_storeu_ps(lanes, a);
    for (int t = 0; t < 16; t++) s += lanes[t];
    return s;
}
