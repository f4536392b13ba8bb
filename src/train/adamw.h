/* AdamW (Loshchilov & Hutter): Adam moments with bias correction and a
 * weight decay applied to the weights directly rather than added to the
 * gradient, over a fixed list of parameter tensors; optional clipping of
 * the gradients by their global norm first. docs/TRAINING.md has the math.
 *
 * Determinism: every element is updated by the same arithmetic whatever
 * thread runs it, and the global norm is summed over fixed chunks in chunk
 * order, so the result is bit-identical for any pool size. */
#ifndef SL_TRAIN_ADAMW_H
#define SL_TRAIN_ADAMW_H

#include "core/core.h"
#include "train/param.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sl_adamw_opts {
    float beta1;        /* first-moment decay, default 0.9 */
    float beta2;        /* second-moment decay, default 0.999 */
    float eps;          /* added to sqrt(v_hat), default 1e-8 */
    float weight_decay; /* decoupled decay of the tensors with decay set,
                           default 0.01 (PyTorch's AdamW); applied as
                           w -= lr * weight_decay * w */
    float clip_norm;    /* > 0: scale all gradients so their global L2 norm
                           is at most this; 0 (default) = no clipping */
} sl_adamw_opts;

void sl_adamw_opts_init(sl_adamw_opts *o);

typedef struct sl_adamw sl_adamw;

/* An optimizer over params[0 .. n) (copied; the tensors stay owned by their
 * modules and must outlive it), with zeroed moments. opts NULL = defaults.
 * Errors: SL_ERR_ARG (NULL, n 0, a tensor with NULL value or grad or no
 * elements, betas outside [0, 1), eps <= 0, negative decay or clip),
 * SL_ERR_NOMEM. */
sl_status sl_adamw_new(const sl_param *params, size_t n, const sl_adamw_opts *opts,
                       sl_adamw **out);
void sl_adamw_free(sl_adamw *a);

/* One step with learning rate lr (the caller's schedule) from the
 * gradients now in the tensors, which it does not zero. grad_norm, when
 * not NULL, receives the global gradient norm before clipping. pool may be
 * NULL (serial). Errors: SL_ERR_ARG (lr negative or not finite),
 * SL_ERR_CORRUPT (a non-finite gradient: nothing is updated). */
sl_status sl_adamw_step(sl_adamw *a, float lr, sl_pool *pool, float *grad_norm);

/* Steps taken so far. */
uint64_t sl_adamw_steps(const sl_adamw *a);

#endif /* SL_TRAIN_ADAMW_H */
