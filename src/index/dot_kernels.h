/* SIMD dot-product kernels (one file per instruction set). Same contract
 * as sl_dot_rows. */
#ifndef SL_INDEX_DOT_KERNELS_H
#define SL_INDEX_DOT_KERNELS_H

#include <stddef.h>

void sl_dot_rows_avx2(const float *q, const float *x, size_t n, size_t dim, float *scores);
void sl_dot_rows_avx512(const float *q, const float *x, size_t n, size_t dim, float *scores);

#endif
