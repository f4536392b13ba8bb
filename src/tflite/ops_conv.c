/* CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED (as a 1x1 convolution),
 * quantized uint8 (per-tensor) or int8 (per-channel symmetric filters).
 * The arithmetic is the quantized conv descriptor of nn/qconv.h, which
 * follows TFLite's reference_ops::Conv / DepthwiseConv (uint8) and
 * reference_integer_ops::ConvPerChannel / DepthwiseConvPerChannel (int8). */
#include "ops.h"
#include "nn/quant.h"

#include <stdlib.h>
#include <string.h>

/* Options field ids (schema.fbs). */
enum { CONV_PADDING = 0, CONV_STRIDE_W = 1, CONV_STRIDE_H = 2, CONV_ACT = 3, CONV_DIL_W = 4,
       CONV_DIL_H = 5 };
enum { DW_PADDING = 0, DW_STRIDE_W = 1, DW_STRIDE_H = 2, DW_ACT = 4, DW_DIL_W = 5, DW_DIL_H = 6 };
enum { FC_ACT = 0, FC_WEIGHTS_FORMAT = 1 };

#define MAX_STRIDE 65536

typedef struct conv_params {
    sl_qconv_desc d;
    sl_qconv_weights w;
    int32_t *bias, *mult, *shift; /* (out_c) each, owned */
    sl_qconv *fast;               /* NULL in reference mode */
    int32_t in, out;              /* tensor indices */
} conv_params;

static void conv_release(void *p) {
    conv_params *cp = p;
    sl_qconv_free(cp->fast);
    free(cp->bias);
    free(cp->mult);
    free(cp->shift);
    free(cp);
}

static void conv_run(const sl_tfl_node *n, const sl_tfl_exec *ex) {
    const conv_params *cp = n->params;
    const void *in = ex->data[cp->in];
    void *out = ex->data[cp->out];
    if (cp->fast) sl_qconv_run(cp->fast, in, out, ex->pool, ex->scratch, ex->scratch_stride);
    else sl_qconv_ref(&cp->d, &cp->w, in, out);
}

/* Options common to the three operators, decoded into one struct. */
typedef struct conv_opts {
    int padding, act;
    int stride_h, stride_w, dil_h, dil_w;
} conv_opts;

static sl_status read_opts(const sl_tfl_node *n, conv_opts *o) {
    sl_status st;
    int present;
    const sl_fb_table *t;
    int8_t padding = 0, act = 0;
    int32_t sw = 1, sh = 1, dw = 1, dh = 1;
    o->padding = SL_PAD_VALID;
    switch (n->op->code) {
    case SL_OP_CONV_2D:
        if ((st = sl_tfl_options(n, SL_OPT_CONV2D, 1, &present, &t))) return st;
        if ((st = sl_fb_i8(t, CONV_PADDING, 0, &padding)) || (st = sl_fb_i8(t, CONV_ACT, 0, &act)) ||
            (st = sl_fb_i32(t, CONV_STRIDE_W, 0, &sw)) || (st = sl_fb_i32(t, CONV_STRIDE_H, 0, &sh)) ||
            (st = sl_fb_i32(t, CONV_DIL_W, 1, &dw)) || (st = sl_fb_i32(t, CONV_DIL_H, 1, &dh)))
            return st;
        break;
    case SL_OP_DEPTHWISE_CONV_2D:
        if ((st = sl_tfl_options(n, SL_OPT_DEPTHWISE_CONV2D, 1, &present, &t))) return st;
        if ((st = sl_fb_i8(t, DW_PADDING, 0, &padding)) || (st = sl_fb_i8(t, DW_ACT, 0, &act)) ||
            (st = sl_fb_i32(t, DW_STRIDE_W, 0, &sw)) || (st = sl_fb_i32(t, DW_STRIDE_H, 0, &sh)) ||
            (st = sl_fb_i32(t, DW_DIL_W, 1, &dw)) || (st = sl_fb_i32(t, DW_DIL_H, 1, &dh)))
            return st;
        break;
    default: { /* FULLY_CONNECTED: options are optional, defaults are fine */
        int8_t format = 0;
        if ((st = sl_tfl_options(n, SL_OPT_FULLY_CONNECTED, 0, &present, &t))) return st;
        if (present && ((st = sl_fb_i8(t, FC_ACT, 0, &act)) ||
                        (st = sl_fb_i8(t, FC_WEIGHTS_FORMAT, 0, &format))))
            return st;
        if (format != 0)
            return sl_tfl_fail(n, SL_ERR_UNSUPPORTED, "shuffled weights format %d", format);
        o->act = act;
        o->stride_h = o->stride_w = o->dil_h = o->dil_w = 1;
        return SL_OK;
    }
    }
    if (sw < 1 || sh < 1 || sw > MAX_STRIDE || sh > MAX_STRIDE)
        return sl_tfl_fail(n, SL_ERR_CORRUPT, "stride %d x %d out of range", sh, sw);
    if (dw < 1 || dh < 1 || dw > MAX_STRIDE || dh > MAX_STRIDE)
        return sl_tfl_fail(n, SL_ERR_CORRUPT, "dilation %d x %d out of range", dh, dw);
    o->padding = padding;
    o->act = act;
    o->stride_h = sh;
    o->stride_w = sw;
    o->dil_h = dh;
    o->dil_w = dw;
    return SL_OK;
}

