/* AVX-512 LUT16 scan: one 64-byte load is four blocks of a group (one per
 * 128-bit lane) and the matching 64 bytes of the LUT are the four vpshufb
 * tables. Same arithmetic as lut16_avx2.c, including its 256-bit steps for
 * the last 1-3 blocks; the threshold test is one unsigned compare into a
 * mask register that is already in point order. Serves the AVX512 and
 * AVX512VNNI levels (VNNI has nothing for byte lookups). */
#include "lut16.h"

#include <immintrin.h>

/* The per-group helpers must inline: as calls they return vectors through
 * memory and spill the accumulators around every group. */
#define LUT16_INLINE static inline __attribute__((always_inline))

/* Blocks per 16-bit run: each lane sees at most 65 of them, and the four
 * lanes' sums, at most 256 * 255 = 65280, still fit 16 bits. */
#define CHUNK 256

/* See LUT16_STEP in lut16_avx2.c: a += r, b += r >> 8 keeps both bytes of
 * every word exactly (lo = a - (b << 8) modulo 2^16). */
#define LUT16_STEP(x, t)                                                  \
    do {                                                                  \
        __m512i lo_ = _mm512_and_si512((x), nib);                         \
        __m512i hi_ = _mm512_and_si512(_mm512_srli_epi16((x), 4), nib);   \
        __m512i rl_ = _mm512_shuffle_epi8((t), lo_);                      \
        __m512i rh_ = _mm512_shuffle_epi8((t), hi_);                      \
        al = _mm512_add_epi16(al, rl_);                                   \
        bl = _mm512_add_epi16(bl, _mm512_srli_epi16(rl_, 8));             \
        ah = _mm512_add_epi16(ah, rh_);                                   \
        bh = _mm512_add_epi16(bh, _mm512_srli_epi16(rh_, 8));             \
    } while (0)

/* The same for two blocks (32 bytes) added to the low two lanes. */
#define LUT16_STEP256(x, t)                                                                 \
    do {                                                                                    \
        __m256i lo_ = _mm256_and_si256((x), nib2);                                          \
        __m256i hi_ = _mm256_and_si256(_mm256_srli_epi16((x), 4), nib2);                    \
        __m256i rl_ = _mm256_shuffle_epi8((t), lo_);                                        \
        __m256i rh_ = _mm256_shuffle_epi8((t), hi_);                                        \
        al = _mm512_add_epi16(al, _mm512_zextsi256_si512(rl_));                             \
        bl = _mm512_add_epi16(bl, _mm512_zextsi256_si512(_mm256_srli_epi16(rl_, 8)));       \
        ah = _mm512_add_epi16(ah, _mm512_zextsi256_si512(rh_));                             \
        bh = _mm512_add_epi16(bh, _mm512_zextsi256_si512(_mm256_srli_epi16(rh_, 8)));       \
    } while (0)

