/* Anisotropic product quantization: training (k-means init, then rounds of
 * anisotropic encoding and exact per-block codebook updates) and encoding
 * (nearest centre, then coordinate descent on the anisotropic loss).
 * docs/INDEX_TRAINING.md has the derivations.
 *
 * Notation used in the comments: for point i and block B, t = r_i[B] (the
 * block's residual coordinates, the target), u = u_i[B] (the block's part
 * of the unit direction), c = the block centre of the point's code, and
 * P_i = e_i . u_i = sum over blocks of (t - c) . u (the parallel error). */
#include "ah.h"
#include "ah_kernels.h"
#include "kmeans.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The encoder's copies per instruction set must compute the same bits, and
 * training sums should not depend on the compiler: no fused multiply-adds
 * behind our back (GCC does not contract in ISO C mode; clang would). */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

enum {
    K = SL_PQ_CENTRES,
    AH_MAX_DPB = 32,         /* the update solves dpb x dpb systems on the stack */
    AH_ENC_CHUNK = 512,      /* points per encoding task */
    AH_UPD_CHUNK = 8192,     /* points per update task (fixed: partial sums merge per chunk) */
    AH_INIT_SAMPLE = 16384,  /* points of the k-means initialization */
    AH_PREFETCH = 16,        /* rows ahead in the update's block passes */
    AH_DEFAULT_ITERS = 8,
    AH_DEFAULT_PASSES = 2
};

float sl_ah_eta(size_t dim, float threshold) {
    if (!(threshold > 0) || dim < 2) return 1.0f;
    if (threshold >= 1) return FLT_MAX;
    /* ScaNN: parallel cost T^2 / ||x||^2, perpendicular cost
     * (1 - T^2 / ||x||^2) / (dim - 1), eta their ratio; ||x|| = 1 */
    double t2 = (double)threshold * threshold;
    double eta = (double)(dim - 1) * t2 / (1.0 - t2);
    return eta < FLT_MAX ? (float)eta : FLT_MAX;
}

void sl_pq_free(sl_pq *pq) {
    if (!pq) return;
    free(pq->centres);
    memset(pq, 0, sizeof *pq);
}

static size_t block_width(const sl_pq *pq, size_t b) {
    size_t j0 = b * pq->dpb;
    return pq->dim - j0 < pq->dpb ? pq->dim - j0 : pq->dpb;
}

void sl_pq_decode(const sl_pq *pq, const uint8_t *codes, float *out) {
    for (size_t b = 0; b < pq->n_blocks; b++) {
        const size_t w = block_width(pq, b);
        const float *c = pq->centres + (b * K + (codes[b] & 15u)) * pq->dpb;
        memcpy(out + b * pq->dpb, c, w * sizeof *out);
    }
}

double sl_ah_loss(const sl_pq *pq, const float *resid, const float *dirs, const uint8_t *codes, size_t n,
                  float eta) {
    const size_t dim = pq->dim, nb = pq->n_blocks;
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        const float *r = resid + i * dim, *u = dirs ? dirs + i * dim : NULL;
        double e2 = 0, par = 0;
        for (size_t b = 0; b < nb; b++) {
            const size_t w = block_width(pq, b), j0 = b * pq->dpb;
            const float *c = pq->centres + (b * K + (codes[i * nb + b] & 15u)) * pq->dpb;
            for (size_t d = 0; d < w; d++) {
                double e = (double)r[j0 + d] - c[d];
                e2 += e * e;
                if (u) par += e * u[j0 + d];
            }
        }
        total += e2 + (u ? ((double)eta - 1.0) * par * par : 0.0);
    }
    return total;
}

/* ---- encoding ---------------------------------------------------------- */

/* The lanes holding the smallest of 16 values, as a bit mask (0 only for
 * NaN input). The choice sits on the chain from one block to the next
 * (through P), so it is built for latency: a min tree, then one compare
 * per lane; never a loop-carried chain through the running best. The SIMD
 * copies have their own (ah_avx2.c, ah_avx512.c). */
