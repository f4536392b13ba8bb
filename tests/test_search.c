/* The searcher and `searchlite eval` end to end with the real lite model on
 * coco-train80: a library built through the catalog, text, vector and
 * image queries checked against brute force, thread and scan-kind
 * independence, the refusals, and the retrieval figures of the design
 * study (docs/research/lite-zero-shot.md §4). */
#include "api/search_internal.h"
#include "searcher/captions.h"
#include "testlib.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define N_IMG 80
#define K 10

/* What the test put into the library, per image of captions.json. */
typedef struct indexed {
    int64_t id;
    char path[PATH_MAX];
    char *metadata;
    int32_t width, height;
    float *vec; /* (dim) */
} indexed;

static sl_model *g_model;
static uint32_t g_dim;
static sl_captions g_caps;
static indexed g_img[N_IMG];
static char g_lib[512];

static const indexed *by_id(int64_t id) {
    for (int i = 0; i < N_IMG; i++)
        if (g_img[i].id == id) return &g_img[i];
    return NULL;
}

static double dot(const float *a, const float *b) {
    double s = 0;
    for (uint32_t j = 0; j < g_dim; j++) s += (double)a[j] * b[j];
    return s;
}

static char *make_metadata(size_t image) {
    cJSON *o = cJSON_CreateObject();
    cJSON *caps = cJSON_AddArrayToObject(o, "captions");
    for (size_t a = 0; a < g_caps.n_captions; a++)
        if (g_caps.caption_img[a] == image) cJSON_AddItemToArray(caps, cJSON_CreateString(g_caps.captions[a]));
    cJSON_AddNumberToObject(o, "coco_id", (double)g_caps.images[image].id);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* Puts every image of coco-train80 with its embedding by the real model. */
static void build_library(void) {
    REQUIRE(sl_captions_load(sl_test_asset("coco-train80/captions.json"), &g_caps) == SL_OK);
    REQUIRE(g_caps.n_images == N_IMG && g_caps.n_captions == 400);
    snprintf(g_lib, sizeof g_lib, "%s/library.db", sl_test_tmpdir());
    sl_catalog *cat;
    REQUIRE(sl_catalog_open(g_lib, SL_CATALOG_CREATE, &cat) == SL_OK);
    REQUIRE(sl_catalog_set_model(cat, sl_model_id(g_model), g_dim) == SL_OK);
    REQUIRE(sl_catalog_batch_begin(cat) == SL_OK);
    for (size_t i = 0; i < N_IMG; i++) {
        indexed *x = &g_img[i];
        char rel[256];
        snprintf(rel, sizeof rel, "coco-train80/images/%s", g_caps.images[i].file_name);
        REQUIRE(realpath(sl_test_asset(rel), x->path) != NULL);
        struct stat st;
        REQUIRE(stat(x->path, &st) == 0);
        x->vec = malloc(g_dim * sizeof *x->vec);
        uint32_t w, h;
        REQUIRE(sl_model_embed_file(g_model, x->path, x->vec, &w, &h) == SL_OK);
        x->width = (int32_t)w;
        x->height = (int32_t)h;
        x->metadata = make_metadata(i);
        sl_item item = {.path = x->path, .size = st.st_size, .mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000,
                        .width = x->width, .height = x->height, .metadata = x->metadata};
        sl_embedding emb = {sl_model_id(g_model), g_dim, x->vec};
        REQUIRE(sl_catalog_put(cat, &item, &emb, &x->id) == SL_OK);
    }
    REQUIRE(sl_catalog_batch_commit(cat) == SL_OK);
    sl_catalog_close(cat);
}

static int same_results(const sl_results *a, const sl_results *b) {
    if (a->n != b->n) return 0;
    for (size_t i = 0; i < a->n; i++)
        if (a->hits[i].id != b->hits[i].id || a->hits[i].similarity != b->hits[i].similarity ||
            strcmp(a->hits[i].path, b->hits[i].path) != 0)
            return 0;
    return 1;
}

/* Every caption as a query: recall, order, scores, items, exactness. */
static void test_text_queries(sl_searcher *s) {
    CHECK(sl_searcher_count(s) == N_IMG);
    float *q = malloc(g_dim * sizeof *q);
    size_t found = 0, bad_order = 0, bad_score = 0, bad_item = 0, not_best = 0, n_hits = 0;
    double t0 = sl_now();
    for (size_t a = 0; a < g_caps.n_captions; a++) {
        sl_results *r = NULL;
        sl_status st = sl_search_text(s, g_caps.captions[a], K, &r);
        CHECK_MSG(st == SL_OK && r && r->n == K, "caption %zu: %s", a, sl_last_error());
        if (st) continue;
        REQUIRE(sl_model_embed_text(g_model, g_caps.captions[a], q) == SL_OK);
        /* the tenth best score by brute force */
        double scores[N_IMG], tenth;
        for (int i = 0; i < N_IMG; i++) scores[i] = dot(q, g_img[i].vec);
        for (int i = 0; i < K; i++)
            for (int j = i + 1; j < N_IMG; j++)
                if (scores[j] > scores[i]) {
                    double t = scores[i];
                    scores[i] = scores[j];
                    scores[j] = t;
                }
        tenth = scores[K - 1];
        for (size_t h = 0; h < r->n; h++) {
            const sl_result *x = &r->hits[h];
            const indexed *want = by_id(x->id);
            n_hits++;
            if (!want) {
                bad_item++;
                continue;
            }
            if (want == &g_img[g_caps.caption_img[a]]) found++;
            if (h && (x->similarity > r->hits[h - 1].similarity ||
                      (x->similarity == r->hits[h - 1].similarity && x->id < r->hits[h - 1].id)))
                bad_order++;
            double d = dot(q, want->vec);
            if (fabs(d - x->similarity) > 1e-5 || x->similarity < -1 || x->similarity > 1) bad_score++;
            if (d < tenth - 1e-5) not_best++;
            if (strcmp(x->path, want->path) || !x->metadata || strcmp(x->metadata, want->metadata) ||
                x->width != want->width || x->height != want->height)
                bad_item++;
        }
        sl_results_free(r);
    }
    double dt = sl_now() - t0;
    double rate = (double)found / (double)g_caps.n_captions;
    printf("search_text on %d items: %zu of %zu captions find their image in the top %d (%.1f %%), "
           "%.3f ms per query (embedding included)\n",
           N_IMG, found, g_caps.n_captions, K, 100 * rate, 1000 * dt / (double)g_caps.n_captions);
    CHECK_MSG(rate >= 0.75, "top-%d hit rate %.3f below 0.75 (the pipeline measured 0.812)", K, rate);
    CHECK(n_hits == K * g_caps.n_captions);
    CHECK_MSG(bad_order == 0, "%zu hits out of order", bad_order);
    CHECK_MSG(bad_score == 0, "%zu similarities differ from the dot product", bad_score);
    CHECK_MSG(bad_item == 0, "%zu hits with a wrong path, metadata or size", bad_item);
    CHECK_MSG(not_best == 0, "%zu hits outside the brute-force top %d", not_best, K);

    /* The scan alone, without embedding the query. */
    t0 = sl_now();
    int reps = 2000;
    for (int i = 0; i < reps; i++) {
        sl_results *r;
        REQUIRE(sl_search_vector(s, g_img[i % N_IMG].vec, K, &r) == SL_OK);
        sl_results_free(r);
    }
    printf("search_vector on %d items: %.2f us per query (k = %d, %s scan)\n", N_IMG,
           1e6 * (sl_now() - t0) / reps, K, s->sparse ? "sparse" : "dense");
    free(q);
}

/* ---- thread and scan-kind independence ------------------------------------- */

typedef struct thread_arg {
    sl_searcher *s;
    sl_results **expect; /* per caption */
    size_t first;
    int mismatches;
} thread_arg;

static void *query_thread(void *p) {
    thread_arg *t = p;
    for (size_t n = 0; n < g_caps.n_captions; n++) {
        size_t a = (t->first + n) % g_caps.n_captions;
        sl_results *r = NULL;
        if (sl_search_text(t->s, g_caps.captions[a], K, &r) != SL_OK || !same_results(r, t->expect[a]))
            t->mismatches++;
        sl_results_free(r);
    }
    return NULL;
}

static void test_threads_and_dense(sl_searcher *s1) {
    sl_searcher_opts o;
    sl_searcher_opts_init(&o);
    CHECK(o.n_threads == 1);
    o.n_threads = 2;
    sl_searcher *s2, *sd;
    REQUIRE(sl_searcher_open(g_model, g_lib, &o, &s2) == SL_OK);
    REQUIRE(sl_searcher_open_ex(g_model, g_lib, NULL, &(sl_searcher_internal){.force_dense = 1}, &sd) == SL_OK);
    CHECK(s1->sparse && !sd->sparse && sl_searcher_count(sd) == N_IMG);

    sl_results **expect = calloc(g_caps.n_captions, sizeof *expect);
    size_t diff_threads = 0, diff_dense = 0, diff_dense_score = 0;
    for (size_t a = 0; a < g_caps.n_captions; a++) {
        sl_results *r2 = NULL, *rd = NULL;
        REQUIRE(sl_search_text(s1, g_caps.captions[a], K, &expect[a]) == SL_OK);
        REQUIRE(sl_search_text(s2, g_caps.captions[a], K, &r2) == SL_OK);
        REQUIRE(sl_search_text(sd, g_caps.captions[a], K, &rd) == SL_OK);
        diff_threads += !same_results(expect[a], r2);
        /* Sparse and dense scans sum in different orders: the same hits,
         * scores equal to rounding. */
        if (rd->n != expect[a]->n) diff_dense++;
        else
            for (size_t h = 0; h < rd->n; h++) {
                diff_dense += rd->hits[h].id != expect[a]->hits[h].id;
                diff_dense_score += fabsf(rd->hits[h].similarity - expect[a]->hits[h].similarity) > 1e-6f;
            }
        sl_results_free(r2);
        sl_results_free(rd);
    }
    CHECK_MSG(diff_threads == 0, "%zu queries differ between 1 and 2 threads", diff_threads);
    CHECK_MSG(diff_dense == 0, "%zu hits differ between the sparse and the dense scan", diff_dense);
    CHECK(diff_dense_score == 0);

    /* Four threads querying one searcher at once (its pool and its catalog
     * connection shared) answer exactly as one thread alone. */
    pthread_t tid[4];
    thread_arg args[4];
    for (int t = 0; t < 4; t++) {
        args[t] = (thread_arg){t % 2 ? s2 : s1, expect, (size_t)t * 97, 0};
        REQUIRE(pthread_create(&tid[t], NULL, query_thread, &args[t]) == 0);
    }
    for (int t = 0; t < 4; t++) {
        pthread_join(tid[t], NULL);
        CHECK_MSG(args[t].mismatches == 0, "thread %d: %d results differ", t, args[t].mismatches);
    }
    for (size_t a = 0; a < g_caps.n_captions; a++) sl_results_free(expect[a]);
    free(expect);
    sl_searcher_free(s2);
    sl_searcher_free(sd);
}

/* A synthetic library large enough for the scans to split over threads
 * (several 4,096-row sparse blocks and 2,048-row dense blocks), with
 * duplicated vectors so that exact ties occur: 1 or 3 threads, sparse or
 * dense, every answer is the same and ties go to the lower item id. */
#define N_BIG 10000
static void test_large_library(void) {
    char path[512];
    snprintf(path, sizeof path, "%s/large.db", sl_test_tmpdir());
    sl_catalog *cat;
    REQUIRE(sl_catalog_open(path, SL_CATALOG_CREATE, &cat) == SL_OK);
    REQUIRE(sl_catalog_set_model(cat, sl_model_id(g_model), g_dim) == SL_OK);
    REQUIRE(sl_catalog_batch_begin(cat) == SL_OK);
    float *x = calloc((size_t)N_BIG * g_dim, sizeof *x);
    int64_t *ids = malloc(N_BIG * sizeof *ids);
    uint64_t rng = 42;
    for (int i = 0; i < N_BIG; i++) {
        float *v = x + (size_t)i * g_dim;
        if (i % 7 == 6) {
            memcpy(v, x + (size_t)(i - 3) * g_dim, g_dim * sizeof *v); /* a duplicate: exact ties */
        } else {
            double norm = 0;
            for (int e = 0; e < 30; e++) {
                uint32_t j = (uint32_t)(sl_test_rand(&rng) % g_dim);
                v[j] = (float)(sl_test_rand(&rng) % 1000) / 1000.0f;
            }
            for (uint32_t j = 0; j < g_dim; j++) norm += (double)v[j] * v[j];
            for (uint32_t j = 0; j < g_dim && norm > 0; j++) v[j] = (float)(v[j] / sqrt(norm));
        }
        char p[64];
        snprintf(p, sizeof p, "/synthetic/%05d.jpg", i);
        sl_item item = {.path = p, .size = i, .width = 640, .height = 480};
        sl_embedding emb = {sl_model_id(g_model), g_dim, v};
        REQUIRE(sl_catalog_put(cat, &item, &emb, &ids[i]) == SL_OK);
    }
    REQUIRE(sl_catalog_batch_commit(cat) == SL_OK);
    sl_catalog_close(cat);

    sl_searcher_opts o1, o3;
    sl_searcher_opts_init(&o1);
    sl_searcher_opts_init(&o3);
    o3.n_threads = 3;
    sl_searcher *s1, *s3, *d1, *d3;
    REQUIRE(sl_searcher_open(g_model, path, &o1, &s1) == SL_OK);
    REQUIRE(sl_searcher_open(g_model, path, &o3, &s3) == SL_OK);
    REQUIRE(sl_searcher_open_ex(g_model, path, &o1, &(sl_searcher_internal){.force_dense = 1}, &d1) == SL_OK);
    REQUIRE(sl_searcher_open_ex(g_model, path, &o3, &(sl_searcher_internal){.force_dense = 1}, &d3) == SL_OK);
    CHECK(sl_searcher_count(s1) == N_BIG && s3->pool && d3->pool);
    size_t diff_threads = 0, diff_kind = 0, bad_ties = 0, ties = 0, not_best = 0;
    for (int qi = 0; qi < 40; qi++) {
        /* item vectors (a duplicated one every other query) and captions */
        float *q = malloc(g_dim * sizeof *q);
        if (qi % 2) memcpy(q, x + (size_t)(7 * qi + 3) * g_dim, g_dim * sizeof *q);
        else REQUIRE(sl_model_embed_text(g_model, g_caps.captions[qi], q) == SL_OK);
        sl_results *r[4];
        sl_searcher *all[4] = {s1, s3, d1, d3};
        for (int m = 0; m < 4; m++) REQUIRE(sl_search_vector(all[m], q, 25, &r[m]) == SL_OK && r[m]->n == 25);
        diff_threads += !same_results(r[0], r[1]) + !same_results(r[2], r[3]);
        double worst = 2;
        for (size_t h = 0; h < r[0]->n; h++) {
            diff_kind += r[0]->hits[h].id != r[2]->hits[h].id;
            worst = SL_MIN(worst, r[0]->hits[h].similarity);
            if (h && r[0]->hits[h].similarity == r[0]->hits[h - 1].similarity) {
                ties++;
                bad_ties += r[0]->hits[h].id < r[0]->hits[h - 1].id;
            }
            CHECK(r[0]->hits[h].metadata == NULL && r[0]->hits[h].width == 640);
        }
        /* nothing left out scores clearly better than the last hit kept */
        size_t better = 0;
        for (int i = 0; i < N_BIG; i++) better += dot(q, x + (size_t)i * g_dim) > worst + 1e-5;
        not_best += better > 25;
        for (int m = 0; m < 4; m++) sl_results_free(r[m]);
        free(q);
    }
    printf("large library (%d items): %zu exact ties among the hits\n", N_BIG, ties);
    CHECK_MSG(diff_threads == 0, "%zu queries differ between 1 and 3 threads", diff_threads);
    CHECK_MSG(diff_kind == 0, "%zu hits differ between the sparse and the dense scan", diff_kind);
    CHECK(ties >= 20 && bad_ties == 0);
    CHECK(not_best == 0);
    sl_searcher_free(s1);
    sl_searcher_free(s3);
    sl_searcher_free(d1);
    sl_searcher_free(d3);
    free(ids);
    free(x);
}

/* ---- image queries ----------------------------------------------------------- */

static void test_similar(sl_searcher *s) {
    size_t self_hits = 0, differ = 0;
    for (int i = 0; i < N_IMG; i++) {
        sl_results *r = NULL, *v = NULL;
        REQUIRE(sl_search_similar(s, g_img[i].path, 5, &r) == SL_OK);
        REQUIRE(sl_search_vector(s, g_img[i].vec, 6, &v) == SL_OK);
        CHECK(r->n == 5);
        for (size_t h = 0; h < r->n; h++) self_hits += r->hits[h].id == g_img[i].id;
        /* the vector search minus the image itself */
        size_t h = 0;
        for (size_t j = 0; j < v->n && h < r->n; j++) {
            if (v->hits[j].id == g_img[i].id) continue;
            differ += v->hits[j].id != r->hits[h].id || v->hits[j].similarity != r->hits[h].similarity;
            h++;
        }
        sl_results_free(r);
        sl_results_free(v);
    }
    CHECK_MSG(self_hits == 0, "an image was returned as similar to itself %zu times", self_hits);
    CHECK_MSG(differ == 0, "%zu hits differ from the vector search", differ);

    /* A path that is not in the normalized form the library stores. */
    char rel[PATH_MAX + 8];
    const char *slash = strrchr(g_img[3].path, '/');
    snprintf(rel, sizeof rel, "%.*s/./%s", (int)(slash - g_img[3].path), g_img[3].path, slash + 1);
    sl_results *r = NULL;
    REQUIRE(sl_search_similar(s, rel, N_IMG, &r) == SL_OK);
    CHECK(r->n == N_IMG - 1);
    for (size_t h = 0; h < r->n; h++) CHECK(r->hits[h].id != g_img[3].id);
    sl_results_free(r);

    /* A file outside the library: embedded on the fly. */
    const char *outside = sl_test_asset("samples/grace_hopper.bmp");
    float *q = malloc(g_dim * sizeof *q);
    REQUIRE(sl_model_embed_file(g_model, outside, q, NULL, NULL) == SL_OK);
    sl_results *v = NULL;
    REQUIRE(sl_search_similar(s, outside, 7, &r) == SL_OK);
    REQUIRE(sl_search_vector(s, q, 7, &v) == SL_OK);
    CHECK(r->n == 7 && same_results(r, v));
    sl_results_free(r);
    sl_results_free(v);

    /* A copy of an indexed photo outside the library finds the original. */
    char copy[512];
    snprintf(copy, sizeof copy, "%s/copy of %s", sl_test_tmpdir(), strrchr(g_img[5].path, '/') + 1);
    size_t size;
    uint8_t *bytes = sl_test_read(g_img[5].path, &size);
    FILE *f = fopen(copy, "wb");
    REQUIRE(f && fwrite(bytes, 1, size, f) == size && fclose(f) == 0);
    free(bytes);
    REQUIRE(sl_search_similar(s, copy, 3, &r) == SL_OK);
    CHECK(r->n == 3 && r->hits[0].id == g_img[5].id && r->hits[0].similarity > 0.9999f);
    sl_results_free(r);

    CHECK(sl_search_similar(s, "/nonexistent/photo.jpg", 3, &r) == SL_ERR_IO && r == NULL);
    CHECK(strstr(sl_last_error(), "/nonexistent/photo.jpg") != NULL);
    free(q);
}

/* ---- refusals ----------------------------------------------------------------- */

static void test_errors(sl_searcher *s) {
    sl_results *r = (sl_results *)&r;
    CHECK(sl_search_text(s, "qwxzvvk", 5, &r) == SL_ERR_NOT_FOUND && r == NULL);
    CHECK_MSG(strstr(sl_last_error(), "qwxzvvk") != NULL, "message: %s", sl_last_error());
    CHECK(sl_search_text(s, "a dog", 0, &r) == SL_ERR_ARG && *sl_last_error());
    CHECK(sl_search_vector(s, g_img[0].vec, 0, &r) == SL_ERR_ARG);
    CHECK(sl_search_similar(s, g_img[0].path, 0, &r) == SL_ERR_ARG);
    CHECK(sl_search_text(NULL, "a dog", 5, &r) == SL_ERR_ARG);
    CHECK(sl_search_text(s, NULL, 5, &r) == SL_ERR_ARG);
    CHECK(sl_search_vector(s, NULL, 5, &r) == SL_ERR_ARG);
    float *nan_q = calloc(g_dim, sizeof *nan_q);
    nan_q[7] = NAN;
    CHECK(sl_search_vector(s, nan_q, 5, &r) == SL_ERR_ARG);
    free(nan_q);
    /* k beyond the library: every item once. */
    REQUIRE(sl_search_vector(s, g_img[0].vec, SIZE_MAX, &r) == SL_OK);
    CHECK(r->n == N_IMG && r->hits[0].id == g_img[0].id);
    sl_results_free(r);
    sl_results_free(NULL);
    sl_searcher_free(NULL);
    CHECK(sl_searcher_count(NULL) == 0);

    sl_searcher *x = (sl_searcher *)&x;
    char path[512];
    /* missing file: never created */
    snprintf(path, sizeof path, "%s/missing.db", sl_test_tmpdir());
    CHECK(sl_searcher_open(g_model, path, NULL, &x) == SL_ERR_NOT_FOUND && x == NULL);
    CHECK(access(path, F_OK) != 0);
    /* a library without a model, and one with a model but no embeddings */
    sl_catalog *cat;
    snprintf(path, sizeof path, "%s/empty.db", sl_test_tmpdir());
    REQUIRE(sl_catalog_open(path, SL_CATALOG_CREATE, &cat) == SL_OK);
    sl_catalog_close(cat);
    CHECK(sl_searcher_open(g_model, path, NULL, &x) == SL_ERR_STATE && x == NULL);
    CHECK_MSG(strstr(sl_last_error(), "searchlite index") != NULL, "message: %s", sl_last_error());
    REQUIRE(sl_catalog_open(path, 0, &cat) == SL_OK);
    REQUIRE(sl_catalog_set_model(cat, sl_model_id(g_model), g_dim) == SL_OK);
    sl_item item = {.path = "/photos/a.jpg", .size = 1};
    REQUIRE(sl_catalog_put(cat, &item, NULL, NULL) == SL_OK); /* an item, no embedding */
    sl_catalog_close(cat);
    CHECK(sl_searcher_open(g_model, path, NULL, &x) == SL_ERR_STATE);
    CHECK_MSG(strstr(sl_last_error(), "no embeddings") != NULL, "message: %s", sl_last_error());
    /* another model's library, and the same id with another dimension */
    const char *other[2] = {"searchlite-test-other/1", sl_model_id(g_model)};
    uint32_t dims[2] = {g_dim, 16};
    for (int m = 0; m < 2; m++) {
        snprintf(path, sizeof path, "%s/other%d.db", sl_test_tmpdir(), m);
        REQUIRE(sl_catalog_open(path, SL_CATALOG_CREATE, &cat) == SL_OK);
        REQUIRE(sl_catalog_set_model(cat, other[m], dims[m]) == SL_OK);
        sl_embedding emb = {other[m], dims[m], g_img[0].vec};
        REQUIRE(sl_catalog_put(cat, &item, &emb, NULL) == SL_OK);
        sl_catalog_close(cat);
        CHECK(sl_searcher_open(g_model, path, NULL, &x) == SL_ERR_STATE && x == NULL);
        CHECK_MSG(strstr(sl_last_error(), other[m]) && strstr(sl_last_error(), sl_model_id(g_model)) &&
                      strstr(sl_last_error(), "re-index"),
                  "message: %s", sl_last_error());
    }
    CHECK(sl_searcher_open(NULL, g_lib, NULL, &x) == SL_ERR_ARG);
    CHECK(sl_searcher_open(g_model, g_lib, NULL, NULL) == SL_ERR_ARG);
}

/* An item forgotten after the searcher opened is left out, not an error. */
static void test_deleted_item(void) {
    sl_searcher *s;
    REQUIRE(sl_searcher_open(g_model, g_lib, NULL, &s) == SL_OK);
    sl_catalog *cat;
    REQUIRE(sl_catalog_open(g_lib, 0, &cat) == SL_OK);
    int64_t gen, removed = 0;
    REQUIRE(sl_catalog_begin_scan(cat, &gen) == SL_OK);
    for (int i = 0; i < N_IMG; i++)
        if (i != 9) REQUIRE(sl_catalog_touch(cat, g_img[i].id) == SL_OK);
    REQUIRE(sl_catalog_end_scan(cat, gen, NULL, 0, &removed) == SL_OK && removed == 1);
    sl_catalog_close(cat);
    sl_results *r = NULL;
    REQUIRE(sl_search_vector(s, g_img[9].vec, 5, &r) == SL_OK);
    CHECK(r->n == 4);
    for (size_t h = 0; h < r->n; h++) CHECK(r->hits[h].id != g_img[9].id && by_id(r->hits[h].id));
    sl_results_free(r);
    CHECK(sl_searcher_count(s) == N_IMG); /* the loaded rows stay as opened */
    sl_searcher_free(s);
    REQUIRE(sl_searcher_open(g_model, g_lib, NULL, &s) == SL_OK);
    CHECK(sl_searcher_count(s) == N_IMG - 1);
    sl_searcher_free(s);
}

/* ---- evaluation ----------------------------------------------------------------- */

typedef struct progress_log {
    size_t calls, last, total, cancel_at;
    int in_order;
    pthread_t caller;
} progress_log;

static int on_progress(void *user, size_t done, size_t total) {
    progress_log *p = user;
    p->in_order &= done == p->last + 1 && pthread_equal(pthread_self(), p->caller);
    p->last = done;
    p->total = total;
    p->calls++;
    return p->cancel_at && done >= p->cancel_at;
}

static void test_eval(void) {
    const char *caps = sl_test_asset("coco-train80/captions.json");
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", sl_test_asset("coco-train80/images"));
    sl_eval_opts o;
    sl_eval_opts_init(&o);
    CHECK(o.n_threads == 2 && o.progress == NULL);
    progress_log pl = {.in_order = 1, .caller = pthread_self()};
    o.progress = on_progress;
    o.progress_user = &pl;
    sl_eval_report rep;
    REQUIRE(sl_eval_captions(g_model, caps, dir, &o, &rep) == SL_OK);
    const sl_recall *t = &rep.text_to_image, *i = &rep.image_to_text;
    printf("eval text->image: R@1 %.1f %%  R@5 %.1f %%  R@10 %.1f %%  median rank %.1f (%zu captions)\n",
           100 * t->r1, 100 * t->r5, 100 * t->r10, t->median_rank, t->n_queries);
    printf("eval image->text: R@1 %.1f %%  R@5 %.1f %%  R@10 %.1f %%  median rank %.1f (%zu images)\n",
           100 * i->r1, 100 * i->r5, 100 * i->r10, i->median_rank, i->n_queries);
    printf("eval: %zu images in %.2f s, %zu captions in %.3f s, %zu unknown\n", rep.n_images, rep.seconds_images,
           rep.n_captions, rep.seconds_text, rep.n_captions_unknown);
    CHECK(rep.n_images == 80 && rep.n_captions == 400 && rep.n_captions_unknown == 0);
    CHECK(t->n_queries == 400 && i->n_queries == 80);
    CHECK_MSG(t->r10 >= 0.78 && t->r1 >= 0.32 && t->median_rank <= 4, "text->image below the study's figures");
    CHECK_MSG(i->r10 >= 0.80, "image->text R@10 %.3f below 0.80", i->r10);
    CHECK(rep.seconds_images > 0 && rep.seconds_text > 0);
    CHECK_MSG(pl.calls == 80 && pl.last == 80 && pl.total == 80 && pl.in_order, "progress: %zu calls", pl.calls);

    /* The thread count changes nothing but the time. */
    sl_eval_opts o3;
    sl_eval_opts_init(&o3);
    o3.n_threads = 3;
    sl_eval_report rep3;
    REQUIRE(sl_eval_captions(g_model, caps, dir, &o3, &rep3) == SL_OK);
    CHECK(!memcmp(&rep3.text_to_image, t, sizeof *t) && !memcmp(&rep3.image_to_text, i, sizeof *i));

    /* Cancelling from the progress callback. */
    pl = (progress_log){.in_order = 1, .caller = pthread_self(), .cancel_at = 5};
    CHECK(sl_eval_captions(g_model, caps, dir, &o, &rep) == SL_ERR_STATE);
    CHECK(strstr(sl_last_error(), "cancelled") != NULL && rep.n_images == 0);
    CHECK(pl.calls == 5 && pl.in_order);

    /* A small captions file of our own: a caption without a known word, and
     * later a missing image, named in the message. */
    char small[512];
    snprintf(small, sizeof small, "%s/small.json", sl_test_tmpdir());
    FILE *f = fopen(small, "w");
    REQUIRE(f);
    fprintf(f,
            "{\"images\":[{\"id\":1,\"file_name\":\"%s\"},{\"id\":2,\"file_name\":\"%s\"}],"
            "\"annotations\":[{\"image_id\":1,\"caption\":\"%s\"},{\"image_id\":2,\"caption\":\"qwxzvvk\"},"
            "{\"image_id\":2,\"caption\":\"%s\"}]}",
            g_caps.images[0].file_name, g_caps.images[1].file_name, g_caps.captions[0], g_caps.captions[1]);
    fclose(f);
    REQUIRE(sl_eval_captions(g_model, small, dir, NULL, &rep) == SL_OK);
    CHECK(rep.n_images == 2 && rep.n_captions == 3 && rep.n_captions_unknown == 1);
    CHECK(rep.text_to_image.n_queries == 3);

    f = fopen(small, "w");
    REQUIRE(f);
    fprintf(f,
            "{\"images\":[{\"id\":1,\"file_name\":\"%s\"},{\"id\":2,\"file_name\":\"no-such-photo.jpg\"},"
            "{\"id\":3,\"file_name\":\"%s\"}],\"annotations\":[{\"image_id\":1,\"caption\":\"a dog\"}]}",
            g_caps.images[0].file_name, g_caps.images[1].file_name);
    fclose(f);
    CHECK(sl_eval_captions(g_model, small, dir, NULL, &rep) == SL_ERR_IO);
    CHECK_MSG(strstr(sl_last_error(), "no-such-photo.jpg") != NULL, "message: %s", sl_last_error());
    CHECK(sl_eval_captions(g_model, "/nonexistent/captions.json", dir, NULL, &rep) == SL_ERR_IO);
    CHECK(sl_eval_captions(NULL, caps, dir, NULL, &rep) == SL_ERR_ARG);
    CHECK(sl_eval_captions(g_model, caps, NULL, NULL, &rep) == SL_ERR_ARG);
}

int main(void) {
    REQUIRE(sl_model_open(sl_test_lite_model(), &g_model) == SL_OK);
    g_dim = sl_model_dim(g_model);
    REQUIRE(g_dim > 0 && sl_model_sparse(g_model));
    build_library();

    sl_searcher *s;
    sl_status st = sl_searcher_open(g_model, g_lib, NULL, &s);
    REQUIRE(st == SL_OK);
    test_text_queries(s);
    test_threads_and_dense(s);
    test_large_library();
    test_similar(s);
    test_errors(s);
    sl_searcher_free(s);
    test_deleted_item();
    test_eval();

    for (int i = 0; i < N_IMG; i++) {
        free(g_img[i].vec);
        cJSON_free(g_img[i].metadata);
    }
    sl_captions_free(&g_caps);
    sl_model_free(g_model);
    return sl_test_summary();
}
