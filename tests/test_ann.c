/* The searcher index: brute force equals a naive scan exactly; partitions +
 * anisotropic 4-bit PQ + re-ordering reach the expected recall on a fixed
 * synthetic set; removing and re-adding items gives the same answers as the
 * index before; exhaustive settings equal exact search; bad input is
 * refused. */
#include "index/ann.h"
#include "testlib.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>


static float score(const float *q, const float *x, size_t dim, sl_ann_metric m) {
    float acc = 0;
    for (size_t j = 0; j < dim; j++) acc += m == SL_ANN_DOT ? q[j] * x[j] : -(q[j] - x[j]) * (q[j] - x[j]);
    return acc;
}

/* The exact top k by a naive loop (ties to the lower id), ids = row + 1000. */
static void naive(const float *x, size_t n, size_t dim, const float *q, size_t k, sl_ann_metric m,
                  const unsigned char *skip, int64_t *ids) {
    float *best = malloc(k * sizeof *best);
    for (size_t r = 0; r < k; r++) best[r] = -INFINITY, ids[r] = -1;
    for (size_t i = 0; i < n; i++) {
        if (skip && skip[i]) continue;
        float s = score(q, x + i * dim, dim, m);
        size_t r = k;
        while (r > 0 && (s > best[r - 1] || (s == best[r - 1] && (int64_t)i + 1000 < ids[r - 1]))) r--;
        if (r == k) continue;
        memmove(best + r + 1, best + r, (k - r - 1) * sizeof *best);
        memmove(ids + r + 1, ids + r, (k - r - 1) * sizeof *ids);
        best[r] = s;
        ids[r] = (int64_t)i + 1000;
    }
    free(best);
}

static double recall10(const sl_ann *a, const float *x, size_t n, size_t dim, const float *qs, size_t nq,
                       sl_ann_metric m, const sl_ann_query_opts *qo) {
    size_t found = 0;
    for (size_t i = 0; i < nq; i++) {
        int64_t truth[10];
        sl_hit hits[10];
        naive(x, n, dim, qs + i * dim, 10, m, NULL, truth);
        size_t got = sl_ann_search(a, qs + i * dim, 10, qo, hits, NULL);
        for (size_t r = 0; r < 10; r++)
            for (size_t h = 0; h < got; h++)
                if (hits[h].index == truth[r]) found++;
    }
    return (double)found / (10.0 * (double)nq);
}

/* How many of the nq queries get different top-10 answers (ids, scores,
 * order; bytewise, padding included) from the two indexes. */
static int queries_differ(const sl_ann *a, const sl_ann *b, const float *qs, size_t nq, size_t dim) {
    int differ = 0;
    for (size_t i = 0; i < nq; i++) {
        sl_hit ha[10], hb[10];
        size_t na = sl_ann_search(a, qs + i * dim, 10, NULL, ha, NULL);
        size_t nb = sl_ann_search(b, qs + i * dim, 10, NULL, hb, NULL);
        if (na != nb || memcmp(ha, hb, na * sizeof *ha)) differ++;
    }
    return differ;
}

static int64_t *make_ids(size_t n) {
    int64_t *ids = malloc(n * sizeof *ids);
    for (size_t i = 0; i < n; i++) ids[i] = (int64_t)i + 1000;
    return ids;
}

static void test_brute_force(sl_ann_metric m) {
    const size_t n = 3000, dim = 24, nq = 30;
    float *x = sl_test_clustered(n, dim, m == SL_ANN_DOT, 7), *qs = sl_test_clustered(nq, dim, m == SL_ANN_DOT, 8);
    int64_t *ids = make_ids(n);
    sl_ann_opts o;
    sl_ann_opts_init(&o, n, dim, m);
    CHECK(o.brute_force); /* under 20k items */
    sl_ann *a;
    REQUIRE(sl_ann_build(x, ids, n, dim, &o, &a) == SL_OK);
    int mismatch = 0;
    for (size_t i = 0; i < nq; i++) {
        int64_t truth[10];
        sl_hit hits[10];
        naive(x, n, dim, qs + i * dim, 10, m, NULL, truth);
        size_t got = sl_ann_search(a, qs + i * dim, 10, NULL, hits, NULL);
        if (got != 10) mismatch++;
        for (size_t r = 0; r < got; r++)
            if (hits[r].index != truth[r] ||
                fabsf(hits[r].score - score(qs + i * dim, x + (size_t)(truth[r] - 1000) * dim, dim, m)) > 1e-4f)
                mismatch++;
    }
    CHECK_MSG(mismatch == 0, "brute force (%s): %d mismatches", m == SL_ANN_DOT ? "dot" : "l2", mismatch);
    sl_ann_free(a);
    free(x);
    free(qs);
    free(ids);
}

