/* Recall and latency of the ANN index (src/index/ann*.c) on the dense
 * embeddings of a tuned model (docs/MODEL.md "Tuned models": [sqrt(1-b) z,
 * sqrt(b) p], z the sparse 1,000-d zero-shot part, p a dense unit head
 * output), searched the way a dense library's searcher does it (docs/SEARCH.md
 * "Search methods", src/api/snapshot.c, src/api/searcher.c): an index built
 * with the snapshot's options (sl_ann_opts_init for max(n, 20,000), no
 * stored vectors), asked for 100 candidates that are re-scored exactly.
 *
 * Items: the real image embeddings of coco-train1600 + coco-train80 (1,680
 * photos) and, for the sizes where the library uses the ANN, --items
 * synthetic rows made from them: z as bench/bench_query.c does (a real
 * row's non-zero values moved to random classes, jittered by +-10 %,
 * re-normalized), p either a real row's p plus Gaussian noise (--p-mode
 * noise, noise norm --p-noise, default 0.5) or a random-weight mix of two
 * real rows' p plus noise (--p-mode mix), re-normalized; each half then
 * scaled by its real row's sqrt(1-b) / sqrt(b) so the blend is kept. Or,
 * with --p-mode augment, no synthesis: the model's own embeddings of
 * ceil(--items / 1,680) random crops / mirrors of every photo (slow: 100k
 * crops took ~10 min on 2 shared cores; cached with --cache). The real
 * rows stay in the set. Queries: the captions' text embeddings (a random
 * subset of --queries of them, default 1,000; captions without a known
 * word are skipped).
 *
 * Per configuration: recall@10 of the re-scored ANN top 10 against the
 * exact top 10 (brute-force dot products, sl_flat_search), median and p90
 * query latency on 1 thread (ANN search + exact re-scoring), the index
 * build time (--build-threads, default 2) and its bytes per item
 * (sl_ann_bytes; the searcher's own f32 rows, 4 * dim bytes per item, come
 * on top in every case). Configurations: the library's defaults, more
 * leaves searched / more candidates, an index over the p half only
 * (dim - 1,000 floats) whose candidates are re-scored on the full vectors,
 * and a hybrid: that p index's candidates united with the exact top by the
 * z half alone (posting lists, src/index/postings.h), re-scored likewise.
 *
 *   bench_tuned_ann TUNED_MODEL ASSETS_DIR [--items N] [--queries N]
 *                   [--p-mode noise|mix|augment] [--p-noise S]
 *                   [--cache FILE] [--build-threads N]
 *
 * e.g. build/bench/bench_tuned_ann tuned.gguf $(scripts/fetch-assets.sh --dir)
 *        --cache /tmp/tuned_emb.bin --items 100000 --p-mode mix --p-noise 0.25
 *
 * ASSETS_DIR is $(scripts/fetch-assets.sh --dir). --cache FILE keeps the
 * real embeddings (images and captions) in FILE, and the crops in
 * FILE.augN, reused when made with the same model id. --items 0 measures
 * the real rows alone. Output: a markdown table on stdout (the real rows
 * alone first, without sweeps: the library scans them below 20,000), the
 * exact row also giving the mean #1 / #10 exact scores and the share of
 * real photos in the exact top 10 (how much the added items compete). */
#include "api/caption_set.h"
#include "api/search_internal.h"
#include "bench_util.h"
#include "core/core.h"
#include "index/ann.h"
#include "index/flat.h"
#include "index/postings.h"
#include "searchlite.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define K 10
#define ZDIM 1000
#define LIB_CANDIDATES 100 /* SL_SEARCH_ANN_CANDIDATES */

static void die(const char *what) {
    fprintf(stderr, "bench_tuned_ann: %s: %s\n", what, sl_last_error());
    exit(1);
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "bench_tuned_ann: out of memory\n");
        exit(1);
    }
    return p;
}

