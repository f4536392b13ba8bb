/* Image entry points: format detection, file loading, crop, free, and the
 * size checks every decoder shares. */
#include "image/image_internal.h"

#include <stdlib.h>
#include <string.h>

static const uint8_t k_jpeg_magic[3] = {0xFF, 0xD8, 0xFF};
static const uint8_t k_png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
static const uint8_t k_bmp_magic[2] = {'B', 'M'};

void sl_decode_opts_init(sl_decode_opts *opts) {
    if (!opts) return;
    memset(opts, 0, sizeof *opts);
    opts->max_pixels = SL_IMAGE_DEFAULT_MAX_PIXELS;
    opts->apply_orientation = 1;
}

sl_status sl_image_check_dims(const char *format, uint64_t width,
                              uint64_t height, uint64_t max_pixels) {
    if (width == 0 || height == 0)
        return sl_fail(SL_ERR_CORRUPT, "%s: empty image (%llux%llu)", format,
                       (unsigned long long)width, (unsigned long long)height);
    if (width > SL_IMAGE_MAX_SIDE || height > SL_IMAGE_MAX_SIDE)
        return sl_fail(SL_ERR_LIMIT, "%s: %llux%llu exceeds the maximum side of %u",
                       format, (unsigned long long)width,
                       (unsigned long long)height, SL_IMAGE_MAX_SIDE);
    /* Both sides are <= 65535 here, so the product cannot overflow. */
    if (width * height > max_pixels)
        return sl_fail(SL_ERR_LIMIT, "%s: %llux%llu has more than %llu pixels",
                       format, (unsigned long long)width,
                       (unsigned long long)height,
                       (unsigned long long)max_pixels);
    return SL_OK;
}

sl_status sl_image_alloc(sl_image *img, uint32_t width, uint32_t height) {
    size_t n;
    if (sl_mul_overflow((size_t)width, (size_t)height, &n) ||
        sl_mul_overflow(n, 3, &n))
        return sl_fail(SL_ERR_LIMIT, "image: %ux%u is too large", width, height);
    uint8_t *p = malloc(n ? n : 1);
    if (!p) return sl_fail(SL_ERR_NOMEM, "image: cannot allocate %zu bytes", n);
    img->width = width;
    img->height = height;
    img->pixels = p;
    return SL_OK;
}

void sl_image_free(sl_image *img) {
    if (!img) return;
    free(img->pixels);
    memset(img, 0, sizeof *img);
}

/* True when the input is shorter than `magic` but agrees with it: a file
 * cut inside its signature is truncated, not of an unknown format. */
static int is_magic_prefix(const uint8_t *d, size_t n, const uint8_t *magic,
                           size_t magic_len) {
    return n < magic_len && memcmp(d, magic, n) == 0;
}

sl_status sl_image_decode(const void *data, size_t size,
                          const sl_decode_opts *opts, sl_image *out) {
    if (!out) return sl_fail(SL_ERR_ARG, "image decode: NULL output");
    memset(out, 0, sizeof *out);
    if (!data && size) return sl_fail(SL_ERR_ARG, "image decode: NULL data");
    if (size == 0) return sl_fail(SL_ERR_CORRUPT, "image decode: empty input");

    sl_decode_opts defaults;
    if (!opts) {
        sl_decode_opts_init(&defaults);
        opts = &defaults;
    }
    sl_decode_cfg cfg = {
        .min_width = opts->min_width,
        .min_height = opts->min_height,
        .max_pixels = opts->max_pixels ? opts->max_pixels : SL_IMAGE_DEFAULT_MAX_PIXELS,
        .apply_orientation = opts->apply_orientation != 0,
    };

    const uint8_t *d = data;
    sl_status st;
    if (size >= sizeof k_jpeg_magic && !memcmp(d, k_jpeg_magic, sizeof k_jpeg_magic))
        st = sl_jpeg_decode(d, size, &cfg, out);
    else if (size >= sizeof k_png_magic && !memcmp(d, k_png_magic, sizeof k_png_magic))
        st = sl_png_decode(d, size, &cfg, out);
    else if (size >= sizeof k_bmp_magic && !memcmp(d, k_bmp_magic, sizeof k_bmp_magic))
        st = sl_bmp_decode(d, size, &cfg, out);
    else if (is_magic_prefix(d, size, k_jpeg_magic, sizeof k_jpeg_magic) ||
             is_magic_prefix(d, size, k_png_magic, sizeof k_png_magic) ||
             is_magic_prefix(d, size, k_bmp_magic, sizeof k_bmp_magic))
        return sl_fail(SL_ERR_CORRUPT, "image decode: truncated signature (%zu bytes)", size);
    else
        return sl_fail(SL_ERR_UNSUPPORTED,
                       "image decode: unknown format (not JPEG, PNG or BMP)");
    if (st != SL_OK) sl_image_free(out);
    return st;
}

