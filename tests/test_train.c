/* The training core (src/train/, docs/TRAINING.md): the OpenBLAS GEMM
 * against its plain C twin for every transpose and odd sizes; the
 * gradients of the whole chain (MLP -> L2 norm -> InfoNCE, both towers,
 * the log scale, duplicate captions) against central differences of an
 * independent double-precision implementation, and a deliberately wrong
 * gradient that the same check rejects; dropout's backward; AdamW against
 * a scalar double model; learning on synthetic pairs; bit-identical runs;
 * argument errors. */
#include "testlib.h"
#include "train/adamw.h"
#include "train/dual.h"
#include "train/gemm.h"
#include "train/infonce.h"
#include "train/mlp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rs = 0x747261696e;
static double unif(void) { return (double)(sl_test_rand(&rs) >> 11) / 9007199254740992.0; }
static float sym(void) { return (float)(2.0 * unif() - 1.0); }
static float gauss(void) {
    double u = unif() + 1e-300, v = unif();
    return (float)(sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v));
}
static float *rand_floats(size_t n) {
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++) p[i] = sym();
    return p;
}

/* ---- GEMM ------------------------------------------------------------------- */

static void test_gemm(void) {
    static const size_t sizes[][3] = {{1, 1, 1}, {7, 5, 3}, {1, 9, 13}, {33, 17, 65}, {129, 67, 250}, {64, 256, 31}};
    double worst = 0.0;
    for (int ta = 0; ta <= 1; ta++)
        for (int tb = 0; tb <= 1; tb++)
            for (size_t s = 0; s < SL_ARRAY_LEN(sizes); s++) {
                size_t m = sizes[s][0], n = sizes[s][1], k = sizes[s][2];
                /* padded leading dimensions: the wrapper must honour them */
                size_t lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 2, ldc = n + 5;
                float *a = rand_floats((ta ? k : m) * lda), *b = rand_floats((tb ? n : k) * ldb);
                float *c0 = rand_floats(m * ldc), *c = malloc(m * ldc * sizeof *c), *r = malloc(m * ldc * sizeof *r);
                for (int variant = 0; variant < 2; variant++) {
                    float alpha = variant ? 1.0f : -0.75f, beta = variant ? 0.0f : 0.5f;
                    memcpy(c, c0, m * ldc * sizeof *c);
                    if (beta == 0.0f) c[0] = NAN; /* beta 0 must not read C */
                    memcpy(r, c, m * ldc * sizeof *r);
                    CHECK(sl_gemm_f32(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) == SL_OK);
                    CHECK(sl_gemm_f32_ref(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, r, ldc) == SL_OK);
                    int ok = 1;
                    for (size_t i = 0; i < m; i++) {
                        for (size_t j = 0; j < ldc; j++) {
                            float got = c[i * ldc + j], want = r[i * ldc + j];
                            if (j >= n) { /* padding: untouched */
                                ok &= memcmp(&got, &c0[i * ldc + j], sizeof got) == 0;
                                continue;
                            }
                            /* f32 accumulation of k terms of magnitude <= 1 */
                            double absdot = 0.0;
                            for (size_t p = 0; p < k; p++)
                                absdot += fabs((double)(ta ? a[p * lda + i] : a[i * lda + p]) *
                                               (tb ? b[j * ldb + p] : b[p * ldb + j]));
                            double err = fabs((double)got - want), tol = 4e-7 * (double)(k + 2) * (absdot + 1.0);
                            if (!(err <= tol)) ok = 0;
                            worst = SL_MAX(worst, err / tol);
                        }
                    }
                    CHECK_MSG(ok, "gemm ta %d tb %d m %zu n %zu k %zu alpha %g", ta, tb, m, n, k, (double)alpha);
                }
                free(a);
                free(b);
                free(c0);
                free(c);
                free(r);
            }
    printf("gemm: OpenBLAS vs reference, worst error / tolerance %.3f\n", worst);
    /* k == 0 scales C by beta; m or n 0 does nothing */
    float c2[4] = {1, 2, 3, 4}, dummy = 0.0f;
    CHECK(sl_gemm_f32(0, 0, 2, 2, 0, 1.0f, NULL, 0, NULL, 0, 2.0f, c2, 2) == SL_OK);
    CHECK(c2[0] == 2.0f && c2[3] == 8.0f);
    CHECK(sl_gemm_f32(0, 0, 0, 2, 3, 1.0f, NULL, 0, NULL, 0, 2.0f, NULL, 0) == SL_OK);
    /* argument errors */
    CHECK(sl_gemm_f32(0, 0, 2, 2, 2, 1.0f, NULL, 2, &dummy, 2, 0.0f, c2, 2) == SL_ERR_ARG);
    CHECK(sl_gemm_f32(0, 0, 2, 2, 3, 1.0f, c2, 2, c2, 2, 0.0f, c2, 2) == SL_ERR_ARG);   /* lda < k */
    CHECK(sl_gemm_f32(1, 0, 3, 2, 2, 1.0f, c2, 2, c2, 2, 0.0f, c2, 2) == SL_ERR_ARG);   /* lda < m */
    CHECK(sl_gemm_f32(0, 1, 2, 2, 3, 1.0f, c2, 3, c2, 2, 0.0f, c2, 2) == SL_ERR_ARG);   /* ldb < k */
    CHECK(sl_gemm_f32(0, 0, 2, 3, 2, 1.0f, c2, 2, c2, 3, 0.0f, c2, 2) == SL_ERR_ARG);   /* ldc < n */
    CHECK(sl_gemm_f32(0, 0, 2, 2, (size_t)1 << 32, 1.0f, c2, 2, c2, 2, 0.0f, c2, 2) == SL_ERR_LIMIT);
    CHECK(sl_gemm_f32_ref(0, 0, 2, 2, 3, 1.0f, c2, 2, c2, 2, 0.0f, c2, 2) == SL_ERR_ARG);

    /* Thread counts: the promise is per thread count, so this only reports
     * whether OpenBLAS happened to give the same bits for 1 and 2. */
    size_t m = 256, n = 512, k = 700;
    float *a = rand_floats(m * k), *b = rand_floats(n * k), *c1 = malloc(m * n * 4), *c2b = malloc(m * n * 4);
    sl_gemm_set_threads(1);
    CHECK(sl_gemm_f32(0, 1, m, n, k, 1.0f, a, k, b, k, 0.0f, c1, n) == SL_OK);
    sl_gemm_set_threads(2);
    CHECK(sl_gemm_f32(0, 1, m, n, k, 1.0f, a, k, b, k, 0.0f, c2b, n) == SL_OK);
    float *c3 = malloc(m * n * 4);
    CHECK(sl_gemm_f32(0, 1, m, n, k, 1.0f, a, k, b, k, 0.0f, c3, n) == SL_OK);
    CHECK(memcmp(c2b, c3, m * n * 4) == 0); /* same threads, same bits */
    printf("gemm: 1 and 2 threads give %s bits\n", memcmp(c1, c2b, m * n * 4) ? "different" : "the same");
    sl_gemm_set_threads(1);
    free(a);
    free(b);
    free(c1);
    free(c2b);
    free(c3);
}

