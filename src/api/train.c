/* `searchlite train` (sl_train): features once (cached), optional K-fold
 * cross-validation by image, the final fit on every image and the tuned
 * model file. docs/TRAINING.md "The command". */
#include "api/model_internal.h"
#include "api/train_features.h"
#include "api/train_fit.h"
#include "api/train_split.h"
#include "core/core.h"
#include "model/tuned_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Fewer images than this cannot give a validation split and negatives. */
#define MIN_IMAGES 10

void sl_train_opts_init(sl_train_opts *o) {
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->epochs = 40;
    o->patience = 8;
    o->batch = 128;
    o->lr = 1e-3f;
    o->weight_decay = 0.05f;
    o->dropout = 0.3f;
    o->dim = 128;
    o->hidden = 1024;
    o->seed = 1;
    o->n_threads = 2;
    o->val_split = 0.1f;
}

static sl_status check_opts(const sl_train_opts *o) {
    if (!o->sets || !o->n_sets) return sl_fail(SL_ERR_ARG, "train: no captions file given");
    for (size_t s = 0; s < o->n_sets; s++)
        if (!o->sets[s].captions || !o->sets[s].images_dir)
            return sl_fail(SL_ERR_ARG, "train: set %zu lacks its captions file or images folder", s + 1);
    if (o->epochs < 1 || o->epochs > 10000) return sl_fail(SL_ERR_ARG, "train: epochs %d outside 1..10000", o->epochs);
    if (o->patience < 1) return sl_fail(SL_ERR_ARG, "train: patience %d < 1", o->patience);
    if (o->batch < 2 || o->batch > 1024) return sl_fail(SL_ERR_ARG, "train: batch %d outside 2..1024", o->batch);
    if (!(o->lr > 0 && o->lr <= 1)) return sl_fail(SL_ERR_ARG, "train: learning rate %g outside (0, 1]", (double)o->lr);
    if (!(o->weight_decay >= 0 && o->weight_decay <= 10))
        return sl_fail(SL_ERR_ARG, "train: weight decay %g outside 0..10", (double)o->weight_decay);
    if (!(o->dropout >= 0 && o->dropout < 1)) return sl_fail(SL_ERR_ARG, "train: dropout %g outside [0, 1)", (double)o->dropout);
    if (o->dim < 1 || o->dim > 4096) return sl_fail(SL_ERR_ARG, "train: dim %u outside 1..4096", o->dim);
    if (o->hidden > 16384) return sl_fail(SL_ERR_ARG, "train: hidden %u above 16384", o->hidden);
    if (o->n_threads > 256) return sl_fail(SL_ERR_ARG, "train: %d threads (max 256)", o->n_threads);
    if (!(o->val_split >= 0.02f && o->val_split <= 0.5f))
        return sl_fail(SL_ERR_ARG, "train: validation split %g outside 0.02..0.5", (double)o->val_split);
    if (o->folds == 1 || o->folds < 0 || o->folds > SL_TRAIN_MAX_FOLDS)
        return sl_fail(SL_ERR_ARG, "train: %d folds (0, or 2..%d)", o->folds, SL_TRAIN_MAX_FOLDS);
    return SL_OK;
}

/* ---- features of one set, through the cache ------------------------------------ */

/* What decides a set's features besides the model: the captions file's
 * bytes and each image's name, size and modification time (hashing every
 * image would cost as much as reading them). */
static sl_status set_key(const sl_train_set *set, const sl_captions *caps, uint8_t key[32]) {
    uint8_t *bytes = NULL;
    size_t size = 0;
    sl_status st = sl_file_read(set->captions, SL_CAPTIONS_MAX_BYTES, &bytes, &size);
    if (st) return st;
    sl_sha256 *h;
    if ((st = sl_sha256_new(&h))) {
        free(bytes);
        return st;
    }
    sl_sha256_update(h, "searchlite-features-1", 21);
    sl_sha256_update(h, bytes, size);
    free(bytes);
    for (size_t i = 0; i < caps->n_images; i++) {
        char path[4096];
        struct stat sb;
        int n = snprintf(path, sizeof path, "%s/%s", set->images_dir, caps->images[i].file_name);
        int64_t meta[3] = {-1, -1, -1};
        if (n > 0 && (size_t)n < sizeof path && stat(path, &sb) == 0) {
            meta[0] = (int64_t)sb.st_size;
            meta[1] = (int64_t)sb.st_mtim.tv_sec;
            meta[2] = (int64_t)sb.st_mtim.tv_nsec;
        }
        sl_sha256_update(h, caps->images[i].file_name, strlen(caps->images[i].file_name) + 1);
        sl_sha256_update(h, meta, sizeof meta);
    }
    sl_sha256_final(h, key);
    sl_sha256_free(h);
    return SL_OK;
}