/* The largest file any supported format can need for max_pixels pixels:
 * 16-bit RGBA PNG stored without compression is about 8 bytes per pixel;
 * the rest is headroom for metadata. Bigger files are refused unread. */
static size_t max_file_size(uint64_t max_pixels) {
    const uint64_t slack = (uint64_t)64 << 20;
    uint64_t cap = max_pixels > (UINT64_MAX - slack) / 8 ? UINT64_MAX
                                                         : max_pixels * 8 + slack;
    return cap > (uint64_t)SIZE_MAX - 1 ? SIZE_MAX - 1 : (size_t)cap;
}

sl_status sl_image_load(const char *path, const sl_decode_opts *opts,
                        sl_image *out) {
    if (!out) return sl_fail(SL_ERR_ARG, "image load: NULL output");
    memset(out, 0, sizeof *out);
    if (!path) return sl_fail(SL_ERR_ARG, "image load: NULL path");
    uint64_t max_pixels = opts && opts->max_pixels ? opts->max_pixels
                                                   : SL_IMAGE_DEFAULT_MAX_PIXELS;
    uint8_t *data;
    size_t size;
    sl_status st = sl_file_read(path, max_file_size(max_pixels), &data, &size);
    if (st) return st; /* the message already names the file */
    st = sl_image_decode(data, size, opts, out);
    free(data);
    if (st) return sl_fail_prefix(st, path);
    return SL_OK;
}

static sl_status check_image(const char *what, const sl_image *img) {
    if (!img || !img->pixels)
        return sl_fail(SL_ERR_ARG, "%s: NULL or empty image", what);
    if (img->width == 0 || img->height == 0 || img->width > SL_IMAGE_MAX_SIDE ||
        img->height > SL_IMAGE_MAX_SIDE)
        return sl_fail(SL_ERR_ARG, "%s: invalid image size %ux%u", what,
                       img->width, img->height);
    return SL_OK;
}

sl_status sl_image_center_crop(const sl_image *src, sl_image *out) {
    if (!out) return sl_fail(SL_ERR_ARG, "center crop: NULL output");
    sl_image res = {0};
    sl_status st = check_image("center crop", src);
    if (st == SL_OK) {
        /* As tflite_reference.py --crop: box ((W-s)//2, (H-s)//2) of side s. */
        uint32_t s = SL_MIN(src->width, src->height);
        uint32_t left = (src->width - s) / 2, top = (src->height - s) / 2;
        st = sl_image_alloc(&res, s, s);
        if (st == SL_OK) {
            const size_t src_stride = (size_t)src->width * 3, row = (size_t)s * 3;
            for (uint32_t y = 0; y < s; y++)
                memcpy(res.pixels + y * row,
                       src->pixels + (size_t)(top + y) * src_stride + (size_t)left * 3,
                       row);
        }
    }
    /* out may be src itself: then success replaces (and frees) its pixels
     * and failure leaves it untouched. */
    if (st == SL_OK && out == src) free(out->pixels);
    if (st == SL_OK || out != src) *out = res;
    return st;
}
