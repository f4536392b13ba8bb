/* AVX-512 nearest-centre kernel of k-means: 8 points x one panel of 32
 * centres per pass. Contract and layout: kmeans_kernels.h; the plain C
 * twin is kernel_scalar in kmeans.c (tests/test_kmeans.c holds both to a
 * naive double loop). */
#include "kmeans_kernels.h"

#include <immintrin.h>
#include <math.h>

/* Folds one point's 32 panel scores into its best: the minimum, then the
 * lowest lane holding it (s0 holds the panel's lower 16 centres). When the
 * panel holds a new best, the runner-up is the old best or the panel's
 * minimum without that lane; otherwise it may be the panel's minimum. */
static inline void epi_avx512(__m512 s0, __m512 s1, size_t base, uint32_t *bi, float *bs,
                              float *ss) {
    float m = _mm512_reduce_min_ps(_mm512_min_ps(s0, s1));
    if (!(m < *bs)) {
        if (m < *ss) *ss = m;
        return; /* NaN scores change nothing */
    }
    const __m512 mv = _mm512_set1_ps(m), inf = _mm512_set1_ps(INFINITY);
    __mmask16 m0 = _mm512_cmp_ps_mask(s0, mv, _CMP_EQ_OQ), m1 = _mm512_cmp_ps_mask(s1, mv, _CMP_EQ_OQ);
    unsigned lane;
    if (m0) {
        lane = (unsigned)__builtin_ctz(m0);
        s0 = _mm512_mask_mov_ps(s0, (__mmask16)(1u << lane), inf);
    } else if (m1) {
        lane = (unsigned)__builtin_ctz(m1);
        s1 = _mm512_mask_mov_ps(s1, (__mmask16)(1u << lane), inf);
        lane += 16u;
    } else {
        return;
    }
    float rest = _mm512_reduce_min_ps(_mm512_min_ps(s0, s1));
    *ss = *bs < rest ? *bs : rest;
    *bs = m;
    *bi = (uint32_t)(base + lane);
}

/* 8 points x 32 centres: 16 accumulators, two panel loads and eight
 * broadcasts per coordinate, so the multiply-adds, not the loads, bound it. */
void sl_kmeans_kernel_avx512(const km_pack *pk, const float *const *rows, uint32_t *best_i,
                             float *best_s, float *second_s) {
    const size_t dim = pk->dim;
    const float *x0 = rows[0], *x1 = rows[1], *x2 = rows[2], *x3 = rows[3];
    const float *x4 = rows[4], *x5 = rows[5], *x6 = rows[6], *x7 = rows[7];
    const __m512 scale = _mm512_set1_ps(pk->scale);
    for (size_t p = 0; p < pk->n_panels; p++) {
        const float *pp = pk->panel + p * dim * KM_PANEL;
        __m512 a0 = _mm512_setzero_ps(), b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0, a3 = a0, b3 = a0;
        __m512 a4 = a0, b4 = a0, a5 = a0, b5 = a0, a6 = a0, b6 = a0, a7 = a0, b7 = a0;
        for (size_t j = 0; j < dim; j++) {
            const __m512 c0 = _mm512_load_ps(pp + j * KM_PANEL), c1 = _mm512_load_ps(pp + j * KM_PANEL + 16);
#define KM_ROW(r)                                         \
    do {                                                  \
        const __m512 v = _mm512_set1_ps(x##r[j]);         \
        a##r = _mm512_fmadd_ps(v, c0, a##r);              \
        b##r = _mm512_fmadd_ps(v, c1, b##r);              \
    } while (0)
            KM_ROW(0);
            KM_ROW(1);
            KM_ROW(2);
            KM_ROW(3);
            KM_ROW(4);
            KM_ROW(5);
            KM_ROW(6);
            KM_ROW(7);
#undef KM_ROW
        }
        const __m512 g0 = _mm512_load_ps(pk->bias + p * KM_PANEL), g1 = _mm512_load_ps(pk->bias + p * KM_PANEL + 16);
        const size_t base = p * KM_PANEL;
#define KM_EPI(r) epi_avx512(_mm512_fmadd_ps(a##r, scale, g0), _mm512_fmadd_ps(b##r, scale, g1), base, &best_i[r], &best_s[r], \
                                &second_s[r])
        KM_EPI(0);
        KM_EPI(1);
        KM_EPI(2);
        KM_EPI(3);
        KM_EPI(4);
        KM_EPI(5);
        KM_EPI(6);
        KM_EPI(7);
#undef KM_EPI
    }
}
