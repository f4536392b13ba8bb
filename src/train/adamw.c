/* AdamW over chunks of the parameter tensors, spread over a pool (adamw.h). */
#include "train/adamw.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Elements per task: large enough that a task outweighs its dispatch, small
 * enough that two threads share a 2-million-parameter model evenly. The
 * chunk boundaries, not the threads, fix the order of the norm's sum. */
#define CHUNK 16384

typedef struct chunk {
    size_t param, start, len;
} chunk;

struct sl_adamw {
    sl_adamw_opts o;
    size_t n_params;
    sl_param *params;
    float **m, **v;  /* per tensor, like value */
    chunk *chunks;
    size_t n_chunks;
    double *partial; /* (n_chunks) sums of squared gradients */
    uint64_t t;
};

void sl_adamw_opts_init(sl_adamw_opts *o) {
    if (!o) return;
    o->beta1 = 0.9f;
    o->beta2 = 0.999f;
    o->eps = 1e-8f;
    o->weight_decay = 0.01f;
    o->clip_norm = 0.0f;
}

void sl_adamw_free(sl_adamw *a) {
    if (!a) return;
    for (size_t i = 0; i < a->n_params; i++) {
        if (a->m) sl_free_aligned(a->m[i]);
        if (a->v) sl_free_aligned(a->v[i]);
    }
    free(a->m);
    free(a->v);
    free(a->params);
    free(a->chunks);
    free(a->partial);
    free(a);
}

sl_status sl_adamw_new(const sl_param *params, size_t n, const sl_adamw_opts *opts,
                       sl_adamw **out) {
    if (out) *out = NULL;
    if (!params || !out || n == 0) return sl_fail(SL_ERR_ARG, "adamw: no parameters");
    sl_adamw_opts o;
    sl_adamw_opts_init(&o);
    if (opts) o = *opts;
    if (!(o.beta1 >= 0.0f && o.beta1 < 1.0f) || !(o.beta2 >= 0.0f && o.beta2 < 1.0f) ||
        !(o.eps > 0.0f) || !(o.weight_decay >= 0.0f) || !(o.clip_norm >= 0.0f) ||
        !isfinite(o.weight_decay) || !isfinite(o.clip_norm) || !isfinite(o.eps))
        return sl_fail(SL_ERR_ARG, "adamw: bad options (beta1 %g, beta2 %g, eps %g, decay %g, clip %g)",
                       (double)o.beta1, (double)o.beta2, (double)o.eps, (double)o.weight_decay,
                       (double)o.clip_norm);
    size_t n_chunks = 0;
    for (size_t i = 0; i < n; i++) {
        size_t size;
        if (!params[i].value || !params[i].grad)
            return sl_fail(SL_ERR_ARG, "adamw: tensor %zu (%s) has no storage", i,
                           params[i].name ? params[i].name : "?");
        if (sl_mul_overflow(params[i].rows, params[i].cols, &size) || size == 0 ||
            size > SIZE_MAX / sizeof(float))
            return sl_fail(SL_ERR_ARG, "adamw: tensor %zu has %zu x %zu elements", i,
                           params[i].rows, params[i].cols);
        n_chunks += (size + CHUNK - 1) / CHUNK;
    }
    sl_adamw *a = calloc(1, sizeof *a);
    if (!a) return sl_fail(SL_ERR_NOMEM, "adamw: out of memory");
    a->o = o;
    a->params = sl_malloc_array(n, sizeof *a->params);
    a->m = calloc(n, sizeof *a->m);
    a->v = calloc(n, sizeof *a->v);
    a->chunks = sl_malloc_array(n_chunks, sizeof *a->chunks);
    a->partial = sl_malloc_array(n_chunks, sizeof *a->partial);
    if (!a->params || !a->m || !a->v || !a->chunks || !a->partial) goto nomem;
    memcpy(a->params, params, n * sizeof *params);
    a->n_params = n;
    for (size_t i = 0; i < n; i++) {
        size_t size = params[i].rows * params[i].cols;
        a->m[i] = sl_malloc_aligned(size * sizeof(float));
        a->v[i] = sl_malloc_aligned(size * sizeof(float));
        if (!a->m[i] || !a->v[i]) goto nomem;
        memset(a->m[i], 0, size * sizeof(float));
        memset(a->v[i], 0, size * sizeof(float));
        for (size_t s = 0; s < size; s += CHUNK)
            a->chunks[a->n_chunks++] = (chunk){i, s, SL_MIN(CHUNK, size - s)};
    }
    *out = a;
    return SL_OK;
nomem:
    sl_adamw_free(a);
    return sl_fail(SL_ERR_NOMEM, "adamw: out of memory");
}