/* Geometry of the three operators in descriptor form. */
static sl_status geometry(sl_tfl_ctx *c, const sl_tfl_node *n, const conv_opts *o,
                          const sl_tfl_tensor *in, const sl_tfl_tensor *f,
                          const sl_tfl_tensor *out, sl_qconv_desc *d) {
    sl_status st;
    d->stride_h = o->stride_h;
    d->stride_w = o->stride_w;
    d->dil_h = o->dil_h;
    d->dil_w = o->dil_w;
    if (n->op->code == SL_OP_FULLY_CONNECTED) {
        /* input flattened to (batch, K), filter (O, K), output (batch, O) */
        if (f->rank != 2)
            return sl_tfl_fail(n, SL_ERR_CORRUPT, "weights must be (out, in), rank is %d", f->rank);
        int k = f->shape[1], oc = f->shape[0];
        if (in->count % (size_t)k)
            return sl_tfl_fail(n, SL_ERR_CORRUPT, "input of %zu elements is not a multiple of %d",
                               in->count, k);
        size_t batch = in->count / (size_t)k;
        if (out->rank < 1 || out->count != batch * (size_t)oc || out->shape[out->rank - 1] != oc)
            return sl_tfl_fail(n, SL_ERR_CORRUPT, "output shape does not match (%zu, %d)", batch,
                               oc);
        d->depthwise = 0;
        d->batch = (int)batch;
        d->in_h = d->in_w = d->out_h = d->out_w = d->k_h = d->k_w = 1;
        d->in_c = k;
        d->out_c = oc;
        d->depth_multiplier = 1;
        d->pad_top = d->pad_left = 0;
        return SL_OK;
    }
    if (in->rank != 4 || f->rank != 4 || out->rank != 4)
        return sl_tfl_fail(n, SL_ERR_CORRUPT, "input, filter and output must be rank 4 (NHWC)");
    d->batch = in->shape[0];
    d->in_h = in->shape[1];
    d->in_w = in->shape[2];
    d->in_c = in->shape[3];
    d->k_h = f->shape[1];
    d->k_w = f->shape[2];
    if (n->op->code == SL_OP_CONV_2D) {
        /* filter (O, KH, KW, I) OHWI */
        d->depthwise = 0;
        d->depth_multiplier = 1;
        d->out_c = f->shape[0];
        if (f->shape[3] != d->in_c)
            return sl_tfl_fail(n, SL_ERR_UNSUPPORTED,
                               "filter depth %d differs from the input's %d (grouped convolution)",
                               f->shape[3], d->in_c);
    } else {
        /* filter (1, KH, KW, O), O = in_c * depth_multiplier */
        d->depthwise = 1;
        d->out_c = f->shape[3];
        if (f->shape[0] != 1 || d->out_c % d->in_c)
            return sl_tfl_fail(n, SL_ERR_CORRUPT, "filter (%d, %d, %d, %d) does not fit %d channels",
                               f->shape[0], f->shape[1], f->shape[2], f->shape[3], d->in_c);
        d->depth_multiplier = d->out_c / d->in_c;
    }
    int oh, ow;
    if ((st = sl_tfl_padding(n, o->padding, d->in_h, d->k_h, d->stride_h, d->dil_h, &oh,
                             &d->pad_top)) ||
        (st = sl_tfl_padding(n, o->padding, d->in_w, d->k_w, d->stride_w, d->dil_w, &ow,
                             &d->pad_left)))
        return st;
    d->out_h = oh;
    d->out_w = ow;
    if (out->shape[0] != d->batch || out->shape[1] != oh || out->shape[2] != ow ||
        out->shape[3] != d->out_c)
        return sl_tfl_fail(n, SL_ERR_CORRUPT,
                           "output shape (%d, %d, %d, %d) should be (%d, %d, %d, %d)",
                           out->shape[0], out->shape[1], out->shape[2], out->shape[3], d->batch,
                           oh, ow, d->out_c);
    (void)c;
    return SL_OK;
}

