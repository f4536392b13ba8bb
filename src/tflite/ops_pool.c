/* AVERAGE_POOL_2D and MAX_POOL_2D, NHWC, uint8 / int8 / float32.
 * As TFLite's reference pooling: the window is clipped to the input (padded
 * taps are skipped, not counted); the quantized average is the integer sum
 * divided by the number of taps, rounded half away from zero; input and
 * output share one quantization. */
#include "ops.h"
#include "nn/quant.h"

#include <math.h>
#include <stdlib.h>

enum { POOL_PADDING = 0, POOL_STRIDE_W = 1, POOL_STRIDE_H = 2, POOL_FILTER_W = 3,
       POOL_FILTER_H = 4, POOL_ACT = 5 };

#define MAX_WINDOW 65536
/* Taps of one window; keeps a sum of 8-bit values inside int32. */
#define MAX_TAPS (1 << 23)

typedef struct pool_params {
    int32_t in, out;
    int type, average;
    int batch, in_h, in_w, ch, out_h, out_w;
    int f_h, f_w, s_h, s_w, pad_top, pad_left;
    int32_t lo, hi;
    float flo, fhi;
} pool_params;

static inline int32_t load(const uint8_t *base, int type, size_t i) {
    return type == SL_TFL_UINT8 ? (int32_t)base[i] : (int32_t)((const int8_t *)base)[i];
}

static void pool_run(const sl_tfl_node *n, const sl_tfl_exec *ex) {
    const pool_params *p = n->params;
    const uint8_t *in = ex->data[p->in];
    uint8_t *out = ex->data[p->out];
    for (int b = 0; b < p->batch; b++)
        for (int oy = 0; oy < p->out_h; oy++)
            for (int ox = 0; ox < p->out_w; ox++) {
                const int y0 = oy * p->s_h - p->pad_top, x0 = ox * p->s_w - p->pad_left;
                const int fy0 = SL_MAX(0, -y0), fy1 = SL_MIN(p->f_h, p->in_h - y0);
                const int fx0 = SL_MAX(0, -x0), fx1 = SL_MIN(p->f_w, p->in_w - x0);
                const size_t o = (((size_t)b * p->out_h + oy) * p->out_w + ox) * p->ch;
                for (int c = 0; c < p->ch; c++) {
                    if (p->type == SL_TFL_FLOAT32) {
                        const float *fin = (const float *)in;
                        float acc = p->average ? 0.0f : -INFINITY;
                        int cnt = 0;
                        for (int fy = fy0; fy < fy1; fy++)
                            for (int fx = fx0; fx < fx1; fx++) {
                                float v = fin[(((size_t)b * p->in_h + y0 + fy) * p->in_w + x0 + fx) *
                                                  p->ch + c];
                                if (p->average) acc += v;
                                else if (v > acc) acc = v;
                                cnt++;
                            }
                        if (p->average) acc = cnt ? acc / (float)cnt : 0.0f;
                        acc = acc < p->flo ? p->flo : (acc > p->fhi ? p->fhi : acc);
                        ((float *)out)[o + c] = acc;
                        continue;
                    }
                    int32_t acc = p->average ? 0 : INT32_MIN;
                    int32_t cnt = 0;
                    for (int fy = fy0; fy < fy1; fy++)
                        for (int fx = fx0; fx < fx1; fx++) {
                            int32_t v = load(in, p->type,
                                             (((size_t)b * p->in_h + y0 + fy) * p->in_w + x0 + fx) *
                                                     p->ch + c);
                            if (p->average) acc += v;
                            else if (v > acc) acc = v;
                            cnt++;
                        }
                    if (p->average) {
                        /* Rounded to the closest integer, ties away from zero. */
                        if (cnt) acc = acc > 0 ? (acc + cnt / 2) / cnt : (acc - cnt / 2) / cnt;
                    }
                    acc = sl_clamp_i32(acc, p->lo, p->hi);
                    if (p->type == SL_TFL_UINT8) out[o + c] = (uint8_t)acc;
                    else ((int8_t *)out)[o + c] = (int8_t)acc;
                }
            }
}

