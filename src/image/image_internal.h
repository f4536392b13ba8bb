/* Internals of the image module: the per-format decoders, EXIF orientation
 * and the shared size checks. Not public API. */
#ifndef SL_IMAGE_INTERNAL_H
#define SL_IMAGE_INTERNAL_H

#include "core/core.h"

#include <stddef.h>
#include <stdint.h>

/* Decoder settings after defaults are resolved (max_pixels is never 0). */
typedef struct sl_decode_cfg {
    uint32_t min_width, min_height; /* 0 = full size */
    uint64_t max_pixels;
    int apply_orientation;
} sl_decode_cfg;

/* Refuses a zero-size image (SL_ERR_CORRUPT), a side above
 * SL_IMAGE_MAX_SIDE or more than max_pixels pixels (SL_ERR_LIMIT). Every
 * decoder calls it with the header's dimensions before allocating.
 * `format` names the decoder in the message ("png"). */
sl_status sl_image_check_dims(const char *format, uint64_t width,
                              uint64_t height, uint64_t max_pixels);

/* Allocates img->pixels for (height, width, 3) bytes and sets the size.
 * The dimensions must already have passed sl_image_check_dims. */
sl_status sl_image_alloc(sl_image *img, uint32_t width, uint32_t height);

/* Per-format decoders. `data` has at least the format's magic; on failure
 * *out is left empty (pixels NULL). */
sl_status sl_jpeg_decode(const uint8_t *data, size_t size,
                         const sl_decode_cfg *cfg, sl_image *out);
sl_status sl_png_decode(const uint8_t *data, size_t size,
                        const sl_decode_cfg *cfg, sl_image *out);
sl_status sl_bmp_decode(const uint8_t *data, size_t size,
                        const sl_decode_cfg *cfg, sl_image *out);

/* EXIF Orientation (tag 0x0112 of IFD0) from the payload of a JPEG APP1
 * segment (starting with "Exif\0\0"). Returns 1..8, or 1 (as stored) when
 * the segment is not Exif, is malformed, or has no valid tag. Every offset
 * is bounds-checked against `size`. */
int sl_exif_orientation(const uint8_t *app1, size_t size);

/* True when an orientation swaps width and height (5..8). */
static inline int sl_orientation_transposes(int orientation) {
    return orientation >= 5 && orientation <= 8;
}

/* Turns the stored image into the displayed one for an EXIF orientation
 * (1..8, other values do nothing): 2 mirror, 3 rotate 180, 4 flip, 5
 * transpose, 6 rotate 90 clockwise, 7 transverse, 8 rotate 90
 * counter-clockwise. Replaces img->pixels (5..8 swap width and height).
 * Errors: SL_ERR_NOMEM (the image is left unchanged). */
sl_status sl_image_orient(sl_image *img, int orientation);

/* sl_image_resize with the kernels of a given CPU level (clamped to what
 * sl_cpu() allows); tests hold every level to the same output. */
sl_status sl_image_resize_level(const sl_image *src, uint32_t width, uint32_t height,
                                sl_cpu_level level, sl_image *out);

#endif /* SL_IMAGE_INTERNAL_H */