static double rng_gauss(void) {
    double u = sl_bench_unit(), v = sl_bench_unit();
    if (u < 1e-300) u = 1e-300;
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* ---- real embeddings ---------------------------------------------------- */

typedef struct real_set {
    uint32_t dim;
    size_t n_img, n_cap;
    float *img; /* (n_img, dim) */
    float *cap; /* (n_cap, dim); rows of captions without a known word are 0 */
} real_set;

typedef struct embed_job {
    const sl_model *model;
    float *rows;
    uint32_t dim;
} embed_job;

static sl_status image_row(void *user, const char *path, size_t i) {
    embed_job *j = user;
    return sl_model_embed_file(j->model, path, j->rows + i * j->dim, NULL, NULL);
}

static sl_status caption_row(void *user, const char *text, size_t a) {
    embed_job *j = user;
    return sl_model_embed_text(j->model, text, j->rows + a * j->dim);
}

static void embed_set(const sl_model *model, const char *assets, const char *set, sl_pool *pool, float **img,
                      size_t *n_img, float **cap, size_t *n_cap) {
    char images[4096], captions[4096];
    snprintf(images, sizeof images, "%s/%s/images", assets, set);
    snprintf(captions, sizeof captions, "%s/%s/captions.json", assets, set);
    sl_captions c;
    if (sl_captions_load(captions, &c)) die(captions);
    uint32_t dim = sl_model_dim(model);
    embed_job j = {model, xmalloc(c.n_images * dim * sizeof(float)), dim};
    if (sl_caption_set_images(&c, images, 2, image_row, &j, NULL, NULL, "bench")) die("images");
    *img = j.rows;
    *n_img = c.n_images;
    j.rows = calloc(c.n_captions * dim + 1, sizeof(float));
    size_t unknown = 0;
    if (sl_caption_set_texts(&c, pool, caption_row, &j, &unknown, "bench")) die("captions");
    *cap = j.rows;
    *n_cap = c.n_captions;
    fprintf(stderr, "bench_tuned_ann: %s: %zu images, %zu captions (%zu without a known word)\n", set, c.n_images,
            c.n_captions, unknown);
    sl_captions_free(&c);
}

static int load_cache(const char *path, const char *model_id, real_set *r) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char id[256] = {0};
    uint64_t h[3];
    int ok = fread(id, 1, sizeof id, f) == sizeof id && fread(h, sizeof h, 1, f) == 1 &&
             !strncmp(id, model_id, sizeof id - 1);
    if (ok) {
        r->dim = (uint32_t)h[0];
        r->n_img = h[1];
        r->n_cap = h[2];
        r->img = xmalloc(r->n_img * r->dim * sizeof(float));
        r->cap = xmalloc(r->n_cap * r->dim * sizeof(float));
        ok = fread(r->img, sizeof(float), r->n_img * r->dim, f) == r->n_img * r->dim &&
             fread(r->cap, sizeof(float), r->n_cap * r->dim, f) == r->n_cap * r->dim;
    }
    fclose(f);
    return ok;
}

static void save_cache(const char *path, const char *model_id, const real_set *r) {
    FILE *f = fopen(path, "wb");
    if (!f) return;
    char id[256] = {0};
    snprintf(id, sizeof id, "%s", model_id);
    uint64_t h[3] = {r->dim, r->n_img, r->n_cap};
    fwrite(id, 1, sizeof id, f);
    fwrite(h, sizeof h, 1, f);
    fwrite(r->img, sizeof(float), r->n_img * r->dim, f);
    fwrite(r->cap, sizeof(float), r->n_cap * r->dim, f);
    fclose(f);
}

