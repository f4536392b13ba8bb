/* Search methods of the searcher (docs/SEARCH.md): a dense library's ANN
 * snapshot (built, kept, updated in place, rebuilt, ignored when stale or
 * corrupt) against the exact scan; the sparse posting lists against the
 * scan for the lite model's real text queries; app files (export) giving
 * the library's own answers. */
#include "api/search_internal.h"
#include "catalog/catalog.h"
#include "testlib.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { N0 = 3000, MIN_ITEMS = 1000, QUERIES = 60, K = 10 };

static sl_model *g_model;
static const char *g_id;
static uint32_t g_dim;
static float *g_x; /* (N0 + 200, dim) clustered unit vectors */

static void put_items(sl_catalog *cat, size_t from, size_t to) {
    REQUIRE(sl_catalog_batch_begin(cat) == SL_OK);
    for (size_t i = from; i < to; i++) {
        char path[64];
        snprintf(path, sizeof path, "/photos/%06zu.jpg", i);
        sl_item it = {.path = path, .size = 1000 + (int64_t)i, .mtime_ns = 1, .width = 64, .height = 48};
        sl_embedding e = {g_id, g_dim, g_x + i * g_dim};
        REQUIRE(sl_catalog_put(cat, &it, &e, NULL) == SL_OK);
    }
    REQUIRE(sl_catalog_batch_commit(cat) == SL_OK);
}

/* A new library at lib holding items 0..N0 of g_x for the lite model's id. */
static void new_library(const char *lib) {
    sl_catalog *cat = NULL;
    REQUIRE(sl_catalog_open(lib, SL_CATALOG_CREATE, &cat) == SL_OK);
    REQUIRE(sl_catalog_set_model(cat, g_id, g_dim) == SL_OK);
    put_items(cat, 0, N0);
    sl_catalog_close(cat);
}

static const char *refresh(const char *lib) {
    sl_catalog *cat = NULL;
    REQUIRE(sl_catalog_open(lib, 0, &cat) == SL_OK);
    const char *action = NULL;
    sl_status st = sl_snapshot_refresh(cat, g_id, 0, MIN_ITEMS, 2, &action);
    CHECK_MSG(st == SL_OK, "refresh: %s", sl_last_error());
    sl_catalog_close(cat);
    return action ? action : "?";
}

static sl_searcher *open_searcher(const char *lib, int exact) {
    sl_searcher_opts o;
    sl_searcher_opts_init(&o);
    o.exact = exact;
    sl_searcher_internal in = {.force_dense = 1, .ann_min_items = MIN_ITEMS};
    sl_searcher *s = NULL;
    sl_status st = sl_searcher_open_ex(g_model, lib, &o, &in, &s);
    CHECK_MSG(st == SL_OK, "open: %s", sl_last_error());
    REQUIRE(s != NULL);
    return s;
}

/* Queries near stored items: recall@K of the ANN searcher against the
 * exact one, and every hit's similarity equal (bitwise) to the exact
 * score of that item, which the exact searcher reports when it finds it. */
static double recall_vs_exact(sl_searcher *ann, sl_searcher *exact) {
    uint64_t rs = 99;
    float *q = malloc(g_dim * sizeof *q);
    size_t found = 0, total = 0, same_bits = 0, compared = 0;
    for (int t = 0; t < QUERIES; t++) {
        const float *base = g_x + (size_t)(sl_test_rand(&rs) % N0) * g_dim;
        double norm = 0;
        for (uint32_t j = 0; j < g_dim; j++) {
            q[j] = base[j] + (float)((double)(sl_test_rand(&rs) % 1000) / 1000.0 - 0.5) * 0.05f;
            norm += (double)q[j] * q[j];
        }
        for (uint32_t j = 0; j < g_dim; j++) q[j] = (float)(q[j] / sqrt(norm));
        sl_results *ra = NULL, *re = NULL;
        REQUIRE(sl_search_vector(ann, q, K, &ra) == SL_OK);
        REQUIRE(sl_search_vector(exact, q, K, &re) == SL_OK);
        for (size_t i = 0; i < re->n; i++)
            for (size_t j = 0; j < ra->n; j++)
                if (re->hits[i].id == ra->hits[j].id) {
                    found++;
                    compared++;
                    same_bits += memcmp(&re->hits[i].similarity, &ra->hits[j].similarity, sizeof(float)) == 0;
                }
        total += re->n;
        sl_results_free(ra);
        sl_results_free(re);
    }
    CHECK_MSG(same_bits == compared, "%zu of %zu common hits differ in similarity", compared - same_bits, compared);
    free(q);
    return (double)found / (double)total;
}

