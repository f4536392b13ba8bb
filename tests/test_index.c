/* Tests of the public library API and of indexing (sl_library_index) on
 * the 80 COCO images with the real lite model: stats, metadata from the
 * captions, incremental reruns (unchanged, touched, replaced, deleted
 * files), files that must be skipped or counted as failed, thread and
 * batch determinism, cancellation, a SIGKILL in the middle of a run, and
 * bad roots and library files. The catalog (through library_internal.h)
 * and the sqlite3 C API are used to inspect what was stored. */
#include "api/library_internal.h"
#include "testlib.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { N_IMAGES = 80 };

static const char *g_model_path;
static sl_model *g_model;
static char g_names[N_IMAGES][64]; /* the COCO file names, sorted */

/* ---- helpers ----------------------------------------------------------------- */

static char *tmp_path(const char *name) {
    static char bufs[8][512];
    static int next;
    char *b = bufs[next++ & 7];
    snprintf(b, sizeof bufs[0], "%s/%s", sl_test_tmpdir(), name);
    return b;
}

static void write_file(const char *path, const void *data, size_t size) {
    FILE *f = fopen(path, "wb");
    REQUIRE(f != NULL);
    if (size) REQUIRE(fwrite(data, 1, size, f) == size);
    REQUIRE(fclose(f) == 0);
}

static void copy_file(const char *src, const char *dst) {
    size_t size = 0;
    uint8_t *data = sl_test_read(src, &size);
    write_file(dst, data, size);
    free(data);
}

static const char *asset_image(size_t i) {
    static char buf[4096];
    char rel[128];
    snprintf(rel, sizeof rel, "coco-train80/images/%.63s", g_names[i]);
    snprintf(buf, sizeof buf, "%s", sl_test_asset(rel));
    return buf;
}

static int cmp_str(const void *a, const void *b) { return strcmp(a, b); }

static void list_names(void) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", sl_test_asset("coco-train80/images"));
    DIR *d = opendir(dir);
    REQUIRE(d != NULL);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') continue;
        size_t len = strlen(de->d_name);
        REQUIRE(n < N_IMAGES && len < sizeof g_names[0]);
        memcpy(g_names[n++], de->d_name, len + 1);
    }
    closedir(d);
    REQUIRE(n == N_IMAGES);
    qsort(g_names, n, sizeof g_names[0], cmp_str);
}

/* A fresh folder holding copies of the first n COCO images. */
static const char *make_image_dir(const char *name, size_t n) {
    const char *dir = tmp_path(name);
    static char keep[8][512];
    static int next;
    char *d = keep[next++ & 7];
    snprintf(d, sizeof keep[0], "%s", dir);
    REQUIRE(mkdir(d, 0755) == 0);
    for (size_t i = 0; i < n; i++) {
        char dst[1024];
        snprintf(dst, sizeof dst, "%s/%.63s", d, g_names[i]);
        copy_file(asset_image(i), dst);
    }
    return d;
}

static void remove_db(const char *path) {
    char p[1024];
    remove(path);
    snprintf(p, sizeof p, "%s-wal", path);
    remove(p);
    snprintf(p, sizeof p, "%s-shm", path);
    remove(p);
}

static sl_library *new_library(const char *name) {
    const char *path = tmp_path(name);
    remove_db(path);
    sl_library *lib = NULL;
    REQUIRE(sl_library_open(path, 1, &lib) == SL_OK);
    return lib;
}



/* Warnings received through sl_set_log (any thread may log). */
static pthread_mutex_t g_log_mu = PTHREAD_MUTEX_INITIALIZER;
static char g_warnings[8192];
static int g_n_warnings;

static void on_log(void *user, sl_log_level level, const char *msg) {
    (void)user;
    if (level < SL_LOG_WARN) return;
    pthread_mutex_lock(&g_log_mu);
    size_t used = strlen(g_warnings);
    snprintf(g_warnings + used, sizeof g_warnings - used, "%s\n", msg);
    g_n_warnings++;
    pthread_mutex_unlock(&g_log_mu);
}

static void clear_warnings(void) {
    pthread_mutex_lock(&g_log_mu);
    g_warnings[0] = '\0';
    g_n_warnings = 0;
    pthread_mutex_unlock(&g_log_mu);
}

/* Progress calls, checked for order and throttling; optionally cancels. */
typedef struct progress_log {
    int calls;
    int per_phase[3];
    int bad_order;     /* a phase went backwards or a count shrank */
    sl_index_stats last;
    int cancel_phase;  /* -1: never cancel; else cancel at the first call in it */
    uint64_t cancel_after_embedded; /* with cancel_phase EMBEDDING: also wait for this many */
    int sleep_ms_after_scan; /* pause in the call that ends the scan (see test_cancel) */
} progress_log;

static int on_progress(void *user, const sl_index_stats *s) {
    progress_log *p = user;
    if (p->calls > 0 && (s->phase < p->last.phase || s->files_found < p->last.files_found ||
                         s->embedded < p->last.embedded || s->failed < p->last.failed))
        p->bad_order = 1;
    p->calls++;
    if ((unsigned)s->phase < 3) p->per_phase[s->phase]++;
    p->last = *s;
    if (p->sleep_ms_after_scan && s->phase == SL_INDEX_SCANNING && s->to_embed > 0)
        usleep((useconds_t)p->sleep_ms_after_scan * 1000);
    return p->cancel_phase >= 0 && (int)s->phase == p->cancel_phase && s->embedded >= p->cancel_after_embedded;
}

