/* The 53 convolution layers of MobileNetV2 1.0 224 as sl_qconv
 * descriptors (shapes only; types, zero points and ranges are left zero for
 * the caller): the 3x3 stride-2 stem, 17 inverted residual blocks (t, c, n,
 * s) with 1x1 expansion, 3x3 depthwise and 1x1 projection, the 1x1 to 1280
 * channels and the 1x1 logits layer after global pooling. Shared by
 * tests/test_qconv.c and bench/bench_qconv.c. */
#ifndef SL_TEST_MOBILENET_V2_SHAPES_H
#define SL_TEST_MOBILENET_V2_SHAPES_H

#include "nn/qconv.h"

#include <string.h>

#define SL_MOBILENET_V2_CONVS 53

/* TFLite SAME padding for dilation 1. */
static inline void sl_mnv2_same_pad(int in, int k, int s, int *out, int *pad) {
    *out = (in + s - 1) / s;
    int total = (*out - 1) * s + k - in;
    *pad = total > 0 ? total / 2 : 0;
}

static inline void sl_mnv2_add(sl_qconv_desc *d, int depthwise, int k, int s, int *h, int *c,
                               int out_c) {
    memset(d, 0, sizeof *d);
    d->depthwise = depthwise;
    d->batch = 1;
    d->in_h = d->in_w = *h;
    d->in_c = *c;
    d->out_c = out_c;
    d->k_h = d->k_w = k;
    d->stride_h = d->stride_w = s;
    d->dil_h = d->dil_w = 1;
    d->depth_multiplier = 1;
    sl_mnv2_same_pad(*h, k, s, &d->out_h, &d->pad_top);
    sl_mnv2_same_pad(*h, k, s, &d->out_w, &d->pad_left);
    *h = d->out_h;
    *c = out_c;
}

/* Fills out[0 .. SL_MOBILENET_V2_CONVS) and returns the count. */
static inline int sl_mobilenet_v2_convs(sl_qconv_desc out[SL_MOBILENET_V2_CONVS]) {
    static const int blocks[7][4] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                                     {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
    int n = 0, h = 224, c = 3;
    sl_mnv2_add(&out[n++], 0, 3, 2, &h, &c, 32);
    for (int b = 0; b < 7; b++)
        for (int r = 0; r < blocks[b][2]; r++) {
            int s = r == 0 ? blocks[b][3] : 1, e = c * blocks[b][0];
            if (blocks[b][0] != 1) sl_mnv2_add(&out[n++], 0, 1, 1, &h, &c, e);
            sl_mnv2_add(&out[n++], 1, 3, s, &h, &c, e);
            sl_mnv2_add(&out[n++], 0, 1, 1, &h, &c, blocks[b][1]);
        }
    sl_mnv2_add(&out[n++], 0, 1, 1, &h, &c, 1280);
    h = 1;
    sl_mnv2_add(&out[n++], 0, 1, 1, &h, &c, 1001);
    return n;
}

#endif
