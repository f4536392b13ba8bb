/* Building the index: sample, k-means leaves, anisotropic codebooks on the
 * residuals, codes for every item, leaves filled in id order of arrival. */
#include "ann_internal.h"
#include "kmeans.h"

#include <math.h>
#include <stdlib.h>

#define SL_ANN_CODEBOOK_SAMPLE 32768
#include <string.h>

void sl_ann_opts_init(sl_ann_opts *o, size_t n, size_t dim, sl_ann_metric metric) {
    memset(o, 0, sizeof *o);
    o->metric = metric;
    o->training_sample_size = 100000;
    o->spherical = 0;
    o->kmeans_iters = 10;
    o->dims_per_block = 2;
    o->aniso_threshold = metric == SL_ANN_DOT ? 0.2f : 0.0f;
    /* L2 trains plain PQ codebooks (threshold 0, eta 1): the rounds are then
     * only more Lloyd steps after the per-block k-means start, and on
     * fashion-mnist-784 2 rounds give the recall of 8 at a third of the
     * codebook time; the anisotropic loss of the dot metric uses 8. */
    o->ah_iters = metric == SL_ANN_DOT ? 8 : 2;
    o->store = SL_ANN_STORE_F32;
    o->seed = 0x5ea1c4;
    o->n_threads = 1;
    (void)dim;
    if (n < 20000) { /* ScaNN: brute force is fastest below ~20k */
        o->brute_force = 1;
        o->num_leaves = 1;
        o->num_leaves_to_search = 1;
    } else if (n < 100000) { /* AH + re-ordering, no tree */
        o->num_leaves = 1;
        o->num_leaves_to_search = 1;
        o->reorder_k = 100;
    } else { /* tree of about sqrt(n) leaves, search about 5 % of them */
        o->num_leaves = (uint32_t)sqrt((double)n);
        o->num_leaves_to_search = o->num_leaves / 20 > 1 ? o->num_leaves / 20 : 1;
        o->reorder_k = 100;
    }
}

uint32_t sl_ann_nearest_leaf(const sl_ann *a, const float *x) {
    uint32_t best = 0;
    float best_s = -INFINITY;
    for (uint32_t p = 0; p < a->n_leaves; p++) {
        float d;
        sl_dot_rows(x, a->centres + (size_t)p * a->dim, 1, a->dim, &d);
        /* max dot (spherical) or min ||x - c||^2 = max 2 x.c - ||c||^2 */
        float s = a->o.spherical ? d : 2 * d - a->centre_norm2[p];
        if (s > best_s) {
            best_s = s;
            best = p;
        }
    }
    return best;
}

/* What the codebooks see of an item: its residual to its leaf's centre,
 * and (for the anisotropic loss, dir != NULL) its own unit direction. */
static void residual(const float *v, const float *centre, size_t d, float *res, float *dir) {
    double nn = 0;
    for (size_t j = 0; j < d; j++) {
        res[j] = v[j] - centre[j];
        nn += (double)v[j] * v[j];
    }
    if (dir) {
        float inv = nn > 0 ? (float)(1.0 / sqrt(nn)) : 0.0f;
        for (size_t j = 0; j < d; j++) dir[j] = v[j] * inv;
    }
}

sl_status sl_ann_encode(const sl_ann *a, const float *x, const uint32_t *leaf, size_t n, uint8_t *codes) {
    const size_t d = a->dim;
    /* in chunks, so memory stays small for large builds */
    enum { CHUNK = 4096 };
    const size_t m = n < CHUNK ? n : CHUNK;
    float *res = sl_malloc_array(m, d * sizeof *res);
    float *dirs = a->eta > 1 ? sl_malloc_array(m, d * sizeof *dirs) : NULL;
    if (!res || (a->eta > 1 && !dirs)) {
        free(res);
        free(dirs);
        return sl_fail(SL_ERR_NOMEM, "index: out of memory while encoding");
    }
    sl_status st = SL_OK;
    for (size_t i0 = 0; i0 < n && !st; i0 += CHUNK) {
        size_t c = n - i0 < CHUNK ? n - i0 : CHUNK;
        for (size_t i = 0; i < c; i++)
            residual(x + (i0 + i) * d, a->centres + (size_t)leaf[i0 + i] * d, d, res + i * d,
                     dirs ? dirs + i * d : NULL);
        st = sl_ah_encode(&a->pq, res, dirs, c, a->eta, 2, NULL, codes + i0 * a->pq.n_blocks);
    }
    free(res);
    free(dirs);
    return st;
}

