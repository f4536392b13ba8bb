/* Posting lists and the exact max-score search over them (postings.h). */
#include "postings.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

sl_status sl_postings_build(const sl_sparse_rows *rows, sl_postings *out) {
    if (!out) return sl_fail(SL_ERR_ARG, "postings: NULL argument");
    memset(out, 0, sizeof *out);
    if (!rows || rows->dim == 0 || (rows->n && !rows->row_first))
        return sl_fail(SL_ERR_ARG, "postings: bad rows");
    if (rows->n > UINT32_MAX) return sl_fail(SL_ERR_LIMIT, "postings: %zu rows (at most 2^32-1)", rows->n);
    const size_t dim = rows->dim, nnz = rows->n ? rows->row_first[rows->n] : 0;
    uint32_t *first = calloc(dim + 1, sizeof *first);
    uint32_t *row = sl_malloc_array(nnz ? nnz : 1, sizeof *row);
    float *max = calloc(dim, sizeof *max);
    if (!first || !row || !max) {
        free(first);
        free(row);
        free(max);
        return sl_fail(SL_ERR_NOMEM, "postings: out of memory for %zu entries", nnz);
    }
    /* Count per column, prefix-sum into starts, then place rows in
     * ascending order (the outer loop runs over rows in order). */
    for (size_t e = 0; e < nnz; e++) first[rows->col[e] + 1]++;
    for (size_t c = 0; c < dim; c++) first[c + 1] += first[c];
    uint32_t *fill = sl_malloc_array(dim, sizeof *fill);
    if (!fill) {
        free(first);
        free(row);
        free(max);
        return sl_fail(SL_ERR_NOMEM, "postings: out of memory");
    }
    memcpy(fill, first, dim * sizeof *fill);
    for (size_t i = 0; i < rows->n; i++)
        for (uint32_t e = rows->row_first[i]; e < rows->row_first[i + 1]; e++) {
            const uint16_t c = rows->col[e];
            row[fill[c]++] = (uint32_t)i;
            const float a = fabsf(rows->val[e]);
            if (a > max[c]) max[c] = a;
        }
    free(fill);
    /* A float sum of m terms is within about m ulps of the real sum of
     * their absolute values; the margin covers twice the longest row. */
    size_t longest = 0;
    for (size_t i = 0; i < rows->n; i++) longest = SL_MAX(longest, (size_t)(rows->row_first[i + 1] - rows->row_first[i]));
    out->margin = (float)SL_MAX(1e-4, 2.0 * (double)longest * FLT_EPSILON);
    double max_norm2 = 0;
    for (size_t i = 0; i < rows->n; i++) {
        double n2 = 0;
        for (uint32_t e = rows->row_first[i]; e < rows->row_first[i + 1]; e++) n2 += (double)rows->val[e] * rows->val[e];
        max_norm2 = SL_MAX(max_norm2, n2);
    }
    out->max_row_norm = sqrt(max_norm2);
    out->n_rows = rows->n;
    out->dim = dim;
    out->list_first = first;
    out->row = row;
    out->list_max = max;
    return SL_OK;
}

void sl_postings_free(sl_postings *p) {
    if (!p) return;
    free(p->list_first);
    free(p->row);
    free(p->list_max);
    memset(p, 0, sizeof *p);
}

/* A column of the query with its bound: no row gains more than `bound`
 * from this column. */
typedef struct col_bound {
    float bound;
    uint32_t col;
} col_bound;

/* Max-heap on bound: the query usually needs only its few heaviest
 * columns, so heapifying (linear) and popping those few beats sorting. */
static void heap_down(col_bound *h, size_t n, size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && h[l].bound > h[w].bound) w = l;
        if (r < n && h[r].bound > h[w].bound) w = r;
        if (w == i) return;
        col_bound t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}

/* Scores computed in float may exceed the real sum they round by a few
 * ulps per term; the bound is met only with p->margin (relative) and this
 * absolute floor, so a row left unmet provably scores below the k-th hit. */
#define BOUND_FLOOR 1e-6

size_t sl_postings_search(const sl_postings *p, const sl_sparse_rows *rows, const float *q, size_t k,
                          sl_hit *out, sl_postings_stats *stats, sl_status *status) {
    if (status) *status = SL_OK;
    sl_postings_stats local = {0};
    if (!stats) stats = &local;
    memset(stats, 0, sizeof *stats);
    if (!k || !rows->n) return 0;
    k = SL_MIN(k, rows->n);
    const size_t dim = p->dim;
    col_bound *cols = sl_malloc_array(dim, sizeof *cols);
    sl_hit *heap = sl_malloc_array(k, sizeof *heap);
    uint64_t *met = calloc((rows->n + 63) / 64, sizeof *met);
    if (!cols || !heap || !met) {
        free(cols);
        free(heap);
        free(met);
        if (status) *status = sl_fail(SL_ERR_NOMEM, "postings: out of memory");
        return 0;
    }
    size_t n_cols = 0;
    /* Over the lists not walked yet: the sum of their bounds, and the
     * squared norm of the query restricted to them. */
    double remaining = 0, remaining_sq = 0;
    for (size_t c = 0; c < dim; c++) {
        const float b = fabsf(q[c]) * p->list_max[c];
        if (b > 0) {
            cols[n_cols++] = (col_bound){b, (uint32_t)c};
            remaining += b;
            remaining_sq += (double)q[c] * q[c];
        }
    }
    for (size_t i = n_cols / 2; i-- > 0;) heap_down(cols, n_cols, i);

    sl_topk top;
    sl_topk_init(&top, heap, k);
    int proven = 0;
    /* Scoring a met row costs a few times what the scan spends on it
     * (random access); past this budget the scan is the cheaper way to
     * finish, so a broad query costs at most about 1.5 scans. */
    const size_t budget = rows->n / 8 + k;
    while (n_cols > 0 && stats->rows_scored <= budget) {
        const col_bound c = cols[0];
        cols[0] = cols[--n_cols];
        heap_down(cols, n_cols, 0);
        remaining -= c.bound;
        remaining_sq -= (double)q[c.col] * q[c.col];
        stats->lists_walked++;
        for (uint32_t e = p->list_first[c.col]; e < p->list_first[c.col + 1]; e++) {
            const uint32_t r = p->row[e];
            if (met[r >> 6] >> (r & 63) & 1) continue;
            met[r >> 6] |= (uint64_t)1 << (r & 63);
            stats->rows_scored++;
            sl_topk_push(&top, (sl_hit){(int64_t)r, sl_sparse_row_dot(rows, r, q)});
        }
        /* heap[0] is the k-th best once the heap is full. */
        const double cs = sqrt(remaining_sq > 0 ? remaining_sq : 0) * p->max_row_norm;
        const double bound = SL_MIN(remaining > 0 ? remaining : 0, cs);
        if (top.n == k && top.heap[0].score > 0 &&
            (double)top.heap[0].score > bound * (1.0 + p->margin) + BOUND_FLOOR) {
            proven = 1;
            break;
        }
    }
    size_t n = 0;
    if (proven) {
        n = sl_topk_finish(&top);
        memcpy(out, heap, n * sizeof *out);
    } else {
        stats->fell_back = 1;
        n = sl_sparse_search(rows, q, k, NULL, out, status);
    }
    free(cols);
    free(heap);
    free(met);
    return n;
}
