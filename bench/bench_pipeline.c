/* End-to-end image embedding latency: decode (JPEG with DCT scaling) +
 * preprocess (resize to the model input) + TFLite model, per image, on one
 * and on two threads. A benchmark, not a test: scripts/bench.sh runs it next
 * to the ONNX Runtime / PyTorch anchors and reports ratios.
 *
 *   bench_pipeline MODEL IMAGE [--runs N] [--threads T]...
 *
 * Prints one line per configuration:
 *   threads=T decode_ms=.. resize_ms=.. model_ms=.. total_ms=.. (medians of N runs)
 */
#include "bench_util.h"
#include "searchlite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int run_config(const char *model_path, const char *image_path, int threads,
                      int runs, int reference) {
    sl_tflite_opts o;
    sl_tflite_opts_init(&o);
    o.n_threads = threads;
    o.reference_kernels = reference;
    sl_tflite *m;
    if (sl_tflite_open(model_path, &o, &m) != SL_OK) {
        fprintf(stderr, "bench_pipeline: %s\n", sl_last_error());
        return 1;
    }
    uint32_t h, w, c;
    sl_tflite_input_size(m, &h, &w, &c);
    sl_decode_opts d;
    sl_decode_opts_init(&d);
    d.min_width = w;
    d.min_height = h;
    double *td = calloc((size_t)runs, sizeof(double)), *tr = calloc((size_t)runs, sizeof(double));
    double *tm = calloc((size_t)runs, sizeof(double)), *tt = calloc((size_t)runs, sizeof(double));
    int warmup = 3;
    for (int i = -warmup; i < runs; i++) {
        sl_image img, small;
        double t0 = now_ms();
        if (sl_image_load(image_path, &d, &img) != SL_OK) {
            fprintf(stderr, "bench_pipeline: %s\n", sl_last_error());
            return 1;
        }
        double t1 = now_ms();
        if (sl_image_resize(&img, w, h, &small) != SL_OK) {
            fprintf(stderr, "bench_pipeline: %s\n", sl_last_error());
            return 1;
        }
        double t2 = now_ms();
        if (sl_tflite_run_rgb(m, small.pixels) != SL_OK) {
            fprintf(stderr, "bench_pipeline: %s\n", sl_last_error());
            return 1;
        }
        double t3 = now_ms();
        sl_image_free(&img);
        sl_image_free(&small);
        if (i >= 0) {
            td[i] = t1 - t0;
            tr[i] = t2 - t1;
            tm[i] = t3 - t2;
            tt[i] = t3 - t0;
        }
    }
    printf("threads=%d kernels=%s decode_ms=%.3f resize_ms=%.3f model_ms=%.3f total_ms=%.3f runs=%d\n",
           threads, reference ? "reference" : "fast", sl_bench_median(td, runs), sl_bench_median(tr, runs),
           sl_bench_median(tm, runs), sl_bench_median(tt, runs), runs);
    free(td);
    free(tr);
    free(tm);
    free(tt);
    sl_tflite_free(m);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3 || !strcmp(argv[1], "--help")) {
        fprintf(stderr, "usage: bench_pipeline MODEL IMAGE [--runs N] [--threads T]... [--reference]\n");
        return 2;
    }
    int runs = 30, nthreads = 0, threads[8], reference = 0;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc && nthreads < 8) threads[nthreads++] = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reference")) reference = 1;
        else {
            fprintf(stderr, "bench_pipeline: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    if (runs < 1) runs = 1;
    if (!nthreads) {
        threads[0] = 1;
        threads[1] = 2;
        nthreads = 2;
    }
    for (int i = 0; i < nthreads; i++)
        if (run_config(argv[1], argv[2], threads[i], runs, reference)) return 1;
    return 0;
}