/* Worst case |accumulator| of output channel oc, to refuse filters whose
 * int32 accumulation (TFLite's, and ours) could overflow. */
static int64_t acc_bound(const sl_qconv_desc *d, const uint8_t *filter, int32_t bias, int oc,
                         int64_t amax) {
    int64_t sum = 0;
    const int taps = d->k_h * d->k_w;
    if (d->depthwise) {
        for (int t = 0; t < taps; t++) {
            int32_t v = d->filter_type == SL_QTYPE_U8
                            ? (int32_t)filter[(size_t)t * d->out_c + oc]
                            : (int32_t)(int8_t)filter[(size_t)t * d->out_c + oc];
            sum += v - d->filter_zp < 0 ? d->filter_zp - v : v - d->filter_zp;
        }
    } else {
        size_t per = (size_t)taps * d->in_c;
        const uint8_t *w = filter + (size_t)oc * per;
        for (size_t i = 0; i < per; i++) {
            int32_t v = d->filter_type == SL_QTYPE_U8 ? (int32_t)w[i] : (int32_t)(int8_t)w[i];
            sum += v - d->filter_zp < 0 ? d->filter_zp - v : v - d->filter_zp;
        }
    }
    return (bias < 0 ? -(int64_t)bias : bias) + sum * amax;
}