/* ---- the double-precision reference chain ------------------------------------ */

typedef struct ref_tower {
    size_t n_dims, dims[5];
    double *w[4], *b[4]; /* W (out, in), b (out) */
} ref_tower;

/* (B, out) unit rows from x (B, in) */
static void ref_embed(const ref_tower *t, const float *x, size_t batch, double *emb) {
    size_t maxd = 0;
    for (size_t i = 0; i < t->n_dims; i++) maxd = SL_MAX(maxd, t->dims[i]);
    double *h = malloc(batch * maxd * sizeof *h), *z = malloc(batch * maxd * sizeof *z);
    for (size_t i = 0; i < batch * t->dims[0]; i++) h[i] = x[i];
    size_t L = t->n_dims - 1;
    for (size_t l = 0; l < L; l++) {
        size_t in = t->dims[l], out = t->dims[l + 1];
        for (size_t i = 0; i < batch; i++)
            for (size_t o = 0; o < out; o++) {
                double s = t->b[l][o];
                for (size_t p = 0; p < in; p++) s += h[i * in + p] * t->w[l][o * in + p];
                z[i * out + o] = (l + 1 < L && s < 0.0) ? 0.0 : s;
            }
        memcpy(h, z, batch * out * sizeof *h);
    }
    size_t d = t->dims[L];
    for (size_t i = 0; i < batch; i++) {
        double n2 = 0.0;
        for (size_t p = 0; p < d; p++) n2 += h[i * d + p] * h[i * d + p];
        double r = sqrt(n2);
        for (size_t p = 0; p < d; p++) emb[i * d + p] = h[i * d + p] / r;
    }
    free(h);
    free(z);
}

static double ref_loss(const ref_tower *ti, const ref_tower *tt, const float *xi, const float *xt,
                       size_t batch, double s, const uint32_t *group) {
    size_t d = ti->dims[ti->n_dims - 1];
    double *u = malloc(batch * d * sizeof *u), *v = malloc(batch * d * sizeof *v), *z = malloc(batch * batch * sizeof *z);
    ref_embed(ti, xi, batch, u);
    ref_embed(tt, xt, batch, v);
    double c = exp(SL_MIN(s, (double)SL_INFONCE_MAX_LOG_SCALE));
    for (size_t i = 0; i < batch; i++)
        for (size_t j = 0; j < batch; j++) {
            double dot = 0.0;
            for (size_t p = 0; p < d; p++) dot += u[i * d + p] * v[j * d + p];
            z[i * batch + j] = c * dot;
        }
    double loss = 0.0;
    for (int dir = 0; dir < 2; dir++)
        for (size_t i = 0; i < batch; i++) {
            /* dir 0: row i; dir 1: column i */
            double sum = 0.0;
            for (size_t j = 0; j < batch; j++) sum += exp(dir ? z[j * batch + i] : z[i * batch + j]);
            double cnt = 0.0;
            for (size_t j = 0; j < batch; j++) cnt += group ? group[i] == group[j] : i == j;
            for (size_t j = 0; j < batch; j++) {
                int pos = group ? group[i] == group[j] : i == j;
                if (pos) loss += (log(sum) - (dir ? z[j * batch + i] : z[i * batch + j])) / cnt;
            }
        }
    free(u);
    free(v);
    free(z);
    return loss / (2.0 * (double)batch);
}

static void ref_from_mlp(sl_mlp *m, ref_tower *t) {
    sl_param p[8];
    size_t n = sl_mlp_params(m, p, 8);
    t->n_dims = n / 2 + 1;
    for (size_t l = 0; l < n / 2; l++) {
        t->dims[l] = p[2 * l].cols;
        t->dims[l + 1] = p[2 * l].rows;
        t->w[l] = malloc(p[2 * l].rows * p[2 * l].cols * sizeof(double));
        t->b[l] = malloc(p[2 * l].rows * sizeof(double));
        for (size_t i = 0; i < p[2 * l].rows * p[2 * l].cols; i++) t->w[l][i] = p[2 * l].value[i];
        for (size_t i = 0; i < p[2 * l].rows; i++) t->b[l][i] = p[2 * l + 1].value[i];
    }
}

