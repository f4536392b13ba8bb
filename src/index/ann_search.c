/* Searching: rank the leaves by their centres, score the chosen leaves'
 * codes with uint8 lookup tables (32 points at a time, lut16.c), keep the
 * best candidates in a bounded heap, then re-order them by their exact
 * vectors. */
#include "ann_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct cand {
    float score;
    uint32_t leaf, pos;
} cand;

/* A bounded min-heap of candidates: the root is the weakest kept. */
typedef struct cand_heap {
    cand *h;
    size_t n, cap;
} cand_heap;

static void heap_push(cand_heap *hp, cand c) {
    cand *h = hp->h;
    if (hp->n == hp->cap) {
        if (c.score <= h[0].score) return;
        size_t i = 0; /* replace the root and sift down */
        for (;;) {
            size_t l = 2 * i + 1, r = l + 1, m = i;
            float ms = c.score;
            if (l < hp->n && h[l].score < ms) m = l, ms = h[l].score;
            if (r < hp->n && h[r].score < ms) m = r;
            if (m == i) break;
            h[i] = h[m];
            i = m;
        }
        h[i] = c;
        return;
    }
    size_t i = hp->n++;
    while (i && h[(i - 1) / 2].score > c.score) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = c;
}

/* Field by field over zeroed memory, so that the padding inside sl_hit is
 * zero too: callers may compare results bytewise (memcmp). */
static void copy_hits(sl_hit *out, const sl_hit *from, size_t n) {
    memset(out, 0, n * sizeof *out);
    for (size_t i = 0; i < n; i++) {
        out[i].index = from[i].index;
        out[i].score = from[i].score;
    }
}

/* Brute force: the exact score of every item. */
static size_t search_exact(const sl_ann *a, const float *q, size_t k, sl_hit *out, sl_status *status) {
    const ann_leaf *l = &a->leaves[0];
    sl_hit *store = sl_malloc_array(k, sizeof *store);
    if (!store) {
        if (status) *status = sl_fail(SL_ERR_NOMEM, "index search: out of memory");
        return 0;
    }
    sl_topk t;
    sl_topk_init(&t, store, k);
    enum { BLOCK = 256 };
    float s[BLOCK];
    for (size_t r = 0; r < l->n; r += BLOCK) {
        size_t m = l->n - r < BLOCK ? l->n - r : BLOCK;
        if (a->o.metric == SL_ANN_DOT) sl_dot_rows(q, (const float *)l->vecs + r * a->dim, m, a->dim, s);
        else
            for (size_t i = 0; i < m; i++) s[i] = sl_ann_store_score(a, l, r + i, q);
        for (size_t i = 0; i < m; i++) sl_topk_push(&t, (sl_hit){l->ids[r + i], s[i]});
    }
    size_t n = sl_topk_finish(&t);
    copy_hits(out, store, n);
    free(store);
    return n;
}

/* Quickselect over the whole list, then a sort of the kept few: cheaper
 * than pushing every leaf through a heap (which showed up at 15 % of a
 * query). Order: higher score first, then the lower leaf (deterministic). */
static void select_range(sl_hit *h, size_t lo, size_t hi, size_t k) {
    /* Lomuto partition around the middle element: hits are all distinct
     * under sl_hit_before (distinct leaves), so every round shrinks. */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2, store = lo;
        sl_hit t = h[mid];
        h[mid] = h[hi - 1];
        h[hi - 1] = t;
        const sl_hit pivot = h[hi - 1];
        for (size_t i = lo; i < hi - 1; i++)
            if (sl_hit_before(h[i], pivot)) {
                t = h[i];
                h[i] = h[store];
                h[store++] = t;
            }
        h[hi - 1] = h[store];
        h[store] = pivot;
        if (k == store) return;
        if (k < store) hi = store;
        else lo = store + 1;
    }
}

static int hit_cmp(const void *pa, const void *pb) {
    sl_hit a = *(const sl_hit *)pa, b = *(const sl_hit *)pb;
    return sl_hit_before(a, b) ? -1 : sl_hit_before(b, a) ? 1 : 0;
}

/* The k best of n leaves, best first, into the first k entries of all
 * (n entries: the query's buffer, so nothing is allocated here). */
static size_t select_leaves(const float *score, size_t n, size_t k, sl_hit *all) {
    for (size_t p = 0; p < n; p++) all[p] = (sl_hit){(int64_t)p, score[p]};
    if (k < n) select_range(all, 0, n, k - 1);
    qsort(all, k, sizeof *all, hit_cmp);
    return k;
}

