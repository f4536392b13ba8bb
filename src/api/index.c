/* sl_library_index: bring a library up to date with folders of images.
 *
 *   validate roots, options, captions        nothing is changed before this
 *   set_model, begin_scan
 *   walk (sorted), then classify each file    unchanged -> touch, in batches
 *   embed the rest in rounds on n threads     -> put, in path order, batches
 *   end_scan (forget vanished files)          only after a complete walk
 *
 * The catalog connection is used by the calling thread only; workers read,
 * hash, decode and embed (index_embed.c) into per-job slots, and the calling
 * thread writes the results in path order, so the library's content never
 * depends on the thread count or on timing. */
#include "api/index_internal.h"
#include "api/search_internal.h"
#include "api/library_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Images embedded between two writes: bounds the vectors held in memory
 * whatever batch_size is (a larger batch spans several rounds). */
#define SL_INDEX_ROUND_MAX 256
/* Files classified per transaction while scanning (touches are cheap). */
#define SL_INDEX_TOUCH_BATCH 1024
#define SL_INDEX_PROGRESS_SECONDS 0.1

void sl_index_opts_init(sl_index_opts *opts) {
    if (!opts) return;
    memset(opts, 0, sizeof *opts);
    opts->n_threads = 2;
    opts->batch_size = 64;
}

/* A file that needs the workers. */
typedef struct todo {
    const sl_walk_file *file;
    bool known;      /* the path is in the library (keep its metadata) */
    int64_t id;      /* when known */
    bool check_hash; /* same size, new mtime: maybe only touched */
    uint8_t hash[SL_SHA256_SIZE];
} todo;

typedef struct run {
    sl_catalog *cat;
    const sl_model *model;
    sl_index_opts opts;
    sl_index_meta *meta; /* NULL without captions */
    sl_index_stats stats;
    double t0, last_report;
    bool cancelled;
    char **roots; /* (n_roots) normalized */
    size_t n_roots;
    sl_walk walk;
    todo *todo;   /* (n_todo) in path order */
    size_t n_todo;
    sl_pool *pool;
    sl_embed_job *jobs; /* (SL_INDEX_ROUND_MAX) */
    float *vecs;        /* (SL_INDEX_ROUND_MAX, dim) */
} run;

/* Calls the progress callback at most every 100 ms (always when `force`);
 * returns true once the caller asked to stop. */
static bool report(run *r, bool force) {
    if (r->cancelled) return true;
    if (!r->opts.progress) return false;
    double now = sl_now();
    if (!force && now - r->last_report < SL_INDEX_PROGRESS_SECONDS) return false;
    r->last_report = now;
    r->stats.seconds = now - r->t0;
    if (r->opts.progress(r->opts.progress_user, &r->stats)) {
        r->cancelled = true;
        r->stats.cancelled = 1;
    }
    return r->cancelled;
}

static int walk_progress(void *user, size_t n_found) {
    run *r = user;
    r->stats.files_found = n_found;
    return report(r, false);
}

/* Realpath of every root, checked to be a folder or a regular file. */
static sl_status normalize_roots(run *r, const char *const *roots, size_t n_roots) {
    r->roots = sl_calloc_array(n_roots, sizeof *r->roots);
    if (!r->roots) return sl_fail(SL_ERR_NOMEM, "index: %zu roots", n_roots);
    r->n_roots = n_roots;
    for (size_t i = 0; i < n_roots; i++) {
        if (!roots[i] || !*roots[i]) return sl_fail(SL_ERR_ARG, "index: root %zu is empty", i);
        r->roots[i] = realpath(roots[i], NULL);
        if (!r->roots[i]) {
            int e = errno;
            if (e == ENOENT || e == ENOTDIR)
                return sl_fail(SL_ERR_NOT_FOUND, "index: %s: no such file or folder", roots[i]);
            if (e == ENOMEM) return sl_fail(SL_ERR_NOMEM, "index: %s", roots[i]);
            return sl_fail(SL_ERR_IO, "index: %s: %s", roots[i], strerror(e));
        }
        struct stat sb;
        if (stat(r->roots[i], &sb) != 0)
            return sl_fail(SL_ERR_IO, "index: %s: %s", roots[i], strerror(errno));
        if (!S_ISDIR(sb.st_mode) && !S_ISREG(sb.st_mode))
            return sl_fail(SL_ERR_ARG, "index: %s is neither a folder nor a regular file", roots[i]);
    }
    return SL_OK;
}

