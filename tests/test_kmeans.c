/* k-means: the blocked assignment kernels against a naive double loop at
 * every instruction-set level (ties included), cluster recovery, the
 * objective across iterations, training against a plain reference Lloyd,
 * determinism across threads, and the edge cases. */
#include "index/kmeans.h"
#include "testlib.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rs = 0x6b6d65616e73ull;
static double unif(void) { return (double)(sl_test_rand(&rs) >> 11) / 9007199254740992.0; }
static float gauss(void) {
    double u = unif() + 1e-300, v = unif();
    return (float)(sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v));
}

/* The nearest centre by a plain double loop: squared L2 or max dot, the
 * lower centre on ties. */
static void naive_assign(const float *x, size_t n, size_t dim, const float *c, size_t k, int by_dot,
                         uint32_t *assign, double *best, double *second) {
    for (size_t i = 0; i < n; i++) {
        double b = INFINITY, s = INFINITY;
        uint32_t bi = 0;
        for (size_t j = 0; j < k; j++) {
            double v = 0;
            for (size_t d = 0; d < dim; d++) {
                double a = x[i * dim + d], z = c[j * dim + d];
                v += by_dot ? -a * z : (a - z) * (a - z);
            }
            if (v < b) {
                s = b;
                b = v;
                bi = (uint32_t)j;
            } else if (v < s) {
                s = v;
            }
        }
        assign[i] = bi;
        if (best) best[i] = by_dot ? -b : b;
        if (second) second[i] = by_dot ? -s : s;
    }
}

static double objective(const float *x, size_t n, size_t dim, const float *c, size_t k, int spherical) {
    uint32_t *a = malloc(n * sizeof *a);
    float *d = malloc(n * sizeof *d);
    REQUIRE(sl_kmeans_assign(x, n, dim, c, k, spherical, NULL, a, d) == SL_OK);
    double s = 0;
    for (size_t i = 0; i < n; i++) s += spherical ? 1.0 - d[i] : d[i];
    free(a);
    free(d);
    return s;
}

/* Small integer coordinates: every product and sum is exact in float, so
 * the kernels must match the naive loop bit for bit, ties included
 * (duplicated centres and equidistant points). */
static void test_assign_exact(void) {
    const size_t n = 777, dim = 7, k = 45; /* k: one full panel and a padded one */
    float *x = malloc(n * dim * sizeof *x), *c = malloc(k * dim * sizeof *c), *dist = malloc(n * sizeof *dist);
    uint32_t *got = malloc(n * sizeof *got), *ref = malloc(n * sizeof *ref);
    double *rb = malloc(n * sizeof *rb);
    for (size_t i = 0; i < n * dim; i++) x[i] = (float)((int)(sl_test_rand(&rs) % 5) - 2);
    for (size_t i = 0; i < k * dim; i++) c[i] = (float)((int)(sl_test_rand(&rs) % 5) - 2);
    memcpy(c + 30 * dim, c + 3 * dim, dim * sizeof *c);  /* copies across panels */
    memcpy(c + 44 * dim, c + 40 * dim, dim * sizeof *c);  /* and within the padded one */
    memcpy(x + 5 * dim, c + 3 * dim, dim * sizeof *x);    /* a point on a duplicated centre */
    sl_pool *pool;
    REQUIRE(sl_pool_new(2, &pool) == SL_OK);
    for (int by_dot = 0; by_dot <= 1; by_dot++) {
        naive_assign(x, n, dim, c, k, by_dot, ref, rb, NULL);
        size_t ties = 0;
        for (size_t i = 0; i < n; i++) {
            int cnt = 0;
            for (size_t j = 0; j < k; j++) {
                double v = 0;
                for (size_t d = 0; d < dim; d++) {
                    double a = x[i * dim + d], z = c[j * dim + d];
                    v += by_dot ? a * z : (a - z) * (a - z);
                }
                cnt += v == rb[i];
            }
            ties += cnt > 1;
        }
        CHECK_MSG(ties > 50, "only %zu points with tied centres: the test lost its point", ties);
        CHECK(ref[5] == 3 || by_dot);
        for (int level = SL_CPU_SCALAR; level <= (int)sl_cpu(); level++) {
            for (int threads = 0; threads <= 1; threads++) {
                memset(got, 0xff, n * sizeof *got);
                REQUIRE(sl_kmeans_assign_level((sl_cpu_level)level, x, n, dim, c, k, by_dot, threads ? pool : NULL,
                                               got, dist) == SL_OK);
                size_t bad = 0, bad_d = 0;
                for (size_t i = 0; i < n; i++) {
                    bad += got[i] != ref[i];
                    bad_d += dist[i] != (float)rb[i];
                }
                CHECK_MSG(!bad && !bad_d, "%s by_dot %d threads %d: %zu assignments, %zu distances differ",
                          sl_cpu_name((sl_cpu_level)level), by_dot, threads, bad, bad_d);
            }
        }
    }
    sl_pool_free(pool);
    free(x);
    free(c);
    free(dist);
    free(got);
    free(ref);
    free(rb);
}