/* 16-bit sums of one group over nb <= CHUNK blocks, points 0..31 in order. */
LUT16_INLINE __m512i group16(const uint8_t *codes, const uint8_t *lut, size_t nb) {
    const __m512i nib = _mm512_set1_epi8(15);
    __m512i al = _mm512_setzero_si512(), bl = al, ah = al, bh = al;
    size_t b = 0;
    for (; b + 8 <= nb; b += 8) {
        __m512i x0 = _mm512_loadu_si512(codes + b * 16);
        __m512i x1 = _mm512_loadu_si512(codes + b * 16 + 64);
        LUT16_STEP(x0, _mm512_loadu_si512(lut + b * 16));
        LUT16_STEP(x1, _mm512_loadu_si512(lut + b * 16 + 64));
    }
    if (b + 4 <= nb) {
        __m512i x = _mm512_loadu_si512(codes + b * 16);
        LUT16_STEP(x, _mm512_loadu_si512(lut + b * 16));
        b += 4;
    }
    /* 1-3 blocks left: 256-bit lookups (half the work of a masked 512-bit
     * step where 512-bit ops are split in two, as on Zen 4) added to the
     * low lanes; for one block the upper table half is zero, so its (zero)
     * codes add nothing. The lane counts stay <= 65, and the sum over
     * lanes is what CHUNK bounds. */
    const __m256i nib2 = _mm256_set1_epi8(15);
    if (b + 2 <= nb) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(codes + b * 16));
        __m256i t = _mm256_loadu_si256((const __m256i *)(lut + b * 16));
        LUT16_STEP256(x, t);
        b += 2;
    }
    if (b < nb) {
        __m256i x = _mm256_zextsi128_si256(_mm_loadu_si128((const __m128i *)(codes + b * 16)));
        __m256i t = _mm256_zextsi128_si256(_mm_loadu_si128((const __m128i *)(lut + b * 16)));
        LUT16_STEP256(x, t);
    }
    /* Word k of el / eh / bl / bh is point k / 8 + k / 16 + k / 24 + k, per
     * lane (block modulo 4). Two rounds of lane sums, arranged so the
     * result's 128-bit lanes are el, eh, bl, bh: points in order. */
    __m512i el = _mm512_sub_epi16(al, _mm512_slli_epi16(bl, 8));
    __m512i eh = _mm512_sub_epi16(ah, _mm512_slli_epi16(bh, 8));
    __m512i ye = _mm512_add_epi16(_mm512_shuffle_i64x2(el, eh, 0x44), _mm512_shuffle_i64x2(el, eh, 0xEE));
    __m512i yo = _mm512_add_epi16(_mm512_shuffle_i64x2(bl, bh, 0x44), _mm512_shuffle_i64x2(bl, bh, 0xEE));
    return _mm512_add_epi16(_mm512_shuffle_i64x2(ye, yo, 0x88), _mm512_shuffle_i64x2(ye, yo, 0xDD));
}

/* 32-bit sums of one group: acc[0] points 0..15, acc[1] points 16..31. */
LUT16_INLINE void group32(const uint8_t *codes, size_t n_blocks, const uint8_t *lut, __m512i acc[2]) {
    acc[0] = acc[1] = _mm512_setzero_si512();
    for (size_t c = 0; c < n_blocks; c += CHUNK) {
        __m512i s = group16(codes + c * 16, lut + c * 16, SL_MIN((size_t)CHUNK, n_blocks - c));
        acc[0] = _mm512_add_epi32(acc[0], _mm512_cvtepu16_epi32(_mm512_castsi512_si256(s)));
        acc[1] = _mm512_add_epi32(acc[1], _mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(s, 1)));
    }
}

void sl_lut16_scan_avx512(const uint8_t *packed, size_t n_groups, size_t n_blocks, const uint8_t *lut,
                          uint32_t *out) {
    if (n_blocks <= CHUNK) {
        /* one 16-bit run: no 32-bit accumulators to carry */
        for (size_t g = 0; g < n_groups; g++) {
            __m512i s = group16(packed + g * n_blocks * 16, lut, n_blocks);
            _mm512_storeu_si512(out + g * 32, _mm512_cvtepu16_epi32(_mm512_castsi512_si256(s)));
            _mm512_storeu_si512(out + g * 32 + 16, _mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(s, 1)));
        }
        return;
    }
    for (size_t g = 0; g < n_groups; g++) {
        __m512i acc[2];
        group32(packed + g * n_blocks * 16, n_blocks, lut, acc);
        _mm512_storeu_si512(out + g * 32, acc[0]);
        _mm512_storeu_si512(out + g * 32 + 16, acc[1]);
    }
}

static inline size_t emit(uint32_t mask, uint32_t base, const uint32_t sums[32], uint32_t *cand,
                          uint32_t *cand_sum, size_t nc) {
    while (mask) {
        unsigned p = (unsigned)__builtin_ctz(mask);
        cand[nc] = base + p;
        cand_sum[nc++] = sums[p];
        mask &= mask - 1;
    }
    return nc;
}

