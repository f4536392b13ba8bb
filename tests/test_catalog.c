/* Tests of the SQLite library catalog: creation and reopening, refusal of
 * foreign, newer, truncated and corrupt files, model identity, incremental
 * scans, crash safety of batches (a child killed with SIGKILL mid-batch),
 * bit-exact embedding round trips (dense and sparse storage, both loaders),
 * corrupt embedding blobs, metadata and path fidelity, snapshots.
 * SQLite itself (the sqlite3 C API) is the independent reference used to
 * forge and inspect files. */
#include "catalog/catalog.h"
#include "testlib.h"

#include <float.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char g_path[512];

static const char *tmp(const char *name) {
    snprintf(g_path, sizeof g_path, "%s/%s", sl_test_tmpdir(), name);
    return g_path;
}

static void write_file(const char *path, const void *data, size_t size) {
    FILE *f = fopen(path, "wb");
    REQUIRE(f != NULL);
    if (size) REQUIRE(fwrite(data, 1, size, f) == size);
    fclose(f);
}

static void remove_db(const char *path) {
    char p[600];
    remove(path);
    if (snprintf(p, sizeof p, "%s-wal", path) < (int)sizeof p) remove(p);
    if (snprintf(p, sizeof p, "%s-shm", path) < (int)sizeof p) remove(p);
}



static int sql_integrity_ok(const char *path) {
    sqlite3 *db = NULL;
    int ok = 0;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK) {
        sqlite3_stmt *s = NULL;
        if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL) ==
                SQLITE_OK &&
            sqlite3_step(s) == SQLITE_ROW)
            ok = strcmp((const char *)sqlite3_column_text(s, 0), "ok") == 0;
        sqlite3_finalize(s);
    }
    sqlite3_close(db);
    return ok;
}

static void make_vec(float *v, uint32_t dim, uint64_t seed) {
    uint64_t s = seed * 2654435761u + 1;
    for (uint32_t i = 0; i < dim; i++)
        v[i] = (float)((int64_t)(sl_test_rand(&s) >> 40) - (1 << 23)) / 1e6f;
}

static sl_item item_at(const char *path, int64_t size) {
    sl_item it = {0};
    it.path = path;
    it.size = size;
    it.mtime_ns = 1700000000000000000ll + size;
    it.width = 640;
    it.height = 480;
    return it;
}

/* A library with `n` items /photos/img<i>.jpg, each with an embedding of
 * model "m" dim `dim`. */
static sl_catalog *make_library(const char *path, int n, uint32_t dim) {
    remove_db(path);
    sl_catalog *lib = NULL;
    REQUIRE(sl_catalog_open(path, SL_CATALOG_CREATE, &lib) == SL_OK);
    REQUIRE(sl_catalog_set_model(lib, "m", dim) == SL_OK);
    float *v = malloc(dim * sizeof *v);
    REQUIRE(v != NULL);
    REQUIRE(sl_catalog_batch_begin(lib) == SL_OK);
    for (int i = 0; i < n; i++) {
        char p[64];
        snprintf(p, sizeof p, "/photos/img%04d.jpg", i);
        make_vec(v, dim, (uint64_t)i);
        sl_item it = item_at(p, 1000 + i);
        sl_embedding e = {"m", dim, v};
        REQUIRE(sl_catalog_put(lib, &it, &e, NULL) == SL_OK);
    }
    REQUIRE(sl_catalog_batch_commit(lib) == SL_OK);
    free(v);
    return lib;
}

static void test_create_reopen(void) {
    const char *path = tmp("create.db");
    sl_catalog *lib = NULL;
    CHECK(sl_catalog_open(path, 0, &lib) == SL_ERR_NOT_FOUND);
    CHECK(lib == NULL);
    REQUIRE(sl_catalog_open(path, SL_CATALOG_CREATE, &lib) == SL_OK);
    int64_t count = -1;
    CHECK(sl_catalog_count(lib, &count) == SL_OK && count == 0);
    const char *model = "x";
    uint32_t dim = 7;
    CHECK(sl_catalog_model(lib, &model, &dim) == SL_OK && model == NULL &&
          dim == 0);
    CHECK(sl_catalog_set_model(lib, "clip-lite-v1", 4) == SL_OK);
    sl_item it = item_at("/a.jpg", 10);
    int64_t id = 0;
    CHECK(sl_catalog_put(lib, &it, NULL, &id) == SL_OK && id > 0);
    sl_catalog_close(lib);

    /* reopen without CREATE keeps everything */
    REQUIRE(sl_catalog_open(path, 0, &lib) == SL_OK);
    CHECK(sl_catalog_count(lib, &count) == SL_OK && count == 1);
    CHECK(sl_catalog_model(lib, &model, &dim) == SL_OK && model &&
          strcmp(model, "clip-lite-v1") == 0 && dim == 4);
    sl_catalog_close(lib);

    /* what the sqlite3 shell would see */
    CHECK(sl_test_sql_int(path, "PRAGMA application_id") == SL_CATALOG_APPLICATION_ID);
    CHECK(sl_test_sql_int(path, "PRAGMA user_version") == SL_CATALOG_SCHEMA_VERSION);
    CHECK(sl_test_sql_int(path, "SELECT count(*) FROM items WHERE path = '/a.jpg'") == 1);
    CHECK(sl_test_sql_int(path, "SELECT value FROM meta WHERE key = 'model_dim'") == 4);
    CHECK(sl_test_sql_int(path, "SELECT count(*) FROM pragma_journal_mode "
                        "WHERE journal_mode = 'wal'") == 1);
    sl_catalog_close(NULL);
}

static void expect_refused(const char *path, unsigned flags, sl_status want,
                           const char *what, const char *msg_part) {
    sl_catalog *lib = NULL;
    sl_status st = sl_catalog_open(path, flags, &lib);
    CHECK_MSG(st == want, "%s: got %s (%s)", what, sl_status_str(st),
              sl_last_error());
    CHECK(lib == NULL);
    if (msg_part)
        CHECK_MSG(strstr(sl_last_error(), msg_part) != NULL, "%s: message '%s'",
                  what, sl_last_error());
    sl_catalog_close(lib);
}

