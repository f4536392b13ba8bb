/* The searcher index: brute force equals a naive scan exactly; partitions +
 * anisotropic 4-bit PQ + re-ordering reach the expected recall on a fixed
 * synthetic set; removing and re-adding items gives the same answers as the
 * index before; exhaustive settings equal exact search; bad input is
 * refused. */
#include "index/ann.h"
#include "index/ann_internal.h"
#include "index/dot_kernels.h"
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

static void test_updates(sl_ann_metric m) {
    const size_t n = 6000, dim = 16, nq = 40;
    float *x = sl_test_clustered(n, dim, m == SL_ANN_DOT, 21), *qs = sl_test_clustered(nq, dim, m == SL_ANN_DOT, 22);
    int64_t *ids = make_ids(n);
    sl_ann_opts o;
    sl_ann_opts_init(&o, 200000, dim, m);
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
        naive(x, n, dim, qs + i * dim, 10, m, gone, truth);
        size_t got = sl_ann_search(b, qs + i * dim, 10, &all, hits, NULL);
        for (size_t r = 0; r < got; r++) {
            if (hits[r].index != truth[r]) bad++;
            if (gone[hits[r].index - 1000]) leaked++;
        }
    }
    CHECK_MSG(bad == 0 && leaked == 0, "%s after removal: %d differ from exact, %d removed items returned",
              m == SL_ANN_DOT ? "dot" : "l2", bad, leaked);
    CHECK(sl_ann_add(b, rx, rid, nr) == SL_OK && sl_ann_count(b) == n);
    int differ = queries_differ(a, b, qs, nq, dim);
    CHECK_MSG(differ == 0, "%s removed and re-added: %d of %zu queries differ from the original index",
              m == SL_ANN_DOT ? "dot" : "l2", differ, nq);
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

/* The L2 search scores every leaf with one table of 2 q . C plus a
 * per-item term ||c + r_hat||^2 (ann_search.c). Without re-ordering, its
 * scores are -||q - x_hat||^2 up to the uint8 tables' rounding: check them
 * against the reconstructions (sl_pq_decode) computed in double, as
 * values (within a bound derived from the table spans) and as rankings
 * (the top 10 by either agree but for near-ties). */
static void test_l2_tables(void) {
    const size_t n = 4000, dim = 24, nq = 30, k = 40;
    float *x = sl_test_clustered(n, dim, 0, 41), *qs = sl_test_clustered(nq, dim, 0, 42);
    int64_t *ids = make_ids(n);
    sl_ann_opts o;
    sl_ann_opts_init(&o, 200000, dim, SL_ANN_L2);
    o.num_leaves = 16;
    o.store = SL_ANN_STORE_NONE;
    sl_ann *a;
    REQUIRE(sl_ann_build(x, ids, n, dim, &o, &a) == SL_OK);
    const size_t nb = a->pq.n_blocks;
    sl_ann_query_opts all = {16, 0};
    double *adc = malloc(n * sizeof *adc);
    float *rec = malloc(dim * sizeof *rec);
    uint8_t *codes = malloc(nb);
    size_t bad_value = 0, overlap = 0;
    for (size_t qi = 0; qi < nq; qi++) {
        const float *q = qs + qi * dim;
        /* the reconstruction's score of every item, and the table spans */
        for (uint32_t p = 0; p < a->n_leaves; p++) {
            const ann_leaf *l = &a->leaves[p];
            for (size_t i = 0; i < l->n; i++) {
                for (size_t b = 0; b < nb; b++) codes[b] = sl_lut16_get(l->packed, nb, i, b);
                sl_pq_decode(&a->pq, codes, rec);
                double d2 = 0;
                for (size_t j = 0; j < dim; j++) {
                    double v = (double)q[j] - a->centres[p * dim + j] - rec[j];
                    d2 += v * v;
                }
                adc[l->ids[i] - 1000] = -d2;
            }
        }
        double span = 0;
        for (size_t b = 0; b < nb; b++) {
            double lo = INFINITY, hi = -INFINITY;
            for (size_t j = 0; j < 16; j++) {
                double v = 0;
                for (size_t t = 0; t < a->pq.dpb && b * a->pq.dpb + t < dim; t++)
                    v += 2.0 * q[b * a->pq.dpb + t] * a->pq.centres[(b * 16 + j) * a->pq.dpb + t];
                lo = v < lo ? v : lo;
                hi = v > hi ? v : hi;
            }
            span = hi - lo > span ? hi - lo : span;
        }
        /* each table entry rounds by at most half a step */
        const double tol = 0.5 * (double)nb * span / 255.0 * 1.01 + 1e-3 * (1 + fabs(adc[0]));
        sl_hit hits[40];
        size_t got = sl_ann_search(a, q, k, &all, hits, NULL);
        REQUIRE(got == k);
        for (size_t r = 0; r < got; r++)
            if (fabs(hits[r].score - adc[hits[r].index - 1000]) > tol) bad_value++;
        /* the ADC top 10 among all items */
        int64_t top[10];
        double best[10];
        for (size_t r = 0; r < 10; r++) best[r] = -INFINITY, top[r] = -1;
        for (size_t i = 0; i < n; i++) {
            size_t r = 10;
            while (r > 0 && adc[i] > best[r - 1]) r--;
            if (r == 10) continue;
            memmove(best + r + 1, best + r, (9 - r) * sizeof *best);
            memmove(top + r + 1, top + r, (9 - r) * sizeof *top);
            best[r] = adc[i];
            top[r] = (int64_t)i + 1000;
        }
        for (size_t r = 0; r < 10; r++)
            for (size_t h = 0; h < 10; h++) overlap += hits[h].index == top[r];
    }
    CHECK_MSG(bad_value == 0, "l2 tables: %zu approximate scores off the reconstruction's by more than the rounding",
              bad_value);
    CHECK_MSG(overlap >= 9 * nq * 10 / 10, "l2 tables: top-10 overlap with the reconstruction's ranking %zu of %zu",
              overlap, nq * 10);
    free(adc);
    free(rec);
    free(codes);
    sl_ann_free(a);
    free(x);
    free(qs);
    free(ids);
}

