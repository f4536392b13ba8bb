/* The fast quantized convolutions: validation, weight packing, kernel
 * choice (runtime dispatch on sl_cpu()) and the split of the work over
 * the thread pool. The kernels live in qgemm*.c / qdw*.c; the layouts and
 * the arithmetic are described in qgemm.h and docs/KERNELS.md. */
#include "nn/qgemm.h"

#include <stdlib.h>
#include <string.h>

/* Packed weights above this are refused: no real layer comes near it, and
 * a hostile model must not make us allocate gigabytes. Channel counts are
 * capped first so that no size computation can overflow. */
#define SL_QPACK_MAX ((uint64_t)256 << 20)
#define SL_QMAX_CHANNELS (1 << 24)
/* Budget for one thread's im2col panel; taller-K layers get fewer rows. */
#define SL_QPANEL_BUDGET ((size_t)4 << 20)
/* Pair rows of one depthwise task should stay in L1 (Zen 4: 32 KiB). */
#define SL_QDW_L1 ((size_t)24 << 10)
#define SL_QDW_MAX_SCRATCH ((uint64_t)64 << 20)

static size_t round_up(size_t x, size_t a) { return (x + a - 1) / a * a; }

static int64_t gcd64(int64_t a, int64_t b) {
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

void sl_qconv_free(sl_qconv *c) {
    if (!c) return;
    free(c->colc);
    free(c->mult);
    free(c->shift);
    sl_free_aligned(c->ep);
    free(c->panels);
    sl_free_aligned(c->b);
    free(c->dw_w);
    free(c);
}

static void type_range(sl_qtype t, int32_t *lo, int32_t *hi) {
    *lo = t == SL_QTYPE_U8 ? 0 : -128;
    *hi = t == SL_QTYPE_U8 ? 255 : 127;
}

static sl_status validate(const sl_qconv_desc *d, const sl_qconv_weights *w) {
    sl_status st = sl_qconv_check(d);
    if (st) return st;
    if (!w || !w->filter || !w->mult || !w->shift)
        return sl_fail(SL_ERR_ARG, "qconv: NULL filter, multipliers or shifts");
    if ((d->act_type != SL_QTYPE_U8 && d->act_type != SL_QTYPE_S8) ||
        (d->filter_type != SL_QTYPE_U8 && d->filter_type != SL_QTYPE_S8))
        return sl_fail(SL_ERR_ARG, "qconv: unknown activation or filter type");
    int32_t lo, hi;
    type_range(d->act_type, &lo, &hi);
    if (d->in_zp < lo || d->in_zp > hi || d->out_zp < lo || d->out_zp > hi)
        return sl_fail(SL_ERR_ARG, "qconv: zero points %d, %d outside [%d, %d]", d->in_zp,
                       d->out_zp, lo, hi);
    if (d->act_min < lo || d->act_max > hi)
        return sl_fail(SL_ERR_ARG, "qconv: activation range [%d, %d] outside [%d, %d]",
                       d->act_min, d->act_max, lo, hi);
    if (d->filter_type == SL_QTYPE_U8 && (d->filter_zp < 0 || d->filter_zp > 255))
        return sl_fail(SL_ERR_ARG, "qconv: filter zero point %d outside [0, 255]", d->filter_zp);
    if (d->out_c > SL_QMAX_CHANNELS || d->in_c > SL_QMAX_CHANNELS)
        return sl_fail(SL_ERR_LIMIT, "qconv: %d -> %d channels exceed the cap of %d", d->in_c,
                       d->out_c, SL_QMAX_CHANNELS);
    for (int n = 0; n < d->out_c; n++)
        if (w->shift[n] < -31 || w->shift[n] > 31)
            return sl_fail(SL_ERR_ARG, "qconv: channel %d shift %d outside [-31, 31]", n,
                           w->shift[n]);
    return SL_OK;
}

static const sl_qk_isa *isa_for(sl_cpu_level level) {
#ifndef SL_NO_X86_SIMD
    switch (level) {
    case SL_CPU_AVX512VNNI: return &sl_qk_avx512vnni;
    case SL_CPU_AVX512: return &sl_qk_avx512;
    case SL_CPU_AVX2: return &sl_qk_avx2;
    case SL_CPU_SCALAR: break;
    }
#else
    (void)level;
#endif
    return &sl_qk_scalar;
}

/* Filter tap k of output channel n, as an integer. */
static inline int32_t filt(const sl_qconv_desc *d, const void *f, size_t i) {
    return d->filter_type == SL_QTYPE_U8 ? (int32_t)((const uint8_t *)f)[i]
                                         : (int32_t)((const int8_t *)f)[i];
}

/* ---- CONV_2D as a GEMM -------------------------------------------------- */

static sl_status prep_gemm(sl_qconv *c, const sl_qconv_weights *w) {
    const sl_qconv_desc *d = &c->d;
    const sl_qk_isa *isa = c->isa;
    const int N = d->out_c, W = isa->lanes, ks = isa->kstep;
    const size_t es = isa->a_u8 ? 1 : 2;
    /* sl_qconv_check bounds k_h * k_w * in_c by 2^24. */
    c->K = d->k_h * d->k_w * d->in_c;
    c->Kp = (int)round_up((size_t)c->K, (size_t)ks);
    const int K = c->K;

    if (isa->a_u8) {
        c->axor = d->act_type == SL_QTYPE_S8 ? 0x80 : 0;
        c->zp_p = d->in_zp + (d->act_type == SL_QTYPE_S8 ? 128 : 0);
        c->wxor = d->filter_type == SL_QTYPE_U8 ? 0x80 : 0;
        c->zp_q = d->filter_type == SL_QTYPE_U8 ? d->filter_zp - 128 : 0;
    }
    const int nvec = (int)(((int64_t)N + W - 1) / W);
    c->npanels = (nvec + isa->max_nv - 1) / isa->max_nv;
    uint64_t bytes = (uint64_t)c->Kp * (uint64_t)nvec * (uint64_t)W * es;
    if (bytes > SL_QPACK_MAX)
        return sl_fail(SL_ERR_LIMIT, "qconv: packed weights of %llu bytes exceed the cap",
                       (unsigned long long)bytes);
    for (int n = 0; n < N; n++) {
        int64_t sum = 0;
        const size_t base = (size_t)n * K;
        if (isa->a_u8)
            for (int k = 0; k < K; k++) sum += filt(d, w->filter, base + k) - d->filter_zp;
        uint32_t b = w->bias ? (uint32_t)w->bias[n] : 0;
        c->colc[n] = (int32_t)(b - (uint32_t)(int64_t)(c->zp_p * sum));
    }
    c->panels = calloc((size_t)c->npanels, sizeof *c->panels);
    c->b = sl_malloc_aligned((size_t)bytes);
    if (!c->panels || !c->b) return sl_fail(SL_ERR_NOMEM, "qconv: out of memory");
    /* Balanced panel widths (9 vectors of max 4 -> 3+3+3, not 4+4+1). */
    int vec = 0;
    size_t off = 0;
    for (int p = 0; p < c->npanels; p++) {
        sl_qpanel *pn = &c->panels[p];
        pn->nv = nvec / c->npanels + (p < nvec % c->npanels);
        pn->n0 = vec * W;
        pn->boff = off;
        const int cols = pn->nv * W;
        uint8_t *blk = c->b + off;
        /* (Kp / ks, cols, ks) elements: k-step major, then column, then
         * the ks consecutive k of one lane. */
        for (int kk = 0; kk < c->Kp / ks; kk++)
            for (int col = 0; col < cols; col++)
                for (int s = 0; s < ks; s++) {
                    const int k = kk * ks + s, n = pn->n0 + col;
                    const size_t at = ((size_t)kk * cols + col) * ks + s;
                    int32_t v = 0;
                    if (k < K && n < N) {
                        const size_t i = (size_t)n * K + k;
                        v = isa->a_u8 ? (int32_t)(int8_t)(((const uint8_t *)w->filter)[i] ^ c->wxor)
                                      : filt(d, w->filter, i) - d->filter_zp;
                    }
                    if (es == 1) blk[at] = (uint8_t)v;
                    else ((int16_t *)(void *)blk)[at] = (int16_t)v;
                }
        off += (size_t)c->Kp * cols * es;
        vec += pn->nv;
    }

    c->direct = isa->a_u8 && c->axor == 0 && d->k_h == 1 && d->k_w == 1 && d->pad_top == 0 &&
                d->pad_left == 0 && d->stride_h == 1 && d->stride_w == 1 &&
                d->in_h == d->out_h && d->in_w == d->out_w && K % 4 == 0;
    c->a_stride = round_up((size_t)c->Kp * es, 64);
    size_t mt = 24;
    if (mt * c->a_stride > SL_QPANEL_BUDGET) mt = SL_MAX((size_t)1, SL_QPANEL_BUDGET / c->a_stride);
    c->mt = (int)mt;
    const int64_t M = (int64_t)d->batch * d->out_h * d->out_w;
    const int64_t tiles = (M + c->mt - 1) / c->mt;
    /* Few pixels (late layers, FULLY_CONNECTED): split the channels too so
     * that every thread gets work. Depends on the shape only. */
    c->nchunks = tiles >= 8 ? 1 : (int)SL_MIN((int64_t)c->npanels, (16 + tiles - 1) / tiles);
    c->scratch = round_up(mt * 4, 64) + (c->direct ? 0 : mt * c->a_stride);
    return SL_OK;
}

/* ---- DEPTHWISE_CONV_2D -------------------------------------------------- */

static sl_status prep_dw(sl_qconv *c, const sl_qconv_weights *w) {
    const sl_qconv_desc *d = &c->d;
    const int C = d->out_c, W = c->isa->lanes, kh = d->k_h, kw = d->k_w;
    const int M = (kw + 1) / 2;
    c->dw_M = M;
    c->dw_Cp = (int)round_up((size_t)C, (size_t)W);
    uint64_t bytes = (uint64_t)kh * (uint64_t)M * (uint64_t)c->dw_Cp * 4;
    if (bytes > SL_QPACK_MAX)
        return sl_fail(SL_ERR_LIMIT, "qconv: packed depthwise filter of %llu bytes exceeds the cap",
                       (unsigned long long)bytes);
    c->dw_w = calloc((size_t)bytes / 2, sizeof(int16_t));
    if (!c->dw_w) return sl_fail(SL_ERR_NOMEM, "qconv: out of memory");
    for (int ky = 0; ky < kh; ky++)
        for (int kx = 0; kx < kw; kx++)
            for (int n = 0; n < C; n++) {
                /* filter (1, k_h, k_w, out_c) */
                int32_t v = filt(d, w->filter, ((size_t)ky * kw + kx) * C + n) - d->filter_zp;
                c->dw_w[((size_t)(ky * M + kx / 2) * c->dw_Cp + n) * 2 + (kx & 1)] = (int16_t)v;
            }
    for (int n = 0; n < C; n++) c->colc[n] = w->bias ? w->bias[n] : 0;

    const int64_t L = gcd64(d->stride_w, 2 * (int64_t)d->dil_w);
    const int64_t jox = d->stride_w / L, jm = 2 * (int64_t)d->dil_w / L;
    const int64_t nj = (int64_t)(d->out_w - 1) * jox + (int64_t)(M - 1) * jm + 1;
    const int64_t R = (int64_t)(kh - 1) * d->dil_h + 1;
    c->kind = SL_QK_DW_GENERIC;
    c->scratch = round_up((size_t)C * 4, 64);
    if (R > SL_QDW_MAX_RING || (int64_t)kh * M > SL_QDW_MAX_TAPS || nj > 65536) return SL_OK;
    /* Channel block: as wide as possible (up to 4 vectors) while the ring of
     * pair rows stays in L1. */
    int v = 4;
    while (v > 1 && ((size_t)R * (size_t)nj * (size_t)(v * W) * 4 > SL_QDW_L1 || v * W > c->dw_Cp))
        v /= 2;
    const uint64_t ring = (uint64_t)R * (uint64_t)nj * (uint64_t)(v * W) * 4;
    if (ring > SL_QDW_MAX_SCRATCH) return SL_OK;
    c->kind = SL_QK_DW;
    c->dw_L = (int)L;
    c->dw_jox = (int)jox;
    c->dw_jm = (int)jm;
    c->dw_nj = (int)nj;
    c->dw_R = (int)R;
    c->dw_cb = v * W;
    /* Bands of output rows: long enough to reuse converted rows, short
     * enough to give every thread several tasks. */
    c->dw_band = (int)SL_MIN((int64_t)d->out_h, SL_MAX(2 * R, ((int64_t)d->out_h + 7) / 8));
    c->scratch = round_up((size_t)ring, 64);
    return SL_OK;
}

/* ---- requantization blocks ---------------------------------------------- */

/* AVX-512 (16 lanes) shifts arithmetically, so t = x'q + K1 may be
 * negative; out_zp * 2^(31+e) joins K1 when |t| stays below 2^63, which
 * (|out_zp| + 1) * 2^(31+e) <= 2^62 guarantees for e <= 23. AVX2 (8 lanes)
 * shifts logically: K1 carries +2^62 (t >= 0) and ZPC removes the
 * 2^(62-31-e) it adds to the quotient. */
static sl_status prep_ep(sl_qconv *c) {
    const int N = c->d.out_c, W = c->isa->lanes;
    const int nblk = (int)(((int64_t)N + W - 1) / W);
    const int arith = W == 16;
    c->ep = sl_malloc_aligned((size_t)nblk * SL_QEP_FIELDS * W * sizeof(int32_t));
    if (!c->ep) return sl_fail(SL_ERR_NOMEM, "qconv: out of memory");
    c->g.zp_folded = arith;
    c->g.odd_hi = 1;
    for (int n = 0; n < N; n++) {
        if (c->shift[n] < -23) c->g.zp_folded = 0;
        if (c->shift[n] > -1) c->g.odd_hi = 0;
    }
    for (int g = 0; g < nblk; g++) {
        int32_t *e = c->ep + (size_t)g * SL_QEP_FIELDS * W;
        for (int i = 0; i < W; i++) {
            const int n = g * W + i;
            const int32_t q = n < N ? c->mult[n] : 0, s = n < N ? c->shift[n] : 0;
            const int left = s > 0 ? s : 0, ex = s > 0 ? 0 : -s;
            const int odd = i & 1;
            int64_t *q64 = (int64_t *)(void *)(e + SL_QEP_QO * W);
            int64_t *k1 = (int64_t *)(void *)(e + (odd ? SL_QEP_K1O : SL_QEP_K1E) * W);
            int64_t *f = (int64_t *)(void *)(e + (odd ? SL_QEP_FO : SL_QEP_FE) * W);
            int64_t *sh = (int64_t *)(void *)(e + (odd ? SL_QEP_SO : SL_QEP_SE) * W);
            e[SL_QEP_COLC * W + i] = n < N ? c->colc[n] : 0;
            e[SL_QEP_LEFT * W + i] = left;
            e[SL_QEP_Q * W + i] = q;
            if (odd) q64[i / 2] = q;
            int64_t k = ((int64_t)1 << 30) + (ex ? (int64_t)1 << (30 + ex) : 0);
            int32_t zpc;
            if (!arith) {
                k += (int64_t)1 << 62;
                zpc = (int32_t)((uint32_t)c->g.out_zp - ((uint32_t)1 << (31 - ex)));
            } else if (c->g.zp_folded) {
                k += (int64_t)c->g.out_zp * ((int64_t)1 << (31 + ex));
                zpc = 0;
            } else {
                zpc = c->g.out_zp;
            }
            k1[i / 2] = k;
            f[i / 2] = ex ? (int64_t)1 << 31 : 0;
            sh[i / 2] = 31 + ex - (odd && c->g.odd_hi ? 32 : 0);
            e[SL_QEP_ZPC * W + i] = zpc;
        }
    }
    return SL_OK;
}

/* ---- prepare -------------------------------------------------------------- */

sl_status sl_qconv_prepare_level(const sl_qconv_desc *d, const sl_qconv_weights *w,
                                 sl_cpu_level level, sl_qconv **out) {
    if (!out) return sl_fail(SL_ERR_ARG, "qconv: NULL output handle");
    *out = NULL;
    sl_status st = validate(d, w);
    if (st) return st;
    if ((int)level < SL_CPU_SCALAR || level > SL_CPU_AVX512VNNI)
        return sl_fail(SL_ERR_ARG, "qconv: unknown CPU level %d", (int)level);
    if (level > sl_cpu())
        return sl_fail(SL_ERR_UNSUPPORTED, "qconv: CPU level %s is not available (have %s)",
                       sl_cpu_name(level), sl_cpu_name(sl_cpu()));
#ifdef SL_NO_X86_SIMD
    if (level > SL_CPU_SCALAR)
        return sl_fail(SL_ERR_UNSUPPORTED, "qconv: built without the %s kernels",
                       sl_cpu_name(level));
#endif
    sl_qconv *c = calloc(1, sizeof *c);
    if (!c) return sl_fail(SL_ERR_NOMEM, "qconv: out of memory");
    c->d = *d;
    c->level = level;
    c->isa = isa_for(level);
    const int N = d->out_c;
    c->colc = sl_malloc_array((size_t)N, sizeof(int32_t));
    c->mult = sl_malloc_array((size_t)N, sizeof(int32_t));
    c->shift = sl_malloc_array((size_t)N, sizeof(int32_t));
    if (!c->colc || !c->mult || !c->shift) {
        sl_qconv_free(c);
        return sl_fail(SL_ERR_NOMEM, "qconv: out of memory");
    }
    memcpy(c->mult, w->mult, (size_t)N * sizeof(int32_t));
    memcpy(c->shift, w->shift, (size_t)N * sizeof(int32_t));
    c->g.act_min = d->act_min;
    c->g.act_max = d->act_max;
    c->g.out_zp = d->out_zp;
    c->g.out_s8 = d->act_type == SL_QTYPE_S8;
    int32_t tlo, thi;
    type_range(d->act_type, &tlo, &thi);
    c->g.full_range = d->act_min == tlo && d->act_max == thi;
    for (int n = 0; n < N; n++) {
        if (c->shift[n] > 0) c->g.any_left = 1;
        if (c->mult[n] == INT32_MIN) c->g.sat = 1;
    }
    if (d->depthwise) {
        st = prep_dw(c, w);
        c->name = c->kind == SL_QK_DW ? c->isa->dw_name : "dw-generic";
    } else {
        c->kind = SL_QK_GEMM;
        st = prep_gemm(c, w);
        c->name = c->isa->gemm_name;
    }
    if (!st && c->isa != &sl_qk_scalar) st = prep_ep(c);
    if (st) {
        sl_qconv_free(c);
        return st;
    }
    *out = c;
    return SL_OK;
}

sl_status sl_qconv_prepare(const sl_qconv_desc *d, const sl_qconv_weights *w, sl_qconv **out) {
    return sl_qconv_prepare_level(d, w, sl_cpu(), out);
}

sl_cpu_level sl_qconv_level(const sl_qconv *c) { return c ? c->level : SL_CPU_SCALAR; }

const char *sl_qconv_kernel_name(const sl_qconv *c) { return c ? c->name : "none"; }

size_t sl_qconv_scratch_size(const sl_qconv *c) { return c ? c->scratch : 0; }

/* ---- run ------------------------------------------------------------------ */

typedef struct run_ctx {
    const sl_qconv *c;
    const void *in;
    void *out;
    uint8_t *scratch;
    size_t stride;
    int64_t n_bands, n_blocks; /* depthwise task grid */
} run_ctx;

static void gemm_task(void *vctx, size_t task, int thread) {
    const run_ctx *x = vctx;
    const sl_qconv *c = x->c;
    const sl_qconv_desc *d = &c->d;
    const int64_t M = (int64_t)d->batch * d->out_h * d->out_w;
    const int64_t tile = (int64_t)(task / (size_t)c->nchunks);
    const int chunk = (int)(task % (size_t)c->nchunks);
    const int64_t m0 = tile * c->mt;
    const int mr = (int)SL_MIN((int64_t)c->mt, M - m0);
    uint8_t *scr = x->scratch + (size_t)thread * x->stride;
    int32_t *rowc = (int32_t *)(void *)scr;
    uint8_t *panel = scr + round_up((size_t)c->mt * 4, 64);
    sl_qgemm_tile t;
    if (c->direct) {
        t.a = (const uint8_t *)x->in + (size_t)m0 * c->K;
        t.lda = (size_t)c->K;
    } else {
        sl_qgemm_im2col(c, x->in, m0, mr, panel, c->a_stride);
        t.a = panel;
        t.lda = c->a_stride;
    }
    t.mr = mr;
    t.rowc = NULL;
    if (c->isa->a_u8 && c->zp_q != 0) {
        c->isa->rowsum(t.a, t.lda, mr, c->K, -c->zp_q, rowc);
        t.rowc = rowc;
    }
    t.p0 = (int)((int64_t)chunk * c->npanels / c->nchunks);
    t.p1 = (int)((int64_t)(chunk + 1) * c->npanels / c->nchunks);
    t.c = (uint8_t *)x->out + (size_t)m0 * d->out_c;
    c->isa->gemm(c, &t);
}

static void dw_task(void *vctx, size_t task, int thread) {
    const run_ctx *x = vctx;
    const sl_qconv *c = x->c;
    const sl_qconv_desc *d = &c->d;
    const int64_t blk = (int64_t)task % x->n_blocks, t2 = (int64_t)task / x->n_blocks;
    const int64_t band = t2 % x->n_bands, b = t2 / x->n_bands;
    const int c0 = (int)blk * c->dw_cb, cw = SL_MIN(c->dw_cb, d->out_c - c0);
    const int oy0 = (int)band * c->dw_band, oy1 = SL_MIN(d->out_h, oy0 + c->dw_band);
    int16_t *ring = (int16_t *)(void *)(x->scratch + (size_t)thread * x->stride);
    const size_t slot_elems = (size_t)c->dw_nj * c->dw_cb * 2;
    int64_t tag[SL_QDW_MAX_RING];
    const int16_t *rows[SL_QDW_MAX_RING];
    for (int s = 0; s < c->dw_R; s++) tag[s] = -1;
    /* (in_h, in_w, in_c) image b, (out_h, out_w, out_c) output b */
    const uint8_t *img = (const uint8_t *)x->in + (size_t)b * d->in_h * d->in_w * d->in_c;
    uint8_t *oimg = (uint8_t *)x->out + (size_t)b * d->out_h * d->out_w * d->out_c;
    for (int oy = oy0; oy < oy1; oy++) {
        for (int ky = 0; ky < d->k_h; ky++) {
            const int64_t iy = (int64_t)oy * d->stride_h - d->pad_top + (int64_t)ky * d->dil_h;
            rows[ky] = NULL;
            if (iy < 0 || iy >= d->in_h) continue;
            const int s = (int)(iy % c->dw_R);
            int16_t *buf = ring + (size_t)s * slot_elems;
            if (tag[s] != iy) {
                c->isa->dw_pairs(c, img + (size_t)iy * d->in_w * d->in_c, c0, cw, buf);
                tag[s] = iy;
            }
            rows[ky] = buf;
        }
        c->isa->dw_row(c, rows, c0, cw, oimg + (size_t)oy * d->out_w * d->out_c);
    }
}

enum { SL_QDW_GENERIC_PIXELS = 64 };

static void dw_generic_task(void *vctx, size_t task, int thread) {
    const run_ctx *x = vctx;
    const sl_qconv_desc *d = &x->c->d;
    const int64_t P = (int64_t)d->batch * d->out_h * d->out_w;
    const int64_t p0 = (int64_t)task * SL_QDW_GENERIC_PIXELS;
    uint32_t *acc = (uint32_t *)(void *)(x->scratch + (size_t)thread * x->stride);
    sl_qdw_generic(x->c, x->in, x->out, p0, SL_MIN(P, p0 + SL_QDW_GENERIC_PIXELS), acc);
}

void sl_qconv_run(const sl_qconv *c, const void *input, void *output, sl_pool *pool,
                  void *scratch, size_t scratch_stride) {
    const sl_qconv_desc *d = &c->d;
    run_ctx x = {c, input, output, scratch, scratch_stride, 0, 0};
    if (c->kind == SL_QK_GEMM) {
        const int64_t M = (int64_t)d->batch * d->out_h * d->out_w;
        const int64_t tiles = (M + c->mt - 1) / c->mt;
        sl_pool_run(pool, (size_t)tiles * (size_t)c->nchunks, gemm_task, &x);
    } else if (c->kind == SL_QK_DW) {
        x.n_bands = (d->out_h + c->dw_band - 1) / c->dw_band;
        x.n_blocks = (d->out_c + c->dw_cb - 1) / c->dw_cb;
        sl_pool_run(pool, (size_t)(d->batch * x.n_bands * x.n_blocks), dw_task, &x);
    } else {
        const int64_t P = (int64_t)d->batch * d->out_h * d->out_w;
        sl_pool_run(pool, (size_t)((P + SL_QDW_GENERIC_PIXELS - 1) / SL_QDW_GENERIC_PIXELS),
                    dw_generic_task, &x);
    }
}