static inline unsigned minmask16_plain(const float *f) {
    float t[8];
    for (int j = 0; j < 8; j++) t[j] = f[j + 8] < f[j] ? f[j + 8] : f[j];
    for (int j = 0; j < 4; j++) t[j] = t[j + 4] < t[j] ? t[j + 4] : t[j];
    for (int j = 0; j < 2; j++) t[j] = t[j + 2] < t[j] ? t[j + 2] : t[j];
    const float m = t[1] < t[0] ? t[1] : t[0];
    unsigned mask = 0;
    for (int j = 0; j < K; j++) mask |= (unsigned)(f[j] == m) << j;
    return mask;
}

/* The plain C copy of the encoder: the scalar level and the twin of the
 * SIMD copies. */
#define AH_ENCODE_NAME sl_ah_encode_range_scalar
#define AH_MINMASK16(f) minmask16_plain(f)
#include "ah_encode_body.h"

typedef void (*ah_encode_fn)(const ah_enc_job *job, size_t i0, size_t i1, float *scratch);

static ah_encode_fn pick_encoder(sl_cpu_level level) {
    if (level > sl_cpu()) level = sl_cpu();
#ifndef SL_NO_X86_SIMD
    if (level >= SL_CPU_AVX512) return sl_ah_encode_range_avx512;
    if (level >= SL_CPU_AVX2) return sl_ah_encode_range_avx2;
#endif
    (void)level;
    return sl_ah_encode_range_scalar;
}

typedef struct enc_run {
    ah_enc_job job;
    ah_encode_fn fn;
} enc_run;

static void encode_task(void *ctx, size_t task, int thread) {
    const enc_run *run = ctx;
    const ah_enc_job *job = &run->job;
    const size_t i0 = task * AH_ENC_CHUNK, i1 = SL_MIN(job->n, i0 + AH_ENC_CHUNK);
    run->fn(job, i0, i1, job->scratch + (size_t)thread * AH_LANES * job->E->nb * 2 * K);
}

/* Transposes pq's centres into ct (nb, dpb, 16). */
static void transpose_centres(const sl_pq *pq, float *ct) {
    for (size_t b = 0; b < pq->n_blocks; b++)
        for (size_t j = 0; j < K; j++)
            for (size_t d = 0; d < pq->dpb; d++)
                ct[(b * pq->dpb + d) * K + j] = pq->centres[(b * K + j) * pq->dpb + d];
}

static sl_status check_eta(float eta, const char *who) {
    if (!(eta > 0) || !isfinite(eta)) return sl_fail(SL_ERR_ARG, "%s: eta %g must be finite and positive", who, eta);
    return SL_OK;
}

static sl_status encode_all(sl_cpu_level level, const ah_enc *E, const float *resid, const float *dirs, size_t n,
                            sl_pool *pool, uint8_t *codes, double *par) {
    size_t per_thread;
    if (sl_mul_overflow(E->nb, (size_t)AH_LANES * 2 * K, &per_thread))
        return sl_fail(SL_ERR_LIMIT, "AH encode: too many blocks");
    float *scratch = sl_malloc_array((size_t)sl_pool_threads(pool), per_thread * sizeof *scratch);
    if (!scratch) return sl_fail(SL_ERR_NOMEM, "AH encode: out of memory");
    enc_run run = {{E, resid, dirs, n, codes, par, scratch}, pick_encoder(level)};
    sl_pool_run(pool, n / AH_ENC_CHUNK + (n % AH_ENC_CHUNK != 0), encode_task, &run);
    free(scratch);
    return SL_OK;
}

sl_status sl_ah_encode_level(sl_cpu_level level, const sl_pq *pq, const float *resid, const float *dirs, size_t n,
                             float eta, int passes, sl_pool *pool, uint8_t *codes) {
    if (n == 0) return SL_OK;
    if (!pq || !pq->centres || !pq->dpb || !pq->n_blocks || !resid || !codes)
        return sl_fail(SL_ERR_ARG, "AH encode: NULL argument or empty codebook");
    sl_status st = check_eta(eta, "AH encode");
    if (st) return st;
    size_t cells;
    if (sl_mul_overflow(pq->n_blocks * pq->dpb, K * sizeof(float), &cells))
        return sl_fail(SL_ERR_LIMIT, "AH encode: codebook too large");
    float *ct = sl_malloc_aligned(cells);
    if (!ct) return sl_fail(SL_ERR_NOMEM, "AH encode: out of memory");
    transpose_centres(pq, ct);
    ah_enc E = {pq->dim, pq->dpb, pq->n_blocks, ct, eta - 1.0f, dirs && eta != 1.0f,
                passes < 0 ? AH_DEFAULT_PASSES : passes};
    st = encode_all(level, &E, resid, dirs, n, pool, codes, NULL);
    sl_free_aligned(ct);
    return st;
}

