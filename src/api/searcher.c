/* The public searcher: a library's embeddings loaded into memory (sparse
 * rows for the lite model, a dense matrix otherwise) and searched for
 * text, image and vector queries: by the exact scan, by posting lists
 * (sparse; exact too) or by the library's ANN snapshot (large dense
 * libraries; candidates re-scored exactly). docs/SEARCH.md. */
#include "api/search_internal.h"
#include "index/ann_file.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sl_searcher_opts_init(sl_searcher_opts *opts) {
    if (!opts) return;
    memset(opts, 0, sizeof *opts);
    opts->n_threads = 1;
}

/* Checks that the library holds embeddings of this very model. */
static sl_status check_model(sl_searcher *s, const char *path) {
    const char *lib_id = NULL;
    uint32_t lib_dim = 0;
    sl_status st = sl_catalog_model(s->cat, &lib_id, &lib_dim);
    if (st) return st;
    if (!lib_id)
        return sl_fail(SL_ERR_STATE, "library %s has no embeddings: run `searchlite index DIR` first", path);
    const char *id = sl_model_id(s->model);
    if (!id) id = "";
    if (strcmp(lib_id, id) != 0 || lib_dim != s->dim)
        return sl_fail(SL_ERR_STATE,
                       "library %s was indexed with model %s (dim %u), not with this model %s (dim %u): "
                       "re-index it with this model (`searchlite index DIR`)",
                       path, lib_id, lib_dim, id, s->dim);
    return SL_OK;
}

/* An app file (sl_library_export) instead of a library: the same checks,
 * the arrays borrowed from its map. */
static sl_status open_app(sl_searcher *s, const char *path) {
    sl_status st = sl_app_file_open(path, 0, &s->app);
    if (st) return st;
    const char *id = sl_model_id(s->model);
    if (strcmp(sl_app_file_model_id(s->app), id ? id : "") != 0 || sl_app_file_dim(s->app) != s->dim)
        return sl_fail(SL_ERR_STATE, "app file %s was made with model %s (dim %u), not with this model %s (dim %u)",
                       path, sl_app_file_model_id(s->app), sl_app_file_dim(s->app), id ? id : "", s->dim);
    s->n = sl_app_file_count(s->app);
    s->ids = (int64_t *)sl_app_file_ids(s->app);
    const sl_sparse_rows *rows = sl_app_file_sparse(s->app);
    if (rows) {
        s->sparse = 1;
        s->rows = *rows;
    } else {
        s->dense = (float *)sl_app_file_dense(s->app);
    }
    return SL_OK;
}

/* The ANN index an app file carries, when it holds exactly its items. */
static sl_status app_ann(sl_searcher *s) {
    size_t size = 0;
    const uint8_t *data = sl_app_file_ann(s->app, &size);
    if (!data) return SL_OK;
    sl_ann *a = NULL;
    sl_status st = sl_ann_load_buffer(data, size, 0, &a);
    if (st) return sl_fail_prefix(st, s->library_path); /* the file is corrupt: say so rather than scan */
    if (!sl_snapshot_holds(s, a)) {
        sl_ann_free(a);
        return sl_fail(SL_ERR_CORRUPT, "app file %s: its ANN index does not hold its items", s->library_path);
    }
    s->ann = a;
    return SL_OK;
}

/* Chooses how queries are answered once the rows are loaded. */
static sl_status prepare_method(sl_searcher *s, size_t ann_min_items) {
    if (s->exact) return SL_OK;
    if (s->sparse) {
        if (s->n < SL_SEARCH_POSTINGS_MIN) return SL_OK;
        sl_status st = sl_postings_build(&s->rows, &s->postings);
        s->have_postings = st == SL_OK;
        return st;
    }
    if (s->app) return app_ann(s);
    if (s->n < (ann_min_items ? ann_min_items : SL_SEARCH_ANN_MIN_ITEMS)) return SL_OK;
    return sl_snapshot_load(s);
}

const char *sl_searcher_method_name(const sl_searcher *s) {
    return s->have_postings ? "posting lists (exact)" : s->ann ? "ANN index + exact re-scoring" : "exact scan";
}

