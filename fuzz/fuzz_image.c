/* libFuzzer target for the image decoders (JPEG, PNG, BMP, EXIF) and what
 * runs on their output: decode at full size with orientation, decode with a
 * minimum size (the DCT-scaled JPEG path), then resize and centre crop.
 * A 4-megapixel cap keeps single inputs cheap; the decoders must refuse
 * anything bigger with SL_ERR_LIMIT before allocating it. */
#include "searchlite.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

static void exercise(const sl_image *img) {
    sl_image small, square;
    if (sl_image_resize(img, 37, 29, &small) == SL_OK) sl_image_free(&small);
    else abort(); /* a decoded image must always be resizable */
    if (sl_image_center_crop(img, &square) == SL_OK) sl_image_free(&square);
    else abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sl_decode_opts opts;
    sl_decode_opts_init(&opts);
    opts.max_pixels = 4u << 20;
    sl_image img;
    if (sl_image_decode(data, size, &opts, &img) == SL_OK) {
        if (!img.pixels || !img.width || !img.height ||
            (uint64_t)img.width * img.height > opts.max_pixels)
            abort();
        exercise(&img);
        sl_image_free(&img);
    } else if (img.pixels || img.width || img.height) {
        abort(); /* failures must leave the output empty */
    }

    /* The reduced-size path: DCT scaling, orientation off. */
    opts.min_width = 24;
    opts.min_height = 16;
    opts.apply_orientation = 0;
    if (sl_image_decode(data, size, &opts, &img) == SL_OK) {
        exercise(&img);
        sl_image_free(&img);
    }
    return 0;
}
