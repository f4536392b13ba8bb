/* The training loop over cached features (train_fit.h). */
#include "api/train_fit.h"

#include "searcher/eval.h"
#include "train/dual.h"
#include "train/gemm.h"
#include "train/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The blends tried on validation: 0, 0.05, ..., 1. */
#define BLEND_STEPS 20

void sl_fit_result_free(sl_fit_result *r) {
    if (!r) return;
    free(r->weights);
    memset(r, 0, sizeof *r);
}

/* ---- validation through score blocks ------------------------------------------ */

/* Captions scored per block: the zero-shot and head scores of BLOCK captions
 * against every validation image (2 x BLOCK x n_img floats), so memory stays
 * small whatever the validation set's size. */
#define BLOCK 256

/* The validation set: its images' features and their known captions, the
 * head outputs of each epoch, one block of scores and the ranks of every
 * caption under every blend. */
typedef struct val_set {
    size_t n_img, n_cap, z_dim, word_dim, pooled_dim, image_dim, text_dim, dim;
    float *img, *txt;  /* (n_img, image_dim), (n_cap, text_dim) */
    uint32_t *cap_img; /* (n_cap) local image index */
    float *pi, *pt;    /* (n_img, dim), (n_cap, dim) head outputs (zero: none yet) */
    float *sz, *sp;    /* (BLOCK, n_img) zero-shot and head scores of one block */
    uint32_t *ranks;   /* (BLEND_STEPS + 1, n_cap) */
    size_t block0;     /* first caption of the block being ranked */
    int n_blends;      /* blends ranked: 1 (b = 0 only) or BLEND_STEPS + 1 */
} val_set;

static void val_free(val_set *v) {
    sl_free_aligned(v->img);
    sl_free_aligned(v->txt);
    free(v->cap_img);
    free(v->sz);
    free(v->sp);
    free(v->pi);
    free(v->pt);
    free(v->ranks);
}

static sl_status val_build(const sl_feature_set *f, const sl_image_captions *ic, const uint32_t *val, size_t n_val,
                           size_t dim, val_set *v) {
    memset(v, 0, sizeof *v);
    v->n_img = n_val;
    v->z_dim = f->z_dim;
    v->word_dim = f->word_dim;
    v->pooled_dim = f->pooled_dim;
    v->image_dim = f->image_dim;
    v->text_dim = f->text_dim;
    v->dim = dim;
    for (size_t i = 0; i < n_val; i++) v->n_cap += ic->first[val[i] + 1] - ic->first[val[i]];
    if (!v->n_cap) return sl_fail(SL_ERR_ARG, "train: no validation image has a caption with a known word");
    size_t b_img, b_txt, b_blk, b_rank;
    if (sl_mul_overflow(n_val, f->image_dim * sizeof(float), &b_img) ||
        sl_mul_overflow(v->n_cap, f->text_dim * sizeof(float), &b_txt) ||
        sl_mul_overflow((size_t)BLOCK * sizeof(float), n_val, &b_blk) ||
        sl_mul_overflow((size_t)(BLEND_STEPS + 1) * sizeof(uint32_t), v->n_cap, &b_rank))
        return sl_fail(SL_ERR_LIMIT, "train: validation set too large");
    v->img = sl_malloc_aligned(b_img);
    v->txt = sl_malloc_aligned(b_txt);
    v->cap_img = sl_malloc_array(v->n_cap, sizeof *v->cap_img);
    v->sz = malloc(b_blk);
    v->sp = malloc(b_blk);
    v->pi = calloc(n_val, dim * sizeof(float));
    v->pt = calloc(v->n_cap, dim * sizeof(float));
    v->ranks = malloc(b_rank);
    if (!v->img || !v->txt || !v->cap_img || !v->sz || !v->sp || !v->pi || !v->pt || !v->ranks)
        return sl_fail(SL_ERR_NOMEM, "train: out of memory for the validation set");
    size_t a = 0;
    for (size_t i = 0; i < n_val; i++) {
        uint32_t g = val[i];
        memcpy(v->img + i * f->image_dim, f->image + (size_t)g * f->image_dim, f->image_dim * sizeof(float));
        for (uint32_t c = ic->first[g]; c < ic->first[g + 1]; c++, a++) {
            memcpy(v->txt + a * f->text_dim, f->text + (size_t)ic->list[c] * f->text_dim, f->text_dim * sizeof(float));
            v->cap_img[a] = (uint32_t)i;
        }
    }
    return SL_OK;
}

