/* AVX-512 GEMM kernels for the quantized convolutions, two flavours:
 *  - VNNI: vpdpbusd multiplies 4 u8 activations by 4 s8 weights per lane
 *    and adds the four int32 products without intermediate saturation
 *    (u8 encoding, qgemm.h);
 *  - plain AVX-512 (F/BW/DQ/VL): vpmaddwd on int16 pairs (a - in_zp) x
 *    (w - filter_zp), |products| <= 255 * 255, pair sums <= 130050, so
 *    nothing saturates (s16 encoding).
 * This file is compiled with -mavx512vnni for both; SL_NOFUSE keeps the
 * plain kernels free of VNNI instructions (checked with objdump, see
 * docs/KERNELS.md). */
#include "nn/qgemm_x86.h"

/* ---- operand encoders ------------------------------------------------------ */

static inline __mmask64 mask64(size_t n) {
    return n >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << n) - 1;
}

static void a_row_u8(const sl_qconv *c, const void *src, size_t n, void *dst) {
    const __m512i x = _mm512_set1_epi8((char)c->axor);
    const uint8_t *s = src;
    uint8_t *o = dst;
    size_t i = 0;
    for (; i + 64 <= n; i += 64)
        _mm512_storeu_si512((void *)(o + i),
                            _mm512_xor_si512(_mm512_loadu_si512((const void *)(s + i)), x));
    if (i < n) {
        const __mmask64 m = mask64(n - i);
        _mm512_mask_storeu_epi8(o + i, m, _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, s + i), x));
    }
}

static void a_row_s16(const sl_qconv *c, const void *src, size_t n, void *dst) {
    const __m512i zp = _mm512_set1_epi16((short)c->d.in_zp);
    const int s8 = c->d.act_type == SL_QTYPE_S8;
    const uint8_t *s = src;
    int16_t *o = dst;
    for (size_t i = 0; i < n; i += 32) {
        const size_t left = n - i;
        const __mmask32 m = left >= 32 ? ~(__mmask32)0 : ((__mmask32)1 << left) - 1;
        const __m256i raw = _mm256_maskz_loadu_epi8(m, s + i);
        const __m512i w = s8 ? _mm512_cvtepi8_epi16(raw) : _mm512_cvtepu8_epi16(raw);
        _mm512_mask_storeu_epi16(o + i, m, _mm512_sub_epi16(w, zp));
    }
}

static void rowsum(const uint8_t *a, size_t lda, int mr, int k, int32_t mult, int32_t *rowc) {
    const __m512i zero = _mm512_setzero_si512();
    for (int r = 0; r < mr; r++) {
        const uint8_t *p = a + (size_t)r * lda;
        __m512i s = zero;
        int i = 0;
        for (; i + 64 <= k; i += 64)
            s = _mm512_add_epi64(s,
                                 _mm512_sad_epu8(_mm512_loadu_si512((const void *)(p + i)), zero));
        if (i < k)
            s = _mm512_add_epi64(
                s, _mm512_sad_epu8(_mm512_maskz_loadu_epi8(mask64((size_t)(k - i)), p + i), zero));
        const uint64_t total = (uint64_t)_mm512_reduce_add_epi64(s);
        rowc[r] = (int32_t)((uint32_t)mult * (uint32_t)total);
    }
}

/* ---- tiles -------------------------------------------------------------------- */

static inline __m512i dot_vnni(__m512i acc, __m512i a, __m512i b) {
    return _mm512_dpbusd_epi32(acc, a, b);
}

static inline __m512i dot_madd(__m512i acc, __m512i a, __m512i b) {
    __m512i t = _mm512_madd_epi16(a, b);
    SL_NOFUSE(t);
    return _mm512_add_epi32(acc, t);
}

#define TILE_W 16
#define TILE_VEC __m512i
#define TILE_LOAD(p) _mm512_load_si512((const void *)(p))
#define TILE_SET1(x) _mm512_set1_epi32(x)
#define TILE_ADD(a, b) _mm512_add_epi32(a, b)
#define TILE_EP(x, e, g, mode) sl_q512m(x, e, g, mode)
#define TILE_STORE(dst, b, n) sl_st16(dst, b, n)

#define TILE_DOT(acc, a, b) dot_vnni(acc, a, b)
#define TILE_NAME v6x4
#define TILE_MR 6
#define TILE_NV 4
#include "nn/qgemm_tile.h"
#define TILE_NAME v8x3
#define TILE_MR 8
#define TILE_NV 3
#include "nn/qgemm_tile.h"
#define TILE_NAME v8x2
#define TILE_MR 8
#define TILE_NV 2
#include "nn/qgemm_tile.h"
#define TILE_NAME v8x1
#define TILE_MR 8
#define TILE_NV 1
#include "nn/qgemm_tile.h"
#define TILE_NAME v1x4
#define TILE_MR 1
#define TILE_NV 4
#include "nn/qgemm_tile.h"
#define TILE_NAME v1x3
#define TILE_MR 1
#define TILE_NV 3
#include "nn/qgemm_tile.h"
#define TILE_NAME v1x2
#define TILE_MR 1
#define TILE_NV 2
#include "nn/qgemm_tile.h"
#define TILE_NAME v1x1
#define TILE_MR 1
#define TILE_NV 1
#include "nn/qgemm_tile.h"
#undef TILE_DOT

