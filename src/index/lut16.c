/* LUT16 scan: packing, single-code access, the plain C twin and the
 * dispatcher. Layout in lut16.h. */
#include "lut16.h"

/* sl_l2sq* and the table kernels promise the same bits as their twins:
 * no multiply-add contraction of plain C expressions (clang contracts by
 * default where FMA is available; GCC does not in ISO C mode). Explicit
 * fmadd intrinsics are unaffected. */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

#include <string.h>

/* Byte of a block's 16 bytes holding point p (0..31) of a group, and the
 * shift (0 or 4) of its nibble: see the layout in lut16.h. */
static inline size_t pos_byte(size_t p) { return 2 * (p & 7) + (p >> 4); }
static inline unsigned pos_shift(size_t p) { return (unsigned)(p & 8) >> 1; }

size_t sl_lut16_packed_size(size_t n, size_t n_blocks) {
    size_t groups = n / SL_LUT16_GROUP + (n % SL_LUT16_GROUP != 0), s;
    if (sl_mul_overflow(groups, n_blocks, &s) || sl_mul_overflow(s, 16, &s)) return SIZE_MAX;
    return s;
}

void sl_lut16_pack(const uint8_t *codes, size_t n, size_t n_blocks, uint8_t *packed) {
    size_t groups = n / SL_LUT16_GROUP + (n % SL_LUT16_GROUP != 0);
    for (size_t g = 0; g < groups; g++) {
        uint8_t *dst = packed + g * n_blocks * 16;
        memset(dst, 0, n_blocks * 16);
        size_t np = SL_MIN((size_t)SL_LUT16_GROUP, n - g * SL_LUT16_GROUP);
        for (size_t p = 0; p < np; p++) {
            const uint8_t *row = codes + (g * SL_LUT16_GROUP + p) * n_blocks;
            size_t byte = pos_byte(p);
            unsigned sh = pos_shift(p);
            for (size_t b = 0; b < n_blocks; b++) dst[b * 16 + byte] |= (uint8_t)((row[b] & 15u) << sh);
        }
    }
}

uint8_t sl_lut16_get(const uint8_t *packed, size_t n_blocks, size_t i, size_t b) {
    size_t p = i % SL_LUT16_GROUP;
    uint8_t v = packed[(i / SL_LUT16_GROUP * n_blocks + b) * 16 + pos_byte(p)];
    return (uint8_t)((v >> pos_shift(p)) & 15u);
}

void sl_lut16_set(uint8_t *packed, size_t n_blocks, size_t i, size_t b, uint8_t code) {
    size_t p = i % SL_LUT16_GROUP;
    uint8_t *v = &packed[(i / SL_LUT16_GROUP * n_blocks + b) * 16 + pos_byte(p)];
    unsigned sh = pos_shift(p);
    *v = (uint8_t)((*v & ~(15u << sh)) | ((code & 15u) << sh));
}

/* The twin, and the scalar level: one uint32 per point, nothing to flush.
 * Byte j of a block feeds points lo(j) and hi(j), the inverse of pos_byte. */
static void scan_group_ref(const uint8_t *codes, size_t n_blocks, const uint8_t *lut, uint32_t acc[32]) {
    memset(acc, 0, 32 * sizeof *acc);
    for (size_t b = 0; b < n_blocks; b++, codes += 16, lut += 16) {
        for (size_t k = 0; k < 8; k++) {
            uint8_t even = codes[2 * k], odd = codes[2 * k + 1];
            acc[k] += lut[even & 15];
            acc[8 + k] += lut[even >> 4];
            acc[16 + k] += lut[odd & 15];
            acc[24 + k] += lut[odd >> 4];
        }
    }
}

void sl_lut16_scan_ref(const uint8_t *packed, size_t n_groups, size_t n_blocks, const uint8_t *lut,
                       uint32_t *out) {
    for (size_t g = 0; g < n_groups; g++)
        scan_group_ref(packed + g * n_blocks * 16, n_blocks, lut, out + g * SL_LUT16_GROUP);
}

