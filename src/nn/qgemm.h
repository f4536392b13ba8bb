/* Internals of the fast quantized convolutions (qconv_fast.c): the layout
 * of a prepared layer and the kernel table of each instruction set. Not
 * API; docs/KERNELS.md explains the designs and why they are exact.
 *
 * CONV_2D is a GEMM: row m of A is output pixel m's receptive field
 * flattened in (ky, kx, ic) order (im2col; for unpadded 1x1 stride-1
 * layers with uint8 activations under VNNI it is the input pixel itself,
 * `direct`), K = k_h * k_w * in_c, and column n of B is
 * filter n in the same order (the OHWI filter already is B transposed):
 *   acc[m][n] = colc[n] + rowc[m] + sum_k A[m][k] * B[k][n]
 * with the operands encoded per instruction set:
 *  - "u8" (AVX-512 VNNI, vpdpbusd u8 x s8): A = a ^ axor as u8 (axor = 0x80
 *    turns int8 into uint8 = a + 128), padding taps = zp_p (the encoded
 *    input zero point), B = w ^ wxor as s8 (wxor = 0x80 turns uint8 into
 *    int8 = w - 128) with zero point zp_q, and
 *      colc[n] = bias[n] - zp_p * sum_k (w[k][n] - filter_zp)
 *      rowc[m] = -zp_q * sum_k A[m][k]          (only when zp_q != 0)
 *    which is the expansion of sum (A - zp_p)(B - zp_q);
 *  - "s16" (AVX2, AVX-512 without VNNI, scalar): A = a - in_zp and
 *    B = w - filter_zp as int16 (|x| <= 255), padding taps = 0, so
 *    colc = bias and there are no row terms.
 * All sums are taken modulo 2^32, like the int32 accumulator of the
 * reference; they equal it whenever the reference does not overflow.
 *
 * DEPTHWISE_CONV_2D works on "pair rows": an input row converted to int16
 * (a - in_zp, 0 outside the image) where entry j of channel c holds the
 * pair (a'[x_j][c], a'[x_j + dil_w][c]), x_j = j * dw_L - pad_left, so one
 * pmaddwd / vpdpwssd lane applies two horizontal taps of a filter row.
 * A pair row of a block of dw_cb channels is laid out (dw_cb / W, dw_nj,
 * W) int16 pairs: vector-block major, so the entries that neighbouring
 * output pixels read are dw_jox * W * 4 bytes apart. */
#ifndef SL_NN_QGEMM_H
#define SL_NN_QGEMM_H

#include "nn/qconv.h"
#include "nn/quant.h"

#include <stddef.h>
#include <stdint.h>

enum { SL_QK_GEMM = 0, SL_QK_DW = 1, SL_QK_DW_GENERIC = 2 };

/* Requantization block of one vector of W lanes (W = the ISA's lanes):
 * SL_QEP_FIELDS arrays of W int32 each, the int64 fields holding W/2
 * values (one per even or odd lane). For lane i of channel n, with
 * e = max(-shift, 0), the SIMD epilogue computes exactly
 *   sl_mul_qm(x, q, shift) + out_zp
 *     = floor((x' q + 2^30 + c 2^31 + out_zp 2^(31+e)) / 2^(31+e))
 * (x' = x << max(shift, 0); c = 2^(e-1) - [x' q < -2^30] when e >= 1, else
 * 0) on 64-bit products; see qgemm_x86.h and docs/KERNELS.md. AVX-512
 * shifts arithmetically and folds out_zp into K1 when every e <= 23
 * (sl_qep_glob.zp_folded); AVX2 has only a logical 64-bit shift and adds
 * 2^62 to K1, undone through ZPC. */
enum {
    SL_QEP_COLC = 0, /* int32: accumulator start value */
    SL_QEP_LEFT,     /* int32: left shift */
    SL_QEP_Q,        /* int32: multiplier (even lanes read by vpmuldq) */
    SL_QEP_QO,       /* int64: multiplier of the odd lane 2i+1 */
    SL_QEP_K1E,      /* int64: 2^30 (+ 2^(30+e) when e >= 1) (+ offset or zero point), even lanes */
    SL_QEP_K1O,      /*        ... odd lanes */
    SL_QEP_FE,       /* int64: 2^31 when e >= 1 else 0, even lanes */
    SL_QEP_FO,       /*        ... odd lanes */
    SL_QEP_SE,       /* int64: 31 + e, even lanes */
    SL_QEP_SO,       /*        ... odd lanes, minus 32 when odd_hi */
    SL_QEP_ZPC,      /* int32: added after the shift (zero point, offset removal) */
    SL_QEP_FIELDS
};

