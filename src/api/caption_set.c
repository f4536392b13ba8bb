/* Parallel embedding of a captions set (caption_set.h). */
#include "api/caption_set.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSG_CAP 512

/* ---- images ------------------------------------------------------------------ */

typedef struct image_job {
    const sl_captions *caps;
    const char *dir, *what;
    sl_image_row_fn fn;
    void *user;
    pthread_mutex_t mu;
    pthread_cond_t progressed;
    /* under mu */
    size_t next;      /* next image to hand out; handed out in index order */
    size_t done;      /* images finished, failed ones included */
    size_t running;   /* workers not yet exited */
    int stop;         /* cancelled */
    size_t fail_idx;  /* lowest failed image, SIZE_MAX: none */
    sl_status fail_st;
    char fail_msg[MSG_CAP];
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
        sl_status st = path ? j->fn(j->user, path, i) : sl_fail(SL_ERR_NOMEM, "%s: out of memory", j->what);
        char msg[MSG_CAP] = "";
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

static sl_status run_images(image_job *j, int n_threads, int (*progress)(void *, size_t, size_t), void *puser) {
    size_t total = j->caps->n_images;
    pthread_t tids[SL_CAPTION_SET_MAX_THREADS];
    int started = 0;
    pthread_mutex_lock(&j->mu);
    for (; started < n_threads; started++) {
        if (pthread_create(&tids[started], NULL, image_worker, j) != 0) break;
        j->running++;
    }
    if (started == 0) {
        pthread_mutex_unlock(&j->mu);
        return sl_fail(SL_ERR_NOMEM, "%s: cannot start a thread", j->what);
    }
    /* Report every count from 1 to total once, in order, on this thread. */
    size_t reported = 0;
    for (;;) {
        while (reported < j->done && !j->stop) {
            size_t now = ++reported;
            if (!progress) continue;
            pthread_mutex_unlock(&j->mu);
            int cancel = progress(puser, now, total);
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

sl_status sl_caption_set_images(const sl_captions *caps, const char *images_dir, int n_threads, sl_image_row_fn fn,
                                void *user, int (*progress)(void *, size_t, size_t), void *progress_user,
                                const char *what) {
    if (n_threads < 1 || n_threads > SL_CAPTION_SET_MAX_THREADS)
        return sl_fail(SL_ERR_ARG, "%s: %d threads (1 to %d)", what, n_threads, SL_CAPTION_SET_MAX_THREADS);
    if (!caps->n_images) return SL_OK;
    image_job j = {.caps = caps, .dir = images_dir, .what = what, .fn = fn, .user = user, .fail_idx = SIZE_MAX};
    pthread_mutex_init(&j.mu, NULL);
    pthread_cond_init(&j.progressed, NULL);
    sl_status st = run_images(&j, (int)SL_MIN((size_t)n_threads, caps->n_images), progress, progress_user);
    pthread_mutex_destroy(&j.mu);
    pthread_cond_destroy(&j.progressed);
    return st;
}

/* ---- captions ------------------------------------------------------------------ */

typedef struct text_job {
    const sl_captions *caps;
    sl_caption_row_fn fn;
    void *user;
    sl_status *status; /* (n_captions) */
} text_job;

static void text_task(void *ctx, size_t a, int thread) {
    text_job *j = ctx;
    j->status[a] = j->fn(j->user, j->caps->captions[a], a);
}

sl_status sl_caption_set_texts(const sl_captions *caps, sl_pool *pool, sl_caption_row_fn fn, void *user,
                               size_t *unknown, const char *what) {
    const size_t n = caps->n_captions;
    *unknown = 0;
    sl_status *status = sl_malloc_array(n ? n : 1, sizeof *status);
    if (!status) return sl_fail(SL_ERR_NOMEM, "%s: out of memory", what);
    text_job j = {caps, fn, user, status};
    sl_pool_run(pool, n, text_task, &j);
    sl_status st = SL_OK;
    for (size_t a = 0; a < n && !st; a++) {
        if (status[a] == SL_ERR_NOT_FOUND) {
            (*unknown)++;
        } else if (status[a]) {
            /* Messages are per thread and the pool's threads have moved
             * on: run the first failing caption again here (it is
             * deterministic) so the message reaches the caller. */
            st = fn(user, caps->captions[a], a);
            if (!st) st = status[a];
            char where[64];
            snprintf(where, sizeof where, "%s: caption %zu", what, a);
            st = sl_fail_prefix(st, where);
        }
    }
    free(status);
    return st;
}