size_t sl_lut16_scan_above_avx512(const uint8_t *packed, size_t n_groups, size_t n_blocks,
                                  const uint8_t *lut, uint32_t threshold, uint32_t *cand,
                                  uint32_t *cand_sum) {
    /* No sum can exceed 255 * n_blocks: nothing to scan. */
    if (threshold == UINT32_MAX || (n_blocks <= SL_LUT16_MAX_BLOCKS && threshold >= 255 * n_blocks))
        return 0;
    size_t nc = 0;
    uint32_t sums[32];
    if (n_blocks <= CHUNK) {
        /* Sums fit 16 bits, and so does the threshold (< 255 * 256). */
        const __m512i t = _mm512_set1_epi16((short)(uint16_t)threshold);
        for (size_t g = 0; g < n_groups; g++) {
            __m512i s = group16(packed + g * n_blocks * 16, lut, n_blocks);
            uint32_t mask = (uint32_t)_mm512_cmpgt_epu16_mask(s, t);
            if (SL_LIKELY(mask == 0)) continue;
            _mm512_storeu_si512(sums, _mm512_cvtepu16_epi32(_mm512_castsi512_si256(s)));
            _mm512_storeu_si512(sums + 16, _mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(s, 1)));
            nc = emit(mask, (uint32_t)(g * 32), sums, cand, cand_sum, nc);
        }
        return nc;
    }
    const __m512i t = _mm512_set1_epi32((int)threshold);
    for (size_t g = 0; g < n_groups; g++) {
        __m512i acc[2];
        group32(packed + g * n_blocks * 16, n_blocks, lut, acc);
        uint32_t mask = (uint32_t)_mm512_cmpgt_epu32_mask(acc[0], t) |
                        (uint32_t)_mm512_cmpgt_epu32_mask(acc[1], t) << 16;
        if (SL_LIKELY(mask == 0)) continue;
        _mm512_storeu_si512(sums, acc[0]);
        _mm512_storeu_si512(sums + 16, acc[1]);
        nc = emit(mask, (uint32_t)(g * 32), sums, cand, cand_sum, nc);
    }
    return nc;
}

/* ---- query tables ------------------------------------------------------- */

/* One block's 16 entries are one vector; multiply then add (no FMA), in
 * the twin's order. */
void sl_lut16_tables_avx512(const float *q, size_t dim, size_t dpb, const float *cbt, float mult, float *lut) {
    const size_t nb = dim / dpb + (dim % dpb != 0);
    for (size_t b = 0; b < nb; b++) {
        const size_t j0 = b * dpb, w = dim - j0 < dpb ? dim - j0 : dpb;
        const float *ct = cbt + b * dpb * 16;
        __m512 acc = _mm512_setzero_ps();
        for (size_t t = 0; t < w; t++)
            acc = _mm512_add_ps(acc, _mm512_mul_ps(_mm512_set1_ps(mult * q[j0 + t]), _mm512_loadu_ps(ct + t * 16)));
        _mm512_storeu_ps(lut + b * 16, acc);
    }
}

/* The twin's selects are exactly max_ps(f, 0) and min_ps(f, 255) (which
 * return their second operand on NaN); the minimum and maximum of a block
 * are exact in any order. */
float sl_lut16_quantize_avx512(const float *lut, size_t n_blocks, uint8_t *lut8, float *scale, float *lo) {
    float span = 0, offset = 0;
    for (size_t b = 0; b < n_blocks; b++) {
        const __m512 v = _mm512_loadu_ps(lut + b * 16);
        const float l = _mm512_reduce_min_ps(v), h = _mm512_reduce_max_ps(v);
        lo[b] = l;
        span = h - l > span ? h - l : span;
    }
    const float s = span > 0 ? span / 255.0f : 1.0f, inv = 1.0f / s;
    const __m512 vinv = _mm512_set1_ps(inv), half = _mm512_set1_ps(0.5f), zero = _mm512_setzero_ps();
    const __m512 top = _mm512_set1_ps(255.0f);
    for (size_t b = 0; b < n_blocks; b++) {
        offset += lo[b];
        __m512 f = _mm512_add_ps(_mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(lut + b * 16), _mm512_set1_ps(lo[b])), vinv),
                                 half);
        f = _mm512_min_ps(_mm512_max_ps(f, zero), top);
        _mm_storeu_si128((__m128i *)(lut8 + b * 16), _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(f)));
    }
    *scale = s;
    return offset;
}
