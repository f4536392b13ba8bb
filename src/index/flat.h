/* Exact (brute-force) maximum-inner-product search over f32 rows: the
 * dot-product kernels, top-k selection and a threaded exact search.
 *
 * Results are deterministic: every row's score is computed by the same
 * kernel in the same order whatever the thread count, and ties are broken
 * by the lower row index, so 1 or 16 threads return identical hits. */
#ifndef SL_INDEX_FLAT_H
#define SL_INDEX_FLAT_H

#include "core/core.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sl_hit {
    int64_t index; /* row number (callers map it to their ids) */
    float score;
} sl_hit;

/* scores[i] = dot(q, x_i) for i < n; x (n, dim) row-major, q (dim).
 * Dispatches on sl_cpu(); sl_dot_rows_ref is the plain C twin. The SIMD
 * versions sum in a different order: they agree with the twin within
 * 1e-5 relative to sum |q_j x_ij| (tests/test_flat.c). */
void sl_dot_rows(const float *q, const float *x, size_t n, size_t dim, float *scores);
void sl_dot_rows_ref(const float *q, const float *x, size_t n, size_t dim, float *scores);
/* Explicit level (tests); levels above sl_cpu() fall back to the best one. */
void sl_dot_rows_level(sl_cpu_level level, const float *q, const float *x, size_t n, size_t dim,
                       float *scores);

/* True when hit a ranks before hit b: higher score, then lower index. */
static inline int sl_hit_before(sl_hit a, sl_hit b) {
    return a.score > b.score || (a.score == b.score && a.index < b.index);
}

/* A bounded min-heap keeping the k best hits seen. */
typedef struct sl_topk {
    sl_hit *heap; /* caller-provided storage of k entries */
    size_t k, n;
} sl_topk;

static inline void sl_topk_init(sl_topk *t, sl_hit *storage, size_t k) {
    t->heap = storage;
    t->k = k;
    t->n = 0;
}
/* Offers a hit; cheap rejection when it cannot enter. */
void sl_topk_push(sl_topk *t, sl_hit h);
/* Sorts the kept hits best first (in place) and returns their count. */
size_t sl_topk_finish(sl_topk *t);

/* One top-k list per thread of a parallel scan; merging them under the
 * total order of sl_hit_before gives the same hits whatever rows each
 * thread saw. */
typedef struct sl_topk_set {
    sl_topk *lists; /* (n_threads) */
    sl_hit *store;  /* (n_threads, k) */
    int n_threads;
    size_t k;
} sl_topk_set;

/* Errors: SL_ERR_NOMEM (nothing to free then). */
sl_status sl_topk_set_init(sl_topk_set *set, int n_threads, size_t k);
/* Writes the k best hits of all lists to out (k entries), best first,
 * returns their count, and frees the set. */
size_t sl_topk_set_merge(sl_topk_set *set, sl_hit *out);

/* Exact search: the k best rows of x for q (scores as sl_dot_rows), best
 * first, into out (k entries); returns how many (min(k, n)). Splits rows
 * over the pool when n is large; pool may be NULL. Scratch-free: uses a
 * small stack buffer per block plus one heap per thread (allocated; returns
 * SL_ERR_NOMEM on failure through *status when status is not NULL). */
size_t sl_flat_search(const float *x, size_t n, size_t dim, const float *q, size_t k,
                      sl_pool *pool, sl_hit *out, sl_status *status);

#endif
