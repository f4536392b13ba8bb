/* The searcher's handle and the helpers its files share (searcher.c opens
 * and queries, results.c turns hits into an sl_results). Internal: tests
 * include it to force the dense scan on a sparse model. */
#ifndef SL_API_SEARCH_INTERNAL_H
#define SL_API_SEARCH_INTERNAL_H

#include "catalog/catalog.h"
#include "index/sparse.h"

#include <pthread.h>

struct sl_searcher {
    const sl_model *model; /* borrowed: must outlive the searcher */
    uint32_t dim;
    char *library_path;    /* for messages */
    /* The catalog connection is single-threaded; queries only need it to
     * read their hits' items, so one mutex serializes those reads while
     * the scans themselves run unlocked. */
    sl_catalog *cat;
    pthread_mutex_t cat_mu;
    /* The embeddings, row i belonging to item ids[i]; ids ascending. */
    size_t n;
    int64_t *ids;          /* (n) */
    int sparse;            /* which of the two below is loaded */
    sl_sparse_rows rows;   /* CSR (n, dim) when sparse */
    float *dense;          /* (n, dim) row-major when not, sl_malloc_aligned */
    /* sl_pool runs one job at a time; a query that finds it busy scans on
     * its own thread instead of waiting (the result is the same). */
    sl_pool *pool;         /* NULL when n_threads <= 1 */
    pthread_mutex_t pool_mu;
};

/* As sl_searcher_open, with force_dense != 0 loading the embeddings as a
 * dense matrix even when the model is sparse (tests compare the scans). */
sl_status sl_searcher_open_ex(const sl_model *model, const char *library_path,
                              const sl_searcher_opts *opts, int force_dense, sl_searcher **out);

/* Row of item `id` among the loaded ones, or -1 (binary search). */
ptrdiff_t sl_searcher_find_row(const sl_searcher *s, int64_t id);

/* Builds the results of `n_hits` scan hits (row numbers and scores), best
 * first: fetches each item from the catalog under the mutex, skips items
 * deleted since open and the item `exclude_id` (-1: none), keeps at most
 * `k`. All strings and the hit array live in one allocation.
 * Errors: SL_ERR_NOMEM, catalog errors other than SL_ERR_NOT_FOUND. */
sl_status sl_results_build(sl_searcher *s, const sl_hit *hits, size_t n_hits, int64_t exclude_id,
                           size_t k, sl_results **out);

#endif