/* Float tables (n_blocks, 16) to uint8: value = offset_b + scale * u8, one
 * scale for all blocks so that the integer sums add up; returns the sum of
 * the offsets. */
static float quantize_lut(const float *lut, size_t nb, uint8_t *lut8, float *scale, float *lo) {
    /* plain comparisons: fminf/fmaxf are library calls at -O2 */
    float span = 0, offset = 0;
    for (size_t b = 0; b < nb; b++) {
        float l = lut[b * 16], h = l;
        for (int j = 1; j < 16; j++) {
            float v = lut[b * 16 + j];
            l = v < l ? v : l;
            h = v > h ? v : h;
        }
        lo[b] = l;
        span = h - l > span ? h - l : span;
    }
    const float s = span > 0 ? span / 255.0f : 1.0f, inv = 1.0f / s;
    for (size_t b = 0; b < nb; b++) {
        offset += lo[b];
        for (int j = 0; j < 16; j++) {
            /* in [0, 255.5) by construction: round half up */
            /* written so that a NaN (overflowing inputs) becomes 0, never UB */
            float f = (lut[b * 16 + j] - lo[b]) * inv + 0.5f;
            lut8[b * 16 + j] = (uint8_t)(!(f > 0) ? 0 : f >= 255 ? 255 : (int)f);
        }
    }
    *scale = s;
    return offset;
}

/* Dot metric: lut[b][j] = q_b . C_b[j], the same for every leaf. L2: the
 * residual query r = q - c_p, lut[b][j] = -|r_b - C_b[j]|^2, per leaf. */
static void build_lut(const sl_ann *a, const float *q, const float *centre, float *lut) {
    const size_t dpb = a->pq.dpb, nb = a->pq.n_blocks;
    for (size_t b = 0; b < nb; b++) {
        const size_t j0 = b * dpb, w = a->dim - j0 < dpb ? a->dim - j0 : dpb;
        float acc[16] = {0}; /* the 16 entries side by side: one vector each step */
        for (size_t t = 0; t < w; t++) {
            const float *ct = a->cbt + (b * dpb + t) * 16;
            if (centre) {
                const float r = q[j0 + t] - centre[j0 + t];
                for (int j = 0; j < 16; j++) acc[j] -= (r - ct[j]) * (r - ct[j]);
            } else {
                const float qt = q[j0 + t];
                for (int j = 0; j < 16; j++) acc[j] += qt * ct[j];
            }
        }
        memcpy(lut + b * 16, acc, sizeof acc);
    }
}

