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
