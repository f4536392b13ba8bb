/* Portable pieces of the quantized GEMM: activation encoders, the im2col
 * row builder shared by every instruction set, and the scalar kernel (the
 * plain C twin every SIMD kernel is tested against, besides sl_qconv_ref).
 * Layouts: see qgemm.h. */
#include "nn/qgemm.h"

#include <string.h>

void sl_qa_row_s16(const sl_qconv *c, const void *src, size_t n, void *dst) {
    const int16_t zp = (int16_t)c->d.in_zp;
    int16_t *o = dst;
    if (c->d.act_type == SL_QTYPE_U8) {
        const uint8_t *s = src;
        for (size_t i = 0; i < n; i++) o[i] = (int16_t)(s[i] - zp);
    } else {
        const int8_t *s = src;
        for (size_t i = 0; i < n; i++) o[i] = (int16_t)(s[i] - zp);
    }
}

void sl_qa_row_u8(const sl_qconv *c, const void *src, size_t n, void *dst) {
    const uint8_t x = c->axor, *s = src;
    uint8_t *o = dst;
    for (size_t i = 0; i < n; i++) o[i] = (uint8_t)(s[i] ^ x);
}

/* n padding elements: the encoded zero point (u8) or 0 (int16). */
static void fill_pad(const sl_qconv *c, uint8_t *dst, size_t n) {
    if (c->isa->a_u8) memset(dst, (int)c->zp_p, n);
    else memset(dst, 0, n * 2);
}

/* Encodes a run of n activations: short runs (a few channels of a stem
 * convolution) inline, 8 bytes at a time, long ones with the ISA's vector
 * encoder. x8 is the u8 encoding's xor mask in every byte. */
static inline void encode_run(const sl_qconv *c, const uint8_t *src, size_t n, uint8_t *dst,
                              uint64_t x8, int u8, int32_t zp, int s8) {
    if (n >= 32) {
        c->isa->a_row(c, src, n, dst);
    } else if (u8) {
        size_t i = 0;
        uint64_t v;
        for (; i + 8 <= n; i += 8) {
            memcpy(&v, src + i, 8);
            v ^= x8;
            memcpy(dst + i, &v, 8);
        }
        if (i < n && n >= 8) { /* the last 8 bytes, overlapping */
            memcpy(&v, src + n - 8, 8);
            v ^= x8;
            memcpy(dst + n - 8, &v, 8);
        } else {
            for (; i < n; i++) dst[i] = (uint8_t)(src[i] ^ (uint8_t)x8);
        }
    } else {
        int16_t *o = (int16_t *)(void *)dst;
        if (!s8)
            for (size_t i = 0; i < n; i++) o[i] = (int16_t)(src[i] - zp);
        else
            for (size_t i = 0; i < n; i++) o[i] = (int16_t)((int8_t)src[i] - zp);
    }
}