static void get_real(const sl_model *model, const char *assets, const char *cache, real_set *r) {
    if (cache && load_cache(cache, sl_model_id(model), r)) {
        fprintf(stderr, "bench_tuned_ann: embeddings from %s\n", cache);
        return;
    }
    sl_pool *pool;
    if (sl_pool_new(2, &pool)) die("sl_pool_new");
    float *img[2], *cap[2];
    size_t ni[2], nc[2];
    double t0 = sl_now();
    embed_set(model, assets, "coco-train1600", pool, &img[0], &ni[0], &cap[0], &nc[0]);
    embed_set(model, assets, "coco-train80", pool, &img[1], &ni[1], &cap[1], &nc[1]);
    sl_pool_free(pool);
    fprintf(stderr, "bench_tuned_ann: embedded in %.1f s\n", sl_now() - t0);
    r->dim = sl_model_dim(model);
    r->n_img = ni[0] + ni[1];
    r->n_cap = nc[0] + nc[1];
    r->img = xmalloc(r->n_img * r->dim * sizeof(float));
    r->cap = xmalloc(r->n_cap * r->dim * sizeof(float));
    memcpy(r->img, img[0], ni[0] * r->dim * sizeof(float));
    memcpy(r->img + ni[0] * r->dim, img[1], ni[1] * r->dim * sizeof(float));
    memcpy(r->cap, cap[0], nc[0] * r->dim * sizeof(float));
    memcpy(r->cap + nc[0] * r->dim, cap[1], nc[1] * r->dim * sizeof(float));
    for (int s = 0; s < 2; s++) {
        free(img[s]);
        free(cap[s]);
    }
    if (cache) save_cache(cache, sl_model_id(model), r);
}

/* ---- synthetic items ---------------------------------------------------- */

static double norm2(const float *v, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)v[i] * v[i];
    return s;
}

static void scale_to(float *v, size_t n, double target_norm) {
    double s = norm2(v, n);
    float f = s > 0 ? (float)(target_norm / sqrt(s)) : 0.0f;
    for (size_t i = 0; i < n; i++) v[i] *= f;
}

/* Row out from real row r (see the header). */
static void synth_row(const real_set *re, int mix, double p_noise, float *out) {
    const uint32_t dim = re->dim, pd = dim - ZDIM;
    const float *src = re->img + (size_t)(sl_bench_rand() % re->n_img) * dim;
    const double zn = sqrt(norm2(src, ZDIM)), pn = sqrt(norm2(src + ZDIM, pd));
    memset(out, 0, dim * sizeof *out);
    for (uint32_t j = 0; j < ZDIM; j++) {
        if (src[j] == 0.0f) continue;
        uint32_t c;
        do c = (uint32_t)(sl_bench_rand() % ZDIM);
        while (out[c] != 0.0f);
        out[c] = src[j] * (float)(0.9 + 0.2 * sl_bench_unit());
    }
    scale_to(out, ZDIM, zn);
    float *p = out + ZDIM;
    if (mix) {
        const float *oth = re->img + (size_t)(sl_bench_rand() % re->n_img) * dim + ZDIM;
        const double w = sl_bench_unit(), on = sqrt(norm2(oth, pd));
        for (uint32_t j = 0; j < pd; j++)
            p[j] = (float)(w * src[ZDIM + j] / (pn > 0 ? pn : 1) + (1 - w) * oth[j] / (on > 0 ? on : 1));
    } else {
        for (uint32_t j = 0; j < pd; j++) p[j] = (float)(src[ZDIM + j] / (pn > 0 ? pn : 1));
    }
    scale_to(p, pd, 1.0);
    const double sd = p_noise / sqrt((double)pd); /* noise of norm ~p_noise */
    for (uint32_t j = 0; j < pd; j++) p[j] += (float)(sd * rng_gauss());
    scale_to(p, pd, pn);
}


/* --p-mode augment: every item is the model's own embedding of a random
 * crop (30-100 % of the area, aspect 3:4 to 4:3, half of them mirrored) of
 * one of the photos, so both halves are real model outputs (no synthetic
 * z); a photo's crops are near-duplicates of it, as bursts of similar
 * shots are in a real library. Deterministic per photo (thread count only
 * changes the time). */
typedef struct aug_job {
    const sl_model *model;
    char **paths;
    size_t n_img, per_img;
    int worker, n_workers;
    float *out; /* (n_img * per_img, dim) */
    sl_status st;
} aug_job;