static void ref_free(ref_tower *t) {
    for (size_t l = 0; l + 1 < t->n_dims; l++) {
        free(t->w[l]);
        free(t->b[l]);
    }
}

/* max |analytic - numeric| / max |numeric| over a tensor: a scale-aware
 * error that a wrong factor anywhere in the chain moves to that factor */
static double grad_error(const float *analytic, const double *numeric, size_t n, double scale) {
    double worst = 0.0, big = 1e-12;
    for (size_t i = 0; i < n; i++) {
        worst = SL_MAX(worst, fabs(scale * analytic[i] - numeric[i]));
        big = SL_MAX(big, fabs(numeric[i]));
    }
    return worst / big;
}

#define GRAD_TOL 1e-3

/* The chain's analytic gradients through the library's pieces, then each
 * parameter moved by +-h in the double reference. Returns the worst error;
 * *wrong_caught is set when a gradient scaled by 1.02 fails the check in
 * every tensor. */
static double grad_check_chain(const uint32_t *group, float log_scale, int *wrong_caught, double *ds_err) {
    const size_t B = 6, di[] = {5, 7, 4}, dt[] = {6, 8, 5, 4}, D = 4;
    sl_mlp *mi, *mt;
    REQUIRE(sl_mlp_new(di, 3, B, 0.0f, 11, &mi) == SL_OK);
    REQUIRE(sl_mlp_new(dt, 4, B, 0.0f, 12, &mt) == SL_OK);
    float *xi = malloc(B * 5 * sizeof *xi), *xt = malloc(B * 6 * sizeof *xt);
    for (size_t i = 0; i < B * 5; i++) xi[i] = gauss();
    for (size_t i = 0; i < B * 6; i++) xt[i] = gauss();
    /* small nonzero biases, so their gradients are exercised off zero */
    sl_param p[16];
    size_t np = sl_mlp_params(mi, p, 8);
    np += sl_mlp_params(mt, p + np, 8);
    for (size_t t = 0; t < np; t++)
        if (!p[t].decay)
            for (size_t i = 0; i < p[t].rows; i++) p[t].value[i] = 0.1f * sym();

    float ri[6 * 4], rt[6 * 4], u[6 * 4], v[6 * 4], nu[6], nv[6], du[6 * 4], dv[6 * 4], loss, ds;
    REQUIRE(sl_mlp_forward(mi, xi, B, 0, ri) == SL_OK);
    REQUIRE(sl_mlp_forward(mt, xt, B, 0, rt) == SL_OK);
    REQUIRE(sl_l2norm_forward(ri, B, D, u, nu) == SL_OK);
    REQUIRE(sl_l2norm_forward(rt, B, D, v, nv) == SL_OK);
    REQUIRE(sl_infonce(u, v, B, D, log_scale, group, NULL, &loss, du, dv, &ds) == SL_OK);
    REQUIRE(sl_l2norm_backward(u, nu, du, B, D, du) == SL_OK);
    REQUIRE(sl_l2norm_backward(v, nv, dv, B, D, dv) == SL_OK);
    sl_mlp_zero_grad(mi);
    sl_mlp_zero_grad(mt);
    REQUIRE(sl_mlp_backward(mi, du, NULL) == SL_OK);
    REQUIRE(sl_mlp_backward(mt, dv, NULL) == SL_OK);

    ref_tower ti, tt;
    ref_from_mlp(mi, &ti);
    ref_from_mlp(mt, &tt);
    double l0 = ref_loss(&ti, &tt, xi, xt, B, log_scale, group);
    CHECK_MSG(fabs(l0 - loss) <= 1e-5 * (1.0 + fabs(l0)), "loss %g vs double %g", (double)loss, l0);

    const double h = 1e-6;
    double worst = 0.0;
    int caught = 1;
    for (size_t t = 0; t < np; t++) {
        ref_tower *rt_ = t < 4 ? &ti : &tt;
        size_t l = (t < 4 ? t : t - 4) / 2;
        double *dst = p[t].decay ? rt_->w[l] : rt_->b[l];
        size_t n = p[t].rows * p[t].cols;
        double *num = malloc(n * sizeof *num);
        for (size_t i = 0; i < n; i++) {
            double keep = dst[i];
            dst[i] = keep + h;
            double lp = ref_loss(&ti, &tt, xi, xt, B, log_scale, group);
            dst[i] = keep - h;
            double lm = ref_loss(&ti, &tt, xi, xt, B, log_scale, group);
            dst[i] = keep;
            num[i] = (lp - lm) / (2.0 * h);
        }
        double e = grad_error(p[t].grad, num, n, 1.0);
        CHECK_MSG(e < GRAD_TOL, "tensor %zu (%s): error %.3g", t, p[t].name, e);
        worst = SL_MAX(worst, e);
        caught &= grad_error(p[t].grad, num, n, 1.02) > GRAD_TOL;
        free(num);
    }
    double nds = (ref_loss(&ti, &tt, xi, xt, B, (double)log_scale + h, group) -
                  ref_loss(&ti, &tt, xi, xt, B, (double)log_scale - h, group)) / (2.0 * h);
    *ds_err = fabs(ds - nds) / SL_MAX(fabs(nds), 1e-12);
    caught &= fabs(1.02 * ds - nds) / SL_MAX(fabs(nds), 1e-12) > GRAD_TOL;
    *wrong_caught = caught;
    ref_free(&ti);
    ref_free(&tt);
    sl_mlp_free(mi);
    sl_mlp_free(mt);
    free(xi);
    free(xt);
    return worst;
}

