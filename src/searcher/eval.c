/* Retrieval metrics: one row of the caption x image score matrix at a time,
 * rows shared out over the pool. */
#include "eval.h"
#include "index/flat.h"

#include <stdlib.h>
#include <string.h>

typedef struct eval_job {
    const float *img, *cap;
    size_t n_img, n_cap, dim;
    const uint32_t *cap_img;
    uint32_t *t2i_rank;     /* (n_cap) */
    uint32_t *i2t_best;     /* (n_img) best caption rank, computed per image */
    float *scratch;         /* (threads, max(n_img, n_cap)) */
    size_t scratch_stride;
} eval_job;

static uint32_t rank_of(const float *scores, size_t n, size_t own) {
    uint32_t r = 1;
    for (size_t j = 0; j < n; j++)
        r += scores[j] > scores[own] || (scores[j] == scores[own] && j < own);
    return r;
}

static void t2i_task(void *ctx, size_t a, int thread) {
    eval_job *j = ctx;
    float *s = j->scratch + (size_t)thread * j->scratch_stride;
    sl_dot_rows(j->cap + a * j->dim, j->img, j->n_img, j->dim, s);
    j->t2i_rank[a] = rank_of(s, j->n_img, j->cap_img[a]);
}

static void i2t_task(void *ctx, size_t i, int thread) {
    eval_job *j = ctx;
    float *s = j->scratch + (size_t)thread * j->scratch_stride;
    sl_dot_rows(j->img + i * j->dim, j->cap, j->n_cap, j->dim, s);
    uint32_t best = 0;
    for (size_t a = 0; a < j->n_cap; a++)
        if (j->cap_img[a] == i) {
            uint32_t r = rank_of(s, j->n_cap, a);
            if (!best || r < best) best = r;
        }
    j->i2t_best[i] = best; /* 0: the image has no caption */
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

void sl_eval_summarize(uint32_t *ranks, size_t n, sl_recall *out) {
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (ranks[i]) ranks[m++] = ranks[i];
    memset(out, 0, sizeof *out);
    out->n_queries = m;
    if (!m) return;
    qsort(ranks, m, sizeof *ranks, cmp_u32);
    size_t c1 = 0, c5 = 0, c10 = 0;
    for (size_t i = 0; i < m; i++) {
        c1 += ranks[i] <= 1;
        c5 += ranks[i] <= 5;
        c10 += ranks[i] <= 10;
    }
    out->r1 = (double)c1 / m;
    out->r5 = (double)c5 / m;
    out->r10 = (double)c10 / m;
    out->median_rank = m % 2 ? ranks[m / 2] : 0.5 * ((double)ranks[m / 2 - 1] + ranks[m / 2]);
}

sl_status sl_eval_retrieval(const float *img, size_t n_img, const float *cap, size_t n_cap,
                            const uint32_t *cap_img, size_t dim, sl_pool *pool, sl_recall *t2i,
                            sl_recall *i2t) {
    if (!img || !cap || !cap_img || !n_img || !n_cap || !dim || !t2i || !i2t)
        return sl_fail(SL_ERR_ARG, "eval: empty image or caption set");
    for (size_t a = 0; a < n_cap; a++)
        if (cap_img[a] >= n_img) return sl_fail(SL_ERR_ARG, "eval: caption %zu has no image", a);
    int threads = sl_pool_threads(pool);
    eval_job j = {img, cap, n_img, n_cap, dim, cap_img, NULL, NULL, NULL, SL_MAX(n_img, n_cap)};
    j.t2i_rank = sl_malloc_array(n_cap, sizeof *j.t2i_rank);
    j.i2t_best = sl_malloc_array(n_img, sizeof *j.i2t_best);
    j.scratch = sl_malloc_array((size_t)threads * j.scratch_stride, sizeof *j.scratch);
    sl_status st = SL_OK;
    if (!j.t2i_rank || !j.i2t_best || !j.scratch) {
        st = sl_fail(SL_ERR_NOMEM, "eval: out of memory");
    } else {
        sl_pool_run(pool, n_cap, t2i_task, &j);
        sl_pool_run(pool, n_img, i2t_task, &j);
        sl_eval_summarize(j.t2i_rank, n_cap, t2i);
        sl_eval_summarize(j.i2t_best, n_img, i2t);
    }
    free(j.t2i_rank);
    free(j.i2t_best);
    free(j.scratch);
    return st;
}