static void *aug_worker(void *arg) {
    aug_job *j = arg;
    const uint32_t dim = sl_model_dim(j->model);
    for (size_t i = (size_t)j->worker; i < j->n_img && !j->st; i += (size_t)j->n_workers) {
        sl_image im;
        if ((j->st = sl_image_load(j->paths[i], NULL, &im))) break;
        uint64_t r = 0x243F6A8885A308D3ull ^ (i * 0x9E3779B97F4A7C15ull);
        for (size_t c = 0; c < j->per_img && !j->st; c++) {
            double u[4];
            for (int t = 0; t < 4; t++) {
                r ^= r >> 12, r ^= r << 25, r ^= r >> 27;
                u[t] = (double)((r * 2685821657736338717ull) >> 11) * (1.0 / 9007199254740992.0);
            }
            const double area = 0.3 + 0.7 * u[0], aspect = exp(log(0.75) + (log(4.0 / 3) - log(0.75)) * u[1]);
            uint32_t w = (uint32_t)(sqrt(area * aspect) * im.width), h = (uint32_t)(sqrt(area / aspect) * im.height);
            w = w < 8 ? 8 : w > im.width ? im.width : w;
            h = h < 8 ? 8 : h > im.height ? im.height : h;
            const uint32_t x0 = (uint32_t)(u[2] * (im.width - w)), y0 = (uint32_t)(u[3] * (im.height - h));
            const int flip = (int)(r & 1);
            sl_image cr = {w, h, malloc((size_t)w * h * 3)};
            if (!cr.pixels) {
                j->st = SL_ERR_NOMEM;
                break;
            }
            for (uint32_t y = 0; y < h; y++)
                for (uint32_t x = 0; x < w; x++)
                    memcpy(cr.pixels + ((size_t)y * w + x) * 3,
                           im.pixels + ((size_t)(y0 + y) * im.width + x0 + (flip ? w - 1 - x : x)) * 3, 3);
            j->st = sl_model_embed_image(j->model, &cr, j->out + (i * j->per_img + c) * dim);
            free(cr.pixels);
        }
        sl_image_free(&im);
    }
    return NULL;
}

/* per_img crops of each of the 1,680 photos, in photo order. */
static float *augment(const sl_model *model, const char *assets, size_t per_img, const char *cache, size_t *n_out) {
    const uint32_t dim = sl_model_dim(model);
    char cpath[4200];
    if (cache) {
        snprintf(cpath, sizeof cpath, "%s.aug%zu", cache, per_img);
        real_set c;
        if (load_cache(cpath, sl_model_id(model), &c)) {
            fprintf(stderr, "bench_tuned_ann: crops from %s\n", cpath);
            free(c.cap);
            *n_out = c.n_img;
            return c.img;
        }
    }
    const char *sets[2] = {"coco-train1600", "coco-train80"};
    char **paths = NULL;
    size_t n = 0;
    for (int s = 0; s < 2; s++) {
        char captions[4096];
        snprintf(captions, sizeof captions, "%s/%s/captions.json", assets, sets[s]);
        sl_captions c;
        if (sl_captions_load(captions, &c)) die(captions);
        paths = realloc(paths, (n + c.n_images) * sizeof *paths);
        for (size_t i = 0; i < c.n_images; i++) {
            paths[n + i] = xmalloc(4200);
            snprintf(paths[n + i], 4200, "%s/%s/images/%s", assets, sets[s], c.images[i].file_name);
        }
        n += c.n_images;
        sl_captions_free(&c);
    }
    float *out = xmalloc(n * per_img * dim * sizeof(float));
    aug_job jobs[2];
    pthread_t th[2];
    double t0 = sl_now();
    for (int w = 0; w < 2; w++) {
        jobs[w] = (aug_job){model, paths, n, per_img, w, 2, out, SL_OK};
        pthread_create(&th[w], NULL, aug_worker, &jobs[w]);
    }
    for (int w = 0; w < 2; w++) pthread_join(th[w], NULL);
    if (jobs[0].st || jobs[1].st) die("crops");
    fprintf(stderr, "bench_tuned_ann: embedded %zu crops in %.1f s\n", n * per_img, sl_now() - t0);
    for (size_t i = 0; i < n; i++) free(paths[i]);
    free(paths);
    *n_out = n * per_img;
    if (cache) {
        real_set c = {dim, n * per_img, 0, out, NULL};
        save_cache(cpath, sl_model_id(model), &c);
    }
    return out;
}