typedef struct progress_bridge {
    const sl_train_opts *o;
    double t0;
} progress_bridge;

static int features_progress(void *user, size_t done, size_t total) {
    progress_bridge *b = user;
    if (!b->o->progress) return 0;
    sl_train_progress p;
    memset(&p, 0, sizeof p);
    p.phase = SL_TRAIN_FEATURES;
    p.done = done;
    p.total = total;
    p.seconds = sl_now() - b->t0;
    return b->o->progress(b->o->progress_user, &p);
}

static sl_status set_features(const sl_model *m, const sl_train_set *set, const sl_train_opts *o, double t0,
                              int *from_cache, sl_feature_set *out) {
    sl_captions caps;
    sl_status st = sl_captions_load(set->captions, &caps);
    if (st) return sl_fail_prefix(st, set->captions);
    if (!caps.n_images || !caps.n_captions) {
        sl_captions_free(&caps);
        return sl_fail(SL_ERR_CORRUPT, "%s: no images or no captions", set->captions);
    }
    char cache[4096] = "";
    uint8_t key[32];
    if (o->cache_dir && !(st = set_key(set, &caps, key))) {
        /* one file per model and data: two runs on other data never clash */
        uint8_t name[32];
        sl_sha256 *h;
        if (!(st = sl_sha256_new(&h))) {
            sl_sha256_update(h, sl_model_id(m), strlen(sl_model_id(m)));
            sl_sha256_update(h, key, sizeof key);
            sl_sha256_final(h, name);
            sl_sha256_free(h);
            char hex[33];
            sl_hex(name, 16, hex);
            int n = snprintf(cache, sizeof cache, "%s/features-%s.slf", o->cache_dir, hex);
            if (n < 0 || (size_t)n >= sizeof cache) cache[0] = '\0';
        }
    }
    *from_cache = 0;
    if (!st && cache[0]) {
        sl_status ls = sl_features_load(cache, sl_model_id(m), key, out);
        /* the id and key matched; the sizes must still be this model's, or
         * the heads would learn a wrong layout */
        if (!ls && out->n_images == caps.n_images && out->n_captions == caps.n_captions &&
            out->pooled_dim == sl_model_pooled_dim(m) && out->word_dim == sl_model_word_dim(m) &&
            out->z_dim == sl_model_zero_shot_dim(m)) {
            *from_cache = 1;
        } else {
            if (!ls) {
                sl_feature_set_free(out);
                sl_log(SL_LOG_WARN, "train: feature cache %s does not fit the data; recomputing", cache);
            }
            if (ls != SL_OK && ls != SL_ERR_NOT_FOUND)
                sl_log(SL_LOG_WARN, "train: feature cache %s not used (%s); recomputing", cache, sl_last_error());
        }
    }
    if (!st && !*from_cache) {
        progress_bridge b = {o, t0};
        st = sl_features_compute(m, &caps, set->images_dir, o->n_threads, features_progress, &b, out);
        if (!st && cache[0]) {
            /* a cache that cannot be written costs time next run, never this one */
            if (mkdir(o->cache_dir, 0777) != 0 && errno != EEXIST)
                sl_log(SL_LOG_WARN, "train: cannot create the cache folder %s", o->cache_dir);
            else if (sl_features_save(out, sl_model_id(m), key, cache) != SL_OK)
                sl_log(SL_LOG_WARN, "train: cannot write the feature cache %s: %s", cache, sl_last_error());
        }
    }
    if (st == SL_ERR_STATE) st = sl_fail(SL_ERR_STATE, "train: cancelled");
    sl_captions_free(&caps);
    return st;
}