static void test_dense_snapshot(void) {
    char lib[512];
    snprintf(lib, sizeof lib, "%s/dense.db", sl_test_tmpdir());
    new_library(lib);
    sl_catalog *cat = NULL;

    /* No snapshot yet: the searcher scans. */
    sl_searcher *exact = open_searcher(lib, 1), *s = open_searcher(lib, 0);
    CHECK(strcmp(sl_searcher_method_name(exact), "exact scan") == 0);
    CHECK(strcmp(sl_searcher_method_name(s), "exact scan") == 0);
    sl_searcher_free(s);

    CHECK(strcmp(refresh(lib), "built") == 0);
    CHECK(strcmp(refresh(lib), "kept") == 0);
    s = open_searcher(lib, 0);
    CHECK_MSG(s->ann != NULL, "fresh snapshot not used");
    double r = recall_vs_exact(s, exact);
    CHECK_MSG(r >= 0.9, "recall@10 through the snapshot %.3f", r);
    printf("dense snapshot: recall@%d %.3f vs the exact scan\n", K, r);
    sl_searcher_free(s);
    sl_searcher_free(exact);

    /* New and removed items make the snapshot stale: the scan answers
     * until the next refresh, which updates the snapshot in place. */
    REQUIRE(sl_catalog_open(lib, 0, &cat) == SL_OK);
    put_items(cat, N0, N0 + 200);
    sl_catalog_close(cat);
    REQUIRE(sl_test_sql_exec(lib, "PRAGMA foreign_keys = ON; DELETE FROM items WHERE id % 50 = 7;") == 0);
    s = open_searcher(lib, 0);
    CHECK_MSG(s->ann == NULL, "stale snapshot used");
    sl_searcher_free(s);
    CHECK(strcmp(refresh(lib), "updated") == 0);
    s = open_searcher(lib, 0);
    exact = open_searcher(lib, 1);
    CHECK(s->ann != NULL && sl_searcher_count(s) == sl_searcher_count(exact));
    r = recall_vs_exact(s, exact);
    CHECK_MSG(r >= 0.9, "recall@10 after an update in place %.3f", r);
    sl_searcher_free(s);
    sl_searcher_free(exact);

    /* A corrupt snapshot: searches still work (scan), refresh rebuilds. */
    REQUIRE(sl_test_sql_exec(lib, "UPDATE snapshots SET blob = x'00112233';") == 0);
    s = open_searcher(lib, 0);
    CHECK(s->ann == NULL);
    sl_searcher_free(s);
    CHECK(strcmp(refresh(lib), "built") == 0);

    /* Removing most items: a rebuild, not an update. */
    REQUIRE(sl_test_sql_exec(lib, "PRAGMA foreign_keys = ON; DELETE FROM items WHERE id % 3 = 0;") == 0);
    CHECK(strcmp(refresh(lib), "built") == 0);
    s = open_searcher(lib, 0);
    CHECK(s->ann != NULL);
    sl_searcher_free(s);

    /* Below the threshold: no snapshot work at all. */
    REQUIRE(sl_test_sql_exec(lib, "PRAGMA foreign_keys = ON; DELETE FROM items WHERE id > 1000;") == 0);
    CHECK(strcmp(refresh(lib), "none") == 0);
}

/* Both searchers give the same hits: ids, similarity bits, paths and
 * metadata. */
