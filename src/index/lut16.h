/* 4-bit product-quantization scan ("LUT16", like ScaNN's LUT16 and faiss's
 * FastScan): every database point is n_blocks 4-bit codes (16 centres per
 * block); a query gives, per block, a table of 16 uint8 values, and a
 * point's score is sum_b lut[b][code_b(point)], an exact integer. The SIMD
 * kernels score 32 points at a time with in-register table lookups
 * (vpshufb), accumulating in 16-bit lanes that are flushed into 32 bits
 * before they can overflow. docs/KERNELS.md "4-bit PQ scan (LUT16)".
 *
 * Packed layout (private to this module; only these functions read it):
 * points are stored in groups of SL_LUT16_GROUP = 32, group after group.
 * A group is n_blocks runs of 16 bytes, block 0 first; the 16 bytes of
 * block b hold the 32 codes of that block, two per byte. Point p (0..31) of
 * the group is in byte 2 * (p % 8) + p / 16, in the low nibble when
 * (p / 8) is even and in the high nibble otherwise:
 *
 *     byte 2k   : low nibble point k,      high nibble point 8 + k
 *     byte 2k+1 : low nibble point 16 + k, high nibble point 24 + k
 *
 * Why: a 32-byte (AVX2) or 64-byte (AVX-512) load is 2 or 4 consecutive
 * blocks, one per 128-bit lane, and the matching 32 or 64 bytes of the LUT
 * are the vpshufb tables for those lanes without any shuffling. The low
 * nibbles index one vpshufb, the high nibbles (shifted) another. Read as
 * 16-bit words, the low bytes of a lookup result are points k / 8 + k and
 * the high bytes points 16 + k / 24 + k, so after the two halves are
 * separated and the lanes summed, the 16-bit sums come out in point order:
 * compare masks need no bit permutation and stores need no shuffles.
 * A group takes 16 * n_blocks bytes (half a byte per code, nothing else).
 *
 * Limits: sums are exact uint32 for n_blocks <= SL_LUT16_MAX_BLOCKS
 * (255 * n_blocks < 2^32); candidate indices are uint32, so one scan_above
 * call covers at most 2^32 / 32 groups (split larger ranges). All functions
 * are thread-safe on distinct outputs and never allocate. */
#ifndef SL_INDEX_LUT16_H
#define SL_INDEX_LUT16_H

#include "core/core.h"

#include <stddef.h>
#include <stdint.h>

#define SL_LUT16_GROUP 32
/* Above this, 255 * n_blocks no longer fits in a uint32 sum. */
#define SL_LUT16_MAX_BLOCKS ((size_t)16843009)

/* Bytes of packed storage for n points of n_blocks codes: n rounded up to a
 * multiple of 32, times n_blocks / 2. Padding points have code 0. Returns
 * SIZE_MAX when the size overflows size_t (so an allocation of it fails). */
size_t sl_lut16_packed_size(size_t n, size_t n_blocks);

/* codes: (n, n_blocks) row-major, one code per byte (only the low 4 bits
 * are used). packed: sl_lut16_packed_size(n, n_blocks) bytes, all written,
 * padding points zero. */
void sl_lut16_pack(const uint8_t *codes, size_t n, size_t n_blocks, uint8_t *packed);

/* Reads / writes code b of point i (for adding, deleting and moving single
 * points without repacking). set uses the low 4 bits of code. */
uint8_t sl_lut16_get(const uint8_t *packed, size_t n_blocks, size_t i, size_t b);
void sl_lut16_set(uint8_t *packed, size_t n_blocks, size_t i, size_t b, uint8_t code);

/* Scores points [0, n_groups * 32): out[i] = sum_b lut[b * 16 + code_b(i)],
 * exact. lut: (n_blocks, 16) uint8 row-major; out: n_groups * 32 uint32.
 * Padding points are scored too (code 0 in every block).
 * sl_lut16_scan dispatches on sl_cpu(); sl_lut16_scan_ref is the plain C
 * twin (also the scalar level); _level runs a given level (capped at
 * sl_cpu()) for tests and benchmarks. Every level gives the same output. */
void sl_lut16_scan(const uint8_t *packed, size_t n_groups, size_t n_blocks, const uint8_t *lut,
                   uint32_t *out);
void sl_lut16_scan_ref(const uint8_t *packed, size_t n_groups, size_t n_blocks, const uint8_t *lut,
                       uint32_t *out);
void sl_lut16_scan_level(sl_cpu_level level, const uint8_t *packed, size_t n_groups, size_t n_blocks,
                         const uint8_t *lut, uint32_t *out);

