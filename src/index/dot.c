/* Dot products of a query with many rows: the reference twin and the
 * dispatcher. */
#include "dot_kernels.h"
#include "core/half.h"
#include "flat.h"

/* sl_l2sq* and the table kernels promise the same bits as their twins:
 * no multiply-add contraction of plain C expressions (clang contracts by
 * default where FMA is available; GCC does not in ISO C mode). Explicit
 * fmadd intrinsics are unaffected. */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

#include <string.h>

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

/* The twin; also what the compiler makes of it at the scalar level. */
float sl_l2sq_ref(const float *q, const float *x, size_t dim) {
    float acc[16] = {0};
    size_t j = 0;
    for (; j + 16 <= dim; j += 16)
        for (int t = 0; t < 16; t++) acc[t] += (q[j + t] - x[j + t]) * (q[j + t] - x[j + t]);
    for (int t = 0; j + (size_t)t < dim; t++) acc[t] += (q[j + t] - x[j + t]) * (q[j + t] - x[j + t]);
    float s = 0;
    for (int t = 0; t < 16; t++) s += acc[t];
    return s;
}

float sl_l2sq_level(sl_cpu_level level, const float *q, const float *x, size_t dim) {
    if (level > sl_cpu()) level = sl_cpu();
#ifndef SL_NO_X86_SIMD
    if (level >= SL_CPU_AVX512) return sl_l2sq_avx512(q, x, dim);
    if (level >= SL_CPU_AVX2) return sl_l2sq_avx2(q, x, dim);
#endif
    return sl_l2sq_ref(q, x, dim);
}

float sl_l2sq(const float *q, const float *x, size_t dim) { return sl_l2sq_level(sl_cpu(), q, x, dim); }

float sl_l2sq_f16_ref(const float *q, const uint16_t *x, size_t dim) {
    float acc[16] = {0};
    for (size_t j = 0; j < dim; j++) {
        const float d = q[j] - sl_f16_to_f32(x[j]);
        acc[j % 16] += d * d;
    }
    float s = 0;
    for (int t = 0; t < 16; t++) s += acc[t];
    return s;
}

float sl_l2sq_f16_level(sl_cpu_level level, const float *q, const uint16_t *x, size_t dim) {
    if (level > sl_cpu()) level = sl_cpu();
#ifndef SL_NO_X86_SIMD
    if (level >= SL_CPU_AVX512) return sl_l2sq_f16_avx512(q, x, dim);
    if (level >= SL_CPU_AVX2) return sl_l2sq_f16_avx2(q, x, dim);
#endif
    return sl_l2sq_f16_ref(q, x, dim);
}

float sl_l2sq_f16(const float *q, const uint16_t *x, size_t dim) { return sl_l2sq_f16_level(sl_cpu(), q, x, dim); }