void sl_qgemm_im2col(const sl_qconv *c, const void *input, int64_t m0, int mr, uint8_t *dst,
                     size_t stride) {
    const sl_qconv_desc *d = &c->d;
    const int u8 = c->isa->a_u8, s8 = d->act_type == SL_QTYPE_S8;
    const size_t es = u8 ? 1 : 2;
    const uint64_t x8 = 0x0101010101010101ull * c->axor;
    const int32_t zp = d->in_zp;
    const size_t ic = (size_t)d->in_c, run = (size_t)d->k_w * ic;
    const size_t tail = (size_t)(c->Kp - c->K) * es;
    /* (b, oy, ox) of row m0, then stepped row by row */
    int64_t ox = m0 % d->out_w, t = m0 / d->out_w;
    int64_t oy = t % d->out_h, b = t / d->out_h;
    /* Stem convolutions (a few input channels: runs of at most 16 bytes)
     * copy each filter row with one 16-byte load, xor and store when the whole
     * window is inside the image, the load stays inside the input tensor
     * and the store inside the panel row (the overhang is overwritten by
     * the next run or lies past Kp). */
    const size_t in_bytes = (size_t)d->batch * d->in_h * d->in_w * ic;
    const int fast16 =
        u8 && d->dil_w == 1 && run <= 16 && (size_t)(d->k_h - 1) * run + 16 <= stride;
    for (int r = 0; r < mr; r++, dst += stride) {
        const int64_t ix0 = ox * d->stride_w - d->pad_left;
        const int inside = d->dil_w == 1 && ix0 >= 0 && ix0 + d->k_w <= d->in_w;
        uint8_t *o = dst;
        if (fast16 && inside) {
            const int64_t iy0 = oy * d->stride_h - d->pad_top;
            const int64_t iy1 = iy0 + (int64_t)(d->k_h - 1) * d->dil_h;
            /* offset of the last run's first byte in the input */
            const size_t last = (((size_t)b * d->in_h + (size_t)iy1) * d->in_w + (size_t)ix0) * ic;
            if (iy0 >= 0 && iy1 < d->in_h && last + 16 <= in_bytes) {
                const size_t first =
                    (((size_t)b * d->in_h + (size_t)iy0) * d->in_w + (size_t)ix0) * ic;
                const uint8_t *src = (const uint8_t *)input + first;
                const size_t rstep = (size_t)d->dil_h * d->in_w * ic;
                for (int ky = 0; ky < d->k_h; ky++, src += rstep, o += run) {
                    uint64_t v[2];
                    memcpy(v, src, 16);
                    v[0] ^= x8;
                    v[1] ^= x8;
                    memcpy(o, v, 16);
                }
                for (size_t i = 0; i < tail; i++) o[i] = 0;
                goto next;
            }
        }
        for (int ky = 0; ky < d->k_h; ky++) {
            const int64_t iy = oy * d->stride_h - d->pad_top + (int64_t)ky * d->dil_h;
            if (iy < 0 || iy >= d->in_h) {
                fill_pad(c, o, run);
                o += run * es;
                continue;
            }
            /* (in_w, in_c) activations of input row iy; 1 byte each */
            const uint8_t *row =
                (const uint8_t *)input + ((size_t)b * d->in_h + (size_t)iy) * d->in_w * ic;
            if (inside) { /* the whole filter row is inside: one run */
                encode_run(c, row + (size_t)ix0 * ic, run, o, x8, u8, zp, s8);
                o += run * es;
                continue;
            }
            for (int kx = 0; kx < d->k_w; kx++) {
                const int64_t ix = ix0 + (int64_t)kx * d->dil_w;
                if (ix < 0 || ix >= d->in_w) fill_pad(c, o, ic);
                else encode_run(c, row + (size_t)ix * ic, ic, o, x8, u8, zp, s8);
                o += ic * es;
            }
        }
        for (size_t i = 0; i < tail; i++) o[i] = 0;
    next:
        if (++ox == d->out_w) {
            ox = 0;
            if (++oy == d->out_h) {
                oy = 0;
                b++;
            }
        }
    }
}

/* ---- the scalar kernel ------------------------------------------------- */

/* Scalar panels are 16 columns wide; B is (Kp, 16) int16 per panel and A
 * rows are int16, so products are exact in int32 and sums wrap in uint32
 * (defined behaviour; equal to the reference whenever it does not
 * overflow). Four rows at a time keep 64 accumulators, which compilers
 * vectorize over the 16 columns. */
enum { SMR = 4, SNB = SL_QK_SCALAR_LANES };

static void gemm_scalar(const sl_qconv *c, const sl_qgemm_tile *t) {
    const int N = c->d.out_c, Kp = c->Kp;
    for (int p = t->p0; p < t->p1; p++) {
        const sl_qpanel *pn = &c->panels[p];
        const int16_t *B = (const int16_t *)(const void *)(c->b + pn->boff);
        const int ncols = SL_MIN(SNB, N - pn->n0);
        for (int r0 = 0; r0 < t->mr; r0 += SMR) {
            const int nr = SL_MIN(SMR, t->mr - r0);
            const int16_t *A[SMR];
            for (int r = 0; r < SMR; r++)
                A[r] = (const int16_t *)(const void *)((const uint8_t *)t->a +
                                                       (size_t)(r0 + SL_MIN(r, nr - 1)) * t->lda);
            uint32_t acc[SMR][SNB];
            for (int r = 0; r < SMR; r++)
                for (int n = 0; n < SNB; n++)
                    acc[r][n] = n < ncols ? (uint32_t)c->colc[pn->n0 + n] : 0;
            for (int k = 0; k < Kp; k++) {
                const int16_t *bk = B + (size_t)k * SNB;
                for (int r = 0; r < SMR; r++) {
                    const int32_t a = A[r][k];
                    for (int n = 0; n < SNB; n++) acc[r][n] += (uint32_t)(a * bk[n]);
                }
            }
            for (int r = 0; r < nr; r++) {
                uint8_t *o = t->c + (size_t)(r0 + r) * N + pn->n0;
                for (int n = 0; n < ncols; n++) o[n] = sl_qreq1(c, acc[r][n], pn->n0 + n);
            }
        }
    }
}

const sl_qk_isa sl_qk_scalar = {
    .gemm_name = "gemm-scalar",
    .dw_name = "dw-scalar",
    .lanes = SNB,
    .kstep = 1,
    .max_nv = 1,
    .a_u8 = 0,
    .a_row = sl_qa_row_s16,
    .rowsum = NULL,
    .gemm = gemm_scalar,
    .dw_pairs = sl_qdw_pairs_scalar,
    .dw_row = sl_qdw_row_scalar,
};
