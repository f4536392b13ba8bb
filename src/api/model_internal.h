/* Frozen features of the model for training the heads (issue 5;
 * docs/TRAINING.md): what the lite encoder computes on the way to its
 * embeddings, exposed to the trainer. Internal. */
#ifndef SL_API_MODEL_INTERNAL_H
#define SL_API_MODEL_INTERNAL_H

#include "searchlite.h"

/* Floats of the image network's pooled features (MobileNetV2: 1,280) and
 * of the text word-vector mean (GloVe: 100). */
size_t sl_model_pooled_dim(const sl_model *m);
size_t sl_model_word_dim(const sl_model *m);

/* One image: pooled (sl_model_pooled_dim) the network's global-pool
 * output, dequantized and L2-normalized; z (sl_model_dim) the zero-shot
 * embedding, exactly what sl_model_embed_image returns. Either may be
 * NULL. Thread-safe like sl_model_embed_image.
 * Errors: those of sl_model_embed_image; SL_ERR_UNSUPPORTED (the image
 * network has no global pooling layer). */
sl_status sl_model_image_features(const sl_model *m, const sl_image *image, float *pooled, float *z);

/* One text: word_mean (sl_model_word_dim) the SIF-weighted mean of its
 * content words' vectors, L2-normalized; z (sl_model_dim) exactly what
 * sl_model_embed_text returns. Either may be NULL. Errors: those of
 * sl_model_embed_text. */
sl_status sl_model_text_features(const sl_model *m, const char *text, float *word_mean, float *z);

#endif