static void test_foreign_files(void) {
    /* a text file */
    const char *path = tmp("text.db");
    const char text[] = "hello, this is not a database at all\n"
                        "but it is long enough to hold a header...........\n"
                        "...................................................";
    write_file(path, text, sizeof text - 1);
    expect_refused(path, 0, SL_ERR_CORRUPT, "text", "not a database");
    expect_refused(path, SL_CATALOG_CREATE, SL_ERR_CORRUPT, "text+create",
                   "not a database");
    /* a short binary file */
    write_file(path, "SQLite", 6);
    expect_refused(path, 0, SL_ERR_CORRUPT, "short", NULL);

    /* zero bytes: refused without CREATE, initialized with it */
    path = tmp("zero.db");
    write_file(path, "", 0);
    expect_refused(path, 0, SL_ERR_CORRUPT, "zero-byte", "zero-byte");
    sl_catalog *lib = NULL;
    CHECK(sl_catalog_open(path, SL_CATALOG_CREATE, &lib) == SL_OK);
    sl_catalog_close(lib);
    CHECK(sl_test_sql_int(path, "PRAGMA application_id") == SL_CATALOG_APPLICATION_ID);

    /* another application's SQLite file: refused even with CREATE, and left
     * untouched */
    path = tmp("other.db");
    remove_db(path);
    CHECK(sl_test_sql_exec(path, "CREATE TABLE songs(title TEXT);"
                         "INSERT INTO songs VALUES ('x');") == SQLITE_OK);
    expect_refused(path, SL_CATALOG_CREATE, SL_ERR_CORRUPT, "other app",
                   "not a searchlite library");
    CHECK(sl_test_sql_int(path, "SELECT count(*) FROM songs") == 1);
    CHECK(sl_test_sql_int(path, "SELECT count(*) FROM sqlite_schema") == 1);
    /* same, with a foreign application_id */
    CHECK(sl_test_sql_exec(path, "PRAGMA application_id = 1234") == SQLITE_OK);
    expect_refused(path, 0, SL_ERR_CORRUPT, "other app id", "application_id");

    /* a newer schema version */
    path = tmp("newer.db");
    remove_db(path);
    REQUIRE(sl_catalog_open(path, SL_CATALOG_CREATE, &lib) == SL_OK);
    sl_catalog_close(lib);
    CHECK(sl_test_sql_exec(path, "PRAGMA user_version = 2") == SQLITE_OK);
    expect_refused(path, 0, SL_ERR_UNSUPPORTED, "newer", "newer");
    CHECK(sl_test_sql_exec(path, "PRAGMA user_version = 0") == SQLITE_OK);
    expect_refused(path, 0, SL_ERR_CORRUPT, "version 0", "schema version");

    /* a directory */
    expect_refused(sl_test_tmpdir(), 0, SL_ERR_IO, "directory", NULL);
    CHECK(sl_catalog_open(path, 0x80, &lib) == SL_ERR_ARG);
    CHECK(sl_catalog_open("", 0, &lib) == SL_ERR_ARG);
}

static void test_truncated(void) {
    const char *path = tmp("full.db");
    sl_catalog *lib = make_library(path, 300, 64);
    sl_catalog_close(lib); /* last close checkpoints: the main file is whole */
    size_t size = 0;
    uint8_t *data = sl_test_read(path, &size);
    CHECK_MSG(size > 16 * 4096, "library is %zu bytes", size);

    char cut[600];
    snprintf(cut, sizeof cut, "%s/cut.db", sl_test_tmpdir());
    size_t cuts[] = {0, 50, 99, 100, 4096, size / 2, size - 4096, size - 1};
    for (size_t c = 0; c < SL_ARRAY_LEN(cuts); c++) {
        remove_db(cut);
        write_file(cut, data, cuts[c]);
        sl_status st = sl_catalog_open(cut, 0, &lib);
        CHECK_MSG(st == SL_ERR_CORRUPT, "cut at %zu: %s (%s)", cuts[c],
                  sl_status_str(st), sl_last_error());
        sl_catalog_close(lib);
    }
    /* whole copy opens and verifies */
    remove_db(cut);
    write_file(cut, data, size);
    CHECK(sl_catalog_open(cut, SL_CATALOG_VERIFY, &lib) == SL_OK);
    sl_catalog_close(lib);

    /* garbage over page 2 (the first table's root): the cheap open may pass,
     * VERIFY must refuse, and reads must fail cleanly, never crash */
    uint8_t *bad = malloc(size);
    REQUIRE(bad != NULL);
    memcpy(bad, data, size);
    uint64_t seed = 7;
    for (size_t i = 4096; i < 8192; i++) bad[i] = (uint8_t)sl_test_rand(&seed);
    remove_db(cut);
    write_file(cut, bad, size);
    expect_refused(cut, SL_CATALOG_VERIFY, SL_ERR_CORRUPT, "garbage+verify",
                   NULL);
    sl_status st = sl_catalog_open(cut, 0, &lib);
    CHECK(st == SL_OK || st == SL_ERR_CORRUPT);
    sl_catalog_close(lib);

    /* garbage over the last pages (embedding data): reading must not crash */
    memcpy(bad, data, size);
    for (size_t i = size - 3 * 4096; i < size; i++)
        bad[i] = (uint8_t)sl_test_rand(&seed);
    remove_db(cut);
    write_file(cut, bad, size);
    expect_refused(cut, SL_CATALOG_VERIFY, SL_ERR_CORRUPT, "tail+verify", NULL);
    if (sl_catalog_open(cut, 0, &lib) == SL_OK) {
        int64_t *ids = NULL;
        float *vecs = NULL;
        size_t n = 0;
        uint32_t dim = 0;
        st = sl_catalog_load_embeddings(lib, &ids, &vecs, &n, &dim);
        CHECK_MSG(st == SL_OK || st == SL_ERR_CORRUPT, "load: %s",
                  sl_status_str(st));
        free(ids);
        sl_free_aligned(vecs);
        sl_catalog_close(lib);
    }
    free(bad);
    free(data);
}

static void test_bad_blobs(void) {
    const char *path = tmp("blobs.db");
    sl_catalog *lib = make_library(path, 5, 8);
    int64_t *ids = NULL;
    float *vecs = NULL;
    size_t n = 0;
    uint32_t dim = 0;
    CHECK(sl_catalog_load_embeddings(lib, &ids, &vecs, &n, &dim) == SL_OK &&
          n == 5 && dim == 8);
    free(ids);
    sl_free_aligned(vecs);
    sl_catalog_close(lib);

    /* a blob of the wrong size, then a NaN, forged with sqlite3 */
    CHECK(sl_test_sql_exec(path, "UPDATE embeddings SET vec = zeroblob(28) "
                         "WHERE item_id = 3") == SQLITE_OK);
    REQUIRE(sl_catalog_open(path, 0, &lib) == SL_OK);
    CHECK(sl_catalog_load_embeddings(lib, &ids, &vecs, &n, &dim) ==
          SL_ERR_CORRUPT);
    CHECK(ids == NULL && vecs == NULL && n == 0);
    CHECK(strstr(sl_last_error(), "28 bytes") != NULL);
    sl_catalog_close(lib);
    /* f32 NaN 0x7fc00000 little-endian in the last slot */
    CHECK(sl_test_sql_exec(path, "UPDATE embeddings SET vec = x'"
                         "00000000000000000000000000000000000000000000000000000000"
                         "0000c07f' WHERE item_id = 3") ==
          SQLITE_OK);
    REQUIRE(sl_catalog_open(path, 0, &lib) == SL_OK);
    CHECK(sl_catalog_load_embeddings(lib, &ids, &vecs, &n, &dim) ==
          SL_ERR_CORRUPT);
    CHECK(strstr(sl_last_error(), "not finite") != NULL);
    sl_catalog_close(lib);
    /* a bad model_dim in meta */
    CHECK(sl_test_sql_exec(path, "UPDATE meta SET value = 0 WHERE key = 'model_dim'") ==
          SQLITE_OK);
    expect_refused(path, 0, SL_ERR_CORRUPT, "bad dim", "model_dim");
}