static int same_results(const sl_results *a, const sl_results *b) {
    if (a->n != b->n) return 0;
    for (size_t i = 0; i < a->n; i++) {
        const sl_result *x = &a->hits[i], *y = &b->hits[i];
        if (x->id != y->id || memcmp(&x->similarity, &y->similarity, sizeof(float)) || strcmp(x->path, y->path) ||
            (!x->metadata) != (!y->metadata) || (x->metadata && strcmp(x->metadata, y->metadata)) ||
            x->width != y->width || x->height != y->height)
            return 0;
    }
    return 1;
}

static const char *const TEXT_QUERIES[] = {
    "a dog sitting on a chair", "a man riding a wave on a surfboard", "two giraffes in a zoo",
    "a plate of food with broccoli", "a red double decker bus", "a cat sleeping on a laptop",
    "people skiing down a snowy hill", "a clock tower in a city", "a pizza on a table", "an airplane in the sky",
};

/* A sparse library shaped like lite image embeddings (~27 of 1,000
 * classes, a row's classes clustered by topic, positive, unit length). */
static void put_sparse_items(const char *lib, size_t n) {
    sl_catalog *cat = NULL;
    REQUIRE(sl_catalog_open(lib, SL_CATALOG_CREATE, &cat) == SL_OK);
    REQUIRE(sl_catalog_set_model(cat, g_id, g_dim) == SL_OK);
    REQUIRE(sl_catalog_batch_begin(cat) == SL_OK);
    uint64_t rs = 5;
    float *v = calloc(g_dim, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        memset(v, 0, g_dim * sizeof *v);
        const size_t topic = sl_test_rand(&rs) % 40;
        double norm = 0;
        for (int e = 0; e < 27; e++) {
            const size_t c = sl_test_rand(&rs) % 5 ? (topic * 25 + sl_test_rand(&rs) % 25) % g_dim
                                                   : sl_test_rand(&rs) % g_dim;
            v[c] = (float)((double)(sl_test_rand(&rs) % 1000 + 1) / 1000.0);
        }
        for (uint32_t c = 0; c < g_dim; c++) norm += (double)v[c] * v[c];
        for (uint32_t c = 0; c < g_dim; c++) v[c] = (float)(v[c] / sqrt(norm));
        char path[64], meta[64];
        snprintf(path, sizeof path, "/sparse/%06zu.jpg", i);
        snprintf(meta, sizeof meta, "{\"captions\": [\"item %zu\"]}", i);
        sl_item it = {.path = path, .size = 10, .mtime_ns = 1, .width = 640, .height = 480,
                      .metadata = i % 3 ? meta : NULL};
        sl_embedding e = {g_id, g_dim, v};
        REQUIRE(sl_catalog_put(cat, &it, &e, NULL) == SL_OK);
    }
    REQUIRE(sl_catalog_batch_commit(cat) == SL_OK);
    sl_catalog_close(cat);
    free(v);
}

static sl_searcher *open_plain(const char *path, int exact) {
    sl_searcher_opts o;
    sl_searcher_opts_init(&o);
    o.exact = exact;
    sl_searcher *s = NULL;
    sl_status st = sl_searcher_open(g_model, path, &o, &s);
    CHECK_MSG(st == SL_OK, "open %s: %s", path, sl_last_error());
    REQUIRE(s != NULL);
    return s;
}

static void check_text_queries(sl_searcher *a, sl_searcher *b, const char *what) {
    size_t same = 0;
    for (size_t i = 0; i < SL_ARRAY_LEN(TEXT_QUERIES); i++) {
        sl_results *ra = NULL, *rb = NULL;
        REQUIRE(sl_search_text(a, TEXT_QUERIES[i], 10, &ra) == SL_OK);
        REQUIRE(sl_search_text(b, TEXT_QUERIES[i], 10, &rb) == SL_OK);
        same += (size_t)same_results(ra, rb);
        sl_results_free(ra);
        sl_results_free(rb);
    }
    CHECK_MSG(same == SL_ARRAY_LEN(TEXT_QUERIES), "%s: %zu of %zu queries differ", what,
              SL_ARRAY_LEN(TEXT_QUERIES) - same, SL_ARRAY_LEN(TEXT_QUERIES));
}