/* Layer-wide epilogue constants. */
typedef struct sl_qep_glob {
    int32_t act_min, act_max; /* clamp range, within the output type */
    int32_t out_zp;
    int any_left;             /* some channel shifts left */
    int sat;                  /* some multiplier is INT32_MIN (SRDHM can saturate) */
    int out_s8;               /* output type is int8 */
    int full_range;           /* [act_min, act_max] is the whole output type: a
                                 saturating narrowing is the clamp */
    int zp_folded;            /* out_zp is inside K1; ZPC is 0 (AVX-512) */
    int odd_hi;               /* every e >= 1: odd lanes shift by 31 + e - 32,
                                 landing in the high dword, and a blend
                                 replaces the shift + blend / permute */
} sl_qep_glob;

/* A run of output channels packed together: B columns [n0, n0 + nv * W). */
typedef struct sl_qpanel {
    int n0, nv;
    size_t boff; /* byte offset of its block in the packed B */
} sl_qpanel;

/* One GEMM tile for an ISA: mr consecutive rows of A against panels
 * [p0, p1), writing (mr, out_c) output bytes. */
typedef struct sl_qgemm_tile {
    const void *a;        /* (mr, Kp) A rows, u8 or int16 per the ISA */
    size_t lda;           /* bytes between A rows */
    int mr;
    const int32_t *rowc;  /* (mr) row constants, or NULL */
    int p0, p1;
    uint8_t *c;           /* output of A's first row; rows out_c bytes apart */
} sl_qgemm_tile;

typedef struct sl_qk_isa sl_qk_isa;

struct sl_qconv {
    sl_qconv_desc d;
    sl_cpu_level level;
    const sl_qk_isa *isa;
    int kind;
    const char *name;
    /* Per-channel requantization, (out_c) each; colc as described above. */
    int32_t *colc, *mult, *shift;
    int32_t *ep;          /* (ceil(out_c / W), SL_QEP_FIELDS, W) blocks, SIMD only */
    sl_qep_glob g;
    size_t scratch;       /* per-thread scratch bytes */

    /* ---- GEMM ---- */
    int K, Kp;            /* real and padded depth (multiple of the ISA's kstep) */
    uint8_t axor, wxor;   /* u8 encoding, see above */
    int32_t zp_p, zp_q;   /* encoded zero points (u8 encoding) */
    int direct;           /* A rows are the input pixels themselves */
    int mt;               /* rows per M tile */
    size_t a_stride;      /* bytes per packed A row */
    int npanels, nchunks; /* panels; panel chunks per M tile in the task grid */
    sl_qpanel *panels;
    uint8_t *b;           /* packed B, 64-byte aligned */

    /* ---- depthwise ---- */
    int dw_M;             /* filter-row pairs: ceil(k_w / 2) */
    int dw_L;             /* pair-row lattice step: gcd(stride_w, 2 dil_w) */
    int dw_jox, dw_jm;    /* entry of (ox, pair m) = ox * dw_jox + m * dw_jm */
    int dw_nj;            /* entries per pair row */
    int dw_R;             /* ring slots: (k_h - 1) * dil_h + 1 */
    int dw_cb;            /* channel lanes per block (multiple of W) */
    int dw_Cp;            /* out_c rounded up to W */
    int dw_band;          /* output rows per task */
    int16_t *dw_w;        /* (k_h, dw_M, dw_Cp, 2) pairs (w - filter_zp), 0-padded */
};

