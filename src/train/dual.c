/* One training step of the dual encoder, the pieces of src/train/ in
 * order (dual.h). */
#include "train/dual.h"

#include "train/gemm.h"
#include "train/infonce.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct sl_dual {
    sl_dual_opts o;
    sl_mlp *tower[2];
    size_t dim;
    float log_scale, grad_log_scale;
    sl_adamw *opt;
    sl_pool *pool;
    float *raw[2];   /* (max_batch, dim) head outputs */
    float *emb[2];   /* (max_batch, dim) unit rows: U and V */
    float *grad[2];  /* (max_batch, dim) dL/dU, dL/dV, then dL/d(raw) */
    float *norms[2]; /* (max_batch) */
    float *work;     /* sl_infonce_work_size(max_batch) */
};

void sl_dual_opts_init(sl_dual_opts *o) {
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->max_batch = 256;
    o->init_log_scale = 2.6592600f; /* ln(1 / 0.07) */
    o->threads = 1;
    sl_adamw_opts_init(&o->adamw);
}

void sl_dual_free(sl_dual *d) {
    if (!d) return;
    for (int t = 0; t < 2; t++) {
        sl_mlp_free(d->tower[t]);
        free(d->raw[t]);
        free(d->emb[t]);
        free(d->grad[t]);
        free(d->norms[t]);
    }
    sl_adamw_free(d->opt);
    sl_pool_free(d->pool);
    free(d->work);
    free(d);
}

sl_status sl_dual_new(const sl_dual_opts *o, sl_dual **out) {
    if (out) *out = NULL;
    if (!o || !out) return sl_fail(SL_ERR_ARG, "train: NULL argument");
    if (o->image_n_dims < 2 || o->image_n_dims > SL_MLP_MAX_LAYERS + 1 || o->text_n_dims < 2 ||
        o->text_n_dims > SL_MLP_MAX_LAYERS + 1)
        return sl_fail(SL_ERR_ARG, "train: heads need 2..%d dims", SL_MLP_MAX_LAYERS + 1);
    size_t dim = o->image_dims[o->image_n_dims - 1];
    if (dim != o->text_dims[o->text_n_dims - 1])
        return sl_fail(SL_ERR_ARG, "train: image head ends in %zu, text head in %zu", dim,
                       o->text_dims[o->text_n_dims - 1]);
    if (o->max_batch < 2) return sl_fail(SL_ERR_ARG, "train: max_batch %zu < 2", o->max_batch);
    if (!isfinite(o->init_log_scale)) return sl_fail(SL_ERR_ARG, "train: initial log scale not finite");
    if (o->threads < 1 || o->threads > 256) return sl_fail(SL_ERR_ARG, "train: %d threads", o->threads);
    sl_dual *d = calloc(1, sizeof *d);
    if (!d) return sl_fail(SL_ERR_NOMEM, "train: out of memory");
    d->o = *o;
    d->dim = dim;
    d->log_scale = SL_MIN(o->init_log_scale, SL_INFONCE_MAX_LOG_SCALE);
    /* distinct streams per tower from one seed */
    sl_status st = sl_mlp_new(o->image_dims, o->image_n_dims, o->max_batch, o->dropout,
                              o->seed * 2 + 1, &d->tower[0]);
    if (st == SL_OK)
        st = sl_mlp_new(o->text_dims, o->text_n_dims, o->max_batch, o->dropout, o->seed * 2 + 2,
                        &d->tower[1]);
    if (st != SL_OK) {
        sl_dual_free(d);
        return st;
    }
    for (int t = 0; t < 2; t++) {
        d->raw[t] = sl_malloc_array(o->max_batch * dim, sizeof(float));
        d->emb[t] = sl_malloc_array(o->max_batch * dim, sizeof(float));
        d->grad[t] = sl_malloc_array(o->max_batch * dim, sizeof(float));
        d->norms[t] = sl_malloc_array(o->max_batch, sizeof(float));
        if (!d->raw[t] || !d->emb[t] || !d->grad[t] || !d->norms[t]) st = SL_ERR_NOMEM;
    }
    size_t work = sl_infonce_work_size(o->max_batch);
    d->work = work ? sl_malloc_array(work, sizeof(float)) : NULL;
    if (!d->work) st = SL_ERR_NOMEM;
    if (st != SL_OK) {
        sl_dual_free(d);
        return sl_fail(SL_ERR_NOMEM, "train: out of memory (batch %zu)", o->max_batch);
    }
    sl_param params[4 * SL_MLP_MAX_LAYERS + 1];
    size_t n = sl_mlp_params(d->tower[0], params, SL_ARRAY_LEN(params));
    n += sl_mlp_params(d->tower[1], params + n, SL_ARRAY_LEN(params) - n);
    params[n++] = (sl_param){"log_scale", &d->log_scale, &d->grad_log_scale, 1, 1, 0};
    st = sl_pool_new(o->threads, &d->pool);
    if (st == SL_OK) st = sl_adamw_new(params, n, &o->adamw, &d->opt);
    if (st != SL_OK) {
        sl_dual_free(d);
        return st;
    }
    *out = d;
    return SL_OK;
}