/* ---- measuring ---------------------------------------------------------- */

typedef struct dataset {
    size_t n;
    uint32_t dim;
    float *x;  /* (n, dim), sl_malloc_aligned */
    float *xp; /* (n, dim - ZDIM): the p halves */
} dataset;

typedef struct queries {
    size_t n;
    const float **q;
} queries;

static double pct(double *v, int n, double p) { /* v sorted */
    return v[(size_t)(p * (n - 1) + 0.5)];
}

/* Exact top K per query (1 thread); prints the scan latency. */
static sl_hit *exact(const dataset *d, const queries *qs, const char *set, size_t n_real) {
    sl_hit *gt = xmalloc(qs->n * K * sizeof *gt);
    double *t = xmalloc(qs->n * sizeof *t);
    double s1 = 0, s10 = 0, real = 0;
    for (size_t i = 0; i < qs->n; i++) {
        double t0 = sl_now();
        sl_status st = SL_OK;
        size_t got = sl_flat_search(d->x, d->n, d->dim, qs->q[i], K, NULL, gt + i * K, &st);
        t[i] = (sl_now() - t0) * 1e3;
        if (st || got != K) die("sl_flat_search");
        s1 += gt[i * K].score;
        s10 += gt[i * K + K - 1].score;
        for (size_t j = 0; j < K; j++) real += (size_t)gt[i * K + j].index < n_real;
    }
    int nq = (int)qs->n;
    double med = sl_bench_median(t, nq);
    printf("| %s | exact scan (sl_flat_search, f32) | 1.000 | %.3f | %.3f | - | %u (rows) | mean score #1=%.4f #10=%.4f, real rows in top 10: %.0f %% |\n",
           set, med, pct(t, nq, 0.9), d->dim * 4, s1 / qs->n, s10 / qs->n, 100 * real / (K * (double)qs->n));
    fflush(stdout);
    free(t);
    return gt;
}

static sl_ann *build(const float *x, size_t n, size_t dim, int threads, double *secs, sl_ann_opts *o) {
    int64_t *ids = xmalloc(n * sizeof *ids);
    for (size_t i = 0; i < n; i++) ids[i] = (int64_t)i;
    sl_snapshot_ann_opts(o, n, dim, threads); /* exactly the library's */
    sl_ann *a;
    double t0 = sl_now();
    if (sl_ann_build(x, ids, n, dim, o, &a)) die("sl_ann_build");
    *secs = sl_now() - t0;
    free(ids);
    return a;
}

/* How many of the got hits are among the exact top K (gt, K entries). */
static size_t true_hits(const sl_hit *top, size_t got, const sl_hit *gt) {
    size_t n = 0;
    for (size_t x = 0; x < got; x++)
        for (size_t y = 0; y < K; y++)
            if (top[x].index == gt[y].index) {
                n++;
                break;
            }
    return n;
}

/* ANN candidates (index over the full rows, or over the p halves when
 * p_only) re-scored exactly on the full rows, as src/api/searcher.c does. */