/* Ranks of one caption of the current block under each blend b_k = k / 20:
 * score (1 - b) z.z' + b p.p', rank as sl_eval's (1 + images scoring higher
 * + equal scores at a lower index). A non-finite score of its own image
 * ranks last: a broken head must never look perfect. */
static void rank_task(void *ctx, size_t task, int thread) {
    (void)thread;
    val_set *v = ctx;
    const size_t a = v->block0 + task;
    const float *z = v->sz + task * v->n_img, *p = v->sp + task * v->n_img;
    const uint32_t t = v->cap_img[a];
    for (int k = 0; k < v->n_blends; k++) {
        const float b = (float)k / BLEND_STEPS;
        const float s = (1.0f - b) * z[t] + b * p[t];
        uint32_t r = 1;
        if (!isfinite(s)) {
            r = (uint32_t)v->n_img;
        } else {
            for (size_t j = 0; j < v->n_img; j++) {
                const float x = (1.0f - b) * z[j] + b * p[j];
                r += x > s || (x == s && j < t);
            }
        }
        v->ranks[(size_t)k * v->n_cap + a] = r;
    }
}

/* Every caption's ranks under n_blends blends, from the head outputs now in
 * pi and pt, block by block: the scores on the calling thread (OpenBLAS
 * threads), the ranking over the pool. */
static sl_status val_rank(val_set *v, int n_blends, sl_pool *pool) {
    v->n_blends = n_blends;
    for (v->block0 = 0; v->block0 < v->n_cap; v->block0 += BLOCK) {
        const size_t m = SL_MIN((size_t)BLOCK, v->n_cap - v->block0);
        sl_status st = sl_gemm_f32(0, 1, m, v->n_img, v->z_dim, 1.0f, v->txt + v->block0 * v->text_dim + v->word_dim,
                                   v->text_dim, v->img + v->pooled_dim, v->image_dim, 0.0f, v->sz, v->n_img);
        if (!st)
            st = sl_gemm_f32(0, 1, m, v->n_img, v->dim, 1.0f, v->pt + v->block0 * v->dim, v->dim, v->pi, v->dim, 0.0f,
                             v->sp, v->n_img);
        if (st) return st;
        sl_pool_run(pool, m, rank_task, v);
    }
    return SL_OK;
}

static double quality(const sl_recall *r) { return (r->r1 + r->r5 + r->r10) / 3.0; }

/* The recall under blend k (its ranks are sorted in place: rank first). */
static void val_recall(val_set *v, int k, sl_recall *out) {
    sl_eval_summarize(v->ranks + (size_t)k * v->n_cap, v->n_cap, out);
}

/* The heads' outputs of this epoch, then the best blend: the first
 * (smallest) b of the highest mean R@1/5/10. */
static sl_status val_best_blend(val_set *v, sl_dual *d, sl_pool *pool, float *blend, sl_recall *best) {
    sl_status st = sl_dual_embed(d, SL_TOWER_IMAGE, v->img, v->n_img, v->pi);
    if (!st) st = sl_dual_embed(d, SL_TOWER_TEXT, v->txt, v->n_cap, v->pt);
    if (!st) st = val_rank(v, BLEND_STEPS + 1, pool);
    if (st) return st;
    double best_q = -1;
    memset(best, 0, sizeof *best);
    for (int k = 0; k <= BLEND_STEPS; k++) {
        sl_recall r;
        val_recall(v, k, &r);
        if (quality(&r) > best_q) {
            best_q = quality(&r);
            *best = r;
            *blend = (float)k / BLEND_STEPS;
        }
    }
    return SL_OK;
}

/* ---- weights ----------------------------------------------------------------- */

typedef struct tensors {
    sl_param p[4 * SL_MLP_MAX_LAYERS];
    size_t n, floats;
    size_t n_layers[2];
} tensors;

