/* The library's ANN snapshot (docs/SEARCH.md "Search methods"): an index
 * over a dense library's embeddings, stored in the library as a snapshot
 * blob (docs/FORMAT.md), brought up to date after each index run and
 * loaded by searchers when it holds exactly the items they load. */
#include "api/search_internal.h"
#include "index/ann_file.h"

#include <stdlib.h>
#include <string.h>

/* Updates in place are kept while they stay small next to the index and
 * the leaves balanced; beyond, the partitions no longer fit the data. */
#define REBUILD_CHANGED_FRACTION 0.25
#define REBUILD_IMBALANCE 4.0

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Training-sample budget of a snapshot build: 16 M floats (64 MB) per
 * copy, and never fewer than 10,000 points (docs/SEARCH.md). */
#define SNAPSHOT_SAMPLE_FLOATS (16u << 20)
#define SNAPSHOT_MIN_SAMPLE 10000

static int sorted_has(const int64_t *v, size_t n, int64_t id) {
    return bsearch(&id, v, n, sizeof *v, cmp_i64) != NULL;
}

void sl_snapshot_ann_opts(sl_ann_opts *o, size_t n, size_t dim, int n_threads) {
    sl_ann_opts_init(o, n < 20000 ? 20000 : n, dim, SL_ANN_DOT);
    o->brute_force = 0;
    o->store = SL_ANN_STORE_NONE;
    o->reorder_k = 0;
    o->n_threads = n_threads;
    /* The build holds a few copies of its training sample (sample,
     * residuals, directions: sample x dim floats each); wide embeddings (a
     * tuned model's 1,128 floats) would make that the peak of an index run,
     * so the sample is held to SNAPSHOT_SAMPLE_FLOATS floats. */
    const size_t cap = SL_MAX((size_t)SNAPSHOT_MIN_SAMPLE, (size_t)SNAPSHOT_SAMPLE_FLOATS / (dim ? dim : 1));
    if (!o->training_sample_size || o->training_sample_size > cap) o->training_sample_size = cap;
}

/* Applies the difference between the index and the catalog's items; sets
 * *rebuild instead when it is too large or leaves the leaves unbalanced. */
static sl_status update_in_place(sl_ann *a, const int64_t *ids, const float *x, size_t n, size_t dim,
                                 int *rebuild, size_t *changed) {
    const size_t have = sl_ann_count(a);
    int64_t *old = sl_malloc_array(have ? have : 1, sizeof *old);
    if (!old) return sl_fail(SL_ERR_NOMEM, "index snapshot: out of memory");
    sl_ann_ids(a, old);
    qsort(old, have, sizeof *old, cmp_i64);
    size_t gone = 0, added = 0;
    for (size_t i = 0; i < have; i++) gone += !sorted_has(ids, n, old[i]);
    for (size_t i = 0; i < n; i++) added += !sorted_has(old, have, ids[i]);
    *changed = gone + added;
    sl_status st = SL_OK;
    if ((double)(gone + added) > REBUILD_CHANGED_FRACTION * (double)n) {
        *rebuild = 1;
    } else {
        for (size_t i = 0; i < have && !st; i++)
            if (!sorted_has(ids, n, old[i])) st = sl_ann_remove(a, &old[i], 1, NULL);
        for (size_t i = 0; i < n && !st; i++)
            if (!sorted_has(old, have, ids[i])) st = sl_ann_add(a, x + i * dim, &ids[i], 1);
        if (!st && sl_ann_imbalance(a) > REBUILD_IMBALANCE) *rebuild = 1;
    }
    free(old);
    return st;
}

sl_status sl_snapshot_refresh(sl_catalog *cat, const char *model_id, int sparse, size_t min_items,
                              int n_threads, const char **action) {
    const char *did = "none";
    if (action) *action = did;
    if (!min_items) min_items = SL_SEARCH_ANN_MIN_ITEMS;
    /* Sparse embeddings are searched through posting lists built at open
     * (they take milliseconds); the ANN index is for dense ones. */
    if (sparse) return SL_OK;
    int64_t n_emb = 0;
    sl_status st = sl_catalog_count_embeddings(cat, &n_emb);
    if (st || (size_t)n_emb < min_items) return st;

    int64_t *ids = NULL;
    float *x = NULL;
    size_t n = 0;
    uint32_t dim = 0;
    st = sl_catalog_load_embeddings(cat, &ids, &x, &n, &dim);
    if (!st) st = sl_snapshot_refresh_rows(cat, model_id, ids, x, n, dim, n_threads, action);
    sl_free_aligned(x);
    free(ids);
    return st;
}

