/* Exact search: SIMD dot products against the double-precision twin, top-k
 * against a full sort, identical results for every thread count. */
#include "index/flat.h"
#include "index/sparse.h"
#include "testlib.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rs = 12345;
static float frand(void) { return (float)((double)(sl_test_rand(&rs) >> 11) / 9007199254740992.0 * 2.0 - 1.0); }

static void test_dot_levels(void) {
    const size_t dims[] = {1, 3, 7, 8, 15, 16, 17, 31, 100, 128, 1000, 1001};
    for (size_t di = 0; di < SL_ARRAY_LEN(dims); di++) {
        size_t dim = dims[di], n = 37;
        float *x = malloc(n * dim * sizeof *x), *q = malloc(dim * sizeof *q);
        float *ref = malloc(n * sizeof *ref), *got = malloc(n * sizeof *got), *one = malloc(sizeof *one);
        for (size_t i = 0; i < n * dim; i++) x[i] = frand();
        for (size_t j = 0; j < dim; j++) q[j] = frand();
        sl_dot_rows_ref(q, x, n, dim, ref);
        for (int level = SL_CPU_SCALAR; level <= (int)sl_cpu(); level++) {
            sl_dot_rows_level((sl_cpu_level)level, q, x, n, dim, got);
            int ok = 1, same_alone = 1;
            for (size_t i = 0; i < n; i++) {
                double mag = 0;
                for (size_t j = 0; j < dim; j++) mag += fabs((double)q[j] * x[i * dim + j]);
                if (fabs((double)got[i] - ref[i]) > 1e-5 * mag + 1e-30) ok = 0;
                /* A row scored alone gets the very same bits as in a group. */
                sl_dot_rows_level((sl_cpu_level)level, q, x + i * dim, 1, dim, one);
                if (memcmp(one, &got[i], sizeof *one)) same_alone = 0;
            }
            CHECK_MSG(ok, "dim %zu level %s differs from the reference", dim, sl_cpu_name((sl_cpu_level)level));
            CHECK_MSG(same_alone, "dim %zu level %s: row score depends on grouping", dim,
                      sl_cpu_name((sl_cpu_level)level));
        }
        free(x);
        free(q);
        free(ref);
        free(got);
        free(one);
    }
}

static int cmp_desc(const void *a, const void *b) {
    sl_hit x = *(const sl_hit *)a, y = *(const sl_hit *)b;
    return sl_hit_before(x, y) ? -1 : sl_hit_before(y, x);
}

static void test_topk(void) {
    for (int round = 0; round < 50; round++) {
        size_t n = 1 + sl_test_rand(&rs) % 500, k = sl_test_rand(&rs) % 40;
        sl_hit *all = malloc(n * sizeof *all), *heap = malloc((k ? k : 1) * sizeof *heap);
        sl_topk t;
        sl_topk_init(&t, heap, k);
        for (size_t i = 0; i < n; i++) {
            /* few distinct scores so ties are common */
            all[i].index = (int64_t)i;
            all[i].score = (float)(sl_test_rand(&rs) % 7);
            sl_topk_push(&t, all[i]);
        }
        qsort(all, n, sizeof *all, cmp_desc);
        size_t got = sl_topk_finish(&t);
        CHECK(got == SL_MIN(k, n));
        int same = 1;
        for (size_t i = 0; i < got; i++) same &= heap[i].index == all[i].index && heap[i].score == all[i].score;
        CHECK_MSG(same, "round %d: top-%zu of %zu differs from a full sort", round, k, n);
        free(all);
        free(heap);
    }
}