static void test_sparse_and_app(void) {
    char lib[512], app[512];
    snprintf(lib, sizeof lib, "%s/sparse.db", sl_test_tmpdir());
    snprintf(app, sizeof app, "%s/sparse.sla", sl_test_tmpdir());
    put_sparse_items(lib, 5000);
    sl_searcher *exact = open_plain(lib, 1), *s = open_plain(lib, 0);
    CHECK(strcmp(sl_searcher_method_name(s), "posting lists (exact)") == 0);
    check_text_queries(s, exact, "posting lists vs scan");

    sl_library *l = NULL;
    REQUIRE(sl_library_open(lib, 0, &l) == SL_OK);
    sl_export_stats es;
    CHECK(sl_library_export(l, app, NULL, &es) == SL_OK);
    CHECK(es.items == 5000 && es.sparse == 1 && es.has_ann == 0 && es.bytes > 0);
    sl_library_close(l);
    sl_searcher *sa = open_plain(app, 0);
    CHECK(sl_searcher_count(sa) == 5000 && sa->have_postings);
    check_text_queries(sa, exact, "app file vs library");
    /* similar: a stored item's own path finds its stored row. */
    sl_results *r1 = NULL, *r2 = NULL;
    CHECK(sl_search_similar(sa, "/sparse/000042.jpg", 5, &r1) == SL_OK);
    CHECK(sl_search_similar(exact, "/sparse/000042.jpg", 5, &r2) == SL_OK);
    CHECK(r1 && r2 && same_results(r1, r2));
    sl_results_free(r1);
    sl_results_free(r2);
    sl_searcher_free(sa);

    /* A truncated app file is refused with a clear error, not mapped. */
    size_t size = 0;
    uint8_t *bytes = sl_test_read(app, &size);
    FILE *f = fopen(app, "wb");
    REQUIRE(f && fwrite(bytes, 1, size / 2, f) == size / 2);
    fclose(f);
    sl_searcher *bad = NULL;
    CHECK(sl_searcher_open(g_model, app, NULL, &bad) == SL_ERR_CORRUPT && bad == NULL);
    free(bytes);
    sl_searcher_free(s);
    sl_searcher_free(exact);
}

/* Of 20 queries near stored items, how many two searchers answer alike
 * (hit for hit, score for score). */
static size_t agreeing_queries(sl_searcher *a, sl_searcher *b) {
    float *q = malloc(g_dim * sizeof *q);
    REQUIRE(q != NULL);
    size_t agree = 0;
    for (int t = 0; t < 20; t++) {
        memcpy(q, g_x + (size_t)(t * 131) * g_dim, g_dim * sizeof *q);
        sl_results *ra = NULL, *rb = NULL;
        REQUIRE(sl_search_vector(a, q, K, &ra) == SL_OK && sl_search_vector(b, q, K, &rb) == SL_OK);
        agree += (size_t)same_results(ra, rb);
        sl_results_free(ra);
        sl_results_free(rb);
    }
    free(q);
    return agree;
}

/* A dense library's export carries its ANN index; the app searches with it
 * and answers exactly as the library's searcher does. */
static void test_dense_app(void) {
    char lib[512], app[512];
    snprintf(lib, sizeof lib, "%s/dense2.db", sl_test_tmpdir());
    snprintf(app, sizeof app, "%s/dense2.sla", sl_test_tmpdir());
    new_library(lib);
    /* The public export ships an index from 20,000 items (below, the app
     * scans exactly); the internal threshold is lowered to this library's
     * size. The export builds the snapshot in the library first. */
    sl_library *l = NULL;
    REQUIRE(sl_library_open(lib, 0, &l) == SL_OK);
    sl_export_stats es;
    CHECK(sl_library_export(l, app, NULL, &es) == SL_OK);
    CHECK(es.items == N0 && es.sparse == 0 && es.has_ann == 0);
    sl_searcher *sa = open_searcher(app, 0), *se = open_searcher(lib, 1);
    CHECK(strcmp(sl_searcher_method_name(sa), "exact scan") == 0);
    double r = recall_vs_exact(sa, se);
    CHECK_MSG(r == 1.0, "app file scan recall %.3f", r);
    sl_searcher_free(sa);

    CHECK(sl_library_export_ex(l, app, NULL, MIN_ITEMS, &es) == SL_OK);
    CHECK(es.items == N0 && es.sparse == 0 && es.has_ann == 1);
    sl_library_close(l);
    CHECK(strcmp(refresh(lib), "kept") == 0);
    sa = open_searcher(app, 0);
    sl_searcher *sl = open_searcher(lib, 0);
    CHECK(sa->ann != NULL && sl->ann != NULL);
    r = recall_vs_exact(sa, se);
    CHECK_MSG(r >= 0.9, "app file ANN recall %.3f", r);
    /* The same snapshot answers the same: app and library agree hit for hit. */
    size_t agree = agreeing_queries(sa, sl);
    CHECK_MSG(agree == 20, "app file and library differ on %zu of 20 queries", 20 - agree);
    sl_searcher_free(sl);
    sl_searcher_free(sa);
    sl_searcher_free(se);
}

