/* Portable depthwise pieces: the scalar pair-row builder and row kernel
 * (the plain C twins of the SIMD ones), and the generic path for
 * geometries whose pair rows would not fit in scratch memory. */
#include "nn/qgemm.h"

static inline int32_t act_at(const sl_qconv *c, const void *row, size_t i) {
    return c->d.act_type == SL_QTYPE_U8 ? (int32_t)((const uint8_t *)row)[i]
                                        : (int32_t)((const int8_t *)row)[i];
}

void sl_qdw_pairs_scalar(const sl_qconv *c, const void *in_row, int c0, int cw, int16_t *buf) {
    const sl_qconv_desc *d = &c->d;
    const int W = c->isa->lanes, nj = c->dw_nj, dm = d->depth_multiplier;
    const int s8 = d->act_type == SL_QTYPE_S8;
    const int32_t zp = d->in_zp;
    const size_t ic = (size_t)d->in_c;
    const uint8_t *row = in_row;
    for (int v = 0; v * W < c->dw_cb; v++) {
        /* (nj, W) pairs of vector v */
        int16_t *e = buf + (size_t)v * nj * W * 2;
        for (int j = 0; j < nj; j++, e += (size_t)W * 2) {
            /* entry j pairs input columns x and x + dil_w */
            const int64_t x = (int64_t)j * c->dw_L - d->pad_left, x2 = x + d->dil_w;
            const int in1 = x >= 0 && x < d->in_w, in2 = x2 >= 0 && x2 < d->in_w;
            for (int l = 0; l < W; l++) {
                const int ch = v * W + l;
                int32_t a1 = 0, a2 = 0;
                if (ch < cw) {
                    const size_t icn = (size_t)((c0 + ch) / dm);
                    if (in1) {
                        const uint8_t b = row[(size_t)x * ic + icn];
                        a1 = (s8 ? (int32_t)(int8_t)b : (int32_t)b) - zp;
                    }
                    if (in2) {
                        const uint8_t b = row[(size_t)x2 * ic + icn];
                        a2 = (s8 ? (int32_t)(int8_t)b : (int32_t)b) - zp;
                    }
                }
                e[2 * l] = (int16_t)a1;
                e[2 * l + 1] = (int16_t)a2;
            }
        }
    }
}

/* Lanes past cw hold zero pairs and zero weights, so every vector runs all
 * SL_QDW_SW lanes (the scalar ISA's W): a fixed trip count the compiler
 * vectorizes. */
enum { SL_QDW_SW = SL_QK_SCALAR_LANES };

void sl_qdw_row_scalar(const sl_qconv *c, const int16_t *const *rows, int c0, int cw,
                       uint8_t *out_row) {
    const sl_qconv_desc *d = &c->d;
    const int C = d->out_c, M = c->dw_M, Cp = c->dw_Cp, nj = c->dw_nj;
    for (int v = 0; v * SL_QDW_SW < cw; v++) {
        const int n = SL_MIN(SL_QDW_SW, cw - v * SL_QDW_SW), cv = c0 + v * SL_QDW_SW;
        int32_t init[SL_QDW_SW];
        for (int l = 0; l < SL_QDW_SW; l++) init[l] = l < n ? c->colc[cv + l] : 0;
        for (int ox = 0; ox < d->out_w; ox++) {
            uint32_t acc[SL_QDW_SW];
            for (int l = 0; l < SL_QDW_SW; l++) acc[l] = (uint32_t)init[l];
            for (int ky = 0; ky < d->k_h; ky++) {
                if (!rows[ky]) continue;
                for (int m = 0; m < M; m++) {
                    /* entry of (ox, m) in vector block v */
                    const int16_t *e = rows[ky] + ((size_t)v * nj + (size_t)ox * c->dw_jox +
                                                   (size_t)m * c->dw_jm) * SL_QDW_SW * 2;
                    const int16_t *w = c->dw_w + ((size_t)(ky * M + m) * Cp + cv) * 2;
                    for (int l = 0; l < SL_QDW_SW; l++)
                        acc[l] += (uint32_t)(e[2 * l] * w[2 * l] + e[2 * l + 1] * w[2 * l + 1]);
                }
            }
            uint8_t *o = out_row + (size_t)ox * C + cv;
            for (int l = 0; l < n; l++) o[l] = sl_qreq1(c, acc[l], cv + l);
        }
    }
}

void sl_qdw_generic(const sl_qconv *c, const void *input, void *output, int64_t p0, int64_t p1,
                    uint32_t *acc) {
    const sl_qconv_desc *d = &c->d;
    const int C = d->out_c, dm = d->depth_multiplier, M = c->dw_M, Cp = c->dw_Cp;
    const size_t ic = (size_t)d->in_c;
    for (int64_t p = p0; p < p1; p++) {
        const int64_t ox = p % d->out_w, t = p / d->out_w;
        const int64_t oy = t % d->out_h, b = t / d->out_h;
        for (int n = 0; n < C; n++) acc[n] = (uint32_t)c->colc[n];
        for (int ky = 0; ky < d->k_h; ky++) {
            const int64_t iy = oy * d->stride_h - d->pad_top + (int64_t)ky * d->dil_h;
            if (iy < 0 || iy >= d->in_h) continue;
            for (int kx = 0; kx < d->k_w; kx++) {
                const int64_t ix = ox * d->stride_w - d->pad_left + (int64_t)kx * d->dil_w;
                if (ix < 0 || ix >= d->in_w) continue;
                /* (in_c) activations of input pixel (b, iy, ix) */
                const size_t px = (((size_t)b * d->in_h + (size_t)iy) * d->in_w + (size_t)ix) * ic;
                const int16_t *w = c->dw_w + ((size_t)(ky * M + kx / 2) * Cp) * 2 + (kx & 1);
                for (int n = 0; n < C; n++) {
                    const int32_t a = act_at(c, input, px + (size_t)(n / dm)) - d->in_zp;
                    acc[n] += (uint32_t)(a * w[2 * n]);
                }
            }
        }
        uint8_t *o = (uint8_t *)output + (size_t)p * C;
        for (int n = 0; n < C; n++) o[n] = sl_qreq1(c, acc[n], n);
    }
}