static sl_status index_dirs(sl_library *lib, const char *const *roots, size_t n, int threads, size_t batch,
                            const char *captions, progress_log *prog, sl_index_stats *stats) {
    sl_index_opts o;
    sl_index_opts_init(&o);
    o.n_threads = threads;
    o.batch_size = batch;
    o.captions = captions;
    if (prog) {
        o.progress = on_progress;
        o.progress_user = prog;
    }
    return sl_library_index(lib, g_model, roots, n, &o, stats);
}

static sl_status index_dir(sl_library *lib, const char *dir, int threads, size_t batch, const char *captions,
                           sl_index_stats *stats) {
    return index_dirs(lib, &dir, 1, threads, batch, captions, NULL, stats);
}

static int64_t item_id(sl_library *lib, const char *path) {
    sl_item_info info;
    if (sl_catalog_lookup(lib->cat, path, &info) != SL_OK || !info.known) return -1;
    return info.id;
}

/* The stored embedding of `path` (dim floats into out); false if none. */
static int stored_vec(sl_library *lib, const char *path, float *out) {
    int64_t id = item_id(lib, path);
    int64_t *ids = NULL;
    float *vecs = NULL;
    size_t n = 0;
    uint32_t dim = 0;
    int found = 0;
    if (id >= 0 && sl_catalog_load_embeddings(lib->cat, &ids, &vecs, &n, &dim) == SL_OK) {
        for (size_t r = 0; r < n; r++)
            if (ids[r] == id) {
                memcpy(out, vecs + r * dim, dim * sizeof(float));
                found = 1;
            }
    }
    free(ids);
    sl_free_aligned(vecs);
    return found;
}

static void set_mtime(const char *path, time_t sec) {
    struct timespec t[2] = {{0, UTIME_OMIT}, {sec, 123456789}};
    REQUIRE(utimensat(AT_FDCWD, path, t, 0) == 0);
}

static void print_stats(const char *what, const sl_index_stats *s) {
    printf("%s: found %llu, unchanged %llu, to_embed %llu, embedded %llu, failed %llu, removed %llu, "
           "%.3f s%s\n",
           what, (unsigned long long)s->files_found, (unsigned long long)s->unchanged,
           (unsigned long long)s->to_embed, (unsigned long long)s->embedded, (unsigned long long)s->failed,
           (unsigned long long)s->removed, s->seconds, s->cancelled ? " (cancelled)" : "");
}

/* ---- tests ------------------------------------------------------------------- */

static const char *g_dir;       /* the main folder of 80 images */
static sl_library *g_lib;       /* indexed with captions, 2 threads */
static double g_seconds_2threads;

static void test_first_index(void) {
    g_dir = make_image_dir("photos", N_IMAGES);
    g_lib = new_library("main.db");
    int64_t items = -1, embedded = -1;
    CHECK(sl_library_count(g_lib, &items, &embedded) == SL_OK && items == 0 && embedded == 0);

    char captions[4096];
    snprintf(captions, sizeof captions, "%s", sl_test_asset("coco-train80/captions.json"));
    progress_log prog = {.cancel_phase = -1};
    sl_index_stats st;
    clear_warnings();
    REQUIRE(index_dirs(g_lib, &g_dir, 1, 2, 64, captions, &prog, &st) == SL_OK);
    print_stats("first index (2 threads)", &st);
    g_seconds_2threads = st.seconds;
    CHECK(st.files_found == N_IMAGES && st.to_embed == N_IMAGES && st.embedded == N_IMAGES);
    CHECK(st.unchanged == 0 && st.failed == 0 && st.removed == 0 && !st.cancelled);
    CHECK(st.phase == SL_INDEX_DONE && st.seconds > 0);
    CHECK(g_n_warnings == 0);
    CHECK(sl_library_count(g_lib, &items, &embedded) == SL_OK && items == N_IMAGES && embedded == N_IMAGES);
    CHECK(sl_library_count(g_lib, NULL, NULL) == SL_OK);
    /* progress: once at the end of each phase at least, in order, and
     * throttled (no more than one per 100 ms plus the forced ones) */
    CHECK(prog.per_phase[SL_INDEX_SCANNING] >= 1 && prog.per_phase[SL_INDEX_EMBEDDING] >= 1 &&
          prog.per_phase[SL_INDEX_DONE] == 1);
    CHECK(!prog.bad_order && prog.last.phase == SL_INDEX_DONE && prog.last.embedded == N_IMAGES);
    CHECK_MSG(prog.calls <= 3 + (int)(st.seconds / 0.1) + 1, "%d progress calls in %.2f s", prog.calls,
              st.seconds);

    /* each item: absolute path, size, SHA-256 of its bytes, pixel size and
     * its captions as metadata */
    int ok_items = 1;
    for (size_t i = 0; i < N_IMAGES; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%.63s", g_dir, g_names[i]);
        int64_t id = item_id(g_lib, path);
        sl_item it;
        if (id < 0 || sl_catalog_get_item(g_lib->cat, id, &it) != SL_OK) {
            ok_items = 0;
            continue;
        }
        size_t size = 0;
        uint8_t *data = sl_test_read(path, &size);
        uint8_t hash[SL_SHA256_SIZE];
        sl_sha256_once(data, size, hash);
        free(data);
        if (it.path[0] != '/' || it.size != (int64_t)size || it.hash_size != SL_SHA256_SIZE ||
            memcmp(it.hash, hash, SL_SHA256_SIZE) != 0 || it.width <= 0 || it.height <= 0 || !it.metadata ||
            !strstr(it.metadata, "\"captions\":[") || !strstr(it.metadata, "\"coco_id\":") ||
            !strstr(it.metadata, "\"coco_url\":\"http://images.cocodataset.org/")) {
            fprintf(stderr, "item %s: %s\n", path, it.metadata ? it.metadata : "(no metadata)");
            ok_items = 0;
        }
    }
    CHECK(ok_items);
    /* one item in detail: 000000000790.jpg, 640x422, five captions */
    char p790[1024];
    snprintf(p790, sizeof p790, "%s/000000000790.jpg", g_dir);
    sl_item it;
    REQUIRE(sl_catalog_get_item(g_lib->cat, item_id(g_lib, p790), &it) == SL_OK);
    CHECK(it.width == 640 && it.height == 422);
    CHECK(it.metadata && strstr(it.metadata, "a family is sitting down at a table to have cake") &&
          strstr(it.metadata, "\"coco_id\":790") && strstr(it.metadata, "\"flickr_url\":\"http://farm9."));
    CHECK(sl_test_sql_int(tmp_path("main.db"), "SELECT json_array_length(metadata, '$.captions') FROM items WHERE "
                                       "path LIKE '%/000000000790.jpg'") == 5);
    /* the lite model's embeddings are stored sparse */
    CHECK(sl_test_sql_int(tmp_path("main.db"), "SELECT count(*) FROM embeddings WHERE format = 1") == N_IMAGES);
    /* same vector as embedding the file through the public API */
    float a[1000], b[1000];
    REQUIRE(sl_model_dim(g_model) == 1000);
    CHECK(stored_vec(g_lib, p790, a));
    uint32_t w = 0, h = 0;
    CHECK(sl_model_embed_file(g_model, p790, b, &w, &h) == SL_OK && w == 640 && h == 422);
    CHECK(memcmp(a, b, sizeof a) == 0);
}

