/* Search methods of the searcher (docs/SEARCH.md): a dense library's ANN
 * snapshot (built, kept, updated in place, rebuilt, ignored when stale or
 * corrupt) against the exact scan, and the sparse posting lists against
 * the scan on a real lite library. */
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
    sl_catalog *cat = NULL;
    REQUIRE(sl_catalog_open(lib, SL_CATALOG_CREATE, &cat) == SL_OK);
    REQUIRE(sl_catalog_set_model(cat, g_id, g_dim) == SL_OK);
    put_items(cat, 0, N0);
    sl_catalog_close(cat);

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

int main(void) {
    sl_status st = sl_model_open(sl_test_lite_model(), &g_model);
    REQUIRE(st == SL_OK);
    g_id = sl_model_id(g_model);
    g_dim = sl_model_dim(g_model);
    g_x = sl_test_clustered(N0 + 200, g_dim, 1, 42);
    test_dense_snapshot();
    free(g_x);
    sl_model_free(g_model);
    return sl_test_summary();
}