static void test_models(void) {
    const char *path = tmp("models.db");
    remove_db(path);
    sl_catalog *lib = NULL;
    REQUIRE(sl_catalog_open(path, SL_CATALOG_CREATE, &lib) == SL_OK);
    float v[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    sl_item it = item_at("/x/1.jpg", 1);
    sl_embedding e = {"a", 8, v};
    CHECK(sl_catalog_put(lib, &it, &e, NULL) == SL_ERR_STATE); /* no model */
    CHECK(sl_catalog_set_model(lib, "", 8) == SL_ERR_ARG);
    CHECK(sl_catalog_set_model(lib, "a", 0) == SL_ERR_ARG);
    CHECK(sl_catalog_set_model(lib, "a", SL_CATALOG_DIM_MAX + 1) == SL_ERR_ARG);
    REQUIRE(sl_catalog_set_model(lib, "a", 8) == SL_OK);
    CHECK(sl_catalog_put(lib, &it, &e, NULL) == SL_OK);
    it.path = "/x/2.jpg";
    CHECK(sl_catalog_put(lib, &it, &e, NULL) == SL_OK);

    /* another model id or another dim is refused */
    sl_embedding other = {"b", 8, v};
    it.path = "/x/3.jpg";
    CHECK(sl_catalog_put(lib, &it, &other, NULL) == SL_ERR_STATE);
    other.model = "a";
    other.dim = 4;
    CHECK(sl_catalog_put(lib, &it, &other, NULL) == SL_ERR_STATE);
    int64_t count = 0;
    CHECK(sl_catalog_count(lib, &count) == SL_OK && count == 2);
    float nan_v[8] = {1, 2, 3, NAN, 5, 6, 7, 8};
    sl_embedding bad = {"a", 8, nan_v};
    CHECK(sl_catalog_put(lib, &it, &bad, NULL) == SL_ERR_ARG);

    /* same model again: a no-op that keeps embeddings */
    CHECK(sl_catalog_set_model(lib, "a", 8) == SL_OK);
    sl_item_info info;
    CHECK(sl_catalog_lookup(lib, "/x/1.jpg", &info) == SL_OK && info.known &&
          info.has_embedding);
    CHECK(sl_catalog_put_snapshot(lib, "ann:a", "snap", 4) == SL_OK);

    /* switching drops embeddings and snapshots, keeps items */
    CHECK(sl_catalog_batch_begin(lib) == SL_OK);
    CHECK(sl_catalog_set_model(lib, "b", 16) == SL_ERR_STATE);
    CHECK(sl_catalog_batch_rollback(lib) == SL_OK);
    CHECK(sl_catalog_set_model(lib, "b", 16) == SL_OK);
    CHECK(sl_catalog_lookup(lib, "/x/1.jpg", &info) == SL_OK && info.known &&
          !info.has_embedding);
    CHECK(sl_catalog_count(lib, &count) == SL_OK && count == 2);
    int64_t *ids = NULL;
    float *vecs = NULL;
    size_t n = 99;
    uint32_t dim = 0;
    CHECK(sl_catalog_load_embeddings(lib, &ids, &vecs, &n, &dim) == SL_OK &&
          n == 0 && dim == 16 && ids == NULL && vecs == NULL);
    uint8_t *snap = NULL;
    size_t snap_size = 0;
    CHECK(sl_catalog_get_snapshot(lib, "ann:a", &snap, &snap_size) ==
          SL_ERR_NOT_FOUND);
    /* the old model's embedding is now refused */
    it.path = "/x/1.jpg";
    CHECK(sl_catalog_put(lib, &it, &e, NULL) == SL_ERR_STATE);
    sl_catalog_close(lib);
    CHECK(sl_test_sql_int(path, "SELECT count(*) FROM embeddings") == 0);
    CHECK(sl_test_sql_int(path, "SELECT count(*) FROM snapshots") == 0);
}

static void test_scan(void) {
    const char *path = tmp("scan.db");
    sl_catalog *lib = make_library(path, 100, 16);
    /* items outside the scanned root, and one whose path merely shares the
     * root's prefix */
    sl_item it = item_at("/photos2/keep.jpg", 5);
    CHECK(sl_catalog_put(lib, &it, NULL, NULL) == SL_OK);
    it.path = "/other/keep.jpg";
    CHECK(sl_catalog_put(lib, &it, NULL, NULL) == SL_OK);

    int64_t gen = 0, gen2 = 0;
    CHECK(sl_catalog_begin_scan(lib, &gen) == SL_OK && gen >= 1);
    int skipped = 0;
    CHECK(sl_catalog_batch_begin(lib) == SL_OK);
    for (int i = 0; i < 90; i++) {
        char p[64];
        snprintf(p, sizeof p, "/photos/img%04d.jpg", i);
        sl_item_info info;
        CHECK(sl_catalog_lookup(lib, p, &info) == SL_OK);
        if (info.known && info.size == 1000 + i &&
            info.mtime_ns == 1700000000000000000ll + 1000 + i &&
            info.has_embedding) {
            CHECK(sl_catalog_touch(lib, info.id) == SL_OK);
            skipped++;
        }
    }
    CHECK(sl_catalog_batch_commit(lib) == SL_OK);
    CHECK(skipped == 90);
    sl_item_info info;
    CHECK(sl_catalog_lookup(lib, "/photos/nope.jpg", &info) == SL_OK &&
          !info.known);
    CHECK(sl_catalog_touch(lib, 999999) == SL_ERR_NOT_FOUND);

    CHECK(sl_catalog_end_scan(lib, gen + 1, NULL, 0, NULL) == SL_ERR_STATE);
    const char *roots[] = {"/photos/"};
    int64_t removed = -1;
    CHECK(sl_catalog_end_scan(lib, gen, roots, 1, &removed) == SL_OK);
    CHECK_MSG(removed == 10, "removed %lld", (long long)removed);
    int64_t count = 0;
    CHECK(sl_catalog_count(lib, &count) == SL_OK && count == 92);
    CHECK(sl_catalog_lookup(lib, "/photos/img0095.jpg", &info) == SL_OK &&
          !info.known);
    CHECK(sl_catalog_lookup(lib, "/photos2/keep.jpg", &info) == SL_OK &&
          info.known);
    /* cascade: the forgotten items' embeddings went with them */
    int64_t *ids = NULL;
    float *vecs = NULL;
    size_t n = 0;
    uint32_t dim = 0;
    CHECK(sl_catalog_load_embeddings(lib, &ids, &vecs, &n, &dim) == SL_OK &&
          n == 90);
    free(ids);
    sl_free_aligned(vecs);

    /* a second scan over everything: nothing touched, all removed */
    CHECK(sl_catalog_begin_scan(lib, &gen2) == SL_OK && gen2 == gen + 1);
    CHECK(sl_catalog_end_scan(lib, gen2, NULL, 0, &removed) == SL_OK &&
          removed == 92);
    sl_catalog_close(lib);
    CHECK(sl_test_sql_int(path, "SELECT count(*) FROM embeddings") == 0);
    /* the generation survives a reopen */
    REQUIRE(sl_catalog_open(path, 0, &lib) == SL_OK);
    CHECK(sl_catalog_begin_scan(lib, &gen) == SL_OK && gen == gen2 + 1);
    sl_catalog_close(lib);
}

static void test_roundtrip(void) {
    const char *path = tmp("roundtrip.db");
    remove_db(path);
    sl_catalog *lib = NULL;
    REQUIRE(sl_catalog_open(path, SL_CATALOG_CREATE, &lib) == SL_OK);
    enum { N = 50, D = 37 };
    REQUIRE(sl_catalog_set_model(lib, "rt", D) == SL_OK);
    static float in[N][D];
    uint64_t seed = 42;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < D; j++) {
            uint32_t bits;
            /* random bit patterns that are finite (exponent not all ones),
             * including subnormals and -0 */
            do bits = (uint32_t)sl_test_rand(&seed);
            while (((bits >> 23) & 0xff) == 0xff);
            memcpy(&in[i][j], &bits, 4);
        }
    in[0][0] = -0.0f;
    int64_t want_ids[N];
    for (int i = N - 1; i >= 0; i--) { /* reverse order: ids ascend anyway */
        char p[32];
        snprintf(p, sizeof p, "/r/%d.png", i);
        sl_item it = item_at(p, i);
        sl_embedding e = {"rt", D, in[i]};
        CHECK(sl_catalog_put(lib, &it, &e, &want_ids[i]) == SL_OK);
    }
    /* re-put of an existing path keeps its id and replaces the vector */
    sl_item it = item_at("/r/3.png", 3);
    sl_embedding e = {"rt", D, in[3]};
    int64_t id3 = 0;
    CHECK(sl_catalog_put(lib, &it, &e, &id3) == SL_OK && id3 == want_ids[3]);
    sl_catalog_close(lib);

    REQUIRE(sl_catalog_open(path, 0, &lib) == SL_OK);
    int64_t *ids = NULL;
    float *vecs = NULL;
    size_t n = 0;
    uint32_t dim = 0;
    REQUIRE(sl_catalog_load_embeddings(lib, &ids, &vecs, &n, &dim) == SL_OK);
    CHECK(n == N && dim == D);
    CHECK(((uintptr_t)vecs & 63) == 0);
    int exact = 1, ordered = 1;
    for (size_t r = 0; r < n; r++) {
        if (r > 0 && ids[r] <= ids[r - 1]) ordered = 0;
        int i = -1;
        for (int k = 0; k < N; k++)
            if (want_ids[k] == ids[r]) i = k;
        if (i < 0 || memcmp(vecs + r * D, in[i], sizeof in[i]) != 0) exact = 0;
    }
    CHECK(exact);
    CHECK(ordered);
    free(ids);
    sl_free_aligned(vecs);

    /* put without an embedding removes the stale one */
    CHECK(sl_catalog_put(lib, &it, NULL, NULL) == SL_OK);
    sl_item_info info;
    CHECK(sl_catalog_lookup(lib, "/r/3.png", &info) == SL_OK && info.known &&
          !info.has_embedding);
    sl_catalog_close(lib);
}

