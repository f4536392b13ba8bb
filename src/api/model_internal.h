/* Frozen features of the model for training the heads (issue 5;
 * docs/TRAINING.md): what the lite encoder computes on the way to its
 * embeddings, exposed to the trainer. Internal.
 *
 * z below is always the zero-shot embedding (sl_model_zero_shot_dim
 * floats): for a zero-shot model it is exactly what sl_model_embed_* return;
 * for a tuned model those return the blend of z with the heads' output
 * (model/heads.h), which the trainer computes itself with sl_head_apply and
 * sl_heads_blend over these features. */
#ifndef SL_API_MODEL_INTERNAL_H
#define SL_API_MODEL_INTERNAL_H

#include "searchlite.h"

/* Floats of the image network's pooled features (MobileNetV2: 1,280) and
 * of the text word-vector mean (GloVe: 100). */
size_t sl_model_pooled_dim(const sl_model *m);
size_t sl_model_word_dim(const sl_model *m);

/* Floats of the zero-shot embedding z (1,000, one per ImageNet class),
 * whatever sl_model_dim says for a tuned model. */
size_t sl_model_zero_shot_dim(const sl_model *m);

/* One image: pooled (sl_model_pooled_dim) the network's global-pool
 * output, dequantized and L2-normalized; z (sl_model_zero_shot_dim) the
 * zero-shot embedding. Either may be NULL. Thread-safe like
 * sl_model_embed_image. The image head's input is [pooled, z].
 * Errors: those of sl_model_embed_image; SL_ERR_UNSUPPORTED (the image
 * network has no global pooling layer). */
sl_status sl_model_image_features(const sl_model *m, const sl_image *image, float *pooled, float *z);

/* One text: word_mean (sl_model_word_dim) the SIF-weighted mean of its
 * content words' vectors, L2-normalized; z (sl_model_zero_shot_dim) the
 * zero-shot embedding. Either may be NULL. The text head's input is
 * [word_mean, z]. Errors: those of the zero-shot sl_model_embed_text (on
 * SL_ERR_NOT_FOUND both are zero). */
sl_status sl_model_text_features(const sl_model *m, const char *text, float *word_mean, float *z);

#endif
