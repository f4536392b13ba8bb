/* The lite zero-shot dual encoder (docs/research/lite-zero-shot.md, §3):
 * text and images meet in the 1,000-dimensional space of ImageNet classes.
 *
 *  - image: MobileNetV2's raw uint8 class outputs 1..1000, each raised to
 *    the power 0.25, L2-normalized;
 *  - text: each content word gets a softmax over the classes of its
 *    best-synonym cosine minus half the class's "hubness", at sharpness 12;
 *    the query is the SIF-weighted sum of these distributions, L2-normalized.
 *
 * Class k (0..999) is output k+1 of the 1,001-output model and line k+1 of
 * imagenet_labels.txt (line 0 is "background"). */
#ifndef SL_MODEL_LITE_H
#define SL_MODEL_LITE_H

#include "text/wordvec.h"

#include <stddef.h>
#include <stdint.h>

#define SL_LITE_CLASSES 1000
#define SL_LITE_SHARPNESS 12.0f
#define SL_LITE_HUB_FACTOR 0.5f
#define SL_LITE_HUB_WORDS 20000 /* hubness reference: the most frequent words */
#define SL_LITE_HUB_TOP 10      /* mean of this many best similarities */
#define SL_LITE_IMAGE_POWER 0.25
#define SL_LITE_MAX_QUERY_WORDS 512

/* One class's synonyms after the curated fixes, as unit vectors. */
typedef struct sl_lite_labels {
    size_t dim;
    size_t n_synonyms;
    float *synonyms;      /* (n_synonyms, dim) row-major unit vectors */
    uint32_t *syn_class;  /* (n_synonyms) class of each synonym */
    uint32_t *class_first;/* (SL_LITE_CLASSES + 1) synonyms of class k are
                             [class_first[k], class_first[k+1]) */
    size_t n_fallback;    /* classes that needed the all-words fallback */
    size_t n_empty;       /* classes with no usable word at all (sim 0) */
    float hub[SL_LITE_CLASSES];
} sl_lite_labels;

/* Builds the synonym vectors of the 1,000 classes from the label lines
 * (labels[0] = class 0, i.e. without "background") and the word vectors,
 * then the hubness table (pool: threads for the 20,000 x synonyms
 * products; may be NULL). Errors: SL_ERR_ARG, SL_ERR_NOMEM. */
sl_status sl_lite_labels_build(const char *const *labels, const sl_wordvec *wv, sl_pool *pool,
                               sl_lite_labels *out);
void sl_lite_labels_free(sl_lite_labels *l);

/* sim(w, k) for all classes: best synonym cosine of the word vector v
 * (dim floats, any norm; a zero vector gives 0 everywhere). scratch holds
 * n_synonyms floats. */
void sl_lite_word_class_sims(const sl_lite_labels *l, const float *v, float *scratch,
                             float sims[SL_LITE_CLASSES]);

/* The text embedding of a query: out (SL_LITE_CLASSES) L2-normalized.
 * Returns SL_ERR_NOT_FOUND (and a zero vector) when the query has no
 * content word; SL_ERR_LIMIT past SL_LITE_MAX_QUERY_WORDS content words. scratch holds
 * sl_lite_text_scratch(l) floats. */
size_t sl_lite_text_scratch(const sl_lite_labels *l);
sl_status sl_lite_embed_text(const sl_lite_labels *l, const sl_wordvec *wv, const char *text,
                             size_t len, float *scratch, float out[SL_LITE_CLASSES]);

/* The building block of sl_lite_embed_text, shared with the model-file
 * path (lite_model.c): adds weight * softmax(hub-corrected similarities of
 * the word vector v) to out. */
void sl_lite_mix_word(const sl_lite_labels *l, const float *v, float weight, float *scratch,
                      float out[SL_LITE_CLASSES]);

/* Scales v (n floats) to unit L2 norm, summing in double; returns 0 and
 * leaves v unchanged when it is all zeros. */
int sl_lite_l2_normalize(float *v, size_t n);

/* The image embedding from the raw uint8 outputs of the 1,001-class model
 * (raw[0] = background, ignored): out (SL_LITE_CLASSES) L2-normalized; an
 * all-zero output gives a zero vector. */
void sl_lite_embed_image(const uint8_t raw[SL_LITE_CLASSES + 1], float out[SL_LITE_CLASSES]);

#endif
