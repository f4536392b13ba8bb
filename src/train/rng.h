/* The training core's random numbers: SplitMix64, a serial stream whose
 * draws happen in a fixed order, so a seed alone fixes every initial weight
 * and every dropout mask. */
#ifndef SL_TRAIN_RNG_H
#define SL_TRAIN_RNG_H

#include <stdint.h>

static inline uint64_t sl_rng_next(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 24 random bits (exact in float). */
static inline float sl_rng_unit(uint64_t *state) {
    return (float)(sl_rng_next(state) >> 40) * (1.0f / 16777216.0f);
}

#endif /* SL_TRAIN_RNG_H */