static void test_rerun(void) {
    sl_index_stats st;
    /* unchanged: nothing embedded; without captions the metadata stays */
    REQUIRE(index_dir(g_lib, g_dir, 2, 64, NULL, &st) == SL_OK);
    print_stats("rerun", &st);
    CHECK(st.unchanged == N_IMAGES && st.embedded == 0 && st.to_embed == 0 && st.removed == 0);
    CHECK(sl_test_sql_int(tmp_path("main.db"), "SELECT count(*) FROM items WHERE metadata IS NOT NULL") == N_IMAGES);
    /* a stop asked for in the final call comes too late to change anything */
    progress_log late = {.cancel_phase = SL_INDEX_DONE};
    REQUIRE(index_dirs(g_lib, &g_dir, 1, 2, 64, NULL, &late, &st) == SL_OK);
    CHECK(late.per_phase[SL_INDEX_DONE] == 1 && !st.cancelled && st.phase == SL_INDEX_DONE);

    /* only the mtime changes: the hash matches, nothing is re-embedded and
     * the new mtime is recorded */
    char p0[1024];
    snprintf(p0, sizeof p0, "%s/%.63s", g_dir, g_names[0]);
    set_mtime(p0, 1000000000);
    REQUIRE(index_dir(g_lib, g_dir, 2, 64, NULL, &st) == SL_OK);
    print_stats("mtime touched", &st);
    CHECK(st.unchanged == N_IMAGES && st.embedded == 0 && st.to_embed == 0);
    sl_item_info info;
    CHECK(sl_catalog_lookup(g_lib->cat, p0, &info) == SL_OK && info.has_embedding &&
          info.mtime_ns == 1000000000123456789ll);
    REQUIRE(index_dir(g_lib, g_dir, 2, 64, NULL, &st) == SL_OK);
    CHECK(st.unchanged == N_IMAGES && st.to_embed == 0);

    /* new content of another size: re-embedded, and since it is now the
     * bytes of image 2, its embedding is image 2's; it keeps its metadata */
    char p1[1024], p2[1024], p3[1024], p4[1024], p5[1024];
    snprintf(p1, sizeof p1, "%s/%.63s", g_dir, g_names[1]);
    snprintf(p2, sizeof p2, "%s/%.63s", g_dir, g_names[2]);
    snprintf(p3, sizeof p3, "%s/%.63s", g_dir, g_names[3]);
    snprintf(p4, sizeof p4, "%s/%.63s", g_dir, g_names[4]);
    snprintf(p5, sizeof p5, "%s/%.63s", g_dir, g_names[5]);
    float before[1000], after[1000], other[1000];
    REQUIRE(stored_vec(g_lib, p1, before) && stored_vec(g_lib, p2, other));
    copy_file(p2, p1);
    /* same size, new bytes: the hash check runs and fails -> re-embedded.
     * The smaller of images 4 and 5 padded with zeros after the JPEG's end
     * marker (decoders stop there) to the size of the larger, over it. */
    struct stat s4, s5;
    REQUIRE(stat(p4, &s4) == 0 && stat(p5, &s5) == 0 && s4.st_size != s5.st_size);
    const char *small = s4.st_size < s5.st_size ? p4 : p5, *big = small == p4 ? p5 : p4;
    struct stat sb;
    REQUIRE(stat(big, &sb) == 0);
    size_t small_size = 0;
    uint8_t *small_data = sl_test_read(small, &small_size);
    uint8_t *padded = calloc(1, (size_t)sb.st_size);
    REQUIRE(padded != NULL);
    memcpy(padded, small_data, small_size);
    float big_before[1000], small_vec[1000], big_after[1000];
    REQUIRE(stored_vec(g_lib, big, big_before) && stored_vec(g_lib, small, small_vec));
    write_file(big, padded, (size_t)sb.st_size);
    set_mtime(big, 1100000000);
    free(padded);
    free(small_data);

    REQUIRE(index_dir(g_lib, g_dir, 2, 64, NULL, &st) == SL_OK);
    print_stats("two files replaced", &st);
    CHECK(st.embedded == 2 && st.unchanged == N_IMAGES - 2 && st.to_embed == 2 && st.failed == 0);
    CHECK(stored_vec(g_lib, p1, after));
    CHECK(memcmp(before, after, sizeof after) != 0);
    CHECK(memcmp(other, after, sizeof after) == 0);
    CHECK(stored_vec(g_lib, big, big_after));
    CHECK(memcmp(big_before, big_after, sizeof big_after) != 0);
    CHECK(memcmp(small_vec, big_after, sizeof big_after) == 0);
    sl_item it;
    CHECK(sl_catalog_get_item(g_lib->cat, item_id(g_lib, p1), &it) == SL_OK && it.metadata &&
          strstr(it.metadata, "\"captions\""));

    /* a deleted file is forgotten, with its embedding */
    REQUIRE(remove(p3) == 0);
    REQUIRE(index_dir(g_lib, g_dir, 2, 64, NULL, &st) == SL_OK);
    print_stats("one file deleted", &st);
    CHECK(st.removed == 1 && st.files_found == N_IMAGES - 1 && st.unchanged == N_IMAGES - 1);
    int64_t items = 0, embedded = 0;
    CHECK(sl_library_count(g_lib, &items, &embedded) == SL_OK && items == N_IMAGES - 1 &&
          embedded == N_IMAGES - 1);
    CHECK(item_id(g_lib, p3) < 0);
    copy_file(asset_image(3), p3); /* restore for the tests below */
    REQUIRE(index_dir(g_lib, g_dir, 2, 64, NULL, &st) == SL_OK);
    CHECK(st.embedded == 1 && st.unchanged == N_IMAGES - 1);

}

