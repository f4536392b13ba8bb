/* The resize passes compiled for AVX2 (this file gets -mavx2 from the
 * build); selected at run time by resize.c when sl_cpu() allows. Same
 * bodies as the baseline build, so the results are bit-identical. */
#include "image/resize_kernels.h"

void sl_resize_h_avx2(uint8_t *dst, const uint8_t *src, uint32_t src_w, uint32_t row0,
                      uint32_t rows, const sl_resize_axis *ax) {
    sl_resize_h_body(dst, src, src_w, row0, rows, ax);
}

void sl_resize_v_avx2(uint8_t *dst, const uint8_t *src, uint32_t width, uint32_t row0,
                      const sl_resize_axis *ax, int32_t *acc) {
    sl_resize_v_body(dst, src, width, row0, ax, acc);
}
