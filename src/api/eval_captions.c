/* `searchlite eval`: embed every image and caption of a COCO captions file
 * with a model and measure retrieval both ways (src/searcher/eval.h).
 *
 * Images are embedded on plain worker threads while the calling thread
 * reports progress, so the callback always runs on the caller's thread,
 * one call at a time, and can cancel. Each image has its own output row,
 * so the thread count changes the timing only, never the figures. */
#include "core/core.h"
#include "searcher/captions.h"
#include "searcher/eval.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVAL_MAX_THREADS 256
#define EVAL_MSG_CAP 512

void sl_eval_opts_init(sl_eval_opts *opts) {
    if (!opts) return;
    memset(opts, 0, sizeof *opts);
    opts->n_threads = 2;
}

/* ---- images ------------------------------------------------------------------ */

typedef struct image_job {
    const sl_model *model;
    const sl_captions *caps;
    const char *dir;
    float *img; /* (n_images, dim) */
    size_t dim;
    pthread_mutex_t mu;
    pthread_cond_t progressed;
    /* under mu */
    size_t next;      /* next image to hand out; handed out in index order */
    size_t done;      /* images finished, failed ones included */
    size_t running;   /* workers not yet exited */
    int stop;         /* cancelled */
    size_t fail_idx;  /* lowest failed image, SIZE_MAX: none */
    sl_status fail_st;
    char fail_msg[EVAL_MSG_CAP];
} image_job;

