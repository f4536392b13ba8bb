/* Anisotropic product quantization ("AH", Guo et al. 2020, "Accelerating
 * Large-Scale Inference with Anisotropic Vector Quantization", ICML): 4-bit
 * product-quantization codes whose codebooks and encodings minimize a loss
 * that weighs the quantization error parallel to the datapoint more than
 * the perpendicular error, because only the parallel part changes the inner
 * products that rank near neighbours. docs/INDEX_TRAINING.md derives the
 * formulas used here.
 *
 * Layout: blocks of `dpb` consecutive dimensions; block b covers dimensions
 * [b * dpb, min(dim, (b + 1) * dpb)), so the last block is shorter when dim
 * is not a multiple of dpb. Each block has 16 centres; a code is one byte
 * per block holding a value 0..15.
 *
 * The loss of a point with unit direction u (of the original datapoint x,
 * not of the residual being quantized) and quantization error e = r - q(r):
 *     loss = ||e||^2 + (eta - 1) (e . u)^2
 * i.e. eta ||e_par||^2 + ||e_perp||^2 with eta = h_parallel / h_perp;
 * eta = 1 is plain product quantization. */
#ifndef SL_INDEX_AH_H
#define SL_INDEX_AH_H

#include "core/core.h"

#include <stddef.h>
#include <stdint.h>

#define SL_PQ_CENTRES 16 /* centres per block: 4-bit codes */

typedef struct sl_pq {
    size_t dim, dpb, n_blocks; /* n_blocks = ceil(dim / dpb) */
    float *centres;            /* (n_blocks, 16, dpb), zero-padded past dim in the last
                                  block; malloc'ed, owned by the struct */
} sl_pq;

/* eta for ScaNN's anisotropic_quantization_threshold T on unit-norm data:
 * eta = (dim - 1) T^2 / (1 - T^2) (Theorem 3.4 of the paper in its
 * large-dimension form; ScaNN's ComputeParallelCostMultiplier with
 * ||x|| = 1). threshold <= 0 (or NaN), or dim < 2, gives 1 (plain PQ);
 * threshold >= 1 gives FLT_MAX (the limit). Note that eta may be below 1
 * for small T (T^2 < 1 / dim), which weighs the parallel error less. */
float sl_ah_eta(size_t dim, float threshold);

/* Trains out's codebooks on residuals.
 *
 * resid (n, dim) row-major: r_i = x_i - c_leaf(i); dirs (n, dim) the unit
 * directions x_i / ||x_i|| of the original datapoints, or NULL (then plain
 * PQ whatever eta). eta > 0 (finite); iters < 0 means the default 8.
 * Init: per-block k-means (16 centres, sl_kmeans_train) on the block's
 * residual coordinates of a seeded sample of at most 16,384 points. Then
 * `iters` rounds of: encode every point (sl_ah_encode, 2 passes), then
 * update the blocks one after the other, each block's 16 centres set to the
 * exact minimizer of the total loss with all codes and the other blocks'
 * centres fixed (a dpb x dpb linear system per centre). A centre no point
 * uses is moved onto the block residual of the point with the largest
 * error in that block (it had no effect on the loss, so the loss cannot
 * rise). Deterministic for a seed whatever the threads; pool may be NULL.
 *
 * out is overwritten (not freed first: pass a zeroed or freed struct); on
 * error it is left zeroed. Errors: SL_ERR_ARG (NULL pointers, n, dim or dpb
 * 0, dpb above 32, eta not finite and positive, non-finite input),
 * SL_ERR_LIMIT (sizes overflow), SL_ERR_NOMEM. */
sl_status sl_ah_train(const float *resid, const float *dirs, size_t n, size_t dim, size_t dpb, float eta,
                      int iters, uint64_t seed, sl_pool *pool, sl_pq *out);

/* Frees the codebooks and zeroes the struct; NULL or zeroed is a no-op. */
void sl_pq_free(sl_pq *pq);

/* Encodes n residuals: codes (n, n_blocks), one 4-bit code per byte.
 * Start: the nearest centre of each block (squared L2, lower code on ties).
 * Then `passes` (< 0: the default 2) rounds of coordinate descent over the
 * blocks in order: each block tries all 16 centres with the other blocks
 * fixed and takes the one with the smallest anisotropic loss (keeping the
 * current one unless another is strictly better, so no step raises the
 * loss); a round without a change ends early. dirs NULL or eta == 1: the
 * nearest-centre start only. Deterministic; pool may be NULL.
 * Errors: SL_ERR_ARG (NULL pointers, a pq without centres, eta not finite
 * and positive), SL_ERR_LIMIT, SL_ERR_NOMEM. n == 0 is a no-op. */
sl_status sl_ah_encode(const sl_pq *pq, const float *resid, const float *dirs, size_t n, float eta, int passes,
                       sl_pool *pool, uint8_t *codes);

/* sl_ah_encode with the encoder copy of an explicit instruction-set level
 * (levels above sl_cpu() fall back to sl_cpu()); every level gives the
 * same codes, bit for bit (tests hold them to the plain C copy). */
sl_status sl_ah_encode_level(sl_cpu_level level, const sl_pq *pq, const float *resid, const float *dirs, size_t n,
                             float eta, int passes, sl_pool *pool, uint8_t *codes);

/* Reconstruction of one point: out (dim) = the concatenated centres of its
 * codes (n_blocks bytes; only the low 4 bits are read). */
void sl_pq_decode(const sl_pq *pq, const uint8_t *codes, float *out);

/* Sum over n points of the anisotropic loss ||e||^2 + (eta - 1) (e . u)^2
 * of codes (n, n_blocks) against resid (n, dim) with directions dirs (n,
 * dim), in double; dirs NULL: sum of ||e||^2. For tests and diagnostics. */
double sl_ah_loss(const sl_pq *pq, const float *resid, const float *dirs, const uint8_t *codes, size_t n,
                  float eta);

#endif