size_t sl_lut16_scan_above_ref(const uint8_t *packed, size_t n_groups, size_t n_blocks,
                               const uint8_t *lut, uint32_t threshold, uint32_t *cand,
                               uint32_t *cand_sum) {
    size_t nc = 0;
    uint32_t acc[32];
    for (size_t g = 0; g < n_groups; g++) {
        scan_group_ref(packed + g * n_blocks * 16, n_blocks, lut, acc);
        for (uint32_t p = 0; p < SL_LUT16_GROUP; p++) {
            if (acc[p] > threshold) {
                cand[nc] = (uint32_t)(g * SL_LUT16_GROUP) + p;
                cand_sum[nc++] = acc[p];
            }
        }
    }
    return nc;
}

void sl_lut16_scan_level(sl_cpu_level level, const uint8_t *packed, size_t n_groups, size_t n_blocks,
                         const uint8_t *lut, uint32_t *out) {
    if (level > sl_cpu()) level = sl_cpu();
#ifndef SL_NO_X86_SIMD
    /* VNNI adds nothing to byte lookups and 16-bit adds: the AVX-512
     * kernel serves both AVX-512 levels. */
    if (level >= SL_CPU_AVX512) {
        sl_lut16_scan_avx512(packed, n_groups, n_blocks, lut, out);
        return;
    }
    if (level >= SL_CPU_AVX2) {
        sl_lut16_scan_avx2(packed, n_groups, n_blocks, lut, out);
        return;
    }
#endif
    sl_lut16_scan_ref(packed, n_groups, n_blocks, lut, out);
}

void sl_lut16_scan(const uint8_t *packed, size_t n_groups, size_t n_blocks, const uint8_t *lut,
                   uint32_t *out) {
    sl_lut16_scan_level(sl_cpu(), packed, n_groups, n_blocks, lut, out);
}

size_t sl_lut16_scan_above_level(sl_cpu_level level, const uint8_t *packed, size_t n_groups,
                                 size_t n_blocks, const uint8_t *lut, uint32_t threshold,
                                 uint32_t *cand, uint32_t *cand_sum) {
    if (level > sl_cpu()) level = sl_cpu();
#ifndef SL_NO_X86_SIMD
    if (level >= SL_CPU_AVX512)
        return sl_lut16_scan_above_avx512(packed, n_groups, n_blocks, lut, threshold, cand, cand_sum);
    if (level >= SL_CPU_AVX2)
        return sl_lut16_scan_above_avx2(packed, n_groups, n_blocks, lut, threshold, cand, cand_sum);
#endif
    return sl_lut16_scan_above_ref(packed, n_groups, n_blocks, lut, threshold, cand, cand_sum);
}

size_t sl_lut16_scan_above(const uint8_t *packed, size_t n_groups, size_t n_blocks, const uint8_t *lut,
                           uint32_t threshold, uint32_t *cand, uint32_t *cand_sum) {
    return sl_lut16_scan_above_level(sl_cpu(), packed, n_groups, n_blocks, lut, threshold, cand,
                                     cand_sum);
}

/* ---- query tables ------------------------------------------------------- */

void sl_lut16_tables_ref(const float *q, size_t dim, size_t dpb, const float *cbt, float mult, float *lut) {
    const size_t nb = dim / dpb + (dim % dpb != 0);
    for (size_t b = 0; b < nb; b++) {
        const size_t j0 = b * dpb, w = dim - j0 < dpb ? dim - j0 : dpb;
        float acc[16] = {0}; /* the 16 entries side by side: one vector each step */
        for (size_t t = 0; t < w; t++) {
            const float *ct = cbt + (b * dpb + t) * 16;
            const float qt = mult * q[j0 + t];
            for (int j = 0; j < 16; j++) acc[j] += qt * ct[j];
        }
        memcpy(lut + b * 16, acc, sizeof acc);
    }
}

