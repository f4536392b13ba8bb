/* The projection-head MLP: forward with cached activations, backward into
 * gradient buffers, and inverted dropout (mlp.h). */
#include "train/mlp.h"

#include "train/gemm.h"
#include "train/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct sl_mlp {
    size_t n_layers;
    size_t dims[SL_MLP_MAX_LAYERS + 1];
    size_t max_batch, max_dim;
    float dropout;
    uint64_t rng;                    /* dropout stream; init used the same seed */
    float *w[SL_MLP_MAX_LAYERS];     /* (dims[l+1], dims[l]) */
    float *b[SL_MLP_MAX_LAYERS];     /* (dims[l+1]) */
    float *gw[SL_MLP_MAX_LAYERS];    /* like w */
    float *gb[SL_MLP_MAX_LAYERS];    /* like b */
    float *act[SL_MLP_MAX_LAYERS];   /* act[0] (max_batch, dims[0]): the input copy;
                                        act[l] (max_batch, dims[l]): hidden output
                                        after ReLU and dropout */
    float *scratch[2];               /* (max_batch, max_dim): backward ping-pong */
    double *colsum;                  /* (max_dim): bias gradient of one batch */
    size_t batch;                    /* rows of the latest forward, 0 = none */
    float keep_scale;                /* 1 / (1 - p) of the latest forward, or 1 */
};

static const char *const k_names[2 * SL_MLP_MAX_LAYERS] = {
    "layer0.weight", "layer0.bias", "layer1.weight", "layer1.bias", "layer2.weight",
    "layer2.bias",   "layer3.weight", "layer3.bias", "layer4.weight", "layer4.bias",
    "layer5.weight", "layer5.bias", "layer6.weight", "layer6.bias", "layer7.weight",
    "layer7.bias"};

void sl_mlp_free(sl_mlp *m) {
    if (!m) return;
    for (size_t l = 0; l < SL_MLP_MAX_LAYERS; l++) {
        sl_free_aligned(m->w[l]);
        sl_free_aligned(m->b[l]);
        sl_free_aligned(m->gw[l]);
        sl_free_aligned(m->gb[l]);
        sl_free_aligned(m->act[l]);
    }
    sl_free_aligned(m->scratch[0]);
    sl_free_aligned(m->scratch[1]);
    free(m->colsum);
    free(m);
}

static float *alloc_floats(size_t a, size_t b, int *fail) {
    size_t n, bytes;
    if (sl_mul_overflow(a, b, &n) || sl_mul_overflow(n, sizeof(float), &bytes)) {
        *fail = 1;
        return NULL;
    }
    float *p = sl_malloc_aligned(bytes);
    if (!p) *fail = 1;
    else memset(p, 0, bytes);
    return p;
}

