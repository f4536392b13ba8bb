/* A trainable tensor as the optimizer sees it: values and gradients owned
 * by the module that declares it (an MLP, the trainer's log scale). */
#ifndef SL_TRAIN_PARAM_H
#define SL_TRAIN_PARAM_H

#include <stddef.h>

typedef struct sl_param {
    const char *name; /* "layer0.weight", ...; static storage of the owner */
    float *value;     /* (rows, cols) row-major */
    float *grad;      /* (rows, cols) row-major, same size as value */
    size_t rows, cols;
    int decay;        /* nonzero: AdamW's weight decay applies (weights);
                         zero for biases and the temperature */
} sl_param;

#endif /* SL_TRAIN_PARAM_H */
