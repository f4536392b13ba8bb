/* Feature extraction over a captions set (train_features.h). */
#include "api/train_features.h"
#include "api/caption_set.h"
#include "api/model_internal.h"

#include <stdlib.h>
#include <string.h>

void sl_feature_set_free(sl_feature_set *f) {
    if (!f) return;
    sl_free_aligned(f->image);
    sl_free_aligned(f->text);
    free(f->caption_image);
    free(f->caption_known);
    memset(f, 0, sizeof *f);
}

typedef struct rows {
    const sl_model *model;
    sl_feature_set *f;
} rows;

static sl_status image_row(void *user, const char *path, size_t i) {
    const rows *r = user;
    sl_image im;
    sl_status st = sl_image_load(path, NULL, &im);
    if (st) return st;
    float *row = r->f->image + i * r->f->image_dim;
    st = sl_model_image_features(r->model, &im, row, row + r->f->pooled_dim);
    sl_image_free(&im);
    return st ? sl_fail_prefix(st, path) : SL_OK;
}

static sl_status caption_row(void *user, const char *text, size_t a) {
    const rows *r = user;
    float *row = r->f->text + a * r->f->text_dim;
    sl_status st = sl_model_text_features(r->model, text, row, row + r->f->word_dim);
    r->f->caption_known[a] = st == SL_OK;
    /* No known word: a zero row, which the trainer leaves out. */
    if (st == SL_ERR_NOT_FOUND) memset(row, 0, r->f->text_dim * sizeof *row);
    return st;
}

sl_status sl_features_compute(const sl_model *m, const sl_captions *caps, const char *images_dir, int n_threads,
                              int (*progress)(void *, size_t, size_t), void *progress_user, sl_feature_set *out) {
    if (!out) return sl_fail(SL_ERR_ARG, "train: NULL argument");
    memset(out, 0, sizeof *out);
    if (!m || !caps || !images_dir) return sl_fail(SL_ERR_ARG, "train: NULL argument");
    if (n_threads < 1 || n_threads > SL_CAPTION_SET_MAX_THREADS)
        return sl_fail(SL_ERR_ARG, "train: %d threads (1 to %d)", n_threads, SL_CAPTION_SET_MAX_THREADS);
    sl_feature_set *f = out;
    f->n_images = caps->n_images;
    f->n_captions = caps->n_captions;
    f->pooled_dim = sl_model_pooled_dim(m);
    f->word_dim = sl_model_word_dim(m);
    f->z_dim = sl_model_zero_shot_dim(m);
    f->image_dim = f->pooled_dim + f->z_dim;
    f->text_dim = f->word_dim + f->z_dim;
    size_t img_bytes, txt_bytes;
    if (sl_mul_overflow(f->n_images, f->image_dim * sizeof(float), &img_bytes) ||
        sl_mul_overflow(f->n_captions, f->text_dim * sizeof(float), &txt_bytes))
        return sl_fail(SL_ERR_LIMIT, "train: feature matrices too large");
    f->image = sl_malloc_aligned(img_bytes ? img_bytes : 64);
    f->text = sl_malloc_aligned(txt_bytes ? txt_bytes : 64);
    f->caption_image = sl_malloc_array(f->n_captions ? f->n_captions : 1, sizeof *f->caption_image);
    f->caption_known = calloc(f->n_captions ? f->n_captions : 1, 1);
    sl_pool *pool = NULL;
    sl_status st = SL_OK;
    if (!f->image || !f->text || !f->caption_image || !f->caption_known)
        st = sl_fail(SL_ERR_NOMEM, "train: out of memory for the features");
    if (!st) {
        memcpy(f->caption_image, caps->caption_img, f->n_captions * sizeof *f->caption_image);
        st = sl_pool_new(n_threads, &pool);
    }
    rows r = {m, f};
    if (!st)
        st = sl_caption_set_images(caps, images_dir, n_threads, image_row, &r, progress, progress_user, "train");
    if (!st) st = sl_caption_set_texts(caps, pool, caption_row, &r, &f->n_unknown, "train");
    sl_pool_free(pool);
    if (st) sl_feature_set_free(f);
    return st;
}
