/* x86 SIMD pieces shared by the GEMM and depthwise kernels: the exact
 * requantization epilogue (the SIMD twin of sl_mul_qm + zero point +
 * clamp) and the narrowing stores. Included only by *_avx2.c / *_avx512.c
 * files, which are compiled for those instruction sets.
 *
 * Epilogue, per int32 lane x of channel n (fields of the block in qgemm.h):
 *   x' = x << left                       (32-bit, wrapping, like the reference)
 *   p  = x' * q                          (exact 64-bit, vpmuldq on even/odd lanes)
 *   t  = p + 2^30 [+ 2^(30+e) - 2^31 [p < -2^30]]   (the bracket when e >= 1)
 *   r  = floor(t / 2^(31+e)) + out_zp                (mod 2^32)
 * which equals sl_mul_qm(x, q, shift) + out_zp: SRDHM is floor((p + 2^30) /
 * 2^31) for every p, RoundingDivideByPOT is floor((y + 2^(e-1) - [y < 0]) /
 * 2^e), and floor((floor(u / A) + c) / B) = floor((u + cA) / (AB)).
 * AVX-512 shifts t arithmetically and, when e <= 23, adds out_zp * 2^(31+e)
 * to t instead of out_zp to r. AVX2 has only logical 64-bit shifts: t gets
 * +2^62 (so t >= 0), which adds 2^(62-31-e) to the quotient, removed
 * together with the zero point. The one saturating case of SRDHM (x' = q =
 * INT32_MIN, p = 2^62) needs t - 2^31; it is applied only when some
 * multiplier is INT32_MIN. Then the clamp, and the narrowing to bytes. */
#ifndef SL_NN_QGEMM_X86_H
#define SL_NN_QGEMM_X86_H

#include "nn/qgemm.h"

#include <immintrin.h>
#include <string.h>

/* Keeps the compiler from fusing pmaddwd + paddd into vpdpwssd (clang
 * does whenever AVX512_VNNI is enabled for the file), an instruction the
 * non-VNNI kernels must not execute. */
#define SL_NOFUSE(v) __asm__("" : "+v"(v))

/* ---- 256-bit (AVX2): 8 lanes ---------------------------------------------- */

#define SL_EP8(e, f) _mm256_load_si256((const __m256i *)(const void *)((e) + (f) * 8))

/* Requantizes 8 accumulators to 8 output bytes (low half of the result). */
static inline __m128i sl_q256(__m256i x, const int32_t *e, const sl_qep_glob *g) {
    if (g->any_left) x = _mm256_sllv_epi32(x, SL_EP8(e, SL_QEP_LEFT));
    const __m256i thr = _mm256_set1_epi64x(-((int64_t)1 << 30));
    const __m256i xo = _mm256_srli_epi64(x, 32);
    const __m256i pe = _mm256_mul_epi32(x, SL_EP8(e, SL_QEP_Q));
    const __m256i po = _mm256_mul_epi32(xo, SL_EP8(e, SL_QEP_QO));
    __m256i te = _mm256_add_epi64(pe, SL_EP8(e, SL_QEP_K1E));
    __m256i to = _mm256_add_epi64(po, SL_EP8(e, SL_QEP_K1O));
    te = _mm256_sub_epi64(te, _mm256_and_si256(_mm256_cmpgt_epi64(thr, pe), SL_EP8(e, SL_QEP_FE)));
    to = _mm256_sub_epi64(to, _mm256_and_si256(_mm256_cmpgt_epi64(thr, po), SL_EP8(e, SL_QEP_FO)));
    if (g->sat) {
        const __m256i big = _mm256_set1_epi64x((int64_t)1 << 62);
        const __m256i h = _mm256_set1_epi64x((int64_t)1 << 31);
        te = _mm256_sub_epi64(te, _mm256_and_si256(_mm256_cmpeq_epi64(pe, big), h));
        to = _mm256_sub_epi64(to, _mm256_and_si256(_mm256_cmpeq_epi64(po, big), h));
    }
    te = _mm256_srlv_epi64(te, SL_EP8(e, SL_QEP_SE));
    to = _mm256_srlv_epi64(to, SL_EP8(e, SL_QEP_SO));
    if (!g->odd_hi) to = _mm256_slli_epi64(to, 32);
    __m256i r = _mm256_blend_epi32(te, to, 0xAA);
    r = _mm256_add_epi32(r, SL_EP8(e, SL_QEP_ZPC));
    /* The saturating packs clamp to the output type; a narrower range
     * needs the explicit clamp first. */
    if (!g->full_range) {
        r = _mm256_max_epi32(r, _mm256_set1_epi32(g->act_min));
        r = _mm256_min_epi32(r, _mm256_set1_epi32(g->act_max));
    }
    const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
    return g->out_s8 ? _mm_packs_epi16(w, w) : _mm_packus_epi16(w, w);
}