static void test_recall(sl_ann_metric m) {
    const size_t n = 20000, dim = 32, nq = 100;
    float *x = sl_test_clustered(n, dim, m == SL_ANN_DOT, 11), *qs = sl_test_clustered(nq, dim, m == SL_ANN_DOT, 12);
    int64_t *ids = make_ids(n);
    sl_ann_opts o;
    sl_ann_opts_init(&o, 200000, dim, m); /* the tree defaults, on a smaller set */
    o.num_leaves = 100;
    o.num_leaves_to_search = 10;
    o.reorder_k = 100;
    o.n_threads = 2;
    sl_ann *a;
    REQUIRE(sl_ann_build(x, ids, n, dim, &o, &a) == SL_OK);
    CHECK(sl_ann_count(a) == n);
    double with = recall10(a, x, n, dim, qs, nq, m, NULL);
    sl_ann_query_opts no_reorder = {0, 10};
    double without = recall10(a, x, n, dim, qs, nq, m, &no_reorder);
    sl_ann_query_opts all = {100, (uint32_t)n};
    double exhaustive = recall10(a, x, n, dim, qs, nq, m, &all);
    printf("%s: recall@10 %.3f (10 of 100 leaves, reorder 100), %.3f (reorder 10), %.3f (all leaves, reorder all)\n",
           m == SL_ANN_DOT ? "dot" : "l2", with, without, exhaustive);
    CHECK_MSG(with >= 0.90, "recall@10 %.3f below 0.90", with);
    CHECK(exhaustive == 1.0);
    CHECK(without <= with + 1e-9);
    /* threads do not change the index */
    o.n_threads = 1;
    sl_ann *b;
    REQUIRE(sl_ann_build(x, ids, n, dim, &o, &b) == SL_OK);
    int diff = queries_differ(a, b, qs, nq, dim);
    CHECK_MSG(diff == 0, "1 and 2 build threads differ on %d queries", diff);
    /* a batch on two threads equals the queries one by one */
    sl_pool *pool;
    REQUIRE(sl_pool_new(2, &pool) == SL_OK);
    sl_hit *bh = malloc(nq * 10 * sizeof *bh);
    size_t *bc = malloc(nq * sizeof *bc);
    REQUIRE(sl_ann_search_batch(a, qs, nq, 10, NULL, pool, bh, bc) == SL_OK);
    int bdiff = 0;
    for (size_t i = 0; i < nq; i++) {
        sl_hit one[10];
        size_t n1 = sl_ann_search(a, qs + i * dim, 10, NULL, one, NULL);
        if (n1 != bc[i] || memcmp(one, bh + i * 10, n1 * sizeof *one)) bdiff++;
    }
    CHECK_MSG(bdiff == 0, "batch differs from single queries on %d", bdiff);
    free(bh);
    free(bc);
    sl_pool_free(pool);
    sl_ann_free(b);
    sl_ann_free(a);
    free(x);
    free(qs);
    free(ids);
}