static void list_tensors(sl_dual *d, tensors *t) {
    memset(t, 0, sizeof *t);
    for (int k = 0; k < 2; k++) {
        size_t got = sl_mlp_params(sl_dual_tower(d, (sl_tower)k), t->p + t->n, SL_ARRAY_LEN(t->p) - t->n);
        t->n_layers[k] = got / 2;
        t->n += got;
    }
    for (size_t i = 0; i < t->n; i++) t->floats += t->p[i].rows * t->p[i].cols;
}

static void save_weights(const tensors *t, float *buf) {
    for (size_t i = 0; i < t->n; i++) {
        size_t n = t->p[i].rows * t->p[i].cols;
        memcpy(buf, t->p[i].value, n * sizeof *buf);
        buf += n;
    }
}

/* heads as views into buf (saved by save_weights): weight then bias of
 * each layer, image tower first. */
static void heads_view(const tensors *t, float *buf, float blend, sl_heads *h) {
    memset(h, 0, sizeof *h);
    size_t i = 0;
    for (int k = 0; k < 2; k++) {
        sl_head *head = k == 0 ? &h->image : &h->text;
        head->n_layers = t->n_layers[k];
        for (size_t l = 0; l < head->n_layers; l++, i += 2) {
            const sl_param *w = &t->p[i], *b = &t->p[i + 1];
            head->layers[l] = (sl_head_layer){(uint32_t)w->cols, (uint32_t)w->rows, buf, buf + w->rows * w->cols};
            buf += w->rows * w->cols + b->rows * b->cols;
        }
    }
    h->blend = blend;
}

/* ---- the loop ------------------------------------------------------------------ */

/* Warm-up over the first epoch, then cosine decay to zero at the last step
 * of the last epoch (SGDR without restarts, as CLIP trains). */
static float learning_rate(float peak, size_t step, size_t warmup, size_t total) {
    if (step < warmup) return peak * (float)(step + 1) / (float)warmup;
    if (total <= warmup) return peak;
    double x = (double)(step - warmup) / (double)(total - warmup);
    return (float)(peak * 0.5 * (1.0 + cos(3.14159265358979323846 * x)));
}

