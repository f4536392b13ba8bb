/* The searcher's handle and the helpers its files share (searcher.c opens
 * and queries, results.c turns hits into an sl_results). Internal: tests
 * include it to force the dense scan on a sparse model. */
#ifndef SL_API_SEARCH_INTERNAL_H
#define SL_API_SEARCH_INTERNAL_H

#include "catalog/catalog.h"
#include "index/ann.h"
#include "index/app_file.h"
#include "index/postings.h"
#include "index/sparse.h"

#include <pthread.h>

struct sl_searcher {
    const sl_model *model; /* borrowed: must outlive the searcher */
    uint32_t dim;
    char *library_path;    /* for messages */
    /* The catalog connection is single-threaded; queries only need it to
     * read their hits' items, so one mutex serializes those reads while
     * the scans themselves run unlocked. */
    sl_catalog *cat;       /* NULL when searching an app file */
    pthread_mutex_t cat_mu;
    /* Opened from an app file (sl_library_export): ids, rows or dense and
     * the ANN bytes point into its map, and results read its items. */
    sl_app_file *app;
    /* The embeddings, row i belonging to item ids[i]; ids ascending. */
    size_t n;
    int64_t *ids;          /* (n) */
    int sparse;            /* which of the two below is loaded */
    sl_sparse_rows rows;   /* CSR (n, dim) when sparse */
    float *dense;          /* (n, dim) row-major when not, sl_malloc_aligned */
    /* How queries find their candidates (docs/SEARCH.md "Search methods"):
     * the exact scan, the posting lists of sparse rows (exact too), or the
     * library's ANN snapshot for a large dense collection, whose
     * candidates are re-scored exactly from `dense`. */
    int exact;                 /* the caller asked for the scan */
    int have_postings;
    sl_postings postings;      /* sparse, not exact, n >= SL_SEARCH_POSTINGS_MIN */
    sl_ann *ann;               /* dense, not exact, a fresh snapshot, n >= ann_min_items */
    uint8_t *ann_buf;          /* the snapshot's bytes (the index points into them) */
    /* sl_pool runs one job at a time; a query that finds it busy scans on
     * its own thread instead of waiting (the result is the same). */
    sl_pool *pool;         /* NULL when n_threads <= 1 */
    pthread_mutex_t pool_mu;
};

/* Sparse collections at least this large get posting lists (below, the
 * scan takes microseconds anyway). */
#define SL_SEARCH_POSTINGS_MIN 2048
/* Dense collections at least this large are searched through the ANN
 * snapshot (ScaNN's guidance: brute force below about 20,000 items). */
#define SL_SEARCH_ANN_MIN_ITEMS 20000
/* Candidates the ANN index hands over for exact re-scoring (at least k). */
#define SL_SEARCH_ANN_CANDIDATES 100

/* Knobs the public open does not expose (tests). */
typedef struct sl_searcher_internal {
    int force_dense;      /* load a sparse model's rows as a dense matrix */
    size_t ann_min_items; /* 0: SL_SEARCH_ANN_MIN_ITEMS */
} sl_searcher_internal;

/* As sl_searcher_open with the internal knobs (in may be NULL). */
sl_status sl_searcher_open_ex(const sl_model *model, const char *library_path,
                              const sl_searcher_opts *opts, const sl_searcher_internal *in, sl_searcher **out);

/* The build options of a library snapshot for n items of dim floats:
 * ScaNN's guidance from the size (never brute force), no stored vectors
 * (the searcher re-scores candidates from its own rows), the training
 * sample held to a memory budget. */
void sl_snapshot_ann_opts(sl_ann_opts *o, size_t n, size_t dim, int n_threads);

/* The library's ANN snapshot (snapshot.c). Refresh: for a dense library of
 * at least min_items embeddings (0: SL_SEARCH_ANN_MIN_ITEMS), brings the
 * stored snapshot up to date: adds and removes items in place while the
 * leaves stay balanced and the changes are small, rebuilds otherwise;
 * sparse or small libraries get none (and lose a stale one). *action (may
 * be NULL) tells what was done: "none", "kept", "updated", "built".
 * model_id and sparse describe the library's model (the caller checked).
 * Errors: catalog and index errors, SL_ERR_NOMEM. */
sl_status sl_snapshot_refresh(sl_catalog *cat, const char *model_id, int sparse, size_t min_items,
                              int n_threads, const char **action);
/* The same with the library's dense rows already loaded (ids ascending,
 * x (n, dim)): what sl_snapshot_refresh does after loading them. */
sl_status sl_snapshot_refresh_rows(sl_catalog *cat, const char *model_id, const int64_t *ids, const float *x,
                                   size_t n, uint32_t dim, int n_threads, const char **action);
/* Whether index `a` holds exactly the searcher's loaded items (same
 * dimension, same count, every id): the one test a library snapshot and
 * an app file's index both pass before a searcher uses them. */
int sl_snapshot_holds(const sl_searcher *s, const sl_ann *a);
/* Loads the stored snapshot into s->ann when it holds exactly the loaded
 * items; otherwise leaves s->ann NULL (the scan answers) and logs why. */
sl_status sl_snapshot_load(sl_searcher *s);

/* sl_library_export with the size from which a dense library ships its
 * ANN index (0: SL_SEARCH_ANN_MIN_ITEMS; tests lower it). */
sl_status sl_library_export_ex(sl_library *lib, const char *out_path, const sl_export_opts *opts,
                               size_t ann_min_items, sl_export_stats *stats);

/* How this searcher answers queries, for messages and benchmarks. */
const char *sl_searcher_method_name(const sl_searcher *s);

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
