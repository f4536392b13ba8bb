/* QUANTIZE and DEQUANTIZE.
 *   float -> uint8/int8: clamp(round(x / scale) + zp)  (AffineQuantize)
 *   uint8/int8 -> uint8/int8: clamp(MultiplyByQuantizedMultiplier(x - in_zp,
 *       QuantizeMultiplier(in_scale / out_scale)) + out_zp)  (Requantize),
 *       e.g. the uint8 -> int8 edge of TF2 models
 *   uint8/int8 -> float: scale * (x - zp)  (Dequantize, scale as double) */
#include "ops.h"
#include "nn/quant.h"

#include <math.h>
#include <stdlib.h>

typedef struct quant_params {
    int32_t in, out;
    int in_type, out_type;
    size_t count;
    float scale;
    int32_t in_zp, out_zp;
    int32_t mult;
    int shift;
} quant_params;

static inline int32_t load8(const uint8_t *p, int type, size_t i) {
    return type == SL_TFL_UINT8 ? (int32_t)p[i] : (int32_t)((const int8_t *)p)[i];
}

static inline void store8(uint8_t *p, int type, size_t i, int32_t v) {
    if (type == SL_TFL_UINT8) p[i] = (uint8_t)v;
    else ((int8_t *)p)[i] = (int8_t)v;
}

static void quantize_run(const sl_tfl_node *n, const sl_tfl_exec *ex) {
    const quant_params *p = n->params;
    const uint8_t *in = ex->data[p->in];
    uint8_t *out = ex->data[p->out];
    int32_t lo, hi;
    sl_tfl_qrange(p->out_type, &lo, &hi);
    if (p->in_type == SL_TFL_FLOAT32) {
        const float *x = (const float *)in;
        for (size_t i = 0; i < p->count; i++) {
            /* Clamp in float first so the int conversion is always defined;
             * for in-range values this equals TFLite's int-then-clamp. */
            float q = roundf(x[i] / p->scale) + (float)p->out_zp;
            if (!(q >= (float)lo)) q = (float)lo; /* NaN goes low */
            if (q > (float)hi) q = (float)hi;
            store8(out, p->out_type, i, (int32_t)q);
        }
        return;
    }
    for (size_t i = 0; i < p->count; i++) {
        int32_t v = sl_mul_qm(load8(in, p->in_type, i) - p->in_zp, p->mult, p->shift) + p->out_zp;
        store8(out, p->out_type, i, sl_clamp_i32(v, lo, hi));
    }
}

static void dequantize_run(const sl_tfl_node *n, const sl_tfl_exec *ex) {
    const quant_params *p = n->params;
    const uint8_t *in = ex->data[p->in];
    float *out = (float *)ex->data[p->out];
    for (size_t i = 0; i < p->count; i++)
        out[i] = (float)((double)p->scale * (double)(load8(in, p->in_type, i) - p->in_zp));
}

static sl_status common(sl_tfl_ctx *c, sl_tfl_node *n, quant_params **out_p) {
    sl_status st;
    if ((st = sl_tfl_check_arity(n, 1, 1, 1))) return st;
    const sl_tfl_tensor *in = sl_tfl_in(c, n, 0), *out = sl_tfl_out(c, n, 0);
    if (!in) return sl_tfl_fail(n, SL_ERR_CORRUPT, "input tensor omitted");
    if (!sl_tfl_same_shape(in, out))
        return sl_tfl_fail(n, SL_ERR_CORRUPT, "input and output shapes differ");
    if ((st = sl_tfl_add_work(c, n, in->count))) return st;
    quant_params *p = calloc(1, sizeof *p);
    if (!p) return sl_fail(SL_ERR_NOMEM, "out of memory");
    n->params = p;
    p->in = sl_tfl_in_index(n, 0);
    p->out = sl_tfl_out_index(n, 0);
    p->in_type = in->type;
    p->out_type = out->type;
    p->count = in->count;
    *out_p = p;
    return SL_OK;
}

sl_status sl_tfl_prepare_quantize(sl_tfl_ctx *c, sl_tfl_node *n) {
    quant_params *p;
    sl_status st = common(c, n, &p);
    if (st) return st;
    const sl_tfl_tensor *in = sl_tfl_in(c, n, 0), *out = sl_tfl_out(c, n, 0);
    if (!sl_tfl_is_quantized_type(out->type) ||
        !(in->type == SL_TFL_FLOAT32 || sl_tfl_is_quantized_type(in->type)))
        return sl_tfl_fail(n, SL_ERR_UNSUPPORTED, "%s to %s is not supported",
                           sl_tfl_type_name(in->type), sl_tfl_type_name(out->type));
    float so;
    if ((st = sl_tfl_quant1(n, out, "output", &so, &p->out_zp))) return st;
    if (in->type == SL_TFL_FLOAT32) {
        p->scale = so;
    } else {
        float si;
        if ((st = sl_tfl_quant1(n, in, "input", &si, &p->in_zp))) return st;
        /* |x - zp| <= 255, so up to 22 bits of left shift stay in int32. */
        if ((st = sl_tfl_multiplier(n, (double)si / (double)so, 22, &p->mult, &p->shift,
                                    "requantization")))
            return st;
    }
    sl_tfl_use_input(c, n, 0);
    n->run = quantize_run;
    return SL_OK;
}

sl_status sl_tfl_prepare_dequantize(sl_tfl_ctx *c, sl_tfl_node *n) {
    quant_params *p;
    sl_status st = common(c, n, &p);
    if (st) return st;
    const sl_tfl_tensor *in = sl_tfl_in(c, n, 0), *out = sl_tfl_out(c, n, 0);
    if (!sl_tfl_is_quantized_type(in->type) || out->type != SL_TFL_FLOAT32)
        return sl_tfl_fail(n, SL_ERR_UNSUPPORTED, "%s to %s is not supported",
                           sl_tfl_type_name(in->type), sl_tfl_type_name(out->type));
    if ((st = sl_tfl_quant1(n, in, "input", &p->scale, &p->in_zp))) return st;
    sl_tfl_use_input(c, n, 0);
    n->run = dequantize_run;
    return SL_OK;
}