sl_status sl_ah_encode(const sl_pq *pq, const float *resid, const float *dirs, size_t n, float eta, int passes,
                       sl_pool *pool, uint8_t *codes) {
    return sl_ah_encode_level(sl_cpu(), pq, resid, dirs, n, eta, passes, pool, codes);
}

/* ---- the codebook update ------------------------------------------------- */

/* Per chunk of points and per centre of the block being updated:
 *     cnt  = number of points with that code
 *     st   = sum of t
 *     M    = sum of u u^T                      (dpb x dpb, anisotropic only)
 *     v    = sum of (a + t.u) u                (anisotropic only)
 * with a = P_i - (t - c).u the parallel error of the other blocks. The
 * minimizer of sum over the centre's points of ||t - c||^2 + (eta - 1)
 * ((t - c).u + a)^2 solves
 *     [cnt I + (eta - 1) M] c = st + (eta - 1) v. */
typedef struct upd_acc {
    double *cnt; /* (16) */
    double *st;  /* (16, dpb) */
    double *M;   /* (16, dpb, dpb) */
    double *v;   /* (16, dpb) */
    double worst;     /* largest block error of a point */
    size_t worst_at;  /* that point (lowest index on ties) */
} upd_acc;

typedef struct upd_job {
    const float *resid, *dirs; /* (n, dim) */
    size_t n, dim, dpb, nb, b;
    const uint8_t *codes; /* (n, nb) */
    double *par;          /* (n) parallel errors, kept current */
    const float *cb;      /* (16, dpb) block b's centres before the update */
    const float *delta;   /* (16, dpb) block b-1's old - new centres, or NULL */
    float w;              /* eta - 1; 0 when plain */
    int aniso;
    upd_acc *acc; /* (n_chunks) */
} upd_job;

static void upd_task(void *ctx, size_t task, int thread) {
    (void)thread;
    const upd_job *job = ctx;
    const size_t dim = job->dim, dpb = job->dpb, nb = job->nb, b = job->b, j0 = b * dpb;
    const size_t wb = dim - j0 < dpb ? dim - j0 : dpb;
    const size_t i0 = task * AH_UPD_CHUNK, i1 = SL_MIN(job->n, i0 + AH_UPD_CHUNK);
    upd_acc *A = &job->acc[task];
    memset(A->cnt, 0, K * sizeof *A->cnt);
    memset(A->st, 0, K * dpb * sizeof *A->st);
    if (job->aniso) {
        memset(A->M, 0, K * dpb * dpb * sizeof *A->M);
        memset(A->v, 0, K * dpb * sizeof *A->v);
    }
    A->worst = -1;
    A->worst_at = 0;
    for (size_t i = i0; i < i1; i++) {
        /* a block pass reads a few bytes per row, rows apart: fetch ahead,
         * or the pass waits on the cache once per row */
        if (i + AH_PREFETCH < i1) {
            __builtin_prefetch(job->resid + (i + AH_PREFETCH) * dim + j0);
            if (job->aniso) __builtin_prefetch(job->dirs + (i + AH_PREFETCH) * dim + j0);
        }
        const uint8_t *code = job->codes + i * nb;
        const float *t = job->resid + i * dim + j0;
        const float *u = job->aniso ? job->dirs + i * dim + j0 : NULL;
        if (job->aniso && job->delta) {
            /* the previous block's centres moved: bring P_i up to date */
            const size_t p0 = j0 - dpb; /* block b-1 is always full width */
            const float *dl = job->delta + (size_t)code[b - 1] * dpb;
            const float *up = job->dirs + i * dim + p0;
            double dp = 0;
            for (size_t d = 0; d < dpb; d++) dp += (double)dl[d] * up[d];
            job->par[i] += dp;
        }
        const size_t j = code[b] & 15u;
        const float *c = job->cb + j * dpb;
        double *st = A->st + j * dpb;
        A->cnt[j] += 1;
        double e2 = 0, eu = 0, tu = 0;
        for (size_t d = 0; d < wb; d++) {
            double e = (double)t[d] - c[d];
            st[d] += t[d];
            e2 += e * e;
            if (u) {
                eu += e * u[d];
                tu += (double)t[d] * u[d];
            }
        }
        double err = e2;
        if (u) {
            const double a = job->par[i] - eu;
            double *M = A->M + j * dpb * dpb, *v = A->v + j * dpb;
            for (size_t d = 0; d < wb; d++) {
                v[d] += (a + tu) * u[d];
                for (size_t d2 = 0; d2 < wb; d2++) M[d * dpb + d2] += (double)u[d] * u[d2];
            }
            err += job->w * eu * eu;
        }
        if (err > A->worst) {
            A->worst = err;
            A->worst_at = i;
        }
    }
}

