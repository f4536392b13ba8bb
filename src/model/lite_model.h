/* The lite model loaded from its GGUF file (docs/MODEL.md): a read-only
 * map of the file, validated once; text and image embeddings read the
 * synonym matrix and the int8 word vectors in place, so opening costs the
 * vocabulary hash only. Safe to share between threads after opening (the
 * image model is opened separately per thread with sl_lite_model_tflite). */
#ifndef SL_MODEL_LITE_MODEL_H
#define SL_MODEL_LITE_MODEL_H

#include "lite.h"
#include "tuned_file.h"

/* Floats of the image network's global-pool output (MobileNetV2), the
 * image features the heads read besides z. */
#define SL_LITE_POOLED_DIM 1280

typedef struct sl_lite_model sl_lite_model;

/* Opens a lite model file (version 1) or a tuned one (version 2: the same
 * plus trained heads, tuned_file.h). Errors: SL_ERR_IO, SL_ERR_CORRUPT (not
 * a lite model, inconsistent sizes or values, heads that do not fit or hold
 * non-finite weights, with a message naming the key or tensor),
 * SL_ERR_UNSUPPORTED (a newer file version), SL_ERR_NOMEM. */
sl_status sl_lite_model_open(const char *path, sl_lite_model **out);
void sl_lite_model_free(sl_lite_model *m);

/* Floats of scratch memory sl_lite_model_embed_text needs. */
size_t sl_lite_model_text_scratch(const sl_lite_model *m);

/* As sl_lite_embed_text, with the file's vocabulary (int8 vectors
 * dequantized on the fly). */
sl_status sl_lite_model_embed_text(const sl_lite_model *m, const char *text, size_t len, float *scratch,
                                   float out[SL_LITE_CLASSES]);

/* The same, also writing the SIF-weighted mean of the query's content
 * word vectors, L2-normalized, to word_mean (sl_lite_model_word_dim
 * floats; NULL: not wanted): the text feature the trained heads read
 * (docs/TRAINING.md). */
sl_status sl_lite_model_embed_text_ex(const sl_lite_model *m, const char *text, size_t len, float *scratch,
                                      float out[SL_LITE_CLASSES], float *word_mean);
size_t sl_lite_model_word_dim(const sl_lite_model *m);

/* searchlite.model_id (docs/MODEL.md): of the tuned model when the file
 * has heads. */
const char *sl_lite_model_id(const sl_lite_model *m);
/* The id of the zero-shot model: the file's own for a lite file,
 * searchlite.heads.base_model_id for a tuned one. */
const char *sl_lite_model_base_id(const sl_lite_model *m);
/* The trained heads (tensors borrowed from the map, checked with
 * sl_heads_check at open) or NULL for a zero-shot file. */
const sl_heads *sl_lite_model_heads(const sl_lite_model *m);
/* How the heads were trained (strings borrowed, "" when absent; numbers 0
 * when absent), or NULL for a zero-shot file. */
const sl_train_record *sl_lite_model_record(const sl_lite_model *m);
/* The parsed file (for copying it into a derived file). */
const sl_gguf *sl_lite_model_gguf(const sl_lite_model *m);
/* The TFLite image model bytes inside the file (borrowed). */
void sl_lite_model_tflite(const sl_lite_model *m, const uint8_t **data, size_t *size);
/* The class labels (borrowed, length-delimited). */
const sl_lite_labels *sl_lite_model_labels(const sl_lite_model *m);

/* ---- the tuned part alone (internal: sl_lite_model_open, fuzz/fuzz_heads.c)
 *
 * The heads, blend and record of a version-2 file (docs/MODEL.md "Tuned
 * models, file version 2"), read from an open GGUF: heads.* tensors
 * borrowed from g's buffer, record strings owned (strings[], "" when
 * absent), base_id the searchlite.heads.base_model_id. */
typedef struct sl_lite_tuned {
    sl_heads heads;
    sl_train_record rec;
    char *strings[3];
    char base_id[SL_LITE_MODEL_ID_MAX];
} sl_lite_tuned;

/* Reads and checks everything sl_lite_model_open checks of the heads: the
 * dims arrays against the tensors and the features (image 1,280 + 1,000,
 * text word_dim + 1,000), embedding_dim == 1,000 + head dim, no stray
 * heads.* tensor, sl_heads_check, then, when model_id is not NULL, that it
 * equals sl_tuned_model_id of the heads, then the record. model_id NULL
 * skips that digest check only (the fuzz target: a mutated file never
 * matches a SHA-256). On failure out holds nothing to release. Errors:
 * SL_ERR_CORRUPT (naming the key or tensor), SL_ERR_NOMEM. */
sl_status sl_lite_tuned_parse(const sl_gguf *g, size_t word_dim, uint32_t embedding_dim, const char *model_id,
                              sl_lite_tuned *out);
/* Frees the record strings and zeroes t (safe to call twice, or on NULL). */
void sl_lite_tuned_release(sl_lite_tuned *t);

#endif