/* Random floats: the kernel's choice must be the naive nearest unless the
 * two are closer than rounding; distances within rounding. */
static void test_assign_random(void) {
    const size_t n = 1000, dims[] = {1, 3, 37, 100}, ks[] = {1, 5, 32, 33, 70};
    for (size_t di = 0; di < SL_ARRAY_LEN(dims); di++) {
        for (size_t ki = 0; ki < SL_ARRAY_LEN(ks); ki++) {
            const size_t dim = dims[di], k = ks[ki];
            float *x = malloc(n * dim * sizeof *x), *c = malloc(k * dim * sizeof *c), *dist = malloc(n * sizeof *dist);
            uint32_t *got = malloc(n * sizeof *got), *ref = malloc(n * sizeof *ref);
            double *rb = malloc(n * sizeof *rb), *rs2 = malloc(n * sizeof *rs2);
            uint32_t *twin = malloc(n * sizeof *twin);
            float *twin_d = malloc(n * sizeof *twin_d);
            for (size_t i = 0; i < n * dim; i++) x[i] = gauss();
            for (size_t i = 0; i < k * dim; i++) c[i] = gauss();
            for (int by_dot = 0; by_dot <= 1; by_dot++) {
                naive_assign(x, n, dim, c, k, by_dot, ref, rb, rs2);
                for (int level = SL_CPU_SCALAR; level <= (int)sl_cpu(); level++) {
                    REQUIRE(sl_kmeans_assign_level((sl_cpu_level)level, x, n, dim, c, k, by_dot, NULL, got, dist) ==
                            SL_OK);
                    size_t bad = 0, bad_d = 0, near = 0;
                    for (size_t i = 0; i < n; i++) {
                        double tol = 1e-5 * (dim + 1.0) * (1.0 + fabs(rb[i]));
                        if (got[i] != ref[i]) {
                            if (fabs(rs2[i] - rb[i]) <= tol) near++; /* a near-tie: either is right */
                            else bad++;
                        }
                        if (fabs(dist[i] - rb[i]) > tol) bad_d++;
                    }
                    CHECK_MSG(!bad && !bad_d && near <= 2, "dim %zu k %zu by_dot %d %s: %zu wrong, %zu near-ties, %zu distances",
                              dim, k, by_dot, sl_cpu_name((sl_cpu_level)level), bad, near, bad_d);
                    /* and the SIMD kernels against their plain C twin directly:
                     * the same centre unless the twin's two best are a near-tie */
                    if (level == SL_CPU_SCALAR) {
                        memcpy(twin, got, n * sizeof *twin);
                        memcpy(twin_d, dist, n * sizeof *twin_d);
                    } else {
                        size_t off = 0;
                        for (size_t i = 0; i < n; i++) {
                            double tol = 1e-5 * (dim + 1.0) * (1.0 + fabs(rb[i]));
                            if ((got[i] != twin[i] && fabs(rs2[i] - rb[i]) > tol) || fabs(dist[i] - twin_d[i]) > 2 * tol)
                                off++;
                        }
                        CHECK_MSG(!off, "dim %zu k %zu by_dot %d %s: %zu points differ from the scalar twin", dim, k,
                                  by_dot, sl_cpu_name((sl_cpu_level)level), off);
                    }
                }
            }
            free(x);
            free(c);
            free(dist);
            free(got);
            free(ref);
            free(rb);
            free(rs2);
            free(twin);
            free(twin_d);
        }
    }
}

/* Gaussian clusters: n_true centres in dim dimensions, `per` points each,
 * spread sigma around centres drawn with spread `gap`. label (n) may be
 * NULL. */