/* Solves the symmetric system A x = y of size m (row stride ld) by
 * Cholesky in place; false when A is not numerically positive definite. */
static int solve_spd(double *A, size_t ld, size_t m, double *y) {
    double scale = 0;
    for (size_t d = 0; d < m; d++) scale = SL_MAX(scale, fabs(A[d * ld + d]));
    for (size_t j = 0; j < m; j++) {
        double s = A[j * ld + j];
        for (size_t q = 0; q < j; q++) s -= A[j * ld + q] * A[j * ld + q];
        if (!(s > 1e-12 * scale)) return 0;
        const double l = sqrt(s);
        A[j * ld + j] = l;
        for (size_t i = j + 1; i < m; i++) {
            double t = A[i * ld + j];
            for (size_t q = 0; q < j; q++) t -= A[i * ld + q] * A[j * ld + q];
            A[i * ld + j] = t / l;
        }
    }
    for (size_t i = 0; i < m; i++) { /* L z = y */
        double t = y[i];
        for (size_t q = 0; q < i; q++) t -= A[i * ld + q] * y[q];
        y[i] = t / A[i * ld + i];
    }
    for (size_t i = m; i-- > 0;) { /* L^T x = z */
        double t = y[i];
        for (size_t q = i + 1; q < m; q++) t -= A[q * ld + i] * y[q];
        y[i] = t / A[i * ld + i];
    }
    return 1;
}

/* ---- training ---------------------------------------------------------- */

/* Inf and NaN have an all-ones exponent: an integer OR-reduction over the
 * bits, which the compiler vectorizes (it must not reorder float sums). */
static int all_finite(const float *x, size_t count) {
    uint32_t bad = 0, bits[16];
    size_t i = 0;
    for (; i + 16 <= count; i += 16) { /* fixed trip counts vectorize at -O2 */
        memcpy(bits, x + i, sizeof bits);
        for (int j = 0; j < 16; j++) bad |= (uint32_t)((bits[j] & 0x7f800000u) == 0x7f800000u);
    }
    for (; i < count; i++) {
        memcpy(bits, x + i, sizeof bits[0]);
        bad |= (uint32_t)((bits[0] & 0x7f800000u) == 0x7f800000u);
    }
    return !bad;
}

