/* Top-k selection with a bounded min-heap ordered by sl_hit_before. */
#include "flat.h"

#include <stdlib.h>

/* heap[0] is the worst kept hit. */
static void sift_down(sl_hit *h, size_t n, size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && sl_hit_before(h[w], h[l])) w = l;
        if (r < n && sl_hit_before(h[w], h[r])) w = r;
        if (w == i) return;
        sl_hit t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}

static void sift_up(sl_hit *h, size_t i) {
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!sl_hit_before(h[p], h[i])) return;
        sl_hit t = h[i];
        h[i] = h[p];
        h[p] = t;
        i = p;
    }
}

void sl_topk_push(sl_topk *t, sl_hit h) {
    if (t->k == 0) return;
    if (t->n < t->k) {
        t->heap[t->n] = h;
        sift_up(t->heap, t->n++);
    } else if (sl_hit_before(h, t->heap[0])) {
        t->heap[0] = h;
        sift_down(t->heap, t->n, 0);
    }
}

static int cmp_hits(const void *a, const void *b) {
    sl_hit x = *(const sl_hit *)a, y = *(const sl_hit *)b;
    return sl_hit_before(x, y) ? -1 : (sl_hit_before(y, x) ? 1 : 0);
}

size_t sl_topk_finish(sl_topk *t) {
    qsort(t->heap, t->n, sizeof *t->heap, cmp_hits);
    return t->n;
}

sl_status sl_topk_set_init(sl_topk_set *set, int n_threads, size_t k) {
    set->lists = calloc((size_t)n_threads, sizeof *set->lists);
    set->store = sl_malloc_array((size_t)n_threads * (k ? k : 1), sizeof *set->store);
    if (!set->lists || !set->store) {
        free(set->lists);
        free(set->store);
        set->lists = NULL;
        set->store = NULL;
        return sl_fail(SL_ERR_NOMEM, "search: out of memory for %zu results", k);
    }
    set->n_threads = n_threads;
    set->k = k;
    for (int t = 0; t < n_threads; t++) sl_topk_init(&set->lists[t], set->store + (size_t)t * k, k);
    return SL_OK;
}

size_t sl_topk_set_merge(sl_topk_set *set, sl_hit *out) {
    sl_topk merged;
    sl_topk_init(&merged, out, set->k);
    for (int t = 0; t < set->n_threads; t++)
        for (size_t i = 0; i < set->lists[t].n; i++) sl_topk_push(&merged, set->lists[t].heap[i]);
    free(set->lists);
    free(set->store);
    set->lists = NULL;
    set->store = NULL;
    return sl_topk_finish(&merged);
}
