/* AVX2 copy of the AH encoder (ah_encode_body.h); the plain C twin is
 * sl_ah_encode_range_scalar in ah.c, and tests/test_ah.c requires the same
 * codes from both. */
#include <immintrin.h>

/* The lanes holding the smallest of 16 values: a min tree across the two
 * halves, then one compare per lane (the choice sits on the dependency
 * chain from block to block, so latency matters more than throughput). */
static inline unsigned minmask16_avx2(const float *f) {
    const __m256 a = _mm256_loadu_ps(f), b = _mm256_loadu_ps(f + 8);
    __m256 m = _mm256_min_ps(a, b);
    m = _mm256_min_ps(m, _mm256_permute2f128_ps(m, m, 1));
    m = _mm256_min_ps(m, _mm256_shuffle_ps(m, m, _MM_SHUFFLE(1, 0, 3, 2)));
    m = _mm256_min_ps(m, _mm256_shuffle_ps(m, m, _MM_SHUFFLE(2, 3, 0, 1)));
    return (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(a, m, _CMP_EQ_OQ)) |
           (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(b, m, _CMP_EQ_OQ)) << 8;
}

#define AH_ENCODE_NAME sl_ah_encode_range_avx2
#define AH_MINMASK16(f) minmask16_avx2(f)
#include "ah_encode_body.h"