static void run_ann(const dataset *d, const queries *qs, const sl_hit *gt, const sl_ann *a, int p_only,
                    uint32_t leaves, size_t cand, const char *set, const char *name, double build_s) {
    sl_hit *c = xmalloc(cand * sizeof *c);
    double *t = xmalloc(qs->n * sizeof *t);
    double hit_sum = 0;
    sl_ann_query_opts qo = {leaves, 0};
    for (size_t i = 0; i < qs->n; i++) {
        const float *q = qs->q[i];
        sl_hit top[K];
        double t0 = sl_now();
        sl_status st = SL_OK;
        size_t nc = sl_ann_search(a, p_only ? q + ZDIM : q, cand, &qo, c, &st);
        if (st) die("sl_ann_search");
        sl_topk tk;
        sl_topk_init(&tk, top, K);
        for (size_t j = 0; j < nc; j++) {
            float s;
            sl_dot_rows(q, d->x + (size_t)c[j].index * d->dim, 1, d->dim, &s);
            sl_topk_push(&tk, (sl_hit){c[j].index, s});
        }
        size_t got = sl_topk_finish(&tk);
        t[i] = (sl_now() - t0) * 1e3;
        hit_sum += (double)true_hits(top, got, gt + i * K);
    }
    int nq = (int)qs->n;
    double med = sl_bench_median(t, nq);
    const sl_ann_opts *o = sl_ann_options(a);
    char cfg[256];
    snprintf(cfg, sizeof cfg, "%s: leaves %u/%u, %zu cand", name, leaves ? leaves : o->num_leaves_to_search,
             o->num_leaves, cand);
    printf("| %s | %s | %.3f | %.3f | %.3f | %.1f | %.0f (index) | |\n", set, cfg, hit_sum / (K * (double)qs->n),
           med, pct(t, nq, 0.9), build_s, (double)sl_ann_bytes(a) / (double)sl_ann_count(a));
    fflush(stdout);
    free(c);
    free(t);
}


/* A hybrid: the p-only index's top cand_p by p, united with the exact top
 * cand_z by z (posting lists over the z halves, as the searcher keeps for
 * sparse libraries), all re-scored exactly on the full rows. */
static void run_hybrid(const dataset *d, const queries *qs, const sl_hit *gt, const sl_ann *ap,
                       const sl_postings *pz, const sl_sparse_rows *zr, size_t cand_p, size_t cand_z,
                       const char *set, double build_s, double bytes_item) {
    sl_hit *c = xmalloc((cand_p + cand_z) * sizeof *c);
    double *t = xmalloc(qs->n * sizeof *t);
    uint8_t *seen = calloc(d->n, 1);
    if (!seen) die("memory");
    double hit_sum = 0;
    for (size_t i = 0; i < qs->n; i++) {
        const float *q = qs->q[i];
        sl_hit top[K];
        double t0 = sl_now();
        sl_status st = SL_OK;
        size_t np = sl_ann_search(ap, q + ZDIM, cand_p, NULL, c, &st);
        size_t nz = st ? 0 : sl_postings_search(pz, zr, q, cand_z, c + np, NULL, &st);
        if (st) die("hybrid search");
        sl_topk tk;
        sl_topk_init(&tk, top, K);
        for (size_t j = 0; j < np + nz; j++) {
            if (seen[c[j].index]) continue;
            seen[c[j].index] = 1;
            float s;
            sl_dot_rows(q, d->x + (size_t)c[j].index * d->dim, 1, d->dim, &s);
            sl_topk_push(&tk, (sl_hit){c[j].index, s});
        }
        size_t got = sl_topk_finish(&tk);
        for (size_t j = 0; j < np + nz; j++) seen[c[j].index] = 0;
        t[i] = (sl_now() - t0) * 1e3;
        hit_sum += (double)true_hits(top, got, gt + i * K);
    }
    int nq = (int)qs->n;
    double med = sl_bench_median(t, nq);
    printf("| %s | hybrid: p index (leaves %u/%u) %zu cand + z posting lists %zu cand | %.3f | %.3f | %.3f | %.1f | %.0f (index + lists) | |\n",
           set, sl_ann_options(ap)->num_leaves_to_search, sl_ann_options(ap)->num_leaves, cand_p, cand_z,
           hit_sum / (K * (double)qs->n), med, pct(t, nq, 0.9), build_s, bytes_item);
    fflush(stdout);
    free(c);
    free(t);
    free(seen);
}

