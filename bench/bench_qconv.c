/* Speed of the quantized convolution kernels on the 53 convolutions of
 * MobileNetV2 1.0 224 (the shapes of mobilenet_v2_1.0_224_quant.tflite),
 * random weights and activations, at every CPU level and thread count.
 *
 *   bench_qconv [--summary] [--layers] [--int8] [--runs N]
 *               [--level scalar|avx2|avx512|avx512vnni] [--threads N]...
 *
 * One "run" executes all layers in order, each reading the output of the
 * one before when the sizes match, and times each; reported are the
 * median over the runs of every layer's time and of the total, the
 * multiply-accumulates per second, and the fastest run (min_ms: on a
 * shared machine the least disturbed by other processes). --int8 uses
 * int8 activations and per-channel int8 filters (TF2 post-training
 * quantization) instead of the legacy uint8 scheme. --summary measures
 * only the level sl_cpu() picks (scripts/bench.sh); otherwise every level
 * up to it. Machines are shared and noisy; compare within a run. */
#include "core/core.h"
#include "bench_util.h"
#include "mobilenet_v2_shapes.h"
#include "nn/qconv.h"
#include "nn/quant.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_LAYERS = 64, MAX_RUNS = 1000 };

/* the high half of the shared generator's draw */
static uint32_t rnd(void) { return (uint32_t)(sl_bench_rand() >> 32); }

typedef struct layer {
    sl_qconv_desc d;
    uint8_t *in, *out, *filter;
    int32_t *bias, *mult, *shift;
    double macs;
    int owns_in;
} layer;

/* prev: the layer before, whose output becomes this layer's input when the
 * sizes match (the residual adds and the pooling are not convolutions), so
 * every layer reads activations that were just written, as in inference. */
static void make_layer(layer *L, const sl_qconv_desc *shape, int int8, const layer *prev) {
    L->d = *shape;
    sl_qconv_desc *d = &L->d;
    if (int8) {
        d->act_type = d->filter_type = SL_QTYPE_S8;
        d->in_zp = -128;
        d->out_zp = -128;
        d->act_min = -128;
        d->act_max = 127;
    } else {
        d->act_type = d->filter_type = SL_QTYPE_U8;
        d->in_zp = 0;
        d->filter_zp = 100 + (int)(rnd() % 60);
        d->out_zp = 0;
        d->act_min = 0;
        d->act_max = 255;
    }
    size_t taps = (size_t)d->k_h * d->k_w;
    size_t n_in = (size_t)d->in_h * d->in_w * d->in_c;
    size_t n_out = (size_t)d->out_h * d->out_w * d->out_c;
    size_t n_f = d->depthwise ? taps * d->out_c : taps * d->in_c * d->out_c;
    L->macs = (double)n_out * (double)taps * (d->depthwise ? 1.0 : (double)d->in_c);
    const int chained = prev && (size_t)prev->d.out_h * prev->d.out_w * prev->d.out_c == n_in;
    L->in = chained ? prev->out : malloc(n_in);
    L->owns_in = !chained;
    L->out = malloc(n_out);
    L->filter = malloc(n_f);
    L->bias = malloc((size_t)d->out_c * 4);
    L->mult = malloc((size_t)d->out_c * 4);
    L->shift = malloc((size_t)d->out_c * 4);
    if (!L->in || !L->out || !L->filter || !L->bias || !L->mult || !L->shift) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    if (!chained)
        for (size_t i = 0; i < n_in; i++) L->in[i] = (uint8_t)rnd();
    for (size_t i = 0; i < n_f; i++) L->filter[i] = (uint8_t)rnd();
    double k = d->depthwise ? (double)taps : (double)taps * d->in_c;
    for (int n = 0; n < d->out_c; n++) {
        L->bias[n] = (int32_t)(rnd() % 20001) - 10000;
        double m = 40.0 / (sqrt(k) * 74.0 * 74.0) * (int8 ? 0.5 + (rnd() % 100) / 100.0 : 1.0);
        int s;
        sl_quantize_multiplier(m, &L->mult[n], &s);
        L->shift[n] = s;
    }
}

static void usage(void) {
    fprintf(stderr, "usage: bench_qconv [--summary] [--layers] [--int8] [--runs N] "
                    "[--level NAME] [--threads N]...\n");
    exit(2);
}

