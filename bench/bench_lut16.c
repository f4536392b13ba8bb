/* Speed of the LUT16 (4-bit PQ) scan at every CPU level: n points of
 * n_blocks random codes against a random LUT, sl_lut16_scan (every sum
 * written out) and sl_lut16_scan_above with the threshold at the 99th
 * percentile of the sums (what a top-k search does once its heap is full).
 *
 *   bench_lut16 [--runs N] [--n N]... [--blocks B]... [--level L]
 *
 * Defaults: n = 100,000 and 1,000,000, blocks = 50 and 392, every level up
 * to sl_cpu() (or only --level). Reported per configuration: the median
 * over the runs of ns per point, millions of points per second and GB/s of
 * packed codes read (n * blocks / 2 bytes), plus the fastest run (min_ns:
 * on a shared machine the least disturbed). One thread. */
#include "bench_util.h"
#include "core/core.h"
#include "index/lut16.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_RUNS = 1000, MAX_LIST = 8 };


static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static void report(const char *level, const char *op, size_t n, size_t nb, double *t, int runs, size_t nc) {
    double best = t[0];
    for (int r = 1; r < runs; r++) best = SL_MIN(best, t[r]);
    double med = sl_bench_median(t, runs);
    double bytes = (double)n * (double)nb / 2;
    printf("%-10s %-10s n=%-8zu blocks=%-4zu %8.3f ns/pt %8.1f Mpt/s %6.1f GB/s  min_ns=%.3f", level, op, n, nb,
           med / (double)n * 1e9, (double)n / med / 1e6, bytes / med / 1e9, best / (double)n * 1e9);
    if (nc != (size_t)-1) printf("  candidates=%zu", nc);
    printf("\n");
}

static void bench(size_t n, size_t nb, int runs, int only_level) {
    size_t ng = (n + SL_LUT16_GROUP - 1) / SL_LUT16_GROUP, np = ng * SL_LUT16_GROUP;
    size_t size = sl_lut16_packed_size(n, nb);
    uint8_t *packed = sl_malloc_aligned(size), *lut = sl_malloc_aligned(nb * 16);
    uint32_t *out = sl_malloc_aligned(np * 4), *cand = sl_malloc_aligned(np * 4), *csum = sl_malloc_aligned(np * 4);
    uint32_t *sorted = malloc(np * 4);
    if (!packed || !lut || !out || !cand || !csum || !sorted) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    /* Random bytes are random codes (n is a multiple of 32 here, so there
     * is no padding to keep zero); no (n, nb) code matrix needed. */
    for (size_t i = 0; i < size; i += 8) {
        uint64_t r = sl_bench_rand();
        memcpy(packed + i, &r, SL_MIN((size_t)8, size - i));
    }
    for (size_t i = 0; i < nb * 16; i++) lut[i] = (uint8_t)(sl_bench_rand() >> 56);
    sl_lut16_scan(packed, ng, nb, lut, sorted);
    qsort(sorted, np, 4, cmp_u32);
    uint32_t threshold = sorted[np * 99 / 100];
    double t[MAX_RUNS];
    for (int level = SL_CPU_SCALAR; level <= (int)sl_cpu(); level++) {
        if (only_level >= 0 && level != only_level) continue;
        if (level == SL_CPU_AVX512VNNI && only_level < 0) continue; /* same kernel as avx512 */
        const char *name = sl_cpu_name((sl_cpu_level)level);
        int r_level = level == SL_CPU_SCALAR ? SL_MAX(1, runs / 3) : runs;
        for (int r = -1; r < r_level; r++) { /* r = -1: warm-up */
            double t0 = sl_now();
            sl_lut16_scan_level((sl_cpu_level)level, packed, ng, nb, lut, out);
            if (r >= 0) t[r] = sl_now() - t0;
        }
        report(name, "scan", n, nb, t, r_level, (size_t)-1);
        size_t nc = 0;
        for (int r = -1; r < r_level; r++) {
            double t0 = sl_now();
            nc = sl_lut16_scan_above_level((sl_cpu_level)level, packed, ng, nb, lut, threshold, cand, csum);
            if (r >= 0) t[r] = sl_now() - t0;
        }
        report(name, "scan_above", n, nb, t, r_level, nc);
    }
    sl_free_aligned(packed);
    sl_free_aligned(lut);
    sl_free_aligned(out);
    sl_free_aligned(cand);
    sl_free_aligned(csum);
    free(sorted);
}

static int parse_level(const char *s) {
    for (int l = SL_CPU_SCALAR; l <= SL_CPU_AVX512VNNI; l++)
        if (!strcmp(s, sl_cpu_name((sl_cpu_level)l))) return l;
    fprintf(stderr, "unknown level %s\n", s);
    exit(2);
}

int main(int argc, char **argv) {
    size_t ns[MAX_LIST] = {100000, 1000000}, nbs[MAX_LIST] = {50, 392};
    int n_ns = 2, n_nbs = 2, user_ns = 0, user_nbs = 0, runs = 9, level = -1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--n") && i + 1 < argc && user_ns < MAX_LIST) {
            ns[user_ns++] = (size_t)strtoull(argv[++i], NULL, 10) / SL_LUT16_GROUP * SL_LUT16_GROUP;
            n_ns = user_ns;
        } else if (!strcmp(argv[i], "--blocks") && i + 1 < argc && user_nbs < MAX_LIST) {
            nbs[user_nbs++] = (size_t)strtoull(argv[++i], NULL, 10);
            n_nbs = user_nbs;
        } else if (!strcmp(argv[i], "--level") && i + 1 < argc) level = parse_level(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--runs N] [--n N]... [--blocks B]... [--level L]\n", argv[0]);
            return 2;
        }
    }
    runs = SL_MAX(1, SL_MIN(runs, MAX_RUNS));
    printf("cpu %s, %d runs (scalar %d), 1 thread\n", sl_cpu_name(sl_cpu()), runs, SL_MAX(1, runs / 3));
    for (int a = 0; a < n_ns; a++)
        for (int b = 0; b < n_nbs; b++) bench(ns[a], nbs[b], runs, level);
    return 0;
}
