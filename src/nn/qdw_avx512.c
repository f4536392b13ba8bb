/* AVX-512 depthwise kernels: pair rows (qgemm.h) times pair weights, 16
 * channels per zmm. Each int32 lane holds two int16 taps of one channel,
 * so vpmaddwd (or, with VNNI, vpdpwssd) applies two filter taps per lane:
 * |a - in_zp|, |w - filter_zp| <= 255, a pair sums to at most 130050 and
 * the accumulation wraps like the reference's int32. Compiled with
 * -mavx512vnni; SL_NOFUSE keeps the plain kernel free of vpdpwssd. */
#include "nn/qgemm_x86.h"

/* One pair-row entry of 16 channels: bytes at a and b (masked loads, m16
 * lanes) interleaved, widened to int16 and shifted by -in_zp; int16 lanes
 * outside `keep` are 0. */
static inline __attribute__((always_inline)) __m512i pair16(const uint8_t *a, const uint8_t *b,
                                                            __mmask16 la, __mmask16 lb,
                                                            __mmask32 keep, __m512i zp,
                                                            const int s8) {
    const __m128i va = _mm_maskz_loadu_epi8(la, a), vb = _mm_maskz_loadu_epi8(lb, b);
    /* a0 b0 a1 b1 ... a15 b15 */
    const __m256i ab = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_unpacklo_epi8(va, vb)),
                                               _mm_unpackhi_epi8(va, vb), 1);
    const __m512i w = s8 ? _mm512_cvtepi8_epi16(ab) : _mm512_cvtepu8_epi16(ab);
    return _mm512_maskz_sub_epi16(keep, w, zp);
}

/* Pair rows of channels [c0, c0 + cw): entries whose two columns are both
 * inside the row run in a tight loop; the few border entries clamp their
 * addresses into the row and mask the loads. */
static inline __attribute__((always_inline)) void pairs(const sl_qconv *c, const void *in_row,
                                                        int c0, int cw, int16_t *buf,
                                                        const int s8) {
    const sl_qconv_desc *d = &c->d;
    const int nv = c->dw_cb / 16, nj = c->dw_nj, L = c->dw_L;
    const int64_t in_w = d->in_w, dil = d->dil_w, padl = d->pad_left;
    const size_t C = (size_t)d->in_c;
    const __m512i zp = _mm512_set1_epi16((short)d->in_zp);
    /* entries with 0 <= x and x + dil < in_w */
    int64_t ja = (padl + L - 1) / L, jb = (in_w - 1 - dil + padl) / L + 1;
    if (in_w - 1 - dil + padl < 0) jb = 0;
    ja = SL_MIN(ja, (int64_t)nj);
    jb = SL_MAX(ja, SL_MIN(jb, (int64_t)nj));
    for (int v = 0; v < nv; v++) {
        const int n = SL_MAX(0, SL_MIN(16, cw - v * 16));
        const __mmask16 m16 = (__mmask16)((1u << n) - 1);
        const __mmask32 m32 = n == 16 ? ~(__mmask32)0 : (__mmask32)((1u << (2 * n)) - 1);
        /* (in_w, in_c) activations; this vector's channels */
        const uint8_t *src = (const uint8_t *)in_row + c0 + (size_t)v * 16;
        int32_t *e = (int32_t *)(void *)buf + (size_t)v * nj * 16;
        for (int64_t j = 0; j < nj; j++) {
            if (j == ja) { /* the interior */
                const uint8_t *p = src + (size_t)(j * L - padl) * C;
                const size_t step = (size_t)L * C, off = (size_t)dil * C;
                for (; j < jb; j++, p += step)
                    _mm512_storeu_si512((void *)(e + j * 16),
                                        pair16(p, p + off, m16, m16, m32, zp, s8));
                if (j >= nj) break;
            }
            const int64_t x = j * L - padl, x2 = x + dil;
            const int in1 = x >= 0 && x < in_w, in2 = x2 >= 0 && x2 < in_w;
            const __mmask32 keep = m32 & ((in1 ? 0x55555555u : 0) | (in2 ? 0xAAAAAAAAu : 0));
            const uint8_t *pa = src + (size_t)(in1 ? x : 0) * C;
            const uint8_t *pb = src + (size_t)(in2 ? x2 : 0) * C;
            _mm512_storeu_si512((void *)(e + j * 16),
                                pair16(pa, pb, in1 ? m16 : 0, in2 ? m16 : 0, keep, zp, s8));
        }
    }
}