int main(int argc, char **argv) {
    int summary = 0, show_layers = 0, int8 = 0, runs = 20, want_level = -1;
    int threads[8], n_threads = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--summary")) summary = 1;
        else if (!strcmp(argv[i], "--layers")) show_layers = 1;
        else if (!strcmp(argv[i], "--int8")) int8 = 1;
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc && n_threads < 8)
            threads[n_threads++] = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--level") && i + 1 < argc) {
            const char *name = argv[++i];
            for (int l = SL_CPU_SCALAR; l <= SL_CPU_AVX512VNNI; l++)
                if (!strcmp(name, sl_cpu_name((sl_cpu_level)l))) want_level = l;
            if (want_level < 0) usage();
        } else usage();
    }
    if (runs < 1 || runs > MAX_RUNS) usage();
    if (summary && want_level < 0) want_level = (int)sl_cpu(); /* the level that would run */
    if (!n_threads) {
        threads[n_threads++] = 1;
        threads[n_threads++] = 2;
    }
    sl_qconv_desc shapes[MAX_LAYERS];
    const int n = sl_mobilenet_v2_convs(shapes);
    layer *L = calloc((size_t)n, sizeof *L);
    double total_macs = 0;
    for (int i = 0; i < n; i++) {
        make_layer(&L[i], &shapes[i], int8, i ? &L[i - 1] : NULL);
        total_macs += L[i].macs;
    }
    printf("MobileNetV2 1.0 224 convolutions: %d layers, %.1f M MACs, %s, median of %d runs\n", n,
           total_macs / 1e6, int8 ? "int8 per-channel" : "uint8 per-tensor", runs);

    double *t_layer = malloc(sizeof(double) * (size_t)n * (size_t)runs);
    double *tmp = malloc(sizeof(double) * (size_t)runs);
    double *t_total = malloc(sizeof(double) * (size_t)runs);
    sl_qconv **c = calloc((size_t)n, sizeof *c);
    for (int level = SL_CPU_SCALAR; level <= (int)sl_cpu(); level++) {
        if (want_level >= 0 && level != want_level) continue;
        size_t scratch_max = 0;
        for (int i = 0; i < n; i++) {
            sl_qconv_weights w = {L[i].filter, L[i].bias, L[i].mult, L[i].shift};
            if (sl_qconv_prepare_level(&L[i].d, &w, (sl_cpu_level)level, &c[i])) {
                fprintf(stderr, "prepare: %s\n", sl_last_error());
                return 1;
            }
            size_t s = sl_qconv_scratch_size(c[i]);
            if (s > scratch_max) scratch_max = s;
        }
        const size_t stride = (scratch_max + 63) / 64 * 64;
        for (int ti = 0; ti < n_threads; ti++) {
            sl_pool *pool = NULL;
            if (sl_pool_new(threads[ti], &pool)) return 1;
            const int nt = sl_pool_threads(pool);
            uint8_t *scratch = sl_malloc_aligned(stride * (size_t)nt);
            for (int r = -3; r < runs; r++) { /* 3 warm-up runs */
                double total = 0;
                for (int i = 0; i < n; i++) {
                    double t0 = sl_now();
                    sl_qconv_run(c[i], L[i].in, L[i].out, pool, scratch, stride);
                    double dt = sl_now() - t0;
                    total += dt;
                    if (r >= 0) t_layer[(size_t)i * runs + r] = dt;
                }
                if (r >= 0) t_total[r] = total;
            }
            if (show_layers) {
                printf("%-4s %-28s %-12s %9s %9s %8s\n", "#", "layer", "kernel", "MMACs", "ms",
                       "GMAC/s");
                for (int i = 0; i < n; i++) {
                    const sl_qconv_desc *d = &L[i].d;
                    memcpy(tmp, t_layer + (size_t)i * runs, sizeof(double) * (size_t)runs);
                    double ms = sl_bench_median(tmp, runs) * 1e3;
                    char desc[64];
                    snprintf(desc, sizeof desc, "%s%dx%d/%d %dx%dx%d>%d",
                             d->depthwise ? "dw" : "conv", d->k_h, d->k_w, d->stride_h, d->in_h,
                             d->in_w, d->in_c, d->out_c);
                    printf("%-4d %-28s %-12s %9.2f %9.3f %8.1f\n", i, desc,
                           sl_qconv_kernel_name(c[i]), L[i].macs / 1e6, ms,
                           L[i].macs / (ms * 1e-3) / 1e9);
                }
            }
            double conv_ms = 0, dw_ms = 0, conv_macs = 0, dw_macs = 0;
            for (int i = 0; i < n; i++) {
                memcpy(tmp, t_layer + (size_t)i * runs, sizeof(double) * (size_t)runs);
                double ms = sl_bench_median(tmp, runs) * 1e3;
                if (L[i].d.depthwise) {
                    dw_ms += ms;
                    dw_macs += L[i].macs;
                } else {
                    conv_ms += ms;
                    conv_macs += L[i].macs;
                }
            }
            double tot = sl_bench_median(t_total, runs) * 1e3, best = t_total[0] * 1e3; /* sorted */
            printf("level=%s threads=%d total_ms=%.3f gmacs=%.1f conv_ms=%.3f (%.1f GMAC/s) "
                   "dw_ms=%.3f (%.1f GMAC/s) min_ms=%.3f\n",
                   sl_cpu_name((sl_cpu_level)level), nt, tot, total_macs / (tot * 1e-3) / 1e9,
                   conv_ms, conv_macs / (conv_ms * 1e-3) / 1e9, dw_ms,
                   dw_macs / (dw_ms * 1e-3) / 1e9, best);
            fflush(stdout);
            sl_free_aligned(scratch);
            sl_pool_free(pool);
        }
        for (int i = 0; i < n; i++) {
            sl_qconv_free(c[i]);
            c[i] = NULL;
        }
    }
    for (int i = 0; i < n; i++) {
        if (L[i].owns_in) free(L[i].in);
        free(L[i].out);
        free(L[i].filter);
        free(L[i].bias);
        free(L[i].mult);
        free(L[i].shift);
    }
    free(L);
    free(c);
    free(t_layer);
    free(tmp);
    free(t_total);
    return 0;
}
