/* The trained projection heads of a tuned model (issue 5; docs/MODEL.md
 * "Tuned models", docs/TRAINING.md): per tower an MLP over the frozen
 * features, its output L2-normalized to p, and the blend with the
 * zero-shot embedding z that keeps search never worse than zero-shot:
 *
 *   embedding = [sqrt(1 - b) z, sqrt(b) p]     (z_dim + head dim floats)
 *
 * so the score of a text and an image is (1 - b) z.z' + b p.p'. b = 0 is
 * the zero-shot model exactly (up to the zeros appended).
 *
 * Inference here is plain C, one row at a time, with a fixed summation
 * order: the same bits whatever the thread or the BLAS, so a model trained,
 * saved and reloaded embeds exactly as the trainer measured it. */
#ifndef SL_MODEL_HEADS_H
#define SL_MODEL_HEADS_H

#include "core/core.h"

#include <stddef.h>
#include <stdint.h>

#define SL_HEAD_MAX_LAYERS 8
#define SL_HEAD_MAX_DIM 65536

/* One linear layer: y = W x + bias, W (out, in) row-major (PyTorch's
 * nn.Linear layout, as src/train/mlp.h stores it). Borrowed pointers. */
typedef struct sl_head_layer {
    uint32_t in, out;
    const float *weight; /* (out, in) */
    const float *bias;   /* (out) */
} sl_head_layer;

/* A head: layers with ReLU between them (none after the last), then the
 * row L2 normalization. layers[l].out == layers[l + 1].in. */
typedef struct sl_head {
    size_t n_layers; /* 1..SL_HEAD_MAX_LAYERS */
    sl_head_layer layers[SL_HEAD_MAX_LAYERS];
} sl_head;

/* Both heads and the blend. image.layers[0].in is the image feature size
 * (pooled + z: 2,280 for the lite model), text.layers[0].in the text one
 * (word mean + z: 1,100); both end in the same size, the head dim. */
typedef struct sl_heads {
    sl_head image, text;
    float blend; /* b in [0, 1] */
} sl_heads;

/* Checks shapes (chained sizes, 1..SL_HEAD_MAX_DIM, same output size,
 * non-NULL tensors), then that every weight and bias is finite (reading
 * in * out and out floats per layer: the caller vouches that the pointers
 * hold that many, as the file reader does by matching tensor shapes) and
 * that b is in [0, 1]. Errors: SL_ERR_ARG (NULL), SL_ERR_CORRUPT with a
 * message naming the part. */
sl_status sl_heads_check(const sl_heads *h);

/* Floats of scratch sl_head_apply needs: twice the widest layer. */
size_t sl_head_scratch(const sl_head *h);

/* p (the head's output size) = normalize(head(x)), x (layers[0].in).
 * Each output is a dot product summed in a fixed order. An all-zero head
 * output stays zero. scratch: sl_head_scratch floats. */
void sl_head_apply(const sl_head *h, const float *x, float *scratch, float *p);

/* out (z_dim + p_dim) = [sqrt(1 - b) z, sqrt(b) p]. */
void sl_heads_blend(float b, const float *z, size_t z_dim, const float *p, size_t p_dim, float *out);

#endif /* SL_MODEL_HEADS_H */
