/* LUT16 (4-bit PQ) scan: packing round trips, and every level's scan and
 * thresholded scan against a naive triple loop over the unpacked codes
 * (not only against the C twin), including sums past 16 bits. */
#include "index/lut16.h"
#include "testlib.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rs = 0x5eed1;

static size_t gcd(size_t a, size_t b) { return b ? gcd(b, a % b) : a; }

/* Block counts: the brief's (50 = 100-d at 2 dims per block, 392 = 784-d),
 * every tail length of the 2- and 4-block loads and the 8-block unroll,
 * and both sides of the 256-block 16-bit runs (1025+ = 5 runs). */
static const size_t k_blocks[] = {0,  1,   2,   3,   4,   5,   6,   7,   8,   9,   16,   50,
                                  63, 255, 256, 257, 258, 392, 511, 512, 513, 1025, 1100};
static const size_t k_pack_blocks[] = {1, 2, 3, 16, 50, 257, 392, 513};

static uint8_t *random_codes(size_t n, size_t nb) {
    uint8_t *c = malloc(n * nb + 1);
    for (size_t i = 0; i < n * nb; i++) c[i] = (uint8_t)(sl_test_rand(&rs) & 15);
    return c;
}

static uint8_t *packed_of(const uint8_t *codes, size_t n, size_t nb) {
    size_t size = sl_lut16_packed_size(n, nb);
    /* exact size (+0 byte malloc guard) so ASan sees any read past the end */
    uint8_t *p = malloc(size ? size : 1);
    sl_lut16_pack(codes, n, nb, p);
    return p;
}

/* out[i] = sum_b lut[b][codes[i][b]], over the padded point count (padding
 * points have code 0). */
static uint32_t *naive(const uint8_t *codes, size_t n, size_t nb, const uint8_t *lut, size_t n_pad) {
    uint32_t *s = calloc(n_pad, sizeof *s);
    for (size_t i = 0; i < n_pad; i++)
        for (size_t b = 0; b < nb; b++) s[i] += lut[b * 16 + (i < n ? codes[i * nb + b] : 0)];
    return s;
}

enum { LUT_RANDOM, LUT_MAX, LUT_ZERO, LUT_SMALL };
static uint8_t *make_lut(size_t nb, int kind) {
    uint8_t *l = malloc(nb * 16 + 1);
    for (size_t i = 0; i < nb * 16; i++)
        l[i] = kind == LUT_MAX ? 255 : kind == LUT_ZERO ? 0 : kind == LUT_SMALL ? (uint8_t)(sl_test_rand(&rs) % 3)
                                                                                : (uint8_t)sl_test_rand(&rs);
    return l;
}

static size_t groups_of(size_t n) { return (n + SL_LUT16_GROUP - 1) / SL_LUT16_GROUP; }