static void test_grad_chain(void) {
    static const uint32_t dup[6] = {0, 1, 1, 2, 3, 3}; /* two images with two captions each */
    static const char *what[] = {"distinct pairs", "duplicate captions"};
    for (int g = 0; g < 2; g++) {
        int caught = 0;
        double ds_err = 0.0;
        double e = grad_check_chain(g ? dup : NULL, 1.3f, &caught, &ds_err);
        printf("grad check (%s): worst tensor error %.2e, log scale error %.2e (tolerance %.0e)\n",
               what[g], e, ds_err, GRAD_TOL);
        CHECK(e < GRAD_TOL);
        CHECK_MSG(ds_err < GRAD_TOL, "log scale gradient error %g", ds_err);
        CHECK_MSG(caught, "a gradient scaled by 1.02 was not caught");
    }
}

/* ---- dropout's backward ------------------------------------------------------ */

/* loss = sum r_ij y_ij through a dropout MLP. Each evaluation uses a fresh
 * handle with the same seed, so its first training forward draws the same
 * masks; y is piecewise linear in any single weight, so a large step is
 * exact as long as no ReLU flips. */
static double dropout_loss(const size_t *dims, size_t nd, const sl_param *base, size_t np, size_t t,
                           size_t i, float delta, const float *x, const float *r, size_t B) {
    sl_mlp *m;
    REQUIRE(sl_mlp_new(dims, nd, B, 0.4f, 99, &m) == SL_OK);
    sl_param p[8];
    sl_mlp_params(m, p, 8);
    for (size_t k = 0; k < np; k++) memcpy(p[k].value, base[k].value, p[k].rows * p[k].cols * sizeof(float));
    p[t].value[i] += delta;
    float y[4 * 3];
    REQUIRE(sl_mlp_forward(m, x, B, 1, y) == SL_OK);
    double s = 0.0;
    for (size_t k = 0; k < B * dims[nd - 1]; k++) s += (double)r[k] * y[k];
    sl_mlp_free(m);
    return s;
}

static void test_dropout(void) {
    const size_t dims[] = {5, 9, 9, 3}, B = 4;
    float x[4 * 5], r[4 * 3], y1[4 * 3], y2[4 * 3], y3[4 * 3], dx[4 * 5];
    for (size_t i = 0; i < B * 5; i++) x[i] = gauss();
    for (size_t i = 0; i < B * 3; i++) r[i] = gauss();
    sl_mlp *m, *plain;
    REQUIRE(sl_mlp_new(dims, 4, B, 0.4f, 99, &m) == SL_OK);
    REQUIRE(sl_mlp_new(dims, 4, B, 0.0f, 99, &plain) == SL_OK);
    /* evaluation: no dropout, same bits twice, and the same as a handle
     * without dropout (the init stream does not depend on it) */
    REQUIRE(sl_mlp_forward(m, x, B, 0, y1) == SL_OK);
    REQUIRE(sl_mlp_forward(m, x, B, 0, y2) == SL_OK);
    REQUIRE(sl_mlp_forward(plain, x, B, 1, y3) == SL_OK); /* train without dropout = eval */
    CHECK(memcmp(y1, y2, sizeof y1) == 0);
    CHECK(memcmp(y1, y3, sizeof y1) == 0);

    sl_param base[8];
    size_t np = sl_mlp_params(m, base, 8);
    float first[4 * 3];
    REQUIRE(sl_mlp_forward(m, x, B, 1, first) == SL_OK);
    sl_mlp_zero_grad(m);
    REQUIRE(sl_mlp_backward(m, r, dx) == SL_OK);
    CHECK(memcmp(first, y1, sizeof y1) != 0); /* masks changed the output */
    REQUIRE(sl_mlp_forward(m, x, B, 1, y2) == SL_OK);
    CHECK(memcmp(first, y2, sizeof y2) != 0); /* fresh masks each training forward */
    /* the handle's weights were not changed by forwards: FD from them */
    double worst = 0.0;
    for (size_t t = 0; t < np; t++) {
        size_t n = base[t].rows * base[t].cols;
        double *num = malloc(n * sizeof *num);
        for (size_t i = 0; i < n; i++) {
            const float h = 1e-2f;
            num[i] = (dropout_loss(dims, 4, base, np, t, i, h, x, r, B) -
                      dropout_loss(dims, 4, base, np, t, i, -h, x, r, B)) / (2.0 * h);
        }
        double e = grad_error(base[t].grad, num, n, 1.0);
        worst = SL_MAX(worst, e);
        CHECK_MSG(e < 1e-3, "dropout tensor %s: error %g", base[t].name, e);
        free(num);
    }
    /* dL/dx by the same differences */
    double numx[4 * 5], bigx = 1e-12, wx = 0.0;
    for (size_t i = 0; i < B * 5; i++) {
        float keep = x[i];
        x[i] = keep + 1e-2f;
        double lp = dropout_loss(dims, 4, base, np, 0, 0, 0.0f, x, r, B);
        x[i] = keep - 1e-2f;
        double lm = dropout_loss(dims, 4, base, np, 0, 0, 0.0f, x, r, B);
        x[i] = keep;
        numx[i] = (lp - lm) / 2e-2;
        bigx = SL_MAX(bigx, fabs(numx[i]));
    }
    for (size_t i = 0; i < B * 5; i++) wx = SL_MAX(wx, fabs(dx[i] - numx[i]));
    CHECK_MSG(wx / bigx < 1e-3, "dropout dL/dx error %g", wx / bigx);
    printf("dropout backward: worst tensor error %.2e, input error %.2e\n", worst, wx / bigx);
    sl_mlp_free(m);
    sl_mlp_free(plain);
}