sl_status sl_fit_heads(const sl_feature_set *f, const sl_image_captions *ic, const uint32_t *train, size_t n_train,
                       const uint32_t *val, size_t n_val, const sl_fit_opts *o, sl_fit_result *out) {
    memset(out, 0, sizeof *out);
    /* only images with a known-word caption take part */
    uint32_t *pool_imgs = sl_malloc_array(n_train ? n_train : 1, sizeof *pool_imgs);
    if (!pool_imgs) return sl_fail(SL_ERR_NOMEM, "train: out of memory");
    size_t n_pool = 0;
    for (size_t i = 0; i < n_train; i++)
        if (ic->first[train[i] + 1] > ic->first[train[i]]) pool_imgs[n_pool++] = train[i];
    if (n_pool < 2) {
        free(pool_imgs);
        return sl_fail(SL_ERR_ARG, "train: %zu training image(s) with a known-word caption; need at least 2", n_pool);
    }
    size_t batch = SL_MIN((size_t)o->batch, n_pool);
    sl_dual_opts dopt;
    sl_dual_opts_init(&dopt);
    size_t nd = 0;
    dopt.image_dims[nd] = f->image_dim;
    dopt.text_dims[nd++] = f->text_dim;
    if (o->hidden) {
        dopt.image_dims[nd] = o->hidden;
        dopt.text_dims[nd++] = o->hidden;
    }
    dopt.image_dims[nd] = o->dim;
    dopt.text_dims[nd++] = o->dim;
    dopt.image_n_dims = dopt.text_n_dims = nd;
    dopt.max_batch = batch;
    dopt.dropout = o->dropout;
    dopt.seed = o->seed;
    dopt.threads = o->threads;
    dopt.adamw.weight_decay = o->weight_decay;
    dopt.adamw.clip_norm = 1.0f; /* one bad batch cannot wreck the heads */

    sl_dual *d = NULL;
    val_set v;
    memset(&v, 0, sizeof v);
    float *bi = NULL, *bt = NULL, *best = NULL;
    tensors t;
    sl_status st = sl_dual_new(&dopt, &d);
    if (!st) st = val_build(f, ic, val, n_val, o->dim, &v);
    if (!st) {
        list_tensors(d, &t);
        bi = sl_malloc_aligned(batch * f->image_dim * sizeof(float));
        bt = sl_malloc_aligned(batch * f->text_dim * sizeof(float));
        best = sl_malloc_array(t.floats, sizeof *best);
        if (!bi || !bt || !best) st = sl_fail(SL_ERR_NOMEM, "train: out of memory");
    }
    sl_recall zero_r;
    float best_blend = 0.0f;
    double best_q = 0;
    if (!st) {
        /* the zero-shot baseline (b = 0; the head outputs are still zero):
         * an epoch must beat it to be kept */
        st = val_rank(&v, 1, o->pool);
        if (!st) {
            val_recall(&v, 0, &zero_r);
            best_q = quality(&zero_r);
            save_weights(&t, best);
        }
    }
    size_t steps = (n_pool / batch) + (n_pool % batch >= 2);
    size_t total = steps * (size_t)o->epochs, step = 0;
    uint64_t rng = o->seed ^ 0x73616d706c6572ull; /* "sampler" */
    int since_best = 0;
    for (int epoch = 1; !st && epoch <= o->epochs; epoch++) {
        /* one caption per image, images in a fresh order */
        sl_shuffle_u32(pool_imgs, n_pool, &rng);
        double loss_sum = 0;
        size_t loss_n = 0;
        for (size_t s = 0; !st && s < steps; s++) {
            size_t lo = s * batch, n = SL_MIN(batch, n_pool - lo);
            for (size_t r = 0; r < n; r++) {
                uint32_t g = pool_imgs[lo + r];
                uint32_t k = ic->first[g + 1] - ic->first[g];
                uint32_t a = ic->list[ic->first[g] + (uint32_t)(sl_rng_next(&rng) % k)];
                memcpy(bi + r * f->image_dim, f->image + (size_t)g * f->image_dim, f->image_dim * sizeof(float));
                memcpy(bt + r * f->text_dim, f->text + (size_t)a * f->text_dim, f->text_dim * sizeof(float));
            }
            sl_dual_stats ds;
            st = sl_dual_step(d, bi, bt, NULL, n, learning_rate(o->lr, step++, steps, total), &ds);
            if (st == SL_ERR_CORRUPT) st = sl_fail(SL_ERR_CORRUPT, "train: diverged at epoch %d (try a lower --lr)", epoch);
            if (st) break;
            loss_sum += ds.loss;
            loss_n++;
        }
        float blend = 0;
        sl_recall r;
        memset(&r, 0, sizeof r);
        if (!st) st = val_best_blend(&v, d, o->pool, &blend, &r);
        if (st) break;
        out->epochs_run = epoch;
        if (quality(&r) > best_q + 1e-12) {
            best_q = quality(&r);
            best_blend = blend;
            out->best_epoch = epoch;
            save_weights(&t, best);
            since_best = 0;
        } else {
            since_best++;
        }
        if (o->progress) {
            sl_train_progress p;
            memset(&p, 0, sizeof p);
            p.phase = SL_TRAIN_EPOCH;
            p.fold = o->fold;
            p.folds = o->folds;
            p.epoch = epoch;
            p.epochs = o->epochs;
            p.loss = loss_n ? loss_sum / (double)loss_n : 0;
            p.val_r1 = r.r1;
            p.val_r10 = r.r10;
            p.blend = blend;
            p.seconds = sl_now() - o->t0;
            if (o->progress(o->progress_user, &p)) st = sl_fail(SL_ERR_STATE, "train: cancelled");
        }
        if (since_best >= o->patience) break;
    }
    if (!st) {
        out->weights = best;
        best = NULL;
        heads_view(&t, out->weights, best_blend, &out->heads);
        /* the figures as the saved model will embed */
        st = sl_subset_recall(f, val, n_val, NULL, o->pool, &out->val_zero_shot);
        if (!st) st = sl_subset_recall(f, val, n_val, &out->heads, o->pool, &out->val_tuned);
    }
    if (st) sl_fit_result_free(out);
    free(best);
    sl_free_aligned(bi);
    sl_free_aligned(bt);
    val_free(&v);
    sl_dual_free(d);
    free(pool_imgs);
    return st;
}

/* ---- held-out recall as the model embeds --------------------------------------- */