void sl_qdw_pairs_avx512(const sl_qconv *c, const void *in_row, int c0, int cw, int16_t *buf) {
    if (c->d.depth_multiplier != 1) sl_qdw_pairs_scalar(c, in_row, c0, cw, buf);
    else if (c->d.act_type == SL_QTYPE_S8) pairs(c, in_row, c0, cw, buf, 1);
    else pairs(c, in_row, c0, cw, buf, 0);
}

/* acc += pairs at p (16 lanes) . w. The VNNI form is one vpdpwssd with a
 * memory operand, written as asm: GCC otherwise copies every accumulator
 * around the instruction's tied operand in this loop (clang does not). */
#define DOT_VNNI(acc, p, w) \
    __asm__("vpdpwssd %2, %1, %0" : "+v"(acc) : "v"(w), "m"(*(const __m512i_u *)(p)))
#define DOT_MADD(acc, p, w)                                                           \
    do {                                                                              \
        __m512i t_ = _mm512_madd_epi16(_mm512_loadu_si512((const void *)(p)), w);     \
        SL_NOFUSE(t_);                                                                \
        acc = _mm512_add_epi32(acc, t_);                                              \
    } while (0)

/* One output row, defined twice (VNNI and plain AVX-512 dot products) so
 * that neither copy holds the other's instructions even unoptimized. The
 * (valid filter row, tap pair) combinations are flattened into a list;
 * `jox_const` is the entry step between output pixels (a constant 1 or 2
 * in the specialised copies, 0: read c->dw_jox) and `mode` the epilogue
 * variant (SL_QM_*). Eight output pixels per step keep eight
 * independent accumulators; they are named variables rather than an array
 * so that GCC keeps them in registers without copies. */
#define SL_DW_ROW(NAME, DOTM)                                                                     \
    static inline __attribute__((always_inline)) void NAME(                                       \
        const sl_qconv *c, const int16_t *const *rows, int c0, int cw, uint8_t *out_row,          \
        const int jox_const, const int mode) {                                                    \
    const sl_qconv_desc *d = &c->d;                                                               \
    const int C = d->out_c, ow = d->out_w, M = c->dw_M, Cp = c->dw_Cp, nj = c->dw_nj;             \
    const size_t step = (size_t)(jox_const ? jox_const : c->dw_jox) * 16; /* int32 per pixel */   \
    const sl_qep_glob g = c->g; /* a local: byte stores cannot alias it */                        \
    const int32_t *tr[SL_QDW_MAX_TAPS], *tw[SL_QDW_MAX_TAPS];                                     \
    int nt = 0;                                                                                   \
    for (int ky = 0; ky < d->k_h; ky++) {                                                         \
        if (!rows[ky]) continue;                                                                  \
        for (int m = 0; m < M; m++) {                                                             \
            tr[nt] = (const int32_t *)(const void *)rows[ky] + (size_t)m * c->dw_jm * 16;         \
            tw[nt] = (const int32_t *)(const void *)c->dw_w + (size_t)(ky * M + m) * Cp + c0;     \
            nt++;                                                                                 \
        }                                                                                         \
    }                                                                                             \
    for (int v = 0; v * 16 < cw; v++) {                                                           \
        const int n = SL_MIN(16, cw - v * 16);                                                    \
        const int32_t *ep = c->ep + (size_t)(c0 / 16 + v) * SL_QEP_FIELDS * 16;                   \
        const __m512i cc = _mm512_load_si512((const void *)(ep + SL_QEP_COLC * 16));              \
        const size_t voff = (size_t)v * nj * 16;                                                  \
        uint8_t *o = out_row + c0 + v * 16;                                                       \
        for (int ox = 0; ox + 8 <= ow; ox += 8) {                                                 \
            __m512i a0 = cc, a1 = cc, a2 = cc, a3 = cc, a4 = cc, a5 = cc, a6 = cc, a7 = cc;       \
            for (int t = 0; t < nt; t++) {                                                        \
                const __m512i w = _mm512_loadu_si512((const void *)(tw[t] + v * 16));             \
                const int32_t *p = tr[t] + voff + (size_t)ox * step;                              \
                DOTM(a0, p, w);                                                                   \
                DOTM(a1, p + step, w);                                                            \
                DOTM(a2, p + 2 * step, w);                                                        \
                DOTM(a3, p + 3 * step, w);                                                        \
                DOTM(a4, p + 4 * step, w);                                                        \
                DOTM(a5, p + 5 * step, w);                                                        \
                DOTM(a6, p + 6 * step, w);                                                        \
                DOTM(a7, p + 7 * step, w);                                                        \
            }                                                                                     \
            uint8_t *q = o + (size_t)ox * C;                                                      \
            sl_st16(q, sl_q512m(a0, ep, &g, mode), n);                                            \
            sl_st16(q + C, sl_q512m(a1, ep, &g, mode), n);                                        \
            sl_st16(q + 2 * (size_t)C, sl_q512m(a2, ep, &g, mode), n);                            \
            sl_st16(q + 3 * (size_t)C, sl_q512m(a3, ep, &g, mode), n);                            \
            sl_st16(q + 4 * (size_t)C, sl_q512m(a4, ep, &g, mode), n);                            \
            sl_st16(q + 5 * (size_t)C, sl_q512m(a5, ep, &g, mode), n);                            \
            sl_st16(q + 6 * (size_t)C, sl_q512m(a6, ep, &g, mode), n);                            \
            sl_st16(q + 7 * (size_t)C, sl_q512m(a7, ep, &g, mode), n);                            \
        }                                                                                         \
    }                                                                                             \
    /* The pixels left of every vector (all of them when the row is                               \
     * narrower than 8) as a flat list of (pixel, vector) items, 8 at a time                      \
     * so that 8 accumulator chains stay independent; the last group                              \
     * repeats its last item and does not store it twice. */                                      \
    const int ox0 = ow / 8 * 8, nv = (cw + 15) / 16;                                              \
    const int items = (ow - ox0) * nv;                                                            \
    for (int base = 0; base < items; base += 8) {                                                 \
        size_t poff[8], woff[8];                                                                  \
        const int32_t *eps[8];                                                                    \
        uint8_t *dst[8];                                                                          \
        int ns[8];                                                                                \
        __m512i acc[8];                                                                           \
        _Pragma("GCC unroll 8")                                                                   \
        for (int i = 0; i < 8; i++) {                                                             \
            const int k = SL_MIN(base + i, items - 1), ox = ox0 + k / nv, v = k % nv;             \
            poff[i] = (size_t)v * nj * 16 + (size_t)ox * step;                                    \
            woff[i] = (size_t)v * 16;                                                             \
            eps[i] = c->ep + (size_t)(c0 / 16 + v) * SL_QEP_FIELDS * 16;                          \
            dst[i] = out_row + (size_t)ox * C + c0 + v * 16;                                      \
            ns[i] = base + i < items ? SL_MIN(16, cw - v * 16) : 0;                               \
            acc[i] = _mm512_load_si512((const void *)(eps[i] + SL_QEP_COLC * 16));                \
        }                                                                                         \
        for (int t = 0; t < nt; t++) {                                                            \
            _Pragma("GCC unroll 8")                                                               \
            for (int i = 0; i < 8; i++) {                                                         \
                const __m512i w = _mm512_loadu_si512((const void *)(tw[t] + woff[i]));            \
                DOTM(acc[i], tr[t] + poff[i], w);                                                 \
            }                                                                                     \
        }                                                                                         \
        _Pragma("GCC unroll 8")                                                                   \
        for (int i = 0; i < 8; i++)                                                               \
            if (ns[i]) sl_st16(dst[i], sl_q512m(acc[i], eps[i], &g, mode), ns[i]);                \
    }                                                                                             \
}

