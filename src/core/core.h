/* Internal core helpers shared by every module: errors, logging, checked
 * arithmetic, CPU features, threads and files. Not public API. */
#ifndef SL_CORE_H
#define SL_CORE_H

#include "searchlite.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* File formats are little-endian and read with memcpy on the hot paths. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "searchlite supports little-endian hosts only"
#endif

#if defined(__GNUC__) || defined(__clang__)
#define SL_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define SL_LIKELY(x) __builtin_expect(!!(x), 1)
#define SL_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define SL_PRINTF(f, a)
#define SL_LIKELY(x) (x)
#define SL_UNLIKELY(x) (x)
#endif

#define SL_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SL_MIN(a, b) ((a) < (b) ? (a) : (b))
#define SL_MAX(a, b) ((a) > (b) ? (a) : (b))

/* ---- errors ------------------------------------------------------------ */

/* Records a detailed message for sl_last_error() and returns `status`, so a
 * failure reads `return sl_fail(SL_ERR_CORRUPT, "png: %s", why);`. */
sl_status sl_fail(sl_status status, const char *fmt, ...) SL_PRINTF(2, 3);

/* Prefixes the current thread's message with "<prefix>: " (e.g. a file
 * name) and returns `status` unchanged. */
sl_status sl_fail_prefix(sl_status status, const char *prefix);

/* Clears the thread's message (called at the start of public entry points
 * that want a clean message). */
void sl_clear_error(void);

/* ---- logging ----------------------------------------------------------- */

void sl_log(sl_log_level level, const char *fmt, ...) SL_PRINTF(2, 3);

/* ---- checked arithmetic: return true on overflow ----------------------- */

static inline bool sl_mul_overflow(size_t a, size_t b, size_t *out) {
    return __builtin_mul_overflow(a, b, out);
}
static inline bool sl_add_overflow(size_t a, size_t b, size_t *out) {
    return __builtin_add_overflow(a, b, out);
}

/* ---- allocation --------------------------------------------------------- */

/* malloc of n*size bytes with an overflow check; NULL on failure. */
void *sl_malloc_array(size_t n, size_t size);
/* Zeroed variant (calloc semantics). */
void *sl_calloc_array(size_t n, size_t size);
/* 64-byte aligned allocation of `size` bytes (size may be 0); free with
 * sl_free_aligned. NULL on failure. */
void *sl_malloc_aligned(size_t size);
void sl_free_aligned(void *p);

/* ---- CPU features ------------------------------------------------------ */

typedef enum sl_cpu_level {
    SL_CPU_SCALAR = 0,
    SL_CPU_AVX2 = 1,       /* AVX2 + FMA + F16C */
    SL_CPU_AVX512 = 2,     /* AVX-512 F, BW, DQ, VL */
    SL_CPU_AVX512VNNI = 3  /* the above + AVX512_VNNI */
} sl_cpu_level;

/* Best level this CPU supports, lowered by the environment variable
 * SEARCHLITE_CPU=scalar|avx2|avx512|avx512vnni (tests use it to exercise
 * every path on one machine). Computed once; thread-safe. */
sl_cpu_level sl_cpu(void);
const char *sl_cpu_name(sl_cpu_level level);

/* ---- thread pool ------------------------------------------------------- */

typedef struct sl_pool sl_pool;

/* A task: called once per index in [0, n_tasks) with the worker's number in
 * [0, n_threads) (use it to pick per-thread scratch memory). */
typedef void (*sl_task_fn)(void *ctx, size_t task, int thread);

/* n_threads <= 1 creates a pool that runs everything on the caller. */
sl_status sl_pool_new(int n_threads, sl_pool **out);
void sl_pool_free(sl_pool *pool);
int sl_pool_threads(const sl_pool *pool);
/* Runs fn for every task and returns when all are done. The caller takes
 * part as thread 0. pool may be NULL (serial). Not reentrant: one run at a
 * time per pool. */
void sl_pool_run(sl_pool *pool, size_t n_tasks, sl_task_fn fn, void *ctx);

/* ---- files ------------------------------------------------------------- */

/* Reads a whole regular file into a new buffer (NUL-terminated for
 * convenience; *size excludes the NUL). Refuses files above max_size
 * (SL_ERR_LIMIT). Caller frees with free(). */
sl_status sl_file_read(const char *path, size_t max_size, uint8_t **data,
                       size_t *size);

/* A read-only memory map of a whole file. */
typedef struct sl_mmap {
    const uint8_t *data;
    size_t size;
} sl_mmap;
sl_status sl_mmap_open(const char *path, sl_mmap *map);
void sl_mmap_close(sl_mmap *map);

/* Writes `size` bytes to `path` atomically: a temporary file in the same
 * directory, fsync, rename over the target, fsync of the directory. On any
 * failure the old file is left untouched and the temporary is removed. */
sl_status sl_file_write_atomic(const char *path, const void *data,
                               size_t size);

/* ---- hashing ----------------------------------------------------------- */

/* SHA-256 (OpenSSL's libcrypto), one shot or incremental. The incremental
 * state is opaque; sl_sha256_free(NULL) is a no-op. */
#define SL_SHA256_SIZE 32
typedef struct sl_sha256 sl_sha256;
void sl_sha256_once(const void *data, size_t size, uint8_t out[SL_SHA256_SIZE]);
sl_status sl_sha256_new(sl_sha256 **out);
void sl_sha256_update(sl_sha256 *h, const void *data, size_t size);
void sl_sha256_final(sl_sha256 *h, uint8_t out[SL_SHA256_SIZE]);
void sl_sha256_free(sl_sha256 *h);
/* Lowercase hex of n bytes into out (2n + 1 chars with the NUL). */
void sl_hex(const uint8_t *bytes, size_t n, char *out);

/* Monotonic clock in seconds (for progress and benchmarks). */
double sl_now(void);

#endif /* SL_CORE_H */
