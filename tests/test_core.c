/* Core: status strings, thread-local errors, thread pool, files, CPU level. */
#include "core/core.h"
#include "testlib.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_status(void) {
    CHECK(!strcmp(sl_status_str(SL_OK), "ok"));
    for (int s = 0; s <= SL_ERR_INTERNAL; s++) {
        const char *str = sl_status_str((sl_status)s);
        CHECK(str && *str && strcmp(str, "unknown status"));
    }
    CHECK(!strcmp(sl_status_str((sl_status)999), "unknown status"));
    sl_clear_error();
    CHECK(!strcmp(sl_last_error(), ""));
    CHECK(sl_fail(SL_ERR_CORRUPT, "bad %d", 7) == SL_ERR_CORRUPT);
    CHECK(!strcmp(sl_last_error(), "bad 7"));
    CHECK(sl_fail_prefix(SL_ERR_CORRUPT, "x.png") == SL_ERR_CORRUPT);
    CHECK(!strcmp(sl_last_error(), "x.png: bad 7"));
}

static void *other_thread(void *arg) {
    (void)arg;
    sl_fail(SL_ERR_IO, "other thread");
    return NULL;
}

static void test_error_is_thread_local(void) {
    sl_fail(SL_ERR_ARG, "main thread");
    pthread_t t;
    pthread_create(&t, NULL, other_thread, NULL);
    pthread_join(t, NULL);
    CHECK(!strcmp(sl_last_error(), "main thread"));
}

static int log_count;
static sl_log_level log_last;
static void log_cb(void *user, sl_log_level level, const char *msg) {
    (void)msg;
    *(int *)user += 1;
    log_last = level;
}

static void test_log(void) {
    sl_log(SL_LOG_ERROR, "nobody listens");
    sl_set_log(log_cb, &log_count, SL_LOG_WARN);
    sl_log(SL_LOG_INFO, "filtered");
    CHECK(log_count == 0);
    sl_log(SL_LOG_WARN, "warned %d", 1);
    CHECK(log_count == 1 && log_last == SL_LOG_WARN);
    sl_set_log(NULL, NULL, SL_LOG_DEBUG);
}

typedef struct {
    atomic_long sum;
    atomic_int hits[1000];
    atomic_int max_thread;
} pool_ctx;

static void pool_task(void *ctx, size_t task, int thread) {
    pool_ctx *c = ctx;
    atomic_fetch_add(&c->sum, (long)task);
    atomic_fetch_add(&c->hits[task], 1);
    int seen = atomic_load(&c->max_thread);
    while (thread > seen && !atomic_compare_exchange_weak(&c->max_thread, &seen, thread)) {
    }
}

static void test_pool(void) {
    for (int n = 0; n <= 4; n++) {
        sl_pool *p = NULL;
        CHECK(sl_pool_new(n, &p) == SL_OK && p);
        CHECK(sl_pool_threads(p) == (n < 1 ? 1 : n));
        for (int round = 0; round < 50; round++) {
            pool_ctx *c = calloc(1, sizeof *c);
            sl_pool_run(p, 1000, pool_task, c);
            CHECK(atomic_load(&c->sum) == 999L * 1000 / 2);
            int ok = 1;
            for (int i = 0; i < 1000; i++) ok &= atomic_load(&c->hits[i]) == 1;
            CHECK(ok);
            CHECK(atomic_load(&c->max_thread) < sl_pool_threads(p));
            free(c);
        }
        sl_pool_free(p);
    }
    sl_pool_free(NULL);
    pool_ctx *c = calloc(1, sizeof *c);
    sl_pool_run(NULL, 10, pool_task, c); /* NULL pool runs serially */
    CHECK(atomic_load(&c->sum) == 45);
    free(c);
    sl_pool *p;
    CHECK(sl_pool_new(100000, &p) == SL_ERR_ARG);
}