typedef struct embed_job {
    const sl_feature_set *f;
    const sl_heads *heads;
    const uint32_t *rows; /* image rows, then caption rows */
    size_t n_img, n_cap, dim;
    float *img, *cap, *scratch;
    size_t scratch_stride;
} embed_job;

static void embed_task(void *ctx, size_t task, int thread) {
    embed_job *j = ctx;
    const sl_feature_set *f = j->f;
    int is_img = task < j->n_img;
    size_t g = j->rows[task];
    float *out = is_img ? j->img + task * j->dim : j->cap + (task - j->n_img) * j->dim;
    const float *x = is_img ? f->image + g * f->image_dim : f->text + g * f->text_dim;
    const float *z = x + (is_img ? f->pooled_dim : f->word_dim);
    if (!is_img && !f->caption_known[g]) {
        memset(out, 0, j->dim * sizeof *out);
        return;
    }
    if (!j->heads) {
        memcpy(out, z, f->z_dim * sizeof *out);
        return;
    }
    const sl_head *h = is_img ? &j->heads->image : &j->heads->text;
    float *s = j->scratch + (size_t)thread * j->scratch_stride;
    float *p = s + SL_MAX(sl_head_scratch(&j->heads->image), sl_head_scratch(&j->heads->text));
    sl_head_apply(h, x, s, p);
    sl_heads_blend(j->heads->blend, z, f->z_dim, p, j->dim - f->z_dim, out);
}

sl_status sl_subset_recall(const sl_feature_set *f, const uint32_t *imgs, size_t n, const sl_heads *heads,
                           sl_pool *pool, sl_recall *t2i) {
    if (!f || !imgs || !n || !t2i) return sl_fail(SL_ERR_ARG, "train: empty evaluation set");
    int32_t *local = malloc(f->n_images * sizeof *local);
    if (!local) return sl_fail(SL_ERR_NOMEM, "train: out of memory");
    for (size_t i = 0; i < f->n_images; i++) local[i] = -1;
    for (size_t i = 0; i < n; i++) local[imgs[i]] = (int32_t)i;
    size_t n_cap = 0;
    for (size_t a = 0; a < f->n_captions; a++) n_cap += local[f->caption_image[a]] >= 0;
    embed_job j = {f, heads, NULL, n, n_cap, f->z_dim, NULL, NULL, NULL, 0};
    if (heads) {
        j.dim += heads->image.layers[heads->image.n_layers - 1].out;
        j.scratch_stride = SL_MAX(sl_head_scratch(&heads->image), sl_head_scratch(&heads->text)) + j.dim;
    }
    int threads = sl_pool_threads(pool);
    uint32_t *rows = sl_malloc_array(n + n_cap, sizeof *rows), *cap_img = sl_malloc_array(n_cap ? n_cap : 1, sizeof *cap_img);
    j.img = sl_malloc_array(n * j.dim, sizeof(float));
    j.cap = sl_malloc_array((n_cap ? n_cap : 1) * j.dim, sizeof(float));
    j.scratch = sl_malloc_array((size_t)(threads < 1 ? 1 : threads) * (j.scratch_stride ? j.scratch_stride : 1), sizeof(float));
    sl_status st = SL_OK;
    if (!rows || !cap_img || !j.img || !j.cap || !j.scratch) st = sl_fail(SL_ERR_NOMEM, "train: out of memory");
    else if (!n_cap) st = sl_fail(SL_ERR_ARG, "train: the evaluation images have no caption");
    if (!st) {
        memcpy(rows, imgs, n * sizeof *rows);
        size_t c = 0;
        for (size_t a = 0; a < f->n_captions; a++)
            if (local[f->caption_image[a]] >= 0) {
                rows[n + c] = (uint32_t)a;
                cap_img[c++] = (uint32_t)local[f->caption_image[a]];
            }
        j.rows = rows;
        sl_pool_run(pool, n + n_cap, embed_task, &j);
        sl_recall i2t;
        st = sl_eval_retrieval(j.img, n, j.cap, n_cap, cap_img, j.dim, pool, t2i, &i2t);
    }
    free(local);
    free(rows);
    free(cap_img);
    free(j.img);
    free(j.cap);
    free(j.scratch);
    return st;
}
