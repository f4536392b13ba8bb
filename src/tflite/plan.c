/* Greedy arena planning by decreasing size (see plan.h). */
#include "plan.h"

#include <stdlib.h>

static int by_offset(const void *a, const void *b) {
    const sl_tfl_buf *x = *(const sl_tfl_buf *const *)a, *y = *(const sl_tfl_buf *const *)b;
    return x->offset < y->offset ? -1 : (x->offset > y->offset ? 1 : 0);
}

static size_t align_up(size_t x) {
    return (x + SL_TFL_ARENA_ALIGN - 1) & ~(size_t)(SL_TFL_ARENA_ALIGN - 1);
}

/* Largest first, then by index (stable and reentrant, unlike qsort with a
 * global comparison context). */
static void sort_order(size_t *order, size_t n, const sl_tfl_buf *bufs) {
    for (size_t i = 1; i < n; i++) {
        size_t v = order[i], j = i;
        while (j > 0) {
            size_t u = order[j - 1];
            int before = bufs[v].size > bufs[u].size || (bufs[v].size == bufs[u].size && v < u);
            if (!before) break;
            order[j] = u;
            j--;
        }
        order[j] = v;
    }
}

sl_status sl_tfl_plan(sl_tfl_buf *bufs, size_t n, size_t *arena_size) {
    *arena_size = 0;
    if (n == 0) return SL_OK;
    for (size_t i = 0; i < n; i++)
        if (bufs[i].size > SL_TFL_MAX_ARENA)
            return sl_fail(SL_ERR_LIMIT, "tflite: a %zu-byte activation exceeds the arena cap of %zu",
                           bufs[i].size, SL_TFL_MAX_ARENA);
    size_t *order = sl_malloc_array(n, sizeof *order);
    const sl_tfl_buf **live = sl_malloc_array(n, sizeof *live);
    if (!order || !live) {
        free(order);
        free(live);
        return sl_fail(SL_ERR_NOMEM, "tflite: out of memory planning activations");
    }
    for (size_t i = 0; i < n; i++) order[i] = i;
    sort_order(order, n, bufs);

    size_t total = 0;
    sl_status st = SL_OK;
    for (size_t k = 0; k < n; k++) {
        sl_tfl_buf *b = &bufs[order[k]];
        size_t n_live = 0;
        for (size_t j = 0; j < k; j++) {
            const sl_tfl_buf *o = &bufs[order[j]];
            if (o->first <= b->last && b->first <= o->last) live[n_live++] = o;
        }
        qsort(live, n_live, sizeof *live, by_offset);
        size_t off = 0;
        for (size_t j = 0; j < n_live; j++) {
            if (live[j]->offset >= off + b->size) break; /* the gap before it fits */
            size_t end = align_up(live[j]->offset + live[j]->size);
            if (end > off) off = end;
        }
        b->offset = off;
        if (off + b->size > SL_TFL_MAX_ARENA) {
            st = sl_fail(SL_ERR_LIMIT, "tflite: activations need more than the %zu-byte arena cap",
                         SL_TFL_MAX_ARENA);
            break;
        }
        if (align_up(off + b->size) > total) total = align_up(off + b->size);
    }
    free(order);
    free(live);
    if (!st) *arena_size = total;
    return st;
}