/* The scan fused with a threshold: writes to cand[] the indices i
 * (ascending, relative to the start of packed) whose sum is strictly
 * greater than `threshold`, their sums to cand_sum[], and returns the count.
 * cand and cand_sum: room for n_groups * 32 entries. Padding points are
 * candidates like any other (the caller drops indices >= n). This is what
 * the search uses: most points fall under the running top-k threshold, and
 * comparing the sums in registers (in 16 bits when n_blocks <= 256, where
 * they cannot exceed 65535) avoids writing every score out. Identical
 * results (indices and sums) at every level. */
size_t sl_lut16_scan_above(const uint8_t *packed, size_t n_groups, size_t n_blocks, const uint8_t *lut,
                           uint32_t threshold, uint32_t *cand, uint32_t *cand_sum);
size_t sl_lut16_scan_above_ref(const uint8_t *packed, size_t n_groups, size_t n_blocks,
                               const uint8_t *lut, uint32_t threshold, uint32_t *cand,
                               uint32_t *cand_sum);
size_t sl_lut16_scan_above_level(sl_cpu_level level, const uint8_t *packed, size_t n_groups,
                                 size_t n_blocks, const uint8_t *lut, uint32_t threshold,
                                 uint32_t *cand, uint32_t *cand_sum);

/* ---- query tables ------------------------------------------------------- */

/* Float tables of a query against 4-bit codebooks: for block b (dimensions
 * [b * dpb, min(dim, (b + 1) * dpb))) and centre j,
 *     lut[b * 16 + j] = sum over the block's t of (mult * q[t]) * cbt[(b * dpb + t) * 16 + j]
 * summed in t order without fused multiply-adds, so that every level gives
 * the same bits. q (dim); cbt (n_blocks, dpb, 16): the codebooks transposed
 * (centre j's coordinate t of a block at [t][j]); lut (n_blocks, 16). */
void sl_lut16_tables(const float *q, size_t dim, size_t dpb, const float *cbt, float mult, float *lut);
void sl_lut16_tables_ref(const float *q, size_t dim, size_t dpb, const float *cbt, float mult, float *lut);
void sl_lut16_tables_level(sl_cpu_level level, const float *q, size_t dim, size_t dpb, const float *cbt,
                           float mult, float *lut);

/* Float tables (n_blocks, 16) to uint8 ones for the scan: lo[b] = the
 * block's minimum, *scale = (the largest max - min of any block) / 255 (1
 * when every block is constant), lut8 = round-half-up((lut - lo[b]) /
 * scale) clamped to 0..255 (computed as (lut - lo) * (1 / scale) + 0.5,
 * truncated; a NaN gives 0). One scale for all blocks, so the integer sums
 * add up: sum_b lut[b][code_b] ~= offset + scale * sum_b lut8[b][code_b],
 * and the return value is offset = the sum of lo[b] in block order. lo
 * (n_blocks) is scratch the caller provides. Every level gives the same
 * lut8 and scale bits and an equal offset. */
float sl_lut16_quantize(const float *lut, size_t n_blocks, uint8_t *lut8, float *scale, float *lo);
float sl_lut16_quantize_ref(const float *lut, size_t n_blocks, uint8_t *lut8, float *scale, float *lo);
float sl_lut16_quantize_level(sl_cpu_level level, const float *lut, size_t n_blocks, uint8_t *lut8, float *scale,
                              float *lo);

/* ---- internal: the per-instruction-set kernels (same contracts) -------- */
#ifndef SL_NO_X86_SIMD
void sl_lut16_scan_avx2(const uint8_t *packed, size_t n_groups, size_t n_blocks, const uint8_t *lut,
                        uint32_t *out);
size_t sl_lut16_scan_above_avx2(const uint8_t *packed, size_t n_groups, size_t n_blocks,
                                const uint8_t *lut, uint32_t threshold, uint32_t *cand,
                                uint32_t *cand_sum);
void sl_lut16_scan_avx512(const uint8_t *packed, size_t n_groups, size_t n_blocks, const uint8_t *lut,
                          uint32_t *out);
size_t sl_lut16_scan_above_avx512(const uint8_t *packed, size_t n_groups, size_t n_blocks,
                                  const uint8_t *lut, uint32_t threshold, uint32_t *cand,
                                  uint32_t *cand_sum);
#endif

#ifndef SL_NO_X86_SIMD
void sl_lut16_tables_avx2(const float *q, size_t dim, size_t dpb, const float *cbt, float mult, float *lut);
void sl_lut16_tables_avx512(const float *q, size_t dim, size_t dpb, const float *cbt, float mult, float *lut);
float sl_lut16_quantize_avx2(const float *lut, size_t n_blocks, uint8_t *lut8, float *scale, float *lo);
float sl_lut16_quantize_avx512(const float *lut, size_t n_blocks, uint8_t *lut8, float *scale, float *lo);
#endif

#endif /* SL_INDEX_LUT16_H */