sl_status sl_ann_prepare(sl_ann *a) {
    const size_t d = a->dim, nb = a->pq.n_blocks, dpb = a->pq.dpb;
    if (!a->tables_borrowed || !a->centre_norm2) {
        if (!a->centre_norm2) a->centre_norm2 = sl_malloc_array(a->n_leaves ? a->n_leaves : 1, sizeof(float));
        if (!a->centre_norm2) return sl_fail(SL_ERR_NOMEM, "index: out of memory");
        for (uint32_t p = 0; p < a->n_leaves; p++) {
            const float *c = a->centres + (size_t)p * d;
            double s = 0;
            for (size_t j = 0; j < d; j++) s += (double)c[j] * c[j];
            a->centre_norm2[p] = (float)s;
        }
    }
    free(a->cbt);
    a->cbt = sl_malloc_array(nb ? nb * dpb : 1, 16 * sizeof(float));
    if (!a->cbt) return sl_fail(SL_ERR_NOMEM, "index: out of memory");
    for (size_t b = 0; b < nb; b++)
        for (size_t t = 0; t < dpb; t++)
            for (size_t j = 0; j < 16; j++) a->cbt[(b * dpb + t) * 16 + j] = a->pq.centres[(b * 16 + j) * dpb + t];
    return SL_OK;
}

float sl_ann_item_norm(const sl_ann *a, uint32_t leaf, const uint8_t *codes) {
    const size_t dpb = a->pq.dpb, nb = a->pq.n_blocks, d = a->dim;
    const float *c = a->centres + (size_t)leaf * d;
    double s = 0;
    for (size_t b = 0; b < nb; b++) {
        const size_t j0 = b * dpb, w = d - j0 < dpb ? d - j0 : dpb;
        const float *r = a->pq.centres + (b * 16 + (codes[b] & 15u)) * dpb;
        for (size_t t = 0; t < w; t++) {
            const double v = (double)c[j0 + t] + r[t];
            s += v * v;
        }
    }
    return (float)s;
}

sl_status sl_ann_prepare_leaves(sl_ann *a) {
    if (!sl_ann_has_xnorm(a) || a->o.brute_force) return SL_OK;
    const size_t nb = a->pq.n_blocks;
    uint8_t *codes = sl_malloc_array(nb, 1);
    if (!codes) return sl_fail(SL_ERR_NOMEM, "index: out of memory");
    for (uint32_t p = 0; p < a->n_leaves; p++) {
        ann_leaf *l = &a->leaves[p];
        if (!l->n) continue;
        if (!l->xnorm) {
            l->xnorm = sl_malloc_array(l->cap, sizeof *l->xnorm);
            if (!l->xnorm) {
                free(codes);
                return sl_fail(SL_ERR_NOMEM, "index: out of memory");
            }
        }
        for (size_t i = 0; i < l->n; i++) {
            for (size_t b = 0; b < nb; b++) codes[b] = sl_lut16_get(l->packed, nb, i, b);
            l->xnorm[i] = sl_ann_item_norm(a, p, codes);
        }
    }
    free(codes);
    return SL_OK;
}

/* A seeded partial Fisher-Yates shuffle: the first m of a permutation. */
static size_t *sample_rows(size_t n, size_t m, uint64_t seed) {
    size_t *idx = sl_malloc_array(n, sizeof *idx);
    if (!idx) return NULL;
    for (size_t i = 0; i < n; i++) idx[i] = i;
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < m; i++) {
        s ^= s >> 12, s ^= s << 25, s ^= s >> 27; /* xorshift64* */
        size_t j = i + (size_t)((s * 0x2545F4914F6CDD1Dull) % (n - i));
        size_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    return idx;
}

static sl_status check_input(const float *x, const int64_t *ids, size_t n, size_t dim, const sl_ann_opts *o) {
    if (!o || !dim || (n && (!x || !ids))) return sl_fail(SL_ERR_ARG, "index build: NULL argument or dim 0");
    if (dim > 65536) return sl_fail(SL_ERR_LIMIT, "index build: dimension %zu above 65536", dim);
    if (o->metric != SL_ANN_DOT && o->metric != SL_ANN_L2) return sl_fail(SL_ERR_ARG, "index build: unknown metric");
    if (o->store > SL_ANN_STORE_I8) return sl_fail(SL_ERR_ARG, "index build: unknown vector store");
    if (!o->brute_force) {
        if (o->num_leaves < 1 || o->num_leaves > n)
            return sl_fail(SL_ERR_ARG, "index build: %u leaves for %zu items", o->num_leaves, n);
        if (o->dims_per_block < 1 || o->dims_per_block > dim || o->dims_per_block > 32)
            return sl_fail(SL_ERR_ARG, "index build: dims_per_block %u (1..min(dim, 32))", o->dims_per_block);
        if ((dim + o->dims_per_block - 1) / o->dims_per_block > 4096)
            return sl_fail(SL_ERR_LIMIT, "index build: more than 4096 blocks");
    }
    for (size_t i = 0; i < n * dim; i++)
        if (!isfinite(x[i])) return sl_fail(SL_ERR_ARG, "index build: vector %zu is not finite", i / dim);
    return SL_OK;
}