/* ---- smaller pieces ---------------------------------------------------------- */

static void test_l2norm_infonce(void) {
    float x[2 * 3] = {0, 0, 0, 3, 4, 0}, y[6], nrm[2], dy[6] = {1, 1, 1, 1, 1, 1}, dx[6];
    CHECK(sl_l2norm_forward(x, 2, 3, y, nrm) == SL_OK);
    CHECK(y[0] == 0.0f && y[1] == 0.0f && fabsf(y[3] - 0.6f) < 1e-7f && fabsf(nrm[1] - 5.0f) < 1e-6f);
    CHECK(sl_l2norm_backward(y, nrm, dy, 2, 3, dx) == SL_OK);
    CHECK(isfinite(dx[0]) && isfinite(dx[5]));
    CHECK(sl_l2norm_forward(NULL, 2, 3, y, nrm) == SL_ERR_ARG);
    CHECK(sl_l2norm_forward(x, 2, 0, y, nrm) == SL_ERR_ARG);

    /* all-distinct groups give CLIP's loss exactly; aligned pairs at the
     * cap give a small loss without overflow */
    const size_t B = 8, D = 8;
    float u[8 * 8] = {0}, v[8 * 8] = {0}, loss1, loss2, ds1, ds2, du1[64], du2[64];
    for (size_t i = 0; i < B; i++) u[i * D + i] = v[i * D + i] = 1.0f;
    uint32_t ids[8] = {10, 11, 12, 13, 14, 15, 16, 17};
    CHECK(sl_infonce(u, v, B, D, 1.0f, NULL, NULL, &loss1, du1, NULL, &ds1) == SL_OK);
    CHECK(sl_infonce(u, v, B, D, 1.0f, ids, NULL, &loss2, du2, NULL, &ds2) == SL_OK);
    CHECK(loss1 == loss2 && ds1 == ds2 && memcmp(du1, du2, sizeof du1) == 0);
    /* loss = log(e^c + 7) - c with c = e */
    double c = exp(1.0);
    CHECK(fabs(loss1 - (log(exp(c) + 7.0) - c)) < 1e-5);
    CHECK(sl_infonce(u, v, B, D, 50.0f, NULL, NULL, &loss1, du1, NULL, &ds1) == SL_OK);
    CHECK(isfinite(loss1) && loss1 < 1e-30f + 1e-6f && ds1 == 0.0f); /* clamped: c = 100 */
    float loss3;
    CHECK(sl_infonce(u, v, B, D, SL_INFONCE_MAX_LOG_SCALE, NULL, NULL, &loss3, NULL, NULL, NULL) == SL_OK);
    CHECK(fabsf(loss3 - loss1) < 1e-6f);
    /* opposite pairs at the cap: huge logits, finite loss of about 2 c */
    for (size_t i = 0; i < B * D; i++) v[i] = -u[i];
    CHECK(sl_infonce(u, v, B, D, 4.6f, NULL, NULL, &loss1, du1, NULL, &ds1) == SL_OK);
    CHECK(isfinite(loss1) && loss1 > 90.0f && isfinite(ds1));
    CHECK(sl_infonce(u, v, B, D, NAN, NULL, NULL, &loss1, NULL, NULL, NULL) == SL_ERR_ARG);
    CHECK(sl_infonce(u, v, 0, D, 1.0f, NULL, NULL, &loss1, NULL, NULL, NULL) == SL_ERR_ARG);
    CHECK(sl_infonce(u, NULL, B, D, 1.0f, NULL, NULL, &loss1, NULL, NULL, NULL) == SL_ERR_ARG);
    CHECK(sl_infonce_work_size(8) == 2 * 64 + 16);
    CHECK(sl_infonce_work_size(SIZE_MAX / 2) == 0);
}

/* AdamW against PyTorch's formula in double, decay on one tensor only,
 * clipping, and pool sizes giving the same bits. */
