/* AVX2 + FMA dot products, four rows at a time so each query load feeds
 * four FMAs. */
#include "dot_kernels.h"

/* sl_l2sq* and the table kernels promise the same bits as their twins:
 * no multiply-add contraction of plain C expressions (clang contracts by
 * default where FMA is available; GCC does not in ISO C mode). Explicit
 * fmadd intrinsics are unaffected. */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

#include <immintrin.h>

static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* One row, the same summation order as a lane of the 4-row loop, so a row's
 * score does not depend on whether it was processed in a group of four. */
static inline float dot1(const float *q, const float *r, size_t dim) {
    __m256 a = _mm256_setzero_ps();
    size_t j = 0;
    for (; j + 8 <= dim; j += 8) a = _mm256_fmadd_ps(_mm256_loadu_ps(q + j), _mm256_loadu_ps(r + j), a);
    float s = hsum256(a);
    for (; j < dim; j++) s += q[j] * r[j];
    return s;
}

void sl_dot_rows_avx2(const float *q, const float *x, size_t n, size_t dim, float *scores) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const float *r0 = x + i * dim, *r1 = r0 + dim, *r2 = r1 + dim, *r3 = r2 + dim;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        size_t j = 0;
        for (; j + 8 <= dim; j += 8) {
            __m256 qv = _mm256_loadu_ps(q + j);
            a0 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(r0 + j), a0);
            a1 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(r1 + j), a1);
            a2 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(r2 + j), a2);
            a3 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(r3 + j), a3);
        }
        float s0 = hsum256(a0), s1 = hsum256(a1), s2 = hsum256(a2), s3 = hsum256(a3);
        for (; j < dim; j++) {
            s0 += q[j] * r0[j];
            s1 += q[j] * r1[j];
            s2 += q[j] * r2[j];
            s3 += q[j] * r3[j];
        }
        scores[i] = s0;
        scores[i + 1] = s1;
        scores[i + 2] = s2;
        scores[i + 3] = s3;
    }
    for (; i < n; i++) scores[i] = dot1(q, x + i * dim, dim);
}

/* Two 8-lane accumulators are the twin's 16 lanes; the tail runs the
 * twin's loop on the stored lanes. */
float sl_l2sq_avx2(const float *q, const float *x, size_t dim) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0;
    size_t j = 0;
    for (; j + 16 <= dim; j += 16) {
        const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(q + j), _mm256_loadu_ps(x + j));
        const __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(q + j + 8), _mm256_loadu_ps(x + j + 8));
        a0 = _mm256_add_ps(a0, _mm256_mul_ps(d0, d0));
        a1 = _mm256_add_ps(a1, _mm256_mul_ps(d1, d1));
    }
    float lanes[16], s = 0;
    _mm256_storeu_ps(lanes, a0);
    _mm256_storeu_ps(lanes + 8, a1);
    for (int t = 0; j + (size_t)t < dim; t++) {
        const float d = q[j + t] - x[j + t];
        lanes[t] += d * d;
    }
    for (int t = 0; t < 16; t++) s += lanes[t];
    return s;
}

/* F16C widens exactly; the tail widens through a zero-padded copy. */
float sl_l2sq_f16_avx2(const float *q, const uint16_t *x, size_t dim) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0;
    size_t j = 0;
    for (; j + 16 <= dim; j += 16) {
        const __m256 v0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + j)));
        const __m256 v1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + j + 8)));
        const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(q + j), v0);
        const __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(q + j + 8), v1);
        a0 = _mm256_add_ps(a0, _mm256_mul_ps(d0, d0));
        a1 = _mm256_add_ps(a1, _mm256_mul_ps(d1, d1));
    }
    float lanes[16], s = 0;
    _mm256_storeu_ps(lanes, a0);
    _mm256_storeu_ps(lanes + 8, a1);
    if (j < dim) {
        uint16_t hx[16] = {0};
        float fx[16];
        for (size_t t = 0; j + t < dim; t++) hx[t] = x[j + t];
        _mm256_storeu_ps(fx, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)hx)));
        _mm256_storeu_ps(fx + 8, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(hx + 8))));
        for (size_t t = 0; j + t < dim; t++) {
            const float d = q[j + t] - fx[t];
            lanes[t] += d * d;
        }
    }
    for (int t = 0; t < 16; t++) s += lanes[t];
    return s;
}