/* Files that are skipped without a word, and files that fail loudly. */
static void test_bad_files(void) {
    const char *dir = make_image_dir("mixed", 4);
    char p[1024], q[1024];
    uint64_t seed = 99;
    uint8_t junk[3000];
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)sl_test_rand(&seed);
    junk[0] = 0xff; /* starts like a JPEG (SOI) and then is garbage */
    junk[1] = 0xd8;
    snprintf(p, sizeof p, "%s/corrupt.jpg", dir);
    write_file(p, junk, sizeof junk);
    size_t size = 0;
    uint8_t *jpeg = sl_test_read(asset_image(10), &size);
    snprintf(p, sizeof p, "%s/truncated.jpg", dir);
    write_file(p, jpeg, size / 3);
    free(jpeg);
    snprintf(p, sizeof p, "%s/empty.png", dir);
    write_file(p, "", 0);
    snprintf(p, sizeof p, "%s/notes.txt", dir);
    write_file(p, "not an image", 12);
    snprintf(p, sizeof p, "%s/.hidden.jpg", dir);
    copy_file(asset_image(11), p);
    snprintf(p, sizeof p, "%s/link.jpg", dir);
    snprintf(q, sizeof q, "%s/%.63s", dir, g_names[0]);
    REQUIRE(symlink(q, p) == 0);
    snprintf(p, sizeof p, "%s/fifo.jpg", dir);
    REQUIRE(mkfifo(p, 0644) == 0);
    snprintf(p, sizeof p, "%s/.hidden-dir", dir);
    REQUIRE(mkdir(p, 0755) == 0);
    snprintf(p, sizeof p, "%s/.hidden-dir/inside.jpg", dir);
    copy_file(asset_image(12), p);
    snprintf(p, sizeof p, "%s/sub", dir);
    REQUIRE(mkdir(p, 0755) == 0);
    snprintf(p, sizeof p, "%s/sub/UPPER.JPEG", dir);
    copy_file(asset_image(13), p);
    snprintf(p, sizeof p, "%s/sub/deeper", dir);
    REQUIRE(mkdir(p, 0755) == 0);
    snprintf(p, sizeof p, "%s/sub/deeper/x.Png", dir);
    copy_file(asset_image(14), p); /* a JPEG named .Png: decoded by content */
    snprintf(p, sizeof p, "%s/linked-dir", dir);
    snprintf(q, sizeof q, "%s/sub", dir);
    REQUIRE(symlink(q, p) == 0);

    sl_library *lib = new_library("mixed.db");
    sl_index_stats st;
    clear_warnings();
    REQUIRE(index_dir(lib, dir, 2, 3, NULL, &st) == SL_OK);
    print_stats("bad files", &st);
    /* 4 images + UPPER.JPEG + x.Png + corrupt + truncated + empty */
    CHECK(st.files_found == 9 && st.to_embed == 9 && st.embedded == 6 && st.failed == 3);
    CHECK_MSG(g_n_warnings == 3, "%d warnings:\n%s", g_n_warnings, g_warnings);
    CHECK(strstr(g_warnings, "skipping ") && strstr(g_warnings, "/corrupt.jpg: ") &&
          strstr(g_warnings, "/truncated.jpg: ") && strstr(g_warnings, "/empty.png: "));
    printf("warnings:\n%s", g_warnings);
    int64_t items = 0, embedded = 0;
    CHECK(sl_library_count(lib, &items, &embedded) == SL_OK && items == 6 && embedded == 6);
    snprintf(p, sizeof p, "%s/sub/UPPER.JPEG", dir);
    CHECK(item_id(lib, p) >= 0);
    snprintf(p, sizeof p, "%s/link.jpg", dir);
    CHECK(item_id(lib, p) < 0);
    CHECK(sl_test_sql_int(tmp_path("mixed.db"), "SELECT count(*) FROM items WHERE path LIKE '%hidden%' OR path LIKE "
                                        "'%linked-dir%' OR path LIKE '%.txt' OR path LIKE '%fifo%'") == 0);

    /* the failed files are tried again next time (and fail again) */
    clear_warnings();
    REQUIRE(index_dir(lib, dir, 1, 64, NULL, &st) == SL_OK);
    CHECK(st.unchanged == 6 && st.failed == 3 && st.embedded == 0 && g_n_warnings == 3);

    /* a root that is a single file (even a hidden one: it was asked for),
     * and roots given with redundant components are normalized */
    sl_library *one = new_library("one.db");
    snprintf(p, sizeof p, "%s/./sub//../.hidden.jpg", dir);
    const char *root = p;
    REQUIRE(index_dirs(one, &root, 1, 2, 64, NULL, NULL, &st) == SL_OK);
    CHECK(st.files_found == 1 && st.embedded == 1);
    snprintf(q, sizeof q, "%s/.hidden.jpg", dir);
    CHECK(item_id(one, q) >= 0);
    /* overlapping roots list each file once */
    char sub[1024];
    snprintf(sub, sizeof sub, "%s/sub/", dir);
    const char *roots2[] = {sub, dir, root};
    clear_warnings();
    REQUIRE(index_dirs(one, roots2, 3, 2, 64, NULL, NULL, &st) == SL_OK);
    CHECK(st.files_found == 10 && st.unchanged == 1 && st.embedded == 6 && st.failed == 3);
    CHECK(sl_test_sql_int(tmp_path("one.db"), "SELECT count(*) FROM items") == 7);
    sl_library_close(one);
    sl_library_close(lib);
}