static void test_strings(void) {
    const char *path = tmp("strings.db");
    remove_db(path);
    sl_catalog *lib = NULL;
    REQUIRE(sl_catalog_open(path, SL_CATALOG_CREATE, &lib) == SL_OK);
    const char *p = "/ph\xc3\xb4tos/caf\xc3\xa9 'quoted' \"double\"/"
                    "\xe6\x97\xa5\xe6\x9c\xac %_\\.jpg";
    const char *meta =
        "{ \"caption\": \"A dog \\\"sitting\\\" on a chair \xf0\x9f\x90\x95\",\n"
        "  \"flickr_url\": \"http://farm4.staticflickr.com/x.jpg\", "
        "\"n\": [1, 2.50, -3e2] }";
    uint8_t hash[32];
    for (int i = 0; i < 32; i++) hash[i] = (uint8_t)(i * 37 + 1);
    hash[5] = 0;
    sl_item it = item_at(p, 12345);
    it.hash = hash;
    it.hash_size = sizeof hash;
    it.metadata = meta;
    it.width = 4000;
    it.height = 3000;
    int64_t id = 0;
    CHECK(sl_catalog_put(lib, &it, NULL, &id) == SL_OK);

    sl_item out;
    REQUIRE(sl_catalog_get_item(lib, id, &out) == SL_OK);
    CHECK(out.id == id && strcmp(out.path, p) == 0);
    CHECK(out.metadata && strcmp(out.metadata, meta) == 0);
    CHECK(out.hash_size == 32 && memcmp(out.hash, hash, 32) == 0);
    CHECK(out.size == 12345 && out.width == 4000 && out.height == 3000 &&
          out.mtime_ns == it.mtime_ns);
    sl_item_info info;
    CHECK(sl_catalog_lookup(lib, p, &info) == SL_OK && info.known &&
          info.id == id && info.hash_size == 32 &&
          memcmp(info.hash, hash, 32) == 0);
    /* the sqlite3 shell sees the same bytes */
    CHECK(sl_test_sql_int(path, "SELECT json_extract(metadata, '$.n[1]') * 2 FROM "
                        "items") == 5);

    /* invalid JSON refused, nothing written */
    it.path = "/bad.jpg";
    it.metadata = "{not json";
    CHECK(sl_catalog_put(lib, &it, NULL, NULL) == SL_ERR_ARG);
    CHECK(sl_catalog_lookup(lib, "/bad.jpg", &info) == SL_OK && !info.known);
    it.metadata = NULL;
    it.hash_size = SL_CATALOG_HASH_MAX + 1;
    CHECK(sl_catalog_put(lib, &it, NULL, NULL) == SL_ERR_ARG);
    it.hash_size = 0;
    it.size = -1;
    CHECK(sl_catalog_put(lib, &it, NULL, NULL) == SL_ERR_ARG);
    it.path = "";
    it.size = 1;
    CHECK(sl_catalog_put(lib, &it, NULL, NULL) == SL_ERR_ARG);
    /* without metadata or hash */
    it.path = "/plain.jpg";
    CHECK(sl_catalog_put(lib, &it, NULL, &id) == SL_OK);
    CHECK(sl_catalog_get_item(lib, id, &out) == SL_OK && out.metadata == NULL &&
          out.hash == NULL && out.hash_size == 0);
    CHECK(sl_catalog_get_item(lib, 424242, &out) == SL_ERR_NOT_FOUND);

    /* a prefix root with LIKE wildcards in it matches literally */
    int64_t gen = 0, removed = -1;
    CHECK(sl_catalog_begin_scan(lib, &gen) == SL_OK);
    const char *roots[] = {"/ph_tos"};
    CHECK(sl_catalog_end_scan(lib, gen, roots, 1, &removed) == SL_OK &&
          removed == 0);
    sl_catalog_close(lib);
}

static void test_snapshots(void) {
    const char *path = tmp("snap.db");
    sl_catalog *lib = make_library(path, 3, 4);
    uint8_t *data = NULL;
    size_t size = 1;
    CHECK(sl_catalog_get_snapshot(lib, "ann", &data, &size) == SL_ERR_NOT_FOUND);
    size_t big = 3 << 20;
    uint8_t *blob = malloc(big);
    REQUIRE(blob != NULL);
    uint64_t seed = 3;
    for (size_t i = 0; i < big; i++) blob[i] = (uint8_t)sl_test_rand(&seed);
    CHECK(sl_catalog_put_snapshot(lib, "ann", "old", 3) == SL_OK);
    CHECK(sl_catalog_put_snapshot(lib, "ann", blob, big) == SL_OK);
    CHECK(sl_catalog_put_snapshot(lib, "other", "", 0) == SL_OK);
    CHECK(sl_catalog_get_snapshot(lib, "ann", &data, &size) == SL_OK &&
          size == big && memcmp(data, blob, big) == 0);
    free(data);
    CHECK(sl_catalog_get_snapshot(lib, "other", &data, &size) == SL_OK &&
          size == 0 && data == NULL);
    sl_catalog_close(lib);
    CHECK(sl_test_sql_int(path, "SELECT count(*) FROM snapshots") == 2);
    free(blob);
}

/* Two handles on one file: a reader is not blocked by an open batch and
 * sees only committed rows. */
