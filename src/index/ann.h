/* The searcher index, ScaNN style: k-means partitions ("leaves"), the
 * residuals to the leaf centres product-quantized to 4-bit codes with the
 * anisotropic loss (Guo et al. 2020; src/index/ah.h), scored with uint8
 * lookup tables 32 points at a time (src/index/lut16.h), and the best
 * candidates re-ordered by their exact vectors. Items can be added and
 * removed without a rebuild. docs/INDEX.md describes the design and the
 * choices; docs/BENCHMARKS.md measures it against faiss and hnswlib.
 *
 * Scores are "higher is better" for both metrics: the inner product, or
 * minus the squared L2 distance. A built index is read-only for search and
 * may be searched from many threads at once; add/remove need exclusive
 * access (the caller's lock). */
#ifndef SL_INDEX_ANN_H
#define SL_INDEX_ANN_H

#include "flat.h"

typedef enum sl_ann_metric {
    SL_ANN_DOT = 0, /* inner product (cosine on unit vectors) */
    SL_ANN_L2 = 1   /* squared Euclidean distance */
} sl_ann_metric;

/* How re-ordering keeps the exact vectors (memory per vector: 4, 2 or 1
 * bytes per dimension, + 4 bytes for the int8 scale). */
typedef enum sl_ann_store {
    SL_ANN_STORE_NONE = 0, /* no re-ordering: scores are the approximations */
    SL_ANN_STORE_F32 = 1,
    SL_ANN_STORE_F16 = 2,
    SL_ANN_STORE_I8 = 3
} sl_ann_store;

/* Build options, after ScaNNOptions: tree(num_leaves, num_leaves_to_search,
 * training_sample_size), score_ah(dimensions_per_block,
 * anisotropic_quantization_threshold), score_brute_force, reorder. */
typedef struct sl_ann_opts {
    sl_ann_metric metric;
    int brute_force;              /* exact scan of f32 vectors; the rest is ignored */
    uint32_t num_leaves;          /* 1 = no tree (AH over everything) */
    uint32_t num_leaves_to_search;
    size_t training_sample_size;  /* points used to train k-means and the codebooks */
    int spherical;                /* spherical k-means (unit centres, assign by dot) */
    int kmeans_iters;
    uint32_t dims_per_block;      /* 4-bit PQ block width */
    float aniso_threshold;        /* T of the anisotropic loss; <= 0: plain PQ. Dot metric only. */
    int ah_iters;                 /* codebook training rounds */
    sl_ann_store store;           /* exact vectors kept for re-ordering */
    uint32_t reorder_k;           /* candidates re-ordered exactly (0: none) */
    uint64_t seed;
    int n_threads;                /* build threads; <= 0: 1 */
} sl_ann_opts;

/* ScaNN's guidance from the collection size n: brute force under 20,000
 * items; AH + re-ordering on one leaf under 100,000; above, a tree of
 * about sqrt(n) leaves searching about 5 % of them. */
void sl_ann_opts_init(sl_ann_opts *o, size_t n, size_t dim, sl_ann_metric metric);

typedef struct sl_ann sl_ann;

/* x (n, dim) row-major; ids (n) stable 64-bit ids, unique (checked).
 * n may be 0 only with brute_force or num_leaves... (a tree needs at least
 * num_leaves points). Errors: SL_ERR_ARG, SL_ERR_NOMEM, SL_ERR_LIMIT. */
sl_status sl_ann_build(const float *x, const int64_t *ids, size_t n, size_t dim, const sl_ann_opts *o,
                       sl_ann **out);
void sl_ann_free(sl_ann *a);

size_t sl_ann_count(const sl_ann *a);
size_t sl_ann_dim(const sl_ann *a);
const sl_ann_opts *sl_ann_options(const sl_ann *a);

/* Per-query knobs; 0 = the build's value. */
typedef struct sl_ann_query_opts {
    uint32_t leaves_to_search;
    uint32_t reorder_k;
} sl_ann_query_opts;

/* The k best items for q (dim floats): out[i].index is the item's id,
 * out[i].score the re-ordered exact score (or the approximation without a
 * store); the structs' padding is zeroed, so results compare bytewise.
 * Returns the count (min(k, count)). qo may be NULL. Thread-safe.
 * Scratch memory is allocated per call; *status (may be NULL) reports
 * SL_ERR_NOMEM. */
size_t sl_ann_search(const sl_ann *a, const float *q, size_t k, const sl_ann_query_opts *qo, sl_hit *out,
                     sl_status *status);

/* Many queries at once: qs (nq, dim); out (nq, k) hits, counts (nq) how
 * many each got. Queries are spread over `pool` (may be NULL: one thread);
 * each result equals what sl_ann_search gives for that query alone.
 * Errors: SL_ERR_NOMEM (counts are then partial). */
sl_status sl_ann_search_batch(const sl_ann *a, const float *qs, size_t nq, size_t k, const sl_ann_query_opts *qo,
                              sl_pool *pool, sl_hit *out, size_t *counts);

/* Adds items (assigned to the nearest leaf, encoded with the existing
 * codebooks). Ids must be new. Errors: SL_ERR_ARG (duplicate id),
 * SL_ERR_NOMEM. */
sl_status sl_ann_add(sl_ann *a, const float *x, const int64_t *ids, size_t n);

/* Removes items by id (the leaf's last item takes the hole, so scans stay
 * dense). Unknown ids are counted in *missing (may be NULL), not errors. */
sl_status sl_ann_remove(sl_ann *a, const int64_t *ids, size_t n, size_t *missing);

/* Whether the index holds `id`. */
int sl_ann_contains(const sl_ann *a, int64_t id);
/* Writes every id the index holds to out (sl_ann_count entries), in leaf
 * order; returns the count. */
size_t sl_ann_ids(const sl_ann *a, int64_t *out);

/* Bytes of memory the index holds (codes, ids, exact vectors, centres,
 * codebooks, id map), counting allocated capacity. */
size_t sl_ann_bytes(const sl_ann *a);

/* How far the leaves have drifted from the build: the largest leaf's size
 * over the mean leaf size at build time. A rebuild is worth it above ~4. */
double sl_ann_imbalance(const sl_ann *a);

#endif
