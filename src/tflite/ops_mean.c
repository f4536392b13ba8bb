/* MEAN over height and width of an NHWC tensor (axes {1, 2}), the global
 * average pooling of TF2 classifiers. TFLite (reduce.cc, EvalMean with the
 * reference kernels) picks one of three quantized formulas, and so do we:
 *  1. keep_dims and axes given as (1, 2) or (2, 1):
 *     int8  reference_integer_ops::Mean: sum(x - in_zp), scaled by
 *           QuantizeMultiplier(in_scale / out_scale), divided by H*W with
 *           rounding half away from zero, plus out_zp;
 *     uint8 reference_ops::Mean: sum(x) scaled by QuantizeMultiplier(
 *           float(in_scale / (H*W * out_scale))), plus the float-computed
 *           bias out_zp - int(in_zp * in_scale / out_scale);
 *  2. otherwise, same scale and zero point: sum(x) / (H*W), truncated;
 *  3. otherwise QuantizedMeanOrSum: float mean * (in_scale / out_scale)
 *     + (-in_zp * in_scale / out_scale + 0.5), rounded, plus out_zp.
 * Float: sum / (H*W). */
#include "ops.h"
#include "nn/quant.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { REDUCER_KEEP_DIMS = 0 };
enum { MEAN_INT_KEEPDIMS = 1, MEAN_SAME_QUANT = 2, MEAN_FLOAT_PATH = 3, MEAN_F32 = 4 };

#define MAX_REDUCED (1 << 23) /* elements summed into one int32 */

typedef struct mean_params {
    int32_t in, out;
    int type, mode;
    int batch, hw, ch;
    int32_t in_zp, out_zp;
    int32_t mult;
    int shift;
    int32_t bias;     /* uint8 mode 1 */
    float scale, fbias; /* mode 3 */
} mean_params;

static void mean_run(const sl_tfl_node *n, const sl_tfl_exec *ex) {
    const mean_params *p = n->params;
    const uint8_t *in = ex->data[p->in];
    uint8_t *out = ex->data[p->out];
    int32_t qmin, qmax;
    sl_tfl_qrange(p->type, &qmin, &qmax);
    for (int b = 0; b < p->batch; b++)
        for (int c = 0; c < p->ch; c++) {
            const size_t base = (size_t)b * p->hw * p->ch + c;
            const size_t o = (size_t)b * p->ch + c;
            if (p->mode == MEAN_F32) {
                const float *fin = (const float *)in;
                float acc = 0.0f;
                for (int i = 0; i < p->hw; i++) acc += fin[base + (size_t)i * p->ch];
                ((float *)out)[o] = acc / (float)p->hw;
                continue;
            }
            int32_t sum = 0;
            for (int i = 0; i < p->hw; i++) {
                size_t k = base + (size_t)i * p->ch;
                sum += p->type == SL_TFL_UINT8 ? (int32_t)in[k] : (int32_t)((const int8_t *)in)[k];
            }
            int64_t v;
            if (p->mode == MEAN_INT_KEEPDIMS && p->type == SL_TFL_INT8) {
                int32_t acc = sl_mul_qm(sum - p->in_zp * p->hw, p->mult, p->shift);
                acc = acc > 0 ? (acc + p->hw / 2) / p->hw : (acc - p->hw / 2) / p->hw;
                v = (int64_t)acc + p->out_zp;
            } else if (p->mode == MEAN_INT_KEEPDIMS) {
                v = (int64_t)sl_mul_qm(sum, p->mult, p->shift) + p->bias;
            } else if (p->mode == MEAN_SAME_QUANT) {
                v = sum / p->hw;
            } else {
                float mean = (float)sum / (float)p->hw;
                float r = roundf(mean * p->scale + p->fbias) + (float)p->out_zp;
                if (!(r >= (float)qmin)) r = (float)qmin;
                if (r > (float)qmax) r = (float)qmax;
                v = (int64_t)r;
            }
            if (v < qmin) v = qmin;
            if (v > qmax) v = qmax;
            if (p->type == SL_TFL_UINT8) out[o] = (uint8_t)v;
            else ((int8_t *)out)[o] = (int8_t)v;
        }
}