static void test_two_handles(void) {
    const char *path = tmp("two.db");
    sl_catalog *a = make_library(path, 4, 8);
    sl_catalog *b = NULL;
    REQUIRE(sl_catalog_open(path, 0, &b) == SL_OK);
    CHECK(sl_catalog_batch_begin(a) == SL_OK);
    sl_item it = item_at("/photos/new.jpg", 1);
    CHECK(sl_catalog_put(a, &it, NULL, NULL) == SL_OK);
    int64_t count = 0;
    CHECK(sl_catalog_count(b, &count) == SL_OK && count == 4);
    int64_t *ids = NULL;
    float *vecs = NULL;
    size_t n = 0;
    uint32_t dim = 0;
    CHECK(sl_catalog_load_embeddings(b, &ids, &vecs, &n, &dim) == SL_OK &&
          n == 4);
    free(ids);
    sl_free_aligned(vecs);
    CHECK(sl_catalog_batch_commit(a) == SL_OK);
    CHECK(sl_catalog_count(b, &count) == SL_OK && count == 5);
    sl_catalog_close(a);
    sl_catalog_close(b);
}

/* ---- crash safety ----------------------------------------------------- */

enum { BATCH = 10 };

/* Child: puts items in batches of BATCH, writing the number of each
 * committed batch to `fd`; after `stop_after` batches it opens one more,
 * puts half of it, reports 0xff and waits to be killed. stop_after < 0:
 * never stops (the parent kills it at a random point). */
static void crash_child(const char *path, int fd, int stop_after) {
    sl_catalog *lib = NULL;
    if (sl_catalog_open(path, SL_CATALOG_CREATE, &lib) != SL_OK) _exit(2);
    if (sl_catalog_set_model(lib, "m", 32) != SL_OK) _exit(3);
    float v[32];
    for (int b = 0;; b++) {
        if (sl_catalog_batch_begin(lib) != SL_OK) _exit(4);
        for (int i = 0; i < BATCH; i++) {
            if (b == stop_after && i == BATCH / 2) {
                unsigned char mark = 0xff;
                if (write(fd, &mark, 1) != 1) _exit(5);
                for (;;) pause();
            }
            char p[64];
            snprintf(p, sizeof p, "/crash/%06d.jpg", b * BATCH + i);
            make_vec(v, 32, (uint64_t)(b * BATCH + i));
            sl_item it = item_at(p, b * BATCH + i);
            sl_embedding e = {"m", 32, v};
            if (sl_catalog_put(lib, &it, &e, NULL) != SL_OK) _exit(6);
        }
        if (sl_catalog_batch_commit(lib) != SL_OK) _exit(7);
        unsigned char done = (unsigned char)(b & 0x7f);
        if (write(fd, &done, 1) != 1) _exit(8);
    }
}

/* Everything committed is there, nothing else, no duplicates, the
 * embeddings are the ones written, and SQLite's integrity check passes. */
static void check_after_crash(const char *path, int64_t min_batches,
                              int64_t max_batches) {
    CHECK(sql_integrity_ok(path));
    sl_catalog *lib = NULL;
    REQUIRE(sl_catalog_open(path, SL_CATALOG_VERIFY, &lib) == SL_OK);
    int64_t count = -1;
    CHECK(sl_catalog_count(lib, &count) == SL_OK);
    CHECK_MSG(count % BATCH == 0 && count >= min_batches * BATCH &&
                  count <= max_batches * BATCH,
              "count %lld, batches %lld..%lld", (long long)count,
              (long long)min_batches, (long long)max_batches);
    int64_t *ids = NULL;
    float *vecs = NULL;
    size_t n = 0;
    uint32_t dim = 0;
    CHECK(sl_catalog_load_embeddings(lib, &ids, &vecs, &n, &dim) == SL_OK);
    CHECK(n == (size_t)count && dim == 32);
    int ok = 1;
    for (size_t r = 0; r < n; r++) {
        sl_item it;
        if (sl_catalog_get_item(lib, ids[r], &it) != SL_OK) {
            ok = 0;
            break;
        }
        int k = -1;
        if (sscanf(it.path, "/crash/%d.jpg", &k) != 1 || k < 0 ||
            k >= count || it.size != k)
            ok = 0;
        float v[32];
        make_vec(v, 32, (uint64_t)(k < 0 ? 0 : k));
        if (memcmp(v, vecs + r * 32, sizeof v) != 0) ok = 0;
    }
    CHECK(ok);
    free(ids);
    sl_free_aligned(vecs);
    sl_catalog_close(lib);
    CHECK(sl_test_sql_int(path, "SELECT count(DISTINCT path) FROM items") == count);
}

static pid_t spawn_child(const char *path, int stop_after, int *rfd) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    fflush(NULL);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        crash_child(path, fds[1], stop_after);
        _exit(0);
    }
    close(fds[1]);
    *rfd = fds[0];
    return pid;
}

static void kill_child(pid_t pid, int fd) {
    CHECK(kill(pid, SIGKILL) == 0);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    close(fd);
}

static void test_crash(void) {
    /* deterministic: killed inside batch 6 after batch 5 was committed */
    const char *path = tmp("crash.db");
    remove_db(path);
    int fd = -1;
    pid_t pid = spawn_child(path, 5, &fd);
    int committed = 0, inside = 0;
    unsigned char b;
    while (read(fd, &b, 1) == 1) {
        if (b == 0xff) {
            inside = 1;
            break;
        }
        committed++;
    }
    CHECK(committed == 5 && inside);
    kill_child(pid, fd);
    check_after_crash(path, 5, 5);

    /* resume: a rerun skips the committed items and adds the rest */
    sl_catalog *lib = NULL;
    REQUIRE(sl_catalog_open(path, 0, &lib) == SL_OK);
    int64_t gen = 0, removed = -1;
    CHECK(sl_catalog_begin_scan(lib, &gen) == SL_OK);
    int skipped = 0, added = 0;
    float v[32];
    CHECK(sl_catalog_batch_begin(lib) == SL_OK);
    for (int k = 0; k < 80; k++) {
        char p[64];
        snprintf(p, sizeof p, "/crash/%06d.jpg", k);
        sl_item_info info;
        CHECK(sl_catalog_lookup(lib, p, &info) == SL_OK);
        if (info.known && info.size == k && info.has_embedding) {
            CHECK(sl_catalog_touch(lib, info.id) == SL_OK);
            skipped++;
        } else {
            make_vec(v, 32, (uint64_t)k);
            sl_item it = item_at(p, k);
            sl_embedding e = {"m", 32, v};
            CHECK(sl_catalog_put(lib, &it, &e, NULL) == SL_OK);
            added++;
        }
    }
    CHECK(sl_catalog_batch_commit(lib) == SL_OK);
    const char *roots[] = {"/crash"};
    CHECK(sl_catalog_end_scan(lib, gen, roots, 1, &removed) == SL_OK);
    CHECK(skipped == 50 && added == 30 && removed == 0);
    sl_catalog_close(lib);
    check_after_crash(path, 8, 8);

    /* random kill points: the child runs free, the parent kills it after a
     * random number of committed batches plus a random delay */
    uint64_t seed = 99;
    for (int round = 0; round < 4; round++) {
        remove_db(path);
        pid = spawn_child(path, -1, &fd);
        int want = 1 + (int)(sl_test_rand(&seed) % 8);
        committed = 0;
        while (committed < want && read(fd, &b, 1) == 1) committed++;
        usleep((useconds_t)(sl_test_rand(&seed) % 20000));
        kill_child(pid, fd);
        /* batches committed after the last one we read may also be there */
        check_after_crash(path, committed, 1000000);
    }
}

/* ---- sparse storage --------------------------------------------------------- */

/* A random finite, non-zero f32 (not -0 either): any bit pattern whose
 * exponent is not all ones, subnormals included. */
