/* Small helpers shared by the benchmark programs. */
#ifndef SL_BENCH_UTIL_H
#define SL_BENCH_UTIL_H

#include <stdint.h>
#include <stdlib.h>

/* The benchmarks' synthetic data: xorshift64* from a fixed start, so every
 * run of a program draws the same sequence (one state per program). */
static uint64_t sl_bench_rng_state = 0x9e3779b97f4a7c15ull;
static inline uint64_t sl_bench_rand(void) {
    sl_bench_rng_state ^= sl_bench_rng_state >> 12;
    sl_bench_rng_state ^= sl_bench_rng_state << 25;
    sl_bench_rng_state ^= sl_bench_rng_state >> 27;
    return sl_bench_rng_state * 0x2545F4914F6CDD1Dull;
}
/* Uniform in [0, 1) with 53 random bits. */
static inline double sl_bench_unit(void) { return (double)(sl_bench_rand() >> 11) * (1.0 / 9007199254740992.0); }

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