static uint64_t ah_mix(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static int cmp_size(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* Per-block k-means on a seeded sample: the starting codebooks. */
static sl_status init_codebooks(const float *resid, size_t n, sl_pq *pq, uint64_t seed, sl_pool *pool) {
    const size_t dim = pq->dim, dpb = pq->dpb, m = SL_MIN(n, (size_t)AH_INIT_SAMPLE);
    size_t *idx = NULL;
    /* the sample block-major, (nb, m, dpb) with the last block (m, wb):
     * one pass over the sampled rows, then each block's k-means reads
     * contiguous memory */
    float *blk = sl_malloc_array(m, dim * sizeof *blk), *cen = sl_malloc_array(K, dpb * sizeof *cen);
    sl_status st = SL_OK;
    if (!blk || !cen) goto nomem;
    if (m < n) {
        idx = sl_malloc_array(n, sizeof *idx);
        if (!idx) goto nomem;
        for (size_t i = 0; i < n; i++) idx[i] = i;
        uint64_t s = ah_mix(seed ^ 0xA5A5A5A5ull);
        for (size_t i = 0; i < m; i++) { /* partial Fisher-Yates */
            s = ah_mix(s);
            size_t j = i + (size_t)((double)(s >> 11) * (1.0 / 9007199254740992.0) * (double)(n - i));
            if (j >= n) j = n - 1;
            size_t t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        qsort(idx, m, sizeof *idx, cmp_size);
    }
    for (size_t i = 0; i < m; i++) {
        const float *row = resid + (idx ? idx[i] : i) * dim;
        for (size_t b = 0; b < pq->n_blocks; b++) {
            const size_t wb = block_width(pq, b);
            memcpy(blk + b * m * dpb + i * wb, row + b * dpb, wb * sizeof *blk);
        }
    }
    const size_t k = SL_MIN((size_t)K, m);
    for (size_t b = 0; b < pq->n_blocks && !st; b++) {
        const size_t wb = block_width(pq, b);
        sl_kmeans_opts ko;
        sl_kmeans_opts_init(&ko);
        ko.k = (uint32_t)k;
        ko.seed = ah_mix(seed + b);
        st = sl_kmeans_train(blk + b * m * dpb, m, wb, &ko, pool, cen);
        if (st) break;
        float *out = pq->centres + b * K * dpb; /* zeroed: padding stays 0 */
        /* fewer points than centres: the copies are never chosen (ties go
         * to the lower code) */
        for (size_t j = 0; j < K; j++) memcpy(out + j * dpb, cen + (j % k) * wb, wb * sizeof *out);
    }
    goto done;
nomem:
    st = sl_fail(SL_ERR_NOMEM, "AH train: out of memory");
done:
    free(idx);
    free(blk);
    free(cen);
    return st;
}

sl_status sl_ah_train(const float *resid, const float *dirs, size_t n, size_t dim, size_t dpb, float eta,
                      int iters, uint64_t seed, sl_pool *pool, sl_pq *out) {
    if (!out) return sl_fail(SL_ERR_ARG, "AH train: NULL output");
    memset(out, 0, sizeof *out);
    if (!resid || !n || !dim || !dpb) return sl_fail(SL_ERR_ARG, "AH train: NULL argument or zero size");
    if (dpb > AH_MAX_DPB) return sl_fail(SL_ERR_ARG, "AH train: %zu dimensions per block (max %d)", dpb, AH_MAX_DPB);
    sl_status st = check_eta(eta, "AH train");
    if (st) return st;
    size_t nx, tmp;
    const size_t nb = dim / dpb + (dim % dpb != 0);
    if (sl_mul_overflow(n, dim, &nx) || sl_mul_overflow(nx, sizeof(float), &tmp) ||
        sl_mul_overflow(n, nb, &tmp))
        return sl_fail(SL_ERR_LIMIT, "AH train: %zu x %zu points is too large", n, dim);
    if (!all_finite(resid, nx) || (dirs && !all_finite(dirs, nx)))
        return sl_fail(SL_ERR_ARG, "AH train: a residual or direction is not finite");
    if (iters < 0) iters = AH_DEFAULT_ITERS;

    sl_pq pq = {dim, dpb, nb, sl_calloc_array(nb * K, dpb * sizeof(float))};
    const int aniso = dirs && eta != 1.0f;
    const float w = aniso ? eta - 1.0f : 0.0f;
    const size_t n_chunks = n / AH_UPD_CHUNK + (n % AH_UPD_CHUNK != 0);
    const size_t per_acc = K * (1 + dpb + (aniso ? dpb * dpb + dpb : 0));
    uint8_t *codes = sl_malloc_array(n, nb);
    double *par = aniso ? sl_malloc_array(n, sizeof *par) : NULL;
    float *ct = sl_malloc_aligned(nb * dpb * K * sizeof *ct);
    upd_acc *acc = sl_calloc_array(n_chunks, sizeof *acc);
    double *acc_mem = sl_malloc_array(n_chunks, per_acc * sizeof *acc_mem);
    float *old = sl_malloc_array(K, dpb * sizeof *old), *delta = sl_malloc_array(K, dpb * sizeof *delta);
    if (!pq.centres || !codes || (aniso && !par) || !ct || !acc || !acc_mem || !old || !delta) {
        st = sl_fail(SL_ERR_NOMEM, "AH train: out of memory");
        goto done;
    }
    for (size_t c = 0; c < n_chunks; c++) {
        double *p = acc_mem + c * per_acc;
        acc[c].cnt = p;
        acc[c].st = p + K;
        acc[c].M = aniso ? p + K + K * dpb : NULL;
        acc[c].v = aniso ? p + K + K * dpb + K * dpb * dpb : NULL;
    }
    if ((st = init_codebooks(resid, n, &pq, seed, pool))) goto done;

    for (int round = 0; round < iters; round++) {
        transpose_centres(&pq, ct);
        ah_enc E = {dim, dpb, nb, ct, w, aniso, AH_DEFAULT_PASSES};
        if ((st = encode_all(sl_cpu(), &E, resid, dirs, n, pool, codes, par))) goto done;
        /* blocks in order, each update seeing the ones before it
         * (block coordinate descent: the loss never rises) */
        for (size_t b = 0; b < nb; b++) {
            const size_t wb = block_width(&pq, b);
            float *cb = pq.centres + b * K * dpb;
            memcpy(old, cb, K * dpb * sizeof *old);
            upd_job job = {resid, dirs, n, dim, dpb, nb, b, codes, par, old, b > 0 && aniso ? delta : NULL,
                           w, aniso, acc};
            sl_pool_run(pool, n_chunks, upd_task, &job);
            /* merge the chunks in order (fixed: the same sums for any
             * number of threads) into chunk 0 */
            upd_acc *A = &acc[0];
            for (size_t c = 1; c < n_chunks; c++) {
                const double *src = acc_mem + c * per_acc;
                for (size_t q = 0; q < per_acc; q++) acc_mem[q] += src[q];
                if (acc[c].worst > A->worst) {
                    A->worst = acc[c].worst;
                    A->worst_at = acc[c].worst_at;
                }
            }
            int reseeded = 0;
            for (size_t j = 0; j < K; j++) {
                float *c = cb + j * dpb;
                const double cnt = A->cnt[j];
                if (cnt == 0) {
                    /* unused: onto the worst-served point's target, once
                     * per block and round */
                    if (!reseeded && A->worst > 0) {
                        memcpy(c, resid + A->worst_at * dim + b * dpb, wb * sizeof *c);
                        reseeded = 1;
                    }
                    continue;
                }
                double sys[AH_MAX_DPB * AH_MAX_DPB], y[AH_MAX_DPB];
                int ok = 0;
                if (aniso) {
                    const double *M = A->M + j * dpb * dpb, *v = A->v + j * dpb;
                    for (size_t d = 0; d < wb; d++) {
                        for (size_t d2 = 0; d2 < wb; d2++) sys[d * wb + d2] = w * M[d * dpb + d2];
                        sys[d * wb + d] += cnt;
                        y[d] = A->st[j * dpb + d] + w * v[d];
                    }
                    ok = solve_spd(sys, wb, wb, y);
                }
                if (!ok) /* plain PQ, or a singular system: the mean */
                    for (size_t d = 0; d < wb; d++) y[d] = A->st[j * dpb + d] / cnt;
                for (size_t d = 0; d < wb; d++) c[d] = (float)y[d];
            }
            for (size_t q = 0; q < K * dpb; q++) delta[q] = old[q] - cb[q];
        }
    }
    *out = pq;
    pq.centres = NULL;
done:
    free(pq.centres);
    free(codes);
    free(par);
    sl_free_aligned(ct);
    free(acc);
    free(acc_mem);
    free(old);
    free(delta);
    return st;
}