static float rand_nonzero(uint64_t *seed) {
    for (;;) {
        uint32_t bits = (uint32_t)sl_test_rand(seed);
        if (((bits >> 23) & 0xff) == 0xff || (bits & 0x7fffffff) == 0) continue;
        float x;
        memcpy(&x, &bits, 4);
        return x;
    }
}

/* v = zeros with `nnz` random distinct non-zero entries. */
static void make_sparse(float *v, uint32_t dim, uint32_t nnz, uint64_t *seed) {
    memset(v, 0, dim * sizeof *v);
    for (uint32_t k = 0; k < nnz;) {
        uint32_t j = (uint32_t)(sl_test_rand(seed) % dim);
        if (v[j] != 0.0f) continue;
        v[j] = rand_nonzero(seed);
        k++;
    }
}

/* Stored format and blob size of an item, read with sqlite3 directly. */
static int64_t stored_format(const char *path, int64_t id) {
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT format FROM embeddings WHERE item_id = %lld",
             (long long)id);
    return sl_test_sql_int(path, sql);
}
static int64_t stored_bytes(const char *path, int64_t id) {
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT length(vec) FROM embeddings WHERE "
             "item_id = %lld", (long long)id);
    return sl_test_sql_int(path, sql);
}

static void test_sparse_roundtrip(void) {
    const char *path = tmp("sparse.db");
    remove_db(path);
    sl_catalog *lib = NULL;
    REQUIRE(sl_catalog_open(path, SL_CATALOG_CREATE, &lib) == SL_OK);
    enum { N = 9, D = 1000 };
    REQUIRE(sl_catalog_set_model(lib, "sp", D) == SL_OK);

    /* no embeddings yet: n == 0, ids NULL, a valid empty CSR */
    int64_t *ids = (int64_t *)1;
    sl_sparse_rows rows;
    REQUIRE(sl_catalog_load_sparse(lib, &ids, &rows) == SL_OK);
    CHECK(ids == NULL && rows.n == 0 && rows.dim == D && rows.row_first &&
          rows.row_first[0] == 0);
    sl_sparse_rows_free(&rows);

    static float in[N][D], want[N][D];
    /* nnz of each vector and the format it must be stored in: sparse
     * exactly when 6 * nnz < 4 * dim, i.e. nnz <= 666 for dim 1000 */
    static const uint32_t nnz[N] = {0, 30, 666, 667, D, 2, 30, 30, 1};
    static const int64_t fmt[N] = {1, 1, 1, 0, 0, 1, 0, 1, 1};
    uint64_t seed = 7;
    for (int i = 0; i < N; i++) make_sparse(in[i], D, nnz[i], &seed);
    /* the edge columns */
    memset(in[5], 0, sizeof in[5]);
    in[5][0] = 0.25f;
    in[5][D - 1] = -3.5f;
    /* dense storage keeps -0.0 bit for bit ... */
    for (int j = 0; j < D; j++)
        if (in[6][j] == 0.0f) in[6][j] = j % 4 ? 1.0f : -0.0f;
    /* ... sparse storage keeps only values != 0, so -0.0 reads back +0.0 */
    for (int j = 0; j < D; j += 2)
        if (in[7][j] == 0.0f) in[7][j] = -0.0f;
    in[8][123] = FLT_MIN / 4; /* a subnormal is != 0: kept */
    memcpy(want, in, sizeof in);
    for (int j = 0; j < D; j++)
        if (want[7][j] == 0.0f) want[7][j] = 0.0f;

    /* the all-zero vector first, on a handle that has not encoded any */
    sl_item zero_item = item_at("/s/zero-first.jpg", 0);
    sl_embedding zero_emb = {"sp", D, in[0]};
    CHECK(sl_catalog_put(lib, &zero_item, &zero_emb, NULL) == SL_OK);
    sl_item_info zi;
    CHECK(sl_catalog_lookup(lib, "/s/zero-first.jpg", &zi) == SL_OK && zi.has_embedding);
    CHECK(sl_catalog_put(lib, &zero_item, NULL, NULL) == SL_OK); /* embedding dropped again */

    int64_t id[N];
    CHECK(sl_catalog_batch_begin(lib) == SL_OK);
    for (int i = N - 1; i >= 0; i--) {
        char p[32];
        snprintf(p, sizeof p, "/s/%d.jpg", i);
        sl_item it = item_at(p, i);
        sl_embedding e = {"sp", D, in[i]};
        CHECK(sl_catalog_put(lib, &it, &e, &id[i]) == SL_OK);
    }
    /* an item without an embedding is not loaded */
    sl_item bare = item_at("/s/bare.jpg", 99);
    CHECK(sl_catalog_put(lib, &bare, NULL, NULL) == SL_OK);
    /* inside a batch, the batch is the snapshot read */
    REQUIRE(sl_catalog_load_sparse(lib, &ids, &rows) == SL_OK);
    CHECK(rows.n == N);
    free(ids);
    sl_sparse_rows_free(&rows);
    CHECK(sl_catalog_batch_commit(lib) == SL_OK);
    sl_catalog_close(lib);

    for (int i = 0; i < N; i++) {
        int64_t f = stored_format(path, id[i]), b = stored_bytes(path, id[i]);
        int64_t nz = 0;
        for (int j = 0; j < D; j++) nz += in[i][j] != 0.0f;
        int64_t want_bytes = fmt[i] ? 6 * nz : 4 * D;
        CHECK_MSG(f == fmt[i] && b == want_bytes,
                  "vector %d: format %lld, %lld bytes; want %lld, %lld", i,
                  (long long)f, (long long)b, (long long)fmt[i],
                  (long long)want_bytes);
    }
    /* the empty sparse vector is an empty BLOB, not NULL */
    CHECK(sl_test_sql_int(path, "SELECT count(*) FROM embeddings WHERE typeof(vec) = "
                        "'blob'") == N);

    REQUIRE(sl_catalog_open(path, 0, &lib) == SL_OK);
    float *vecs = NULL;
    size_t n = 0;
    uint32_t dim = 0;
    REQUIRE(sl_catalog_load_embeddings(lib, &ids, &vecs, &n, &dim) == SL_OK);
    REQUIRE(n == N && dim == D);
    /* ids ascend, and were put in reverse: row r is vector N - 1 - r */
    for (int r = 0; r < N; r++) {
        int i = N - 1 - r;
        CHECK(ids[r] == id[i]);
        CHECK_MSG(memcmp(vecs + (size_t)r * D, want[i], sizeof want[i]) == 0,
                  "dense load of vector %d is not bit-exact", i);
    }
    free(ids);

    int64_t *sids = NULL;
    REQUIRE(sl_catalog_load_sparse(lib, &sids, &rows) == SL_OK);
    REQUIRE(rows.n == N && rows.dim == D && sids != NULL);
    for (int r = 0; r < N; r++) {
        int i = N - 1 - r;
        CHECK(sids[r] == id[i]);
        uint32_t e = rows.row_first[r], exact = 1;
        for (uint32_t j = 0; j < D; j++) {
            if (want[i][j] == 0.0f) continue;
            if (e >= rows.row_first[r + 1] || rows.col[e] != j ||
                memcmp(&rows.val[e], &want[i][j], 4) != 0)
                exact = 0;
            e++;
        }
        CHECK_MSG(exact && e == rows.row_first[r + 1],
                  "sparse load of vector %d differs", i);
    }
    /* the same CSR as converting the dense load */
    sl_sparse_rows ref;
    REQUIRE(sl_sparse_from_dense(vecs, n, D, &ref) == SL_OK);
    CHECK(memcmp(ref.row_first, rows.row_first, (N + 1) * 4) == 0);
    CHECK(memcmp(ref.col, rows.col, ref.row_first[N] * 2) == 0);
    CHECK(memcmp(ref.val, rows.val, ref.row_first[N] * 4) == 0);
    sl_sparse_rows_free(&ref);
    sl_sparse_rows_free(&rows);
    CHECK(rows.row_first == NULL && rows.n == 0);
    free(sids);
    sl_free_aligned(vecs);

    /* a re-put switches format in place */
    sl_item it = item_at("/s/1.jpg", 1);
    sl_embedding e = {"sp", D, in[4]};
    CHECK(sl_catalog_put(lib, &it, &e, NULL) == SL_OK);
    sl_catalog_close(lib);
    CHECK(stored_format(path, id[1]) == 0 && stored_bytes(path, id[1]) == 4 * D);

    /* no model: SL_ERR_STATE; NULL arguments: SL_ERR_ARG */
    const char *p2 = tmp("sparse-nomodel.db");
    remove_db(p2);
    REQUIRE(sl_catalog_open(p2, SL_CATALOG_CREATE, &lib) == SL_OK);
    CHECK(sl_catalog_load_sparse(lib, &ids, &rows) == SL_ERR_STATE);
    CHECK(ids == NULL && rows.row_first == NULL);
    CHECK(sl_catalog_load_sparse(lib, NULL, &rows) == SL_ERR_ARG);
    CHECK(sl_catalog_load_sparse(lib, &ids, NULL) == SL_ERR_ARG);
    sl_catalog_close(lib);
}

