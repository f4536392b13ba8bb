/* Small helpers shared by the benchmark programs. */
#ifndef SL_BENCH_UTIL_H
#define SL_BENCH_UTIL_H

#include <stdlib.h>

static inline int sl_bench_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of n timings (sorts v in place). */
static inline double sl_bench_median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, sl_bench_cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

#endif