static float *blobs(size_t n_true, size_t per, size_t dim, float gap, float sigma, uint32_t *label) {
    float *mu = malloc(n_true * dim * sizeof *mu), *x = malloc(n_true * per * dim * sizeof *x);
    for (size_t i = 0; i < n_true * dim; i++) mu[i] = gap * gauss();
    /* interleaved, so that no range of rows is one cluster */
    for (size_t i = 0; i < n_true * per; i++) {
        size_t g = i % n_true;
        if (label) label[i] = (uint32_t)g;
        for (size_t d = 0; d < dim; d++) x[i * dim + d] = mu[g * dim + d] + sigma * gauss();
    }
    free(mu);
    return x;
}

static void test_recovers_clusters(void) {
    const size_t g = 12, per = 300, dim = 16, n = g * per;
    uint32_t *label = malloc(n * sizeof *label), *a = malloc(n * sizeof *a);
    float *x = blobs(g, per, dim, 10.0f, 0.3f, label), *c = malloc(g * dim * sizeof *c);
    for (int spherical = 0; spherical <= 1; spherical++) {
        if (spherical) /* on the sphere: directions of the same clusters */
            for (size_t i = 0; i < n; i++) {
                double nn = 0;
                for (size_t d = 0; d < dim; d++) nn += (double)x[i * dim + d] * x[i * dim + d];
                for (size_t d = 0; d < dim; d++) x[i * dim + d] = (float)(x[i * dim + d] / sqrt(nn));
            }
        sl_kmeans_opts o;
        sl_kmeans_opts_init(&o);
        o.k = (uint32_t)g;
        o.seed = 7;
        o.spherical = spherical;
        REQUIRE(sl_kmeans_train(x, n, dim, &o, NULL, c) == SL_OK);
        REQUIRE(sl_kmeans_assign(x, n, dim, c, g, spherical, NULL, a, NULL) == SL_OK);
        /* purity: every found cluster holds one true cluster, and every
         * true cluster lands in one found cluster */
        uint32_t *map = malloc(g * sizeof *map), *back = malloc(g * sizeof *back);
        for (size_t j = 0; j < g; j++) map[j] = back[j] = UINT32_MAX;
        size_t impure = 0;
        for (size_t i = 0; i < n; i++) {
            if (map[a[i]] == UINT32_MAX) map[a[i]] = label[i];
            if (back[label[i]] == UINT32_MAX) back[label[i]] = a[i];
            impure += map[a[i]] != label[i] || back[label[i]] != a[i];
        }
        CHECK_MSG(impure == 0, "spherical %d: %zu points not in their cluster", spherical, impure);
        free(map);
        free(back);
    }
    free(label);
    free(a);
    free(x);
    free(c);
}

static void test_objective_monotone(void) {
    const size_t dim = 12, k = 25;
    float *x = blobs(40, 100, dim, 1.0f, 0.8f, NULL); /* overlapping: points move for many iterations */
    const size_t n = 4000;
    float *c = malloc(k * dim * sizeof *c);
    for (int spherical = 0; spherical <= 1; spherical++) {
        if (spherical)
            for (size_t i = 0; i < n; i++) {
                double nn = 0;
                for (size_t d = 0; d < dim; d++) nn += (double)x[i * dim + d] * x[i * dim + d];
                for (size_t d = 0; d < dim; d++) x[i * dim + d] = (float)(x[i * dim + d] / sqrt(nn));
            }
        double prev = INFINITY, first = 0;
        int rises = 0;
        for (int it = 0; it <= 15; it++) {
            sl_kmeans_opts o;
            sl_kmeans_opts_init(&o);
            o.k = (uint32_t)k;
            o.iters = it;
            o.seed = 3;
            o.spherical = spherical;
            REQUIRE(sl_kmeans_train(x, n, dim, &o, NULL, c) == SL_OK);
            double obj = objective(x, n, dim, c, k, spherical);
            if (it == 0) first = obj;
            if (obj > prev * (1 + 1e-6)) {
                rises++;
                fprintf(stderr, "spherical %d: objective %.9g after %d iterations, %.9g before\n", spherical, obj, it,
                        prev);
            }
            prev = obj;
        }
        CHECK_MSG(rises == 0, "spherical %d: the objective rose %d times", spherical, rises);
        CHECK_MSG(prev < 0.95 * first, "spherical %d: Lloyd barely improved the seeds (%g -> %g)", spherical, first,
                  prev);
    }
    free(x);
    free(c);
}

