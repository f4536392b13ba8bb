/* RESHAPE (a byte copy: the declared output shape is authoritative and must
 * hold as many elements as the input) and PAD (constant padding with the
 * output's zero point for quantized tensors, 0.0 for floats, as TFLite). */
#include "ops.h"

#include <stdlib.h>
#include <string.h>

typedef struct copy_params {
    int32_t in, out;
    size_t bytes;
} copy_params;

static void reshape_run(const sl_tfl_node *n, const sl_tfl_exec *ex) {
    const copy_params *p = n->params;
    memcpy(ex->data[p->out], ex->data[p->in], p->bytes);
}

sl_status sl_tfl_prepare_reshape(sl_tfl_ctx *c, sl_tfl_node *n) {
    sl_status st;
    /* The optional second input (the new shape) agrees with the output
     * shape in a well-formed model; the output shape is what we use. */
    if ((st = sl_tfl_check_arity(n, 1, 2, 1))) return st;
    const sl_tfl_tensor *in = sl_tfl_in(c, n, 0), *out = sl_tfl_out(c, n, 0);
    if (!in) return sl_tfl_fail(n, SL_ERR_CORRUPT, "input tensor omitted");
    if ((st = sl_tfl_check_io_type(n, in, out, 0))) return st;
    if (in->count != out->count)
        return sl_tfl_fail(n, SL_ERR_CORRUPT, "reshapes %zu elements into %zu", in->count,
                           out->count);
    if ((st = sl_tfl_add_work(c, n, in->count))) return st;
    copy_params *p = calloc(1, sizeof *p);
    if (!p) return sl_fail(SL_ERR_NOMEM, "out of memory");
    n->params = p;
    p->in = sl_tfl_in_index(n, 0);
    p->out = sl_tfl_out_index(n, 0);
    p->bytes = in->bytes;
    sl_tfl_use_input(c, n, 0);
    n->run = reshape_run;
    return SL_OK;
}

/* ---- PAD ------------------------------------------------------------------ */

typedef struct pad_params {
    int32_t in, out;
    size_t esize;
    int32_t in_dims[4], out_dims[4], before[4]; /* extended to rank 4 */
    uint8_t value[4];                           /* one padding element */
} pad_params;

static void pad_run(const sl_tfl_node *n, const sl_tfl_exec *ex) {
    const pad_params *p = n->params;
    const uint8_t *in = ex->data[p->in];
    uint8_t *out = ex->data[p->out];
    const size_t e = p->esize;
    size_t o = 0;
    for (int32_t i0 = 0; i0 < p->out_dims[0]; i0++)
        for (int32_t i1 = 0; i1 < p->out_dims[1]; i1++)
            for (int32_t i2 = 0; i2 < p->out_dims[2]; i2++)
                for (int32_t i3 = 0; i3 < p->out_dims[3]; i3++, o += e) {
                    int32_t j0 = i0 - p->before[0], j1 = i1 - p->before[1];
                    int32_t j2 = i2 - p->before[2], j3 = i3 - p->before[3];
                    if (j0 < 0 || j0 >= p->in_dims[0] || j1 < 0 || j1 >= p->in_dims[1] || j2 < 0 ||
                        j2 >= p->in_dims[2] || j3 < 0 || j3 >= p->in_dims[3]) {
                        memcpy(out + o, p->value, e);
                        continue;
                    }
                    size_t k = (((size_t)j0 * p->in_dims[1] + j1) * p->in_dims[2] + j2) *
                                   p->in_dims[3] + j3;
                    memcpy(out + o, in + k * e, e);
                }
}

sl_status sl_tfl_prepare_pad(sl_tfl_ctx *c, sl_tfl_node *n) {
    sl_status st;
    if ((st = sl_tfl_check_arity(n, 2, 2, 1))) return st;
    const sl_tfl_tensor *in = sl_tfl_in(c, n, 0), *pads = sl_tfl_in(c, n, 1),
                        *out = sl_tfl_out(c, n, 0);
    if (!in || !pads) return sl_tfl_fail(n, SL_ERR_CORRUPT, "input or paddings tensor omitted");
    if ((st = sl_tfl_check_io_type(n, in, out, 1))) return st;
    if (in->rank > 4 || out->rank != in->rank)
        return sl_tfl_fail(n, SL_ERR_UNSUPPORTED, "rank %d input, up to 4 is supported", in->rank);
    if (pads->type != SL_TFL_INT32 || !pads->data || pads->rank != 2 ||
        pads->shape[0] != in->rank || pads->shape[1] != 2)
        return sl_tfl_fail(n, SL_ERR_UNSUPPORTED,
                           "paddings must be a constant INT32 (%d, 2) tensor", in->rank);
    if ((st = sl_tfl_add_work(c, n, out->count))) return st;
    pad_params *p = calloc(1, sizeof *p);
    if (!p) return sl_fail(SL_ERR_NOMEM, "out of memory");
    n->params = p;
    p->in = sl_tfl_in_index(n, 0);
    p->out = sl_tfl_out_index(n, 0);
    p->esize = in->elem_size;
    const int lead = 4 - in->rank;
    for (int d = 0; d < 4; d++) {
        p->in_dims[d] = p->out_dims[d] = 1;
        p->before[d] = 0;
    }
    for (int d = 0; d < in->rank; d++) {
        int32_t before = (int32_t)sl_fb_le32(pads->data + 8 * d);
        int32_t after = (int32_t)sl_fb_le32(pads->data + 8 * d + 4);
        if (before < 0 || after < 0 ||
            (int64_t)in->shape[d] + before + after != (int64_t)out->shape[d])
            return sl_tfl_fail(n, SL_ERR_CORRUPT,
                               "paddings (%d, %d) of dimension %d do not give the output shape",
                               before, after, d);
        p->in_dims[lead + d] = in->shape[d];
        p->out_dims[lead + d] = out->shape[d];
        p->before[lead + d] = before;
    }
    memset(p->value, 0, sizeof p->value); /* float 0.0 */
    if (sl_tfl_is_quantized_type(in->type)) {
        float si, so;
        int32_t zi, zo;
        if ((st = sl_tfl_quant1(n, in, "input", &si, &zi)) ||
            (st = sl_tfl_quant1(n, out, "output", &so, &zo)))
            return st;
        if (zi != zo || si != so)
            return sl_tfl_fail(n, SL_ERR_UNSUPPORTED, "input and output quantization differ");
        p->value[0] = (uint8_t)(zo & 0xff); /* the byte of zo in either type */
    }
    sl_tfl_use_input(c, n, 0);
    n->run = pad_run;
    return SL_OK;
}