/* A folder the walk cannot read (here: nested deeper than PATH_MAX, which
 * fails for root too) makes the walk incomplete: a warning, and nothing is
 * forgotten, since a file not listed may still exist. */
static void test_incomplete_walk(void) {
    const char *dir = make_image_dir("partial", 3);
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    REQUIRE(fd >= 0);
    char name[201];
    memset(name, 'd', 200);
    name[200] = '\0';
    name[0] = 'z'; /* the chain's top: "zddd..." */
    for (int depth = 0; depth < 24; depth++) { /* 24 * 201 > 4096 */
        REQUIRE(mkdirat(fd, name, 0755) == 0);
        int sub = openat(fd, name, O_RDONLY | O_DIRECTORY);
        REQUIRE(sub >= 0);
        close(fd);
        fd = sub;
        name[0] = 'd';
    }
    close(fd);
    sl_library *lib = new_library("partial.db");
    sl_index_stats st;
    clear_warnings();
    REQUIRE(index_dir(lib, dir, 2, 64, NULL, &st) == SL_OK);
    CHECK(st.embedded == 3 && st.removed == 0);
    CHECK_MSG(g_n_warnings >= 2 && strstr(g_warnings, "cannot read folder") && strstr(g_warnings, "no item was forgotten"),
              "%s", g_warnings);
    char p0[1024];
    snprintf(p0, sizeof p0, "%s/%.63s", dir, g_names[0]);
    REQUIRE(remove(p0) == 0);
    REQUIRE(index_dir(lib, dir, 2, 64, NULL, &st) == SL_OK);
    CHECK(st.files_found == 2 && st.unchanged == 2 && st.removed == 0);
    CHECK(item_id(lib, p0) >= 0);
    /* the unreadable chain hidden from the walk: complete again, forgotten */
    char from[1024], to[1024];
    memset(name, 'd', 200);
    name[0] = 'z';
    snprintf(from, sizeof from, "%s/%s", dir, name);
    snprintf(to, sizeof to, "%s/.hidden-chain", dir);
    REQUIRE(rename(from, to) == 0);
    clear_warnings();
    REQUIRE(index_dir(lib, dir, 2, 64, NULL, &st) == SL_OK);
    CHECK(st.removed == 1 && g_n_warnings == 0);
    CHECK(item_id(lib, p0) < 0);
    sl_library_close(lib);
}

/* A SQLite failure in the middle of a run (a trigger refuses one insert):
 * the error is returned, the open batch rolled back, the committed ones
 * stay, the handle stays usable and a rerun resumes. */
