/* Writing the lite model file (docs/MODEL.md). */
#include "lite_file.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The model's identity (docs/MODEL.md, searchlite.model_id): a digest of
 * everything that decides an embedding — the image model, the vocabulary
 * and its stored vectors, the class tables and the constants — so two files
 * with equal ids embed identically, and libraries can refuse to mix models. */
static sl_status model_id(const uint8_t *tflite, size_t tflite_size, uint32_t input_size, const char *const *labels,
                          const char *const *words, size_t n, size_t dim, const int8_t *qv, const float *scales,
                          const float *weights, const sl_lite_labels *lab, char out[SL_LITE_MODEL_ID_MAX]) {
    sl_sha256 *h;
    sl_status st = sl_sha256_new(&h);
    if (st) return st;
    char params[128];
    int len = snprintf(params, sizeof params, "input=%u power=%g sharpness=%g hub=%g", input_size,
                       (double)SL_LITE_IMAGE_POWER, (double)SL_LITE_SHARPNESS, (double)SL_LITE_HUB_FACTOR);
    sl_sha256_update(h, params, (size_t)len);
    sl_sha256_update(h, tflite, tflite_size);
    for (size_t k = 0; k < SL_LITE_CLASSES; k++) sl_sha256_update(h, labels[k], strlen(labels[k]) + 1);
    for (size_t i = 0; i < n; i++) sl_sha256_update(h, words[i], strlen(words[i]) + 1);
    sl_sha256_update(h, qv, n * dim);
    sl_sha256_update(h, scales, n * sizeof *scales);
    sl_sha256_update(h, weights, n * sizeof *weights);
    sl_sha256_update(h, lab->synonyms, lab->n_synonyms * lab->dim * sizeof *lab->synonyms);
    sl_sha256_update(h, lab->syn_class, lab->n_synonyms * sizeof *lab->syn_class);
    sl_sha256_update(h, lab->class_first, (SL_LITE_CLASSES + 1) * sizeof *lab->class_first);
    sl_sha256_update(h, lab->hub, sizeof lab->hub);
    uint8_t d[SL_SHA256_SIZE];
    sl_sha256_final(h, d);
    sl_sha256_free(h);
    char hex[2 * 16 + 1];
    sl_hex(d, 16, hex);
    snprintf(out, SL_LITE_MODEL_ID_MAX, "%s-%u/%s", SL_LITE_ARCH, SL_LITE_FILE_VERSION, hex);
    return SL_OK;
}

void sl_lite_quantize_row(const float *v, size_t dim, int8_t *q, float *scale) {
    float m = 0;
    for (size_t j = 0; j < dim; j++) m = fmaxf(m, fabsf(v[j]));
    *scale = m / 127.0f;
    for (size_t j = 0; j < dim; j++) q[j] = m > 0 ? (int8_t)lrintf(v[j] / *scale) : 0;
}