/* Trains the leaves and the codebooks on a sample of the items. */
static sl_status train(sl_ann *a, const float *x, size_t n, sl_pool *pool) {
    const size_t d = a->dim;
    size_t m = a->o.training_sample_size && a->o.training_sample_size < n ? a->o.training_sample_size : n;
    size_t *idx = sample_rows(n, m, a->o.seed);
    float *sx = sl_malloc_array(m, d * sizeof *sx);
    uint32_t *assign = sl_malloc_array(m, sizeof *assign);
    float *res = sl_malloc_array(m, d * sizeof *res);
    float *dirs = a->eta > 1 ? sl_malloc_array(m, d * sizeof *dirs) : NULL;
    sl_status st = SL_OK;
    if (!idx || !sx || !assign || !res || (a->eta > 1 && !dirs)) st = sl_fail(SL_ERR_NOMEM, "index build: out of memory");
    for (size_t i = 0; !st && i < m; i++) memcpy(sx + i * d, x + idx[i] * d, d * sizeof *sx);
    const double t0 = sl_now();
    if (!st) {
        sl_kmeans_opts ko;
        sl_kmeans_opts_init(&ko);
        ko.k = a->n_leaves;
        ko.iters = a->o.kmeans_iters;
        ko.spherical = a->o.spherical;
        ko.seed = a->o.seed;
        st = sl_kmeans_train(sx, m, d, &ko, pool, a->centres);
    }
    for (uint32_t p = 0; !st && p < a->n_leaves; p++) {
        const float *c = a->centres + (size_t)p * d;
        double s = 0;
        for (size_t j = 0; j < d; j++) s += (double)c[j] * c[j];
        a->centre_norm2[p] = (float)s; /* sl_ann_prepare recomputes it the same way */
    }
    if (!st) st = sl_kmeans_assign(sx, m, d, a->centres, a->n_leaves, a->o.spherical, pool, assign, NULL);
    for (size_t i = 0; !st && i < m; i++)
        residual(sx + i * d, a->centres + (size_t)assign[i] * d, d, res + i * d, dirs ? dirs + i * d : NULL);
    const double t1 = sl_now();
    /* 16 centres a block need far fewer points than the leaves do (faiss
     * asks for 39-256 per centre): the first part of the (random) sample
     * is plenty, and the codebook rounds cost in proportion to it. */
    const size_t m_pq = m < SL_ANN_CODEBOOK_SAMPLE ? m : SL_ANN_CODEBOOK_SAMPLE;
    if (!st)
        st = sl_ah_train(res, dirs, m_pq, d, a->o.dims_per_block, a->eta, a->o.ah_iters, a->o.seed, pool, &a->pq);
    sl_log(SL_LOG_DEBUG, "index build: %zu training items, k-means %.2f s, codebooks %.2f s", m, t1 - t0,
           sl_now() - t1);
    free(idx);
    free(sx);
    free(assign);
    free(res);
    free(dirs);
    return st;
}

/* Puts every item in its leaf, in input order within a leaf. */
static sl_status fill(sl_ann *a, const float *x, const int64_t *ids, size_t n, sl_pool *pool) {
    const size_t d = a->dim, nb = a->pq.n_blocks;
    uint32_t *leaf = sl_calloc_array(n ? n : 1, sizeof *leaf);
    uint8_t *codes = nb ? sl_malloc_array(n ? n : 1, nb) : NULL;
    size_t *count = sl_calloc_array(a->n_leaves, sizeof *count);
    sl_status st = leaf && (!nb || codes) && count ? SL_OK : sl_fail(SL_ERR_NOMEM, "index build: out of memory");
    if (!st && a->centres && a->n_leaves > 1)
        st = sl_kmeans_assign(x, n, d, a->centres, a->n_leaves, a->o.spherical, pool, leaf, NULL);
    const double t0 = sl_now();
    if (!st && nb) st = sl_ann_encode(a, x, leaf, n, codes);
    sl_log(SL_LOG_DEBUG, "index build: assigning and encoding %zu items %.2f s", n, sl_now() - t0);
    for (size_t i = 0; !st && i < n; i++) count[leaf[i]]++;
    for (uint32_t p = 0; !st && p < a->n_leaves; p++) st = sl_ann_leaf_reserve(a, &a->leaves[p], count[p]);
    if (!st) st = sl_ann_map_init(&a->map, n);
    for (size_t i = 0; !st && i < n; i++) {
        ann_leaf *l = &a->leaves[leaf[i]];
        size_t pos = l->n++;
        st = sl_ann_map_put(&a->map, ids[i], leaf[i], (uint32_t)pos);
        if (st) break;
        l->ids[pos] = ids[i];
        for (size_t b = 0; b < nb; b++) sl_lut16_set(l->packed, nb, pos, b, codes[i * nb + b]);
        sl_ann_store_put(a, l, pos, x + i * d);
        if (l->xnorm) l->xnorm[pos] = sl_ann_item_norm(a, leaf[i], codes + i * nb);
    }
    a->count = st ? 0 : n;
    free(leaf);
    free(codes);
    free(count);
    return st;
}