sl_status sl_tfl_prepare_mean(sl_tfl_ctx *c, sl_tfl_node *n) {
    sl_status st;
    if ((st = sl_tfl_check_arity(n, 2, 2, 1))) return st;
    const sl_tfl_tensor *in = sl_tfl_in(c, n, 0), *axes = sl_tfl_in(c, n, 1),
                        *out = sl_tfl_out(c, n, 0);
    if (!in || !axes) return sl_tfl_fail(n, SL_ERR_CORRUPT, "input or axes tensor omitted");
    if ((st = sl_tfl_check_io_type(n, in, out, 1))) return st;
    if (axes->type != SL_TFL_INT32 || !axes->data)
        return sl_tfl_fail(n, SL_ERR_UNSUPPORTED, "axes must be a constant INT32 tensor");
    if (in->rank != 4)
        return sl_tfl_fail(n, SL_ERR_UNSUPPORTED, "only rank-4 inputs are supported");
    if (axes->count != 2)
        return sl_tfl_fail(n, SL_ERR_UNSUPPORTED, "only the mean over height and width is supported");
    int32_t ax[2];
    int literal_hw = 1, seen[4] = {0, 0, 0, 0};
    for (int i = 0; i < 2; i++) {
        ax[i] = (int32_t)sl_fb_le32(axes->data + 4 * i);
        if (ax[i] < 1 || ax[i] > 2) literal_hw = 0;
        int32_t r = ax[i] < 0 ? ax[i] + 4 : ax[i];
        if (r < 0 || r > 3) return sl_tfl_fail(n, SL_ERR_CORRUPT, "axis %d out of range", ax[i]);
        seen[r] = 1;
    }
    if (!seen[1] || !seen[2])
        return sl_tfl_fail(n, SL_ERR_UNSUPPORTED, "only the mean over height and width is supported");
    int present;
    const sl_fb_table *o;
    uint8_t keep = 0;
    if ((st = sl_tfl_options(n, SL_OPT_REDUCER, 0, &present, &o))) return st;
    if (present && (st = sl_fb_u8(o, REDUCER_KEEP_DIMS, 0, &keep))) return st;

    const int batch = in->shape[0], ch = in->shape[3];
    const int64_t hw = (int64_t)in->shape[1] * in->shape[2];
    if (hw > MAX_REDUCED) return sl_tfl_fail(n, SL_ERR_LIMIT, "%lld elements per mean", (long long)hw);
    int shape_ok = keep ? (out->rank == 4 && out->shape[0] == batch && out->shape[1] == 1 &&
                           out->shape[2] == 1 && out->shape[3] == ch)
                        : (out->rank == 2 && out->shape[0] == batch && out->shape[1] == ch);
    if (!shape_ok)
        return sl_tfl_fail(n, SL_ERR_CORRUPT, "output shape does not match (%d, %s%d)", batch,
                           keep ? "1, 1, " : "", ch);
    if ((st = sl_tfl_add_work(c, n, in->count))) return st;

    mean_params *p = calloc(1, sizeof *p);
    if (!p) return sl_fail(SL_ERR_NOMEM, "out of memory");
    n->params = p;
    p->in = sl_tfl_in_index(n, 0);
    p->out = sl_tfl_out_index(n, 0);
    p->type = in->type;
    p->batch = batch;
    p->hw = (int)hw;
    p->ch = ch;
    if (in->type == SL_TFL_FLOAT32) {
        p->mode = MEAN_F32;
    } else {
        float si, so;
        if ((st = sl_tfl_quant1(n, in, "input", &si, &p->in_zp)) ||
            (st = sl_tfl_quant1(n, out, "output", &so, &p->out_zp)))
            return st;
        int32_t qmin, qmax;
        sl_tfl_qrange(in->type, &qmin, &qmax);
        const int64_t sum_max = hw * SL_MAX((int64_t)qmax - p->in_zp, (int64_t)p->in_zp - qmin);
        if (keep && literal_hw) {
            p->mode = MEAN_INT_KEEPDIMS;
            double m;
            if (in->type == SL_TFL_INT8) {
                m = (double)si / (double)so;
            } else {
                /* float arithmetic, as the uint8 kernel does it */
                float num = (float)hw;
                m = (double)(si / (num * so));
                float b = (float)p->in_zp * si / so;
                if (!(fabsf(b) < 1e9f))
                    return sl_tfl_fail(n, SL_ERR_UNSUPPORTED, "mean bias out of range");
                p->bias = p->out_zp - (int32_t)b;
            }
            if ((st = sl_tfl_multiplier(n, m, 30, &p->mult, &p->shift, "mean"))) return st;
            int left = p->shift > 0 ? p->shift : 0;
            int64_t acc_max = in->type == SL_TFL_INT8 ? sum_max : hw * 255;
            if (acc_max > (((int64_t)INT32_MAX - 512) >> left))
                return sl_tfl_fail(n, SL_ERR_UNSUPPORTED, "mean could overflow int32");
        } else if (p->in_zp == p->out_zp && si == so) {
            p->mode = MEAN_SAME_QUANT;
        } else {
            p->mode = MEAN_FLOAT_PATH;
            p->scale = si / so;
            p->fbias = (float)(-p->in_zp) * p->scale + 0.5f;
            if (!isfinite(p->scale) || !isfinite(p->fbias))
                return sl_tfl_fail(n, SL_ERR_UNSUPPORTED, "mean rescale out of range");
        }
    }
    sl_tfl_use_input(c, n, 0);
    n->run = mean_run;
    return SL_OK;
}