static sl_status load_rows(sl_searcher *s, int force_dense) {
    sl_status st;
    if (sl_model_sparse(s->model) && !force_dense) {
        s->sparse = 1;
        st = sl_catalog_load_sparse(s->cat, &s->ids, &s->rows);
        if (st) return st;
        s->n = s->rows.n;
        if (s->n && s->rows.dim != s->dim)
            return sl_fail(SL_ERR_INTERNAL, "library %s: sparse rows of dim %zu, expected %u", s->library_path,
                           s->rows.dim, s->dim);
    } else {
        uint32_t dim = 0;
        st = sl_catalog_load_embeddings(s->cat, &s->ids, &s->dense, &s->n, &dim);
        if (st) return st;
        if (s->n && dim != s->dim)
            return sl_fail(SL_ERR_INTERNAL, "library %s: embeddings of dim %u, expected %u", s->library_path, dim,
                           s->dim);
    }
    /* sl_search_similar finds stored rows by binary search over the ids;
     * the loaders promise id order, and a broken promise would silently
     * exclude the wrong item, so it is checked once here. */
    for (size_t i = 1; i < s->n; i++)
        if (s->ids[i] <= s->ids[i - 1])
            return sl_fail(SL_ERR_INTERNAL, "library %s: embeddings not ordered by item id", s->library_path);
    return SL_OK;
}

/* Whether `path` starts with an app file's magic (anything else is opened
 * as a library, whose own errors then explain what is wrong). */
static int is_app_file(const char *path) {
    unsigned char head[8];
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t got = fread(head, 1, sizeof head, f);
    fclose(f);
    return sl_app_file_sniff(head, got);
}

sl_status sl_searcher_open_ex(const sl_model *model, const char *library_path, const sl_searcher_opts *opts,
                              const sl_searcher_internal *in, sl_searcher **out) {
    if (out) *out = NULL;
    if (!model || !library_path || !out) return sl_fail(SL_ERR_ARG, "searcher: NULL argument");
    sl_searcher_opts def;
    if (!opts) {
        sl_searcher_opts_init(&def);
        opts = &def;
    }
    sl_searcher_internal no_knobs = {0};
    if (!in) in = &no_knobs;
    sl_searcher *s = calloc(1, sizeof *s);
    if (!s) return sl_fail(SL_ERR_NOMEM, "searcher: out of memory");
    s->model = model;
    s->exact = opts->exact != 0;
    s->dim = sl_model_dim(model);
    pthread_mutex_init(&s->cat_mu, NULL);
    pthread_mutex_init(&s->pool_mu, NULL);
    s->library_path = strdup(library_path);
    sl_status st = s->library_path ? SL_OK : sl_fail(SL_ERR_NOMEM, "searcher: out of memory");
    if (st == SL_OK && s->dim == 0) st = sl_fail(SL_ERR_ARG, "searcher: model of dimension 0");
    if (st == SL_OK && is_app_file(library_path)) {
        st = open_app(s, library_path);
    } else {
        if (st == SL_OK) st = sl_catalog_open(library_path, 0, &s->cat);
        if (st == SL_OK) st = check_model(s, library_path);
        if (st == SL_OK) st = load_rows(s, in->force_dense);
    }
    if (st == SL_OK && s->n == 0)
        st = sl_fail(SL_ERR_STATE, "library %s has no embeddings: run `searchlite index DIR` first", library_path);
    if (st == SL_OK && opts->n_threads > 1) st = sl_pool_new(opts->n_threads, &s->pool);
    if (st == SL_OK) st = prepare_method(s, in->ann_min_items);
    if (st) {
        sl_searcher_free(s);
        return st;
    }
    sl_log(SL_LOG_DEBUG, "searcher: %zu %s embeddings of dim %u from %s, searched by %s", s->n,
           s->sparse ? "sparse" : "dense", s->dim, library_path, sl_searcher_method_name(s));
    *out = s;
    return SL_OK;
}

sl_status sl_searcher_open(const sl_model *model, const char *library_path, const sl_searcher_opts *opts,
                           sl_searcher **out) {
    return sl_searcher_open_ex(model, library_path, opts, NULL, out);
}

void sl_searcher_free(sl_searcher *s) {
    if (!s) return;
    sl_pool_free(s->pool);
    sl_postings_free(&s->postings);
    sl_ann_free(s->ann); /* before its buffer */
    free(s->ann_buf);
    sl_catalog_close(s->cat);
    if (s->app) {
        sl_app_file_close(s->app); /* the rows, ids and dense matrix were its */
    } else {
        sl_sparse_rows_free(&s->rows);
        sl_free_aligned(s->dense);
        free(s->ids);
    }
    free(s->library_path);
    pthread_mutex_destroy(&s->cat_mu);
    pthread_mutex_destroy(&s->pool_mu);
    free(s);
}

