/* k-means for the index's partitions (and the product quantizer's
 * initial codebooks): k-means++ seeding, Lloyd iterations, a blocked
 * nearest-centre kernel. docs/INDEX_TRAINING.md describes the algorithm.
 *
 * Determinism: for a given seed the centres are bit-identical whatever the
 * thread count and however often it runs. Every point's scores come from
 * the same kernel in the same order, the bounds that let training skip a
 * point depend on that point alone, and every sum is taken in point order
 * (or over fixed groups merged in group order), never in thread order.
 * Results may differ between instruction-set levels (SEARCHLITE_CPU): the
 * SIMD kernels fuse multiply-adds, the plain C kernel does not. */
#ifndef SL_INDEX_KMEANS_H
#define SL_INDEX_KMEANS_H

#include "core/core.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sl_kmeans_opts {
    uint32_t k;     /* number of centres, 1..n (and 1..sample when sample != 0) */
    int iters;      /* Lloyd iterations (default 10); 0 returns the k-means++ seeds */
    int spherical;  /* nonzero: centres re-normalized to unit length after each
                       update and points assigned by max dot product (cosine data) */
    size_t sample;  /* train on at most this many points, drawn without replacement
                       with the seed (0 = all) */
    uint64_t seed;
} sl_kmeans_opts;

/* Defaults: k 0 (the caller must set it), 10 iterations, Euclidean, all
 * points, seed 0. */
void sl_kmeans_opts_init(sl_kmeans_opts *o);

/* Trains k centres on x.
 *
 * x (n, dim) row-major, finite; centers (k, dim) row-major, written (left
 * untouched on error). Seeding: k-means++ (D^2 sampling) on a seeded random
 * subset of at most max(16 k, 4096) training points. Each iteration assigns
 * every training point to its nearest centre (squared L2, or max dot product
 * when spherical), then moves each centre to the mean of its points
 * (normalized when spherical). A centre left without points is re-seeded
 * next to the centre of the largest cluster, displaced by a small fraction of
 * that cluster's radius, so the next assignment splits the largest cluster.
 * The objective (sum of squared distances, or of 1 - dot when spherical)
 * never increases from one iteration to the next, up to rounding.
 *
 * pool may be NULL (serial). Errors: SL_ERR_ARG (NULL pointers, n or dim 0,
 * k outside 1..n or above a non-zero sample, negative iters, a non-finite
 * value in x), SL_ERR_LIMIT (n * dim overflows), SL_ERR_NOMEM. */
sl_status sl_kmeans_train(const float *x, size_t n, size_t dim, const sl_kmeans_opts *o, sl_pool *pool,
                          float *centers);

/* sl_kmeans_train without the seeding: the o->iters Lloyd iterations start
 * from the k centres in `centers` (k, dim), which receives the result
 * (normalized first when spherical). For warm starts and for tests that
 * need chosen starting centres (empty clusters). Errors as
 * sl_kmeans_train, and SL_ERR_ARG for a non-finite centre. */
sl_status sl_kmeans_refine(const float *x, size_t n, size_t dim, const sl_kmeans_opts *o, sl_pool *pool,
                           float *centers);

/* Nearest centre of each point: by squared L2 (by_dot == 0) or by maximum
 * inner product (by_dot != 0); ties go to the lower centre index (as scored
 * by the kernel: ||c||^2 - 2 x.c, or x.c, in float).
 *
 * x (n, dim), centers (k, dim) row-major, finite; assign (n) receives centre
 * numbers in [0, k); dist (n) may be NULL, else receives the squared L2
 * distance (clamped at 0) or the dot product of each point with its centre.
 * Allocates a packed copy of the centres (k * dim floats) per call.
 * pool may be NULL. Errors: SL_ERR_ARG (NULL pointers, dim or k 0, a
 * non-finite value), SL_ERR_LIMIT (sizes overflow), SL_ERR_NOMEM. n == 0 is
 * a no-op. */
sl_status sl_kmeans_assign(const float *x, size_t n, size_t dim, const float *centers, size_t k, int by_dot,
                           sl_pool *pool, uint32_t *assign, float *dist);

/* sl_kmeans_assign with the kernel of an explicit instruction-set level
 * (tests hold every kernel to a naive double loop); levels above sl_cpu() fall
 * back to sl_cpu(). */
sl_status sl_kmeans_assign_level(sl_cpu_level level, const float *x, size_t n, size_t dim, const float *centers,
                                 size_t k, int by_dot, sl_pool *pool, uint32_t *assign, float *dist);

#endif