/* Fixed-width element-wise loops (a min/max tree across the 16 entries,
 * selects rather than branches) that the compiler may vectorize without
 * reassociating anything. */
float sl_lut16_quantize_ref(const float *lut, size_t n_blocks, uint8_t *lut8, float *scale, float *lo) {
    float span = 0, offset = 0;
    for (size_t b = 0; b < n_blocks; b++) {
        const float *v = lut + b * 16;
        float mn[8], mx[8];
        for (int j = 0; j < 8; j++) {
            mn[j] = v[j + 8] < v[j] ? v[j + 8] : v[j];
            mx[j] = v[j + 8] > v[j] ? v[j + 8] : v[j];
        }
        for (int j = 0; j < 4; j++) {
            mn[j] = mn[j + 4] < mn[j] ? mn[j + 4] : mn[j];
            mx[j] = mx[j + 4] > mx[j] ? mx[j + 4] : mx[j];
        }
        for (int j = 0; j < 2; j++) {
            mn[j] = mn[j + 2] < mn[j] ? mn[j + 2] : mn[j];
            mx[j] = mx[j + 2] > mx[j] ? mx[j + 2] : mx[j];
        }
        const float l = mn[1] < mn[0] ? mn[1] : mn[0], h = mx[1] > mx[0] ? mx[1] : mx[0];
        lo[b] = l;
        span = h - l > span ? h - l : span;
    }
    const float s = span > 0 ? span / 255.0f : 1.0f, inv = 1.0f / s;
    for (size_t b = 0; b < n_blocks; b++) {
        offset += lo[b];
        const float l = lo[b];
        for (int j = 0; j < 16; j++) {
            /* in [0, 255.5) by construction: round half up; the selects
             * turn a NaN (overflowing inputs) into 0, never UB */
            float f = (lut[b * 16 + j] - l) * inv + 0.5f;
            f = f > 0 ? f : 0.0f;
            f = f < 255.0f ? f : 255.0f;
            lut8[b * 16 + j] = (uint8_t)(int32_t)f;
        }
    }
    *scale = s;
    return offset;
}

void sl_lut16_tables_level(sl_cpu_level level, const float *q, size_t dim, size_t dpb, const float *cbt,
                           float mult, float *lut) {
    if (level > sl_cpu()) level = sl_cpu();
#ifndef SL_NO_X86_SIMD
    if (level >= SL_CPU_AVX512) {
        sl_lut16_tables_avx512(q, dim, dpb, cbt, mult, lut);
        return;
    }
    if (level >= SL_CPU_AVX2) {
        sl_lut16_tables_avx2(q, dim, dpb, cbt, mult, lut);
        return;
    }
#endif
    sl_lut16_tables_ref(q, dim, dpb, cbt, mult, lut);
}

void sl_lut16_tables(const float *q, size_t dim, size_t dpb, const float *cbt, float mult, float *lut) {
    sl_lut16_tables_level(sl_cpu(), q, dim, dpb, cbt, mult, lut);
}

float sl_lut16_quantize_level(sl_cpu_level level, const float *lut, size_t n_blocks, uint8_t *lut8, float *scale,
                              float *lo) {
    if (level > sl_cpu()) level = sl_cpu();
#ifndef SL_NO_X86_SIMD
    if (level >= SL_CPU_AVX512) return sl_lut16_quantize_avx512(lut, n_blocks, lut8, scale, lo);
    if (level >= SL_CPU_AVX2) return sl_lut16_quantize_avx2(lut, n_blocks, lut8, scale, lo);
#endif
    return sl_lut16_quantize_ref(lut, n_blocks, lut8, scale, lo);
}

float sl_lut16_quantize(const float *lut, size_t n_blocks, uint8_t *lut8, float *scale, float *lo) {
    return sl_lut16_quantize_level(sl_cpu(), lut, n_blocks, lut8, scale, lo);
}