size_t sl_searcher_count(const sl_searcher *s) { return s ? s->n : 0; }

ptrdiff_t sl_searcher_find_row(const sl_searcher *s, int64_t id) {
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->ids[mid] < id) lo = mid + 1;
        else hi = mid;
    }
    return lo < s->n && s->ids[lo] == id ? (ptrdiff_t)lo : -1;
}

/* Through the ANN index: its candidates (item ids) re-scored exactly from
 * the dense rows by the scan's own kernel (a row scored alone gets the
 * same bits as in a block), so a hit's similarity is the same whichever
 * way it was found. */
static sl_status ann_candidates(sl_searcher *s, const float *q, size_t k, sl_hit *hits, size_t *n_hits) {
    const size_t want = SL_MIN(s->n, SL_MAX(k, (size_t)SL_SEARCH_ANN_CANDIDATES));
    sl_hit *cand = sl_malloc_array(want, sizeof *cand);
    if (!cand) return sl_fail(SL_ERR_NOMEM, "search: out of memory");
    sl_status st = SL_OK;
    /* A tenth of the leaves rather than the build's ~5 %: on tuned
     * embeddings (dense p half, sparse z half) 5 % missed near neighbours
     * in unsearched leaves; 10 % measured recall@10 0.99+ at b = 0.85 for
     * about 0.05 ms more (docs/SEARCH.md "Search methods"). */
    sl_ann_query_opts qo = {0, 0};
    const uint32_t leaves = sl_ann_options(s->ann)->num_leaves;
    qo.leaves_to_search = SL_MAX(sl_ann_options(s->ann)->num_leaves_to_search, (leaves + 9) / 10);
    const size_t nc = sl_ann_search(s->ann, q, want, &qo, cand, &st);
    sl_topk t;
    sl_topk_init(&t, hits, k);
    for (size_t c = 0; c < nc && !st; c++) {
        const ptrdiff_t row = sl_searcher_find_row(s, cand[c].index);
        if (row < 0) continue; /* cannot happen: the snapshot was checked fresh */
        float score;
        sl_dot_rows(q, s->dense + (size_t)row * s->dim, 1, s->dim, &score);
        sl_topk_push(&t, (sl_hit){row, score});
    }
    *n_hits = st ? 0 : sl_topk_finish(&t);
    free(cand);
    return st;
}

/* The k best rows, best first, into hits (k entries): the exact scan, or
 * the method chosen at open. */
static sl_status scan(sl_searcher *s, const float *q, size_t k, sl_hit *hits, size_t *n_hits) {
    sl_status st = SL_OK;
    if (s->have_postings) {
        *n_hits = sl_postings_search(&s->postings, &s->rows, q, k, hits, NULL, &st);
        return st;
    }
    if (s->ann) return ann_candidates(s, q, k, hits, n_hits);
    sl_pool *pool = NULL;
    if (s->pool && pthread_mutex_trylock(&s->pool_mu) == 0) pool = s->pool;
    if (s->sparse) *n_hits = sl_sparse_search(&s->rows, q, k, pool, hits, &st);
    else *n_hits = sl_flat_search(s->dense, s->n, s->dim, q, k, pool, hits, &st);
    if (pool) pthread_mutex_unlock(&s->pool_mu);
    return st;
}

/* A vector query, `exclude_id` (-1: none) left out of the k results. */
static sl_status search_excluding(sl_searcher *s, const float *query, size_t k, int64_t exclude_id,
                                  sl_results **out) {
    if (k == 0) return sl_fail(SL_ERR_ARG, "search: k must be at least 1");
    for (uint32_t j = 0; j < s->dim; j++)
        if (!isfinite(query[j])) return sl_fail(SL_ERR_ARG, "search: query value %u is not finite", j);
    /* One extra row so that dropping the excluded item still leaves k. */
    size_t want = SL_MIN(k, s->n);
    if (exclude_id >= 0 && want < s->n) want++;
    sl_hit *hits = sl_malloc_array(want, sizeof *hits);
    if (!hits) return sl_fail(SL_ERR_NOMEM, "search: out of memory for %zu hits", want);
    size_t n_hits = 0;
    sl_status st = scan(s, query, want, hits, &n_hits);
    if (st == SL_OK) st = sl_results_build(s, hits, n_hits, exclude_id, k, out);
    free(hits);
    return st;
}

