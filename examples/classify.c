/* The smallest useful program against an installed searchlite:
 *   cc classify.c $(pkg-config --cflags --libs searchlite) -o classify
 *   ./classify mobilenet_v2_1.0_224_quant.tflite photo.jpg
 * prints the index and probability of the five most likely classes. */
#include <searchlite.h>

#include <stdio.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODEL.tflite IMAGE\n", argv[0]);
        return 2;
    }
    sl_tflite *model;
    if (sl_tflite_open(argv[1], NULL, &model) != SL_OK) {
        fprintf(stderr, "%s\n", sl_last_error());
        return 1;
    }
    sl_image img;
    sl_status st = sl_image_load(argv[2], NULL, &img);
    if (st == SL_OK) st = sl_tflite_run_image(model, &img, 0);
    if (st != SL_OK) {
        fprintf(stderr, "%s\n", sl_last_error());
        sl_tflite_free(model);
        return 1;
    }
    uint32_t index[5];
    float prob[5];
    size_t n = 0;
    sl_tflite_topk(model, 5, index, prob, &n);
    for (size_t i = 0; i < n; i++) printf("%u %.4f\n", index[i], prob[i]);
    sl_image_free(&img);
    sl_tflite_free(model);
    return 0;
}
