/* AVX2 LUT16 scan: one 32-byte load is two blocks of a group (one per
 * 128-bit lane) and the matching 32 bytes of the LUT are the two vpshufb
 * tables, so each load feeds two lookups (low and high nibbles) of 32
 * bytes. Layout and exactness argument: lut16.h, docs/KERNELS.md. */
#include "lut16.h"

#include <immintrin.h>

/* The per-group helpers must inline: as calls they return vectors through
 * memory and spill the accumulators around every group. */
#define LUT16_INLINE static inline __attribute__((always_inline))

/* Blocks per 16-bit run: each lane sees at most 128 of them, and the two
 * lanes' sums, at most 256 * 255 = 65280, still fit 16 bits. */
#define CHUNK 256

/* Adds the lookups of one 32-byte code vector x (two blocks, tables t) to
 * the accumulators. A lookup result r read as 16-bit words is
 * lo + 256 * hi (two points' values); a += r keeps lo + 256 * hi modulo
 * 2^16 and b += r >> 8 keeps hi exactly (<= 128 * 255), so
 * lo = a - (b << 8) modulo 2^16, exact since lo <= 65535. Three adds and a
 * shift per 32 lookups instead of two unpacks and two adds. */
#define LUT16_STEP(x, t)                                              \
    do {                                                              \
        __m256i lo_ = _mm256_and_si256((x), nib);                     \
        __m256i hi_ = _mm256_and_si256(_mm256_srli_epi16((x), 4), nib); \
        __m256i rl_ = _mm256_shuffle_epi8((t), lo_);                  \
        __m256i rh_ = _mm256_shuffle_epi8((t), hi_);                  \
        al = _mm256_add_epi16(al, rl_);                               \
        bl = _mm256_add_epi16(bl, _mm256_srli_epi16(rl_, 8));         \
        ah = _mm256_add_epi16(ah, rh_);                               \
        bh = _mm256_add_epi16(bh, _mm256_srli_epi16(rh_, 8));         \
    } while (0)

/* 16-bit sums of one group over nb <= CHUNK blocks. *s0: points 0..7 then
 * 16..23; *s1: points 8..15 then 24..31 (words). */
LUT16_INLINE void group16(const uint8_t *codes, const uint8_t *lut, size_t nb, __m256i *s0, __m256i *s1) {
    const __m256i nib = _mm256_set1_epi8(15);
    __m256i al = _mm256_setzero_si256(), bl = al, ah = al, bh = al;
    size_t b = 0;
    for (; b + 4 <= nb; b += 4) {
        __m256i x0 = _mm256_loadu_si256((const __m256i *)(codes + b * 16));
        __m256i x1 = _mm256_loadu_si256((const __m256i *)(codes + b * 16 + 32));
        LUT16_STEP(x0, _mm256_loadu_si256((const __m256i *)(lut + b * 16)));
        LUT16_STEP(x1, _mm256_loadu_si256((const __m256i *)(lut + b * 16 + 32)));
    }
    if (b + 2 <= nb) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(codes + b * 16));
        LUT16_STEP(x, _mm256_loadu_si256((const __m256i *)(lut + b * 16)));
        b += 2;
    }
    if (b < nb) {
        /* One block left: the upper lane's table is zero, so its (zero)
         * codes add nothing. */
        __m256i x = _mm256_zextsi128_si256(_mm_loadu_si128((const __m128i *)(codes + b * 16)));
        __m256i t = _mm256_zextsi128_si256(_mm_loadu_si128((const __m128i *)(lut + b * 16)));
        LUT16_STEP(x, t);
    }
    /* Word k of el / bl / eh / bh is point k / 16 + k / 8 + k / 24 + k,
     * per lane (block parity); adding the lanes gives the chunk's sums. */
    __m256i el = _mm256_sub_epi16(al, _mm256_slli_epi16(bl, 8));
    __m256i eh = _mm256_sub_epi16(ah, _mm256_slli_epi16(bh, 8));
    *s0 = _mm256_add_epi16(_mm256_permute2x128_si256(el, bl, 0x20), _mm256_permute2x128_si256(el, bl, 0x31));
    *s1 = _mm256_add_epi16(_mm256_permute2x128_si256(eh, bh, 0x20), _mm256_permute2x128_si256(eh, bh, 0x31));
}

