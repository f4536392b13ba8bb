/* Shared open-time checks of the operators and the dispatch table. */
#include "ops.h"
#include "nn/quant.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

sl_status sl_tfl_fail(const sl_tfl_node *n, sl_status st, const char *fmt, ...) {
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sl_fail(st, "operator %u (%s): %s", n->index, sl_tfl_op_name(n->op->code), msg);
}

sl_status sl_tfl_check_arity(const sl_tfl_node *n, uint32_t min_in, uint32_t max_in,
                             uint32_t n_out_want) {
    if (n->op->n_in < min_in || n->op->n_in > max_in)
        return sl_tfl_fail(n, SL_ERR_CORRUPT, "has %u inputs, expected %u to %u", n->op->n_in,
                           min_in, max_in);
    if (n->op->n_out != n_out_want)
        return sl_tfl_fail(n, SL_ERR_CORRUPT, "has %u outputs, expected %u", n->op->n_out,
                           n_out_want);
    return SL_OK;
}

int32_t sl_tfl_in_index(const sl_tfl_node *n, uint32_t i) {
    return i < n->op->n_in ? n->op->in[i] : -1;
}

int32_t sl_tfl_out_index(const sl_tfl_node *n, uint32_t i) {
    return i < n->op->n_out ? n->op->out[i] : -1;
}

const sl_tfl_tensor *sl_tfl_in(const sl_tfl_ctx *c, const sl_tfl_node *n, uint32_t i) {
    int32_t t = sl_tfl_in_index(n, i);
    return t < 0 ? NULL : &c->m->tensors[t];
}

const sl_tfl_tensor *sl_tfl_out(const sl_tfl_ctx *c, const sl_tfl_node *n, uint32_t i) {
    int32_t t = sl_tfl_out_index(n, i);
    return t < 0 ? NULL : &c->m->tensors[t];
}

void sl_tfl_use_input(sl_tfl_ctx *c, const sl_tfl_node *n, uint32_t i) {
    (void)c;
    if (i < n->op->n_in && n->op->in[i] >= 0) n->uses[i] = 1;
}

sl_status sl_tfl_add_work(sl_tfl_ctx *c, const sl_tfl_node *n, uint64_t work) {
    if (work > SL_TFL_MAX_WORK || c->work + work > SL_TFL_MAX_WORK)
        return sl_tfl_fail(n, SL_ERR_LIMIT,
                           "the model needs more than %llu operations per run",
                           (unsigned long long)SL_TFL_MAX_WORK);
    c->work += work;
    return SL_OK;
}

int sl_tfl_is_quantized_type(int type) { return type == SL_TFL_UINT8 || type == SL_TFL_INT8; }

void sl_tfl_qrange(int type, int32_t *lo, int32_t *hi) {
    if (type == SL_TFL_UINT8) {
        *lo = 0;
        *hi = 255;
    } else {
        *lo = -128;
        *hi = 127;
    }
}

sl_status sl_tfl_quant1(const sl_tfl_node *n, const sl_tfl_tensor *t, const char *role,
                        float *scale, int32_t *zp) {
    if (t->n_quant != 1)
        return sl_tfl_fail(n, SL_ERR_CORRUPT,
                           "%s tensor needs one quantization scale, it has %u", role, t->n_quant);
    int32_t lo, hi;
    sl_tfl_qrange(t->type, &lo, &hi);
    if (t->zero_points[0] < lo || t->zero_points[0] > hi)
        return sl_tfl_fail(n, SL_ERR_CORRUPT, "%s zero point %d outside the %s range", role,
                           t->zero_points[0], sl_tfl_type_name(t->type));
    *scale = t->scales[0];
    *zp = t->zero_points[0];
    return SL_OK;
}

/* zero_point + round(f / scale), computed without integer overflow. */
static int64_t quantize_clamped(float f, float scale, int32_t zp) {
    float q = roundf(f / scale);
    if (!(q > -4e9f)) q = -4e9f; /* also catches NaN */
    if (q > 4e9f) q = 4e9f;
    return (int64_t)zp + (int64_t)q;
}

sl_status sl_tfl_act_range(const sl_tfl_node *n, int act, int type, float scale, int32_t zp,
                           int32_t *lo, int32_t *hi) {
    int32_t qmin, qmax;
    sl_tfl_qrange(type, &qmin, &qmax);
    int64_t l = qmin, h = qmax;
    switch (act) {
    case SL_ACT_NONE: break;
    case SL_ACT_RELU: l = SL_MAX(l, quantize_clamped(0.0f, scale, zp)); break;
    case SL_ACT_RELU6:
        l = SL_MAX(l, quantize_clamped(0.0f, scale, zp));
        h = SL_MIN(h, quantize_clamped(6.0f, scale, zp));
        break;
    case SL_ACT_RELU_N1_TO_1:
        l = SL_MAX(l, quantize_clamped(-1.0f, scale, zp));
        h = SL_MIN(h, quantize_clamped(1.0f, scale, zp));
        break;
    default:
        return sl_tfl_fail(n, SL_ERR_UNSUPPORTED, "fused activation %d is not supported", act);
    }
    if (l > h)
        return sl_tfl_fail(n, SL_ERR_CORRUPT,
                           "fused activation %d leaves an empty output range", act);
    *lo = (int32_t)l;
    *hi = (int32_t)h;
    return SL_OK;
}

