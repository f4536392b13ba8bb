/* The lite model as one GGUF file (docs/MODEL.md): the MobileNetV2 TFLite
 * bytes, the class labels, the synonym vectors and hubness of the classes,
 * and the vocabulary with int8 word vectors and SIF weights. */
#ifndef SL_MODEL_LITE_FILE_H
#define SL_MODEL_LITE_FILE_H

#include "gguf.h"
#include "lite.h"

#define SL_LITE_ARCH "searchlite-lite"
/* Plain lite files stay at version 1 (their ids start "searchlite-lite-1/");
 * a file with trained heads is version 2 (tuned_file.h). Readers accept up
 * to SL_MODEL_FILE_VERSION_MAX. */
#define SL_LITE_FILE_VERSION 1u
#define SL_TUNED_FILE_VERSION 2u
#define SL_MODEL_FILE_VERSION_MAX 2u
/* Longest searchlite.model_id accepted, with its NUL. */
#define SL_LITE_MODEL_ID_MAX 128

/* Writes the model file atomically. `tflite` holds the image model's bytes;
 * labels[k] is the line of class k (without "background"); `input_size` is
 * the image model's input side (224). Errors: SL_ERR_ARG, SL_ERR_NOMEM,
 * SL_ERR_IO. */
sl_status sl_lite_file_write(const char *path, const uint8_t *tflite, size_t tflite_size,
                             uint32_t input_size, const char *const *labels, const sl_wordvec *wv,
                             const sl_lite_labels *lab);

/* Word vectors as stored: row i is round(v_i / scale_i) with scale_i =
 * max_j |v_ij| / 127 (0 for a zero row). */
void sl_lite_quantize_row(const float *v, size_t dim, int8_t *q, float *scale);

#endif
