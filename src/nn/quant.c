#include "quant.h"

#include <math.h>

void sl_quantize_multiplier(double m, int32_t *q, int *shift) {
    if (m == 0.0) {
        *q = 0;
        *shift = 0;
        return;
    }
    int e = 0;
    double frac = frexp(m, &e);
    int64_t qf = (int64_t)llround(frac * (double)(1ll << 31));
    if (qf == (1ll << 31)) {
        qf /= 2;
        e++;
    }
    if (e < -31) {
        e = 0;
        qf = 0;
    }
    *q = (int32_t)qf;
    *shift = e;
}
