/* AVX2 depthwise kernels: pair rows (qgemm.h) times pair weights, 8
 * channels per ymm, vpmaddwd applying two filter taps per int32 lane
 * (|pair sum| <= 130050: exact, no saturation). */
#include "nn/qgemm_x86.h"

/* The first n (0..8) bytes at p (nothing is read when n is 0). */
static inline __m128i load8(const uint8_t *p, int n) {
    if (n >= 8) return _mm_loadl_epi64((const __m128i *)(const void *)p);
    uint64_t tmp = 0;
    memcpy(&tmp, p, (size_t)n);
    return _mm_cvtsi64_si128((long long)tmp);
}

void sl_qdw_pairs_avx2(const sl_qconv *c, const void *in_row, int c0, int cw, int16_t *buf) {
    const sl_qconv_desc *d = &c->d;
    if (d->depth_multiplier != 1) {
        sl_qdw_pairs_scalar(c, in_row, c0, cw, buf);
        return;
    }
    const int nv = c->dw_cb / 8, nj = c->dw_nj, L = c->dw_L, s8 = d->act_type == SL_QTYPE_S8;
    const int64_t in_w = d->in_w, dil = d->dil_w;
    const size_t C = (size_t)d->in_c;
    const __m256i zp = _mm256_set1_epi16((short)d->in_zp);
    const __m256i lane = _mm256_setr_epi16(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
    const __m256i first = _mm256_set1_epi32(0x0000FFFF);
    const __m256i second = _mm256_set1_epi32((int)0xFFFF0000u);
    for (int v = 0; v < nv; v++) {
        const int n = SL_MAX(0, SL_MIN(8, cw - v * 8));
        /* int16 lanes of channels < n */
        const __m256i live = _mm256_cmpgt_epi16(_mm256_set1_epi16((short)n), lane);
        const uint8_t *src = (const uint8_t *)in_row + c0 + (size_t)v * 8;
        int32_t *e = (int32_t *)(void *)buf + (size_t)v * nj * 8;
        int64_t x = -(int64_t)d->pad_left;
        for (int j = 0; j < nj; j++, x += L, e += 8) {
            const int64_t x2 = x + dil;
            const int in1 = x >= 0 && x < in_w, in2 = x2 >= 0 && x2 < in_w;
            const __m128i a = load8(src + (size_t)(in1 ? x : 0) * C, in1 ? n : 0);
            const __m128i b = load8(src + (size_t)(in2 ? x2 : 0) * C, in2 ? n : 0);
            const __m128i ab = _mm_unpacklo_epi8(a, b); /* a0 b0 a1 b1 ... a7 b7 */
            const __m256i w = s8 ? _mm256_cvtepi8_epi16(ab) : _mm256_cvtepu8_epi16(ab);
            __m256i keep = _mm256_or_si256(in1 ? first : _mm256_setzero_si256(),
                                           in2 ? second : _mm256_setzero_si256());
            keep = _mm256_and_si256(keep, live);
            _mm256_storeu_si256((__m256i *)(void *)e,
                                _mm256_and_si256(_mm256_sub_epi16(w, zp), keep));
        }
    }
}

enum { OXB = 8 };

#define LOAD8(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))

static inline __attribute__((always_inline)) void dw_row(const sl_qconv *c,
                                                         const int16_t *const *rows, int c0,
                                                         int cw, uint8_t *out_row,
                                                         const int jox_const) {
    const sl_qconv_desc *d = &c->d;
    const int C = d->out_c, ow = d->out_w, M = c->dw_M, Cp = c->dw_Cp, nj = c->dw_nj;
    const size_t step = (size_t)(jox_const ? jox_const : c->dw_jox) * 8;
    const sl_qep_glob g = c->g;
    const int32_t *tr[SL_QDW_MAX_TAPS], *tw[SL_QDW_MAX_TAPS];
    int nt = 0;
    for (int ky = 0; ky < d->k_h; ky++) {
        if (!rows[ky]) continue;
        for (int m = 0; m < M; m++) {
            tr[nt] = (const int32_t *)(const void *)rows[ky] + (size_t)m * c->dw_jm * 8;
            tw[nt] = (const int32_t *)(const void *)c->dw_w + (size_t)(ky * M + m) * Cp + c0;
            nt++;
        }
    }
    for (int v = 0; v * 8 < cw; v++) {
        const int n = SL_MIN(8, cw - v * 8);
        const int32_t *ep = c->ep + (size_t)(c0 / 8 + v) * SL_QEP_FIELDS * 8;
        const __m256i cc = _mm256_load_si256((const __m256i *)(const void *)(ep + SL_QEP_COLC * 8));
        const size_t voff = (size_t)v * nj * 8;
        uint8_t *o = out_row + c0 + v * 8;
        int ox = 0;
        for (; ox + OXB <= ow; ox += OXB) {
            __m256i acc[OXB];
            _Pragma("GCC unroll 8")
            for (int i = 0; i < OXB; i++) acc[i] = cc;
            for (int t = 0; t < nt; t++) {
                const __m256i wv = LOAD8(tw[t] + v * 8);
                const int32_t *p = tr[t] + voff + (size_t)ox * step;
                _Pragma("GCC unroll 8")
                for (int i = 0; i < OXB; i++) {
                    const __m256i x = LOAD8(p + (size_t)i * step);
                    acc[i] = _mm256_add_epi32(acc[i], _mm256_madd_epi16(x, wv));
                }
            }
            _Pragma("GCC unroll 8")
            for (int i = 0; i < OXB; i++)
                sl_st8(o + (size_t)(ox + i) * C, sl_q256(acc[i], ep, &g), n);
        }
        for (; ox < ow; ox++) {
            __m256i acc = cc;
            for (int t = 0; t < nt; t++) {
                const __m256i wv = LOAD8(tw[t] + v * 8);
                const __m256i x = LOAD8(tr[t] + voff + (size_t)ox * step);
                acc = _mm256_add_epi32(acc, _mm256_madd_epi16(x, wv));
            }
            sl_st8(o + (size_t)ox * C, sl_q256(acc, ep, &g), n);
        }
    }
}

void sl_qdw_row_avx2(const sl_qconv *c, const int16_t *const *rows, int c0, int cw,
                     uint8_t *out_row) {
    if (c->dw_jox == 1) dw_row(c, rows, c0, cw, out_row, 1);
    else if (c->dw_jox == 2) dw_row(c, rows, c0, cw, out_row, 2);
    else dw_row(c, rows, c0, cw, out_row, 0);
}
