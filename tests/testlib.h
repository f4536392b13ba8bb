/* A tiny test harness: CHECK records a failure and continues, the summary
 * line is "N passed, N failed" so CI can read it. */
#ifndef SL_TESTLIB_H
#define SL_TESTLIB_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

extern int sl_test_passed, sl_test_failed;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (cond) sl_test_passed++;                                          \
        else {                                                               \
            sl_test_failed++;                                                \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                  \
        }                                                                    \
    } while (0)

#define CHECK_MSG(cond, ...)                                                 \
    do {                                                                     \
        if (cond) sl_test_passed++;                                          \
        else {                                                               \
            sl_test_failed++;                                                \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, \
                    #cond);                                                  \
            fprintf(stderr, __VA_ARGS__);                                    \
            fputc('\n', stderr);                                             \
        }                                                                    \
    } while (0)

/* Like CHECK, but ends the test program with the summary (preconditions). */
#define REQUIRE(cond)                                                        \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__,         \
                    __LINE__, #cond);                                        \
            sl_test_failed++;                                                \
            exit(sl_test_summary());                                         \
        }                                                                    \
        sl_test_passed++;                                                    \
    } while (0)

/* Prints "N passed, N failed" and returns the process exit code. */
int sl_test_summary(void);

/* Path of an asset in the cache ("models/x.tflite"); aborts the test
 * program with a clear message when the file is missing. Static buffer
 * rotation: valid for the next 8 calls. */
const char *sl_test_asset(const char *relative);

/* Like sl_test_asset, but when the file is missing it first runs
 * scripts/fetch-assets.sh GROUP (for test programs run outside ctest, whose
 * fixture fetches every group). */
const char *sl_test_asset_fetch(const char *group, const char *relative);

/* Path of the lite model file (docs/MODEL.md) built from the assets into
 * the build tree. The "lite_model" ctest fixture (test_model) builds it
 * first; a test program run on its own builds it when it is missing
 * (about 5 s). Aborts the test program when the build fails. */
const char *sl_test_lite_model(void);

/* Plain sqlite3 access to a library file (the reference the catalog tests
 * check against). sql_int: the first column of the first row as an integer
 * (0 when there is no row, -1 on error). sql_exec: runs the statements,
 * creating the file if needed; returns the SQLite result code. */
int64_t sl_test_sql_int(const char *path, const char *sql);
int sl_test_sql_exec(const char *path, const char *sql);

/* Reads a whole file; aborts the test program on failure. Caller frees. */
uint8_t *sl_test_read(const char *path, size_t *size);

/* A fresh temporary directory for this test (removed by the OS's tmp
 * cleaning, not by us, so failures can be inspected). */
const char *sl_test_tmpdir(void);

/* Clustered vectors like real embeddings: 64 random centres in [-1, 1]^dim
 * and n points around them (uniform noise of +-0.6), each L2-normalized
 * when `unit`. (n, dim) row-major, malloc'd; deterministic for a seed. */
float *sl_test_clustered(size_t n, size_t dim, int unit, uint64_t seed);

/* Deterministic pseudo-random numbers (xorshift64*). */
uint64_t sl_test_rand(uint64_t *state);

/* A projection head (src/model/heads.h) of n_dims - 1 layers with weights in
 * U(-sqrt(3 / in), +sqrt(3 / in)) and biases in U(-0.1, 0.1), drawn from
 * *state; returns its one malloc'd block of tensors (the caller frees). */
struct sl_head;
float *sl_test_random_head(struct sl_head *h, const uint32_t *dims, size_t n_dims, uint64_t *state);

#endif