/* The re-ordering's squared L2 kernels give their twin's bits at every
 * level (16 lanes, multiply then add, lanes summed in order), for every
 * tail length. */
static void test_l2sq_levels(void) {
    float q[800], x[800];
    for (size_t j = 0; j < 800; j++) {
        q[j] = (float)(int)(sl_test_rand(&(uint64_t){j + 1}) % 256) * 0.37f;
        x[j] = (float)(j % 97) * 1.3f - 20.0f;
    }
    int bad = 0;
    for (size_t dim = 0; dim <= 800; dim += dim < 40 ? 1 : 41) {
        const float ref = sl_l2sq_ref(q, x, dim);
        double e = 0;
        for (size_t j = 0; j < dim; j++) e += ((double)q[j] - x[j]) * ((double)q[j] - x[j]);
        if (fabs(ref - e) > 1e-5 * (1 + e)) bad++;
        for (int level = SL_CPU_SCALAR; level <= (int)sl_cpu(); level++) {
            const float got = sl_l2sq_level((sl_cpu_level)level, q, x, dim);
            if (memcmp(&got, &ref, sizeof got)) bad++;
        }
        /* f16 rows: halves of small integers and of quarter steps are
         * exact, so the widened row is known; subnormals and signs too */
        uint16_t hx[800];
        float wx[800];
        for (size_t j = 0; j < dim; j++) {
            const int v = (int)(j % 61) - 30; /* -30..30 in quarters: exact halves */
            wx[j] = (float)v * 0.25f;
            /* half of v / 4: sign, exponent, mantissa built by hand */
            uint16_t h = 0;
            if (v) {
                int mag = v < 0 ? -v : v, ex = 0;
                while ((mag >> ex) > 1) ex++;
                h = (uint16_t)((v < 0 ? 0x8000u : 0) | (uint16_t)((ex - 2 + 15) << 10) |
                               (uint16_t)(((unsigned)mag << (10 - ex)) & 0x3ffu));
            }
            hx[j] = h;
        }
        if (dim > 3) hx[3] = 0x0001, wx[3] = 5.9604644775390625e-8f; /* the smallest subnormal */
        const float fref = sl_l2sq_ref(q, wx, dim);
        for (int level = SL_CPU_SCALAR; level <= (int)sl_cpu(); level++) {
            const float got = sl_l2sq_f16_level((sl_cpu_level)level, q, hx, dim);
            if (memcmp(&got, &fref, sizeof got)) bad++;
        }
    }
    CHECK_MSG(bad == 0, "l2sq kernels: %d differ from the twin (or the twin from double)", bad);
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
    test_updates(SL_ANN_DOT);
    test_updates(SL_ANN_L2);
    test_l2_tables();
    test_l2sq_levels();
    test_stores();
    test_bad_input();
    return sl_test_summary();
}