static void test_updates(void) {
    const size_t n = 6000, dim = 16, nq = 40;
    float *x = sl_test_clustered(n, dim, 1, 21), *qs = sl_test_clustered(nq, dim, 1, 22);
    int64_t *ids = make_ids(n);
    sl_ann_opts o;
    sl_ann_opts_init(&o, 200000, dim, SL_ANN_DOT);
    o.num_leaves = 20;
    o.num_leaves_to_search = 4;
    o.reorder_k = 50;
    sl_ann *a, *b;
    REQUIRE(sl_ann_build(x, ids, n, dim, &o, &a) == SL_OK);
    REQUIRE(sl_ann_build(x, ids, n, dim, &o, &b) == SL_OK);
    /* remove every third item from b, then add them back */
    size_t nr = 0;
    int64_t *rid = malloc(n * sizeof *rid);
    float *rx = malloc(n * dim * sizeof *rx);
    unsigned char *gone = calloc(n, 1);
    for (size_t i = 0; i < n; i += 3) {
        rid[nr] = ids[i];
        memcpy(rx + nr * dim, x + i * dim, dim * sizeof *rx);
        gone[i] = 1;
        nr++;
    }
    size_t missing = 99;
    REQUIRE(sl_ann_remove(b, rid, nr, &missing) == SL_OK);
    CHECK(missing == 0 && sl_ann_count(b) == n - nr);
    /* exhaustive search over what is left equals exact search without the removed items */
    sl_ann_query_opts all = {20, (uint32_t)n};
    int bad = 0, leaked = 0;
    for (size_t i = 0; i < nq; i++) {
        int64_t truth[10];
        sl_hit hits[10];
        naive(x, n, dim, qs + i * dim, 10, SL_ANN_DOT, gone, truth);
        size_t got = sl_ann_search(b, qs + i * dim, 10, &all, hits, NULL);
        for (size_t r = 0; r < got; r++) {
            if (hits[r].index != truth[r]) bad++;
            if (gone[hits[r].index - 1000]) leaked++;
        }
    }
    CHECK_MSG(bad == 0 && leaked == 0, "after removal: %d differ from exact, %d removed items returned", bad, leaked);
    CHECK(sl_ann_add(b, rx, rid, nr) == SL_OK && sl_ann_count(b) == n);
    int differ = queries_differ(a, b, qs, nq, dim);
    CHECK_MSG(differ == 0, "removed and re-added: %d of %zu queries differ from the original index", differ, nq);
    /* refusals */
    CHECK(sl_ann_add(b, rx, rid, 1) == SL_ERR_ARG); /* duplicate id */
    int64_t unknown[2] = {-5, 1000};
    REQUIRE(sl_ann_remove(b, unknown, 2, &missing) == SL_OK);
    CHECK(missing == 1 && sl_ann_count(b) == n - 1);
    float nan_vec[16] = {NAN};
    int64_t nid = 1;
    CHECK(sl_ann_add(b, nan_vec, &nid, 1) == SL_ERR_ARG);
    CHECK(sl_ann_imbalance(b) >= 1.0);
    sl_ann_free(a);
    sl_ann_free(b);
    free(rid);
    free(rx);
    free(gone);
    free(x);
    free(qs);
    free(ids);
}

static void test_stores(void) {
    const size_t n = 5000, dim = 20, nq = 40;
    float *x = sl_test_clustered(n, dim, 1, 31), *qs = sl_test_clustered(nq, dim, 1, 32);
    int64_t *ids = make_ids(n);
    const sl_ann_store stores[] = {SL_ANN_STORE_F32, SL_ANN_STORE_F16, SL_ANN_STORE_I8, SL_ANN_STORE_NONE};
    for (int s = 0; s < 4; s++) {
        sl_ann_opts o;
        sl_ann_opts_init(&o, 200000, dim, SL_ANN_DOT);
        o.num_leaves = 10;
        o.num_leaves_to_search = 10;
        o.reorder_k = 200;
        o.store = stores[s];
        sl_ann *a;
        REQUIRE(sl_ann_build(x, ids, n, dim, &o, &a) == SL_OK);
        double r = recall10(a, x, n, dim, qs, nq, SL_ANN_DOT, NULL);
        printf("store %d: recall@10 %.3f\n", s, r);
        CHECK_MSG(r >= (s == 3 ? 0.5 : 0.97), "store %d: recall %.3f", s, r);
        sl_ann_free(a);
    }
    free(x);
    free(qs);
    free(ids);
}

static void test_bad_input(void) {
    float x[8] = {0};
    int64_t ids[2] = {1, 1};
    sl_ann_opts o;
    sl_ann_opts_init(&o, 2, 4, SL_ANN_DOT);
    sl_ann *a = (sl_ann *)1;
    CHECK(sl_ann_build(x, ids, 2, 4, &o, &a) == SL_ERR_ARG && a == NULL); /* duplicate ids */
    ids[1] = 2;
    CHECK(sl_ann_build(x, ids, 2, 0, &o, &a) == SL_ERR_ARG);
    x[3] = INFINITY;
    CHECK(sl_ann_build(x, ids, 2, 4, &o, &a) == SL_ERR_ARG);
    x[3] = 0;
    o.brute_force = 0;
    o.num_leaves = 3; /* more leaves than items */
    CHECK(sl_ann_build(x, ids, 2, 4, &o, &a) == SL_ERR_ARG);
    sl_ann_opts_init(&o, 0, 4, SL_ANN_DOT);
    REQUIRE(sl_ann_build(NULL, NULL, 0, 4, &o, &a) == SL_OK); /* an empty brute-force index */
    sl_hit h[1];
    CHECK(sl_ann_search(a, x, 1, NULL, h, NULL) == 0);
    sl_ann_free(a);
}

int main(void) {
    test_brute_force(SL_ANN_DOT);
    test_brute_force(SL_ANN_L2);
    test_recall(SL_ANN_DOT);
    test_recall(SL_ANN_L2);
    test_updates();
    test_stores();
    test_bad_input();
    return sl_test_summary();
}
