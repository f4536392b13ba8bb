/* `searchlite eval`: embed every image and caption of a COCO captions file
 * with a model and measure retrieval both ways (src/searcher/eval.h).
 *
 * The parallel embedding is src/api/caption_set.c: each image and caption
 * has its own output row, so the thread count changes the timing only,
 * never the figures. */
#include "api/caption_set.h"
#include "core/core.h"
#include "searcher/eval.h"

#include <stdlib.h>
#include <string.h>

void sl_eval_opts_init(sl_eval_opts *opts) {
    if (!opts) return;
    memset(opts, 0, sizeof *opts);
    opts->n_threads = 2;
}

/* ---- rows ---------------------------------------------------------------------- */

typedef struct eval_rows {
    const sl_model *model;
    float *img, *cap; /* (n_images, dim), (n_captions, dim) */
    size_t dim;
} eval_rows;

static sl_status image_row(void *user, const char *path, size_t i) {
    eval_rows *r = user;
    return sl_model_embed_file(r->model, path, r->img + i * r->dim, NULL, NULL);
}

static sl_status caption_row(void *user, const char *text, size_t a) {
    eval_rows *r = user;
    sl_status st = sl_model_embed_text(r->model, text, r->cap + a * r->dim);
    /* A caption without a known word ranks every image equally: a zero row
     * whatever the model left in it. */
    if (st == SL_ERR_NOT_FOUND) memset(r->cap + a * r->dim, 0, r->dim * sizeof(float));
    return st;
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
    if (n_threads > SL_CAPTION_SET_MAX_THREADS)
        return sl_fail(SL_ERR_ARG, "eval: %d threads is too many (max %d)", n_threads, SL_CAPTION_SET_MAX_THREADS);
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
    sl_pool *pool = NULL;
    if (!img || !cap) st = sl_fail(SL_ERR_NOMEM, "eval: out of memory for the embeddings");
    if (st == SL_OK) st = sl_pool_new(n_threads, &pool);
    eval_rows rows = {model, img, cap, dim};
    if (st == SL_OK) {
        double t0 = sl_now();
        st = sl_caption_set_images(&caps, images_dir, n_threads, image_row, &rows, o.progress, o.progress_user,
                                   "eval");
        out->seconds_images = sl_now() - t0;
    }
    if (st == SL_OK) {
        double t0 = sl_now();
        st = sl_caption_set_texts(&caps, pool, caption_row, &rows, &out->n_captions_unknown, "eval");
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
    sl_free_aligned(cap);
    sl_free_aligned(img);
    sl_captions_free(&caps);
    return st;
}