SL_DW_ROW(dw_row_vnni, DOT_VNNI)
SL_DW_ROW(dw_row_madd, DOT_MADD)

/* Specialised copies: stride 1 and 2 (dw_jox 1, 2) with the common
 * epilogues, everything else through the general one. */
#define DW_ROW_VARIANTS(NAME, ROW)                                                               \
    void NAME(const sl_qconv *c, const int16_t *const *rows, int c0, int cw, uint8_t *out_row) { \
        const int mode = sl_qm_mode(&c->g), jox = c->dw_jox;                                     \
        if (jox == 1 && mode == SL_QM_U8FULL)                                                    \
            ROW(c, rows, c0, cw, out_row, 1, SL_QM_U8FULL);                                      \
        else if (jox == 1 && mode == SL_QM_S8FULL)                                               \
            ROW(c, rows, c0, cw, out_row, 1, SL_QM_S8FULL);                                      \
        else if (jox == 2 && mode == SL_QM_U8FULL)                                               \
            ROW(c, rows, c0, cw, out_row, 2, SL_QM_U8FULL);                                      \
        else if (jox == 2 && mode == SL_QM_S8FULL)                                               \
            ROW(c, rows, c0, cw, out_row, 2, SL_QM_S8FULL);                                      \
        else                                                                                     \
            ROW(c, rows, c0, cw, out_row, 0, SL_QM_GENERAL);                                     \
    }

DW_ROW_VARIANTS(sl_qdw_row_avx512, dw_row_madd)
DW_ROW_VARIANTS(sl_qdw_row_vnni_avx512, dw_row_vnni)
