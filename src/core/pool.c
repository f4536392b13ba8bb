/* A small persistent thread pool. During a run every participant (the
 * caller included) takes task indices from one atomic counter, so uneven
 * tasks balance themselves.
 *
 * Why spin before sleeping: a network run is ~60 short parallel sections
 * of 20-200 us each. Waking a sleeping thread through a condition variable
 * costs tens of microseconds per section, which would eat the gain of the
 * second core. So workers and the caller spin briefly on atomics first and
 * only block on the condition variables when nothing arrives; the mutex
 * makes the hand-over to a sleeping thread race-free. */
#include "core.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SL_CPU_RELAX() _mm_pause()
#else
#define SL_CPU_RELAX() ((void)0)
#endif

/* ~50 us of spinning on current x86 (a pause is ~40-140 cycles). */
#define SL_POOL_SPIN 2000

struct sl_pool {
    int n_threads; /* participants, the caller included */
    pthread_t *workers;
    pthread_mutex_t mu;
    pthread_cond_t wake; /* a new run or shutdown */
    pthread_cond_t done; /* the last worker finished its part of a run */
    atomic_uint_fast64_t generation; /* bumped for each run */
    atomic_int busy;                 /* workers still inside the current run */
    atomic_int shutdown;
    int sleepers;      /* workers blocked on `wake` (under mu) */
    int caller_asleep; /* the caller blocked on `done` (under mu) */
    /* the current run, published by the release store of `generation` */
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

/* Waits until the generation differs from `seen` or shutdown; returns the
 * new generation. */
static uint64_t wait_for_run(sl_pool *p, uint64_t seen) {
    for (int i = 0; i < SL_POOL_SPIN; i++) {
        uint64_t g = atomic_load_explicit(&p->generation, memory_order_acquire);
        if (g != seen || atomic_load_explicit(&p->shutdown, memory_order_relaxed)) return g;
        SL_CPU_RELAX();
    }
    pthread_mutex_lock(&p->mu);
    p->sleepers++;
    uint64_t g;
    while ((g = atomic_load_explicit(&p->generation, memory_order_acquire)) == seen &&
           !atomic_load_explicit(&p->shutdown, memory_order_relaxed))
        pthread_cond_wait(&p->wake, &p->mu);
    p->sleepers--;
    pthread_mutex_unlock(&p->mu);
    return g;
}

static void *worker_main(void *arg) {
    worker_arg wa = *(worker_arg *)arg;
    free(arg);
    sl_pool *p = wa.pool;
    uint64_t seen = 0;
    for (;;) {
        seen = wait_for_run(p, seen);
        if (atomic_load_explicit(&p->shutdown, memory_order_relaxed)) break;
        drain(p, wa.thread);
        if (atomic_fetch_sub_explicit(&p->busy, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&p->mu);
            if (p->caller_asleep) pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
    }
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
    atomic_init(&p->generation, 0);
    atomic_init(&p->busy, 0);
    atomic_init(&p->shutdown, 0);
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
            sl_log(SL_LOG_WARN, "thread pool: started %d of %d threads", p->n_threads, n_threads);
    }
    *out = p;
    return SL_OK;
}

void sl_pool_free(sl_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->shutdown, 1);
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
    p->fn = fn;
    p->ctx = ctx;
    p->n_tasks = n_tasks;
    atomic_store_explicit(&p->next, 0, memory_order_relaxed);
    atomic_store_explicit(&p->busy, p->n_threads - 1, memory_order_relaxed);
    /* The release store publishes fn/ctx/n_tasks/next/busy to the workers. */
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    pthread_mutex_lock(&p->mu);
    if (p->sleepers) pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    drain(p, 0);
    for (int i = 0; i < SL_POOL_SPIN; i++) {
        if (atomic_load_explicit(&p->busy, memory_order_acquire) == 0) return;
        SL_CPU_RELAX();
    }
    pthread_mutex_lock(&p->mu);
    p->caller_asleep = 1;
    while (atomic_load_explicit(&p->busy, memory_order_acquire) > 0) pthread_cond_wait(&p->done, &p->mu);
    p->caller_asleep = 0;
    pthread_mutex_unlock(&p->mu);
}