static void test_sqlite_failure(void) {
    enum { N = 24 };
    const char *dir = make_image_dir("fail", N);
    const char *db = tmp_path("fail.db");
    sl_library *lib = new_library("fail.db");
    char sql[512];
    snprintf(sql, sizeof sql,
             "CREATE TRIGGER refuse BEFORE INSERT ON items WHEN NEW.path LIKE '%%/%.63s' "
             "BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
             g_names[20]);
    CHECK(sl_test_sql_exec(db, sql) == SQLITE_OK);
    sl_index_stats st;
    sl_status s = index_dir(lib, dir, 2, 8, NULL, &st);
    CHECK_MSG(s == SL_ERR_ARG && strstr(sl_last_error(), "injected failure"), "%s: %s", sl_status_str(s),
              sl_last_error());
    CHECK(st.embedded == 16);
    int64_t items = 0, embedded = 0;
    CHECK(sl_library_count(lib, &items, &embedded) == SL_OK && items == 16 && embedded == 16);
    CHECK(sl_test_sql_exec(db, "DROP TRIGGER refuse") == SQLITE_OK);
    REQUIRE(index_dir(lib, dir, 2, 8, NULL, &st) == SL_OK);
    CHECK(st.unchanged == 16 && st.embedded == N - 16);
    CHECK(sl_library_count(lib, &items, &embedded) == SL_OK && items == N && embedded == N);
    sl_library_close(lib);
}

/* Same library whatever the thread count and batch size: items and
 * embeddings bit for bit. */
static void compare_libraries(sl_library *a, sl_library *b, size_t n) {
    int64_t *ia = NULL, *ib = NULL;
    float *va = NULL, *vb = NULL;
    size_t na = 0, nb = 0;
    uint32_t da = 0, db = 0;
    REQUIRE(sl_catalog_load_embeddings(a->cat, &ia, &va, &na, &da) == SL_OK);
    REQUIRE(sl_catalog_load_embeddings(b->cat, &ib, &vb, &nb, &db) == SL_OK);
    CHECK(na == n && na == nb && da == db);
    int same = na == nb;
    for (size_t r = 0; same && r < na; r++) {
        sl_item x, y;
        char px[1024];
        REQUIRE(sl_catalog_get_item(a->cat, ia[r], &x) == SL_OK);
        snprintf(px, sizeof px, "%s", x.path);
        int64_t sx = x.size, mx = x.mtime_ns;
        int32_t wx = x.width, hx = x.height;
        uint8_t hash[SL_SHA256_SIZE];
        memcpy(hash, x.hash, SL_SHA256_SIZE);
        REQUIRE(sl_catalog_get_item(b->cat, ib[r], &y) == SL_OK);
        if (strcmp(px, y.path) != 0 || sx != y.size || mx != y.mtime_ns || wx != y.width || hx != y.height ||
            memcmp(hash, y.hash, SL_SHA256_SIZE) != 0 || memcmp(va + r * da, vb + r * db, da * 4) != 0)
            same = 0;
    }
    CHECK(same);
    free(ia);
    free(ib);
    sl_free_aligned(va);
    sl_free_aligned(vb);
}

static void test_determinism(void) {
    enum { N = 32 }; /* enough for several rounds; keeps sanitizer builds quick */
    const char *dir = make_image_dir("determinism", N);
    sl_library *a = new_library("one-thread.db");
    sl_library *b = new_library("two-threads.db");
    sl_index_stats sa, sb;
    REQUIRE(index_dir(a, dir, 1, 64, NULL, &sa) == SL_OK);
    REQUIRE(index_dir(b, dir, 2, 1, NULL, &sb) == SL_OK);
    print_stats("1 thread, batch 64", &sa);
    print_stats("2 threads, batch 1", &sb);
    printf("indexing: 1 thread %.1f ms/image, 2 threads (batch 1) %.1f ms/image, "
           "2 threads (batch 64) %.1f ms/image\n",
           sa.seconds * 1e3 / N, sb.seconds * 1e3 / N, g_seconds_2threads * 1e3 / N_IMAGES);
    CHECK(sa.embedded == N && sb.embedded == N);
    compare_libraries(a, b, N);

    /* captions given later: unchanged files get their metadata without
     * being re-embedded, and a second such run writes nothing new */
    char captions[4096];
    snprintf(captions, sizeof captions, "%s", sl_test_asset("coco-train80/captions.json"));
    CHECK(sl_test_sql_int(tmp_path("one-thread.db"), "SELECT count(*) FROM items WHERE metadata IS NOT NULL") == 0);
    REQUIRE(index_dir(a, dir, 2, 64, captions, &sa) == SL_OK);
    CHECK(sa.unchanged == N && sa.embedded == 0);
    CHECK(sl_test_sql_int(tmp_path("one-thread.db"), "SELECT count(*) FROM items WHERE metadata IS NOT NULL") == N);

    /* A library whose model differs (forged here) is re-embedded entirely,
     * and comes out as the other library. */
    sl_library_close(a);
    CHECK(sl_test_sql_exec(tmp_path("one-thread.db"), "UPDATE meta SET value = 'another-model' WHERE key = 'model_id'") ==
          SQLITE_OK);
    REQUIRE(sl_library_open(tmp_path("one-thread.db"), 0, &a) == SL_OK);
    int64_t items = 0, embedded = 0;
    CHECK(sl_library_count(a, &items, &embedded) == SL_OK && items == N && embedded == 0);
    REQUIRE(index_dir(a, dir, 2, 64, NULL, &sa) == SL_OK);
    print_stats("model changed", &sa);
    CHECK(sa.embedded == N && sa.unchanged == 0);
    CHECK(sl_library_count(a, &items, &embedded) == SL_OK && items == N && embedded == N);
    compare_libraries(a, b, N);
    sl_library_close(a);
    sl_library_close(b);
}