/* Training against a reference Lloyd from the same seeds: full search
 * (sl_kmeans_assign) and double-precision means. Only the bounds that let
 * training skip points differ, and they must not change the result. */
static void test_matches_reference_lloyd(void) {
    const size_t dim = 16, k = 40, n = 4000, iters = 12; /* k: two panels, so training keeps bounds */
    float *x = blobs(40, 100, dim, 3.0f, 1.0f, NULL);
    float *c0 = malloc(k * dim * sizeof *c0), *ref = malloc(k * dim * sizeof *ref), *got = malloc(k * dim * sizeof *got);
    uint32_t *a = malloc(n * sizeof *a), *prev_a = malloc(n * sizeof *prev_a);
    double *sum = malloc(k * dim * sizeof *sum);
    size_t *cnt = malloc(k * sizeof *cnt);
    sl_kmeans_opts o;
    sl_kmeans_opts_init(&o);
    o.k = (uint32_t)k;
    o.seed = 11;
    o.iters = 0;
    REQUIRE(sl_kmeans_train(x, n, dim, &o, NULL, c0) == SL_OK);
    memcpy(ref, c0, k * dim * sizeof *ref);
    size_t moved_late = 0;
    for (size_t it = 0; it < iters; it++) {
        REQUIRE(sl_kmeans_assign(x, n, dim, ref, k, 0, NULL, a, NULL) == SL_OK);
        if (it >= 3)
            for (size_t i = 0; i < n; i++) moved_late += a[i] != prev_a[i];
        memcpy(prev_a, a, n * sizeof *a);
        memset(sum, 0, k * dim * sizeof *sum);
        memset(cnt, 0, k * sizeof *cnt);
        for (size_t i = 0; i < n; i++) {
            cnt[a[i]]++;
            for (size_t d = 0; d < dim; d++) sum[a[i] * dim + d] += x[i * dim + d];
        }
        for (size_t j = 0; j < k; j++) {
            REQUIRE(cnt[j] > 0); /* this data set has no empty clusters */
            for (size_t d = 0; d < dim; d++) ref[j * dim + d] = (float)(sum[j * dim + d] / (double)cnt[j]);
        }
    }
    CHECK_MSG(moved_late > 20, "only %zu late moves: the bounds were not exercised", moved_late);
    o.iters = (int)iters;
    REQUIRE(sl_kmeans_train(x, n, dim, &o, NULL, got) == SL_OK);
    double worst = 0;
    for (size_t i = 0; i < k * dim; i++) worst = fmax(worst, fabs((double)got[i] - ref[i]));
    CHECK_MSG(worst < 1e-4, "training differs from the reference Lloyd by %g", worst);
    free(x);
    free(c0);
    free(ref);
    free(got);
    free(a);
    free(prev_a);
    free(sum);
    free(cnt);
}

/* Empty clusters: started from chosen centres, two of four get no point
 * at all; re-seeding must split the two real clusters so that every centre
 * ends with points and the objective drops to about a quarter. */
static void test_empty_clusters(void) {
    const size_t n = 1000, k = 4;
    float x[1000], c[4] = {1.0f, 5.0f, 5.5f, 9.0f};
    for (size_t i = 0; i < n; i++) x[i] = (float)((i % 2 ? 8.0 : 0.0) + 2.0 * unif());
    uint32_t a[1000];
    REQUIRE(sl_kmeans_assign(x, n, 1, c, k, 0, NULL, a, NULL) == SL_OK);
    size_t cnt[4] = {0};
    for (size_t i = 0; i < n; i++) cnt[a[i]]++;
    REQUIRE(cnt[1] == 0 && cnt[2] == 0); /* the premise */
    double before = objective(x, n, 1, c, k, 0);
    sl_kmeans_opts o;
    sl_kmeans_opts_init(&o);
    o.k = (uint32_t)k;
    REQUIRE(sl_kmeans_refine(x, n, 1, &o, NULL, c) == SL_OK);
    REQUIRE(sl_kmeans_assign(x, n, 1, c, k, 0, NULL, a, NULL) == SL_OK);
    memset(cnt, 0, sizeof cnt);
    for (size_t i = 0; i < n; i++) cnt[a[i]]++;
    CHECK_MSG(cnt[0] && cnt[1] && cnt[2] && cnt[3], "empty centres remain: %zu %zu %zu %zu", cnt[0], cnt[1], cnt[2],
              cnt[3]);
    double after = objective(x, n, 1, c, k, 0);
    CHECK_MSG(after < 0.35 * before, "objective %g -> %g: the clusters were not split", before, after);
    /* refine from given centres is sl_kmeans_train's iterations */
    float c0[4 * 9], c1[4 * 9];
    float *y = malloc(500 * 9 * sizeof *y);
    for (size_t i = 0; i < 500 * 9; i++) y[i] = gauss();
    o.iters = 0;
    REQUIRE(sl_kmeans_train(y, 500, 9, &o, NULL, c0) == SL_OK);
    o.iters = 6;
    REQUIRE(sl_kmeans_train(y, 500, 9, &o, NULL, c1) == SL_OK);
    REQUIRE(sl_kmeans_refine(y, 500, 9, &o, NULL, c0) == SL_OK);
    CHECK(!memcmp(c0, c1, sizeof c0));
    c0[3] = INFINITY;
    CHECK(sl_kmeans_refine(y, 500, 9, &o, NULL, c0) == SL_ERR_ARG);
    free(y);
}

