/* Inference of the trained projection heads (heads.h). */
#include "heads.h"

#include <math.h>
#include <string.h>

static sl_status check_shape(const sl_head *h, const char *tower) {
    if (h->n_layers < 1 || h->n_layers > SL_HEAD_MAX_LAYERS)
        return sl_fail(SL_ERR_CORRUPT, "heads: the %s head has %zu layers (1..%d allowed)", tower, h->n_layers,
                       SL_HEAD_MAX_LAYERS);
    for (size_t l = 0; l < h->n_layers; l++) {
        const sl_head_layer *L = &h->layers[l];
        if (L->in < 1 || L->in > SL_HEAD_MAX_DIM || L->out < 1 || L->out > SL_HEAD_MAX_DIM)
            return sl_fail(SL_ERR_CORRUPT, "heads: %s layer %zu is %u -> %u (1..%d allowed)", tower, l, L->in,
                           L->out, SL_HEAD_MAX_DIM);
        if (l > 0 && L->in != h->layers[l - 1].out)
            return sl_fail(SL_ERR_CORRUPT, "heads: %s layer %zu takes %u values but layer %zu gives %u", tower, l,
                           L->in, l - 1, h->layers[l - 1].out);
        if (!L->weight || !L->bias)
            return sl_fail(SL_ERR_CORRUPT, "heads: %s layer %zu has no weight or bias", tower, l);
    }
    return SL_OK;
}

/* After the shapes: only then are the sizes trusted enough to read. */
static sl_status check_values(const sl_head *h, const char *tower) {
    for (size_t l = 0; l < h->n_layers; l++) {
        const sl_head_layer *L = &h->layers[l];
        /* The shapes were checked against tensors inside the mapped file,
         * so in * out * 4 bytes fit a size_t. */
        const size_t n = (size_t)L->in * L->out;
        for (size_t i = 0; i < n; i++)
            if (!isfinite(L->weight[i]))
                return sl_fail(SL_ERR_CORRUPT, "heads: %s layer %zu weight %zu is not finite", tower, l, i);
        for (size_t i = 0; i < L->out; i++)
            if (!isfinite(L->bias[i]))
                return sl_fail(SL_ERR_CORRUPT, "heads: %s layer %zu bias %zu is not finite", tower, l, i);
    }
    return SL_OK;
}

sl_status sl_heads_check(const sl_heads *h) {
    if (!h) return sl_fail(SL_ERR_ARG, "heads: NULL");
    sl_status st = check_shape(&h->image, "image");
    if (!st) st = check_shape(&h->text, "text");
    if (st) return st;
    const uint32_t di = h->image.layers[h->image.n_layers - 1].out, dt = h->text.layers[h->text.n_layers - 1].out;
    if (di != dt)
        return sl_fail(SL_ERR_CORRUPT, "heads: the image head ends in %u values, the text head in %u", di, dt);
    if ((st = check_values(&h->image, "image")) || (st = check_values(&h->text, "text"))) return st;
    /* Written so that NaN fails too. */
    if (!(h->blend >= 0.0f && h->blend <= 1.0f))
        return sl_fail(SL_ERR_CORRUPT, "heads: blend %g is not in [0, 1]", (double)h->blend);
    return SL_OK;
}

size_t sl_head_scratch(const sl_head *h) {
    size_t w = 0;
    for (size_t l = 0; l < h->n_layers; l++) w = SL_MAX(w, (size_t)h->layers[l].out);
    return 2 * w;
}

/* One dot product in a fixed order: eight interleaved partial sums (lane k
 * takes elements k, k + 8, ...; the compiler may keep them in one vector
 * register, which changes nothing since each lane is summed on its own),
 * combined as a fixed tree, then the tail in order. The same inputs give the
 * same bits on every run and thread, and the lanes hide the add latency. */
static float dot(const float *w, const float *x, size_t n) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (size_t k = 0; k < 8; k++) acc[k] += w[i + k] * x[i + k];
    float s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (; i < n; i++) s += w[i] * x[i];
    return s;
}

void sl_head_apply(const sl_head *h, const float *x, float *scratch, float *p) {
    const size_t half = sl_head_scratch(h) / 2;
    const float *in = x;
    for (size_t l = 0; l < h->n_layers; l++) {
        const sl_head_layer *L = &h->layers[l];
        const int last = l + 1 == h->n_layers;
        /* Hidden activations alternate between the two halves of scratch;
         * the last layer writes p directly. */
        float *out = last ? p : scratch + (l % 2) * half;
        for (size_t o = 0; o < L->out; o++) {
            float v = dot(L->weight + o * L->in, in, L->in) + L->bias[o];
            out[o] = last || v > 0 ? v : 0;
        }
        in = out;
    }
    const size_t d = h->layers[h->n_layers - 1].out;
    double ss = 0;
    for (size_t i = 0; i < d; i++) ss += (double)p[i] * p[i];
    /* A zero output has no direction: it stays zero rather than becoming
     * NaN, and then contributes nothing to a score. */
    if (ss > 0) {
        const float inv = (float)(1.0 / sqrt(ss));
        for (size_t i = 0; i < d; i++) p[i] *= inv;
    }
}

void sl_heads_blend(float b, const float *z, size_t z_dim, const float *p, size_t p_dim, float *out) {
    /* Square roots in double, rounded once: a weight of exactly 1 or 0 at
     * the ends of [0, 1]. */
    const float wz = (float)sqrt(1.0 - (double)b), wp = (float)sqrt((double)b);
    for (size_t i = 0; i < z_dim; i++) out[i] = wz * z[i];
    for (size_t i = 0; i < p_dim; i++) out[z_dim + i] = wp * p[i];
}
