/* The two passes of the Pillow-exact bilinear resize (see resize.c for the
 * algorithm). The bodies are plain C, written so that compilers vectorise
 * them; they are instantiated twice, in resize.c for the baseline
 * instruction set and in resize_avx2.c compiled for AVX2 (where the
 * 32-bit multiplies of the vertical pass become single instructions).
 * Integer arithmetic makes both instantiations bit-identical, which
 * tests/test_image.c checks. Not public API. */
#ifndef SL_RESIZE_KERNELS_H
#define SL_RESIZE_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* 8 bits of pixel, 2 bits of headroom: fixed-point weights have 22
 * fractional bits, and a sum of pixel * weight never overflows int32. */
enum { SL_RESIZE_PRECISION_BITS = 32 - 8 - 2 };

/* The filter of one axis. */
typedef struct sl_resize_axis {
    uint32_t out_size;
    uint32_t ksize;  /* row stride of coef */
    uint32_t *start; /* (out_size) first source index of each output */
    uint32_t *taps;  /* (out_size) number of source indices used */
    int32_t *coef;   /* (out_size, ksize) fixed point, 22 fractional bits */
} sl_resize_axis;

/* dst (rows, ax->out_size, 3) <- rows [row0, row0 + rows) of src
 * (*, src_w, 3), filtered along x. */
typedef void sl_resize_h_fn(uint8_t *dst, const uint8_t *src, uint32_t src_w,
                            uint32_t row0, uint32_t rows, const sl_resize_axis *ax);
/* dst (ax->out_size, width, 3) <- src (*, width, 3) filtered along y; the
 * source row of output j, tap t is ax->start[j] + t - row0. `acc` is
 * scratch for width * 3 int32. */
typedef void sl_resize_v_fn(uint8_t *dst, const uint8_t *src, uint32_t width,
                            uint32_t row0, const sl_resize_axis *ax, int32_t *acc);

sl_resize_h_fn sl_resize_h_scalar, sl_resize_h_avx2;
sl_resize_v_fn sl_resize_v_scalar, sl_resize_v_avx2;

static inline uint8_t sl_resize_clip8(int32_t v) {
    v >>= SL_RESIZE_PRECISION_BITS; /* arithmetic shift: floor, as Pillow */
    return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)v;
}

/* One output pixel for `nr` (1 or 2) rows sharing the weights: two rows
 * at once halve the weight loads and loop overhead and give six
 * independent sums. */
static inline void sl_resize_h_pixel(uint8_t *restrict d0, uint8_t *restrict d1,
                                     const uint8_t *p0, const uint8_t *p1,
                                     const int32_t *k, uint32_t taps, int nr) {
    const int32_t half = 1 << (SL_RESIZE_PRECISION_BITS - 1);
    int32_t r0 = half, g0 = half, b0 = half, r1 = half, g1 = half, b1 = half;
    for (uint32_t t = 0; t < taps; t++, p0 += 3, p1 += 3) {
        const int32_t kt = k[t];
        r0 += p0[0] * kt;
        g0 += p0[1] * kt;
        b0 += p0[2] * kt;
        if (nr == 2) {
            r1 += p1[0] * kt;
            g1 += p1[1] * kt;
            b1 += p1[2] * kt;
        }
    }
    d0[0] = sl_resize_clip8(r0);
    d0[1] = sl_resize_clip8(g0);
    d0[2] = sl_resize_clip8(b0);
    if (nr == 2) {
        d1[0] = sl_resize_clip8(r1);
        d1[1] = sl_resize_clip8(g1);
        d1[2] = sl_resize_clip8(b1);
    }
}

static inline void sl_resize_h_body(uint8_t *restrict dst, const uint8_t *restrict src,
                                    uint32_t src_w, uint32_t row0, uint32_t rows,
                                    const sl_resize_axis *ax) {
    const size_t src_stride = (size_t)src_w * 3, dst_stride = (size_t)ax->out_size * 3;
    for (uint32_t y = 0; y < rows; y += 2) {
        const uint8_t *s0 = src + (size_t)(row0 + y) * src_stride;
        uint8_t *d0 = dst + (size_t)y * dst_stride;
        const int two = y + 1 < rows;
        for (uint32_t i = 0; i < ax->out_size; i++) {
            const size_t o = (size_t)ax->start[i] * 3;
            const int32_t *k = ax->coef + (size_t)i * ax->ksize;
            if (two)
                sl_resize_h_pixel(d0 + 3 * (size_t)i, d0 + dst_stride + 3 * (size_t)i, s0 + o,
                                  s0 + src_stride + o, k, ax->taps[i], 2);
            else
                sl_resize_h_pixel(d0 + 3 * (size_t)i, NULL, s0 + o, s0 + o, k, ax->taps[i], 1);
        }
    }
}

/* Row-at-a-time accumulation keeps the inner loop a contiguous
 * multiply-add; integer sums make the result identical to Pillow's
 * pixel-at-a-time order. */
static inline void sl_resize_v_body(uint8_t *restrict dst, const uint8_t *restrict src,
                                    uint32_t width, uint32_t row0,
                                    const sl_resize_axis *ax, int32_t *restrict acc) {
    const size_t n = (size_t)width * 3, n16 = n & ~(size_t)15;
    for (uint32_t j = 0; j < ax->out_size; j++) {
        const int32_t *k = ax->coef + (size_t)j * ax->ksize;
        /* Every loop runs in fixed blocks of 16 plus a tail, which
         * compilers vectorise even at -O2's cheap cost model. */
        const int32_t half = 1 << (SL_RESIZE_PRECISION_BITS - 1);
        const uint8_t *restrict s = src + (size_t)(ax->start[j] - row0) * n;
        /* The first tap initialises the sums (every output has a tap). */
        for (size_t i = 0; i < n16; i += 16)
            for (size_t b = 0; b < 16; b++) acc[i + b] = half + s[i + b] * k[0];
        for (size_t i = n16; i < n; i++) acc[i] = half + s[i] * k[0];
        for (uint32_t t = 1; t < ax->taps[j]; t++) {
            s += n;
            const int32_t kt = k[t];
            for (size_t i = 0; i < n16; i += 16)
                for (size_t b = 0; b < 16; b++) acc[i + b] += s[i + b] * kt;
            for (size_t i = n16; i < n; i++) acc[i] += s[i] * kt;
        }
        uint8_t *restrict d = dst + (size_t)j * n;
        for (size_t i = 0; i < n16; i += 16)
            for (size_t b = 0; b < 16; b++) d[i + b] = sl_resize_clip8(acc[i + b]);
        for (size_t i = n16; i < n; i++) d[i] = sl_resize_clip8(acc[i]);
    }
}

#endif /* SL_RESIZE_KERNELS_H */
