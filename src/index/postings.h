/* An inverted index over sparse rows, searched exactly (docs/INDEX.md
 * "Sparse embeddings").
 *
 * The lite model's image embeddings keep about 27 of 1,000 classes; its
 * text queries are dense but put most of their weight on a few classes.
 * Partitions and product quantization do badly on that shape (PQ over
 * pairs of mostly-zero dimensions cannot represent a few spikes); a
 * posting list per column does well: the query walks the lists of its
 * heaviest columns first, scores each row it meets exactly, and stops as
 * soon as no row it has not met can reach the k-th best score. An unmet
 * row only has values in the lists not yet walked, so its score is at most
 * the smaller of two bounds: the sum over those lists of |q_c| times the
 * list's largest |value| (the "max-score" bound of text retrieval, tight
 * when the query's rest is a few columns), and |q restricted to those
 * lists| times the largest row norm (Cauchy-Schwarz, tight when the rest
 * is a long flat tail, as a softmax over 1,000 classes leaves).
 *
 * The result is the exact scan's (sl_sparse_search), hit for hit and bit
 * for bit: a met row is scored by the same loop in the same order, and the
 * stopping test keeps a margin for float rounding. When the bound cannot
 * prove the top k (fewer than k rows overlap the query, or scores near
 * zero), or would need to score more than an eighth of the rows to prove
 * it (a broad query: the scan is cheaper then), the search falls back to
 * the full scan. */
#ifndef SL_INDEX_POSTINGS_H
#define SL_INDEX_POSTINGS_H

#include "sparse.h"

/* Posting lists of the columns of one sl_sparse_rows: list c holds the
 * rows with a value in column c, ascending. Values are not copied: rows
 * met are scored from the CSR itself. */
typedef struct sl_postings {
    size_t n_rows, dim;
    uint32_t *list_first; /* (dim + 1): list c is row[list_first[c] .. list_first[c+1]) */
    uint32_t *row;        /* (nnz) */
    float *list_max;      /* (dim) largest |value| in each list, 0 for an empty list */
    float margin;         /* relative rounding margin of the stopping test (from the longest row) */
    double max_row_norm;  /* largest L2 norm of a row (1 for unit embeddings) */
} sl_postings;

/* Builds the lists of `rows` (counting sort: two passes over the CSR).
 * Errors: SL_ERR_ARG, SL_ERR_LIMIT (more than 2^32-1 rows), SL_ERR_NOMEM. */
sl_status sl_postings_build(const sl_sparse_rows *rows, sl_postings *out);
void sl_postings_free(sl_postings *p);

/* What one search did (for benchmarks and tests). */
typedef struct sl_postings_stats {
    size_t lists_walked; /* of the query's non-zero columns */
    size_t rows_scored;  /* rows met and scored exactly */
    int fell_back;       /* 1: the bound could not prove the top k; full scan */
} sl_postings_stats;

/* The k best rows of `rows` for the dense query q (dim floats), best
 * first, exactly as sl_sparse_search(rows, q, k, NULL, ...) returns them;
 * returns the count. `p` must have been built from `rows`. stats may be
 * NULL; *status (may be NULL) reports SL_ERR_NOMEM. Thread-safe (scratch
 * is allocated per call: a bitmap of n_rows bits and the column order). */
size_t sl_postings_search(const sl_postings *p, const sl_sparse_rows *rows, const float *q, size_t k,
                          sl_hit *out, sl_postings_stats *stats, sl_status *status);

#endif