static void test_pack(void) {
    const size_t ns[] = {1, 31, 32, 33, 95, 200};
    for (size_t ni = 0; ni < SL_ARRAY_LEN(ns); ni++) {
        for (size_t bi = 0; bi < SL_ARRAY_LEN(k_pack_blocks); bi++) {
            size_t n = ns[ni], nb = k_pack_blocks[bi], ng = groups_of(n), size = sl_lut16_packed_size(n, nb);
            CHECK_MSG(size == ng * nb * 16, "packed size of %zu x %zu: %zu", n, nb, size);
            uint8_t *codes = random_codes(n, nb), *codes2 = random_codes(n, nb);
            /* Pack over two different fillers: equal results mean every
             * byte is written. */
            uint8_t *a = malloc(size), *b = malloc(size);
            memset(a, 0xAA, size);
            memset(b, 0x55, size);
            sl_lut16_pack(codes, n, nb, a);
            sl_lut16_pack(codes, n, nb, b);
            CHECK_MSG(!memcmp(a, b, size), "pack leaves bytes unwritten (n %zu, blocks %zu)", n, nb);
            int get_ok = 1, pad_ok = 1;
            for (size_t i = 0; i < ng * 32; i++)
                for (size_t blk = 0; blk < nb; blk++) {
                    uint8_t got = sl_lut16_get(a, nb, i, blk);
                    if (i < n) get_ok &= got == codes[i * nb + blk];
                    else pad_ok &= got == 0;
                }
            CHECK_MSG(get_ok, "get after pack (n %zu, blocks %zu)", n, nb);
            CHECK_MSG(pad_ok, "padding not zero (n %zu, blocks %zu)", n, nb);
            /* set every code of a zeroed array in a scrambled order (a step
             * coprime with the count visits each once) */
            memset(b, 0, size);
            size_t total = n * nb, step = 7919;
            while (gcd(step, total) != 1) step++;
            for (size_t k = 0, j = 0; k < total; k++, j = (j + step) % total)
                sl_lut16_set(b, nb, j / nb, j % nb, codes[j]);
            CHECK_MSG(!memcmp(a, b, size), "set of every code != pack (n %zu, blocks %zu)", n, nb);
            /* overwrite every code of a packed array: equals a fresh pack */
            for (size_t i = 0; i < n; i++)
                for (size_t blk = 0; blk < nb; blk++) sl_lut16_set(b, nb, i, blk, codes2[i * nb + blk]);
            sl_lut16_pack(codes2, n, nb, a);
            CHECK_MSG(!memcmp(a, b, size), "set over codes != pack (n %zu, blocks %zu)", n, nb);
            /* set touches only its nibble */
            sl_lut16_set(b, nb, n - 1, nb - 1, 0xF7); /* high bits ignored */
            int others = 1;
            for (size_t i = 0; i < ng * 32; i++)
                for (size_t blk = 0; blk < nb; blk++) {
                    uint8_t want = i == n - 1 && blk == nb - 1 ? 7 : i < n ? codes2[i * nb + blk] : 0;
                    others &= sl_lut16_get(b, nb, i, blk) == want;
                }
            CHECK_MSG(others, "set changed other codes (n %zu, blocks %zu)", n, nb);
            free(a);
            free(b);
            free(codes);
            free(codes2);
        }
    }
    CHECK(sl_lut16_packed_size(0, 50) == 0);
    CHECK(sl_lut16_packed_size(SIZE_MAX, 50) == SIZE_MAX);
    CHECK(sl_lut16_packed_size(64, SIZE_MAX / 8) == SIZE_MAX);
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* How many threshold sets had several points exactly at the threshold
 * (so the "strictly greater" tests really test ties). */
static size_t g_ties;

/* Compares scan and scan_above at every level with the naive sums. */
static void check_levels(const uint8_t *codes, size_t n, size_t nb, const uint8_t *lut, const char *what) {
    size_t ng = groups_of(n), np = ng * 32;
    uint8_t *packed = packed_of(codes, n, nb);
    uint32_t *want = naive(codes, n, nb, lut, np);
    uint32_t *got = malloc((np + 1) * sizeof *got);
    uint32_t *cand = malloc((np + 1) * sizeof *cand), *csum = malloc((np + 1) * sizeof *csum);
    uint32_t max = 0, *sorted = malloc(np * sizeof *sorted);
    for (size_t i = 0; i < np; i++) max = SL_MAX(max, want[i]);
    memcpy(sorted, want, np * sizeof *sorted);
    qsort(sorted, np, sizeof *sorted, cmp_u32);
    /* thresholds: 0, around a random point's sum (ties: every point with that
     * sum must be left out), a random sum minus one, around the max, the
     * 16-bit edges, and none-can-pass */
    uint32_t th[13];
    size_t nth = 0;
    th[nth++] = 0;
    th[nth++] = sorted[np * 99 / 100]; /* what the search uses */
    uint32_t pick = want[sl_test_rand(&rs) % np];
    size_t same = 0;
    for (size_t i = 0; i < np; i++) same += want[i] == pick;
    g_ties += same > 1;
    th[nth++] = pick;
    th[nth++] = pick ? pick - 1 : 0;
    th[nth++] = want[sl_test_rand(&rs) % np];
    th[nth++] = max ? max - 1 : 0;
    th[nth++] = max;
    th[nth++] = max + 1;
    th[nth++] = 65279;
    th[nth++] = 65280;
    th[nth++] = 65535;
    th[nth++] = UINT32_MAX;
    for (int level = SL_CPU_SCALAR; level <= (int)sl_cpu(); level++) {
        const char *ln = sl_cpu_name((sl_cpu_level)level);
        got[np] = 0xDEADBEEF;
        memset(got, 0xA5, np * sizeof *got);
        sl_lut16_scan_level((sl_cpu_level)level, packed, ng, nb, lut, got);
        CHECK_MSG(!memcmp(got, want, np * sizeof *got), "%s: scan at %s, %zu points, %zu blocks", what, ln, n, nb);
        CHECK_MSG(got[np] == 0xDEADBEEF, "%s: scan at %s writes past the end", what, ln);
        for (size_t t = 0; t < nth; t++) {
            cand[np] = csum[np] = 0xDEADBEEF;
            size_t nc = sl_lut16_scan_above_level((sl_cpu_level)level, packed, ng, nb, lut, th[t], cand, csum);
            size_t k = 0;
            int ok = 1;
            for (size_t i = 0; i < np; i++) {
                if (want[i] <= th[t]) continue;
                ok &= k < nc && cand[k] == i && csum[k] == want[i];
                k++;
            }
            ok &= k == nc && cand[np] == 0xDEADBEEF && csum[np] == 0xDEADBEEF;
            CHECK_MSG(ok, "%s: scan_above %u at %s, %zu points, %zu blocks (%zu of %zu)", what, th[t], ln, n, nb,
                      nc, k);
        }
    }
    /* the dispatcher */
    sl_lut16_scan(packed, ng, nb, lut, got);
    CHECK(!memcmp(got, want, np * sizeof *got));
    CHECK(sl_lut16_scan_above(packed, ng, nb, lut, 0, cand, csum) ==
          sl_lut16_scan_above_ref(packed, ng, nb, lut, 0, cand, csum));
    free(sorted);
    free(packed);
    free(want);
    free(got);
    free(cand);
    free(csum);
}

static void test_scan(void) {
    for (size_t bi = 0; bi < SL_ARRAY_LEN(k_blocks); bi++) {
        size_t nb = k_blocks[bi], n = nb > 600 ? 70 : 333;
        uint8_t *codes = random_codes(n, nb);
        /* duplicate points, so thresholds at a point's sum hit ties */
        for (size_t i = 0; i + 40 < n; i += 37) memcpy(codes + (i + 3) * nb, codes + i * nb, nb);
        uint8_t *lut = make_lut(nb, LUT_RANDOM);
        check_levels(codes, n, nb, lut, "random");
        free(lut);
        lut = make_lut(nb, LUT_SMALL); /* few distinct sums: many ties */
        check_levels(codes, n, nb, lut, "small");
        free(lut);
        lut = make_lut(nb, LUT_MAX); /* every sum 255 * nb (130,815 at 513) */
        check_levels(codes, n, nb, lut, "all-255");
        free(lut);
        lut = make_lut(nb, LUT_ZERO);
        check_levels(codes, n, nb, lut, "all-zero");
        free(lut);
        free(codes);
    }
    CHECK_MSG(g_ties > 20, "only %zu threshold sets with ties", g_ties);
}

/* Single-point edits on a packed array (add, delete, move), then scans at
 * every level equal the naive sums of the edited codes and a fresh pack. */
static void test_edit(void) {
    const size_t nbs[] = {3, 50, 257};
    for (size_t bi = 0; bi < SL_ARRAY_LEN(nbs); bi++) {
        size_t nb = nbs[bi], n = 150, cap = 160; /* room for 10 more points */
        uint8_t *codes = calloc(cap * nb, 1), *lut = make_lut(nb, LUT_RANDOM);
        for (size_t i = 0; i < n * nb; i++) codes[i] = (uint8_t)(sl_test_rand(&rs) & 15);
        size_t size = sl_lut16_packed_size(cap, nb);
        uint8_t *packed = malloc(size);
        sl_lut16_pack(codes, cap, nb, packed);
        for (int e = 0; e < 40; e++) {
            size_t i = sl_test_rand(&rs) % cap, j = sl_test_rand(&rs) % cap;
            int kind = (int)(sl_test_rand(&rs) % 3);
            for (size_t b = 0; b < nb; b++) {
                uint8_t c = kind == 0 ? (uint8_t)(sl_test_rand(&rs) & 15) /* add / overwrite */
                            : kind == 1 ? 0                                 /* delete */
                                        : codes[j * nb + b];                /* move j to i */
                codes[i * nb + b] = c;
                sl_lut16_set(packed, nb, i, b, c);
            }
        }
        uint8_t *fresh = malloc(size);
        sl_lut16_pack(codes, cap, nb, fresh);
        CHECK_MSG(!memcmp(fresh, packed, size), "edited array != fresh pack (%zu blocks)", nb);
        uint32_t *want = naive(codes, cap, nb, lut, cap), got[160], got_fresh[160];
        for (int level = SL_CPU_SCALAR; level <= (int)sl_cpu(); level++) {
            sl_lut16_scan_level((sl_cpu_level)level, packed, cap / 32, nb, lut, got);
            sl_lut16_scan_level((sl_cpu_level)level, fresh, cap / 32, nb, lut, got_fresh);
            CHECK_MSG(!memcmp(got, want, sizeof got) && !memcmp(got_fresh, want, sizeof got),
                      "scan after edits at %s (%zu blocks)", sl_cpu_name((sl_cpu_level)level), nb);
        }
        free(want);
        free(fresh);
        free(packed);
        free(codes);
        free(lut);
    }
}

/* Every point at 255 except in one block whose table has one distinct
 * value per (point-specific) code: a mix-up of points, lanes or blocks
 * anywhere changes some sum, also in the top 16-bit run. */
static void test_scan_extremes(void) {
    const size_t nbs[] = {256, 257, 513, 1025};
    for (size_t bi = 0; bi < SL_ARRAY_LEN(nbs); bi++) {
        size_t nb = nbs[bi], n = 64;
        for (size_t special = 0; special < nb; special += nb / 3 + 1) {
            uint8_t *codes = malloc(n * nb), *lut = make_lut(nb, LUT_MAX);
            for (size_t i = 0; i < n; i++)
                for (size_t b = 0; b < nb; b++) codes[i * nb + b] = (uint8_t)((i + b) & 15);
            for (int c = 0; c < 16; c++) lut[special * 16 + c] = (uint8_t)(c * 17);
            check_levels(codes, n, nb, lut, "extreme");
            free(codes);
            free(lut);
        }
    }
}

/* Scanning from a later group reports indices relative to that start. */
static void test_offset(void) {
    size_t n = 32 * 9, nb = 50;
    uint8_t *codes = random_codes(n, nb), *lut = make_lut(nb, LUT_RANDOM);
    uint8_t *packed = packed_of(codes, n, nb);
    uint32_t *sums = naive(codes, n, nb, lut, n);
    uint32_t cand[320], csum[320];
    uint32_t th = sums[100];
    for (int level = SL_CPU_SCALAR; level <= (int)sl_cpu(); level++) {
        size_t nc = sl_lut16_scan_above_level((sl_cpu_level)level, packed + 4 * nb * 16, 5, nb, lut, th, cand, csum);
        size_t k = 0;
        int ok = 1;
        for (size_t i = 4 * 32; i < n; i++)
            if (sums[i] > th) {
                ok &= k < nc && cand[k] == i - 4 * 32 && csum[k] == sums[i];
                k++;
            }
        CHECK_MSG(ok && k == nc, "offset scan_above at %s", sl_cpu_name((sl_cpu_level)level));
    }
    free(codes);
    free(lut);
    free(packed);
    free(sums);
}

/* Query tables and their quantization: every level gives the twin's bits
 * (tables, uint8 values, scale; an equal offset), and the twin itself is
 * checked against the definitions (a double-precision table within
 * rounding; each uint8 value the rounded (v - lo) / scale). Shapes: short
 * last blocks, dpb 1..5, 392 blocks of 2 (784-d); values: random, integer
 * with ties, a constant table (span 0), huge (overflowing) ones. */
static float frand(void) { return (float)((double)(sl_test_rand(&rs) >> 11) / 9007199254740992.0 * 2.0 - 1.0); }

static void test_tables(void) {
    const size_t shapes[][2] = {{784, 2}, {100, 2}, {10, 4}, {7, 3}, {1, 1}, {33, 5}, {64, 16}};
    for (size_t si = 0; si < SL_ARRAY_LEN(shapes); si++) {
        const size_t dim = shapes[si][0], dpb = shapes[si][1], nb = dim / dpb + (dim % dpb != 0);
        float *q = malloc(dim * sizeof *q), *cbt = malloc(nb * dpb * 16 * sizeof *cbt);
        float *ref = malloc(nb * 16 * sizeof *ref), *got = malloc(nb * 16 * sizeof *got);
        for (size_t j = 0; j < dim; j++) q[j] = 100.0f * frand();
        for (size_t j = 0; j < nb * dpb * 16; j++) cbt[j] = frand();
        for (int mi = 0; mi < 2; mi++) {
            const float mult = mi ? 2.0f : 1.0f;
            sl_lut16_tables_ref(q, dim, dpb, cbt, mult, ref);
            int ok = 1;
            for (size_t b = 0; b < nb; b++)
                for (size_t j = 0; j < 16; j++) {
                    double e = 0;
                    for (size_t t = 0; t < dpb && b * dpb + t < dim; t++)
                        e += (double)mult * q[b * dpb + t] * cbt[(b * dpb + t) * 16 + j];
                    ok &= fabs(ref[b * 16 + j] - e) <= 1e-4 * (1 + fabs(e));
                }
            CHECK_MSG(ok, "tables twin, dim %zu dpb %zu", dim, dpb);
            for (int level = SL_CPU_SCALAR + 1; level <= (int)sl_cpu(); level++) {
                sl_lut16_tables_level((sl_cpu_level)level, q, dim, dpb, cbt, mult, got);
                CHECK_MSG(!memcmp(ref, got, nb * 16 * sizeof *ref), "tables %s dim %zu dpb %zu mult %g",
                          sl_cpu_name((sl_cpu_level)level), dim, dpb, mult);
            }
        }
        free(q);
        free(cbt);
        free(ref);
        free(got);
    }
    const size_t nbs[] = {1, 2, 3, 50, 392};
    for (size_t ni = 0; ni < SL_ARRAY_LEN(nbs); ni++) {
        for (int kind = 0; kind < 4; kind++) {
            const size_t nb = nbs[ni];
            float *lut = malloc(nb * 16 * sizeof *lut), *lo = malloc(nb * sizeof *lo), *lo2 = malloc(nb * sizeof *lo2);
            uint8_t *r8 = malloc(nb * 16), *g8 = malloc(nb * 16);
            for (size_t i = 0; i < nb * 16; i++)
                lut[i] = kind == 0   ? 1000.0f * frand()
                         : kind == 1 ? (float)(int)(8.0f * frand())
                         : kind == 2 ? 3.5f
                                     : 3e38f * frand();
            float rs_, gs;
            const float ro = sl_lut16_quantize_ref(lut, nb, r8, &rs_, lo);
            if (kind < 3) {
                int ok = 1;
                double off = 0;
                for (size_t b = 0; b < nb; b++) {
                    float l = lut[b * 16];
                    for (int j = 1; j < 16; j++) l = lut[b * 16 + j] < l ? lut[b * 16 + j] : l;
                    ok &= lo[b] == l;
                    off += l;
                    for (int j = 0; j < 16; j++) {
                        double want = floor(((double)lut[b * 16 + j] - l) / rs_ + 0.5);
                        ok &= fabs((double)r8[b * 16 + j] - (want > 255 ? 255 : want)) <= 1;
                    }
                }
                ok &= fabs(off - ro) <= 1e-3 * (1 + fabs(off));
                CHECK_MSG(ok && rs_ > 0, "quantize twin: nb %zu kind %d", nb, kind);
            }
            for (int level = SL_CPU_SCALAR + 1; level <= (int)sl_cpu(); level++) {
                memset(g8, 0xaa, nb * 16);
                const float go = sl_lut16_quantize_level((sl_cpu_level)level, lut, nb, g8, &gs, lo2);
                CHECK_MSG(!memcmp(r8, g8, nb * 16) && !memcmp(&gs, &rs_, sizeof gs) && (go == ro || (go != go && ro != ro)),
                          "quantize %s: nb %zu kind %d", sl_cpu_name((sl_cpu_level)level), nb, kind);
            }
            free(lut);
            free(lo);
            free(lo2);
            free(r8);
            free(g8);
        }
    }
}

int main(void) {
    test_pack();
    test_scan();
    test_scan_extremes();
    test_offset();
    test_edit();
    test_tables();
    return sl_test_summary();
}