static void test_adamw(void) {
    float w[3] = {0.5f, -1.0f, 2.0f}, g[3], b[2] = {0.25f, -0.5f}, gb[2];
    double wd[3] = {0.5, -1.0, 2.0}, bd[2] = {0.25, -0.5}, mw[3] = {0}, vw[3] = {0}, mb[2] = {0}, vb[2] = {0};
    sl_param p[2] = {{"w", w, g, 1, 3, 1}, {"b", b, gb, 2, 1, 0}};
    sl_adamw_opts o;
    sl_adamw_opts_init(&o);
    o.weight_decay = 0.1f;
    sl_adamw *a;
    REQUIRE(sl_adamw_new(p, 2, &o, &a) == SL_OK);
    const double lr = 0.01;
    double worst = 0.0;
    for (int t = 1; t <= 5; t++) {
        for (int i = 0; i < 3; i++) g[i] = (float)(0.3 * i - 0.2 + 0.05 * t);
        for (int i = 0; i < 2; i++) gb[i] = (float)(0.7 - 0.4 * i * t);
        CHECK(sl_adamw_step(a, (float)lr, NULL, NULL) == SL_OK);
        for (int k = 0; k < 5; k++) {
            double *x = k < 3 ? &wd[k] : &bd[k - 3], *m = k < 3 ? &mw[k] : &mb[k - 3],
                   *v = k < 3 ? &vw[k] : &vb[k - 3], gg = k < 3 ? g[k] : gb[k - 3];
            if (k < 3) *x *= 1.0 - lr * 0.1; /* decay on the weight only */
            *m = 0.9 * *m + 0.1 * gg;
            *v = 0.999 * *v + 0.001 * gg * gg;
            double mh = *m / (1.0 - pow(0.9, t)), vh = *v / (1.0 - pow(0.999, t));
            *x -= lr * mh / (sqrt(vh) + 1e-8);
            float got = k < 3 ? w[k] : b[k - 3];
            worst = SL_MAX(worst, fabs(got - *x));
        }
    }
    CHECK_MSG(worst < 1e-6, "adamw vs double: %g", worst);
    CHECK(sl_adamw_steps(a) == 5);
    /* a NaN gradient: refused, nothing moves */
    float before[3];
    memcpy(before, w, sizeof w);
    g[1] = NAN;
    CHECK(sl_adamw_step(a, 0.01f, NULL, NULL) == SL_ERR_CORRUPT);
    CHECK(memcmp(before, w, sizeof w) == 0 && sl_adamw_steps(a) == 5);
    CHECK(sl_adamw_step(a, -1.0f, NULL, NULL) == SL_ERR_ARG);
    sl_adamw_free(a);

    /* clipping: the first step of Adam moves each weight by about lr in
     * the sign of its gradient whatever the scale, so check the norm and
     * that clipped and unclipped runs differ from step 2 */
    o.clip_norm = 1.0f;
    o.weight_decay = 0.0f;
    float w2[3] = {0}, g2[3] = {3, 4, 0};
    sl_param p2 = {"w", w2, g2, 3, 1, 1};
    REQUIRE(sl_adamw_new(&p2, 1, &o, &a) == SL_OK);
    float norm = 0.0f;
    CHECK(sl_adamw_step(a, 0.1f, NULL, &norm) == SL_OK);
    CHECK(fabsf(norm - 5.0f) < 1e-6f);
    CHECK(memcmp(g2, (float[3]){3, 4, 0}, sizeof g2) == 0); /* gradients left as they were */
    sl_adamw_free(a);

    /* pools of 1 and 2 threads: same bits over many chunks */
    size_t n = 100003;
    float *wa = rand_floats(n), *wb = malloc(n * 4), *ga = rand_floats(n);
    memcpy(wb, wa, n * 4);
    sl_param pa = {"a", wa, ga, n, 1, 1}, pb = {"b", wb, ga, n, 1, 1};
    sl_adamw *a1, *a2;
    sl_pool *pool;
    REQUIRE(sl_pool_new(2, &pool) == SL_OK);
    o.clip_norm = 10.0f;
    REQUIRE(sl_adamw_new(&pa, 1, &o, &a1) == SL_OK);
    REQUIRE(sl_adamw_new(&pb, 1, &o, &a2) == SL_OK);
    float n1, n2;
    for (int t = 0; t < 3; t++) {
        CHECK(sl_adamw_step(a1, 0.01f, NULL, &n1) == SL_OK);
        CHECK(sl_adamw_step(a2, 0.01f, pool, &n2) == SL_OK);
        CHECK(n1 == n2);
    }
    CHECK(memcmp(wa, wb, n * 4) == 0);
    sl_adamw_free(a1);
    sl_adamw_free(a2);
    sl_pool_free(pool);
    free(wa);
    free(wb);
    free(ga);
    /* option errors */
    sl_adamw_opts_init(&o);
    o.beta1 = 1.0f;
    CHECK(sl_adamw_new(p, 2, &o, &a) == SL_ERR_ARG && a == NULL);
    sl_adamw_opts_init(&o);
    o.eps = 0.0f;
    CHECK(sl_adamw_new(p, 2, &o, &a) == SL_ERR_ARG);
    CHECK(sl_adamw_new(p, 0, NULL, &a) == SL_ERR_ARG);
    sl_param bad = {"x", NULL, g, 1, 1, 0};
    CHECK(sl_adamw_new(&bad, 1, NULL, &a) == SL_ERR_ARG);
}

/* ---- training on synthetic pairs -------------------------------------------- */

/* Pairs that share a hidden 12-d cause: image features = A z + noise,
 * text features = B z + noise, through different random maps, so the heads
 * have to learn to undo both. */
typedef struct synth {
    size_t n, di, dt;
    float *img, *txt;
} synth;

static synth make_synth(size_t n, uint64_t seed) {
    const size_t k = 12, di = 40, dt = 30;
    uint64_t keep = rs;
    rs = 0x5eed0000 + 7; /* the same maps for every set */
    float *A = malloc(di * k * 4), *Bm = malloc(dt * k * 4);
    for (size_t i = 0; i < di * k; i++) A[i] = gauss() / sqrtf((float)k);
    for (size_t i = 0; i < dt * k; i++) Bm[i] = gauss() / sqrtf((float)k);
    rs = seed;
    synth s = {n, di, dt, malloc(n * di * 4), malloc(n * dt * 4)};
    float z[12];
    for (size_t i = 0; i < n; i++) {
        for (size_t p = 0; p < k; p++) z[p] = gauss();
        for (size_t r = 0; r < di; r++) {
            float acc = 0.3f * gauss();
            for (size_t p = 0; p < k; p++) acc += A[r * k + p] * z[p];
            s.img[i * di + r] = acc;
        }
        for (size_t r = 0; r < dt; r++) {
            float acc = 0.3f * gauss();
            for (size_t p = 0; p < k; p++) acc += Bm[r * k + p] * z[p];
            s.txt[i * dt + r] = acc;
        }
    }
    free(A);
    free(Bm);
    rs = keep;
    return s;
}

