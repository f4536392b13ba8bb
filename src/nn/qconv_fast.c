/* Fast-path entry points for the quantized convolutions.
 * INTERIM: copies the weights and calls the reference; the packed SIMD
 * kernels replace this file. */
#include "qconv.h"

#include <stdlib.h>
#include <string.h>

struct sl_qconv {
    sl_qconv_desc d;
    void *filter;
    int32_t *bias, *mult, *shift;
};

void sl_qconv_free(sl_qconv *c) {
    if (!c) return;
    free(c->filter);
    free(c->bias);
    free(c->mult);
    free(c->shift);
    free(c);
}

sl_status sl_qconv_prepare(const sl_qconv_desc *d, const sl_qconv_weights *w,
                           sl_qconv **out) {
    *out = NULL;
    sl_status st = sl_qconv_check(d);
    if (st) return st;
    size_t taps = (size_t)d->k_h * d->k_w;
    size_t nf = d->depthwise ? taps * d->out_c : taps * d->in_c * d->out_c;
    sl_qconv *c = calloc(1, sizeof *c);
    if (!c) return sl_fail(SL_ERR_NOMEM, "qconv: out of memory");
    c->d = *d;
    c->filter = malloc(nf);
    c->bias = calloc((size_t)d->out_c, sizeof(int32_t));
    c->mult = malloc((size_t)d->out_c * sizeof(int32_t));
    c->shift = malloc((size_t)d->out_c * sizeof(int32_t));
    if (!c->filter || !c->bias || !c->mult || !c->shift) {
        sl_qconv_free(c);
        return sl_fail(SL_ERR_NOMEM, "qconv: out of memory");
    }
    memcpy(c->filter, w->filter, nf);
    if (w->bias) memcpy(c->bias, w->bias, (size_t)d->out_c * sizeof(int32_t));
    memcpy(c->mult, w->mult, (size_t)d->out_c * sizeof(int32_t));
    memcpy(c->shift, w->shift, (size_t)d->out_c * sizeof(int32_t));
    *out = c;
    return SL_OK;
}

size_t sl_qconv_scratch_size(const sl_qconv *c) {
    (void)c;
    return 0;
}

void sl_qconv_run(const sl_qconv *c, const void *input, void *output,
                  sl_pool *pool, void *scratch, size_t scratch_stride) {
    (void)pool;
    (void)scratch;
    (void)scratch_stride;
    sl_qconv_weights w = {c->filter, c->bias, c->mult, c->shift};
    sl_qconv_ref(&c->d, &w, input, output);
}