/* Stores the first min(n, 8) bytes (n >= 1) of b. */
static inline void sl_st8(uint8_t *dst, __m128i b, int n) {
    if (n >= 8) {
        _mm_storel_epi64((__m128i *)(void *)dst, b);
    } else {
        uint8_t tmp[16];
        _mm_storeu_si128((__m128i *)(void *)tmp, b);
        memcpy(dst, tmp, (size_t)n);
    }
}

/* ---- 512-bit (AVX-512 F/BW/DQ/VL): 16 lanes ------------------------------- */

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)

#define SL_EP16(e, f) _mm512_load_si512((const void *)((e) + (f) * 16))

/* Epilogue variants: the general one reads every flag of sl_qep_glob; the
 * others are the common layers (no left shift, no INT32_MIN multiplier,
 * zero point folded, every e >= 1, whole output range) of each type, with
 * nothing left to decide per vector. */
enum { SL_QM_GENERAL = 0, SL_QM_U8FULL = 1, SL_QM_S8FULL = 2 };

static inline int sl_qm_mode(const sl_qep_glob *g) {
    if (g->any_left || g->sat || !g->zp_folded || !g->full_range || !g->odd_hi)
        return SL_QM_GENERAL;
    return g->out_s8 ? SL_QM_S8FULL : SL_QM_U8FULL;
}

/* Requantizes 16 accumulators to 16 output bytes. */
static inline __attribute__((always_inline)) __m128i sl_q512m(__m512i x, const int32_t *e,
                                                              const sl_qep_glob *g,
                                                              const int mode) {
    const int general = mode == SL_QM_GENERAL;
    if (general && g->any_left) x = _mm512_sllv_epi32(x, SL_EP16(e, SL_QEP_LEFT));
    const __m512i thr = _mm512_set1_epi64(-((int64_t)1 << 30));
    const __m512i xo = _mm512_shuffle_epi32(x, (_MM_PERM_ENUM)0xF5); /* odd dwords to even */
    const __m512i pe = _mm512_mul_epi32(x, SL_EP16(e, SL_QEP_Q));
    const __m512i po = _mm512_mul_epi32(xo, SL_EP16(e, SL_QEP_QO));
    __m512i te = _mm512_add_epi64(pe, SL_EP16(e, SL_QEP_K1E));
    __m512i to = _mm512_add_epi64(po, SL_EP16(e, SL_QEP_K1O));
    te = _mm512_mask_sub_epi64(te, _mm512_cmplt_epi64_mask(pe, thr), te, SL_EP16(e, SL_QEP_FE));
    to = _mm512_mask_sub_epi64(to, _mm512_cmplt_epi64_mask(po, thr), to, SL_EP16(e, SL_QEP_FO));
    if (general && g->sat) {
        const __m512i big = _mm512_set1_epi64((int64_t)1 << 62);
        const __m512i h = _mm512_set1_epi64((int64_t)1 << 31);
        te = _mm512_mask_sub_epi64(te, _mm512_cmpeq_epi64_mask(pe, big), te, h);
        to = _mm512_mask_sub_epi64(to, _mm512_cmpeq_epi64_mask(po, big), to, h);
    }
    te = _mm512_srav_epi64(te, SL_EP16(e, SL_QEP_SE));
    to = _mm512_srav_epi64(to, SL_EP16(e, SL_QEP_SO));
    __m512i r;
    if (!general || g->odd_hi) {
        /* odd quotients already sit in the high dwords */
        r = _mm512_mask_blend_epi32((__mmask16)0xAAAA, te, to);
    } else {
        /* dword 0 of each even-lane quotient, then of each odd-lane one */
        const __m512i idx =
            _mm512_setr_epi32(0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30);
        r = _mm512_permutex2var_epi32(te, idx, to);
    }
    if (general && !g->zp_folded) r = _mm512_add_epi32(r, SL_EP16(e, SL_QEP_ZPC));
    /* Saturating narrowing is the clamp when the range is the whole type. */
    if (mode == SL_QM_S8FULL || (general && g->full_range && g->out_s8))
        return _mm512_cvtsepi32_epi8(r);
    if (mode == SL_QM_U8FULL || (general && g->full_range))
        return _mm512_cvtusepi32_epi8(_mm512_max_epi32(r, _mm512_setzero_si512()));
    r = _mm512_max_epi32(r, _mm512_set1_epi32(g->act_min));
    r = _mm512_min_epi32(r, _mm512_set1_epi32(g->act_max));
    return _mm512_cvtepi32_epi8(r);
}

static inline __m128i sl_q512(__m512i x, const int32_t *e, const sl_qep_glob *g) {
    return sl_q512m(x, e, g, SL_QM_GENERAL);
}

/* Stores the first min(n, 16) bytes (n >= 1) of b. */
static inline void sl_st16(uint8_t *dst, __m128i b, int n) {
    const __mmask16 m = n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
    _mm_mask_storeu_epi8(dst, m, b);
}

#endif

#endif /* SL_NN_QGEMM_X86_H */
