/* AVX2 + FMA dot products, four rows at a time so each query load feeds
 * four FMAs. */
#include "dot_kernels.h"

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
