/* f32 matrix multiply for the training core: OpenBLAS's cblas_sgemm behind
 * a checked, row-major interface, and a plain C reference twin that the
 * tests hold it against (docs/TRAINING.md).
 *
 * Determinism: OpenBLAS splits a product over rows and columns of C, never
 * over k, and picks its kernel from the CPU and the sizes, so one machine
 * gives the same bits for the same sizes and thread count. The thread count
 * is OpenBLAS's process-wide setting; the trainer sets it with
 * sl_gemm_set_threads() rather than letting OPENBLAS_NUM_THREADS or the
 * core count decide. */
#ifndef SL_TRAIN_GEMM_H
#define SL_TRAIN_GEMM_H

#include "core/core.h"

#include <stddef.h>

/* C = alpha * op(A) op(B) + beta * C, all row-major.
 *   op(A) (m, k): A is (m, k) with lda >= k, or (k, m) with lda >= m when
 *                 trans_a;
 *   op(B) (k, n): B is (k, n) with ldb >= n, or (n, k) with ldb >= k when
 *                 trans_b;
 *   C     (m, n) with ldc >= n.
 * beta == 0 overwrites C without reading it (NaNs in C do not survive), as
 * BLAS does; k == 0 scales C by beta. A and B must not overlap C.
 * Errors: SL_ERR_ARG (NULL pointer with m, n or k nonzero, a leading
 * dimension too small), SL_ERR_LIMIT (a size or leading dimension above
 * INT_MAX, the limit of OpenBLAS's 32-bit interface). */
sl_status sl_gemm_f32(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                      const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
                      size_t ldc);

/* The reference twin: the same contract and checks, three plain loops
 * accumulating each element in double in k order, then rounded. */
sl_status sl_gemm_f32_ref(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                          const float *a, size_t lda, const float *b, size_t ldb, float beta,
                          float *c, size_t ldc);

/* Sets how many threads OpenBLAS uses from now on (process-wide; values
 * below 1 mean 1). Call it before training with the thread count that the
 * results are promised for. Not thread-safe against a running product. */
void sl_gemm_set_threads(int n_threads);

/* Shared argument checks of the two implementations (internal). */
sl_status sl_gemm_check(int trans_a, int trans_b, size_t m, size_t n, size_t k, const float *a,
                        size_t lda, const float *b, size_t ldb, const float *c, size_t ldc);

#endif /* SL_TRAIN_GEMM_H */
