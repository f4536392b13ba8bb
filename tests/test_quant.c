/* TFLite fixed-point requantization and the reference convolution. */
#include "nn/qconv.h"
#include "nn/quant.h"
#include "testlib.h"

#include <math.h>
#include <stdlib.h>

static void test_quantize_multiplier(void) {
    int32_t q;
    int shift;
    sl_quantize_multiplier(0.0, &q, &shift);
    CHECK(q == 0 && shift == 0);
    sl_quantize_multiplier(0.5, &q, &shift);
    CHECK(q == (1 << 30) && shift == 0);
    sl_quantize_multiplier(1.0, &q, &shift);
    CHECK(q == (1 << 30) && shift == 1);
    sl_quantize_multiplier(0.25, &q, &shift);
    CHECK(q == (1 << 30) && shift == -1);
    /* A mantissa that rounds up to 2^31 carries into the exponent. */
    sl_quantize_multiplier(nextafter(1.0, 0.0), &q, &shift);
    CHECK(q == (1 << 30) && shift == 1);
    sl_quantize_multiplier(1e-12, &q, &shift);
    CHECK(q == 0 && shift == 0);
}

/* The fixed-point product must equal round(x * m) (ties away from zero in
 * magnitude as gemmlowp does, up to its double-rounding) to within one. */
static void test_mul_qm(void) {
    uint64_t s = 42;
    int worst = 0;
    for (int i = 0; i < 100000; i++) {
        double m = ldexp((double)(sl_test_rand(&s) % 1000000 + 1) / 1e6, -(int)(sl_test_rand(&s) % 12));
        int32_t x = (int32_t)(sl_test_rand(&s) % 2000001) - 1000000;
        int32_t q;
        int shift;
        sl_quantize_multiplier(m, &q, &shift);
        int32_t got = sl_mul_qm(x, q, shift);
        double want = round(x * m);
        int d = abs((int)(got - (int32_t)want));
        if (d > worst) worst = d;
    }
    CHECK_MSG(worst <= 1, "worst error %d", worst);
    /* Exact known cases. */
    CHECK(sl_rdivpot(5, 1) == 3);   /* 2.5 -> 3 */
    CHECK(sl_rdivpot(-5, 1) == -3); /* -2.5 -> -3 */
    CHECK(sl_rdivpot(7, 2) == 2);   /* 1.75 -> 2 */
    CHECK(sl_srdhm(INT32_MIN, INT32_MIN) == INT32_MAX);
}

int main(void) {
    test_quantize_multiplier();
    test_mul_qm();
    return sl_test_summary();
}