sl_status sl_lite_file_write(const char *path, const uint8_t *tflite, size_t tflite_size,
                             uint32_t input_size, const char *const *labels, const sl_wordvec *wv,
                             const sl_lite_labels *lab) {
    if (!path || !tflite || !tflite_size || !labels || !wv || !lab || lab->dim != sl_wordvec_dim(wv))
        return sl_fail(SL_ERR_ARG, "lite model: bad arguments");
    const size_t n = sl_wordvec_count(wv), dim = sl_wordvec_dim(wv);
    sl_gguf_builder *b;
    sl_status st = sl_gguf_builder_new(&b);
    if (st) return st;
    int8_t *qv = sl_malloc_array(n, dim);
    float *scales = sl_malloc_array(n, sizeof *scales), *weights = sl_malloc_array(n, sizeof *weights);
    const char **words = sl_malloc_array(n, sizeof *words);
    int32_t *syn_class = sl_malloc_array(lab->n_synonyms ? lab->n_synonyms : 1, sizeof *syn_class);
    int32_t class_first[SL_LITE_CLASSES + 1];
    if (!qv || !scales || !weights || !words || !syn_class) {
        st = sl_fail(SL_ERR_NOMEM, "lite model: out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        sl_lite_quantize_row(sl_wordvec_vector(wv, (int32_t)i), dim, qv + i * dim, &scales[i]);
        weights[i] = sl_wordvec_weight(wv, (int32_t)i);
        words[i] = sl_wordvec_word(wv, (int32_t)i);
    }
    for (size_t s = 0; s < lab->n_synonyms; s++) syn_class[s] = (int32_t)lab->syn_class[s];
    for (size_t k = 0; k <= SL_LITE_CLASSES; k++) class_first[k] = (int32_t)lab->class_first[k];
    char id[SL_LITE_MODEL_ID_MAX];
    if ((st = model_id(tflite, tflite_size, input_size, labels, words, n, dim, qv, scales, weights, lab, id)))
        goto done;
    const uint64_t d_tfl[1] = {tflite_size}, d_syn[2] = {dim, lab->n_synonyms ? lab->n_synonyms : 1},
                   d_nsyn[1] = {lab->n_synonyms ? lab->n_synonyms : 1}, d_first[1] = {SL_LITE_CLASSES + 1},
                   d_cls[1] = {SL_LITE_CLASSES}, d_vec[2] = {dim, n}, d_n[1] = {n};
    if ((st = sl_gguf_set_str(b, "general.architecture", SL_LITE_ARCH)) ||
        (st = sl_gguf_set_u32(b, "searchlite.file_version", SL_LITE_FILE_VERSION)) ||
        (st = sl_gguf_set_str(b, "searchlite.model_id", id)) ||
        (st = sl_gguf_set_u32(b, "searchlite.embedding_dim", SL_LITE_CLASSES)) ||
        (st = sl_gguf_set_u32(b, "searchlite.image.input_size", input_size)) ||
        (st = sl_gguf_set_bool(b, "searchlite.image.center_crop", 0)) ||
        (st = sl_gguf_set_f32(b, "searchlite.lite.image_power", (float)SL_LITE_IMAGE_POWER)) ||
        (st = sl_gguf_set_f32(b, "searchlite.lite.sharpness", SL_LITE_SHARPNESS)) ||
        (st = sl_gguf_set_f32(b, "searchlite.lite.hub_factor", SL_LITE_HUB_FACTOR)) ||
        (st = sl_gguf_set_str_array(b, "searchlite.lite.labels", labels, SL_LITE_CLASSES)) ||
        (st = sl_gguf_set_str_array(b, "searchlite.vocab.words", words, n)) ||
        (st = sl_gguf_add_tensor(b, "image.tflite", SL_TENSOR_I8, 1, d_tfl, tflite)) ||
        (lab->n_synonyms &&
         ((st = sl_gguf_add_tensor(b, "lite.synonyms", SL_TENSOR_F32, 2, d_syn, lab->synonyms)) ||
          (st = sl_gguf_add_tensor(b, "lite.synonym_class", SL_TENSOR_I32, 1, d_nsyn, syn_class)))) ||
        (st = sl_gguf_add_tensor(b, "lite.class_first", SL_TENSOR_I32, 1, d_first, class_first)) ||
        (st = sl_gguf_add_tensor(b, "lite.hub", SL_TENSOR_F32, 1, d_cls, lab->hub)) ||
        (st = sl_gguf_add_tensor(b, "vocab.vectors_q8", SL_TENSOR_I8, 2, d_vec, qv)) ||
        (st = sl_gguf_add_tensor(b, "vocab.scales", SL_TENSOR_F32, 1, d_n, scales)) ||
        (st = sl_gguf_add_tensor(b, "vocab.weights", SL_TENSOR_F32, 1, d_n, weights)))
        goto done;
    st = sl_gguf_builder_write(b, path);
done:
    free(qv);
    free(scales);
    free(weights);
    free(words);
    free(syn_class);
    sl_gguf_builder_free(b);
    return st;
}