/* Both heads forward, normalized, and the loss; with gradients when
 * `train` (then d->grad holds dL/dU and dL/dV). */
static sl_status forward_loss(sl_dual *d, const float *img, const float *txt,
                              const uint32_t *group, size_t batch, int train, float *loss) {
    if (!d || !img || !txt || !loss) return sl_fail(SL_ERR_ARG, "train: NULL argument");
    if (batch == 0 || batch > d->o.max_batch)
        return sl_fail(SL_ERR_ARG, "train: batch %zu outside 1..%zu", batch, d->o.max_batch);
    sl_gemm_set_threads(d->o.threads);
    const float *x[2] = {img, txt};
    for (int t = 0; t < 2; t++) {
        sl_status st = sl_mlp_forward(d->tower[t], x[t], batch, train, d->raw[t]);
        if (st == SL_OK) st = sl_l2norm_forward(d->raw[t], batch, d->dim, d->emb[t], d->norms[t]);
        if (st != SL_OK) return st;
    }
    return sl_infonce(d->emb[0], d->emb[1], batch, d->dim, d->log_scale, group, d->work, loss,
                      train ? d->grad[0] : NULL, train ? d->grad[1] : NULL,
                      train ? &d->grad_log_scale : NULL);
}

sl_status sl_dual_step(sl_dual *d, const float *img, const float *txt, const uint32_t *group,
                       size_t batch, float lr, sl_dual_stats *stats) {
    if (batch < 2) return sl_fail(SL_ERR_ARG, "train: batch %zu has no negatives", batch);
    if (!(lr >= 0.0f) || !isfinite(lr)) return sl_fail(SL_ERR_ARG, "train: learning rate %g", (double)lr);
    float loss = 0.0f;
    sl_status st = forward_loss(d, img, txt, group, batch, 1, &loss);
    if (st != SL_OK) return st;
    for (int t = 0; t < 2; t++) {
        sl_mlp_zero_grad(d->tower[t]);
        st = sl_l2norm_backward(d->emb[t], d->norms[t], d->grad[t], batch, d->dim, d->grad[t]);
        if (st == SL_OK) st = sl_mlp_backward(d->tower[t], d->grad[t], NULL);
        if (st != SL_OK) return st;
    }
    float gnorm = 0.0f;
    st = sl_adamw_step(d->opt, lr, d->pool, &gnorm);
    if (st != SL_OK) return st;
    /* CLIP clamps the parameter itself: the loss's zero gradient above the
     * cap alone would let Adam's momentum keep pushing it up */
    d->log_scale = SL_MIN(d->log_scale, SL_INFONCE_MAX_LOG_SCALE);
    if (stats) *stats = (sl_dual_stats){loss, gnorm, d->log_scale};
    return SL_OK;
}

sl_status sl_dual_eval_loss(sl_dual *d, const float *img, const float *txt, const uint32_t *group,
                            size_t batch, float *loss) {
    return forward_loss(d, img, txt, group, batch, 0, loss);
}

sl_status sl_dual_embed(sl_dual *d, sl_tower tower, const float *x, size_t n, float *out) {
    if (!d || !x || !out || (tower != SL_TOWER_IMAGE && tower != SL_TOWER_TEXT))
        return sl_fail(SL_ERR_ARG, "train: bad embed argument");
    sl_gemm_set_threads(d->o.threads);
    sl_mlp *m = d->tower[tower];
    size_t in = sl_mlp_in(m);
    for (size_t i = 0; i < n; i += d->o.max_batch) {
        size_t b = SL_MIN(d->o.max_batch, n - i);
        sl_status st = sl_mlp_forward(m, x + i * in, b, 0, out + i * d->dim);
        if (st == SL_OK) st = sl_l2norm_forward(out + i * d->dim, b, d->dim, out + i * d->dim, d->norms[tower]);
        if (st != SL_OK) return st;
    }
    return SL_OK;
}

sl_mlp *sl_dual_tower(sl_dual *d, sl_tower tower) {
    if (!d || (tower != SL_TOWER_IMAGE && tower != SL_TOWER_TEXT)) return NULL;
    return d->tower[tower];
}
float sl_dual_log_scale(const sl_dual *d) { return d ? d->log_scale : 0.0f; }
void sl_dual_set_log_scale(sl_dual *d, float log_scale) {
    if (d && isfinite(log_scale)) d->log_scale = SL_MIN(log_scale, SL_INFONCE_MAX_LOG_SCALE);
}
size_t sl_dual_dim(const sl_dual *d) { return d ? d->dim : 0; }
