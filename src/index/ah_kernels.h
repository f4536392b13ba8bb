/* AH encoder internals shared by ah.c and its per-instruction-set copies
 * (ah_avx2.c, ah_avx512.c). Not part of the module's interface.
 *
 * The encoder body is in ah_encode_body.h, included once per instruction
 * set with its own 16-lane arg-min (AH_MINMASK16); all copies produce the
 * same codes bit for bit (tests/test_ah.c checks every level against the
 * plain C one). */
#ifndef SL_INDEX_AH_KERNELS_H
#define SL_INDEX_AH_KERNELS_H

#include "ah.h"

#include <stddef.h>
#include <stdint.h>

enum {
    AH_K = SL_PQ_CENTRES,
    AH_LANES = 4 /* points descending side by side */
};

/* The encoder's view of a codebook: the centres transposed so that the 16
 * centres' coordinate d of a block are contiguous, and every loop over the
 * candidates is a 16-wide vector loop. */
typedef struct ah_enc {
    size_t dim, dpb, nb;
    const float *ct; /* (nb, dpb, 16) */
    float w;         /* eta - 1 */
    int aniso;       /* dirs given and eta != 1 */
    int passes;
} ah_enc;

typedef struct ah_enc_job {
    const ah_enc *E;
    const float *resid, *dirs; /* (n, dim) */
    size_t n;
    uint8_t *codes; /* (n, nb) */
    double *par;    /* (n) or NULL: the final parallel error of each point */
    float *scratch; /* (threads, AH_LANES, nb, 2, 16) */
} ah_enc_job;

/* Encodes points [i0, i1) of job; scratch holds AH_LANES * nb * 2 * 16
 * floats. */
void sl_ah_encode_range_scalar(const ah_enc_job *job, size_t i0, size_t i1, float *scratch);
#ifndef SL_NO_X86_SIMD
void sl_ah_encode_range_avx2(const ah_enc_job *job, size_t i0, size_t i1, float *scratch);
void sl_ah_encode_range_avx512(const ah_enc_job *job, size_t i0, size_t i1, float *scratch);
#endif

#endif
