/* The frozen features of a captions set, what the trained heads read
 * (issue 5; docs/TRAINING.md "Features the heads read"): per image the
 * network's pooled layer and the zero-shot embedding, per caption the
 * word-vector mean and the zero-shot embedding. Computed once, in
 * parallel, with results independent of the thread count. Internal. */
#ifndef SL_API_TRAIN_FEATURES_H
#define SL_API_TRAIN_FEATURES_H

#include "searchlite.h"
#include "searcher/captions.h"

typedef struct sl_feature_set {
    size_t n_images, n_captions;
    size_t pooled_dim, word_dim, z_dim; /* 1,280, 100, 1,000 for the lite model */
    size_t image_dim, text_dim;         /* pooled_dim + z_dim, word_dim + z_dim */
    float *image;            /* (n_images, image_dim): [pooled, z], 64-byte aligned */
    float *text;             /* (n_captions, text_dim): [word_mean, z]; zeros without a known word */
    uint32_t *caption_image; /* (n_captions) index into the images */
    uint8_t *caption_known;  /* (n_captions) 0: no known word in the caption */
    size_t n_unknown;        /* captions without a known word */
} sl_feature_set;

/* Features of every image (images_dir + "/" + file_name) and caption of
 * caps, images on n_threads workers (1..256) with progress as
 * sl_eval_opts's, captions on as many pool threads. The first unreadable
 * image (by order) fails the call with its path.
 * Errors: SL_ERR_ARG, SL_ERR_LIMIT (matrices too large), SL_ERR_NOMEM,
 * the image and model errors, SL_ERR_STATE (cancelled). */
sl_status sl_features_compute(const sl_model *m, const sl_captions *caps, const char *images_dir, int n_threads,
                              int (*progress)(void *, size_t, size_t), void *progress_user, sl_feature_set *out);
void sl_feature_set_free(sl_feature_set *f);

/* The feature cache (computing the features embeds every image once; a
 * training run reads them back): one file in the section container of
 * docs/FORMAT.md, magic "SLFEATUR", tagged with the model id and a key the
 * caller derives from its inputs (the SHA-256 of the captions file and the
 * images folder, say). Written atomically; read fully (it is small next to
 * the images) and checked as hostile input with every CRC.
 * Load errors: SL_ERR_NOT_FOUND (no such file), SL_ERR_STATE (made with
 * another model or key: recompute), SL_ERR_CORRUPT / SL_ERR_CHECKSUM /
 * SL_ERR_UNSUPPORTED (damaged or newer file), SL_ERR_IO, SL_ERR_NOMEM. */
sl_status sl_features_save(const sl_feature_set *f, const char *model_id, const uint8_t key[32], const char *path);
sl_status sl_features_load(const char *path, const char *model_id, const uint8_t key[32], sl_feature_set *out);

#endif