static void test_determinism(void) {
    const size_t dim = 24, k = 50;
    float *x = blobs(60, 1200, dim, 1.5f, 1.0f, NULL); /* 72,000 points: several sum groups */
    const size_t n = 72000;
    float *c[4];
    sl_pool *p1, *p2;
    REQUIRE(sl_pool_new(1, &p1) == SL_OK);
    REQUIRE(sl_pool_new(2, &p2) == SL_OK);
    for (int variant = 0; variant < 3; variant++) {
        sl_kmeans_opts o;
        sl_kmeans_opts_init(&o);
        o.k = (uint32_t)k;
        o.seed = 42;
        o.sample = variant == 1 ? 30000 : 0;
        o.spherical = variant == 2;
        sl_pool *pools[4] = {NULL, p1, p2, p2};
        for (int r = 0; r < 4; r++) {
            c[r] = malloc(k * dim * sizeof *c[r]);
            REQUIRE(sl_kmeans_train(x, n, dim, &o, pools[r], c[r]) == SL_OK);
        }
        CHECK_MSG(!memcmp(c[0], c[1], k * dim * sizeof *c[0]), "variant %d: 1 thread differs from serial", variant);
        CHECK_MSG(!memcmp(c[0], c[2], k * dim * sizeof *c[0]), "variant %d: 2 threads differ from serial", variant);
        CHECK_MSG(!memcmp(c[2], c[3], k * dim * sizeof *c[0]), "variant %d: a repeated run differs", variant);
        o.seed = 43;
        REQUIRE(sl_kmeans_train(x, n, dim, &o, p2, c[3]) == SL_OK);
        CHECK_MSG(memcmp(c[0], c[3], k * dim * sizeof *c[0]) != 0, "variant %d: the seed changes nothing", variant);
        for (int r = 0; r < 4; r++) free(c[r]);
    }
    sl_pool_free(p1);
    sl_pool_free(p2);
    free(x);
}

