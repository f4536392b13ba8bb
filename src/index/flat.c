/* Threaded exact search: rows are scored in blocks, each thread keeps its
 * own top-k, and the per-thread lists are merged under the same total
 * order (score, then index), so the answer does not depend on how blocks
 * were shared out. */
#include "flat.h"

#include <stdlib.h>
#include <string.h>

#define FLAT_BLOCK 2048 /* rows scored per task: 8 KB of scores on the stack */

typedef struct flat_job {
    const float *x, *q;
    size_t n, dim;
    sl_topk *per_thread;
} flat_job;

static void flat_task(void *ctx, size_t task, int thread) {
    const flat_job *j = ctx;
    size_t begin = task * FLAT_BLOCK;
    size_t count = SL_MIN((size_t)FLAT_BLOCK, j->n - begin);
    float scores[FLAT_BLOCK];
    sl_dot_rows(j->q, j->x + begin * j->dim, count, j->dim, scores);
    sl_topk *t = &j->per_thread[thread];
    for (size_t i = 0; i < count; i++) {
        sl_hit h = {(int64_t)(begin + i), scores[i]};
        sl_topk_push(t, h);
    }
}

size_t sl_flat_search(const float *x, size_t n, size_t dim, const float *q, size_t k,
                      sl_pool *pool, sl_hit *out, sl_status *status) {
    if (status) *status = SL_OK;
    if (k == 0 || n == 0) return 0;
    k = SL_MIN(k, n);
    size_t n_tasks = (n + FLAT_BLOCK - 1) / FLAT_BLOCK;
    sl_topk_set set;
    sl_status st = sl_topk_set_init(&set, n_tasks > 1 ? sl_pool_threads(pool) : 1, k);
    if (st) {
        if (status) *status = st;
        return 0;
    }
    flat_job job = {x, q, n, dim, set.lists};
    sl_pool_run(set.n_threads > 1 ? pool : NULL, n_tasks, flat_task, &job);
    return sl_topk_set_merge(&set, out);
}