/* 32-bit sums of one group over all blocks, in point order (8 per vector). */
LUT16_INLINE void group32(const uint8_t *codes, size_t n_blocks, const uint8_t *lut, __m256i acc[4]) {
    acc[0] = acc[1] = acc[2] = acc[3] = _mm256_setzero_si256();
    for (size_t c = 0; c < n_blocks; c += CHUNK) {
        __m256i s0, s1;
        group16(codes + c * 16, lut + c * 16, SL_MIN((size_t)CHUNK, n_blocks - c), &s0, &s1);
        acc[0] = _mm256_add_epi32(acc[0], _mm256_cvtepu16_epi32(_mm256_castsi256_si128(s0)));
        acc[1] = _mm256_add_epi32(acc[1], _mm256_cvtepu16_epi32(_mm256_castsi256_si128(s1)));
        acc[2] = _mm256_add_epi32(acc[2], _mm256_cvtepu16_epi32(_mm256_extracti128_si256(s0, 1)));
        acc[3] = _mm256_add_epi32(acc[3], _mm256_cvtepu16_epi32(_mm256_extracti128_si256(s1, 1)));
    }
}

void sl_lut16_scan_avx2(const uint8_t *packed, size_t n_groups, size_t n_blocks, const uint8_t *lut,
                        uint32_t *out) {
    if (n_blocks <= CHUNK) {
        /* one 16-bit run: no 32-bit accumulators to carry */
        for (size_t g = 0; g < n_groups; g++) {
            __m256i s0, s1;
            group16(packed + g * n_blocks * 16, lut, n_blocks, &s0, &s1);
            uint32_t *o = out + g * 32;
            _mm256_storeu_si256((__m256i *)o, _mm256_cvtepu16_epi32(_mm256_castsi256_si128(s0)));
            _mm256_storeu_si256((__m256i *)(o + 8), _mm256_cvtepu16_epi32(_mm256_castsi256_si128(s1)));
            _mm256_storeu_si256((__m256i *)(o + 16), _mm256_cvtepu16_epi32(_mm256_extracti128_si256(s0, 1)));
            _mm256_storeu_si256((__m256i *)(o + 24), _mm256_cvtepu16_epi32(_mm256_extracti128_si256(s1, 1)));
        }
        return;
    }
    for (size_t g = 0; g < n_groups; g++) {
        __m256i acc[4];
        group32(packed + g * n_blocks * 16, n_blocks, lut, acc);
        for (int v = 0; v < 4; v++) _mm256_storeu_si256((__m256i *)(out + g * 32 + v * 8), acc[v]);
    }
}

/* Appends the points of `mask` (bit p = point p of the group at `base`),
 * ascending, with their sums. */
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

size_t sl_lut16_scan_above_avx2(const uint8_t *packed, size_t n_groups, size_t n_blocks,
                                const uint8_t *lut, uint32_t threshold, uint32_t *cand,
                                uint32_t *cand_sum) {
    /* No sum can exceed 255 * n_blocks: nothing to scan. This also makes
     * threshold + 1 below safe from wrapping. */
    if (threshold == UINT32_MAX || (n_blocks <= SL_LUT16_MAX_BLOCKS && threshold >= 255 * n_blocks))
        return 0;
    size_t nc = 0;
    uint32_t sums[32];
    if (n_blocks <= CHUNK) {
        /* Sums fit 16 bits: compare there, x > t as max(x, t + 1) == x
         * (AVX2 has no unsigned compare); t + 1 <= 65280. */
        const __m256i t1 = _mm256_set1_epi16((short)(uint16_t)(threshold + 1));
        for (size_t g = 0; g < n_groups; g++) {
            __m256i s0, s1;
            group16(packed + g * n_blocks * 16, lut, n_blocks, &s0, &s1);
            __m256i c0 = _mm256_cmpeq_epi16(_mm256_max_epu16(s0, t1), s0);
            __m256i c1 = _mm256_cmpeq_epi16(_mm256_max_epu16(s1, t1), s1);
            /* packs interleaves by lane: 0..7, 8..15 | 16..23, 24..31. */
            uint32_t mask = (uint32_t)_mm256_movemask_epi8(_mm256_packs_epi16(c0, c1));
            if (SL_LIKELY(mask == 0)) continue;
            __m256i p0 = _mm256_permute2x128_si256(s0, s1, 0x20), p1 = _mm256_permute2x128_si256(s0, s1, 0x31);
            _mm256_storeu_si256((__m256i *)sums, _mm256_cvtepu16_epi32(_mm256_castsi256_si128(p0)));
            _mm256_storeu_si256((__m256i *)(sums + 8), _mm256_cvtepu16_epi32(_mm256_extracti128_si256(p0, 1)));
            _mm256_storeu_si256((__m256i *)(sums + 16), _mm256_cvtepu16_epi32(_mm256_castsi256_si128(p1)));
            _mm256_storeu_si256((__m256i *)(sums + 24), _mm256_cvtepu16_epi32(_mm256_extracti128_si256(p1, 1)));
            nc = emit(mask, (uint32_t)(g * 32), sums, cand, cand_sum, nc);
        }
        return nc;
    }
    const __m256i t1 = _mm256_set1_epi32((int)(threshold + 1));
    for (size_t g = 0; g < n_groups; g++) {
        __m256i acc[4];
        group32(packed + g * n_blocks * 16, n_blocks, lut, acc);
        uint32_t mask = 0;
        for (int v = 0; v < 4; v++) {
            __m256i c = _mm256_cmpeq_epi32(_mm256_max_epu32(acc[v], t1), acc[v]);
            mask |= (uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(c)) << (8 * v);
        }
        if (SL_LIKELY(mask == 0)) continue;
        for (int v = 0; v < 4; v++) _mm256_storeu_si256((__m256i *)(sums + v * 8), acc[v]);
        nc = emit(mask, (uint32_t)(g * 32), sums, cand, cand_sum, nc);
    }
    return nc;
}

