/* AVX2 nearest-centre kernel of k-means: 4 points x half a panel (16
 * centres) per pass. Contract and layout: kmeans_kernels.h; the plain C
 * twin is kernel_scalar in kmeans.c (tests/test_kmeans.c holds both to a
 * naive double loop). */
#include "kmeans_kernels.h"

#include <immintrin.h>
#include <math.h>

static inline float min16_avx2(__m256 s0, __m256 s1) {
    __m256 m8 = _mm256_min_ps(s0, s1);
    __m128 m4 = _mm_min_ps(_mm256_castps256_ps128(m8), _mm256_extractf128_ps(m8, 1));
    m4 = _mm_min_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_min_ss(m4, _mm_shuffle_ps(m4, m4, 1));
    return _mm_cvtss_f32(m4);
}

/* As epi_avx512, for 16 scores. */
static inline void epi_avx2(__m256 s0, __m256 s1, size_t base, uint32_t *bi, float *bs,
                            float *ss) {
    float m = min16_avx2(s0, s1);
    if (!(m < *bs)) {
        if (m < *ss) *ss = m;
        return;
    }
    const __m256 mv = _mm256_set1_ps(m);
    unsigned m0 = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(s0, mv, _CMP_EQ_OQ));
    unsigned m1 = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(s1, mv, _CMP_EQ_OQ));
    float lanes[16];
    _mm256_storeu_ps(lanes, s0);
    _mm256_storeu_ps(lanes + 8, s1);
    unsigned lane;
    if (m0) lane = (unsigned)__builtin_ctz(m0);
    else if (m1) lane = 8u + (unsigned)__builtin_ctz(m1);
    else return;
    lanes[lane] = INFINITY;
    float rest = min16_avx2(_mm256_loadu_ps(lanes), _mm256_loadu_ps(lanes + 8));
    *ss = *bs < rest ? *bs : rest;
    *bs = m;
    *bi = (uint32_t)(base + lane);
}

/* 4 points x 16 centres (half a panel) per pass: 8 accumulators of the 16
 * ymm registers. */
void sl_kmeans_kernel_avx2(const km_pack *pk, const float *const *rows, uint32_t *best_i,
                           float *best_s, float *second_s) {
    const size_t dim = pk->dim;
    const __m256 scale = _mm256_set1_ps(pk->scale);
    for (size_t p = 0; p < pk->n_panels; p++) {
        for (int h = 0; h < KM_PANEL; h += 16) {
            const float *pp = pk->panel + p * dim * KM_PANEL + h;
            const __m256 g0 = _mm256_load_ps(pk->bias + p * KM_PANEL + h);
            const __m256 g1 = _mm256_load_ps(pk->bias + p * KM_PANEL + h + 8);
            for (int r0 = 0; r0 < KM_ROWS; r0 += 4) {
                const float *x0 = rows[r0], *x1 = rows[r0 + 1], *x2 = rows[r0 + 2], *x3 = rows[r0 + 3];
                __m256 a0 = _mm256_setzero_ps(), b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0, a3 = a0, b3 = a0;
                for (size_t j = 0; j < dim; j++) {
                    const __m256 c0 = _mm256_load_ps(pp + j * KM_PANEL), c1 = _mm256_load_ps(pp + j * KM_PANEL + 8);
#define KM_ROW(r)                                          \
    do {                                                   \
        const __m256 v = _mm256_broadcast_ss(x##r + j);    \
        a##r = _mm256_fmadd_ps(v, c0, a##r);               \
        b##r = _mm256_fmadd_ps(v, c1, b##r);               \
    } while (0)
                    KM_ROW(0);
                    KM_ROW(1);
                    KM_ROW(2);
                    KM_ROW(3);
#undef KM_ROW
                }
                const size_t base = p * KM_PANEL + (size_t)h;
#define KM_EPI(r)                                                                                     \
    epi_avx2(_mm256_fmadd_ps(a##r, scale, g0), _mm256_fmadd_ps(b##r, scale, g1), base, &best_i[r0 + r], \
             &best_s[r0 + r], &second_s[r0 + r])
                KM_EPI(0);
                KM_EPI(1);
                KM_EPI(2);
                KM_EPI(3);
#undef KM_EPI
            }
        }
    }
}