static void measure(const dataset *d, const queries *qs, const char *set, size_t n_real, int threads, int sweep) {
    sl_hit *gt = exact(d, qs, set, n_real);
    const uint32_t pd = d->dim - ZDIM;
    sl_ann_opts o;
    double bs;
    sl_ann *a = build(d->x, d->n, d->dim, threads, &bs, &o);
    const uint32_t L = o.num_leaves_to_search, NL = o.num_leaves;
    run_ann(d, qs, gt, a, 0, 0, LIB_CANDIDATES, set, "full, library default", bs);
    if (sweep) {
        const uint32_t ls[] = {L, 2 * L, 4 * L, 8 * L};
        const size_t cs[] = {100, 300, 1000};
        for (size_t i = 0; i < 4; i++)
            for (size_t j = 0; j < 3; j++) {
                if ((i == 0 && j == 0) || ls[i] > NL || (NL == 1 && i > 0)) continue;
                run_ann(d, qs, gt, a, 0, ls[i], cs[j], set, "full", bs);
            }
    }
    sl_ann_free(a);
    a = build(d->xp, d->n, pd, threads, &bs, &o);
    run_ann(d, qs, gt, a, 1, 0, LIB_CANDIDATES, set, "p only, library opts", bs);
    if (sweep) {
        const uint32_t ls[] = {L, 2 * L, 4 * L};
        const size_t cs[] = {100, 300, 1000};
        for (size_t i = 0; i < 3; i++)
            for (size_t j = 0; j < 3; j++) {
                if ((i == 0 && j == 0) || ls[i] > NL || (NL == 1 && i > 0)) continue;
                run_ann(d, qs, gt, a, 1, ls[i], cs[j], set, "p only", bs);
            }
        /* the z halves as CSR (the full rows' first ZDIM columns: a z-only
         * query is the full query, its p columns absent from the rows) */
        float *z = xmalloc(d->n * ZDIM * sizeof(float));
        for (size_t i = 0; i < d->n; i++) memcpy(z + i * ZDIM, d->x + i * d->dim, ZDIM * sizeof(float));
        sl_sparse_rows zr;
        sl_postings pz;
        double t0 = sl_now();
        if (sl_sparse_from_dense(z, d->n, ZDIM, &zr) || sl_postings_build(&zr, &pz)) die("postings");
        const double zs = sl_now() - t0;
        free(z);
        /* CSR (6 bytes a value + 4 a row) and lists (4 bytes a value) */
        const double zb = (10.0 * zr.row_first[zr.n] + 4.0 * zr.n) / (double)d->n;
        const double bi = (double)sl_ann_bytes(a) / (double)sl_ann_count(a) + zb;
        const size_t hc[][2] = {{100, 100}, {300, 100}, {300, 300}};
        for (size_t h = 0; h < 3; h++) run_hybrid(d, qs, gt, a, &pz, &zr, hc[h][0], hc[h][1], set, bs + zs, bi);
        sl_postings_free(&pz);
        sl_sparse_rows_free(&zr);
    }
    sl_ann_free(a);
    free(gt);
}

static void fill_p(dataset *d) {
    const uint32_t pd = d->dim - ZDIM;
    d->xp = sl_malloc_aligned(d->n * pd * sizeof(float));
    if (!d->xp) die("memory");
    for (size_t i = 0; i < d->n; i++) memcpy(d->xp + i * pd, d->x + i * d->dim + ZDIM, pd * sizeof(float));
}

static int usage(void) {
    fprintf(stderr, "usage: bench_tuned_ann TUNED_MODEL ASSETS_DIR [--items N] [--queries N]\n"
                    "                       [--p-mode noise|mix|augment]\n"
                    "                       [--p-noise S] [--cache FILE] [--build-threads N]\n");
    return 2;
}