sl_status sl_tfl_prepare_pool(sl_tfl_ctx *c, sl_tfl_node *n) {
    sl_status st;
    if ((st = sl_tfl_check_arity(n, 1, 1, 1))) return st;
    const sl_tfl_tensor *in = sl_tfl_in(c, n, 0), *out = sl_tfl_out(c, n, 0);
    if (!in) return sl_tfl_fail(n, SL_ERR_CORRUPT, "input tensor omitted");
    if ((st = sl_tfl_check_io_type(n, in, out, 1))) return st;
    if (in->rank != 4 || out->rank != 4)
        return sl_tfl_fail(n, SL_ERR_CORRUPT, "input and output must be rank 4 (NHWC)");
    int present;
    const sl_fb_table *o;
    int8_t padding, act;
    int32_t sw, sh, fw, fh;
    if ((st = sl_tfl_options(n, SL_OPT_POOL2D, 1, &present, &o))) return st;
    if ((st = sl_fb_i8(o, POOL_PADDING, 0, &padding)) || (st = sl_fb_i8(o, POOL_ACT, 0, &act)) ||
        (st = sl_fb_i32(o, POOL_STRIDE_W, 0, &sw)) || (st = sl_fb_i32(o, POOL_STRIDE_H, 0, &sh)) ||
        (st = sl_fb_i32(o, POOL_FILTER_W, 0, &fw)) || (st = sl_fb_i32(o, POOL_FILTER_H, 0, &fh)))
        return st;
    if (sw < 1 || sh < 1 || sw > MAX_WINDOW || sh > MAX_WINDOW || fw < 1 || fh < 1 ||
        fw > MAX_WINDOW || fh > MAX_WINDOW)
        return sl_tfl_fail(n, SL_ERR_CORRUPT, "stride %d x %d or window %d x %d out of range", sh,
                           sw, fh, fw);
    if ((int64_t)fw * fh > MAX_TAPS)
        return sl_tfl_fail(n, SL_ERR_LIMIT, "a %d x %d window is too large", fh, fw);

    pool_params *p = calloc(1, sizeof *p);
    if (!p) return sl_fail(SL_ERR_NOMEM, "out of memory");
    n->params = p;
    p->in = sl_tfl_in_index(n, 0);
    p->out = sl_tfl_out_index(n, 0);
    p->type = in->type;
    p->average = n->op->code == SL_OP_AVERAGE_POOL_2D;
    p->batch = in->shape[0];
    p->in_h = in->shape[1];
    p->in_w = in->shape[2];
    p->ch = in->shape[3];
    p->f_h = fh;
    p->f_w = fw;
    p->s_h = sh;
    p->s_w = sw;
    if ((st = sl_tfl_padding(n, padding, p->in_h, fh, sh, 1, &p->out_h, &p->pad_top)) ||
        (st = sl_tfl_padding(n, padding, p->in_w, fw, sw, 1, &p->out_w, &p->pad_left)))
        return st;
    if (out->shape[0] != p->batch || out->shape[1] != p->out_h || out->shape[2] != p->out_w ||
        out->shape[3] != p->ch)
        return sl_tfl_fail(n, SL_ERR_CORRUPT,
                           "output shape (%d, %d, %d, %d) should be (%d, %d, %d, %d)",
                           out->shape[0], out->shape[1], out->shape[2], out->shape[3], p->batch,
                           p->out_h, p->out_w, p->ch);
    if ((st = sl_tfl_add_work(c, n, (uint64_t)out->count * (uint64_t)fh * (uint64_t)fw)))
        return st;
    if (in->type == SL_TFL_FLOAT32) {
        if ((st = sl_tfl_act_range_f(n, act, &p->flo, &p->fhi))) return st;
    } else {
        float si, so;
        int32_t zi, zo;
        if ((st = sl_tfl_quant1(n, in, "input", &si, &zi)) ||
            (st = sl_tfl_quant1(n, out, "output", &so, &zo)))
            return st;
        if (zi != zo || fabsf(si - so) > 1e-6f * so)
            return sl_tfl_fail(n, SL_ERR_UNSUPPORTED,
                               "input and output quantization differ (pooling cannot requantize)");
        if ((st = sl_tfl_act_range(n, act, out->type, so, zo, &p->lo, &p->hi))) return st;
    }
    sl_tfl_use_input(c, n, 0);
    n->run = pool_run;
    return SL_OK;
}
