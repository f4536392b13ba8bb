/* k-means: k-means++ seeding, Lloyd iterations and the nearest-centre
 * kernel they spend their time in.
 *
 * The kernel scores a point against all centres as s(c) = bias_c + scale *
 * x.c, with bias = ||c||^2 and scale = -2 for squared L2 (||x||^2 is the
 * same for every centre, so it is added back only when a distance is
 * asked for), and bias = 0, scale = -1 for the inner product; the best
 * centre has the smallest score. The dot products are a small GEMM: the
 * centres are packed once per call into panels of KM_PANEL centres stored
 * dimension-major, (dim, KM_PANEL), so one vector load fetches coordinate j
 * of 16 centres, and KM_ROWS points are scored at once against a panel with
 * one broadcast per point and coordinate. That keeps 16 AVX-512
 * accumulators busy per two loads, where a one-point-at-a-time dot product
 * (sl_dot_rows) spends a load per multiply-add and a horizontal sum per
 * centre.
 *
 * The SIMD kernels live in kmeans_avx2.c / kmeans_avx512.c (compiled for
 * their instruction set) and are picked at run time by sl_cpu();
 * kernel_scalar is their plain C twin and the fallback (its fixed-width
 * inner loops vectorize on any target). tests/test_kmeans.c holds every
 * level to a naive double loop. */
#include "kmeans.h"
#include "kmeans_kernels.h"
#include "flat.h" /* sl_dot_rows for the k-means++ distances */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define KM_SUM_BYTES (64.0 * 1024 * 1024) /* cap on the groups' sum buffers */

enum {
    KM_CHUNK = 256,        /* points per assignment task */
    KM_UPD_CENTRES = 8,    /* centres per update task */
    KM_SUM_GROUPS = 4,     /* point groups of the update's sums (fixed: they merge in order) */
    KM_SUM_MIN = 32768,    /* points per group at least */
    KM_PP_CHUNK = 2048,    /* points per k-means++ task (fixed: sums merge per chunk) */
    KM_PP_PER_CENTRE = 16, /* k-means++ runs on at most max(16 k, KM_PP_MIN) points */
    KM_PP_MIN = 4096
};

/* ---- random numbers: splitmix64, one stream per purpose ----------------- */

