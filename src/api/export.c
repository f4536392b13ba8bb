/* sl_library_export: a library's searchable content as one app file
 * (src/index/app_file.h, docs/FORMAT.md "App file"). */
#include "api/library_internal.h"
#include "api/search_internal.h"
#include "index/app_file.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The items of `ids` as the app file wants them: strings copied out of
 * the catalog (its pointers only live until the next read). */
typedef struct export_items {
    int32_t *width, *height;
    char **paths, **metadata;
    size_t n;
} export_items;

static void items_free(export_items *it) {
    for (size_t i = 0; i < it->n; i++) {
        free(it->paths[i]);
        free(it->metadata[i]);
    }
    free(it->width);
    free(it->height);
    free(it->paths);
    free(it->metadata);
}

static sl_status items_load(sl_catalog *cat, const int64_t *ids, size_t n, export_items *it) {
    memset(it, 0, sizeof *it);
    it->width = sl_malloc_array(n ? n : 1, sizeof *it->width);
    it->height = sl_malloc_array(n ? n : 1, sizeof *it->height);
    it->paths = sl_calloc_array(n ? n : 1, sizeof *it->paths);
    it->metadata = sl_calloc_array(n ? n : 1, sizeof *it->metadata);
    if (!it->width || !it->height || !it->paths || !it->metadata)
        return sl_fail(SL_ERR_NOMEM, "export: out of memory for %zu items", n);
    for (size_t i = 0; i < n; i++) {
        sl_item item;
        sl_status st = sl_catalog_get_item(cat, ids[i], &item);
        if (st) return st;
        it->n = i + 1;
        it->width[i] = item.width;
        it->height[i] = item.height;
        it->paths[i] = strdup(item.path ? item.path : "");
        it->metadata[i] = item.metadata ? strdup(item.metadata) : NULL;
        if (!it->paths[i] || (item.metadata && !it->metadata[i]))
            return sl_fail(SL_ERR_NOMEM, "export: out of memory for item strings");
    }
    return SL_OK;
}

void sl_export_opts_init(sl_export_opts *opts) {
    if (!opts) return;
    memset(opts, 0, sizeof *opts);
    opts->n_threads = 2;
}

sl_status sl_library_export(sl_library *lib, const char *out_path, const sl_export_opts *opts,
                            sl_export_stats *stats) {
    return sl_library_export_ex(lib, out_path, opts, 0, stats);
}

sl_status sl_library_export_ex(sl_library *lib, const char *out_path, const sl_export_opts *opts,
                               size_t ann_min_items, sl_export_stats *stats) {
    if (!ann_min_items) ann_min_items = SL_SEARCH_ANN_MIN_ITEMS;
    if (stats) memset(stats, 0, sizeof *stats);
    if (!lib || !out_path) return sl_fail(SL_ERR_ARG, "export: NULL library or output path");
    sl_export_opts def;
    if (!opts) {
        sl_export_opts_init(&def);
        opts = &def;
    }
    sl_catalog *cat = lib->cat;
    const char *model = NULL;
    uint32_t dim = 0;
    sl_status st = sl_catalog_model(cat, &model, &dim);
    if (st) return st;
    if (!model) return sl_fail(SL_ERR_STATE, "export: library %s has no embeddings: run `searchlite index DIR` first", lib->path);
    char *model_id = strdup(model); /* the catalog's copy lives until its next model call */
    if (!model_id) return sl_fail(SL_ERR_NOMEM, "export: out of memory");

    /* The form the library's own searcher uses. A dense model's library
     * holds an ANN snapshot from ann_min_items items (sl_library_index keeps
     * it): dense rows and the index, even when its rows would be smaller
     * sparse (a tuned model's: a sparse zero-shot half and a dense head
     * half). Otherwise sparse rows when they are smaller (the lite model's),
     * dense ones and, from ann_min_items, an index when they are not. */
    int64_t *ids = NULL;
    sl_sparse_rows rows = {0};
    float *dense = NULL;
    size_t n = 0;
    uint8_t *ann = NULL;
    size_t ann_size = 0;
    int64_t n_emb = 0;
    int sparse = 0;
    st = sl_catalog_count_embeddings(cat, &n_emb);
    if (!st && n_emb == 0)
        st = sl_fail(SL_ERR_STATE, "export: library %s has no embeddings: run `searchlite index DIR` first", lib->path);
    int dense_model = 0;
    if (!st && (size_t)n_emb >= ann_min_items) {
        sl_status got = sl_catalog_get_snapshot(cat, model_id, &ann, &ann_size);
        if (got == SL_ERR_NOMEM) st = got;
        dense_model = got == SL_OK;
        free(ann);
        ann = NULL;
    }
    if (!st && !dense_model) {
        st = sl_catalog_load_sparse(cat, &ids, &rows);
        n = rows.n;
        sparse = !st && 6.0 * (double)(n ? rows.row_first[n] : 0) < 4.0 * (double)n * dim;
        if (!st && !sparse) {
            free(ids);
            ids = NULL;
            sl_sparse_rows_free(&rows);
        }
    }
    if (!st && !sparse) {
        uint32_t d2 = 0;
        st = sl_catalog_load_embeddings(cat, &ids, &dense, &n, &d2);
        if (!st && d2 != dim) st = sl_fail(SL_ERR_INTERNAL, "export: embeddings of dim %u, expected %u", d2, dim);
    }
    if (!st && n == 0)
        st = sl_fail(SL_ERR_STATE, "export: library %s has no embeddings: run `searchlite index DIR` first", lib->path);
    /* A large dense collection ships its ANN index: brought up to date in
     * the library first (from the rows just read), then copied (the app
     * maps it in place). */
    if (!st && !sparse && n >= ann_min_items) {
        st = sl_snapshot_refresh_rows(cat, model_id, ids, dense, n, dim, opts->n_threads, NULL);
        if (!st) st = sl_catalog_get_snapshot(cat, model_id, &ann, &ann_size);
    }
    export_items it = {0};
    if (!st) st = items_load(cat, ids, n, &it);
    if (!st) {
        sl_app_file_in in = {
            .model_id = model_id,
            .dim = dim,
            .count = n,
            .ids = ids,
            .width = it.width,
            .height = it.height,
            .paths = (const char *const *)it.paths,
            .metadata = (const char *const *)it.metadata,
            .sparse = sparse ? &rows : NULL,
            .dense = sparse ? NULL : dense,
            .ann = ann,
            .ann_size = ann_size,
        };
        st = sl_app_file_write(&in, out_path);
    }
    if (!st) {
        /* Read back with every check (CRCs included): an app must never
         * receive a file this build cannot open. */
        sl_app_file *f = NULL;
        st = sl_app_file_open(out_path, 1, &f);
        sl_app_file_close(f);
    }
    if (!st && stats) {
        stats->items = n;
        stats->sparse = sparse;
        stats->has_ann = ann != NULL;
        struct stat sb;
        if (stat(out_path, &sb) == 0) stats->bytes = (uint64_t)sb.st_size;
    }
    items_free(&it);
    free(ann);
    sl_free_aligned(dense);
    sl_sparse_rows_free(&rows);
    free(ids);
    free(model_id);
    return st;
}
