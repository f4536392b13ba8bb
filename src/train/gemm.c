/* sl_gemm_f32 through OpenBLAS (the project prefers a well-kept Debian
 * library to a hand-written GEMM) and the argument checks both twins share. */
#include "train/gemm.h"

#include <cblas.h>
#include <limits.h>

sl_status sl_gemm_check(int trans_a, int trans_b, size_t m, size_t n, size_t k, const float *a,
                        size_t lda, const float *b, size_t ldb, const float *c, size_t ldc) {
    if (m > INT_MAX || n > INT_MAX || k > INT_MAX || lda > INT_MAX || ldb > INT_MAX ||
        ldc > INT_MAX)
        return sl_fail(SL_ERR_LIMIT, "gemm: size above INT_MAX (m %zu, n %zu, k %zu)", m, n, k);
    if (m == 0 || n == 0) return SL_OK;
    if (!c) return sl_fail(SL_ERR_ARG, "gemm: C is NULL");
    if (ldc < n) return sl_fail(SL_ERR_ARG, "gemm: ldc %zu < n %zu", ldc, n);
    if (k == 0) return SL_OK;
    if (!a || !b) return sl_fail(SL_ERR_ARG, "gemm: A or B is NULL");
    size_t a_cols = trans_a ? m : k, b_cols = trans_b ? k : n;
    if (lda < a_cols) return sl_fail(SL_ERR_ARG, "gemm: lda %zu < %zu", lda, a_cols);
    if (ldb < b_cols) return sl_fail(SL_ERR_ARG, "gemm: ldb %zu < %zu", ldb, b_cols);
    return SL_OK;
}

/* BLAS leaves C untouched by beta == 1 and overwrites it for beta == 0;
 * doing the k == 0 case here keeps OpenBLAS away from its lda >= 1 rule
 * for empty operands. */
static void scale_c(size_t m, size_t n, float beta, float *c, size_t ldc) {
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
}

sl_status sl_gemm_f32(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                      const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
                      size_t ldc) {
    sl_status st = sl_gemm_check(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc);
    if (st != SL_OK || m == 0 || n == 0) return st;
    if (k == 0) {
        scale_c(m, n, beta, c, ldc);
        return SL_OK;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, alpha, a, (int)lda, b,
                (int)ldb, beta, c, (int)ldc);
    return SL_OK;
}

void sl_gemm_set_threads(int n_threads) { openblas_set_num_threads(n_threads < 1 ? 1 : n_threads); }