sl_status sl_snapshot_refresh_rows(sl_catalog *cat, const char *model_id, const int64_t *ids, const float *x,
                                   size_t n, uint32_t dim, int n_threads, const char **action) {
    const char *did = "none";
    if (action) *action = did;
    sl_status st = SL_OK;
    const double t0 = sl_now();
    sl_ann *a = NULL;
    uint8_t *old = NULL;
    size_t old_size = 0, changed = 0;
    int rebuild = 1;
    sl_status got = sl_catalog_get_snapshot(cat, model_id, &old, &old_size);
    if (got == SL_ERR_NOMEM) st = got;
    if (!st && got == SL_OK) {
        /* A snapshot that does not load (or of another shape) is rebuilt:
         * the catalog, not the snapshot, is the source of truth. */
        sl_ann *loaded = NULL;
        if (sl_ann_load_buffer(old, old_size, 1, &loaded) == SL_OK && sl_ann_dim(loaded) == dim &&
            sl_ann_options(loaded)->metric == SL_ANN_DOT && !sl_ann_options(loaded)->brute_force) {
            rebuild = 0;
            a = loaded;
            st = update_in_place(a, ids, x, n, dim, &rebuild, &changed);
            did = changed ? "updated" : "kept";
        } else {
            sl_ann_free(loaded);
            sl_log(SL_LOG_INFO, "index: the stored ANN snapshot does not load; rebuilding it");
        }
    }
    if (!st && rebuild) {
        sl_ann_free(a);
        a = NULL;
        sl_ann_opts o;
        sl_snapshot_ann_opts(&o, n, dim, n_threads);
        st = sl_ann_build(x, ids, n, dim, &o, &a);
        did = "built";
    }
    uint8_t *data = NULL;
    size_t size = 0;
    if (!st && strcmp(did, "kept") != 0) {
        st = sl_ann_save_buffer(a, &data, &size);
        if (!st) st = sl_catalog_put_snapshot(cat, model_id, data, size);
    }
    if (!st) {
        sl_log(SL_LOG_INFO, "index: ANN snapshot %s (%zu items, %u leaves, %zu changed) in %.2f s", did, n,
               (unsigned)sl_ann_options(a)->num_leaves, changed, sl_now() - t0);
        if (action) *action = did;
    }
    free(data);
    sl_ann_free(a); /* before `old`, which a loaded index points into */
    free(old);
    return st;
}

int sl_snapshot_holds(const sl_searcher *s, const sl_ann *a) {
    if (sl_ann_dim(a) != s->dim || sl_ann_count(a) != s->n) return 0;
    for (size_t i = 0; i < s->n; i++)
        if (!sl_ann_contains(a, s->ids[i])) return 0;
    return 1;
}

sl_status sl_snapshot_load(sl_searcher *s) {
    s->ann = NULL;
    s->ann_buf = NULL;
    uint8_t *data = NULL;
    size_t size = 0;
    sl_status st = sl_catalog_get_snapshot(s->cat, sl_model_id(s->model), &data, &size);
    if (st == SL_ERR_NOMEM) return st;
    if (st) {
        sl_log(SL_LOG_INFO, "search: library %s has no ANN snapshot: exact scan (`searchlite index` builds it)",
               s->library_path);
        return SL_OK;
    }
    sl_ann *a = NULL;
    st = sl_ann_load_buffer(data, size, 0, &a);
    if (st || !sl_snapshot_holds(s, a)) {
        sl_log(SL_LOG_INFO, "search: the ANN snapshot of %s is %s: exact scan (`searchlite index` refreshes it)",
               s->library_path, st ? "unreadable" : "out of date");
        sl_ann_free(a);
        free(data);
        return st == SL_ERR_NOMEM ? st : SL_OK;
    }
    s->ann = a;
    s->ann_buf = data;
    return SL_OK;
}
