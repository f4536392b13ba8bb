/* Exact search over sparse rows (the lite model's image embeddings have
 * about 30 non-zero values out of 1,000): CSR storage and a scan that
 * scores every row against a dense query. Deterministic like flat search:
 * a row's score is summed in its stored order, ties go to the lower row. */
#ifndef SL_INDEX_SPARSE_H
#define SL_INDEX_SPARSE_H

#include "flat.h"

/* Compressed sparse rows: row i has entries [row_first[i], row_first[i+1]).
 * Column indices are < dim; values are f32. */
typedef struct sl_sparse_rows {
    size_t n, dim;
    const uint32_t *row_first; /* (n + 1) */
    const uint16_t *col;       /* (row_first[n]) */
    const float *val;          /* (row_first[n]) */
} sl_sparse_rows;

/* Converts dense rows (n, dim) to CSR, keeping values != 0. The arrays are
 * malloc'd; free with sl_sparse_rows_free. dim <= 65536.
 * Errors: SL_ERR_ARG, SL_ERR_NOMEM. */
sl_status sl_sparse_from_dense(const float *x, size_t n, size_t dim, sl_sparse_rows *out);
void sl_sparse_rows_free(sl_sparse_rows *s);

/* Row i's dot product with the dense query q, summed in stored order:
 * the one definition every sparse search scores with, so that a row's
 * score is the same bits whichever search met it. */
static inline float sl_sparse_row_dot(const sl_sparse_rows *s, size_t i, const float *q) {
    float acc = 0;
    for (uint32_t e = s->row_first[i]; e < s->row_first[i + 1]; e++) acc += q[s->col[e]] * s->val[e];
    return acc;
}

/* The k best rows for the dense query q (dim floats), best first; returns
 * the count, min(k, n). pool may be NULL. *status (if not NULL) reports
 * SL_ERR_NOMEM. */
size_t sl_sparse_search(const sl_sparse_rows *s, const float *q, size_t k, sl_pool *pool, sl_hit *out,
                        sl_status *status);

#endif