static void test_flat_threads(void) {
    size_t n = 20000, dim = 64, k = 25;
    float *x = malloc(n * dim * sizeof *x), *q = malloc(dim * sizeof *q);
    for (size_t i = 0; i < n * dim; i++) x[i] = frand();
    for (size_t j = 0; j < dim; j++) q[j] = frand();
    /* duplicate rows: equal scores must come back by lower index */
    memcpy(x + 777 * dim, x + 19000 * dim, dim * sizeof *x);
    sl_hit base[25], got[25];
    sl_status st;
    size_t nb = sl_flat_search(x, n, dim, q, k, NULL, base, &st);
    CHECK(nb == k && st == SL_OK);
    float *scores = malloc(n * sizeof *scores);
    sl_dot_rows(q, x, n, dim, scores);
    size_t better = 0;
    for (size_t i = 0; i < n; i++) better += scores[i] > base[k - 1].score;
    CHECK(better <= k - 1);
    for (size_t i = 1; i < nb; i++) CHECK(!sl_hit_before(base[i], base[i - 1]));
    for (int threads = 2; threads <= 3; threads++) {
        sl_pool *pool;
        REQUIRE(sl_pool_new(threads, &pool) == SL_OK);
        size_t ng = sl_flat_search(x, n, dim, q, k, pool, got, &st);
        int same = ng == nb;
        for (size_t i = 0; same && i < nb; i++) same = got[i].index == base[i].index && got[i].score == base[i].score;
        CHECK_MSG(same, "%d threads change the hits", threads);
        sl_pool_free(pool);
    }
    CHECK(sl_flat_search(x, 3, dim, q, 10, NULL, got, &st) == 3);
    CHECK(sl_flat_search(x, n, dim, q, 0, NULL, got, &st) == 0);
    free(scores);
    free(x);
    free(q);
}

/* Sparse rows like the lite image embeddings: ~30 non-zeros of 1,000. */
static void test_sparse(void) {
    size_t n = 9000, dim = 1000, k = 20;
    float *x = calloc(n * dim, sizeof *x), *q = malloc(dim * sizeof *q);
    for (size_t i = 0; i < n; i++)
        for (int e = 0; e < 30; e++) x[i * dim + sl_test_rand(&rs) % dim] = (frand() + 1.0f) / 2.0f;
    for (size_t j = 0; j < dim; j++) q[j] = (frand() + 1.0f) / 2.0f;
    memset(x + 5 * dim, 0, dim * sizeof *x); /* an empty row scores 0 */
    sl_sparse_rows sp;
    REQUIRE(sl_sparse_from_dense(x, n, dim, &sp) == SL_OK);
    CHECK(sp.row_first[6] == sp.row_first[5] && sp.n == n);
    double *ref = malloc(n * sizeof *ref);
    for (size_t i = 0; i < n; i++) {
        ref[i] = 0;
        for (size_t j = 0; j < dim; j++) ref[i] += (double)q[j] * x[i * dim + j];
    }
    sl_hit base[20], got[20];
    sl_status st;
    size_t nb = sl_sparse_search(&sp, q, k, NULL, base, &st);
    CHECK(nb == k && st == SL_OK);
    int close = 1;
    for (size_t i = 0; i < nb; i++) close &= fabs(base[i].score - ref[base[i].index]) < 1e-4;
    CHECK(close);
    /* nothing left out scores clearly above the last hit */
    size_t above = 0;
    for (size_t i = 0; i < n; i++) above += ref[i] > base[k - 1].score + 1e-4;
    CHECK(above <= k - 1);
    for (int threads = 2; threads <= 3; threads++) {
        sl_pool *pool;
        REQUIRE(sl_pool_new(threads, &pool) == SL_OK);
        size_t ng = sl_sparse_search(&sp, q, k, pool, got, &st);
        int same = ng == nb;
        for (size_t i = 0; same && i < nb; i++) same = got[i].index == base[i].index && got[i].score == base[i].score;
        CHECK_MSG(same, "%d threads change the sparse hits", threads);
        sl_pool_free(pool);
    }
    sl_sparse_rows bad;
    CHECK(sl_sparse_from_dense(x, n, 70000, &bad) == SL_ERR_ARG);
    sl_sparse_rows_free(&sp);
    free(ref);
    free(x);
    free(q);
}

int main(void) {
    test_dot_levels();
    test_sparse();
    test_topk();
    test_flat_threads();
    return sl_test_summary();
}