uint64_t sl_adamw_steps(const sl_adamw *a) { return a ? a->t : 0; }

static void norm_task(void *ctx, size_t task, int thread) {
    sl_adamw *a = ctx;
    const chunk *c = &a->chunks[task];
    const float *g = a->params[c->param].grad + c->start;
    /* eight running sums break the add latency chain; a fixed pattern, so
     * still the same bits on any thread */
    double s[8] = {0};
    for (size_t i = 0; i < c->len; i++) s[i & 7] += (double)g[i] * g[i];
    a->partial[task] = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

typedef struct update_ctx {
    sl_adamw *a;
    float lr, gscale, bc1, bc2;
} update_ctx;

static void update_task(void *ctx, size_t task, int thread) {
    const update_ctx *u = ctx;
    sl_adamw *a = u->a;
    const chunk *c = &a->chunks[task];
    const sl_param *p = &a->params[c->param];
    /* restrict: the tensors never overlap, and saying so lets the loop
     * vectorize (the same arithmetic per element either way) */
    float *restrict w = p->value + c->start, *restrict m = a->m[c->param] + c->start;
    float *restrict v = a->v[c->param] + c->start;
    const float *restrict g = p->grad + c->start;
    float b1 = a->o.beta1, b2 = a->o.beta2, eps = a->o.eps, gscale = u->gscale;
    /* the bias corrections as factors: m_hat = m / bc1 and
     * v_hat = v / bc2, leaving one division per element */
    float step = u->lr / u->bc1, inv_bc2 = 1.0f / u->bc2;
    /* decoupled decay: shrinks the weight itself, untouched by the moments,
     * so every weight decays at the same rate whatever its gradient scale */
    float decay = p->decay ? 1.0f - u->lr * a->o.weight_decay : 1.0f;
    for (size_t i = 0; i < c->len; i++) {
        float gi = g[i] * gscale;
        float mi = b1 * m[i] + (1.0f - b1) * gi;
        float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] = w[i] * decay - step * mi / (sqrtf(vi * inv_bc2) + eps);
    }
}

sl_status sl_adamw_step(sl_adamw *a, float lr, sl_pool *pool, float *grad_norm) {
    if (!a) return sl_fail(SL_ERR_ARG, "adamw: NULL optimizer");
    if (!(lr >= 0.0f) || !isfinite(lr)) return sl_fail(SL_ERR_ARG, "adamw: learning rate %g", (double)lr);
    /* The norm is always computed: it doubles as the finiteness check that
     * keeps one NaN gradient from poisoning every moment. */
    sl_pool_run(pool, a->n_chunks, norm_task, a);
    double sq = 0.0;
    for (size_t i = 0; i < a->n_chunks; i++) sq += a->partial[i];
    double norm = sqrt(sq);
    if (grad_norm) *grad_norm = (float)norm;
    if (!isfinite(norm)) return sl_fail(SL_ERR_CORRUPT, "adamw: non-finite gradient");
    update_ctx u = {a, lr, 1.0f, 1.0f, 1.0f};
    if (a->o.clip_norm > 0.0f && norm > a->o.clip_norm) u.gscale = (float)(a->o.clip_norm / norm);
    a->t++;
    u.bc1 = (float)(1.0 - pow(a->o.beta1, (double)a->t));
    u.bc2 = (float)(1.0 - pow(a->o.beta2, (double)a->t));
    sl_pool_run(pool, a->n_chunks, update_task, &u);
    return SL_OK;
}
