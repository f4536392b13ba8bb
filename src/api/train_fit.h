/* Fitting the projection heads on cached features (docs/TRAINING.md "The
 * training loop"), and measuring retrieval on a subset of images exactly
 * as a tuned model embeds. Internal to sl_train. */
#ifndef SL_API_TRAIN_FIT_H
#define SL_API_TRAIN_FIT_H

#include "api/train_features.h"
#include "api/train_split.h"
#include "model/heads.h"

typedef struct sl_fit_opts {
    int epochs, patience, batch, threads;
    float lr, weight_decay, dropout;
    uint32_t dim, hidden;
    uint64_t seed;
    int fold, folds; /* reported with the progress */
    double t0;       /* sl_now() at the start of the whole run */
    sl_pool *pool;   /* ranks the validation captions; may be NULL (serial) */
    int (*progress)(void *user, const sl_train_progress *p);
    void *progress_user;
} sl_fit_opts;

typedef struct sl_fit_result {
    sl_heads heads;  /* views into weights; blend = the chosen b */
    float *weights;  /* every tensor of both heads */
    int best_epoch;  /* 0: no epoch beat zero-shot on validation (b = 0) */
    int epochs_run;
    sl_recall val_zero_shot, val_tuned; /* validation text->image, as the model embeds */
} sl_fit_result;

/* Trains heads on the images train[0..n_train) (one known caption of each
 * per epoch), stops early and picks the blend on val[0..n_val), keeping
 * the best epoch's weights. Errors: SL_ERR_ARG (no caption with a known
 * word among the training or validation images), SL_ERR_CORRUPT (the
 * training diverged), SL_ERR_STATE (stopped by the callback),
 * SL_ERR_NOMEM. */
sl_status sl_fit_heads(const sl_feature_set *f, const sl_image_captions *ic, const uint32_t *train, size_t n_train,
                       const uint32_t *val, size_t n_val, const sl_fit_opts *o, sl_fit_result *out);
void sl_fit_result_free(sl_fit_result *r);

/* Text->image retrieval among the images imgs[0..n) with all their
 * captions (a caption without a known word is a zero row, as in `searchlite
 * eval`), embedded as the zero-shot model (heads NULL) or as the tuned
 * model does (sl_head_apply + sl_heads_blend), ranked by sl_eval_retrieval.
 * pool may be NULL. Errors: SL_ERR_ARG, SL_ERR_NOMEM. */
sl_status sl_subset_recall(const sl_feature_set *f, const uint32_t *imgs, size_t n, const sl_heads *heads,
                           sl_pool *pool, sl_recall *t2i);

#endif
