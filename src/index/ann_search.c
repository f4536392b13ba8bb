/* Searching: rank the leaves by their centres, score the chosen leaves'
 * codes with one uint8 lookup table per query (32 points at a time,
 * lut16.c; for L2 plus each item's own term), keep the best candidates in
 * a bounded heap, then re-order them by their exact vectors. */
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

    /* 2. approximate scores of their items. One table for every leaf:
     * for the dot metric q . x_hat = q . c + sum_b q_b . C_b[code_b]; for
     * L2, with x_hat = c + r_hat (r_hat the decoded residual),
     *     -||q - x_hat||^2 = 2 q.c - ||q||^2 + sum_b 2 q_b . C_b[code_b]
     *                        - ||x_hat||^2,
     * where the last term is the item's own (ann_leaf.xnorm) and 2 q.c
     * comes with the leaf ranking. Per-leaf tables of -||q - c - C||^2
     * give the same float score but cost a table and its quantization per
     * leaf searched, which was most of a query at 784 dimensions. */
    cand_heap heap = {heap_mem, 0, keep};
    float scale = 1, offset = 0, qnorm = 0;
    const int l2 = a->o.metric == SL_ANN_L2;
    sl_lut16_tables(q, d, a->pq.dpb, a->cbt, l2 ? 2.0f : 1.0f, lut);
    offset = sl_lut16_quantize(lut, nb, lut8, &scale, lut_lo);
    if (l2)
        for (size_t j = 0; j < d; j++) qnorm += q[j] * q[j];
    for (size_t c = 0; c < n_chosen; c++) {
        const uint32_t p = (uint32_t)chosen[c].index;
        const ann_leaf *l = &a->leaves[p];
        if (!l->n) continue;
        /* the leaf's score is q . c, or 2 q . c - ||c||^2 */
        const float base = l2 ? chosen[c].score + a->centre_norm2[p] - qnorm + offset : chosen[c].score + offset;
        const size_t groups = (l->n + SL_LUT16_GROUP - 1) / SL_LUT16_GROUP;
        if (l2) {
            /* The per-item term spreads the scores too widely for a useful
             * threshold on the table sums alone (one with the leaf's
             * smallest item term let most items through and cost more in
             * heap pushes than it saved): score every item, then filter
             * in float. cand_i's memory holds the float scores. */
            sl_lut16_scan(l->packed, groups, nb, lut8, cand_s);
            float *sc = (float *)cand_i;
            for (size_t i = 0; i < l->n; i++) sc[i] = base + scale * (float)cand_s[i] - l->xnorm[i];
            float floor = heap.n < heap.cap ? -INFINITY : heap.h[0].score;
            for (size_t i = 0; i < l->n; i++)
                if (sc[i] > floor) {
                    heap_push(&heap, (cand){sc[i], p, (uint32_t)i});
                    if (heap.n == heap.cap) floor = heap.h[0].score;
                }
            continue;
        }
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
    /* the rows are scattered over the store (3 KB each at 784-d): ask for
     * the next ones while scoring one, so that their misses overlap */
    enum { AHEAD = 2 };
    for (size_t i = 0; reorder && i < heap.n && i < AHEAD; i++)
        sl_ann_store_prefetch(a, &a->leaves[heap.h[i].leaf], heap.h[i].pos);
    for (size_t i = 0; i < heap.n; i++) {
        const cand *c = &heap.h[i];
        const ann_leaf *l = &a->leaves[c->leaf];
        if (reorder && i + AHEAD < heap.n)
            sl_ann_store_prefetch(a, &a->leaves[heap.h[i + AHEAD].leaf], heap.h[i + AHEAD].pos);
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
