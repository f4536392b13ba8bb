/* Shared between the index's build, search and update code. */
#ifndef SL_INDEX_ANN_INTERNAL_H
#define SL_INDEX_ANN_INTERNAL_H

#include "ah.h"
#include "ann.h"
#include "lut16.h"

/* One partition: its items in scan order. Arrays have room for `cap`
 * items (a multiple of SL_LUT16_GROUP); codes of unused slots are 0. */
typedef struct ann_leaf {
    size_t n, cap;
    /* Nonzero: the arrays point into a mapped snapshot file (cap is then
     * n rounded up to a group); the first change copies them
     * (sl_ann_leaf_reserve) and clears the flag. */
    int borrowed;
    int64_t *ids;    // (cap)
    uint8_t *packed; // sl_lut16_packed_size(cap, n_blocks) bytes; NULL for brute force
    void *vecs;      // (cap, dim) in the store's type; NULL without a store
    float *scales;   // (cap) per-row scale of int8 vectors, else NULL
    /* L2 metric only: ||c + r_hat||^2 of each item, its reconstruction's
     * squared norm, the per-item term of the shared-table score (see
     * ann_search.c). Derived from the codes, so never stored in a
     * snapshot: computed at build, add and load (sl_ann_prepare_leaves),
     * always owned by the leaf even when the rest is borrowed. */
    float *xnorm;    // (cap) or NULL
} ann_leaf;

/* Where each id lives: open addressing with linear probing and
 * backward-shift deletion (no tombstones, so lookups never slow down). */
typedef struct ann_slot {
    int64_t id;
    uint32_t leaf; /* UINT32_MAX: empty */
    uint32_t pos;
} ann_slot;

typedef struct ann_map {
    ann_slot *slots;
    size_t mask, used;
} ann_map;

struct sl_ann {
    sl_ann_opts o;
    size_t dim, count;
    uint32_t n_leaves;
    float *centres;      // (n_leaves, dim)
    float *centre_norm2; // (n_leaves) for the L2 leaf ranking
    float *cbt;          // (n_blocks, dpb, 16) the codebooks transposed, so that a
                         // block's 16 table entries come out of 16-wide vector ops
    sl_pq pq;            // absent (centres NULL) for brute force
    float eta;           // anisotropic weight used to encode
    ann_leaf *leaves;    // (n_leaves)
    ann_map map;
    double build_mean_leaf; /* items per leaf at build time */
    /* A loaded snapshot (ann_file.c): centres, centre_norm2 and
     * pq.centres then point into `file` too and are never freed. */
    sl_mmap file;
    int tables_borrowed;
};

/* ---- id map (ann_update.c) ---------------------------------------------- */
/* The home slot of an id (Fibonacci hashing); shared with the snapshot
 * loader, which prefetches slots ahead of its inserts. */
static inline size_t sl_ann_id_slot(int64_t id, size_t mask) {
    uint64_t x = (uint64_t)id * 0x9E3779B97F4A7C15ull;
    return (size_t)(x >> 20) & mask;
}
sl_status sl_ann_map_init(ann_map *m, size_t expected);
void sl_ann_map_free(ann_map *m);
/* NULL when absent. */
ann_slot *sl_ann_map_find(const ann_map *m, int64_t id);
/* Inserts a new id (SL_ERR_ARG if present); grows as needed. */
sl_status sl_ann_map_put(ann_map *m, int64_t id, uint32_t leaf, uint32_t pos);
void sl_ann_map_del(ann_map *m, int64_t id);

/* ---- leaves and the exact-vector store (ann_store.c) --------------------- */
size_t sl_ann_store_row_bytes(sl_ann_store store, size_t dim);
/* Grows a leaf to hold at least `need` items (codes kept). */
sl_status sl_ann_leaf_reserve(const sl_ann *a, ann_leaf *l, size_t need);
void sl_ann_leaf_free(ann_leaf *l);
/* Writes x (dim) into row `pos` of the leaf's store. */
void sl_ann_store_put(const sl_ann *a, ann_leaf *l, size_t pos, const float *x);
/* Copies row `from` of the store over row `to` (same leaf). */
void sl_ann_store_move(const sl_ann *a, ann_leaf *l, size_t from, size_t to);
/* Asks for row `pos` of the leaf's store to be brought into the cache. */
void sl_ann_store_prefetch(const sl_ann *a, const ann_leaf *l, size_t pos);
/* Exact score (dot, or minus the squared L2 distance) of row `pos` for q. */
float sl_ann_store_score(const sl_ann *a, const ann_leaf *l, size_t pos, const float *q);

/* ---- encoding (ann_build.c) ---------------------------------------------- */
/* Derived tables (centre norms, transposed codebooks) from the centres and
 * codebooks: after a build and after loading a snapshot. */
sl_status sl_ann_prepare(sl_ann *a);
/* The per-item terms of the L2 search (ann_leaf.xnorm) of
 * every item, from the codes: after a build and after loading a snapshot.
 * A no-op for the dot metric and for brute force. */
sl_status sl_ann_prepare_leaves(sl_ann *a);
/* ||c + r_hat||^2 for an item of leaf `leaf` with codes (n_blocks). */
float sl_ann_item_norm(const sl_ann *a, uint32_t leaf, const uint8_t *codes);
/* Whether leaves keep xnorm (L2 metric with codes). */
static inline int sl_ann_has_xnorm(const sl_ann *a) { return a->o.metric == SL_ANN_L2 && a->pq.n_blocks; }
/* The leaf a vector belongs to: nearest centre (max dot when spherical). */
uint32_t sl_ann_nearest_leaf(const sl_ann *a, const float *x);
/* codes (n, n_blocks) of x (n, dim), vector i in leaf[i]: the residuals to
 * their leaves' centres, encoded with the anisotropic loss when eta > 1. */
sl_status sl_ann_encode(const sl_ann *a, const float *x, const uint32_t *leaf, size_t n, uint8_t *codes);

#endif
