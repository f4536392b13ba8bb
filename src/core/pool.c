/* A small persistent thread pool. Workers sleep on a condition variable
 * between runs; during a run every participant (the caller included) takes
 * task indices from one atomic counter, so uneven tasks balance themselves. */
#include "core.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

struct sl_pool {
    int n_threads; /* participants, the caller included */
    pthread_t *workers;
    pthread_mutex_t mu;
    pthread_cond_t wake; /* a new run or shutdown */
    pthread_cond_t done; /* a worker finished its part of a run */
    uint64_t generation; /* bumped for each run */
    int busy;            /* workers still inside the current run */
    int shutdown;
    /* the current run */
    sl_task_fn fn;
    void *ctx;
    size_t n_tasks;
    atomic_size_t next;
};

typedef struct worker_arg {
    sl_pool *pool;
    int thread;
} worker_arg;

static void drain(sl_pool *p, int thread) {
    for (;;) {
        size_t t = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
        if (t >= p->n_tasks) break;
        p->fn(p->ctx, t, thread);
    }
}

static void *worker_main(void *arg) {
    worker_arg wa = *(worker_arg *)arg;
    free(arg);
    sl_pool *p = wa.pool;
    uint64_t seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->shutdown && p->generation == seen)
            pthread_cond_wait(&p->wake, &p->mu);
        if (p->shutdown) break;
        seen = p->generation;
        pthread_mutex_unlock(&p->mu);
        drain(p, wa.thread);
        pthread_mutex_lock(&p->mu);
        if (--p->busy == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

sl_status sl_pool_new(int n_threads, sl_pool **out) {
    *out = NULL;
    if (n_threads < 1) n_threads = 1;
    if (n_threads > 256) return sl_fail(SL_ERR_ARG, "thread pool: %d threads is too many (max 256)", n_threads);
    sl_pool *p = calloc(1, sizeof *p);
    if (!p) return sl_fail(SL_ERR_NOMEM, "thread pool: out of memory");
    p->n_threads = 1;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    atomic_init(&p->next, 0);
    if (n_threads > 1) {
        p->workers = calloc((size_t)n_threads - 1, sizeof *p->workers);
        if (!p->workers) {
            sl_pool_free(p);
            return sl_fail(SL_ERR_NOMEM, "thread pool: out of memory");
        }
        for (int i = 1; i < n_threads; i++) {
            worker_arg *wa = malloc(sizeof *wa);
            if (!wa) break;
            wa->pool = p;
            wa->thread = i;
            if (pthread_create(&p->workers[i - 1], NULL, worker_main, wa) != 0) {
                free(wa);
                break;
            }
            p->n_threads++;
        }
        if (p->n_threads < n_threads)
            sl_log(SL_LOG_WARN, "thread pool: started %d of %d threads",
                   p->n_threads, n_threads);
    }
    *out = p;
    return SL_OK;
}

void sl_pool_free(sl_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->shutdown = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n_threads; i++) pthread_join(p->workers[i - 1], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    free(p->workers);
    free(p);
}

int sl_pool_threads(const sl_pool *p) { return p ? p->n_threads : 1; }

void sl_pool_run(sl_pool *p, size_t n_tasks, sl_task_fn fn, void *ctx) {
    if (n_tasks == 0) return;
    if (!p || p->n_threads == 1 || n_tasks == 1) {
        for (size_t t = 0; t < n_tasks; t++) fn(ctx, t, 0);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->n_tasks = n_tasks;
    atomic_store_explicit(&p->next, 0, memory_order_relaxed);
    p->busy = p->n_threads - 1;
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    drain(p, 0);
    pthread_mutex_lock(&p->mu);
    while (p->busy > 0) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}