/* With captions, an item the captions name gets their metadata even when
 * its file is unchanged; written only when it differs from the stored one,
 * so a rerun with the same captions writes nothing. */
static sl_status refresh_metadata(run *r, int64_t id, const char *path) {
    if (!r->meta) return SL_OK;
    char *json = NULL;
    sl_status st = sl_index_meta_json(r->meta, path, &json);
    if (st != SL_OK || !json) return st;
    sl_item old;
    st = sl_catalog_get_item(r->cat, id, &old);
    if (st == SL_OK && (!old.metadata || strcmp(old.metadata, json) != 0))
        st = sl_catalog_set_metadata(r->cat, id, json);
    free(json);
    return st;
}

static void add_todo(run *r, const sl_walk_file *f, const sl_item_info *info) {
    todo *t = &r->todo[r->n_todo++];
    memset(t, 0, sizeof *t);
    t->file = f;
    t->known = info->known;
    t->id = info->id;
    /* Same size and an embedding, but a new mtime: if the bytes hash to the
     * stored SHA-256 the file was only touched (or copied without keeping
     * times), and its embedding is still right. */
    if (info->known && info->has_embedding && info->size == f->size && info->hash_size == SL_SHA256_SIZE) {
        t->check_hash = true;
        memcpy(t->hash, info->hash, SL_SHA256_SIZE);
    }
    r->stats.to_embed++;
}

/* Looks every listed file up: unchanged ones are touched (and their
 * metadata refreshed), the others queued for embedding. */
static sl_status classify(run *r) {
    r->todo = sl_malloc_array(r->walk.n ? r->walk.n : 1, sizeof *r->todo);
    if (!r->todo) return sl_fail(SL_ERR_NOMEM, "index: %zu files", r->walk.n);
    sl_status st = SL_OK;
    size_t in_batch = 0;
    for (size_t i = 0; i < r->walk.n && st == SL_OK; i++) {
        const sl_walk_file *f = &r->walk.files[i];
        if (in_batch == 0) st = sl_catalog_batch_begin(r->cat);
        sl_item_info info;
        if (st == SL_OK) st = sl_catalog_lookup(r->cat, f->path, &info);
        if (st != SL_OK) break;
        if (info.known && info.has_embedding && info.size == f->size && info.mtime_ns == f->mtime_ns) {
            st = sl_catalog_touch(r->cat, info.id);
            if (st == SL_OK) st = refresh_metadata(r, info.id, f->path);
            r->stats.unchanged++;
        } else {
            add_todo(r, f, &info);
        }
        if (st != SL_OK) break;
        bool stop = report(r, false);
        if (++in_batch == SL_INDEX_TOUCH_BATCH || i + 1 == r->walk.n || stop) {
            st = sl_catalog_batch_commit(r->cat);
            in_batch = 0;
        }
        if (stop) break;
    }
    return st;
}

typedef struct round_ctx {
    const sl_model *model;
    sl_embed_job *jobs;
} round_ctx;

static void embed_task(void *ctx, size_t task, int thread) {
    (void)thread;
    round_ctx *c = ctx;
    sl_embed_job_run(c->model, &c->jobs[task]);
}

/* Writes one result into the open batch. *pending counts the embeddings
 * not yet committed. */
static sl_status store_one(run *r, const todo *t, const sl_embed_job *job, uint64_t *pending) {
    const sl_walk_file *f = t->file;
    if (job->outcome == SL_EMBED_FAILED) {
        sl_log(SL_LOG_WARN, "skipping %s: %s", f->path, job->error);
        r->stats.failed++;
        return SL_OK;
    }
    if (job->outcome == SL_EMBED_SAME) {
        sl_status st = sl_catalog_touch_mtime(r->cat, t->id, f->mtime_ns);
        if (st == SL_ERR_NOT_FOUND) {
            /* forgotten by another connection since the lookup: nothing was
             * embedded, so it waits for the next run */
            sl_log(SL_LOG_WARN, "skipping %s: removed from the library during the run", f->path);
            r->stats.failed++;
            return SL_OK;
        }
        if (st == SL_OK) st = refresh_metadata(r, t->id, f->path);
        r->stats.unchanged++;
        r->stats.to_embed--;
        return st;
    }
    char *json = NULL;
    sl_status st = r->meta ? sl_index_meta_json(r->meta, f->path, &json) : SL_OK;
    if (st != SL_OK) return st;
    sl_item item = {
        .path = f->path,
        .size = f->size,
        .mtime_ns = f->mtime_ns,
        .hash = job->hash,
        .hash_size = SL_SHA256_SIZE,
        .width = (int32_t)job->width,
        .height = (int32_t)job->height,
        .metadata = json,
    };
    /* Metadata comes from the captions; a known file they do not name
     * keeps what it had (its content changed, not its description). */
    sl_item old;
    if (!json && t->known && sl_catalog_get_item(r->cat, t->id, &old) == SL_OK) item.metadata = old.metadata;
    sl_embedding emb = {sl_model_id(r->model), sl_model_dim(r->model), job->vec};
    st = sl_catalog_put(r->cat, &item, &emb, NULL);
    free(json);
    if (st == SL_OK) (*pending)++;
    return st;
}