int main(int argc, char **argv) {
    if (argc < 3) return usage();
    const char *model_path = argv[1], *assets = argv[2], *cache = NULL;
    size_t n_items = 100000, n_queries = 1000;
    int mix = 0, aug = 0, threads = 2;
    double p_noise = 0.5;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--items") && i + 1 < argc) n_items = (size_t)strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--queries") && i + 1 < argc) n_queries = (size_t)strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--p-mode") && i + 1 < argc) {
            i++;
            mix = !strcmp(argv[i], "mix");
            aug = !strcmp(argv[i], "augment");
        }
        else if (!strcmp(argv[i], "--p-noise") && i + 1 < argc) p_noise = atof(argv[++i]);
        else if (!strcmp(argv[i], "--cache") && i + 1 < argc) cache = argv[++i];
        else if (!strcmp(argv[i], "--build-threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else return usage();
    }
    sl_model *model;
    if (sl_model_open(model_path, &model)) die(model_path);
    const uint32_t dim = sl_model_dim(model);
    if (sl_model_sparse(model) || dim <= ZDIM) {
        fprintf(stderr, "bench_tuned_ann: %s is not a tuned (dense) model\n", model_path);
        return 1;
    }
    real_set re;
    get_real(model, assets, cache, &re);
    if (re.dim != dim) die("cache dimension");

    /* Queries: a random subset of the captions with a known word. */
    queries qs = {0, xmalloc(re.n_cap * sizeof(float *))};
    size_t *perm = xmalloc(re.n_cap * sizeof *perm);
    for (size_t i = 0; i < re.n_cap; i++) perm[i] = i;
    for (size_t i = re.n_cap; i > 1; i--) {
        size_t j = (size_t)(sl_bench_rand() % i), t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
    for (size_t i = 0; i < re.n_cap && qs.n < n_queries; i++) {
        const float *q = re.cap + perm[i] * dim;
        if (norm2(q, dim) > 0.5) qs.q[qs.n++] = q;
    }
    double bsum = 0, nzsum = 0;
    for (size_t i = 0; i < re.n_img; i++) {
        bsum += norm2(re.img + i * dim + ZDIM, dim - ZDIM);
        for (uint32_t j = 0; j < ZDIM; j++) nzsum += re.img[i * dim + j] != 0.0f;
    }
    double l1, l5, l15;
    FILE *la = fopen("/proc/loadavg", "r");
    if (!la || fscanf(la, "%lf %lf %lf", &l1, &l5, &l15) != 3) l1 = l5 = l15 = -1;
    if (la) fclose(la);
    printf("model: %s id=%s dim=%u real_images=%zu queries=%zu mean_b=%.3f mean_z_nnz=%.1f load=%.2f,%.2f,%.2f\n",
           model_path, sl_model_id(model), dim, re.n_img, qs.n, bsum / re.n_img, nzsum / re.n_img, l1, l5, l15);
    printf("\n| set | configuration | recall@10 | median ms | p90 ms | build s | bytes/item | |\n");
    printf("|---|---|---|---|---|---|---|---|\n");
    fflush(stdout);

    /* The real rows alone (the library would scan them: below 20,000). */
    dataset d = {re.n_img, dim, sl_malloc_aligned(re.n_img * dim * sizeof(float)), NULL};
    if (!d.x) die("memory");
    memcpy(d.x, re.img, re.n_img * dim * sizeof(float));
    fill_p(&d);
    measure(&d, &qs, "real1680", re.n_img, threads, 0);
    sl_free_aligned(d.x);
    sl_free_aligned(d.xp);

    if (n_items) {
        float *crops = NULL;
        if (aug) crops = augment(model, assets, (n_items + re.n_img - 1) / re.n_img, cache, &n_items);
        d.n = re.n_img + n_items;
        d.x = sl_malloc_aligned(d.n * dim * sizeof(float));
        if (!d.x) die("memory");
        memcpy(d.x, re.img, re.n_img * dim * sizeof(float));
        if (aug) memcpy(d.x + re.n_img * dim, crops, n_items * dim * sizeof(float));
        else
            for (size_t i = re.n_img; i < d.n; i++) synth_row(&re, mix, p_noise, d.x + i * dim);
        free(crops);
        fill_p(&d);
        char set[64];
        if (aug) snprintf(set, sizeof set, "real+%zuk crops", n_items / 1000);
        else snprintf(set, sizeof set, "real+%zuk %s%.2g", n_items / 1000, mix ? "mix+noise" : "noise", p_noise);
        measure(&d, &qs, set, re.n_img, threads, 1);
        sl_free_aligned(d.x);
        sl_free_aligned(d.xp);
    }
    free(perm);
    free(qs.q);
    free(re.img);
    free(re.cap);
    sl_model_free(model);
    return 0;
}