/* All sets as one: images and captions in set order. */
static sl_status concat(sl_feature_set *sets, size_t n, sl_feature_set *out) {
    if (n == 1) {
        *out = sets[0];
        memset(&sets[0], 0, sizeof sets[0]);
        return SL_OK;
    }
    memset(out, 0, sizeof *out);
    *out = sets[0];
    out->image = NULL;
    out->text = NULL;
    out->caption_image = NULL;
    out->caption_known = NULL;
    out->n_images = out->n_captions = out->n_unknown = 0;
    for (size_t s = 0; s < n; s++) {
        if (sets[s].image_dim != sets[0].image_dim || sets[s].text_dim != sets[0].text_dim)
            return sl_fail(SL_ERR_INTERNAL, "train: feature sizes differ between sets");
        out->n_images += sets[s].n_images;
        out->n_captions += sets[s].n_captions;
        out->n_unknown += sets[s].n_unknown;
    }
    size_t img_bytes, txt_bytes;
    if (sl_mul_overflow(out->n_images, out->image_dim * sizeof(float), &img_bytes) ||
        sl_mul_overflow(out->n_captions, out->text_dim * sizeof(float), &txt_bytes))
        return sl_fail(SL_ERR_LIMIT, "train: feature matrices too large");
    out->image = sl_malloc_aligned(img_bytes);
    out->text = sl_malloc_aligned(txt_bytes);
    out->caption_image = sl_malloc_array(out->n_captions, sizeof *out->caption_image);
    out->caption_known = sl_malloc_array(out->n_captions, 1);
    if (!out->image || !out->text || !out->caption_image || !out->caption_known) {
        sl_feature_set_free(out);
        return sl_fail(SL_ERR_NOMEM, "train: out of memory for the features");
    }
    size_t i0 = 0, a0 = 0;
    for (size_t s = 0; s < n; s++) {
        const sl_feature_set *f = &sets[s];
        memcpy(out->image + i0 * out->image_dim, f->image, f->n_images * f->image_dim * sizeof(float));
        memcpy(out->text + a0 * out->text_dim, f->text, f->n_captions * f->text_dim * sizeof(float));
        memcpy(out->caption_known + a0, f->caption_known, f->n_captions);
        for (size_t a = 0; a < f->n_captions; a++) out->caption_image[a0 + a] = (uint32_t)(i0 + f->caption_image[a]);
        i0 += f->n_images;
        a0 += f->n_captions;
    }
    return SL_OK;
}

/* ---- the run -------------------------------------------------------------------- */

static void mean_recall(const sl_recall *r, int n, sl_recall *out) {
    memset(out, 0, sizeof *out);
    for (int i = 0; i < n; i++) {
        out->r1 += r[i].r1 / n;
        out->r5 += r[i].r5 / n;
        out->r10 += r[i].r10 / n;
        out->median_rank += r[i].median_rank / n;
        out->n_queries += r[i].n_queries;
    }
}

/* "coco-train1600/captions.json + coco-train80/captions.json" */
static void describe_sets(const sl_train_opts *o, char *buf, size_t size) {
    size_t used = 0;
    buf[0] = '\0';
    for (size_t s = 0; s < o->n_sets && used < size; s++) {
        const char *p = o->sets[s].captions, *slash = strrchr(p, '/'), *name = slash ? slash + 1 : p;
        const char *dir = p;
        size_t dir_len = 0;
        if (slash) { /* the folder holding the captions file, when there is one */
            const char *q = slash;
            while (q > p && q[-1] != '/') q--;
            dir = q;
            dir_len = (size_t)(slash - q);
        }
        int n = snprintf(buf + used, size - used, "%s%.*s%s%s", s ? " + " : "", (int)dir_len, dir, dir_len ? "/" : "",
                         name);
        if (n < 0) break;
        used += (size_t)n;
    }
}

static void fit_opts(const sl_train_opts *o, double t0, int fold, sl_pool *pool, sl_fit_opts *f) {
    memset(f, 0, sizeof *f);
    f->epochs = o->epochs;
    f->patience = o->patience;
    f->batch = o->batch;
    f->threads = o->n_threads;
    f->lr = o->lr;
    f->weight_decay = o->weight_decay;
    f->dropout = o->dropout;
    f->dim = o->dim;
    f->hidden = o->hidden;
    /* each fold its own weights and draws, all fixed by the seed */
    f->seed = o->seed + 0x9e3779b97f4a7c15ull * (uint64_t)fold;
    f->fold = fold;
    f->folds = o->folds;
    f->t0 = t0;
    f->pool = pool;
    f->progress = o->progress;
    f->progress_user = o->progress_user;
}

