/* SIMD dot-product kernels (one file per instruction set). Same contract
 * as sl_dot_rows. */
#ifndef SL_INDEX_DOT_KERNELS_H
#define SL_INDEX_DOT_KERNELS_H

#include "core/core.h"

#include <stddef.h>
#include <stdint.h>

void sl_dot_rows_avx2(const float *q, const float *x, size_t n, size_t dim, float *scores);
void sl_dot_rows_avx512(const float *q, const float *x, size_t n, size_t dim, float *scores);

/* Squared L2 distance ||q - x||^2 of two dim-float rows, summed in 16
 * lanes (lane t takes coordinates t, t + 16, ...; each step a multiply
 * then an add, no fused multiply-add), then the lanes added in order: the
 * same bits at every level. The exact re-ordering of L2 searches. */
float sl_l2sq_ref(const float *q, const float *x, size_t dim);
float sl_l2sq_avx2(const float *q, const float *x, size_t dim);
float sl_l2sq_avx512(const float *q, const float *x, size_t dim);
float sl_l2sq_level(sl_cpu_level level, const float *q, const float *x, size_t dim);
float sl_l2sq(const float *q, const float *x, size_t dim);

/* sl_l2sq against a row of IEEE half floats (an f16 store): each half is
 * widened exactly, then the same 16 lanes and order, so the result equals
 * sl_l2sq of the widened row, bit for bit, at every level. */
float sl_l2sq_f16_ref(const float *q, const uint16_t *x, size_t dim);
float sl_l2sq_f16_avx2(const float *q, const uint16_t *x, size_t dim);
float sl_l2sq_f16_avx512(const float *q, const uint16_t *x, size_t dim);
float sl_l2sq_f16_level(sl_cpu_level level, const float *q, const uint16_t *x, size_t dim);
float sl_l2sq_f16(const float *q, const uint16_t *x, size_t dim);

#endif