size_t sl_ann_search(const sl_ann *a, const float *q, size_t k, const sl_ann_query_opts *qo, sl_hit *out,
                     sl_status *status) {
    if (status) *status = SL_OK;
    if (!a || !q || !out || !k || !a->count) return 0;
    if (k > a->count) k = a->count;
    if (a->o.brute_force) return search_exact(a, q, k, out, status);

    const size_t nb = a->pq.n_blocks, d = a->dim;
    uint32_t n_search = qo && qo->leaves_to_search ? qo->leaves_to_search : a->o.num_leaves_to_search;
    if (n_search > a->n_leaves) n_search = a->n_leaves;
    size_t reorder = qo && qo->reorder_k ? qo->reorder_k : a->o.reorder_k;
    if (a->o.store == SL_ANN_STORE_NONE) reorder = 0;
    if (reorder > a->count) reorder = a->count; /* more cannot change the answer */
    const size_t keep = reorder > k ? reorder : k;
    size_t biggest = 0;
    for (uint32_t p = 0; p < a->n_leaves; p++)
        if (a->leaves[p].cap > biggest) biggest = a->leaves[p].cap;

    /* One allocation for every per-query buffer, 8-byte items first so
     * that every array is aligned for its type. */
    size_t bytes = (a->n_leaves + keep) * sizeof(sl_hit) + (a->n_leaves + nb * 17) * sizeof(float) +
                   keep * sizeof(cand) + biggest * 2 * sizeof(uint32_t) + nb * 16;
    uint8_t *mem = malloc(bytes);
    if (!mem) {
        if (status) *status = sl_fail(SL_ERR_NOMEM, "index search: out of memory");
        return 0;
    }
    sl_hit *chosen = (sl_hit *)mem;             // (n_leaves), the best n_search first
    sl_hit *final = chosen + a->n_leaves;       // (keep)
    float *leaf_score = (float *)(final + keep); // (n_leaves)
    float *lut = leaf_score + a->n_leaves;      // (nb, 16)
    float *lut_lo = lut + nb * 16;              // (nb)
    cand *heap_mem = (cand *)(lut_lo + nb);     // (keep)
    uint32_t *cand_i = (uint32_t *)(heap_mem + keep), *cand_s = cand_i + biggest; // (biggest) each
    uint8_t *lut8 = (uint8_t *)(cand_s + biggest); // (nb, 16)

    /* 1. the leaves whose centres score best */
    sl_dot_rows(q, a->centres, a->n_leaves, d, leaf_score);
    if (a->o.metric == SL_ANN_L2)
        for (uint32_t p = 0; p < a->n_leaves; p++) leaf_score[p] = 2 * leaf_score[p] - a->centre_norm2[p];
    size_t n_chosen = select_leaves(leaf_score, a->n_leaves, n_search, chosen);

    /* 2. approximate scores of their items */
    cand_heap heap = {heap_mem, 0, keep};
    float scale = 1, offset = 0;
    if (a->o.metric == SL_ANN_DOT) {
        build_lut(a, q, NULL, lut);
        offset = quantize_lut(lut, nb, lut8, &scale, lut_lo);
    }
    for (size_t c = 0; c < n_chosen; c++) {
        const uint32_t p = (uint32_t)chosen[c].index;
        const ann_leaf *l = &a->leaves[p];
        if (!l->n) continue;
        float base;
        if (a->o.metric == SL_ANN_DOT) {
            base = chosen[c].score + offset; /* the leaf's score is q . centre */
        } else {
            build_lut(a, q, a->centres + (size_t)p * d, lut);
            base = quantize_lut(lut, nb, lut8, &scale, lut_lo);
        }
        const size_t groups = (l->n + SL_LUT16_GROUP - 1) / SL_LUT16_GROUP;
        size_t m;
        if (heap.n < heap.cap) { /* not full yet: every item is a candidate */
            sl_lut16_scan(l->packed, groups, nb, lut8, cand_s);
            for (size_t i = 0; i < l->n; i++) cand_i[i] = (uint32_t)i;
            m = l->n;
        } else { /* only what beats the weakest kept candidate */
            float t = (heap.h[0].score - base) / scale;
            uint32_t threshold = !(t > 0) ? 0 : t >= 4e9f ? UINT32_MAX : (uint32_t)t; /* NaN -> 0 */
            m = sl_lut16_scan_above(l->packed, groups, nb, lut8, threshold, cand_i, cand_s);
        }
        for (size_t i = 0; i < m && cand_i[i] < l->n; i++)
            heap_push(&heap, (cand){base + scale * (float)cand_s[i], p, cand_i[i]});
    }

    /* 3. exact re-ordering of the kept candidates, or their approximations */
    sl_topk ft;
    sl_topk_init(&ft, final, k);
    for (size_t i = 0; i < heap.n; i++) {
        const cand *c = &heap.h[i];
        const ann_leaf *l = &a->leaves[c->leaf];
        float s = reorder ? sl_ann_store_score(a, l, c->pos, q) : c->score;
        sl_topk_push(&ft, (sl_hit){l->ids[c->pos], s});
    }
    size_t n = sl_topk_finish(&ft);
    copy_hits(out, final, n);
    free(mem);
    return n;
}

typedef struct batch_job {
    const sl_ann *a;
    const float *qs;
    size_t k;
    const sl_ann_query_opts *qo;
    sl_hit *out;
    size_t *counts;
    int failed; /* any query ran out of memory */
} batch_job;

static void batch_task(void *ctx, size_t i, int thread) {
    (void)thread;
    batch_job *j = ctx;
    sl_status st;
    j->counts[i] = sl_ann_search(j->a, j->qs + i * j->a->dim, j->k, j->qo, j->out + i * j->k, &st);
    if (st) __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
}

sl_status sl_ann_search_batch(const sl_ann *a, const float *qs, size_t nq, size_t k, const sl_ann_query_opts *qo,
                              sl_pool *pool, sl_hit *out, size_t *counts) {
    if (!a || (nq && (!qs || !out || !counts))) return sl_fail(SL_ERR_ARG, "index search: NULL argument");
    batch_job j = {a, qs, k, qo, out, counts, 0};
    if (pool) sl_pool_run(pool, nq, batch_task, &j);
    else
        for (size_t i = 0; i < nq; i++) batch_task(&j, i, 0);
    return j.failed ? sl_fail(SL_ERR_NOMEM, "index search: out of memory in a batch") : SL_OK;
}
