/* Dot products of a query with many rows: the reference twin and the
 * dispatcher. */
#include "dot_kernels.h"
#include "flat.h"

void sl_dot_rows_ref(const float *q, const float *x, size_t n, size_t dim, float *scores) {
    for (size_t i = 0; i < n; i++) {
        const float *r = x + i * dim;
        double s = 0; /* double: the twin is the accuracy yardstick */
        for (size_t j = 0; j < dim; j++) s += (double)q[j] * r[j];
        scores[i] = (float)s;
    }
}

/* Plain C with eight independent partial sums: vectorizable by the
 * compiler, and the scalar-level fast path on machines without AVX2. */
static void dot_rows_scalar(const float *q, const float *x, size_t n, size_t dim, float *scores) {
    for (size_t i = 0; i < n; i++) {
        const float *r = x + i * dim;
        float acc[8] = {0};
        size_t j = 0;
        for (; j + 8 <= dim; j += 8)
            for (int u = 0; u < 8; u++) acc[u] += q[j + u] * r[j + u];
        float s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
        for (; j < dim; j++) s += q[j] * r[j];
        scores[i] = s;
    }
}

void sl_dot_rows_level(sl_cpu_level level, const float *q, const float *x, size_t n, size_t dim,
                       float *scores) {
    if (level > sl_cpu()) level = sl_cpu();
#ifndef SL_NO_X86_SIMD
    if (level >= SL_CPU_AVX512) {
        sl_dot_rows_avx512(q, x, n, dim, scores);
        return;
    }
    if (level >= SL_CPU_AVX2) {
        sl_dot_rows_avx2(q, x, n, dim, scores);
        return;
    }
#endif
    dot_rows_scalar(q, x, n, dim, scores);
}

void sl_dot_rows(const float *q, const float *x, size_t n, size_t dim, float *scores) {
    sl_dot_rows_level(sl_cpu(), q, x, n, dim, scores);
}