/* text -> image recall@1 over the whole set */
static double recall1(sl_dual *d, const synth *s) {
    size_t D = sl_dual_dim(d);
    float *ei = malloc(s->n * D * 4), *et = malloc(s->n * D * 4);
    REQUIRE(sl_dual_embed(d, SL_TOWER_IMAGE, s->img, s->n, ei) == SL_OK);
    REQUIRE(sl_dual_embed(d, SL_TOWER_TEXT, s->txt, s->n, et) == SL_OK);
    size_t hits = 0;
    for (size_t q = 0; q < s->n; q++) {
        size_t best = 0;
        float bs = -INFINITY;
        for (size_t i = 0; i < s->n; i++) {
            float dot = 0.0f;
            for (size_t p = 0; p < D; p++) dot += et[q * D + p] * ei[i * D + p];
            if (dot > bs) {
                bs = dot;
                best = i;
            }
        }
        hits += best == q;
    }
    free(ei);
    free(et);
    return (double)hits / (double)s->n;
}

static void dual_opts(sl_dual_opts *o, int threads, float dropout, uint64_t seed) {
    sl_dual_opts_init(o);
    size_t di[] = {40, 64, 32}, dt[] = {30, 64, 32};
    memcpy(o->image_dims, di, sizeof di);
    memcpy(o->text_dims, dt, sizeof dt);
    o->image_n_dims = o->text_n_dims = 3;
    o->max_batch = 64;
    o->threads = threads;
    o->dropout = dropout;
    o->seed = seed;
}

/* epochs over `train` in a seeded shuffled order; returns the mean loss of
 * the last epoch */