/* A tuned model's library: rows with a sparse part and a dense part, which
 * the catalog stores sparse (smaller), and the ANN snapshot that
 * sl_library_index keeps for a dense model. Its export is dense with the
 * index, as the library's own searcher is; without a snapshot the same rows
 * export sparse (the lite model's rule). */
static void test_tuned_shaped_app(void) {
    char lib[512], app[512];
    snprintf(lib, sizeof lib, "%s/tuned.db", sl_test_tmpdir());
    snprintf(app, sizeof app, "%s/tuned.sla", sl_test_tmpdir());
    /* zero all but the first 13 % of each row, then renormalize */
    float *keep = g_x;
    const size_t live = g_dim * 13 / 100;
    g_x = malloc((size_t)(N0 + 200) * g_dim * sizeof *g_x);
    REQUIRE(g_x != NULL);
    for (size_t i = 0; i < (size_t)N0 + 200; i++) {
        double n2 = 0;
        for (size_t j = 0; j < g_dim; j++) {
            float v = j < live ? keep[i * g_dim + j] : 0.0f;
            g_x[i * g_dim + j] = v;
            n2 += (double)v * v;
        }
        for (size_t j = 0; j < live; j++) g_x[i * g_dim + j] /= (float)sqrt(n2);
    }
    new_library(lib);
    sl_library *l = NULL;
    sl_export_stats es;
    REQUIRE(sl_library_open(lib, 0, &l) == SL_OK);
    CHECK(sl_library_export_ex(l, app, NULL, MIN_ITEMS, &es) == SL_OK);
    CHECK_MSG(es.sparse == 1 && es.has_ann == 0, "no snapshot: sparse %d ann %d", es.sparse, es.has_ann);
    sl_library_close(l);
    CHECK(strcmp(refresh(lib), "built") == 0); /* what indexing with a dense model does */
    REQUIRE(sl_library_open(lib, 0, &l) == SL_OK);
    CHECK(sl_library_export_ex(l, app, NULL, MIN_ITEMS, &es) == SL_OK);
    CHECK_MSG(es.items == N0 && es.sparse == 0 && es.has_ann == 1, "with a snapshot: sparse %d ann %d", es.sparse,
              es.has_ann);
    sl_library_close(l);
    CHECK(strcmp(refresh(lib), "kept") == 0);
    sl_searcher *sa = open_searcher(app, 0), *sl = open_searcher(lib, 0);
    CHECK(sa->ann != NULL && sl->ann != NULL);
    size_t agree = agreeing_queries(sa, sl);
    CHECK_MSG(agree == 20, "app file and library differ on %zu of 20 queries", 20 - agree);
    sl_searcher_free(sl);
    sl_searcher_free(sa);
    free(g_x);
    g_x = keep;
}

int main(void) {
    sl_status st = sl_model_open(sl_test_lite_model(), &g_model);
    REQUIRE(st == SL_OK);
    g_id = sl_model_id(g_model);
    g_dim = sl_model_dim(g_model);
    g_x = sl_test_clustered(N0 + 200, g_dim, 1, 42);
    test_dense_snapshot();
    test_sparse_and_app();
    test_dense_app();
    test_tuned_shaped_app();
    free(g_x);
    sl_model_free(g_model);
    return sl_test_summary();
}