sl_status sl_tfl_prepare_conv(sl_tfl_ctx *c, sl_tfl_node *n) {
    sl_status st;
    if ((st = sl_tfl_check_arity(n, 2, 3, 1))) return st;
    const sl_tfl_tensor *in = sl_tfl_in(c, n, 0), *f = sl_tfl_in(c, n, 1),
                        *b = sl_tfl_in(c, n, 2), *out = sl_tfl_out(c, n, 0);
    if (!in || !f) return sl_tfl_fail(n, SL_ERR_CORRUPT, "input or filter tensor omitted");
    if (!sl_tfl_is_quantized_type(in->type))
        return sl_tfl_fail(n, SL_ERR_UNSUPPORTED, "%s input is not supported (uint8 or int8 only)",
                           sl_tfl_type_name(in->type));
    if (out->type != in->type)
        return sl_tfl_fail(n, SL_ERR_CORRUPT, "output type %s differs from input type %s",
                           sl_tfl_type_name(out->type), sl_tfl_type_name(in->type));
    if (f->type != in->type)
        return sl_tfl_fail(n, SL_ERR_UNSUPPORTED, "%s filter with %s activations",
                           sl_tfl_type_name(f->type), sl_tfl_type_name(in->type));
    if (!f->data) return sl_tfl_fail(n, SL_ERR_UNSUPPORTED, "filter tensor is not constant");

    conv_opts o = {SL_PAD_VALID, SL_ACT_NONE, 1, 1, 1, 1};
    if ((st = read_opts(n, &o))) return st;
    sl_qconv_desc d;
    memset(&d, 0, sizeof d);
    if ((st = geometry(c, n, &o, in, f, out, &d))) return st;
    const int oc_n = d.out_c;

    /* Quantization. */
    float in_scale, out_scale;
    int32_t in_zp, out_zp;
    if ((st = sl_tfl_quant1(n, in, "input", &in_scale, &in_zp)) ||
        (st = sl_tfl_quant1(n, out, "output", &out_scale, &out_zp)))
        return st;
    d.act_type = in->type == SL_TFL_UINT8 ? SL_QTYPE_U8 : SL_QTYPE_S8;
    d.filter_type = d.act_type;
    d.in_zp = in_zp;
    d.out_zp = out_zp;
    const int want_dim = n->op->code == SL_OP_DEPTHWISE_CONV_2D ? 3 : 0;
    if (f->type == SL_TFL_UINT8) {
        float fs;
        if ((st = sl_tfl_quant1(n, f, "filter", &fs, &d.filter_zp))) return st;
    } else {
        if (f->n_quant != 1 && !(f->n_quant == (uint32_t)oc_n && f->quant_dim == want_dim))
            return sl_tfl_fail(n, SL_ERR_CORRUPT,
                               "filter has %u scales on dimension %d, expected 1 or %d on %d",
                               f->n_quant, f->quant_dim, oc_n, want_dim);
        for (uint32_t i = 0; i < f->n_quant; i++)
            if (f->zero_points[i] != 0)
                return sl_tfl_fail(n, SL_ERR_UNSUPPORTED, "int8 filter with zero point %d",
                                   f->zero_points[i]);
        d.filter_zp = 0;
    }
    if ((st = sl_tfl_act_range(n, o.act, out->type, out_scale, out_zp, &d.act_min, &d.act_max)))
        return st;
    if (b) {
        if (b->type != SL_TFL_INT32)
            return sl_tfl_fail(n, SL_ERR_UNSUPPORTED, "%s bias (int32 only)",
                               sl_tfl_type_name(b->type));
        if (!b->data) return sl_tfl_fail(n, SL_ERR_UNSUPPORTED, "bias tensor is not constant");
        if (b->count != (size_t)oc_n)
            return sl_tfl_fail(n, SL_ERR_CORRUPT, "bias has %zu entries for %d channels",
                               b->count, oc_n);
    }
    if (sl_qconv_check(&d) != SL_OK)
        return sl_tfl_fail(n, SL_ERR_LIMIT, "convolution geometry refused: %s", sl_last_error());
    uint64_t work = (uint64_t)d.batch * d.out_h * d.out_w * d.out_c * d.k_h * d.k_w *
                    (d.depthwise ? 1 : (uint64_t)d.in_c);
    if ((st = sl_tfl_add_work(c, n, work))) return st;

    conv_params *cp = calloc(1, sizeof *cp);
    if (!cp) return sl_fail(SL_ERR_NOMEM, "out of memory");
    n->params = cp;
    n->release = conv_release;
    cp->d = d;
    cp->in = sl_tfl_in_index(n, 0);
    cp->out = sl_tfl_out_index(n, 0);
    cp->bias = sl_calloc_array((size_t)oc_n, sizeof(int32_t));
    cp->mult = sl_malloc_array((size_t)oc_n, sizeof(int32_t));
    cp->shift = sl_malloc_array((size_t)oc_n, sizeof(int32_t));
    if (!cp->bias || !cp->mult || !cp->shift) return sl_fail(SL_ERR_NOMEM, "out of memory");

    int32_t qmin, qmax;
    sl_tfl_qrange(in->type, &qmin, &qmax);
    const int64_t amax = SL_MAX((int64_t)qmax - in_zp, (int64_t)in_zp - qmin);
    for (int oc = 0; oc < oc_n; oc++) {
        if (b) cp->bias[oc] = (int32_t)sl_fb_le32(b->data + (size_t)oc * 4);
        /* TFLite: double(input_scale) * double(filter_scale) / double(output_scale). */
        float fs = f->scales[f->n_quant == 1 ? 0 : oc];
        double m = (double)in_scale * (double)fs / (double)out_scale;
        int shift;
        if ((st = sl_tfl_multiplier(n, m, 30, &cp->mult[oc], &shift, "output"))) return st;
        cp->shift[oc] = shift;
        int left = shift > 0 ? shift : 0;
        int64_t bound = acc_bound(&d, f->data, cp->bias[oc], oc, amax);
        if (bound > (((int64_t)INT32_MAX - 512) >> left))
            return sl_tfl_fail(n, SL_ERR_UNSUPPORTED,
                               "channel %d could overflow the int32 accumulator", oc);
    }
    cp->w.filter = f->data;
    cp->w.bias = cp->bias;
    cp->w.mult = cp->mult;
    cp->w.shift = cp->shift;
    if (!c->reference) {
        st = c->cpu_level < 0 ? sl_qconv_prepare(&cp->d, &cp->w, &cp->fast)
                              : sl_qconv_prepare_level(&cp->d, &cp->w, (sl_cpu_level)c->cpu_level,
                                                       &cp->fast);
        /* The fast kernels refuse some extreme layers the reference runs;
         * for the caller that is a model we cannot run, not a bad argument. */
        if (st)
            return sl_tfl_fail(n, st == SL_ERR_ARG ? SL_ERR_UNSUPPORTED : st, "fast kernel: %s",
                               sl_last_error());
        size_t s = sl_qconv_scratch_size(cp->fast);
        if (s > c->scratch_max) c->scratch_max = s;
    }
    sl_tfl_use_input(c, n, 0);
    n->run = conv_run;
    return SL_OK;
}