static void test_files(void) {
    char path[512];
    snprintf(path, sizeof path, "%s/atomic.bin", sl_test_tmpdir());
    const char *text = "hello, searchlite";
    CHECK(sl_file_write_atomic(path, text, strlen(text)) == SL_OK);
    uint8_t *data;
    size_t n;
    CHECK(sl_file_read(path, 1 << 20, &data, &n) == SL_OK);
    CHECK(n == strlen(text) && !memcmp(data, text, n) && data[n] == 0);
    free(data);
    /* Overwrite keeps the file whole and leaves no temporary behind. */
    CHECK(sl_file_write_atomic(path, "x", 1) == SL_OK);
    CHECK(sl_file_read(path, 1 << 20, &data, &n) == SL_OK && n == 1 && data[0] == 'x');
    free(data);
    CHECK(sl_file_read(path, 0, &data, &n) == SL_ERR_LIMIT);
    CHECK(sl_file_read("/nonexistent/x", 10, &data, &n) == SL_ERR_IO);
    CHECK(strstr(sl_last_error(), "/nonexistent/x") != NULL);
    CHECK(sl_file_read(sl_test_tmpdir(), 10, &data, &n) == SL_ERR_IO); /* a directory */
    CHECK(sl_file_write_atomic("/nonexistent/dir/file", "x", 1) == SL_ERR_IO);
    /* New files get the mode open(..., 0666) would give under the umask
     * (not mkstemp's 0600); an existing file keeps its mode. */
    mode_t old_mask = umask(027);
    char fresh[512];
    snprintf(fresh, sizeof fresh, "%s/mode.bin", sl_test_tmpdir());
    struct stat sb;
    CHECK(sl_file_write_atomic(fresh, "m", 1) == SL_OK && stat(fresh, &sb) == 0 && (sb.st_mode & 0777) == 0640);
    CHECK(chmod(fresh, 0604) == 0);
    CHECK(sl_file_write_atomic(fresh, "n", 1) == SL_OK && stat(fresh, &sb) == 0 && (sb.st_mode & 0777) == 0604);
    umask(old_mask);

    sl_mmap m;
    CHECK(sl_mmap_open(path, &m) == SL_OK && m.size == 1 && m.data[0] == 'x');
    sl_mmap_close(&m);
    CHECK(m.data == NULL);
    char empty[512];
    snprintf(empty, sizeof empty, "%s/empty", sl_test_tmpdir());
    CHECK(sl_file_write_atomic(empty, "", 0) == SL_OK);
    CHECK(sl_mmap_open(empty, &m) == SL_OK && m.size == 0);
    sl_mmap_close(&m);
}

static void test_alloc(void) {
    CHECK(sl_malloc_array(SIZE_MAX / 2, 3) == NULL);
    CHECK(sl_calloc_array(SIZE_MAX / 2, 3) == NULL);
    void *p = sl_malloc_aligned(100);
    CHECK(p && ((uintptr_t)p & 63) == 0);
    sl_free_aligned(p);
    CHECK(sl_malloc_aligned(SIZE_MAX - 10) == NULL);
}

static void test_cpu(void) {
    sl_cpu_level l = sl_cpu();
    CHECK(l >= SL_CPU_SCALAR && l <= SL_CPU_AVX512VNNI);
    CHECK(strcmp(sl_cpu_name(l), "unknown"));
    printf("cpu level: %s\n", sl_cpu_name(l));
}

static void test_sha256(void) {
    /* FIPS 180-2 examples: "abc" and the empty message. */
    char hex[2 * SL_SHA256_SIZE + 1];
    uint8_t d[SL_SHA256_SIZE];
    sl_sha256_once("abc", 3, d);
    sl_hex(d, sizeof d, hex);
    CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
    sl_sha256_once("", 0, d);
    sl_hex(d, sizeof d, hex);
    CHECK(strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0);
    /* Incremental in uneven pieces equals one shot. */
    uint8_t buf[1000], one[SL_SHA256_SIZE], inc[SL_SHA256_SIZE];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)(i * 31 + 7);
    sl_sha256_once(buf, sizeof buf, one);
    sl_sha256 *h;
    REQUIRE(sl_sha256_new(&h) == SL_OK);
    sl_sha256_update(h, buf, 1);
    sl_sha256_update(h, buf + 1, 0);
    sl_sha256_update(h, buf + 1, 500);
    sl_sha256_update(h, buf + 501, 499);
    sl_sha256_final(h, inc);
    sl_sha256_free(h);
    CHECK(memcmp(one, inc, sizeof one) == 0);
}

int main(void) {
    test_status();
    test_error_is_thread_local();
    test_log();
    test_pool();
    test_files();
    test_alloc();
    test_cpu();
    test_sha256();
    return sl_test_summary();
}