sl_status sl_ann_build(const float *x, const int64_t *ids, size_t n, size_t dim, const sl_ann_opts *o,
                       sl_ann **out) {
    if (!out) return sl_fail(SL_ERR_ARG, "index build: NULL output");
    *out = NULL;
    sl_status st = check_input(x, ids, n, dim, o);
    if (st) return st;
    sl_ann *a = calloc(1, sizeof *a);
    if (!a) return sl_fail(SL_ERR_NOMEM, "index build: out of memory");
    a->o = *o;
    a->dim = dim;
    if (a->o.brute_force) {
        a->o.num_leaves = a->o.num_leaves_to_search = 1;
        a->o.store = SL_ANN_STORE_F32; /* the scan reads the exact vectors */
        a->o.reorder_k = 0;
    }
    a->n_leaves = a->o.num_leaves;
    if (!a->o.num_leaves_to_search || a->o.num_leaves_to_search > a->n_leaves) a->o.num_leaves_to_search = a->n_leaves;
    a->eta = o->metric == SL_ANN_DOT && !a->o.brute_force ? sl_ah_eta(dim, o->aniso_threshold) : 1.0f;
    a->leaves = calloc(a->n_leaves, sizeof *a->leaves);
    if (!a->leaves) st = sl_fail(SL_ERR_NOMEM, "index build: out of memory");
    sl_pool *pool = NULL;
    if (!st && o->n_threads > 1) st = sl_pool_new(o->n_threads, &pool);
    if (!st && !a->o.brute_force) {
        a->centres = sl_malloc_array(a->n_leaves, dim * sizeof *a->centres);
        a->centre_norm2 = sl_malloc_array(a->n_leaves, sizeof *a->centre_norm2);
        if (!a->centres || !a->centre_norm2) st = sl_fail(SL_ERR_NOMEM, "index build: out of memory");
        if (!st) st = train(a, x, n, pool);
    }
    if (!st && !a->o.brute_force) st = sl_ann_prepare(a);
    if (!st) st = fill(a, x, ids, n, pool);
    a->build_mean_leaf = a->n_leaves ? (double)n / a->n_leaves : 0;
    sl_pool_free(pool);
    if (st) {
        sl_ann_free(a);
        return st;
    }
    *out = a;
    return SL_OK;
}

void sl_ann_free(sl_ann *a) {
    if (!a) return;
    for (uint32_t p = 0; a->leaves && p < a->n_leaves; p++) sl_ann_leaf_free(&a->leaves[p]);
    free(a->leaves);
    if (a->tables_borrowed) { /* they live in the mapped snapshot */
        a->centres = a->centre_norm2 = NULL;
        a->pq.centres = NULL;
    }
    free(a->centres);
    free(a->centre_norm2);
    free(a->cbt);
    sl_pq_free(&a->pq);
    sl_mmap_close(&a->file);
    sl_ann_map_free(&a->map);
    free(a);
}

size_t sl_ann_bytes(const sl_ann *a) {
    if (!a) return 0;
    const size_t nb = a->pq.n_blocks, row = sl_ann_store_row_bytes(a->o.store, a->dim);
    size_t bytes = sizeof *a + a->n_leaves * (sizeof(ann_leaf) + (a->dim + 1) * sizeof(float)) +
                   nb * 16 * a->pq.dpb * sizeof(float) + (a->map.mask + 1) * sizeof(ann_slot);
    for (uint32_t p = 0; p < a->n_leaves; p++) {
        const ann_leaf *l = &a->leaves[p];
        bytes += l->cap * (sizeof(int64_t) + row + (l->scales ? sizeof(float) : 0) + (l->xnorm ? sizeof(float) : 0));
        if (nb) bytes += sl_lut16_packed_size(l->cap, nb);
    }
    return bytes;
}

size_t sl_ann_count(const sl_ann *a) { return a ? a->count : 0; }
size_t sl_ann_dim(const sl_ann *a) { return a ? a->dim : 0; }
const sl_ann_opts *sl_ann_options(const sl_ann *a) { return a ? &a->o : NULL; }
