/* AVX2 GEMM kernels for the quantized convolutions: vpmaddwd on int16
 * pairs (a - in_zp) x (w - filter_zp) (s16 encoding, qgemm.h). Each
 * product is at most 255 * 255 in magnitude and a pair sums to at most
 * 130050, so vpmaddwd never saturates (vpmaddubsw on raw u8 x s8 could:
 * 2 * 255 * 128 > 32767), and the int32 sums wrap like the reference's. */
#include "nn/qgemm_x86.h"

static void a_row_s16(const sl_qconv *c, const void *src, size_t n, void *dst) {
    const __m256i zp = _mm256_set1_epi16((short)c->d.in_zp);
    const int s8 = c->d.act_type == SL_QTYPE_S8;
    const uint8_t *s = src;
    int16_t *o = dst;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m128i raw = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        const __m256i w = s8 ? _mm256_cvtepi8_epi16(raw) : _mm256_cvtepu8_epi16(raw);
        _mm256_storeu_si256((__m256i *)(void *)(o + i), _mm256_sub_epi16(w, zp));
    }
    if (i < n) sl_qa_row_s16(c, s + i, n - i, o + i);
}

static inline __m256i dot_madd(__m256i acc, __m256i a, __m256i b) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b));
}

#define TILE_W 8
#define TILE_VEC __m256i
#define TILE_LOAD(p) _mm256_load_si256((const __m256i *)(const void *)(p))
#define TILE_SET1(x) _mm256_set1_epi32(x)
#define TILE_ADD(a, b) _mm256_add_epi32(a, b)
#define TILE_DOT(acc, a, b) dot_madd(acc, a, b)
#define TILE_EP(x, e, g, mode) sl_q256(x, e, g)
#define TILE_STORE(dst, b, n) sl_st8(dst, b, n)

#define TILE_NAME m4x2
#define TILE_MR 4
#define TILE_NV 2
#include "nn/qgemm_tile.h"
#define TILE_NAME m8x1
#define TILE_MR 8
#define TILE_NV 1
#include "nn/qgemm_tile.h"
#define TILE_NAME m1x2
#define TILE_MR 1
#define TILE_NV 2
#include "nn/qgemm_tile.h"
#define TILE_NAME m1x1
#define TILE_MR 1
#define TILE_NV 1
#include "nn/qgemm_tile.h"

typedef void (*tile_fn)(const sl_qconv *, const sl_qgemm_tile *, int, const sl_qpanel *);
#define WRAP(NAME, TILE)                                                                       \
    static void NAME(const sl_qconv *c, const sl_qgemm_tile *t, int r0, const sl_qpanel *pn) { \
        TILE(c, t, r0, pn, 0);                                                                 \
    }
WRAP(t4x2, m4x2) WRAP(t8x1, m8x1) WRAP(t1x2, m1x2) WRAP(t1x1, m1x1)

static void gemm_avx2(const sl_qconv *c, const sl_qgemm_tile *t) {
    for (int p = t->p0; p < t->p1; p++) {
        const sl_qpanel *pn = &c->panels[p];
        for (int r0 = 0; r0 < t->mr;) {
            if (t->mr - r0 == 1) {
                if (pn->nv == 2) t1x2(c, t, r0, pn);
                else t1x1(c, t, r0, pn);
                r0 += 1;
            } else if (pn->nv == 2) {
                t4x2(c, t, r0, pn);
                r0 += 4;
            } else {
                t8x1(c, t, r0, pn);
                r0 += 8;
            }
        }
    }
}

const sl_qk_isa sl_qk_avx2 = {
    .gemm_name = "gemm-avx2",
    .dw_name = "dw-avx2",
    .lanes = 8,
    .kstep = 2,
    .max_nv = 2,
    .a_u8 = 0,
    .a_row = a_row_s16,
    .rowsum = NULL,
    .gemm = gemm_avx2,
    .dw_pairs = sl_qdw_pairs_avx2,
    .dw_row = sl_qdw_row_avx2,
};
