/* Reference twins of the quantized convolutions: TFLite's reference loops,
 * written for clarity, not speed. The fast path is tested against these. */
#include "qconv.h"
#include "quant.h"

static inline int32_t load_act(const void *p, sl_qtype t, size_t i) {
    return t == SL_QTYPE_U8 ? (int32_t)((const uint8_t *)p)[i]
                            : (int32_t)((const int8_t *)p)[i];
}

static inline void store_act(void *p, sl_qtype t, size_t i, int32_t v) {
    if (t == SL_QTYPE_U8) ((uint8_t *)p)[i] = (uint8_t)v;
    else ((int8_t *)p)[i] = (int8_t)v;
}

sl_status sl_qconv_check(const sl_qconv_desc *d) {
    if (!d) return sl_fail(SL_ERR_ARG, "qconv: NULL descriptor");
    if (d->batch < 1 || d->in_h < 1 || d->in_w < 1 || d->in_c < 1 ||
        d->out_h < 1 || d->out_w < 1 || d->out_c < 1 || d->k_h < 1 ||
        d->k_w < 1 || d->stride_h < 1 || d->stride_w < 1 || d->dil_h < 1 ||
        d->dil_w < 1)
        return sl_fail(SL_ERR_ARG, "qconv: non-positive size, stride or dilation");
    if (d->pad_top < 0 || d->pad_left < 0)
        return sl_fail(SL_ERR_ARG, "qconv: negative padding");
    if (d->depthwise) {
        if (d->depth_multiplier < 1 ||
            (int64_t)d->in_c * d->depth_multiplier != d->out_c)
            return sl_fail(SL_ERR_ARG, "qconv: depthwise channels %d x %d != %d",
                           d->in_c, d->depth_multiplier, d->out_c);
    }
    if (d->filter_type == SL_QTYPE_S8 && d->filter_zp != 0)
        return sl_fail(SL_ERR_ARG, "qconv: int8 filters must be symmetric");
    if (d->act_min > d->act_max) return sl_fail(SL_ERR_ARG, "qconv: empty activation range");
    /* Every tensor must be addressable with size_t and int64 indices. Two
     * positive ints multiply without overflow in int64, three may not:
     * refuse after two factors when that is already too large. */
    int64_t in = (int64_t)d->batch * d->in_h;
    int64_t out = (int64_t)d->batch * d->out_h;
    if (in > (1ll << 31) || out > (1ll << 31))
        return sl_fail(SL_ERR_ARG, "qconv: tensor too large");
    in *= d->in_w;
    out *= d->out_w;
    int64_t taps = (int64_t)d->k_h * d->k_w;
    if (in > (1ll << 31) / d->in_c || out > (1ll << 31) / d->out_c ||
        taps > (1ll << 24) / (d->depthwise ? 1 : d->in_c))
        return sl_fail(SL_ERR_ARG, "qconv: tensor too large");
    return SL_OK;
}

void sl_qconv_ref(const sl_qconv_desc *d, const sl_qconv_weights *w,
                  const void *input, void *output) {
    const int cin = d->in_c, cout = d->out_c;
    for (int b = 0; b < d->batch; b++)
        for (int oy = 0; oy < d->out_h; oy++)
            for (int ox = 0; ox < d->out_w; ox++)
                for (int oc = 0; oc < cout; oc++) {
                    int32_t acc = w->bias ? w->bias[oc] : 0;
                    const int ic_begin = d->depthwise ? oc / d->depth_multiplier : 0;
                    const int ic_end = d->depthwise ? ic_begin + 1 : cin;
                    for (int ky = 0; ky < d->k_h; ky++) {
                        const int iy = oy * d->stride_h - d->pad_top + ky * d->dil_h;
                        if (iy < 0 || iy >= d->in_h) continue;
                        for (int kx = 0; kx < d->k_w; kx++) {
                            const int ix = ox * d->stride_w - d->pad_left + kx * d->dil_w;
                            if (ix < 0 || ix >= d->in_w) continue;
                            for (int ic = ic_begin; ic < ic_end; ic++) {
                                size_t ii = (((size_t)b * d->in_h + iy) * d->in_w + ix) * cin + ic;
                                size_t wi = d->depthwise
                                    ? ((size_t)ky * d->k_w + kx) * cout + oc
                                    : (((size_t)oc * d->k_h + ky) * d->k_w + kx) * cin + ic;
                                int32_t a = load_act(input, d->act_type, ii) - d->in_zp;
                                int32_t f = load_act(w->filter, d->filter_type, wi) - d->filter_zp;
                                acc += a * f;
                            }
                        }
                    }
                    int32_t v = sl_mul_qm(acc, w->mult[oc], w->shift[oc]) + d->out_zp;
                    v = sl_clamp_i32(v, d->act_min, d->act_max);
                    size_t oi = (((size_t)b * d->out_h + oy) * d->out_w + ox) * cout + oc;
                    store_act(output, d->act_type, oi, v);
                }
}