sl_status sl_tfl_act_range_f(const sl_tfl_node *n, int act, float *lo, float *hi) {
    switch (act) {
    case SL_ACT_NONE: *lo = -INFINITY; *hi = INFINITY; return SL_OK;
    case SL_ACT_RELU: *lo = 0.0f; *hi = INFINITY; return SL_OK;
    case SL_ACT_RELU6: *lo = 0.0f; *hi = 6.0f; return SL_OK;
    case SL_ACT_RELU_N1_TO_1: *lo = -1.0f; *hi = 1.0f; return SL_OK;
    default:
        return sl_tfl_fail(n, SL_ERR_UNSUPPORTED, "fused activation %d is not supported", act);
    }
}

sl_status sl_tfl_multiplier(const sl_tfl_node *n, double m, int max_left, int32_t *q,
                            int *shift, const char *what) {
    if (!isfinite(m) || !(m > 0.0))
        return sl_tfl_fail(n, SL_ERR_CORRUPT, "%s multiplier %g is not a positive number", what,
                           m);
    sl_quantize_multiplier(m, q, shift);
    if (*q == 0) { /* flushed to zero: the output is constant, still defined */
        *shift = 0;
        return SL_OK;
    }
    if (*shift > max_left || *shift < -31)
        return sl_tfl_fail(n, SL_ERR_UNSUPPORTED, "%s multiplier %g is out of range", what, m);
    return SL_OK;
}

sl_status sl_tfl_padding(const sl_tfl_node *n, int padding, int in, int filter, int stride,
                         int dilation, int *out, int *pad) {
    int64_t eff = (int64_t)(filter - 1) * dilation + 1;
    int64_t o;
    if (padding == SL_PAD_SAME) o = ((int64_t)in + stride - 1) / stride;
    else if (padding == SL_PAD_VALID) o = ((int64_t)in + stride - eff) / stride;
    else return sl_tfl_fail(n, SL_ERR_CORRUPT, "padding type %d is not SAME or VALID", padding);
    if (o < 1)
        return sl_tfl_fail(n, SL_ERR_CORRUPT, "a %lld-wide window does not fit an input of %d",
                           (long long)eff, in);
    int64_t total = (o - 1) * stride + eff - in;
    if (total < 0) total = 0;
    *out = (int)o;
    *pad = (int)(total / 2);
    return SL_OK;
}

int sl_tfl_same_shape(const sl_tfl_tensor *a, const sl_tfl_tensor *b) {
    if (a->rank != b->rank) return 0;
    for (int i = 0; i < a->rank; i++)
        if (a->shape[i] != b->shape[i]) return 0;
    return 1;
}

sl_status sl_tfl_options(const sl_tfl_node *n, uint8_t tag, int required, int *present,
                         const sl_fb_table **opts) {
    /* As TFLite's builtin_options_as_X(): a table of another union type, or
     * a type without a table, reads as absent (defaults). */
    *present = n->op->has_opts && n->op->opt_type == tag;
    *opts = *present ? &n->op->opts : NULL;
    if (!*present && required)
        return sl_tfl_fail(n, SL_ERR_CORRUPT, "missing builtin options (union type %u expected, "
                                              "found %u)", tag, n->op->has_opts ? n->op->opt_type : 0);
    return SL_OK;
}

sl_status sl_tfl_prepare_node(sl_tfl_ctx *c, sl_tfl_node *n) {
    switch (n->op->code) {
    case SL_OP_CONV_2D:
    case SL_OP_DEPTHWISE_CONV_2D:
    case SL_OP_FULLY_CONNECTED: return sl_tfl_prepare_conv(c, n);
    case SL_OP_ADD: return sl_tfl_prepare_add(c, n);
    case SL_OP_AVERAGE_POOL_2D:
    case SL_OP_MAX_POOL_2D: return sl_tfl_prepare_pool(c, n);
    case SL_OP_MEAN: return sl_tfl_prepare_mean(c, n);
    case SL_OP_SOFTMAX: return sl_tfl_prepare_softmax(c, n);
    case SL_OP_QUANTIZE: return sl_tfl_prepare_quantize(c, n);
    case SL_OP_DEQUANTIZE: return sl_tfl_prepare_dequantize(c, n);
    case SL_OP_RESHAPE: return sl_tfl_prepare_reshape(c, n);
    case SL_OP_PAD: return sl_tfl_prepare_pad(c, n);
    case SL_OP_CUSTOM:
        return sl_fail(SL_ERR_UNSUPPORTED, "operator %u: unsupported custom operator \"%.*s\"",
                       n->index, (int)SL_MIN(n->op->custom_len, 64u), n->op->custom);
    default:
        return sl_fail(SL_ERR_UNSUPPORTED, "operator %u: unsupported operator %s (builtin code %d)",
                       n->index, sl_tfl_op_name(n->op->code), n->op->code);
    }
}

void sl_tfl_node_release(sl_tfl_node *n) {
    if (!n) return;
    free(n->uses);
    n->uses = NULL;
    if (!n->params) return;
    if (n->release) n->release(n->params);
    else free(n->params);
    n->params = NULL;
}

sl_status sl_tfl_check_io_type(const sl_tfl_node *n, const sl_tfl_tensor *in,
                               const sl_tfl_tensor *out, int numeric_only) {
    if (in->type != out->type)
        return sl_tfl_fail(n, SL_ERR_CORRUPT, "input type %s and output type %s differ",
                           sl_tfl_type_name(in->type), sl_tfl_type_name(out->type));
    if (numeric_only && in->type != SL_TFL_FLOAT32 && !sl_tfl_is_quantized_type(in->type))
        return sl_tfl_fail(n, SL_ERR_UNSUPPORTED, "%s tensors are not supported",
                           sl_tfl_type_name(in->type));
    return SL_OK;
}