static sl_status cross_validate(const sl_feature_set *f, const sl_image_captions *ic, const uint32_t *imgs,
                                size_t n_imgs, const sl_train_opts *o, double t0, sl_pool *pool,
                                sl_train_report *rep) {
    uint8_t *fold_of = malloc(f->n_images);
    uint32_t *test = sl_malloc_array(n_imgs, sizeof *test), *rest = sl_malloc_array(n_imgs, sizeof *rest);
    uint32_t *train = sl_malloc_array(n_imgs, sizeof *train), *val = sl_malloc_array(n_imgs, sizeof *val);
    sl_status st = SL_OK;
    if (!fold_of || !test || !rest || !train || !val) st = sl_fail(SL_ERR_NOMEM, "train: out of memory");
    if (!st) st = sl_split_folds(f->n_images, o->folds, o->seed, fold_of);
    for (int k = 0; !st && k < o->folds; k++) {
        size_t n_test = 0, n_rest = 0, n_val = 0;
        for (size_t i = 0; i < n_imgs; i++) {
            if (fold_of[imgs[i]] == k) test[n_test++] = imgs[i];
            else rest[n_rest++] = imgs[i];
        }
        if (n_test < 2 || n_rest < MIN_IMAGES) {
            st = sl_fail(SL_ERR_ARG, "train: fold %d has %zu test and %zu training images: too few for %d folds", k + 1,
                         n_test, n_rest, o->folds);
            break;
        }
        sl_split_holdout(rest, n_rest, o->val_split, o->seed + (uint64_t)k + 1, train, val, &n_val);
        sl_fit_opts fo;
        fit_opts(o, t0, k + 1, pool, &fo);
        sl_fit_result r;
        st = sl_fit_heads(f, ic, train, n_rest - n_val, val, n_val, &fo, &r);
        if (st) break;
        st = sl_subset_recall(f, test, n_test, NULL, pool, &rep->fold_zero_shot[k]);
        if (!st) st = sl_subset_recall(f, test, n_test, &r.heads, pool, &rep->fold_tuned[k]);
        rep->fold_blend[k] = r.heads.blend;
        sl_fit_result_free(&r);
        if (!st && o->progress) {
            sl_train_progress p;
            memset(&p, 0, sizeof p);
            p.phase = SL_TRAIN_FOLD;
            p.fold = k + 1;
            p.folds = o->folds;
            p.blend = rep->fold_blend[k];
            p.zero_shot = rep->fold_zero_shot[k];
            p.tuned = rep->fold_tuned[k];
            p.seconds = sl_now() - t0;
            if (o->progress(o->progress_user, &p)) st = sl_fail(SL_ERR_STATE, "train: cancelled");
        }
    }
    if (!st) {
        rep->folds = o->folds;
        mean_recall(rep->fold_zero_shot, o->folds, &rep->cv_zero_shot);
        mean_recall(rep->fold_tuned, o->folds, &rep->cv_tuned);
    }
    free(fold_of);
    free(test);
    free(rest);
    free(train);
    free(val);
    return st;
}

static void recall4(const sl_recall *r, float out[4]) {
    out[0] = (float)r->r1;
    out[1] = (float)r->r5;
    out[2] = (float)r->r10;
    out[3] = (float)r->median_rank;
}