static sl_status commit(run *r, size_t *in_batch, uint64_t *pending) {
    sl_status st = sl_catalog_batch_commit(r->cat);
    if (st == SL_OK) r->stats.embedded += *pending;
    *pending = 0;
    *in_batch = 0;
    return st;
}

/* Embeds the queued files in rounds and commits every batch_size files.
 * A round is one batch, but at least one image per thread (a batch of 1
 * still uses every thread; its results are then committed one by one) and
 * at most SL_INDEX_ROUND_MAX (a larger batch spans rounds). The write lock
 * is taken only to store results, so other writers are not kept waiting
 * while images are embedded (unless a batch spans rounds). */
static sl_status embed_all(run *r) {
    uint32_t dim = sl_model_dim(r->model);
    size_t batch = r->opts.batch_size;
    size_t round = SL_MIN(SL_MAX(batch, (size_t)sl_pool_threads(r->pool)), (size_t)SL_INDEX_ROUND_MAX);
    size_t in_batch = 0;
    uint64_t pending = 0;
    sl_status st = SL_OK;
    round_ctx ctx = {r->model, r->jobs};
    for (size_t next = 0; next < r->n_todo && st == SL_OK;) {
        size_t n = SL_MIN(round, r->n_todo - next);
        const todo *t = r->todo + next;
        for (size_t k = 0; k < n; k++) {
            sl_embed_job *job = &r->jobs[k];
            job->path = t[k].file->path;
            job->check_hash = t[k].check_hash;
            memcpy(job->expect_hash, t[k].hash, SL_SHA256_SIZE);
            job->vec = r->vecs + k * dim;
        }
        sl_pool_run(r->pool, n, embed_task, &ctx);
        for (size_t k = 0; k < n && st == SL_OK; k++) {
            if (in_batch == 0) st = sl_catalog_batch_begin(r->cat);
            if (st == SL_OK) st = store_one(r, &t[k], &r->jobs[k], &pending);
            if (st == SL_OK && ++in_batch == batch) st = commit(r, &in_batch, &pending);
        }
        if (st != SL_OK) break;
        next += n;
        if (in_batch > 0 && next == r->n_todo) st = commit(r, &in_batch, &pending);
        /* reported after the commits, so the callback sees what is durable;
         * a stop mid-batch commits the partial batch */
        if (st == SL_OK && report(r, false)) {
            if (in_batch > 0) st = commit(r, &in_batch, &pending);
            break;
        }
    }
    return st;
}

/* Ends a batch an error left open. What was committed stays; the rollback
 * must not replace the message of the error being returned. */
static void rollback_keep_error(run *r) {
    if (!r->cat) return;
    char saved[1024];
    snprintf(saved, sizeof saved, "%s", sl_last_error());
    if (sl_catalog_batch_rollback(r->cat) != SL_OK) sl_fail(SL_ERR_IO, "%s", saved);
}

static void run_free(run *r) {
    rollback_keep_error(r);
    sl_index_meta_free(r->meta);
    for (size_t i = 0; i < r->n_roots; i++) free(r->roots[i]);
    free(r->roots);
    sl_walk_free(&r->walk);
    free(r->todo);
    sl_pool_free(r->pool);
    free(r->jobs);
    sl_free_aligned(r->vecs);
}

/* Everything that can fail without touching the library: arguments, roots,
 * captions, threads and buffers. */
