/* Speed of one training epoch of the dual encoder (src/train/): forward,
 * loss, backward and AdamW over synthetic pairs with the shapes of the lite
 * model's heads (image 2280 -> 1024 -> 128, text 1100 -> 1024 -> 128: the
 * defaults of searchlite train), batches of 128, at each thread count.
 *
 *   bench_train [--pairs N] [--pool N] [--threads T]... [--dropout P]
 *               [--batch B] [--hidden H] [--dim D]
 *
 * Defaults: 100,000 pairs (781 full batches), threads 1 and 2, dropout 0.3.
 * The features are random rows of a pool (default 8192 pairs; the epoch's
 * batches gather from it in a shuffled order as a trainer gathers from its
 * feature cache), which keeps memory at ~110 MB instead of 1.3 GB without
 * changing the arithmetic. Reported: seconds per epoch, ms per step, the
 * GFLOP/s of the GEMMs (2 * batch * (every weight once forward, once for
 * dW, the second layers once more for dx)), and the first and last loss. */
#include "bench_util.h"
#include "core/core.h"
#include "train/dual.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_LIST = 8, IMG_IN = 2280, TXT_IN = 1100 };
/* searchlite train's defaults (sl_train_opts_init); flags change them */
static int BATCH = 128, HIDDEN = 1024, OUT = 128;

static float unit(void) { return (float)(sl_bench_rand() >> 40) / 16777216.0f; }

int main(int argc, char **argv) {
    size_t pairs = 100000, pool = 8192;
    int threads[MAX_LIST], n_threads = 0;
    float dropout = 0.3f;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--pairs") && i + 1 < argc) pairs = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--pool") && i + 1 < argc) pool = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc && n_threads < MAX_LIST)
            threads[n_threads++] = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--dropout") && i + 1 < argc) dropout = strtof(argv[++i], NULL);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc) BATCH = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--hidden") && i + 1 < argc) HIDDEN = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--dim") && i + 1 < argc) OUT = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--pairs N] [--pool N] [--threads T]... [--dropout P] [--batch B] [--hidden H] [--dim D]\n", argv[0]);
            return 2;
        }
    }
    if (n_threads == 0) {
        threads[0] = 1;
        threads[1] = 2;
        n_threads = 2;
    }
    if (BATCH < 2 || HIDDEN < 1 || OUT < 1 || pairs < (size_t)BATCH || pool < (size_t)BATCH) {
        fprintf(stderr, "bench_train: need at least %d pairs and pool rows\n", BATCH);
        return 2;
    }
    /* Features shaped like the real ones: a dense embedding block and a
     * probability block (non-negative, small), then a per-row scale. */
    float *img = malloc(pool * IMG_IN * sizeof *img), *txt = malloc(pool * TXT_IN * sizeof *txt);
    float *bi = malloc((size_t)BATCH * IMG_IN * sizeof *bi), *bt = malloc((size_t)BATCH * TXT_IN * sizeof *bt);
    size_t *order = malloc(pairs * sizeof *order);
    if (!img || !txt || !bi || !bt || !order) {
        fprintf(stderr, "bench_train: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < pool * IMG_IN; i++) img[i] = (i % IMG_IN) < 1280 ? unit() * 2.0f - 1.0f : unit() * 0.002f;
    for (size_t i = 0; i < pool * TXT_IN; i++) txt[i] = (i % TXT_IN) < 100 ? unit() * 2.0f - 1.0f : unit() * 0.002f;
    for (size_t i = 0; i < pairs; i++) order[i] = sl_bench_rand() % pool;

    size_t steps = pairs / BATCH;
    double weights = (double)IMG_IN * HIDDEN + (double)HIDDEN * OUT + (double)TXT_IN * HIDDEN + (double)HIDDEN * OUT;
    double flop_step = 2.0 * BATCH * (2.0 * weights + 2.0 * HIDDEN * OUT) + 3.0 * 2.0 * BATCH * BATCH * OUT;
    printf("bench_train: %zu pairs (%zu steps of %d), image %d->%d->%d, text %d->%d->%d, dropout %.2f, CPU %s\n",
           pairs, steps, BATCH, IMG_IN, HIDDEN, OUT, TXT_IN, HIDDEN, OUT, (double)dropout, sl_cpu_name(sl_cpu()));
    printf("%-8s %10s %10s %10s %10s %10s\n", "threads", "s/epoch", "ms/step", "GFLOP/s", "loss0", "loss_end");
    for (int t = 0; t < n_threads; t++) {
        sl_dual_opts o;
        sl_dual_opts_init(&o);
        size_t di[] = {IMG_IN, HIDDEN, OUT}, dt[] = {TXT_IN, HIDDEN, OUT};
        memcpy(o.image_dims, di, sizeof di);
        memcpy(o.text_dims, dt, sizeof dt);
        o.image_n_dims = o.text_n_dims = 3;
        o.max_batch = BATCH;
        o.dropout = dropout;
        o.threads = threads[t];
        o.seed = 1;
        sl_dual *d;
        if (sl_dual_new(&o, &d) != SL_OK) {
            fprintf(stderr, "bench_train: %s\n", sl_last_error());
            return 1;
        }
        float first = NAN, last = NAN;
        double t0 = sl_now();
        for (size_t s = 0; s < steps; s++) {
            for (size_t r = 0; r < (size_t)BATCH; r++) {
                size_t k = order[s * BATCH + r];
                memcpy(bi + r * IMG_IN, img + k * IMG_IN, IMG_IN * sizeof *bi);
                memcpy(bt + r * TXT_IN, txt + k * TXT_IN, TXT_IN * sizeof *bt);
            }
            sl_dual_stats st;
            if (sl_dual_step(d, bi, bt, NULL, BATCH, 1e-3f, &st) != SL_OK) {
                fprintf(stderr, "bench_train: %s\n", sl_last_error());
                return 1;
            }
            if (s == 0) first = st.loss;
            last = st.loss;
        }
        double secs = sl_now() - t0;
        printf("%-8d %10.2f %10.2f %10.1f %10.3f %10.3f\n", threads[t], secs, 1e3 * secs / (double)steps,
               flop_step * (double)steps / secs / 1e9, (double)first, (double)last);
        sl_dual_free(d);
    }
    free(img);
    free(txt);
    free(bi);
    free(bt);
    free(order);
    return 0;
}
