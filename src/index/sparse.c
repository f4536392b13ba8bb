/* Sparse exact search: per thread a top-k over blocks of rows, merged
 * under the total order of sl_hit_before. */
#include "sparse.h"

#include <stdlib.h>
#include <string.h>

sl_status sl_sparse_from_dense(const float *x, size_t n, size_t dim, sl_sparse_rows *out) {
    memset(out, 0, sizeof *out);
    if ((!x && n) || dim == 0 || dim > 65536) return sl_fail(SL_ERR_ARG, "sparse: bad matrix (dim %zu)", dim);
    size_t nnz = 0;
    for (size_t i = 0; i < n * dim; i++) nnz += x[i] != 0.0f;
    if (nnz > UINT32_MAX) return sl_fail(SL_ERR_LIMIT, "sparse: %zu non-zero values", nnz);
    uint32_t *first = sl_malloc_array(n + 1, sizeof *first);
    uint16_t *col = sl_malloc_array(nnz ? nnz : 1, sizeof *col);
    float *val = sl_malloc_array(nnz ? nnz : 1, sizeof *val);
    if (!first || !col || !val) {
        free(first);
        free(col);
        free(val);
        return sl_fail(SL_ERR_NOMEM, "sparse: out of memory");
    }
    size_t p = 0;
    for (size_t i = 0; i < n; i++) {
        first[i] = (uint32_t)p;
        for (size_t j = 0; j < dim; j++)
            if (x[i * dim + j] != 0.0f) {
                col[p] = (uint16_t)j;
                val[p++] = x[i * dim + j];
            }
    }
    first[n] = (uint32_t)p;
    out->n = n;
    out->dim = dim;
    out->row_first = first;
    out->col = col;
    out->val = val;
    return SL_OK;
}

void sl_sparse_rows_free(sl_sparse_rows *s) {
    if (!s) return;
    free((void *)s->row_first);
    free((void *)s->col);
    free((void *)s->val);
    memset(s, 0, sizeof *s);
}

#define SPARSE_BLOCK 4096

typedef struct sparse_job {
    const sl_sparse_rows *s;
    const float *q;
    sl_topk *per_thread;
} sparse_job;

static void sparse_task(void *ctx, size_t task, int thread) {
    const sparse_job *j = ctx;
    const sl_sparse_rows *s = j->s;
    size_t begin = task * SPARSE_BLOCK, end = SL_MIN(s->n, begin + SPARSE_BLOCK);
    sl_topk *t = &j->per_thread[thread];
    for (size_t i = begin; i < end; i++) {
        sl_hit h = {(int64_t)i, sl_sparse_row_dot(s, i, j->q)};
        sl_topk_push(t, h);
    }
}

size_t sl_sparse_search(const sl_sparse_rows *s, const float *q, size_t k, sl_pool *pool, sl_hit *out,
                        sl_status *status) {
    if (status) *status = SL_OK;
    if (!k || !s->n) return 0;
    k = SL_MIN(k, s->n);
    size_t n_tasks = (s->n + SPARSE_BLOCK - 1) / SPARSE_BLOCK;
    sl_topk_set set;
    sl_status st = sl_topk_set_init(&set, n_tasks > 1 ? sl_pool_threads(pool) : 1, k);
    if (st) {
        if (status) *status = st;
        return 0;
    }
    sparse_job job = {s, q, set.lists};
    sl_pool_run(set.n_threads > 1 ? pool : NULL, n_tasks, sparse_task, &job);
    return sl_topk_set_merge(&set, out);
}