static sl_status prepare(run *r, sl_library *lib, const sl_model *model, const char *const *roots,
                         size_t n_roots, const sl_index_opts *opts) {
    if (!lib || !model || (!roots && n_roots))
        return sl_fail(SL_ERR_ARG, "index: NULL library, model or roots");
    /* zero roots would make end_scan forget the whole library */
    if (n_roots == 0) return sl_fail(SL_ERR_ARG, "index: no folder or file to index");
    r->cat = lib->cat;
    r->model = model;
    if (opts) r->opts = *opts;
    else sl_index_opts_init(&r->opts);
    if (r->opts.n_threads <= 0) r->opts.n_threads = 2;
    if (r->opts.batch_size == 0) r->opts.batch_size = 64;
    uint32_t dim = sl_model_dim(model);
    if (dim == 0 || dim > SL_CATALOG_DIM_MAX) return sl_fail(SL_ERR_ARG, "index: model of dimension %u", dim);
    sl_status st = normalize_roots(r, roots, n_roots);
    if (st == SL_OK && r->opts.captions) st = sl_index_meta_load(r->opts.captions, &r->meta);
    if (st == SL_OK) st = sl_pool_new(r->opts.n_threads, &r->pool);
    if (st != SL_OK) return st;
    r->jobs = sl_calloc_array(SL_INDEX_ROUND_MAX, sizeof *r->jobs);
    r->vecs = sl_malloc_aligned((size_t)SL_INDEX_ROUND_MAX * dim * sizeof(float));
    if (!r->jobs || !r->vecs) return sl_fail(SL_ERR_NOMEM, "index: embedding buffers");
    return SL_OK;
}

sl_status sl_library_index(sl_library *lib, const sl_model *model, const char *const *roots, size_t n_roots,
                           const sl_index_opts *opts, sl_index_stats *stats) {
    run r;
    memset(&r, 0, sizeof r);
    r.t0 = r.last_report = sl_now();
    if (stats) memset(stats, 0, sizeof *stats);
    sl_status st = prepare(&r, lib, model, roots, n_roots, opts);
    if (st != SL_OK) {
        r.cat = NULL; /* nothing was begun */
        run_free(&r);
        return st;
    }
    int64_t gen = 0;
    st = sl_catalog_set_model(r.cat, sl_model_id(model), sl_model_dim(model));
    if (st == SL_OK) st = sl_catalog_begin_scan(r.cat, &gen);

    bool walk_cancelled = false; /* also recorded in r.cancelled by walk_progress */
    r.stats.phase = SL_INDEX_SCANNING;
    if (st == SL_OK)
        st = sl_walk_roots((const char *const *)r.roots, r.n_roots, walk_progress, &r, &r.walk, &walk_cancelled);
    r.stats.files_found = r.walk.n;
    if (st == SL_OK && !r.cancelled) st = classify(&r);
    if (st == SL_OK && !r.cancelled) report(&r, true);

    if (st == SL_OK && !r.cancelled) {
        r.stats.phase = SL_INDEX_EMBEDDING;
        st = embed_all(&r);
        if (st == SL_OK && !r.cancelled) report(&r, true);
    }
    if (st == SL_OK && !r.cancelled) {
        if (r.walk.incomplete) {
            sl_log(SL_LOG_WARN, "index: some folders could not be read; no item was forgotten");
        } else {
            int64_t removed = 0;
            st = sl_catalog_end_scan(r.cat, gen, (const char *const *)r.roots, r.n_roots, &removed);
            r.stats.removed = (uint64_t)removed;
        }
    }
    /* The library's ANN snapshot follows its embeddings (dense libraries
     * of 20,000 items or more; docs/SEARCH.md). A cancelled run refreshes
     * it too: what was committed is searchable. */
    if (st == SL_OK) {
        const char *action = NULL;
        st = sl_snapshot_refresh(r.cat, sl_model_id(model), sl_model_sparse(model), 0, r.opts.n_threads, &action);
    }
    if (st == SL_OK) {
        r.stats.phase = SL_INDEX_DONE;
        /* everything is done: a stop asked for now changes nothing */
        if (!r.cancelled) {
            report(&r, true);
            r.cancelled = false;
            r.stats.cancelled = 0;
        }
    }
    r.stats.seconds = sl_now() - r.t0;
    if (st == SL_OK)
        sl_log(SL_LOG_INFO,
               "index: %llu files, %llu embedded, %llu unchanged, %llu failed, %llu removed in %.2f s%s",
               (unsigned long long)r.stats.files_found, (unsigned long long)r.stats.embedded,
               (unsigned long long)r.stats.unchanged, (unsigned long long)r.stats.failed,
               (unsigned long long)r.stats.removed, r.stats.seconds, r.cancelled ? " (cancelled)" : "");
    if (stats) *stats = r.stats;
    run_free(&r);
    return st;
}
