/* Building the lite model file from its three assets (docs/MODEL.md):
 * MobileNetV2's TFLite bytes, the ImageNet labels and the GloVe word
 * vectors. The slow part is parsing 300 MB of word-vector JSON, which is
 * why it happens once here and never when a model is opened. */
#include "core/core.h"
#include "model/lite.h"
#include "model/lite_file.h"

#include <stdlib.h>

/* The TFLite file must be the 1,001-class uint8 classifier the lite
 * embedding reads; checked here so a wrong asset fails at build time. */
static sl_status load_tflite(const char *path, uint8_t **bytes, size_t *size, uint32_t *input_size) {
    sl_status st = sl_file_read(path, (size_t)256 << 20, bytes, size);
    if (st) return st;
    sl_tflite *t;
    if ((st = sl_tflite_open_memory(*bytes, *size, NULL, &t))) return sl_fail_prefix(st, path);
    uint32_t h, w, c;
    sl_tflite_input_size(t, &h, &w, &c);
    size_t outputs = sl_tflite_output_count(t);
    sl_tflite_free(t);
    if (h != w || c != 3 || outputs != SL_LITE_CLASSES + 1)
        return sl_fail(SL_ERR_UNSUPPORTED,
                       "%s: the lite model needs a square RGB classifier with %d outputs "
                       "(got %ux%ux%u input, %zu outputs)",
                       path, SL_LITE_CLASSES + 1, h, w, c, outputs);
    *input_size = h;
    return SL_OK;
}

sl_status sl_model_build(const sl_model_sources *src, const char *out_path, int n_threads) {
    if (!src || !src->tflite || !src->labels || !src->wordvecs || !out_path || !out_path[0])
        return sl_fail(SL_ERR_ARG, "model build: missing an input or the output path");
    uint8_t *tflite = NULL;
    size_t tflite_size = 0;
    uint32_t input_size = 0;
    sl_labels *labels = NULL;
    sl_wordvec *wv = NULL;
    sl_pool *pool = NULL;
    sl_lite_labels lab = {0};
    int have_lab = 0;
    const double t0 = sl_now();
    sl_status st = load_tflite(src->tflite, &tflite, &tflite_size, &input_size);
    if (!st) st = sl_labels_load(src->labels, &labels);
    if (!st && sl_labels_count(labels) != SL_LITE_CLASSES + 1)
        st = sl_fail(SL_ERR_CORRUPT, "%s: %zu labels, expected %d (\"background\" then the ImageNet classes)",
                     src->labels, sl_labels_count(labels), SL_LITE_CLASSES + 1);
    if (!st) {
        sl_log(SL_LOG_INFO, "model build: reading word vectors from %s", src->wordvecs);
        st = sl_wordvec_load(src->wordvecs, &wv);
    }
    if (!st) st = sl_pool_new(n_threads > 0 ? n_threads : 2, &pool);
    if (!st) {
        const char *lines[SL_LITE_CLASSES];
        for (size_t k = 0; k < SL_LITE_CLASSES; k++) lines[k] = sl_labels_get(labels, k + 1);
        sl_log(SL_LOG_INFO, "model build: %zu words; building the class tables", sl_wordvec_count(wv));
        st = sl_lite_labels_build(lines, wv, pool, &lab);
        have_lab = !st;
        if (!st) {
            sl_log(SL_LOG_INFO, "model build: writing %s", out_path);
            st = sl_lite_file_write(out_path, tflite, tflite_size, input_size, lines, wv, &lab);
        }
    }
    if (!st) sl_log(SL_LOG_INFO, "model build: done in %.1f s", sl_now() - t0);
    if (have_lab) sl_lite_labels_free(&lab);
    sl_pool_free(pool);
    sl_wordvec_free(wv);
    sl_labels_free(labels);
    free(tflite);
    return st;
}