#define TILE_DOT(acc, a, b) dot_madd(acc, a, b)
#define TILE_NAME m6x4
#define TILE_MR 6
#define TILE_NV 4
#include "nn/qgemm_tile.h"
#define TILE_NAME m8x3
#define TILE_MR 8
#define TILE_NV 3
#include "nn/qgemm_tile.h"
#define TILE_NAME m8x2
#define TILE_MR 8
#define TILE_NV 2
#include "nn/qgemm_tile.h"
#define TILE_NAME m8x1
#define TILE_MR 8
#define TILE_NV 1
#include "nn/qgemm_tile.h"
#define TILE_NAME m1x4
#define TILE_MR 1
#define TILE_NV 4
#include "nn/qgemm_tile.h"
#define TILE_NAME m1x3
#define TILE_MR 1
#define TILE_NV 3
#include "nn/qgemm_tile.h"
#define TILE_NAME m1x2
#define TILE_MR 1
#define TILE_NV 2
#include "nn/qgemm_tile.h"
#define TILE_NAME m1x1
#define TILE_MR 1
#define TILE_NV 1
#include "nn/qgemm_tile.h"
#undef TILE_DOT

typedef void (*tile_fn)(const sl_qconv *, const sl_qgemm_tile *, int, const sl_qpanel *);

/* One function per (tile shape, epilogue mode): VNNI in the three modes,
 * the plain AVX-512 tiles (older machines) in the general one only. */
#define WRAP(NAME, TILE, MODE)                                                                 \
    static void NAME(const sl_qconv *c, const sl_qgemm_tile *t, int r0, const sl_qpanel *pn) { \
        TILE(c, t, r0, pn, MODE);                                                              \
    }
#define WRAP3(TILE)                          \
    WRAP(TILE##_g, TILE, SL_QM_GENERAL)      \
    WRAP(TILE##_u, TILE, SL_QM_U8FULL)       \
    WRAP(TILE##_s, TILE, SL_QM_S8FULL)
WRAP3(v6x4) WRAP3(v8x3) WRAP3(v8x2) WRAP3(v8x1) WRAP3(v1x4) WRAP3(v1x3) WRAP3(v1x2) WRAP3(v1x1)
WRAP(m6x4_g, m6x4, SL_QM_GENERAL) WRAP(m8x3_g, m8x3, SL_QM_GENERAL)
WRAP(m8x2_g, m8x2, SL_QM_GENERAL) WRAP(m8x1_g, m8x1, SL_QM_GENERAL)
WRAP(m1x4_g, m1x4, SL_QM_GENERAL) WRAP(m1x3_g, m1x3, SL_QM_GENERAL)
WRAP(m1x2_g, m1x2, SL_QM_GENERAL) WRAP(m1x1_g, m1x1, SL_QM_GENERAL)

/* Tile shapes per panel width (1..4 vectors) and mode: the big one keeps
 * 24 or fewer accumulators in the 32 zmm registers; the one-row one serves
 * a single leftover row (FULLY_CONNECTED, 7x7 = 2 * 24 + 1 pixels). */
static const int big_mr[5] = {0, 8, 8, 8, 6};
static const tile_fn vnni_big[3][5] = {{NULL, v8x1_g, v8x2_g, v8x3_g, v6x4_g},
                                       {NULL, v8x1_u, v8x2_u, v8x3_u, v6x4_u},
                                       {NULL, v8x1_s, v8x2_s, v8x3_s, v6x4_s}};
static const tile_fn vnni_one[3][5] = {{NULL, v1x1_g, v1x2_g, v1x3_g, v1x4_g},
                                       {NULL, v1x1_u, v1x2_u, v1x3_u, v1x4_u},
                                       {NULL, v1x1_s, v1x2_s, v1x3_s, v1x4_s}};
static const tile_fn madd_big[5] = {NULL, m8x1_g, m8x2_g, m8x3_g, m6x4_g};
static const tile_fn madd_one[5] = {NULL, m1x1_g, m1x2_g, m1x3_g, m1x4_g};

static inline void run_panels(const sl_qconv *c, const sl_qgemm_tile *t, const tile_fn *big,
                              const tile_fn *one) {
    for (int p = t->p0; p < t->p1; p++) {
        const sl_qpanel *pn = &c->panels[p];
        const int mr = big_mr[pn->nv];
        for (int r0 = 0; r0 < t->mr;) {
            if (t->mr - r0 == 1) {
                one[pn->nv](c, t, r0, pn);
                r0 += 1;
            } else {
                big[pn->nv](c, t, r0, pn);
                r0 += mr;
            }
        }
    }
}

static void gemm_vnni(const sl_qconv *c, const sl_qgemm_tile *t) {
    const int mode = sl_qm_mode(&c->g);
    run_panels(c, t, vnni_big[mode], vnni_one[mode]);
}
static void gemm_madd(const sl_qconv *c, const sl_qgemm_tile *t) {
    run_panels(c, t, madd_big, madd_one);
}

const sl_qk_isa sl_qk_avx512vnni = {
    .gemm_name = "gemm-vnni",
    .dw_name = "dw-vnni",
    .lanes = 16,
    .kstep = 4,
    .max_nv = 4,
    .a_u8 = 1,
    .a_row = a_row_u8,
    .rowsum = rowsum,
    .gemm = gemm_vnni,
    .dw_pairs = sl_qdw_pairs_avx512,
    .dw_row = sl_qdw_row_vnni_avx512,
};

const sl_qk_isa sl_qk_avx512 = {
    .gemm_name = "gemm-avx512",
    .dw_name = "dw-avx512",
    .lanes = 16,
    .kstep = 2,
    .max_nv = 4,
    .a_u8 = 0,
    .a_row = a_row_s16,
    .rowsum = NULL,
    .gemm = gemm_madd,
    .dw_pairs = sl_qdw_pairs_avx512,
    .dw_row = sl_qdw_row_avx512,
};