/* ---- query tables ------------------------------------------------------- */

/* One block's 16 entries are two vectors; multiply then add (no FMA), in
 * the twin's order. */
void sl_lut16_tables_avx2(const float *q, size_t dim, size_t dpb, const float *cbt, float mult, float *lut) {
    const size_t nb = dim / dpb + (dim % dpb != 0);
    for (size_t b = 0; b < nb; b++) {
        const size_t j0 = b * dpb, w = dim - j0 < dpb ? dim - j0 : dpb;
        const float *ct = cbt + b * dpb * 16;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0;
        for (size_t t = 0; t < w; t++) {
            const __m256 qt = _mm256_set1_ps(mult * q[j0 + t]);
            a0 = _mm256_add_ps(a0, _mm256_mul_ps(qt, _mm256_loadu_ps(ct + t * 16)));
            a1 = _mm256_add_ps(a1, _mm256_mul_ps(qt, _mm256_loadu_ps(ct + t * 16 + 8)));
        }
        _mm256_storeu_ps(lut + b * 16, a0);
        _mm256_storeu_ps(lut + b * 16 + 8, a1);
    }
}

static inline float hmin8(__m256 m) {
    __m128 x = _mm_min_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    x = _mm_min_ps(x, _mm_movehl_ps(x, x));
    x = _mm_min_ss(x, _mm_shuffle_ps(x, x, 1));
    return _mm_cvtss_f32(x);
}

static inline float hmax8(__m256 m) {
    __m128 x = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    x = _mm_max_ps(x, _mm_movehl_ps(x, x));
    x = _mm_max_ss(x, _mm_shuffle_ps(x, x, 1));
    return _mm_cvtss_f32(x);
}

/* As the AVX-512 version; the 32-bit integers (0..255) pack to bytes with
 * two saturating packs that cannot saturate. */
float sl_lut16_quantize_avx2(const float *lut, size_t n_blocks, uint8_t *lut8, float *scale, float *lo) {
    float span = 0, offset = 0;
    for (size_t b = 0; b < n_blocks; b++) {
        const __m256 v0 = _mm256_loadu_ps(lut + b * 16), v1 = _mm256_loadu_ps(lut + b * 16 + 8);
        const float l = hmin8(_mm256_min_ps(v0, v1)), h = hmax8(_mm256_max_ps(v0, v1));
        lo[b] = l;
        span = h - l > span ? h - l : span;
    }
    const float s = span > 0 ? span / 255.0f : 1.0f, inv = 1.0f / s;
    const __m256 vinv = _mm256_set1_ps(inv), half = _mm256_set1_ps(0.5f), zero = _mm256_setzero_ps();
    const __m256 top = _mm256_set1_ps(255.0f);
    for (size_t b = 0; b < n_blocks; b++) {
        offset += lo[b];
        const __m256 l = _mm256_set1_ps(lo[b]);
        __m256 f0 = _mm256_add_ps(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(lut + b * 16), l), vinv), half);
        __m256 f1 = _mm256_add_ps(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(lut + b * 16 + 8), l), vinv), half);
        f0 = _mm256_min_ps(_mm256_max_ps(f0, zero), top);
        f1 = _mm256_min_ps(_mm256_max_ps(f1, zero), top);
        const __m256i i0 = _mm256_cvttps_epi32(f0), i1 = _mm256_cvttps_epi32(f1);
        const __m128i w0 = _mm_packs_epi32(_mm256_castsi256_si128(i0), _mm256_extracti128_si256(i0, 1));
        const __m128i w1 = _mm_packs_epi32(_mm256_castsi256_si128(i1), _mm256_extracti128_si256(i1, 1));
        _mm_storeu_si128((__m128i *)(lut8 + b * 16), _mm_packus_epi16(w0, w1));
    }
    *scale = s;
    return offset;
}