static uint64_t km_next(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
/* uniform in [0, 1) with 53 random bits */
static double km_unif(uint64_t *s) { return (double)(km_next(s) >> 11) * (1.0 / 9007199254740992.0); }
/* uniform in [0, m), m >= 1; the bias of the scaling is below 2^-53 * m */
static size_t km_below(uint64_t *s, size_t m) {
    size_t r = (size_t)(km_unif(s) * (double)m);
    return r < m ? r : m - 1;
}
static uint64_t km_stream(uint64_t seed, uint64_t purpose) {
    uint64_t s = seed ^ (purpose * 0xD1B54A32D192ED03ull);
    return km_next(&s);
}

static int cmp_size(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* m distinct indices of [0, n) drawn with the stream (partial Fisher-Yates),
 * sorted ascending so the rows they select are copied in memory order. */
static size_t *draw_sorted(size_t n, size_t m, uint64_t *rng) {
    size_t *idx = sl_malloc_array(n, sizeof *idx);
    if (!idx) return NULL;
    for (size_t i = 0; i < n; i++) idx[i] = i;
    for (size_t i = 0; i < m; i++) {
        size_t j = i + km_below(rng, n - i);
        size_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    qsort(idx, m, sizeof *idx, cmp_size);
    return idx;
}

/* m rows of x (n, dim) drawn by draw_sorted, copied in index order into a
 * new (m, dim) array; NULL when out of memory. */
static float *sample_rows(const float *x, size_t n, size_t m, size_t dim, uint64_t *rng) {
    size_t *idx = draw_sorted(n, m, rng);
    float *out = idx ? sl_malloc_array(m, dim * sizeof *out) : NULL;
    for (size_t i = 0; out && i < m; i++) memcpy(out + i * dim, x + idx[i] * dim, dim * sizeof *out);
    free(idx);
    return out;
}

/* ---- packed centres and the kernels ------------------------------------- */

static void pack_free(km_pack *pk) {
    sl_free_aligned(pk->panel);
    sl_free_aligned(pk->bias);
    pk->panel = pk->bias = NULL;
}

static sl_status pack_alloc(km_pack *pk, size_t k, size_t dim) {
    memset(pk, 0, sizeof *pk);
    pk->k = k;
    pk->dim = dim;
    pk->n_panels = k / KM_PANEL + (k % KM_PANEL != 0);
    size_t cols = pk->n_panels * KM_PANEL, bytes;
    if (sl_mul_overflow(cols, dim, &bytes) || sl_mul_overflow(bytes, sizeof(float), &bytes))
        return sl_fail(SL_ERR_LIMIT, "k-means: %zu centres of %zu dimensions is too large", k, dim);
    pk->panel = sl_malloc_aligned(bytes);
    pk->bias = sl_malloc_aligned(cols * sizeof(float));
    if (!pk->panel || !pk->bias) {
        pack_free(pk);
        return sl_fail(SL_ERR_NOMEM, "k-means: out of memory");
    }
    return SL_OK;
}

/* Re-packs centres (k, dim) into an allocated pack. */
static void pack_fill(km_pack *pk, const float *centers, int by_dot) {
    const size_t k = pk->k, dim = pk->dim;
    pk->scale = by_dot ? -1.0f : -2.0f;
    for (size_t p = 0; p < pk->n_panels; p++) {
        float *pp = pk->panel + p * dim * KM_PANEL;
        for (size_t c = 0; c < KM_PANEL; c++) {
            size_t g = p * KM_PANEL + c;
            if (g < k) {
                const float *src = centers + g * dim;
                double nn = 0;
                for (size_t j = 0; j < dim; j++) {
                    pp[j * KM_PANEL + c] = src[j];
                    nn += (double)src[j] * src[j];
                }
                pk->bias[g] = by_dot ? 0.0f : (float)nn;
            } else {
                /* zero coordinates give a zero dot product, so the padding
                 * scores exactly +inf and never wins */
                for (size_t j = 0; j < dim; j++) pp[j * KM_PANEL + c] = 0.0f;
                pk->bias[g] = INFINITY;
            }
        }
    }
}

static void kernel_scalar(const km_pack *pk, const float *const *rows, uint32_t *best_i, float *best_s,
                          float *second_s) {
    const size_t dim = pk->dim;
    for (size_t p = 0; p < pk->n_panels; p++) {
        const float *pp = pk->panel + p * dim * KM_PANEL, *bias = pk->bias + p * KM_PANEL;
        for (int r = 0; r < KM_ROWS; r++) {
            const float *x = rows[r];
            float acc[KM_PANEL] = {0};
            for (size_t j = 0; j < dim; j++) {
                const float xv = x[j], *col = pp + j * KM_PANEL;
                for (int c = 0; c < KM_PANEL; c++) acc[c] += xv * col[c];
            }
            for (int c = 0; c < KM_PANEL; c++) {
                float s = bias[c] + pk->scale * acc[c];
                if (s < best_s[r]) {
                    second_s[r] = best_s[r];
                    best_s[r] = s;
                    best_i[r] = (uint32_t)(p * KM_PANEL + (size_t)c);
                } else if (s < second_s[r]) {
                    second_s[r] = s;
                }
            }
        }
    }
}


static km_kernel pick_kernel(sl_cpu_level level) {
    if (level > sl_cpu()) level = sl_cpu();
#ifndef SL_NO_X86_SIMD
    if (level >= SL_CPU_AVX512) return sl_kmeans_kernel_avx512;
    if (level >= SL_CPU_AVX2) return sl_kmeans_kernel_avx2;
#endif
    (void)level;
    return kernel_scalar;
}

/* ---- assignment ----------------------------------------------------------- */

static float sq_norm(const float *v, size_t dim) {
    double s = 0;
    for (size_t j = 0; j < dim; j++) s += (double)v[j] * v[j];
    return (float)s;
}

/* Squared distance from a kernel score: ||x||^2 + (||c||^2 - 2 x.c), or
 * for the inner product with unit centres ||x||^2 + 1 - 2 x.c. The
 * expansion can dip below 0 by rounding. */
static inline float score_d2(float xnorm, float score, int by_dot) {
    float d = by_dot ? xnorm + 1.0f + 2.0f * score : xnorm + score;
    return d > 0 ? d : 0.0f;
}

typedef struct assign_job {
    const km_pack *pk;
    km_kernel kernel;
    const float *x; /* (n, dim) */
    size_t n;
    int by_dot;
    uint32_t *assign; /* (n) */
    float *dist;      /* (n) or NULL: squared L2 distance, or the dot product */
    float *best;      /* (n) or NULL: raw best score */
    float *second;    /* (n) or NULL: raw runner-up score */
} assign_job;

static void assign_task(void *ctx, size_t task, int thread) {
    (void)thread;
    const assign_job *job = ctx;
    const size_t dim = job->pk->dim, i0 = task * KM_CHUNK;
    const size_t i1 = job->n - i0 < KM_CHUNK ? job->n : i0 + KM_CHUNK;
    for (size_t i = i0; i < i1; i += KM_ROWS) {
        const size_t cnt = i1 - i < KM_ROWS ? i1 - i : KM_ROWS;
        const float *rows[KM_ROWS];
        uint32_t bi[KM_ROWS];
        float bs[KM_ROWS], ss[KM_ROWS];
        for (size_t r = 0; r < KM_ROWS; r++) {
            rows[r] = job->x + (i + (r < cnt ? r : cnt - 1)) * dim;
            bi[r] = 0; /* stays 0 only if every score is NaN (overflowing input) */
            bs[r] = ss[r] = INFINITY;
        }
        job->kernel(job->pk, rows, bi, bs, ss);
        for (size_t r = 0; r < cnt; r++) {
            job->assign[i + r] = bi[r];
            if (job->best) job->best[i + r] = bs[r];
            if (job->second) job->second[i + r] = ss[r];
            if (job->dist) job->dist[i + r] = job->by_dot ? -bs[r] : score_d2(sq_norm(rows[r], dim), bs[r], 0);
        }
    }
}

static size_t n_chunks(size_t n, size_t chunk) { return n / chunk + (n % chunk != 0); }

/* Inf and NaN have an all-ones exponent; testing the bits makes the scan
 * an integer OR-reduction the compiler vectorizes (it must not reorder
 * float operations). */
static sl_status check_finite(const float *x, size_t count, const char *what) {
    enum { BLOCK = 4096 };
    for (size_t i0 = 0; i0 < count; i0 += BLOCK) {
        const size_t i1 = SL_MIN(count, i0 + BLOCK);
        uint32_t bad = 0, bits[16];
        size_t i = i0;
        for (; i + 16 <= i1; i += 16) { /* fixed trip counts vectorize at -O2 */
            memcpy(bits, x + i, sizeof bits);
            for (int j = 0; j < 16; j++) bad |= (uint32_t)((bits[j] & 0x7f800000u) == 0x7f800000u);
        }
        for (; i < i1; i++) {
            memcpy(bits, x + i, sizeof bits[0]);
            bad |= (uint32_t)((bits[0] & 0x7f800000u) == 0x7f800000u);
        }
        if (!bad) continue;
        for (i = i0; i < i1; i++)
            if (!isfinite(x[i])) return sl_fail(SL_ERR_ARG, "k-means: %s value %zu is not finite", what, i);
    }
    return SL_OK;
}

sl_status sl_kmeans_assign_level(sl_cpu_level level, const float *x, size_t n, size_t dim, const float *centers,
                                 size_t k, int by_dot, sl_pool *pool, uint32_t *assign, float *dist) {
    if (n == 0) return SL_OK;
    if (!x || !centers || !assign || !dim || !k) return sl_fail(SL_ERR_ARG, "k-means assign: NULL argument or zero size");
    if (k > UINT32_MAX) return sl_fail(SL_ERR_LIMIT, "k-means assign: %zu centres is too many", k);
    size_t nx, nc;
    if (sl_mul_overflow(n, dim, &nx) || sl_mul_overflow(k, dim, &nc))
        return sl_fail(SL_ERR_LIMIT, "k-means assign: sizes overflow");
    sl_status st = check_finite(centers, nc, "centre");
    if (!st) st = check_finite(x, nx, "point");
    if (st) return st;
    km_pack pk;
    if ((st = pack_alloc(&pk, k, dim))) return st;
    pack_fill(&pk, centers, by_dot);
    assign_job job = {&pk, pick_kernel(level), x, n, by_dot, assign, dist, NULL, NULL};
    sl_pool_run(pool, n_chunks(n, KM_CHUNK), assign_task, &job);
    pack_free(&pk);
    return SL_OK;
}

sl_status sl_kmeans_assign(const float *x, size_t n, size_t dim, const float *centers, size_t k, int by_dot,
                           sl_pool *pool, uint32_t *assign, float *dist) {
    return sl_kmeans_assign_level(sl_cpu(), x, n, dim, centers, k, by_dot, pool, assign, dist);
}

/* ---- k-means++ seeding ------------------------------------------------------ */

typedef struct pp_job {
    const float *p;     /* (m, dim) seeding points */
    const float *pnorm; /* (m) */
    size_t m, dim;
    const float *c; /* the newest centre (dim) */
    float cnorm;
    float *d2;           /* (m) squared distance to the nearest centre so far */
    double *chunk_sum;   /* (n_chunks) sum of d2 per chunk, in point order */
} pp_job;

static void pp_task(void *ctx, size_t task, int thread) {
    (void)thread;
    const pp_job *job = ctx;
    const size_t i0 = task * KM_PP_CHUNK, cnt = job->m - i0 < KM_PP_CHUNK ? job->m - i0 : KM_PP_CHUNK;
    float dots[256];
    double sum = 0;
    for (size_t b = 0; b < cnt; b += 256) {
        size_t nb = cnt - b < 256 ? cnt - b : 256;
        sl_dot_rows(job->c, job->p + (i0 + b) * job->dim, nb, job->dim, dots);
        for (size_t r = 0; r < nb; r++) {
            size_t i = i0 + b + r;
            float d = job->pnorm[i] - 2.0f * dots[r] + job->cnorm;
            if (!(d > 0)) d = 0;
            if (d < job->d2[i]) job->d2[i] = d;
            sum += job->d2[i];
        }
    }
    job->chunk_sum[task] = sum;
}

/* k-means++ (D^2 sampling) over the rows p (m, dim): the first centre is a
 * uniform draw, each next one a draw with probability proportional to the
 * squared distance to the nearest centre chosen so far. */
static sl_status seed_pp(const float *p, size_t m, size_t dim, size_t k, uint64_t *rng, sl_pool *pool,
                         float *centers) {
    const size_t nch = n_chunks(m, KM_PP_CHUNK);
    float *pnorm = sl_malloc_array(m, sizeof *pnorm), *d2 = sl_malloc_array(m, sizeof *d2);
    double *chunk_sum = sl_malloc_array(nch, sizeof *chunk_sum);
    sl_status st = SL_OK;
    if (!pnorm || !d2 || !chunk_sum) {
        st = sl_fail(SL_ERR_NOMEM, "k-means: out of memory");
        goto done;
    }
    for (size_t i = 0; i < m; i++) {
        pnorm[i] = sq_norm(p + i * dim, dim);
        d2[i] = INFINITY;
    }
    size_t pick = km_below(rng, m);
    for (size_t c = 0;; c++) {
        memcpy(centers + c * dim, p + pick * dim, dim * sizeof *centers);
        if (c + 1 == k) break;
        pp_job job = {p, pnorm, m, dim, centers + c * dim, pnorm[pick], d2, chunk_sum};
        sl_pool_run(pool, nch, pp_task, &job);
        double total = 0;
        for (size_t t = 0; t < nch; t++) total += chunk_sum[t];
        if (!(total > 0)) {
            /* every point sits on a centre (duplicates): any point will do,
             * the empty-cluster re-seeding deals with the copies */
            pick = km_below(rng, m);
            continue;
        }
        /* walk the chunk sums, then the chunk, to the drawn mass; the last
         * point with mass is the fallback when rounding overshoots */
        double r = km_unif(rng) * total, acc = 0;
        size_t t = 0;
        while (t + 1 < nch && r >= acc + chunk_sum[t]) acc += chunk_sum[t++];
        size_t i0 = t * KM_PP_CHUNK, i1 = SL_MIN(m, i0 + KM_PP_CHUNK), last = SIZE_MAX;
        pick = SIZE_MAX;
        for (size_t i = i0; i < i1; i++) {
            if (d2[i] <= 0) continue;
            last = i;
            acc += d2[i];
            if (r < acc) {
                pick = i;
                break;
            }
        }
        if (pick == SIZE_MAX) pick = last;
        if (pick == SIZE_MAX) { /* a chunk without mass: take any point with some */
            for (size_t i = 0; i < m && pick == SIZE_MAX; i++)
                if (d2[i] > 0) pick = i;
            if (pick == SIZE_MAX) pick = 0;
        }
    }
done:
    free(pnorm);
    free(d2);
    free(chunk_sum);
    return st;
}

/* ---- Lloyd iterations ------------------------------------------------------- */

/* The assignment step keeps Hamerly's bounds (G. Hamerly, "Making k-means
 * even faster", SDM 2010) so that points that cannot change centre skip
 * the search (on clustered data most of them after a few iterations; on
 * dense data such as normalized word vectors few, and the bookkeeping then
 * costs about 3 %): upper[i] >= d(x_i, c_assign[i]) and lower[i] <= the
 * distance to every other centre (plain, not squared, distances). When a
 * centre moves by drift[c], the triangle inequality keeps them valid after
 * upper += drift[assigned] and lower -= the largest drift of any other
 * centre. A point cannot change its centre while upper <= max(lower,
 * half the distance from its centre to the nearest other centre); else
 * upper is recomputed, and only if the test still fails is the point
 * searched against all centres. Searched points get exact bounds from the
 * kernel's best and runner-up scores. Every decision depends on the point
 * alone, so the result does not depend on the threads; it is the
 * assignment plain Lloyd would make, up to float rounding in near-ties. */
typedef struct lloyd_job {
    const km_pack *pk;
    km_kernel kernel;
    const float *x;      /* (n, dim) training points */
    const float *xnorm;  /* (n) their squared norms */
    size_t n, dim;
    int by_dot;
    const float *centres;  /* (k, dim) row-major, the ones packed */
    const float *cnorm;    /* (k) their squared norms */
    const float *drift;    /* (k) moves since the last step, or NULL: search every point */
    const float *half_gap; /* (k) half the distance to the nearest other centre */
    float max_drift, max_drift2; /* the largest drift, and the largest of the others */
    size_t max_drift_at;
    uint32_t *assign; /* (n) */
    float *upper, *lower; /* (n) */
} lloyd_job;

static void lloyd_task(void *ctx, size_t task, int thread) {
    (void)thread;
    const lloyd_job *job = ctx;
    const size_t dim = job->dim, i0 = task * KM_CHUNK;
    const size_t i1 = job->n - i0 < KM_CHUNK ? job->n : i0 + KM_CHUNK;
    size_t list[KM_CHUNK], nl = 0;
    for (size_t i = i0; i < i1; i++) {
        if (!job->drift) {
            list[nl++] = i;
            continue;
        }
        const uint32_t a = job->assign[i];
        float u = job->upper[i] + job->drift[a];
        float l = job->lower[i] - (a == job->max_drift_at ? job->max_drift2 : job->max_drift);
        const float bound = job->half_gap[a] > l ? job->half_gap[a] : l;
        job->lower[i] = l;
        if (u <= bound) {
            job->upper[i] = u;
            continue;
        }
        float dot;
        if (dim >= 16) {
            sl_dot_rows(job->x + i * dim, job->centres + (size_t)a * dim, 1, dim, &dot);
        } else { /* a call and a dispatch would cost more than the product */
            const float *xr = job->x + i * dim, *cr = job->centres + (size_t)a * dim;
            dot = 0;
            for (size_t d = 0; d < dim; d++) dot += xr[d] * cr[d];
        }
        float d2 = job->by_dot ? job->xnorm[i] + 1.0f - 2.0f * dot : job->xnorm[i] - 2.0f * dot + job->cnorm[a];
        u = sqrtf(d2 > 0 ? d2 : 0.0f);
        job->upper[i] = u;
        if (u <= bound) continue;
        list[nl++] = i;
    }
    for (size_t g = 0; g < nl; g += KM_ROWS) {
        const size_t cnt = nl - g < KM_ROWS ? nl - g : KM_ROWS;
        const float *rows[KM_ROWS];
        uint32_t bi[KM_ROWS];
        float bs[KM_ROWS], ss[KM_ROWS];
        for (size_t r = 0; r < KM_ROWS; r++) {
            rows[r] = job->x + list[g + (r < cnt ? r : cnt - 1)] * dim;
            bi[r] = 0;
            bs[r] = ss[r] = INFINITY;
        }
        job->kernel(job->pk, rows, bi, bs, ss);
        for (size_t r = 0; r < cnt; r++) {
            const size_t i = list[g + r];
            job->assign[i] = bi[r];
            job->upper[i] = sqrtf(score_d2(job->xnorm[i], bs[r], job->by_dot));
            job->lower[i] = ss[r] < INFINITY ? sqrtf(score_d2(job->xnorm[i], ss[r], job->by_dot)) : INFINITY;
        }
    }
}

/* The update step sums each centre's points in point order, reading the
 * rows once, front to back. To use threads without making the sums depend
 * on them, the points are cut into a fixed number of groups (set by the
 * sizes alone), each summed into its own buffer, and the buffers are then
 * added in group order. */
typedef struct update_job {
    const float *x; /* (m, dim) training points */
    size_t m, dim, k, n_groups, group_size;
    int by_dot;
    const uint32_t *assign; /* (m) */
    const float *upper;     /* (m) distance bounds (their squares: the radius scale) */
    const size_t *count;    /* (k) */
    double *sums;           /* (n_groups, k, dim) */
    double *sumdist;        /* (n_groups, k) */
    float *centres;         /* (k, dim) updated in place */
} update_job;

static void group_sum_task(void *ctx, size_t g, int thread) {
    (void)thread;
    const update_job *job = ctx;
    const size_t dim = job->dim, i0 = g * job->group_size, i1 = SL_MIN(job->m, i0 + job->group_size);
    double *sums = job->sums + g * job->k * dim, *sumdist = job->sumdist + g * job->k;
    memset(sums, 0, job->k * dim * sizeof *sums);
    memset(sumdist, 0, job->k * sizeof *sumdist);
    for (size_t i = i0; i < i1; i++) {
        const uint32_t a = job->assign[i];
        const float *r = job->x + i * dim;
        double *s = sums + (size_t)a * dim;
        for (size_t d = 0; d < dim; d++) s[d] += r[d];
        sumdist[a] += (double)job->upper[i] * job->upper[i];
    }
}

/* Adds the groups' sums (into group 0's buffer) and moves the centres of a
 * block to their means. */
static void centre_task(void *ctx, size_t task, int thread) {
    (void)thread;
    const update_job *job = ctx;
    const size_t dim = job->dim, k = job->k, c0 = task * KM_UPD_CENTRES, c1 = SL_MIN(k, c0 + KM_UPD_CENTRES);
    for (size_t c = c0; c < c1; c++) {
        double *s = job->sums + c * dim;
        for (size_t g = 1; g < job->n_groups; g++) {
            const double *sg = job->sums + (g * k + c) * dim;
            for (size_t d = 0; d < dim; d++) s[d] += sg[d];
            job->sumdist[c] += job->sumdist[g * k + c];
        }
        if (!job->count[c]) continue;
        float *w = job->centres + c * dim;
        if (job->by_dot) {
            /* the mean's direction; a zero sum (opposite points) leaves
             * the centre where it was */
            double nn = 0;
            for (size_t d = 0; d < dim; d++) nn += s[d] * s[d];
            if (nn > 0) {
                double in = 1.0 / sqrt(nn);
                for (size_t d = 0; d < dim; d++) w[d] = (float)(s[d] * in);
            }
        } else {
            double inv = 1.0 / (double)job->count[c];
            for (size_t d = 0; d < dim; d++) w[d] = (float)(s[d] * inv);
        }
    }
}

static void normalize(float *c, size_t dim) {
    double nn = 0;
    for (size_t j = 0; j < dim; j++) nn += (double)c[j] * c[j];
    if (!(nn > 0)) return;
    float inv = (float)(1.0 / sqrt(nn));
    for (size_t j = 0; j < dim; j++) c[j] *= inv;
}

void sl_kmeans_opts_init(sl_kmeans_opts *o) {
    memset(o, 0, sizeof *o);
    o->iters = 10;
}

/* Scratch of the Lloyd iterations. */
typedef struct lloyd {
    size_t m, k, dim;
    int by_dot;
    km_pack pk;
    float *xnorm, *upper, *lower;     /* (m) */
    uint32_t *assign;                 /* (m) */
    float *prev;                      /* (k, dim) centres before the update */
    float *cnorm, *drift, *half_gap;  /* (k) */
    float *gap_best, *gap_second;     /* (k) scores of the centres against each other */
    uint32_t *gap_assign;             /* (k) */
    size_t n_groups, group_size;      /* the update's point groups */
    double *sums;                     /* (n_groups, k, dim) */
    double *sumdist;                  /* (n_groups, k) */
    size_t *count, *left;             /* (k) */
} lloyd;

static void lloyd_free(lloyd *L) {
    pack_free(&L->pk);
    free(L->xnorm);
    free(L->upper);
    free(L->lower);
    free(L->assign);
    free(L->prev);
    free(L->cnorm);
    free(L->drift);
    free(L->half_gap);
    free(L->gap_best);
    free(L->gap_second);
    free(L->gap_assign);
    free(L->sums);
    free(L->sumdist);
    free(L->count);
    free(L->left);
}

static sl_status lloyd_alloc(lloyd *L, size_t m, size_t k, size_t dim, int by_dot) {
    memset(L, 0, sizeof *L);
    L->m = m;
    L->k = k;
    L->dim = dim;
    L->by_dot = by_dot;
    sl_status st = pack_alloc(&L->pk, k, dim);
    if (st) return st;
    L->xnorm = sl_malloc_array(m, sizeof(float));
    L->upper = sl_malloc_array(m, sizeof(float));
    L->lower = sl_malloc_array(m, sizeof(float));
    L->assign = sl_malloc_array(m, sizeof(uint32_t));
    L->prev = sl_malloc_array(k, dim * sizeof(float));
    L->cnorm = sl_malloc_array(k, sizeof(float));
    L->drift = sl_malloc_array(k, sizeof(float));
    L->half_gap = sl_malloc_array(k, sizeof(float));
    L->gap_best = sl_malloc_array(k, sizeof(float));
    L->gap_second = sl_malloc_array(k, sizeof(float));
    L->gap_assign = sl_malloc_array(k, sizeof(uint32_t));
    /* up to KM_SUM_GROUPS groups of at least KM_SUM_MIN points, fewer
     * when their buffers would pass KM_SUM_BYTES */
    size_t g = SL_MIN((size_t)KM_SUM_GROUPS, n_chunks(m, KM_SUM_MIN));
    while (g > 1 && (double)g * (double)k * (double)dim * sizeof(double) > KM_SUM_BYTES) g--;
    L->n_groups = g;
    L->group_size = n_chunks(m, g);
    L->sums = sl_malloc_array(g * k, dim * sizeof(double));
    L->sumdist = sl_malloc_array(g * k, sizeof(double));
    L->count = sl_malloc_array(k, sizeof(size_t));
    L->left = sl_malloc_array(k, sizeof(size_t));
    if (!L->xnorm || !L->upper || !L->lower || !L->assign || !L->prev || !L->cnorm || !L->drift ||
        !L->half_gap || !L->gap_best || !L->gap_second || !L->gap_assign || !L->sums || !L->sumdist ||
        !L->count || !L->left)
        return sl_fail(SL_ERR_NOMEM, "k-means: out of memory"); /* the caller frees */
    return SL_OK;
}

/* One assignment step over the training points t (m, dim) with the
 * centres c (k, dim); `first` searches every point. */
static void lloyd_assign(lloyd *L, const float *t, const float *c, int first, km_kernel kernel, sl_pool *pool) {
    const size_t k = L->k, dim = L->dim;
    pack_fill(&L->pk, c, L->by_dot);
    for (size_t j = 0; j < k; j++) L->cnorm[j] = sq_norm(c + j * dim, dim);
    lloyd_job job = {&L->pk, kernel, t, L->xnorm, L->m, dim, L->by_dot, c, L->cnorm, NULL, L->half_gap,
                     0, 0, SIZE_MAX, L->assign, L->upper, L->lower};
    if (!first) {
        /* the centres scored against each other: the nearest other one is
         * the runner-up (or the best, when a copy outscores the centre) */
        assign_job gj = {&L->pk, kernel, c, k, L->by_dot, L->gap_assign, NULL, L->gap_best, L->gap_second};
        sl_pool_run(pool, n_chunks(k, KM_CHUNK), assign_task, &gj);
        for (size_t j = 0; j < k; j++) {
            float s = L->gap_assign[j] == j ? L->gap_second[j] : L->gap_best[j];
            L->half_gap[j] = s < INFINITY ? 0.5f * sqrtf(score_d2(L->cnorm[j], s, L->by_dot)) : INFINITY;
        }
        size_t at = 0;
        for (size_t j = 1; j < k; j++)
            if (L->drift[j] > L->drift[at]) at = j;
        float second = 0;
        for (size_t j = 0; j < k; j++)
            if (j != at && L->drift[j] > second) second = L->drift[j];
        job.drift = L->drift;
        job.max_drift = L->drift[at];
        job.max_drift2 = second;
        job.max_drift_at = at;
    }
    sl_pool_run(pool, n_chunks(L->m, KM_CHUNK), lloyd_task, &job);
}

/* The update step: centres c (k, dim) move to the means of their points
 * (normalized when by_dot); drift receives how far each moved. */
static void lloyd_update(lloyd *L, const float *t, float *c, uint64_t *rng, sl_pool *pool) {
    const size_t k = L->k, dim = L->dim, m = L->m;
    memcpy(L->prev, c, k * dim * sizeof *c);
    memset(L->count, 0, k * sizeof *L->count);
    for (size_t i = 0; i < m; i++) L->count[L->assign[i]]++;
    update_job uj = {t, m, dim, k, L->n_groups, L->group_size, L->by_dot, L->assign, L->upper, L->count,
                     L->sums, L->sumdist, c};
    sl_pool_run(pool, L->n_groups, group_sum_task, &uj);
    sl_pool_run(pool, n_chunks(k, KM_UPD_CENTRES), centre_task, &uj);
    /* Empty centres: each goes next to the (new) centre of the currently
     * largest cluster, displaced by 5 % of that cluster's RMS radius in a
     * random sign pattern, and the two share the cluster's count for the
     * next pick. The cluster's own centre stays at its mean, so the
     * objective cannot rise (no point used the empty centre), while the
     * next assignment splits the cluster along the displacement. */
    memcpy(L->left, L->count, k * sizeof *L->left);
    for (size_t e = 0; e < k; e++) {
        if (L->count[e]) continue;
        size_t big = 0;
        for (size_t j = 1; j < k; j++)
            if (L->left[j] > L->left[big]) big = j;
        if (L->left[big] < 2) break; /* nothing left to split */
        double r2 = L->sumdist[big] / (double)L->count[big];
        float step = (float)(0.05 * sqrt(r2) / sqrt((double)dim));
        if (!(step > 0)) step = 1e-6f;
        float *w = c + e * dim;
        const float *src = c + big * dim;
        for (size_t d = 0; d < dim; d++) w[d] = src[d] + ((km_next(rng) >> 63) ? step : -step);
        if (L->by_dot) normalize(w, dim);
        L->left[e] = L->left[big] / 2;
        L->left[big] -= L->left[e];
    }
    for (size_t j = 0; j < k; j++) {
        double dd = 0;
        for (size_t d = 0; d < dim; d++) {
            double v = (double)c[j * dim + d] - L->prev[j * dim + d];
            dd += v * v;
        }
        /* rounded up a little: the bounds must not shrink by rounding */
        L->drift[j] = (float)sqrt(dd) * (1.0f + 1e-6f);
    }
}

/* Training: seeded (k-means++) when `given` is 0, else from the centres in
 * `centers`. */
static sl_status train(const float *x, size_t n, size_t dim, const sl_kmeans_opts *o, sl_pool *pool,
                       float *centers, int given) {
    if (!x || !o || !centers || !n || !dim) return sl_fail(SL_ERR_ARG, "k-means: NULL argument or zero size");
    const size_t k = o->k;
    const size_t m = o->sample && o->sample < n ? o->sample : n; /* training points */
    if (k < 1 || k > n) return sl_fail(SL_ERR_ARG, "k-means: k = %zu for %zu points", k, n);
    if (k > m) return sl_fail(SL_ERR_ARG, "k-means: k = %zu above the sample of %zu points", k, m);
    if (o->iters < 0) return sl_fail(SL_ERR_ARG, "k-means: %d iterations", o->iters);
    size_t nx, tmp;
    if (sl_mul_overflow(n, dim, &nx) || sl_mul_overflow(nx, sizeof(float), &tmp) ||
        sl_mul_overflow(k, dim, &tmp) || sl_mul_overflow(tmp, sizeof(double), &tmp))
        return sl_fail(SL_ERR_LIMIT, "k-means: %zu x %zu points is too large", n, dim);
    sl_status st = check_finite(x, nx, "point");
    if (!st && given) st = check_finite(centers, k * dim, "centre");
    if (st) return st;

    const int by_dot = o->spherical != 0;
    uint64_t rng_sample = km_stream(o->seed, 1), rng_seed = km_stream(o->seed, 2), rng_split = km_stream(o->seed, 3);
    const size_t mpp = SL_MIN(m, SL_MAX((size_t)KM_PP_PER_CENTRE * k, (size_t)KM_PP_MIN));

    float *xs = NULL, *pp = NULL, *work = NULL;
    lloyd L;
    memset(&L, 0, sizeof L);
    const float *t = x; /* the training points (m, dim) */

    if (m < n) {
        if (!(xs = sample_rows(x, n, m, dim, &rng_sample))) goto nomem;
        t = xs;
    }

    /* seeding on a random subset: the D^2 walk is serial in the centres and
     * costs a pass over its points per centre */
    work = sl_malloc_array(k, dim * sizeof *work);
    if (!work) goto nomem;
    if (given) memcpy(work, centers, k * dim * sizeof *work);
    else if (mpp < m && !(pp = sample_rows(t, m, mpp, dim, &rng_seed))) goto nomem;
    if (!given && (st = seed_pp(pp ? pp : t, mpp, dim, k, &rng_seed, pool, work))) goto done;
    free(pp);
    pp = NULL;
    if (by_dot)
        for (size_t c = 0; c < k; c++) normalize(work + c * dim, dim);

    if (o->iters > 0) {
        if ((st = lloyd_alloc(&L, m, k, dim, by_dot))) goto done;
        for (size_t i = 0; i < m; i++) L.xnorm[i] = sq_norm(t + i * dim, dim);
        const km_kernel kernel = pick_kernel(sl_cpu());
        /* with one panel of centres a full search costs about what the
         * bounds' bookkeeping does */
        const int use_bounds = k > KM_PANEL;
        for (int it = 0; it < o->iters; it++) {
            lloyd_assign(&L, t, work, it == 0 || !use_bounds, kernel, pool);
            lloyd_update(&L, t, work, &rng_split, pool);
        }
    }
    memcpy(centers, work, k * dim * sizeof *centers);
    goto done;
nomem:
    st = sl_fail(SL_ERR_NOMEM, "k-means: out of memory");
done:
    lloyd_free(&L);
    free(xs);
    free(pp);
    free(work);
    return st;
}

sl_status sl_kmeans_train(const float *x, size_t n, size_t dim, const sl_kmeans_opts *o, sl_pool *pool,
                          float *centers) {
    return train(x, n, dim, o, pool, centers, 0);
}

sl_status sl_kmeans_refine(const float *x, size_t n, size_t dim, const sl_kmeans_opts *o, sl_pool *pool,
                           float *centers) {
    return train(x, n, dim, o, pool, centers, 1);
}