/* Forges the blob of item `id` (format, hex bytes) with sqlite3, then
 * checks that both loaders refuse the library naming that item. */
static void expect_bad_blob(const char *path, int64_t id, int format,
                            const char *blob_sql, const char *what) {
    char sql[600];
    snprintf(sql, sizeof sql, "PRAGMA ignore_check_constraints = 1; "
             "UPDATE embeddings SET format = %d, vec = %s WHERE item_id = %lld",
             format, blob_sql, (long long)id);
    CHECK_MSG(sl_test_sql_exec(path, sql) == SQLITE_OK, "forging %s", what);
    char name[32];
    snprintf(name, sizeof name, "item %lld", (long long)id);
    sl_catalog *lib = NULL;
    REQUIRE(sl_catalog_open(path, 0, &lib) == SL_OK);
    int64_t *ids = NULL;
    float *vecs = NULL;
    size_t n = 0;
    uint32_t dim = 0;
    sl_status st = sl_catalog_load_embeddings(lib, &ids, &vecs, &n, &dim);
    CHECK_MSG(st == SL_ERR_CORRUPT && strstr(sl_last_error(), name),
              "dense load of %s: %s (%s)", what, sl_status_str(st),
              sl_last_error());
    CHECK(ids == NULL && vecs == NULL && n == 0);
    sl_sparse_rows rows;
    st = sl_catalog_load_sparse(lib, &ids, &rows);
    CHECK_MSG(st == SL_ERR_CORRUPT && strstr(sl_last_error(), name),
              "sparse load of %s: %s (%s)", what, sl_status_str(st),
              sl_last_error());
    CHECK(ids == NULL && rows.row_first == NULL && rows.n == 0);
    sl_catalog_close(lib);
}

static void test_sparse_corrupt(void) {
    const char *path = tmp("sparse-bad.db");
    remove_db(path);
    sl_catalog *lib = NULL;
    REQUIRE(sl_catalog_open(path, SL_CATALOG_CREATE, &lib) == SL_OK);
    REQUIRE(sl_catalog_set_model(lib, "m", 16) == SL_OK);
    float sp[16] = {0}, dn[16];
    sp[3] = 1.0f;
    sp[7] = 2.0f;
    for (int j = 0; j < 16; j++) dn[j] = (float)(j + 1);
    int64_t id_sp = 0, id_dn = 0;
    sl_item it = item_at("/c/sparse.jpg", 1);
    sl_embedding e = {"m", 16, sp};
    REQUIRE(sl_catalog_put(lib, &it, &e, &id_sp) == SL_OK);
    it = item_at("/c/dense.jpg", 2);
    e.vec = dn;
    REQUIRE(sl_catalog_put(lib, &it, &e, &id_dn) == SL_OK);
    sl_catalog_close(lib);
    CHECK(stored_format(path, id_sp) == 1 && stored_bytes(path, id_sp) == 12);
    CHECK(stored_format(path, id_dn) == 0 && stored_bytes(path, id_dn) == 64);

    /* u16 columns then f32 values, little-endian: 1.0f = 0000803f */
    struct {
        int format;
        const char *blob, *what;
    } bad[] = {
        {1, "x'00000000000000'", "7-byte sparse blob"},
        {1, "zeroblob(102)", "17 entries for dim 16"},
        {1, "zeroblob(64)", "a dense-sized blob marked sparse"},
        {1, "x'070003000000803f0000803f'", "decreasing columns"},
        {1, "x'030003000000803f0000803f'", "duplicate column"},
        {1, "x'030010000000803f0000803f'", "column 16 of dim 16"},
        {1, "x'0300ffff0000803f0000803f'", "column 65535"},
        {1, "x'030007000000803f0000c07f'", "sparse NaN"},
        {1, "x'030007000000807f0000803f'", "sparse +Inf"},
        {0, "zeroblob(60)", "60-byte dense blob"},
        {0, "zeroblob(12)", "a sparse-sized blob marked dense"},
        {2, "x'030007000000803f0000803f'", "unknown format 2"},
    };
    for (size_t k = 0; k < SL_ARRAY_LEN(bad); k++)
        expect_bad_blob(path, id_sp, bad[k].format, bad[k].blob, bad[k].what);
    /* a NaN in a dense blob, after a valid sparse row */
    CHECK(sl_test_sql_exec(path, "UPDATE embeddings SET format = 1, vec = "
                         "x'030007000000803f0000803f' WHERE item_id = 1") ==
          SQLITE_OK);
    expect_bad_blob(path, id_dn, 0,
                    "x'0000803f0000803f0000803f0000803f0000803f0000803f"
                    "0000803f0000803f0000803f0000803f0000803f0000803f"
                    "0000803f0000803f0000803f0000c0ff'", "dense -NaN");
    /* repaired, both load again */
    CHECK(sl_test_sql_exec(path, "UPDATE embeddings SET format = 0, vec = zeroblob(64) "
                         "WHERE item_id = 2") == SQLITE_OK);
    REQUIRE(sl_catalog_open(path, 0, &lib) == SL_OK);
    int64_t *ids = NULL;
    sl_sparse_rows rows;
    CHECK(sl_catalog_load_sparse(lib, &ids, &rows) == SL_OK && rows.n == 2 &&
          rows.row_first[2] == 2);
    free(ids);
    sl_sparse_rows_free(&rows);
    sl_catalog_close(lib);
    /* the schema refuses format 2 when constraints are on */
    CHECK(sl_test_sql_exec(path, "UPDATE embeddings SET format = 2") ==
          SQLITE_CONSTRAINT);
}

/* The calls the indexer uses besides put/touch, and model identity seen
 * through a second handle that switched models meanwhile. */
