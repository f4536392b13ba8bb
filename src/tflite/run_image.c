/* sl_tflite_run_image: crop and resize an image to the model's input, then
 * run. Kept apart from interp.c so that programs that only use
 * sl_tflite_run_rgb do not need the image module. */
#include "core/core.h"

sl_status sl_tflite_run_image(sl_tflite *model, const sl_image *image, int center_crop) {
    if (!model || !image || !image->pixels || !image->width || !image->height)
        return sl_fail(SL_ERR_ARG, "tflite run: NULL or empty image");
    uint32_t h, w;
    sl_tflite_input_size(model, &h, &w, NULL);
    sl_image cropped = {0, 0, NULL};
    const sl_image *src = image;
    sl_status st;
    if (center_crop && image->width != image->height) {
        if ((st = sl_image_center_crop(image, &cropped))) return st;
        src = &cropped;
    }
    if (src->width == w && src->height == h) {
        st = sl_tflite_run_rgb(model, src->pixels);
    } else {
        /* The only allocation of a run: the resized copy. */
        sl_image resized = {0, 0, NULL};
        st = sl_image_resize(src, w, h, &resized);
        if (!st) st = sl_tflite_run_rgb(model, resized.pixels);
        sl_image_free(&resized);
    }
    sl_image_free(&cropped);
    return st;
}