sl_status sl_train(const char *base_model_path, const sl_train_opts *opts, const char *out_path,
                   sl_train_report *report) {
    sl_train_report local;
    sl_train_report *rep = report ? report : &local;
    memset(rep, 0, sizeof *rep);
    if (!base_model_path || !opts || !out_path) return sl_fail(SL_ERR_ARG, "train: NULL argument");
    sl_train_opts o = *opts;
    if (o.n_threads <= 0) o.n_threads = 2;
    sl_status st = check_opts(&o);
    if (st) return st;
    const double t0 = sl_now();
    sl_model *m = NULL;
    if ((st = sl_model_open(base_model_path, &m))) return st;

    sl_feature_set *sets = calloc(o.n_sets, sizeof *sets), all;
    memset(&all, 0, sizeof all);
    sl_image_captions ic;
    memset(&ic, 0, sizeof ic);
    uint32_t *imgs = NULL, *train = NULL, *val = NULL;
    sl_pool *pool = NULL;
    sl_fit_result fin;
    memset(&fin, 0, sizeof fin);
    if (!sets) st = sl_fail(SL_ERR_NOMEM, "train: out of memory");
    rep->features_from_cache = 1;
    for (size_t s = 0; !st && s < o.n_sets; s++) {
        int cached = 0;
        st = set_features(m, &o.sets[s], &o, t0, &cached, &sets[s]);
        rep->features_from_cache &= cached;
    }
    rep->seconds_features = sl_now() - t0;
    if (!st) st = concat(sets, o.n_sets, &all);
    /* the sets' own copies are no longer needed */
    for (size_t s = 0; !st && s < o.n_sets; s++) sl_feature_set_free(&sets[s]);
    if (!st) st = sl_image_captions_build(all.caption_image, all.caption_known, all.n_captions, all.n_images, &ic);
    size_t n_imgs = 0;
    if (!st) {
        rep->n_images = all.n_images;
        rep->n_captions = all.n_captions;
        rep->n_captions_unknown = all.n_unknown;
        imgs = sl_malloc_array(all.n_images, sizeof *imgs);
        train = sl_malloc_array(all.n_images, sizeof *train);
        val = sl_malloc_array(all.n_images, sizeof *val);
        if (!imgs || !train || !val) st = sl_fail(SL_ERR_NOMEM, "train: out of memory");
    }
    if (!st) {
        /* images without a single known-word caption teach nothing */
        for (size_t i = 0; i < all.n_images; i++)
            if (ic.first[i + 1] > ic.first[i]) imgs[n_imgs++] = (uint32_t)i;
        if (n_imgs < MIN_IMAGES)
            st = sl_fail(SL_ERR_ARG, "train: %zu image(s) with a known-word caption; need at least %d", n_imgs,
                         MIN_IMAGES);
    }
    if (!st) st = sl_pool_new(o.n_threads, &pool);
    double t_train = sl_now();
    if (!st && o.folds >= 2) st = cross_validate(&all, &ic, imgs, n_imgs, &o, t0, pool, rep);
    if (!st) {
        size_t n_val = 0;
        sl_split_holdout(imgs, n_imgs, o.val_split, o.seed, train, val, &n_val);
        sl_fit_opts fo;
        fit_opts(&o, t0, 0, pool, &fo);
        st = sl_fit_heads(&all, &ic, train, n_imgs - n_val, val, n_val, &fo, &fin);
        if (!st) {
            rep->val_zero_shot = fin.val_zero_shot;
            rep->val_tuned = fin.val_tuned;
            rep->blend = fin.heads.blend;
            rep->epochs = fin.best_epoch;
        }
    }
    rep->seconds_train = sl_now() - t_train;
    if (!st) {
        char data[2048], options[512], heldout[256];
        if (o.description) snprintf(data, sizeof data, "%s", o.description);
        else describe_sets(&o, data, sizeof data);
        snprintf(options, sizeof options,
                 "epochs=%d patience=%d batch=%d lr=%g weight_decay=%g dropout=%g dim=%u hidden=%u seed=%llu "
                 "threads=%d val_split=%g folds=%d",
                 o.epochs, o.patience, o.batch, (double)o.lr, (double)o.weight_decay, (double)o.dropout, o.dim,
                 o.hidden, (unsigned long long)o.seed, o.n_threads, (double)o.val_split, o.folds);
        sl_train_record rec;
        memset(&rec, 0, sizeof rec);
        rec.data = data;
        rec.n_images = all.n_images;
        rec.n_captions = all.n_captions;
        rec.options = options;
        rec.epochs = (uint32_t)fin.best_epoch;
        if (o.folds >= 2) {
            snprintf(heldout, sizeof heldout,
                     "%d-fold cross-validation split by image (each fold's images unseen in training); "
                     "mean over folds",
                     o.folds);
            recall4(&rep->cv_zero_shot, rec.zero_shot);
            recall4(&rep->cv_tuned, rec.tuned);
            rec.n_heldout = rep->cv_tuned.n_queries;
        } else {
            snprintf(heldout, sizeof heldout,
                     "validation split (%g%% of the images, also used to stop early and choose the blend)",
                     100.0 * o.val_split);
            recall4(&rep->val_zero_shot, rec.zero_shot);
            recall4(&rep->val_tuned, rec.tuned);
            rec.n_heldout = rep->val_tuned.n_queries;
        }
        rec.heldout = heldout;
        st = sl_tuned_file_write(base_model_path, &fin.heads, &rec, out_path);
    }
    sl_fit_result_free(&fin);
    sl_pool_free(pool);
    free(imgs);
    free(train);
    free(val);
    sl_image_captions_free(&ic);
    sl_feature_set_free(&all);
    for (size_t s = 0; sets && s < o.n_sets; s++) sl_feature_set_free(&sets[s]);
    free(sets);
    sl_model_free(m);
    return st;
}