sl_status sl_mlp_new(const size_t *dims, size_t n_dims, size_t max_batch, float dropout,
                     uint64_t seed, sl_mlp **out) {
    if (out) *out = NULL;
    if (!dims || !out) return sl_fail(SL_ERR_ARG, "mlp: NULL argument");
    if (n_dims < 2 || n_dims > SL_MLP_MAX_LAYERS + 1)
        return sl_fail(SL_ERR_ARG, "mlp: %zu dims (want 2..%d)", n_dims, SL_MLP_MAX_LAYERS + 1);
    if (max_batch == 0) return sl_fail(SL_ERR_ARG, "mlp: max_batch 0");
    /* !(x >= 0) also refuses NaN */
    if (!(dropout >= 0.0f) || !(dropout < 1.0f))
        return sl_fail(SL_ERR_ARG, "mlp: dropout %g outside [0, 1)", (double)dropout);
    size_t max_dim = 0;
    for (size_t i = 0; i < n_dims; i++) {
        if (dims[i] == 0) return sl_fail(SL_ERR_ARG, "mlp: dims[%zu] is 0", i);
        if (dims[i] > SL_MLP_MAX_DIM)
            return sl_fail(SL_ERR_LIMIT, "mlp: dims[%zu] %zu above %d", i, dims[i], SL_MLP_MAX_DIM);
        max_dim = SL_MAX(max_dim, dims[i]);
    }
    sl_mlp *m = calloc(1, sizeof *m);
    if (!m) return sl_fail(SL_ERR_NOMEM, "mlp: out of memory");
    m->n_layers = n_dims - 1;
    memcpy(m->dims, dims, n_dims * sizeof *dims);
    m->max_batch = max_batch;
    m->max_dim = max_dim;
    m->dropout = dropout;
    m->keep_scale = 1.0f;
    int fail = 0;
    for (size_t l = 0; l < m->n_layers; l++) {
        m->w[l] = alloc_floats(dims[l + 1], dims[l], &fail);
        m->gw[l] = alloc_floats(dims[l + 1], dims[l], &fail);
        m->b[l] = alloc_floats(dims[l + 1], 1, &fail);
        m->gb[l] = alloc_floats(dims[l + 1], 1, &fail);
        m->act[l] = alloc_floats(max_batch, dims[l], &fail);
    }
    m->scratch[0] = alloc_floats(max_batch, max_dim, &fail);
    m->scratch[1] = alloc_floats(max_batch, max_dim, &fail);
    m->colsum = sl_malloc_array(max_dim, sizeof(double));
    if (fail || !m->colsum) {
        sl_mlp_free(m);
        return sl_fail(SL_ERR_NOMEM, "mlp: out of memory (batch %zu, widest %zu)", max_batch, max_dim);
    }
    uint64_t rng = seed;
    for (size_t l = 0; l < m->n_layers; l++) {
        int relu_after = l + 1 < m->n_layers;
        /* He keeps the variance of a ReLU layer's output equal to its
         * input's (ReLU halves it); the last layer has no ReLU, so the
         * variance-preserving bound is LeCun's. */
        float bound = sqrtf((relu_after ? 6.0f : 3.0f) / (float)dims[l]);
        size_t n = dims[l + 1] * dims[l];
        for (size_t i = 0; i < n; i++) m->w[l][i] = (2.0f * sl_rng_unit(&rng) - 1.0f) * bound;
    }
    /* the dropout stream continues from a different point of the seed's
     * sequence than the init, so the masks are not the weights' draws */
    m->rng = seed ^ 0xd1b54a32d192ed03ull;
    *out = m;
    return SL_OK;
}

size_t sl_mlp_in(const sl_mlp *m) { return m ? m->dims[0] : 0; }
size_t sl_mlp_out(const sl_mlp *m) { return m ? m->dims[m->n_layers] : 0; }
size_t sl_mlp_layers(const sl_mlp *m) { return m ? m->n_layers : 0; }

size_t sl_mlp_params(sl_mlp *m, sl_param *params, size_t cap) {
    if (!m || !params || cap < 2 * m->n_layers) return 0;
    for (size_t l = 0; l < m->n_layers; l++) {
        params[2 * l] = (sl_param){k_names[2 * l], m->w[l], m->gw[l], m->dims[l + 1], m->dims[l], 1};
        params[2 * l + 1] = (sl_param){k_names[2 * l + 1], m->b[l], m->gb[l], m->dims[l + 1], 1, 0};
    }
    return 2 * m->n_layers;
}

void sl_mlp_zero_grad(sl_mlp *m) {
    if (!m) return;
    for (size_t l = 0; l < m->n_layers; l++) {
        memset(m->gw[l], 0, m->dims[l + 1] * m->dims[l] * sizeof(float));
        memset(m->gb[l], 0, m->dims[l + 1] * sizeof(float));
    }
}

sl_status sl_mlp_forward(sl_mlp *m, const float *x, size_t batch, int train, float *y) {
    if (!m || !x || !y) return sl_fail(SL_ERR_ARG, "mlp: NULL argument");
    if (batch == 0 || batch > m->max_batch)
        return sl_fail(SL_ERR_ARG, "mlp: batch %zu outside 1..%zu", batch, m->max_batch);
    int drop = train && m->dropout > 0.0f;
    float p = m->dropout, scale = drop ? 1.0f / (1.0f - p) : 1.0f;
    memcpy(m->act[0], x, batch * m->dims[0] * sizeof(float));
    for (size_t l = 0; l < m->n_layers; l++) {
        size_t in = m->dims[l], out_dim = m->dims[l + 1];
        int last = l + 1 == m->n_layers;
        float *z = last ? y : m->act[l + 1]; // (batch, out_dim)
        /* the bias rows first, then the product added onto them (beta 1) */
        for (size_t i = 0; i < batch; i++) memcpy(z + i * out_dim, m->b[l], out_dim * sizeof(float));
        sl_status st = sl_gemm_f32(0, 1, batch, out_dim, in, 1.0f, m->act[l], in, m->w[l], in, 1.0f,
                                   z, out_dim);
        if (st != SL_OK) return st;
        if (last) break;
        size_t n = batch * out_dim;
        if (drop) {
            /* one draw per element whatever its sign: the stream's position
             * depends on the shapes only, never on the data */
            for (size_t i = 0; i < n; i++) {
                int keep = sl_rng_unit(&m->rng) >= p;
                z[i] = keep && z[i] > 0.0f ? z[i] * scale : 0.0f;
            }
        } else {
            for (size_t i = 0; i < n; i++) z[i] = z[i] > 0.0f ? z[i] : 0.0f;
        }
    }
    m->batch = batch;
    m->keep_scale = scale;
    return SL_OK;
}

