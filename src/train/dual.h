/* The dual-encoder trainer: two projection heads (image and text), their
 * row L2 normalization, the symmetric InfoNCE loss with a learnable log
 * scale, and AdamW, joined into one training step. The caller owns the
 * data: cached backbone features, the batch sampler, epochs, the learning
 * rate schedule and saving the weights (through sl_dual_tower and
 * sl_mlp_params). docs/TRAINING.md.
 *
 * Determinism: for the same options (seed and threads included), the same
 * batches and learning rates, on the same machine, the weights are
 * bit-identical after every step. One handle, one thread at a time. */
#ifndef SL_TRAIN_DUAL_H
#define SL_TRAIN_DUAL_H

#include "core/core.h"
#include "train/adamw.h"
#include "train/mlp.h"

#include <stddef.h>
#include <stdint.h>

typedef enum sl_tower { SL_TOWER_IMAGE = 0, SL_TOWER_TEXT = 1 } sl_tower;

typedef struct sl_dual_opts {
    /* layer sizes of each head, input first: e.g. 2280, 512, 256. Both
     * heads must end in the same embedding size. */
    size_t image_dims[SL_MLP_MAX_LAYERS + 1];
    size_t image_n_dims;
    size_t text_dims[SL_MLP_MAX_LAYERS + 1];
    size_t text_n_dims;
    size_t max_batch;     /* default 256 */
    float dropout;        /* on hidden activations while training, default 0 */
    float init_log_scale; /* default ln(1 / 0.07), CLIP's initial temperature */
    uint64_t seed;        /* weights and dropout masks, default 0 */
    int threads;          /* OpenBLAS's and the optimizer's threads, default 1 */
    sl_adamw_opts adamw;  /* sl_adamw_opts_init's defaults */
} sl_dual_opts;

/* Defaults as stated above; no dims (the caller sets them). */
void sl_dual_opts_init(sl_dual_opts *o);

typedef struct sl_dual sl_dual;

/* Errors: SL_ERR_ARG (bad dims or options, different output sizes),
 * SL_ERR_LIMIT, SL_ERR_NOMEM. */
sl_status sl_dual_new(const sl_dual_opts *o, sl_dual **out);
void sl_dual_free(sl_dual *d);

typedef struct sl_dual_stats {
    float loss;      /* the batch's loss before the update */
    float grad_norm; /* global gradient norm before clipping */
    float log_scale; /* after the update (and the clamp) */
} sl_dual_stats;

/* One step on a batch of pairs: image features img (batch, image in) and
 * text features txt (batch, text in), row i of each a positive pair;
 * group (batch) or NULL as in sl_infonce (the image id of each row, so
 * several captions of one image are all positives). Forward with dropout,
 * loss, backward, AdamW with learning rate lr, then the log scale clamped
 * to SL_INFONCE_MAX_LOG_SCALE. stats may be NULL.
 * Errors: SL_ERR_ARG (NULL, batch outside 2..max_batch, bad lr),
 * SL_ERR_CORRUPT (a non-finite gradient: the weights are left unchanged). */
sl_status sl_dual_step(sl_dual *d, const float *img, const float *txt, const uint32_t *group,
                       size_t batch, float lr, sl_dual_stats *stats);

/* The loss of a batch in evaluation mode (no dropout, no update), for
 * validation. batch 1..max_batch. Errors as sl_dual_step. */
sl_status sl_dual_eval_loss(sl_dual *d, const float *img, const float *txt, const uint32_t *group,
                            size_t batch, float *loss);

/* Unit embeddings out (n, embedding size) of n feature rows x (n, tower
 * in) in evaluation mode, in slices of max_batch. Errors: SL_ERR_ARG. */
sl_status sl_dual_embed(sl_dual *d, sl_tower tower, const float *x, size_t n, float *out);

/* The head of a tower (owned by d) and the log scale, to save or load. */
sl_mlp *sl_dual_tower(sl_dual *d, sl_tower tower);
float sl_dual_log_scale(const sl_dual *d);
void sl_dual_set_log_scale(sl_dual *d, float log_scale);
size_t sl_dual_dim(const sl_dual *d);

#endif /* SL_TRAIN_DUAL_H */