static void test_edges(void) {
    const size_t n = 500, dim = 9;
    float *x = malloc(n * dim * sizeof *x), *c = malloc(n * dim * sizeof *c), *c2 = malloc(n * dim * sizeof *c2);
    for (size_t i = 0; i < n * dim; i++) x[i] = gauss() + 3.0f;
    sl_kmeans_opts o;
    sl_kmeans_opts_init(&o);
    CHECK(o.iters == 10 && o.sample == 0 && !o.spherical);

    /* k = 1: the mean */
    o.k = 1;
    REQUIRE(sl_kmeans_train(x, n, dim, &o, NULL, c) == SL_OK);
    double worst = 0;
    for (size_t d = 0; d < dim; d++) {
        double m = 0;
        for (size_t i = 0; i < n; i++) m += x[i * dim + d];
        worst = fmax(worst, fabs(m / n - c[d]));
    }
    CHECK_MSG(worst < 1e-5, "k = 1 is %g from the mean", worst);

    /* a sample above n trains on every point: the same as no sample */
    o.k = 7;
    o.sample = 10 * n;
    REQUIRE(sl_kmeans_train(x, n, dim, &o, NULL, c) == SL_OK);
    o.sample = 0;
    REQUIRE(sl_kmeans_train(x, n, dim, &o, NULL, c2) == SL_OK);
    CHECK(!memcmp(c, c2, 7 * dim * sizeof *c));
    o.sample = 100; /* a real sample gives other centres */
    REQUIRE(sl_kmeans_train(x, n, dim, &o, NULL, c2) == SL_OK);
    CHECK(memcmp(c, c2, 7 * dim * sizeof *c) != 0);

    /* spherical centres are unit vectors (the data need not be) */
    o.sample = 0;
    o.spherical = 1;
    o.k = 20;
    REQUIRE(sl_kmeans_train(x, n, dim, &o, NULL, c) == SL_OK);
    worst = 0;
    for (size_t j = 0; j < 20; j++) {
        double nn = 0;
        for (size_t d = 0; d < dim; d++) nn += (double)c[j * dim + d] * c[j * dim + d];
        worst = fmax(worst, fabs(sqrt(nn) - 1));
    }
    CHECK_MSG(worst < 1e-5, "spherical centre norm off by %g", worst);

    /* k = n, and few distinct points (empty clusters every iteration) */
    o.spherical = 0;
    o.k = (uint32_t)n;
    CHECK(sl_kmeans_train(x, n, dim, &o, NULL, c) == SL_OK);
    for (size_t i = 0; i < n * dim; i++) x[i] = (float)(i / dim % 3);
    o.k = 6;
    CHECK(sl_kmeans_train(x, n, dim, &o, NULL, c) == SL_OK);
    int finite = 1;
    for (size_t i = 0; i < 6 * dim; i++) finite &= isfinite(c[i]) != 0;
    CHECK(finite);
    CHECK(objective(x, n, dim, c, 6, 0) < 1e-6); /* the three points are found */

    /* errors */
    o.k = 0;
    CHECK(sl_kmeans_train(x, n, dim, &o, NULL, c) == SL_ERR_ARG);
    o.k = (uint32_t)n + 1;
    CHECK(sl_kmeans_train(x, n, dim, &o, NULL, c) == SL_ERR_ARG);
    o.k = 10;
    o.sample = 5;
    CHECK(sl_kmeans_train(x, n, dim, &o, NULL, c) == SL_ERR_ARG);
    o.sample = 0;
    o.iters = -1;
    CHECK(sl_kmeans_train(x, n, dim, &o, NULL, c) == SL_ERR_ARG);
    o.iters = 10;
    CHECK(sl_kmeans_train(NULL, n, dim, &o, NULL, c) == SL_ERR_ARG);
    CHECK(sl_kmeans_train(x, n, 0, &o, NULL, c) == SL_ERR_ARG);
    x[17] = NAN;
    CHECK(sl_kmeans_train(x, n, dim, &o, NULL, c) == SL_ERR_ARG);
    uint32_t a[4];
    CHECK(sl_kmeans_assign(x, 4, dim, c, 3, 0, NULL, a, NULL) == SL_ERR_ARG);
    x[17] = 0;
    CHECK(sl_kmeans_assign(x, 4, dim, c, 0, 0, NULL, a, NULL) == SL_ERR_ARG);
    CHECK(sl_kmeans_assign(x, 0, dim, c, 3, 0, NULL, NULL, NULL) == SL_OK);
    CHECK(sl_kmeans_assign(x, (size_t)1 << 62, 64, c, 3, 0, NULL, a, NULL) == SL_ERR_LIMIT);
    free(x);
    free(c);
    free(c2);
}

/* Informational: the speed of a mid-sized training run. */
static void test_speed(void) {
#ifdef __SANITIZE_ADDRESS__
    return; /* a sanitizer build times nothing useful */
#endif
    const size_t n = 50000, dim = 100, k = 256;
    float *x = blobs(500, 100, dim, 1.0f, 0.7f, NULL), *c = malloc(k * dim * sizeof *c);
    sl_kmeans_opts o;
    sl_kmeans_opts_init(&o);
    o.k = (uint32_t)k;
    double t0 = sl_now();
    REQUIRE(sl_kmeans_train(x, n, dim, &o, NULL, c) == SL_OK);
    printf("k-means %zu x %zu into %zu centres, 10 iterations, 1 thread: %.3f s (%s)\n", n, dim, k, sl_now() - t0,
           sl_cpu_name(sl_cpu()));
    free(x);
    free(c);
}

int main(void) {
    test_assign_exact();
    test_assign_random();
    test_recovers_clusters();
    test_objective_monotone();
    test_matches_reference_lloyd();
    test_empty_clusters();
    test_determinism();
    test_edges();
    test_speed();
    return sl_test_summary();
}
