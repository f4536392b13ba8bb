/* The plain C twin of sl_gemm_f32: what the OpenBLAS path is tested against. */
#include "train/gemm.h"

sl_status sl_gemm_f32_ref(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                          const float *a, size_t lda, const float *b, size_t ldb, float beta,
                          float *c, size_t ldc) {
    sl_status st = sl_gemm_check(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc);
    if (st != SL_OK) return st;
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < n; j++) {
            /* double accumulation: the reference should be the more exact
             * side of the comparison, not a second f32 rounding pattern */
            double s = 0.0;
            for (size_t p = 0; p < k; p++) {
                float x = trans_a ? a[p * lda + i] : a[i * lda + p];
                float y = trans_b ? b[j * ldb + p] : b[p * ldb + j];
                s += (double)x * (double)y;
            }
            float *cij = &c[i * ldc + j];
            double prev = beta == 0.0f ? 0.0 : (double)beta * (double)*cij;
            *cij = (float)((double)alpha * s + prev);
        }
    }
    return SL_OK;
}