static void test_cancel(void) {
    enum { N = 32 };
    const char *dir = make_image_dir("cancel", N);
    sl_library *lib = new_library("cancel.db");
    sl_index_stats st;
    /* cancelled while scanning: nothing embedded */
    progress_log prog = {.cancel_phase = SL_INDEX_SCANNING};
    REQUIRE(index_dirs(lib, &dir, 1, 2, 8, NULL, &prog, &st) == SL_OK);
    print_stats("cancelled while scanning", &st);
    CHECK(st.cancelled && st.embedded == 0 && prog.calls == 1);
    /* cancelled while embedding: the committed batches stay. The pause in
     * the call that ends the scan makes the next call (at most every
     * 100 ms) come right after the first batch, on any machine. */
    progress_log prog2 = {.cancel_phase = SL_INDEX_EMBEDDING, .sleep_ms_after_scan = 150};
    REQUIRE(index_dirs(lib, &dir, 1, 2, 8, NULL, &prog2, &st) == SL_OK);
    print_stats("cancelled while embedding", &st);
    CHECK(st.cancelled && st.embedded == 8 && st.phase == SL_INDEX_DONE);
    CHECK(prog2.last.cancelled == 0 && prog2.last.embedded == 8 && prog2.per_phase[SL_INDEX_DONE] == 0);
    int64_t items = 0, embedded = 0;
    CHECK(sl_library_count(lib, &items, &embedded) == SL_OK && embedded == 8 && items == 8);

    /* a cancelled run forgets nothing: a file deleted before it stays */
    char p0[1024];
    snprintf(p0, sizeof p0, "%s/%.63s", dir, g_names[0]);
    REQUIRE(remove(p0) == 0);
    progress_log prog3 = {.cancel_phase = SL_INDEX_SCANNING};
    REQUIRE(index_dirs(lib, &dir, 1, 2, 8, NULL, &prog3, &st) == SL_OK);
    CHECK(st.cancelled && st.removed == 0);
    CHECK(item_id(lib, p0) >= 0);
    /* back with the same bytes and a new mtime: the hash says unchanged */
    copy_file(asset_image(0), p0);
    set_mtime(p0, 1200000000);

    /* a later run completes */
    REQUIRE(index_dir(lib, dir, 2, 8, NULL, &st) == SL_OK);
    print_stats("after cancel", &st);
    CHECK(!st.cancelled && st.unchanged == 8 && st.embedded == N - 8);
    CHECK(sl_library_count(lib, &items, &embedded) == SL_OK && items == N && embedded == N);
    sl_library_close(lib);
}

/* A child indexes with batch_size 4 and is killed with SIGKILL mid-run;
 * the rerun completes without re-embedding what was committed. */
static void test_kill(void) {
    const char *dir = make_image_dir("kill", N_IMAGES);
    const char *path = tmp_path("kill.db");
    char db[512];
    snprintf(db, sizeof db, "%s", path);
    remove_db(db);
    fflush(NULL);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        sl_model *m = NULL;
        sl_library *lib = NULL;
        if (sl_model_open(g_model_path, &m) != SL_OK || sl_library_open(db, 1, &lib) != SL_OK) _exit(2);
        sl_index_opts o;
        sl_index_opts_init(&o);
        o.batch_size = 4;
        sl_status s = sl_library_index(lib, m, &dir, 1, &o, NULL);
        _exit(s == SL_OK ? 0 : 1);
    }
    sl_library *watch = NULL;
    int64_t seen = 0;
    double t0 = sl_now();
    while (sl_now() - t0 < 60) {
        if (!watch && sl_library_open(db, 0, &watch) != SL_OK) watch = NULL;
        int64_t items = 0, embedded = 0;
        if (watch && sl_library_count(watch, &items, &embedded) == SL_OK && embedded > 0) {
            seen = embedded;
            break;
        }
        usleep(1000);
    }
    int killed = kill(pid, SIGKILL) == 0;
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(killed && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    CHECK_MSG(seen > 0 && seen < N_IMAGES, "killed after %lld embedded", (long long)seen);
    int64_t items = 0, committed = 0;
    REQUIRE(watch != NULL);
    CHECK(sl_library_count(watch, &items, &committed) == SL_OK);
    printf("killed with %lld items committed (%lld seen)\n", (long long)committed, (long long)seen);
    CHECK(committed >= seen && committed % 4 == 0 && items == committed);
    sl_library_close(watch);

    sl_library *lib = NULL;
    REQUIRE(sl_library_open(db, 0, &lib) == SL_OK);
    sl_index_stats st;
    REQUIRE(index_dir(lib, dir, 2, 64, NULL, &st) == SL_OK);
    print_stats("after SIGKILL", &st);
    CHECK(st.unchanged == (uint64_t)committed && st.unchanged > 0 && st.embedded == N_IMAGES - (uint64_t)committed);
    CHECK(sl_library_count(lib, &items, &committed) == SL_OK && items == N_IMAGES && committed == N_IMAGES);
    sl_library_close(lib);
    CHECK(sl_test_sql_int(db, "SELECT count(DISTINCT path) FROM items") == N_IMAGES);
    CHECK(sl_test_sql_int(db, "SELECT count(*) FROM items i JOIN embeddings e ON e.item_id = i.id") == N_IMAGES);
}