struct sl_qk_isa {
    const char *gemm_name, *dw_name;
    int lanes;   /* W: channels per vector (16 zmm, 8 ymm; 16 for scalar blocks) */
    int kstep;   /* k values per lane of a B vector: 4 u8, 2 int16 pairs, 1 */
    int max_nv;  /* vectors per panel */
    int a_u8;    /* A encoding: 1 u8, 0 int16 */
    /* Encodes n activations (act_type) into A elements. */
    void (*a_row)(const sl_qconv *c, const void *src, size_t n, void *dst);
    /* rowc[r] = mult * sum of the first k bytes of row r (u8 encoding). */
    void (*rowsum)(const uint8_t *a, size_t lda, int mr, int k, int32_t mult, int32_t *rowc);
    void (*gemm)(const sl_qconv *c, const sl_qgemm_tile *t);
    /* Builds the pair row of input row `in_row` ((in_w, in_c) activations)
     * for output channels [c0, c0 + cw): dw_nj entries of dw_cb lanes. */
    void (*dw_pairs)(const sl_qconv *c, const void *in_row, int c0, int cw, int16_t *buf);
    /* One output row of channels [c0, c0 + cw): rows[ky] is the pair row
     * of filter row ky, or NULL when it lies in the padding. */
    void (*dw_row)(const sl_qconv *c, const int16_t *const *rows, int c0, int cw,
                   uint8_t *out_row);
};

/* Lanes of the scalar kernels (column panel width, depthwise channel
 * vector): fixed trip counts the compiler can vectorize. */
#define SL_QK_SCALAR_LANES 16

extern const sl_qk_isa sl_qk_scalar;
#ifndef SL_NO_X86_SIMD
extern const sl_qk_isa sl_qk_avx2, sl_qk_avx512, sl_qk_avx512vnni;
/* Depthwise kernels of qdw_avx2.c / qdw_avx512.c (signatures as in the
 * table). */
void sl_qdw_pairs_avx2(const sl_qconv *c, const void *in_row, int c0, int cw, int16_t *buf);
void sl_qdw_row_avx2(const sl_qconv *c, const int16_t *const *rows, int c0, int cw,
                     uint8_t *out_row);
void sl_qdw_pairs_avx512(const sl_qconv *c, const void *in_row, int c0, int cw, int16_t *buf);
void sl_qdw_row_avx512(const sl_qconv *c, const int16_t *const *rows, int c0, int cw,
                       uint8_t *out_row);
void sl_qdw_row_vnni_avx512(const sl_qconv *c, const int16_t *const *rows, int c0, int cw,
                            uint8_t *out_row);
#endif

/* Most filter rows a depthwise task keeps converted ((k_h - 1) * dil_h + 1),
 * and most (filter row, tap pair) combinations of the pair-row kernels;
 * larger filters take the generic path. */
#define SL_QDW_MAX_RING 64
#define SL_QDW_MAX_TAPS 128

/* Scalar pieces shared by every ISA (qgemm.c / qdw.c). */

/* Fills the im2col rows of output pixels [m0, m0 + mr) into dst, `stride`
 * bytes apart, with the ISA's encoding: K elements, padding taps as
 * described above, then zeros up to Kp. */
void sl_qgemm_im2col(const sl_qconv *c, const void *input, int64_t m0, int mr, uint8_t *dst,
                     size_t stride);

/* Encodes n activations of act_type into int16 a - in_zp / u8 a ^ axor. */
void sl_qa_row_s16(const sl_qconv *c, const void *src, size_t n, void *dst);
void sl_qa_row_u8(const sl_qconv *c, const void *src, size_t n, void *dst);

/* Scalar depthwise pieces: the pair-row builder (any depth multiplier)
 * and the output-row kernel. */
void sl_qdw_pairs_scalar(const sl_qconv *c, const void *in_row, int c0, int cw, int16_t *buf);
void sl_qdw_row_scalar(const sl_qconv *c, const int16_t *const *rows, int c0, int cw,
                       uint8_t *out_row);

/* The generic depthwise path (any geometry), used when pair rows would not
 * fit: runs output pixels [p0, p1) of the whole tensor; scratch holds
 * out_c uint32 accumulators. */
void sl_qdw_generic(const sl_qconv *c, const void *input, void *output, int64_t p0, int64_t p1,
                    uint32_t *acc);

/* Scalar requantization of accumulator `acc` of channel n: the reference
 * arithmetic itself, the twin of every SIMD epilogue. */
static inline uint8_t sl_qreq1(const sl_qconv *c, uint32_t acc, int n) {
    int32_t v = sl_mul_qm((int32_t)acc, c->mult[n], c->shift[n]);
    /* Wraps like the reference's int32 addition in practice, without UB. */
    v = (int32_t)((uint32_t)v + (uint32_t)c->g.out_zp);
    v = sl_clamp_i32(v, c->g.act_min, c->g.act_max);
    return (uint8_t)v;
}

#endif /* SL_NN_QGEMM_H */