/* images_dir + "/" + file_name, malloc'd. */
static char *image_path(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name), n;
    if (sl_add_overflow(a, b, &n) || sl_add_overflow(n, 2, &n)) return NULL;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static void *image_worker(void *arg) {
    image_job *j = arg;
    pthread_mutex_lock(&j->mu);
    for (;;) {
        /* Indices go out in order, so once image f failed every image
         * before it is already taken: stopping there still finds the
         * lowest failing image, whatever the thread count. */
        if (j->stop || j->next >= j->caps->n_images || j->next > j->fail_idx) break;
        size_t i = j->next++;
        pthread_mutex_unlock(&j->mu);

        const char *name = j->caps->images[i].file_name;
        char *path = image_path(j->dir, name);
        sl_status st = path ? sl_model_embed_file(j->model, path, j->img + i * j->dim, NULL, NULL)
                            : sl_fail(SL_ERR_NOMEM, "eval: out of memory");
        char msg[EVAL_MSG_CAP] = "";
        if (st) {
            /* The message is thread-local: carry it to the caller. Loader
             * messages name the path already; make sure of it. */
            if (!strstr(sl_last_error(), name)) sl_fail_prefix(st, path ? path : name);
            snprintf(msg, sizeof msg, "%s", sl_last_error());
        }
        free(path);

        pthread_mutex_lock(&j->mu);
        if (st && i < j->fail_idx) {
            j->fail_idx = i;
            j->fail_st = st;
            memcpy(j->fail_msg, msg, sizeof msg);
        }
        j->done++;
        pthread_cond_broadcast(&j->progressed);
    }
    j->running--;
    pthread_cond_broadcast(&j->progressed);
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

static sl_status embed_images(image_job *j, int n_threads, const sl_eval_opts *opts) {
    size_t total = j->caps->n_images;
    pthread_t tids[EVAL_MAX_THREADS];
    int started = 0;
    pthread_mutex_lock(&j->mu);
    for (; started < n_threads; started++) {
        if (pthread_create(&tids[started], NULL, image_worker, j) != 0) break;
        j->running++;
    }
    if (started == 0) {
        pthread_mutex_unlock(&j->mu);
        return sl_fail(SL_ERR_NOMEM, "eval: cannot start a thread");
    }
    /* Report every count from 1 to total once, in order, on this thread. */
    size_t reported = 0;
    for (;;) {
        while (reported < j->done && !j->stop) {
            size_t now = ++reported;
            if (!opts->progress) continue;
            pthread_mutex_unlock(&j->mu);
            int cancel = opts->progress(opts->progress_user, now, total);
            pthread_mutex_lock(&j->mu);
            if (cancel) j->stop = 1;
        }
        if (j->running == 0) break;
        pthread_cond_wait(&j->progressed, &j->mu);
    }
    pthread_mutex_unlock(&j->mu);
    for (int t = 0; t < started; t++) pthread_join(tids[t], NULL);

    if (j->fail_idx != SIZE_MAX) return sl_fail(j->fail_st, "%s", j->fail_msg);
    if (j->stop) return sl_fail(SL_ERR_STATE, "cancelled");
    return SL_OK;
}

/* ---- captions ------------------------------------------------------------------ */

typedef struct text_job {
    const sl_model *model;
    const sl_captions *caps;
    float *cap;        /* (n_captions, dim) */
    size_t dim;
    sl_status *status; /* (n_captions) */
} text_job;

static void text_task(void *ctx, size_t a, int thread) {
    text_job *j = ctx;
    j->status[a] = sl_model_embed_text(j->model, j->caps->captions[a], j->cap + a * j->dim);
    /* A caption without a known word ranks every image equally: a zero row
     * whatever the model left in it. */
    if (j->status[a] == SL_ERR_NOT_FOUND) memset(j->cap + a * j->dim, 0, j->dim * sizeof(float));
}

static sl_status embed_captions(text_job *j, sl_pool *pool, size_t *unknown) {
    size_t n = j->caps->n_captions;
    sl_pool_run(pool, n, text_task, j);
    *unknown = 0;
    for (size_t a = 0; a < n; a++) {
        if (j->status[a] == SL_ERR_NOT_FOUND) {
            (*unknown)++;
        } else if (j->status[a]) {
            /* Messages are per thread and the pool's threads have moved
             * on: embed the first failing caption again here (embedding is
             * deterministic) so the message reaches the caller. */
            sl_status st = sl_model_embed_text(j->model, j->caps->captions[a], j->cap + a * j->dim);
            if (!st) st = j->status[a];
            char where[64];
            snprintf(where, sizeof where, "eval: caption %zu", a);
            return sl_fail_prefix(st, where);
        }
    }
    return SL_OK;
}

/* ---- the evaluation -------------------------------------------------------------- */

sl_status sl_eval_captions(const sl_model *model, const char *captions_path, const char *images_dir,
                           const sl_eval_opts *opts, sl_eval_report *out) {
    if (out) memset(out, 0, sizeof *out);
    if (!model || !captions_path || !images_dir || !out) return sl_fail(SL_ERR_ARG, "eval: NULL argument");
    sl_eval_opts o;
    sl_eval_opts_init(&o);
    if (opts) o = *opts;
    int n_threads = o.n_threads <= 0 ? 2 : o.n_threads;
    if (n_threads > EVAL_MAX_THREADS)
        return sl_fail(SL_ERR_ARG, "eval: %d threads is too many (max %d)", n_threads, EVAL_MAX_THREADS);
    size_t dim = sl_model_dim(model);
    if (!dim) return sl_fail(SL_ERR_ARG, "eval: model of dimension 0");

    sl_captions caps;
    sl_status st = sl_captions_load(captions_path, &caps);
    if (st) return st;
    if (!caps.n_images || !caps.n_captions) {
        sl_captions_free(&caps);
        return sl_fail(SL_ERR_CORRUPT, "eval: %s has %zu images and %zu captions, need both", captions_path,
                       caps.n_images, caps.n_captions);
    }
    size_t img_bytes, cap_bytes;
    if (sl_mul_overflow(caps.n_images, dim * sizeof(float), &img_bytes) ||
        sl_mul_overflow(caps.n_captions, dim * sizeof(float), &cap_bytes)) {
        sl_captions_free(&caps);
        return sl_fail(SL_ERR_LIMIT, "eval: embedding matrices too large");
    }
    float *img = sl_malloc_aligned(img_bytes);
    float *cap = sl_malloc_aligned(cap_bytes);
    sl_status *cap_status = sl_malloc_array(caps.n_captions, sizeof *cap_status);
    sl_pool *pool = NULL;
    if (!img || !cap || !cap_status) st = sl_fail(SL_ERR_NOMEM, "eval: out of memory for the embeddings");
    if (st == SL_OK) st = sl_pool_new(n_threads, &pool);

    if (st == SL_OK) {
        image_job j = {.model = model, .caps = &caps, .dir = images_dir, .img = img, .dim = dim,
                       .fail_idx = SIZE_MAX};
        pthread_mutex_init(&j.mu, NULL);
        pthread_cond_init(&j.progressed, NULL);
        double t0 = sl_now();
        st = embed_images(&j, (int)SL_MIN((size_t)n_threads, caps.n_images), &o);
        out->seconds_images = sl_now() - t0;
        pthread_mutex_destroy(&j.mu);
        pthread_cond_destroy(&j.progressed);
    }
    if (st == SL_OK) {
        text_job tj = {model, &caps, cap, dim, cap_status};
        double t0 = sl_now();
        st = embed_captions(&tj, pool, &out->n_captions_unknown);
        out->seconds_text = sl_now() - t0;
    }
    if (st == SL_OK)
        st = sl_eval_retrieval(img, caps.n_images, cap, caps.n_captions, caps.caption_img, dim, pool,
                               &out->text_to_image, &out->image_to_text);
    if (st == SL_OK) {
        out->n_images = caps.n_images;
        out->n_captions = caps.n_captions;
    } else {
        memset(out, 0, sizeof *out);
    }
    sl_pool_free(pool);
    free(cap_status);
    sl_free_aligned(cap);
    sl_free_aligned(img);
    sl_captions_free(&caps);
    return st;
}
