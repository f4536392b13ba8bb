/* AVX-512 copy of the AH encoder (ah_encode_body.h); the plain C twin is
 * sl_ah_encode_range_scalar in ah.c, and tests/test_ah.c requires the same
 * codes from both. */
#include <immintrin.h>

/* The lanes holding the smallest of 16 values: one reduction, one compare. */
static inline unsigned minmask16_avx512(const float *f) {
    const __m512 a = _mm512_loadu_ps(f);
    return _mm512_cmp_ps_mask(a, _mm512_set1_ps(_mm512_reduce_min_ps(a)), _CMP_EQ_OQ);
}

#define AH_ENCODE_NAME sl_ah_encode_range_avx512
#define AH_MINMASK16(f) minmask16_avx512(f)
#include "ah_encode_body.h"