sl_status sl_search_vector(sl_searcher *s, const float *query, size_t k, sl_results **out) {
    if (out) *out = NULL;
    if (!s || !query || !out) return sl_fail(SL_ERR_ARG, "search: NULL argument");
    return search_excluding(s, query, k, -1, out);
}

sl_status sl_search_text(sl_searcher *s, const char *query, size_t k, sl_results **out) {
    if (out) *out = NULL;
    if (!s || !query || !out) return sl_fail(SL_ERR_ARG, "search: NULL argument");
    if (k == 0) return sl_fail(SL_ERR_ARG, "search: k must be at least 1");
    float *q = sl_malloc_array(s->dim, sizeof *q);
    if (!q) return sl_fail(SL_ERR_NOMEM, "search: out of memory");
    /* The model's message (e.g. which words it did not know) stands. */
    sl_status st = sl_model_embed_text(s->model, query, q);
    if (st == SL_OK) st = search_excluding(s, q, k, -1, out);
    free(q);
    return st;
}

/* Looks `path` up in the catalog. A known item sets *id (it is kept out of
 * its own results); when its embedding is among the loaded rows it is
 * copied to q and *have_vec set, which saves decoding and embedding the
 * file and answers with exactly what the library holds. */
static sl_status stored_embedding(sl_searcher *s, const char *path, float *q, int64_t *id, int *have_vec) {
    ptrdiff_t row = -1;
    if (s->app) {
        /* An app file has no path index: one pass over its items (a
         * similar-image query embeds a file anyway, which costs more). */
        for (size_t r = 0; r < s->n && row < 0; r++) {
            const char *p = NULL, *meta = NULL;
            int32_t w, h;
            sl_app_file_item(s->app, r, &p, &meta, &w, &h);
            if (strcmp(p, path) == 0) row = (ptrdiff_t)r;
        }
        if (row < 0) return SL_OK;
        *id = s->ids[row];
    } else {
        sl_item_info info;
        pthread_mutex_lock(&s->cat_mu);
        sl_status st = sl_catalog_lookup(s->cat, path, &info);
        pthread_mutex_unlock(&s->cat_mu);
        if (st || !info.known) return st;
        *id = info.id;
        row = info.has_embedding ? sl_searcher_find_row(s, info.id) : -1;
    }
    if (row < 0) return SL_OK; /* embedded after this searcher was opened */
    if (s->sparse) {
        memset(q, 0, s->dim * sizeof *q);
        for (uint32_t e = s->rows.row_first[row]; e < s->rows.row_first[row + 1]; e++)
            q[s->rows.col[e]] = s->rows.val[e];
    } else {
        memcpy(q, s->dense + (size_t)row * s->dim, s->dim * sizeof *q);
    }
    *have_vec = 1;
    return SL_OK;
}

sl_status sl_search_similar(sl_searcher *s, const char *image_path, size_t k, sl_results **out) {
    if (out) *out = NULL;
    if (!s || !image_path || !out) return sl_fail(SL_ERR_ARG, "search: NULL argument");
    if (k == 0) return sl_fail(SL_ERR_ARG, "search: k must be at least 1");
    float *q = sl_malloc_array(s->dim, sizeof *q);
    if (!q) return sl_fail(SL_ERR_NOMEM, "search: out of memory");
    int64_t id = -1;
    int have_vec = 0;
    sl_status st = SL_OK;
    /* The library stores absolute, normalized paths; realpath gives that
     * form for a relative path or one through a symbolic link. The path as
     * given is tried too, for a library that kept a link's own name. */
    char *real = realpath(image_path, NULL);
    if (real) st = stored_embedding(s, real, q, &id, &have_vec);
    if (st == SL_OK && id < 0 && (!real || strcmp(real, image_path) != 0))
        st = stored_embedding(s, image_path, q, &id, &have_vec);
    if (st == SL_OK && !have_vec) st = sl_model_embed_file(s->model, real ? real : image_path, q, NULL, NULL);
    if (st == SL_OK) st = search_excluding(s, q, k, id, out);
    free(real);
    free(q);
    return st;
}
