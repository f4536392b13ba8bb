/* Bilinear resize reproducing Pillow 9.4's Image.resize(size, BILINEAR) on
 * 8-bit RGB, bit for bit.
 *
 * The algorithm (Pillow's libImaging/Resample.c, reimplemented): a
 * separable convolution with the triangle filter, whose support is widened
 * by the downscale factor so that shrinking averages every source pixel
 * (antialiasing). For each output index i along an axis of in -> out:
 *   scale = in / out, fs = max(scale, 1), support = fs,
 *   center = (i + 0.5) * scale,
 *   taps x in [int(center - support + 0.5), int(center + support + 0.5))
 *   clipped to [0, in), weight tri((x - center + 0.5) / fs), normalised
 *   to sum 1 in double, then rounded to fixed point with 22 fractional bits
 *   (32 - 8 - 2: 8 bits of pixel, 2 of headroom).
 * Sums start at 0.5 (1 << 21), are shifted right by 22 and clipped to
 * [0, 255]. The horizontal pass runs first, over only the source rows the
 * vertical pass will read, into an 8-bit intermediate image; then the
 * vertical pass. An axis whose size does not change is not filtered at
 * all, and an unchanged size is a plain copy. The double expressions below
 * keep Pillow's order of operations so that the weights round the same. */
#include "image/image_internal.h"
#include "image/resize_kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void axis_free(sl_resize_axis *a) {
    free(a->start);
    free(a->taps);
    free(a->coef);
    memset(a, 0, sizeof *a);
}

