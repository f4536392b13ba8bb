/* k-means internals shared by kmeans.c and its per-instruction-set kernel
 * files (kmeans_avx2.c, kmeans_avx512.c): the packed centres and the
 * kernel contract. Not part of the module's interface. */
#ifndef SL_INDEX_KMEANS_KERNELS_H
#define SL_INDEX_KMEANS_KERNELS_H

#include <stddef.h>
#include <stdint.h>

enum {
    KM_PANEL = 32, /* centres per packed panel: two AVX-512 vectors */
    KM_ROWS = 8    /* points per kernel call */
};

/* Centres packed for the kernels; the panels and bias are 64-byte aligned. */
typedef struct km_pack {
    size_t k, dim, n_panels;
    float *panel; /* (n_panels, dim, KM_PANEL): coordinate j of centres p*32.. */
    float *bias;  /* (n_panels * KM_PANEL); +inf for the padding past k */
    float scale;  /* -2 (squared L2) or -1 (inner product) */
} km_pack;

/* A kernel: for KM_ROWS points (row pointers; callers repeat the last row
 * to fill a short group) lowers best_s[r] / best_i[r] to the smallest score
 * bias_c + scale * x.c over all centres, the first (lowest) centre on ties,
 * and second_s[r] to the smallest score of the other centres (training
 * keeps it as a bound). */
typedef void (*km_kernel)(const km_pack *pk, const float *const *rows, uint32_t *best_i, float *best_s,
                          float *second_s);

#ifndef SL_NO_X86_SIMD
void sl_kmeans_kernel_avx2(const km_pack *pk, const float *const *rows, uint32_t *best_i, float *best_s,
                           float *second_s);
void sl_kmeans_kernel_avx512(const km_pack *pk, const float *const *rows, uint32_t *best_i, float *best_s,
                             float *second_s);
#endif

#endif
