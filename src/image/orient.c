/* Applies an EXIF orientation to a decoded RGB image.
 *
 * Every case is a mapping from a displayed pixel (x, y), in an image of
 * W' x H', to a stored pixel (sx, sy) in the W x H decode:
 *   1 (x, y)            2 (W-1-x, y)         3 (W-1-x, H-1-y)   4 (x, H-1-y)
 *   5 (y, x)            6 (y, H-1-x)         7 (W-1-y, H-1-x)   8 (W-1-y, x)
 * Orientations 5..8 swap the sides (W' = H, H' = W). The mapping is affine,
 * sx = x0 + dxx*x + dxy*y and sy = y0 + dyx*x + dyy*y, which lets one loop
 * serve all eight. The transposing cases walk the output in tiles so that
 * the column-wise reads of the source stay in cache. */
#include "image/image_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct affine {
    int64_t x0, dxx, dxy; /* stored x = x0 + dxx * x + dxy * y */
    int64_t y0, dyx, dyy; /* stored y = y0 + dyx * x + dyy * y */
} affine;

static affine orientation_map(int o, int64_t w, int64_t h) {
    switch (o) {
    case 2: return (affine){w - 1, -1, 0, 0, 0, 1};
    case 3: return (affine){w - 1, -1, 0, h - 1, 0, -1};
    case 4: return (affine){0, 1, 0, h - 1, 0, -1};
    case 5: return (affine){0, 0, 1, 0, 1, 0};
    case 6: return (affine){0, 0, 1, h - 1, -1, 0};
    case 7: return (affine){w - 1, 0, -1, h - 1, -1, 0};
    case 8: return (affine){w - 1, 0, -1, 0, 1, 0};
    default: return (affine){0, 1, 0, 0, 0, 1};
    }
}

enum { TILE = 64 };

sl_status sl_image_orient(sl_image *img, int orientation) {
    if (orientation < 2 || orientation > 8) return SL_OK;
    const uint32_t w = img->width, h = img->height;
    const int swap = sl_orientation_transposes(orientation);
    const uint32_t ow = swap ? h : w, oh = swap ? w : h;
    sl_image res = {0};
    sl_status st = sl_image_alloc(&res, ow, oh);
    if (st) return st;

    const affine m = orientation_map(orientation, w, h);
    const uint8_t *src = img->pixels;
    uint8_t *dst = res.pixels;
    for (uint32_t ty = 0; ty < oh; ty += TILE) {
        uint32_t ye = SL_MIN(oh, ty + TILE);
        for (uint32_t tx = 0; tx < ow; tx += TILE) {
            uint32_t xe = SL_MIN(ow, tx + TILE);
            for (uint32_t y = ty; y < ye; y++) {
                uint8_t *d = dst + ((size_t)y * ow + tx) * 3;
                int64_t sx = m.x0 + m.dxx * tx + m.dxy * y;
                int64_t sy = m.y0 + m.dyx * tx + m.dyy * y;
                /* Step of the source offset per output pixel, in bytes. */
                int64_t step = (m.dxx + m.dyx * (int64_t)w) * 3;
                /* An offset rather than a pointer: stepping a pointer past
                 * the image after the last pixel would be undefined. */
                int64_t so = (sy * (int64_t)w + sx) * 3;
                for (uint32_t x = tx; x < xe; x++, d += 3, so += step) {
                    d[0] = src[so];
                    d[1] = src[so + 1];
                    d[2] = src[so + 2];
                }
            }
        }
    }
    free(img->pixels);
    *img = res;
    return SL_OK;
}
