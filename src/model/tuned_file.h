/* A tuned model file (docs/MODEL.md "Tuned models, file version 2"): a lite
 * model file plus trained projection heads (heads.h), their blend with the
 * zero-shot embedding, and a record of how they were trained. Written by the
 * trainer; read by sl_lite_model_open. */
#ifndef SL_MODEL_TUNED_FILE_H
#define SL_MODEL_TUNED_FILE_H

#include "heads.h"
#include "lite_file.h"

#include <stdint.h>

/* How a tuned model was made, for `searchlite model info`. Strings are
 * borrowed (NULL is written as ""). Informational only: nothing here
 * changes an embedding, so it is not part of the model id. */
typedef struct sl_train_record {
    const char *data;     /* what it was trained on, human-readable, e.g. "coco-train1600 + coco-train80" */
    uint64_t n_images, n_captions;
    const char *options;  /* "epochs=40 batch=256 lr=0.001 dim=128 ..." */
    const char *heldout;  /* how the held-out scores below were measured, e.g. "5-fold cross-validation split by image" */
    float zero_shot[4];   /* held-out text->image R@1, R@5, R@10 (fractions), median rank: zero-shot */
    float tuned[4];       /* the same for the tuned model */
    uint64_t n_heldout;   /* held-out queries those scores are over (0 = none measured) */
    uint32_t epochs;      /* epochs of the final model's training */
} sl_train_record;

/* The identity of a tuned model: "searchlite-tuned-2/" and 32 hex digits of
 * a SHA-256 over the zero-shot base's id, the head shapes, every head
 * tensor's bytes and the blend (docs/MODEL.md). h must pass sl_heads_check.
 * Errors: SL_ERR_NOMEM. */
sl_status sl_tuned_model_id(const char *base_id, const sl_heads *h, char out[SL_LITE_MODEL_ID_MAX]);

/* The parts a tuned file adds to its base, into a builder: the
 * searchlite.heads.* keys, the record (rec may be NULL) and the heads.*
 * tensors, in the file's order (after the base's keys and tensors). The
 * golden test of the format builds a file of these parts alone. */
sl_status sl_tuned_add_parts(sl_gguf_builder *b, const char *base_id, const sl_heads *h, const sl_train_record *rec);

/* Writes a tuned model atomically: every key and tensor of the base model
 * file at base_path (a lite model, or a tuned one whose heads and record are
 * dropped) plus the heads, the blend and the record (rec may be NULL: no
 * record). The heads must fit the base: the image head reads the pooled
 * features and z (1,280 + 1,000 floats), the text head the word mean and z
 * (word dim + 1,000). Errors: SL_ERR_ARG (NULL arguments, heads failing
 * sl_heads_check or not fitting the base), those of sl_lite_model_open for
 * the base, SL_ERR_NOMEM, SL_ERR_IO. */
sl_status sl_tuned_file_write(const char *base_path, const sl_heads *heads, const sl_train_record *rec,
                              const char *out_path);

#endif