sl_status sl_mlp_backward(sl_mlp *m, const float *dy, float *dx) {
    if (!m || !dy) return sl_fail(SL_ERR_ARG, "mlp: NULL argument");
    if (m->batch == 0) return sl_fail(SL_ERR_STATE, "mlp: backward without a forward");
    size_t batch = m->batch;
    const float *dz = dy; // (batch, dims[l+1]) gradient at layer l's output z
    for (size_t l = m->n_layers; l-- > 0;) {
        size_t in = m->dims[l], out_dim = m->dims[l + 1];
        /* dW += dz^T act, db += column sums of dz */
        sl_status st = sl_gemm_f32(1, 0, out_dim, in, batch, 1.0f, dz, out_dim, m->act[l], in, 1.0f,
                                   m->gw[l], in);
        if (st != SL_OK) return st;
        for (size_t j = 0; j < out_dim; j++) m->colsum[j] = 0.0;
        for (size_t i = 0; i < batch; i++)
            for (size_t j = 0; j < out_dim; j++) m->colsum[j] += dz[i * out_dim + j];
        for (size_t j = 0; j < out_dim; j++) m->gb[l][j] += (float)m->colsum[j];
        if (l == 0 && !dx) break;
        float *dh = l == 0 ? dx : m->scratch[l & 1]; // (batch, in)
        st = sl_gemm_f32(0, 0, batch, in, out_dim, 1.0f, dz, out_dim, m->w[l], in, 0.0f, dh, in);
        if (st != SL_OK) return st;
        if (l == 0) break;
        /* Through dropout and ReLU at once: the stored h = keep * relu(z) *
         * scale is positive exactly where both let the gradient pass, and
         * the factor there is the dropout scale. */
        const float *h = m->act[l];
        for (size_t i = 0; i < batch * in; i++) dh[i] = h[i] > 0.0f ? dh[i] * m->keep_scale : 0.0f;
        dz = dh;
    }
    return SL_OK;
}

sl_status sl_l2norm_forward(const float *x, size_t n, size_t dim, float *y, float *norms) {
    if (!x || !y || !norms || dim == 0) return sl_fail(SL_ERR_ARG, "l2norm: bad argument");
    for (size_t i = 0; i < n; i++) {
        const float *xi = x + i * dim;
        double s = 0.0;
        for (size_t d = 0; d < dim; d++) s += (double)xi[d] * xi[d];
        float r = (float)sqrt(s);
        if (!(r > SL_L2NORM_EPS)) r = SL_L2NORM_EPS;
        norms[i] = r;
        float inv = 1.0f / r;
        for (size_t d = 0; d < dim; d++) y[i * dim + d] = xi[d] * inv;
    }
    return SL_OK;
}

sl_status sl_l2norm_backward(const float *y, const float *norms, const float *dy, size_t n,
                             size_t dim, float *dx) {
    if (!y || !norms || !dy || !dx || dim == 0) return sl_fail(SL_ERR_ARG, "l2norm: bad argument");
    for (size_t i = 0; i < n; i++) {
        const float *yi = y + i * dim, *gi = dy + i * dim;
        float *o = dx + i * dim;
        float inv = 1.0f / norms[i];
        if (norms[i] <= SL_L2NORM_EPS) {
            /* clamped: y = x / eps is linear in x */
            for (size_t d = 0; d < dim; d++) o[d] = gi[d] * inv;
            continue;
        }
        /* the Jacobian of x / |x| is (I - y y^T) / |x|: only the part of dy
         * orthogonal to y moves the direction */
        double dot = 0.0;
        for (size_t d = 0; d < dim; d++) dot += (double)yi[d] * gi[d];
        float fd = (float)dot;
        for (size_t d = 0; d < dim; d++) o[d] = (gi[d] - yi[d] * fd) * inv;
    }
    return SL_OK;
}
