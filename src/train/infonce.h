/* The symmetric InfoNCE (CLIP) loss over in-batch negatives, with its
 * gradients. docs/TRAINING.md derives them.
 *
 * For image embeddings U (B, d) and text embeddings V (B, d), unit rows,
 * row i of each the two sides of pair i:
 *   c = exp(min(s, SL_INFONCE_MAX_LOG_SCALE))      the logit scale
 *   Z = c U V^T                                    (B, B) logits
 *   L = (CE over the rows of Z + CE over its columns) / 2,
 * each CE the batch mean of -sum_j T_ij log softmax(.)_ij with targets T.
 *
 * Several captions of one image in a batch: the caller may pass a group id
 * per row (the image's id). Pairs (i, j) with the same group are then all
 * positives and T spreads each row's (and column's) target evenly over
 * them, so a caption is never pushed away from its own image. Without
 * groups (NULL) T is the identity: CLIP's loss exactly. */
#ifndef SL_TRAIN_INFONCE_H
#define SL_TRAIN_INFONCE_H

#include "core/core.h"

#include <stddef.h>
#include <stdint.h>

/* ln(100): CLIP's cap on the logit scale. Above it the loss uses exp = 100
 * and reports a zero gradient for s; the trainer also clamps the stored s
 * after each step so momentum cannot carry it further. */
#define SL_INFONCE_MAX_LOG_SCALE 4.6051702f

/* Floats of workspace that sl_infonce needs for a batch of B (2 B^2 + 2 B),
 * 0 on overflow. */
size_t sl_infonce_work_size(size_t batch);

/* Loss and gradients for one batch.
 *   u, v   (batch, dim) row-major, rows expected unit (not checked)
 *   group  (batch) or NULL: rows with equal values are positives
 *   work   sl_infonce_work_size(batch) floats, or NULL to allocate here
 *   loss   the loss
 *   du, dv (batch, dim) dL/dU and dL/dV, or NULL to skip
 *   dlog_scale  dL/ds, or NULL
 * Log-sum-exp with the maximum subtracted, in double, so no logit
 * overflows whatever the scale.
 * Errors: SL_ERR_ARG (NULL u, v or loss, batch or dim 0, non-finite s),
 * SL_ERR_LIMIT (batch^2 overflows), SL_ERR_NOMEM. */
sl_status sl_infonce(const float *u, const float *v, size_t batch, size_t dim, float log_scale,
                     const uint32_t *group, float *work, float *loss, float *du, float *dv,
                     float *dlog_scale);

#endif /* SL_TRAIN_INFONCE_H */