static void expect_open_error(const char *path, int create, sl_status want, const char *what) {
    sl_library *lib = (sl_library *)1;
    sl_status st = sl_library_open(path, create, &lib);
    CHECK_MSG(st == want && lib == NULL && strstr(sl_last_error(), path), "%s: %s (%s)", what,
              sl_status_str(st), sl_last_error());
}

static void test_bad_input(void) {
    /* a root that does not exist: nothing changes, not even the model or
     * the scan generation */
    sl_library *lib = new_library("bad.db");
    char missing[1024];
    snprintf(missing, sizeof missing, "%s/no-such-folder", sl_test_tmpdir());
    const char *roots[] = {g_dir, missing};
    sl_index_stats st;
    CHECK(index_dirs(lib, roots, 2, 2, 64, NULL, NULL, &st) == SL_ERR_NOT_FOUND);
    CHECK(strstr(sl_last_error(), "no-such-folder") != NULL);
    CHECK(st.files_found == 0 && st.embedded == 0);
    const char *db = tmp_path("bad.db");
    CHECK(sl_test_sql_int(db, "SELECT count(*) FROM meta WHERE key = 'model_id'") == 0);
    CHECK(sl_test_sql_int(db, "SELECT value FROM meta WHERE key = 'scan_generation'") == 0);
    /* a missing captions file, zero roots, NULL arguments */
    CHECK(index_dir(lib, g_dir, 2, 64, missing, &st) == SL_ERR_IO);
    CHECK(index_dirs(lib, roots, 0, 2, 64, NULL, NULL, &st) == SL_ERR_ARG);
    const char *empty = "";
    CHECK(index_dirs(lib, &empty, 1, 2, 64, NULL, NULL, &st) == SL_ERR_ARG);
    CHECK(sl_library_index(NULL, g_model, roots, 1, NULL, NULL) == SL_ERR_ARG);
    CHECK(sl_library_index(lib, NULL, roots, 1, NULL, NULL) == SL_ERR_ARG);
    const char *devnull = "/dev/null";
    CHECK(index_dirs(lib, &devnull, 1, 2, 64, NULL, NULL, &st) == SL_ERR_ARG);
    CHECK(sl_test_sql_int(db, "SELECT count(*) FROM meta WHERE key = 'model_id'") == 0);
    CHECK(sl_test_sql_int(db, "SELECT value FROM meta WHERE key = 'scan_generation'") == 0);
    /* defaults with NULL options work */
    sl_index_opts o;
    memset(&o, 0xff, sizeof o);
    sl_index_opts_init(&o);
    CHECK(o.n_threads == 2 && o.batch_size == 64 && !o.captions && !o.progress && !o.progress_user);
    sl_library_close(lib);
    sl_library_close(NULL);
    CHECK(sl_library_count(NULL, NULL, NULL) == SL_ERR_ARG);

    /* library files that are not libraries */
    CHECK(sl_library_open(NULL, 1, &lib) == SL_ERR_ARG);
    CHECK(sl_library_open(db, 1, NULL) == SL_ERR_ARG);
    expect_open_error(tmp_path("missing.db"), 0, SL_ERR_NOT_FOUND, "missing");
    const char *zero = tmp_path("zero.db");
    write_file(zero, "", 0);
    expect_open_error(zero, 0, SL_ERR_CORRUPT, "zero bytes");
    const char *text = tmp_path("text.db");
    write_file(text, "hello, this is not a database at all, just some text\n", 54);
    expect_open_error(text, 0, SL_ERR_CORRUPT, "text");
    expect_open_error(text, 1, SL_ERR_CORRUPT, "text with create");
    size_t size = 0;
    uint8_t *data = sl_test_read(tmp_path("main.db"), &size);
    REQUIRE(size > 8192);
    const char *cut = tmp_path("truncated.db");
    write_file(cut, data, size / 2);
    free(data);
    expect_open_error(cut, 0, SL_ERR_CORRUPT, "truncated");
    /* zero bytes with create: becomes a new library */
    REQUIRE(sl_library_open(zero, 1, &lib) == SL_OK);
    int64_t items = -1;
    CHECK(sl_library_count(lib, &items, NULL) == SL_OK && items == 0);
    sl_library_close(lib);
}

int main(void) {
    sl_set_log(on_log, NULL, SL_LOG_WARN);
    list_names();
    g_model_path = sl_test_lite_model();
    REQUIRE(sl_model_open(g_model_path, &g_model) == SL_OK);
    test_first_index();
    test_rerun();
    test_bad_files();
    test_incomplete_walk();
    test_sqlite_failure();
    test_determinism();
    test_cancel();
    test_kill();
    /* main.db is checkpointed on close, so the truncated copy is cut through
     * real pages */
    sl_library_close(g_lib);
    g_lib = NULL;
    test_bad_input();
    sl_model_free(g_model);
    return sl_test_summary();
}
