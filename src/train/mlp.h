/* A projection head: linear layers with ReLU between them (none after the
 * last), inverted dropout on the hidden activations while training, and
 * the row L2 normalization that follows it. Forward keeps what backward
 * needs; backward accumulates parameter gradients. docs/TRAINING.md gives
 * the math.
 *
 * Layer l maps (B, dims[l]) to (B, dims[l+1]):
 *   z = x W^T + b, W (dims[l+1], dims[l]) row-major (PyTorch's nn.Linear
 *   layout), b (dims[l+1]); then h = dropout(relu(z)) except after the last.
 *
 * Init: weights of layers followed by a ReLU are He (Kaiming) uniform,
 * U(-sqrt(6 / fan_in), +sqrt(6 / fan_in)); the last layer, which feeds the
 * L2 normalization, is LeCun uniform U(-sqrt(3 / fan_in), +...); biases 0.
 * Drawn from one SplitMix64 stream in layer order, weight row by row.
 *
 * A handle is used by one thread at a time (it holds the activations). */
#ifndef SL_TRAIN_MLP_H
#define SL_TRAIN_MLP_H

#include "core/core.h"
#include "train/param.h"

#include <stddef.h>
#include <stdint.h>

#define SL_MLP_MAX_LAYERS 8
#define SL_MLP_MAX_DIM 65536

typedef struct sl_mlp sl_mlp;

/* A new MLP with n_dims - 1 layers of sizes dims[0] -> dims[1] -> ... (2 to
 * SL_MLP_MAX_LAYERS + 1 entries, each 1..SL_MLP_MAX_DIM), for batches of
 * up to max_batch rows, weights drawn from `seed`, dropout probability
 * `dropout` in [0, 1) on every hidden activation (0 = none). Gradients
 * start at zero. Errors: SL_ERR_ARG, SL_ERR_LIMIT, SL_ERR_NOMEM. */
sl_status sl_mlp_new(const size_t *dims, size_t n_dims, size_t max_batch, float dropout,
                     uint64_t seed, sl_mlp **out);
void sl_mlp_free(sl_mlp *m);

size_t sl_mlp_in(const sl_mlp *m);
size_t sl_mlp_out(const sl_mlp *m);
size_t sl_mlp_layers(const sl_mlp *m);

/* The 2 * layers parameter tensors, weight then bias of each layer in
 * order ("layer<l>.weight" (out, in) with decay, "layer<l>.bias" (out, 1)
 * without), written to params[0 .. 2 * layers). Returns how many; writes
 * none when cap is too small. The pointers stay valid until sl_mlp_free;
 * the model file reads and writes weights through them. */
size_t sl_mlp_params(sl_mlp *m, sl_param *params, size_t cap);

/* Sets every gradient to zero. */
void sl_mlp_zero_grad(sl_mlp *m);

/* y (batch, out) = the MLP applied to x (batch, in). train != 0 draws fresh
 * dropout masks from the handle's stream (seeded at sl_mlp_new); train == 0
 * is evaluation: no dropout, no draw, so two calls give the same bits. x is
 * copied: the caller may reuse it before backward.
 * Errors: SL_ERR_ARG (NULL, batch 0 or above max_batch). */
sl_status sl_mlp_forward(sl_mlp *m, const float *x, size_t batch, int train, float *y);

/* Backward through the latest forward: dy (batch, out) is dL/dy; adds
 * dL/dW and dL/db to the gradients; writes dL/dx (batch, in) when dx is not
 * NULL (skipped otherwise: the towers' inputs are frozen features).
 * Errors: SL_ERR_ARG (NULL dy), SL_ERR_STATE (no forward before). */
sl_status sl_mlp_backward(sl_mlp *m, const float *dy, float *dx);

/* ---- row L2 normalization ---------------------------------------------- */

/* Below this norm a row is divided by it instead (an all-zero row stays 0
 * rather than becoming NaN), as torch.nn.functional.normalize does. */
#define SL_L2NORM_EPS 1e-12f

/* y_i = x_i / max(||x_i||, eps) for the n rows of x (n, dim); norms (n)
 * receives max(||x_i||, eps) for backward. y may equal x.
 * Errors: SL_ERR_ARG (NULL, dim 0). */
sl_status sl_l2norm_forward(const float *x, size_t n, size_t dim, float *y, float *norms);

/* dx (n, dim) from dy (n, dim), y and norms of the forward:
 *   dx_i = (dy_i - y_i (y_i . dy_i)) / r_i, or dy_i / eps for a row whose
 *   norm was clamped. dx may equal dy. Errors: SL_ERR_ARG. */
sl_status sl_l2norm_backward(const float *y, const float *norms, const float *dy, size_t n,
                             size_t dim, float *dx);

#endif /* SL_TRAIN_MLP_H */