static inline double triangle(double x) {
    if (x < 0.0) x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

/* Pads every output of the axis to the same number of taps (zero weights
 * added at the front, the window moved left to stay inside the source).
 * The sums do not change, and a loop whose trip count never varies is
 * predicted perfectly: worth it for the horizontal pass, where varying
 * tap counts cost a branch miss every few pixels. */
static void axis_pad(sl_resize_axis *a, uint32_t in_size) {
    uint32_t m = 0;
    for (uint32_t i = 0; i < a->out_size; i++) m = SL_MAX(m, a->taps[i]);
    for (uint32_t i = 0; i < a->out_size; i++) {
        uint32_t start = SL_MIN(a->start[i], in_size - m); /* m <= in_size */
        uint32_t shift = a->start[i] - start, n = a->taps[i];
        int32_t *k = a->coef + (size_t)i * a->ksize;
        memmove(k + shift, k, n * sizeof *k);
        memset(k, 0, shift * sizeof *k);
        memset(k + shift + n, 0, (m - shift - n) * sizeof *k);
        a->start[i] = start;
        a->taps[i] = m;
    }
}

static sl_status axis_init(sl_resize_axis *a, uint32_t in_size, uint32_t out_size) {
    memset(a, 0, sizeof *a);
    const double scale = (double)in_size / out_size;
    const double filterscale = scale < 1.0 ? 1.0 : scale;
    const double support = 1.0 * filterscale; /* the triangle's support is 1 */
    const double ss = 1.0 / filterscale;
    /* support <= 65535, so ksize <= 131071 and out_size * ksize stays far
     * below SIZE_MAX even on 32-bit (out_size * support ~ in_size). */
    const uint32_t ksize = (uint32_t)ceil(support) * 2 + 1;
    a->out_size = out_size;
    a->ksize = ksize;
    a->start = sl_malloc_array(out_size, sizeof *a->start);
    a->taps = sl_malloc_array(out_size, sizeof *a->taps);
    a->coef = sl_calloc_array((size_t)out_size * ksize, sizeof *a->coef);
    double *w = sl_malloc_array(ksize, sizeof *w);
    if (!a->start || !a->taps || !a->coef || !w) {
        free(w);
        axis_free(a);
        return sl_fail(SL_ERR_NOMEM, "resize: cannot allocate filter tables");
    }
    for (uint32_t i = 0; i < out_size; i++) {
        const double center = (i + 0.5) * scale;
        int xmin = (int)(center - support + 0.5);
        int xmax = (int)(center + support + 0.5);
        if (xmin < 0) xmin = 0;
        if (xmax > (int)in_size) xmax = (int)in_size;
        int n = xmax - xmin;
        if (n > (int)ksize) n = (int)ksize; /* cannot happen; keeps writes in bounds */
        if (n < 1) { /* cannot happen either: the nearest pixel always counts */
            xmin = SL_MIN(xmin, (int)in_size - 1);
            n = 1;
        }
        double sum = 0.0;
        for (int x = 0; x < n; x++) {
            w[x] = triangle((x + xmin - center + 0.5) * ss);
            sum += w[x];
        }
        int32_t *k = a->coef + (size_t)i * ksize;
        for (int x = 0; x < n; x++) {
            double v = sum != 0.0 ? w[x] / sum : w[x];
            k[x] = (int32_t)(0.5 + v * (1 << SL_RESIZE_PRECISION_BITS)); /* v >= 0 */
        }
        a->start[i] = (uint32_t)xmin;
        a->taps[i] = (uint32_t)n;
    }
    free(w);
    return SL_OK;
}

void sl_resize_h_scalar(uint8_t *dst, const uint8_t *src, uint32_t src_w, uint32_t row0,
                        uint32_t rows, const sl_resize_axis *ax) {
    sl_resize_h_body(dst, src, src_w, row0, rows, ax);
}

void sl_resize_v_scalar(uint8_t *dst, const uint8_t *src, uint32_t width, uint32_t row0,
                        const sl_resize_axis *ax, int32_t *acc) {
    sl_resize_v_body(dst, src, width, row0, ax, acc);
}

/* The intermediate image may be far larger than input and output for
 * extreme aspect changes (100 x 10000 -> 10000 x 100 needs 10000 x 10000);
 * refuse those rather than allocate gigabytes. */
#define MAX_INTERMEDIATE_PIXELS (4 * SL_IMAGE_DEFAULT_MAX_PIXELS)

sl_status sl_image_resize(const sl_image *src, uint32_t width, uint32_t height,
                          sl_image *out) {
    return sl_image_resize_level(src, width, height, sl_cpu(), out);
}

sl_status sl_image_resize_level(const sl_image *src, uint32_t width, uint32_t height,
                                sl_cpu_level level, sl_image *out) {
    if (!out) return sl_fail(SL_ERR_ARG, "resize: NULL output");
    sl_resize_h_fn *pass_horizontal = sl_resize_h_scalar;
    sl_resize_v_fn *pass_vertical = sl_resize_v_scalar;
#ifndef SL_NO_X86_SIMD
    if (level >= SL_CPU_AVX2 && sl_cpu() >= SL_CPU_AVX2) {
        pass_horizontal = sl_resize_h_avx2;
        pass_vertical = sl_resize_v_avx2;
    }
#else
    (void)level;
#endif
    if (!src || !src->pixels || src->width == 0 || src->height == 0 ||
        src->width > SL_IMAGE_MAX_SIDE || src->height > SL_IMAGE_MAX_SIDE) {
        if (out != src) memset(out, 0, sizeof *out);
        return sl_fail(SL_ERR_ARG, "resize: invalid source image");
    }
    sl_image res = {0};
    sl_status st = SL_OK;
    sl_resize_axis ax_h = {0}, ax_v = {0};
    uint8_t *tmp = NULL;
    int32_t *acc = NULL;

    if (width == 0 || height == 0) {
        st = sl_fail(SL_ERR_ARG, "resize: empty target size %ux%u", width, height);
        goto done;
    }
    st = sl_image_check_dims("resize", width, height, SL_IMAGE_DEFAULT_MAX_PIXELS);
    if (st) goto done;
    st = sl_image_alloc(&res, width, height);
    if (st) goto done;

    const uint32_t sw = src->width, sh = src->height;
    const int need_h = width != sw, need_v = height != sh;
    if (!need_h && !need_v) {
        memcpy(res.pixels, src->pixels, (size_t)sw * sh * 3);
        goto done;
    }
    if (!need_v) { /* horizontal only, straight into the output */
        if ((st = axis_init(&ax_h, sw, width))) goto done;
        axis_pad(&ax_h, sw);
        pass_horizontal(res.pixels, src->pixels, sw, 0, sh, &ax_h);
        goto done;
    }
    if ((st = axis_init(&ax_v, sh, height))) goto done;
    acc = sl_malloc_array((size_t)width * 3, sizeof *acc);
    if (!acc) {
        st = sl_fail(SL_ERR_NOMEM, "resize: cannot allocate a row");
        goto done;
    }
    if (!need_h) {
        pass_vertical(res.pixels, src->pixels, sw, 0, &ax_v, acc);
        goto done;
    }
    /* Only the source rows some output row reads get the horizontal pass. */
    const uint32_t first = ax_v.start[0];
    const uint32_t last = ax_v.start[height - 1] + ax_v.taps[height - 1];
    const uint32_t rows = last - first;
    if ((uint64_t)width * rows > MAX_INTERMEDIATE_PIXELS) {
        st = sl_fail(SL_ERR_LIMIT, "resize: %ux%u -> %ux%u needs too large an intermediate image",
                     sw, sh, width, height);
        goto done;
    }
    if ((st = axis_init(&ax_h, sw, width))) goto done;
    axis_pad(&ax_h, sw);
    tmp = sl_malloc_array((size_t)width * rows, 3);
    if (!tmp) {
        st = sl_fail(SL_ERR_NOMEM, "resize: cannot allocate the intermediate image");
        goto done;
    }
    pass_horizontal(tmp, src->pixels, sw, first, rows, &ax_h);
    pass_vertical(res.pixels, tmp, width, first, &ax_v, acc);

done:
    axis_free(&ax_h);
    axis_free(&ax_v);
    free(tmp);
    free(acc);
    if (st) sl_image_free(&res);
    /* out may be src itself: then success replaces (and frees) its pixels
     * and failure leaves it untouched. */
    if (st == SL_OK && out == src) free(out->pixels);
    if (st == SL_OK || out != src) *out = res;
    return st;
}