static void test_indexer_calls(void) {
    const char *path = tmp("indexer.db");
    sl_catalog *lib = make_library(path, 3, 8);
    sl_item_info info;
    REQUIRE(sl_catalog_lookup(lib, "/photos/img0001.jpg", &info) == SL_OK && info.known);
    int64_t gen = 0;
    CHECK(sl_catalog_begin_scan(lib, &gen) == SL_OK);
    /* touch_mtime: new mtime, stamped, embedding kept */
    CHECK(sl_catalog_touch_mtime(lib, info.id, 42) == SL_OK);
    sl_item_info after;
    CHECK(sl_catalog_lookup(lib, "/photos/img0001.jpg", &after) == SL_OK && after.mtime_ns == 42 &&
          after.has_embedding && after.size == info.size);
    CHECK(sl_catalog_touch_mtime(lib, 999999, 1) == SL_ERR_NOT_FOUND);
    int64_t removed = -1;
    CHECK(sl_catalog_end_scan(lib, gen, NULL, 0, &removed) == SL_OK && removed == 2);
    /* set_metadata: replaces, clears, refuses invalid JSON and unknown ids */
    sl_item it;
    CHECK(sl_catalog_set_metadata(lib, info.id, "{\"captions\":[\"a\"]}") == SL_OK);
    CHECK(sl_catalog_get_item(lib, info.id, &it) == SL_OK && it.metadata &&
          strcmp(it.metadata, "{\"captions\":[\"a\"]}") == 0 && it.mtime_ns == 42);
    CHECK(sl_catalog_set_metadata(lib, info.id, "{not json") == SL_ERR_ARG);
    CHECK(sl_catalog_get_item(lib, info.id, &it) == SL_OK && it.metadata &&
          strcmp(it.metadata, "{\"captions\":[\"a\"]}") == 0);
    CHECK(sl_catalog_set_metadata(lib, info.id, NULL) == SL_OK);
    CHECK(sl_catalog_get_item(lib, info.id, &it) == SL_OK && it.metadata == NULL);
    CHECK(sl_catalog_set_metadata(lib, 999999, "{}") == SL_ERR_NOT_FOUND);
    int64_t n = -1;
    CHECK(sl_catalog_count_embeddings(lib, &n) == SL_OK && n == 1);

    /* a second handle switches to model "b" and stores one embedding */
    sl_catalog *other = NULL;
    REQUIRE(sl_catalog_open(path, 0, &other) == SL_OK);
    CHECK(sl_catalog_set_model(other, "b", 4) == SL_OK);
    float v4[4] = {1, 0, 0, 0};
    sl_item it2 = item_at("/photos/b.jpg", 7);
    sl_embedding e4 = {"b", 4, v4};
    CHECK(sl_catalog_put(other, &it2, &e4, NULL) == SL_OK);
    it2.path = "/photos/b2.jpg";
    CHECK(sl_catalog_put(other, &it2, &e4, NULL) == SL_OK);
    /* the first handle counts by the file's model (2 of "b"), not by its
     * stale copy ("m", whose embeddings are gone) */
    CHECK(sl_catalog_count_embeddings(lib, &n) == SL_OK && n == 2);
    CHECK(sl_test_sql_int(path, "SELECT count(*) FROM embeddings WHERE model = 'b'") == 2);
    /* and switching back to "m" from it wipes "b"'s embeddings rather than
     * believing nothing changed */
    CHECK(sl_catalog_set_model(lib, "m", 8) == SL_OK);
    CHECK(sl_test_sql_int(path, "SELECT count(*) FROM embeddings") == 0);
    const char *model = NULL;
    uint32_t dim = 0;
    CHECK(sl_catalog_model(lib, &model, &dim) == SL_OK && strcmp(model, "m") == 0 && dim == 8);
    CHECK(sl_catalog_count_embeddings(other, &n) == SL_OK && n == 0);
    sl_catalog_close(other);
    sl_catalog_close(lib);
    /* no model at all: zero */
    const char *p2 = tmp("indexer-nomodel.db");
    remove_db(p2);
    REQUIRE(sl_catalog_open(p2, SL_CATALOG_CREATE, &lib) == SL_OK);
    CHECK(sl_catalog_count_embeddings(lib, &n) == SL_OK && n == 0);
    sl_catalog_close(lib);
}

/* Open cost with and without quick_check on a mid-sized library. */
static void measure_open(void) {
    const char *path = tmp("measure.db");
    sl_catalog *lib = make_library(path, 5000, 256);
    sl_catalog_close(lib);
    double t0 = sl_now();
    int ok = sl_catalog_open(path, 0, &lib) == SL_OK;
    double t1 = sl_now();
    sl_catalog_close(lib);
    double t2 = sl_now();
    ok &= sl_catalog_open(path, SL_CATALOG_VERIFY, &lib) == SL_OK;
    double t3 = sl_now();
    sl_catalog_close(lib);
    CHECK(ok);
    size_t size = 0;
    free(sl_test_read(path, &size));
    printf("open of a %.1f MB library (5000 items, dim 256): %.2f ms, "
           "with quick_check %.2f ms\n", size / 1e6, (t1 - t0) * 1e3,
           (t3 - t2) * 1e3);
}

/* Load cost of sparse storage (lite-like: dim 1,000, 30 non-zeros). */
static void measure_sparse(void) {
    enum { N = 10000, D = 1000 };
    const char *path = tmp("measure-sparse.db");
    remove_db(path);
    sl_catalog *lib = NULL;
    REQUIRE(sl_catalog_open(path, SL_CATALOG_CREATE, &lib) == SL_OK);
    REQUIRE(sl_catalog_set_model(lib, "lite", D) == SL_OK);
    static float v[D];
    uint64_t seed = 5;
    double t0 = sl_now();
    REQUIRE(sl_catalog_batch_begin(lib) == SL_OK);
    for (int i = 0; i < N; i++) {
        char p[64];
        snprintf(p, sizeof p, "/lite/%06d.jpg", i);
        make_sparse(v, D, 30, &seed);
        sl_item it = item_at(p, i);
        sl_embedding e = {"lite", D, v};
        REQUIRE(sl_catalog_put(lib, &it, &e, NULL) == SL_OK);
    }
    REQUIRE(sl_catalog_batch_commit(lib) == SL_OK);
    double t1 = sl_now();
    int64_t *ids = NULL;
    sl_sparse_rows rows;
    CHECK(sl_catalog_load_sparse(lib, &ids, &rows) == SL_OK && rows.n == N && rows.row_first[N] == 30u * N);
    double t2 = sl_now();
    free(ids);
    sl_sparse_rows_free(&rows);
    float *vecs = NULL;
    size_t n = 0;
    uint32_t dim = 0;
    double t3 = sl_now();
    CHECK(sl_catalog_load_embeddings(lib, &ids, &vecs, &n, &dim) == SL_OK && n == N);
    double t4 = sl_now();
    free(ids);
    sl_free_aligned(vecs);
    sl_catalog_close(lib);
    size_t size = 0;
    free(sl_test_read(path, &size));
    printf("sparse library (10000 items, dim 1000, 30 non-zeros): %.1f MB, put %.1f us/item, "
           "load_sparse %.1f ms, load_embeddings (dense) %.1f ms\n",
           size / 1e6, (t1 - t0) * 1e6 / N, (t2 - t1) * 1e3, (t4 - t3) * 1e3);
}

int main(void) {
    test_create_reopen();
    test_foreign_files();
    test_truncated();
    test_bad_blobs();
    test_models();
    test_scan();
    test_roundtrip();
    test_sparse_roundtrip();
    test_sparse_corrupt();
    test_indexer_calls();
    test_strings();
    test_snapshots();
    test_two_handles();
    test_crash();
    measure_open();
    measure_sparse();
    return sl_test_summary();
}