static double run_epochs(sl_dual *d, const synth *s, int epochs, uint64_t order_seed, float *first_loss) {
    size_t *idx = malloc(s->n * sizeof *idx);
    float *bi = malloc(64 * s->di * 4), *bt = malloc(64 * s->dt * 4);
    uint64_t st = order_seed;
    double last = 0.0;
    for (int e = 0; e < epochs; e++) {
        for (size_t i = 0; i < s->n; i++) idx[i] = i;
        for (size_t i = s->n - 1; i > 0; i--) {
            size_t j = sl_test_rand(&st) % (i + 1), t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        double sum = 0.0;
        size_t steps = 0;
        for (size_t b0 = 0; b0 + 64 <= s->n; b0 += 64) {
            for (size_t r = 0; r < 64; r++) {
                memcpy(bi + r * s->di, s->img + idx[b0 + r] * s->di, s->di * 4);
                memcpy(bt + r * s->dt, s->txt + idx[b0 + r] * s->dt, s->dt * 4);
            }
            sl_dual_stats stats;
            REQUIRE(sl_dual_step(d, bi, bt, NULL, 64, 3e-3f, &stats) == SL_OK);
            if (e == 0 && b0 == 0 && first_loss) *first_loss = stats.loss;
            sum += stats.loss;
            steps++;
        }
        last = sum / (double)steps;
    }
    free(idx);
    free(bi);
    free(bt);
    return last;
}

static void test_learns(void) {
    synth train = make_synth(1024, 1), test = make_synth(256, 2);
    sl_dual_opts o;
    dual_opts(&o, 1, 0.0f, 5);
    sl_dual *d;
    REQUIRE(sl_dual_new(&o, &d) == SL_OK);
    double r0 = recall1(d, &test);
    float l0 = 0.0f, ev0, ev1;
    REQUIRE(sl_dual_eval_loss(d, test.img, test.txt, NULL, 64, &ev0) == SL_OK);
    double last = run_epochs(d, &train, 30, 77, &l0);
    REQUIRE(sl_dual_eval_loss(d, test.img, test.txt, NULL, 64, &ev1) == SL_OK);
    double r1 = recall1(d, &test);
    printf("synthetic pairs: train loss %.3f -> %.3f, held-out loss (64) %.3f -> %.3f, "
           "R@1 of 256 %.1f%% -> %.1f%%, log scale %.3f\n",
           (double)l0, last, (double)ev0, (double)ev1, 100 * r0, 100 * r1, (double)sl_dual_log_scale(d));
    CHECK(last < 0.5 * l0);
    CHECK(ev1 < 0.5 * ev0);
    CHECK(r1 > 0.5 && r1 > r0 + 0.3);
    sl_dual_free(d);
    free(train.img);
    free(train.txt);
    free(test.img);
    free(test.txt);
}

static int same_weights(sl_dual *a, sl_dual *b) {
    int same = sl_dual_log_scale(a) == sl_dual_log_scale(b);
    for (int t = 0; t < 2; t++) {
        sl_param pa[8], pb[8];
        size_t n = sl_mlp_params(sl_dual_tower(a, (sl_tower)t), pa, 8);
        sl_mlp_params(sl_dual_tower(b, (sl_tower)t), pb, 8);
        for (size_t i = 0; i < n; i++)
            same &= memcmp(pa[i].value, pb[i].value, pa[i].rows * pa[i].cols * 4) == 0;
    }
    return same;
}

static void test_determinism(void) {
    synth s = make_synth(256, 3);
    sl_dual *d[4];
    sl_dual_opts o;
    for (int r = 0; r < 4; r++) {
        /* runs 0, 1: same seed, 2 threads; run 2: another seed; run 3: 1 thread */
        dual_opts(&o, r == 3 ? 1 : 2, 0.2f, r == 2 ? 8 : 7);
        REQUIRE(sl_dual_new(&o, &d[r]) == SL_OK);
        run_epochs(d[r], &s, 3, 5, NULL);
    }
    CHECK(same_weights(d[0], d[1]));
    CHECK(!same_weights(d[0], d[2]));
    printf("determinism: same seed and threads identical; 1 vs 2 threads %s\n",
           same_weights(d[0], d[3]) ? "identical too" : "differ (allowed)");
    for (int r = 0; r < 4; r++) sl_dual_free(d[r]);
    free(s.img);
    free(s.txt);
}

/* ---- argument errors ----------------------------------------------------------- */

static void test_errors(void) {
    sl_mlp *m = (sl_mlp *)&m;
    size_t dims[] = {4, 3, 2}, zero[] = {4, 0, 2}, huge[] = {4, (size_t)SL_MLP_MAX_DIM + 1};
    CHECK(sl_mlp_new(NULL, 3, 4, 0.0f, 1, &m) == SL_ERR_ARG && m == NULL);
    CHECK(sl_mlp_new(dims, 1, 4, 0.0f, 1, &m) == SL_ERR_ARG);
    CHECK(sl_mlp_new(dims, SL_MLP_MAX_LAYERS + 2, 4, 0.0f, 1, &m) == SL_ERR_ARG);
    CHECK(sl_mlp_new(zero, 3, 4, 0.0f, 1, &m) == SL_ERR_ARG);
    CHECK(sl_mlp_new(huge, 2, 4, 0.0f, 1, &m) == SL_ERR_LIMIT);
    CHECK(sl_mlp_new(dims, 3, 0, 0.0f, 1, &m) == SL_ERR_ARG);
    CHECK(sl_mlp_new(dims, 3, 4, 1.0f, 1, &m) == SL_ERR_ARG);
    CHECK(sl_mlp_new(dims, 3, 4, NAN, 1, &m) == SL_ERR_ARG);
    CHECK(sl_mlp_new(dims, 3, 4, -0.1f, 1, &m) == SL_ERR_ARG);
    REQUIRE(sl_mlp_new(dims, 3, 4, 0.0f, 1, &m) == SL_OK);
    CHECK(sl_mlp_in(m) == 4 && sl_mlp_out(m) == 2 && sl_mlp_layers(m) == 2);
    float x[5 * 4] = {0}, y[5 * 2];
    sl_param p[4];
    CHECK(sl_mlp_params(m, p, 3) == 0 && sl_mlp_params(m, p, 4) == 4);
    CHECK(p[0].rows == 3 && p[0].cols == 4 && p[0].decay && !p[1].decay && strcmp(p[3].name, "layer1.bias") == 0);
    CHECK(sl_mlp_backward(m, y, NULL) == SL_ERR_STATE);
    CHECK(sl_mlp_forward(m, x, 5, 0, y) == SL_ERR_ARG);
    CHECK(sl_mlp_forward(m, x, 0, 0, y) == SL_ERR_ARG);
    CHECK(sl_mlp_forward(m, NULL, 2, 0, y) == SL_ERR_ARG);
    CHECK(sl_mlp_forward(m, x, 2, 0, y) == SL_OK);
    CHECK(sl_mlp_backward(m, NULL, NULL) == SL_ERR_ARG);
    sl_mlp_free(m);
    sl_mlp_free(NULL);

    sl_dual_opts o;
    sl_dual *d = (sl_dual *)&d;
    dual_opts(&o, 1, 0.0f, 1);
    o.text_dims[2] = 16; /* heads end in different sizes */
    CHECK(sl_dual_new(&o, &d) == SL_ERR_ARG && d == NULL);
    dual_opts(&o, 0, 0.0f, 1);
    CHECK(sl_dual_new(&o, &d) == SL_ERR_ARG);
    dual_opts(&o, 1, 0.0f, 1);
    o.max_batch = 1;
    CHECK(sl_dual_new(&o, &d) == SL_ERR_ARG);
    dual_opts(&o, 1, 0.0f, 1);
    REQUIRE(sl_dual_new(&o, &d) == SL_OK);
    float *fi = calloc(65 * 40, 4), *ft = calloc(65 * 30, 4), loss;
    CHECK(sl_dual_step(d, fi, ft, NULL, 1, 1e-3f, NULL) == SL_ERR_ARG);
    CHECK(sl_dual_step(d, fi, ft, NULL, 65, 1e-3f, NULL) == SL_ERR_ARG);
    CHECK(sl_dual_step(d, fi, NULL, NULL, 8, 1e-3f, NULL) == SL_ERR_ARG);
    CHECK(sl_dual_step(d, fi, ft, NULL, 8, NAN, NULL) == SL_ERR_ARG);
    CHECK(sl_dual_eval_loss(d, fi, ft, NULL, 0, &loss) == SL_ERR_ARG);
    CHECK(sl_dual_embed(d, (sl_tower)2, fi, 1, ft) == SL_ERR_ARG);
    CHECK(sl_dual_tower(d, (sl_tower)2) == NULL);
    sl_dual_set_log_scale(d, 9.0f);
    CHECK(sl_dual_log_scale(d) == SL_INFONCE_MAX_LOG_SCALE);
    /* a step with all-zero features still works (zero rows normalize to 0) */
    CHECK(sl_dual_step(d, fi, ft, NULL, 8, 1e-3f, NULL) == SL_OK);
    sl_dual_free(d);
    sl_dual_free(NULL);
    free(fi);
    free(ft);
}

int main(void) {
    test_gemm();
    test_grad_chain();
    test_dropout();
    test_l2norm_infonce();
    test_adamw();
    test_learns();
    test_determinism();
    test_errors();
    return sl_test_summary();
}
