/* The public model handle: the lite dual encoder file (docs/MODEL.md) plus a
 * set of image interpreters shared by the threads that embed images.
 *
 * An interpreter owns its activation memory, so two threads cannot run one
 * at the same time. Rather than asking every caller to manage per-thread
 * handles, the model keeps the idle ones: a caller borrows one (opening a
 * new one when none is idle), runs it and gives it back. The set therefore
 * grows to the largest number of simultaneous callers and no further. They
 * are opened lazily, so opening a model to answer text queries costs only
 * the text side (docs/BENCHMARKS.md, cold start).
 *
 * A tuned model (file version 2) runs the same zero-shot encoder, then its
 * heads over the features, and returns the blend (model/heads.h). */
#include "api/model_internal.h"
#include "core/core.h"
#include "model/heads.h"
#include "model/lite_model.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct sl_model {
    sl_lite_model *lite;
    size_t text_scratch; /* floats */
    const sl_heads *heads; /* NULL: a zero-shot model */
    uint32_t dim;          /* of the embeddings returned */
    size_t head_scratch;   /* floats, for either head */
    pthread_mutex_t lock; /* guards the idle list */
    sl_tflite **idle;
    size_t n_idle, cap_idle;
};

sl_status sl_model_open(const char *path, sl_model **out) {
    if (!out) return sl_fail(SL_ERR_ARG, "model open: NULL output");
    *out = NULL;
    if (!path || !path[0]) return sl_fail(SL_ERR_ARG, "model open: no path");
    sl_model *m = calloc(1, sizeof *m);
    if (!m) return sl_fail(SL_ERR_NOMEM, "model open: out of memory");
    if (pthread_mutex_init(&m->lock, NULL)) {
        free(m);
        return sl_fail(SL_ERR_NOMEM, "model open: cannot create a mutex");
    }
    sl_status st = sl_lite_model_open(path, &m->lite);
    if (st) {
        sl_model_free(m);
        return st;
    }
    m->text_scratch = sl_lite_model_text_scratch(m->lite);
    m->heads = sl_lite_model_heads(m->lite);
    m->dim = SL_LITE_CLASSES;
    if (m->heads) {
        m->dim += m->heads->image.layers[m->heads->image.n_layers - 1].out;
        m->head_scratch = SL_MAX(sl_head_scratch(&m->heads->image), sl_head_scratch(&m->heads->text));
    }
    *out = m;
    return SL_OK;
}

void sl_model_free(sl_model *m) {
    if (!m) return;
    for (size_t i = 0; i < m->n_idle; i++) sl_tflite_free(m->idle[i]);
    free(m->idle);
    sl_lite_model_free(m->lite);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

uint32_t sl_model_dim(const sl_model *m) { return m ? m->dim : 0; }

size_t sl_model_zero_shot_dim(const sl_model *m) { return m ? SL_LITE_CLASSES : 0; }

const char *sl_model_id(const sl_model *m) { return m ? sl_lite_model_id(m->lite) : ""; }

/* The heads' part of a tuned embedding is dense. */
int sl_model_sparse(const sl_model *m) { return m && !m->heads; }

sl_status sl_model_training_info(const sl_model *m, sl_model_training *out) {
    if (!out) return sl_fail(SL_ERR_ARG, "model training info: NULL output");
    memset(out, 0, sizeof *out);
    out->base_id = out->data = out->options = out->heldout = "";
    if (!m) return sl_fail(SL_ERR_ARG, "model training info: NULL model");
    if (!m->heads) return SL_OK;
    const sl_train_record *r = sl_lite_model_record(m->lite);
    out->tuned = 1;
    out->head_dim = m->dim - SL_LITE_CLASSES;
    out->blend = m->heads->blend;
    out->base_id = sl_lite_model_base_id(m->lite);
    out->data = r->data;
    out->options = r->options;
    out->heldout = r->heldout;
    out->n_images = r->n_images;
    out->n_captions = r->n_captions;
    out->epochs = r->epochs;
    const float *src[2] = {r->zero_shot, r->tuned};
    sl_recall *dst[2] = {&out->zero_shot, &out->trained};
    for (int i = 0; i < 2; i++) {
        dst[i]->r1 = src[i][0];
        dst[i]->r5 = src[i][1];
        dst[i]->r10 = src[i][2];
        dst[i]->median_rank = src[i][3];
        dst[i]->n_queries = (size_t)r->n_heldout;
    }
    return SL_OK;
}

sl_status sl_model_embed_text(const sl_model *m, const char *text, float *out) {
    if (!m || !text || !out) return sl_fail(SL_ERR_ARG, "embed text: NULL argument");
    if (!m->heads) return sl_model_text_features(m, text, NULL, out);
    /* One buffer: the encoder's scratch, the features x = [word mean, z],
     * the head's scratch and its output p. */
    const size_t wd = sl_lite_model_word_dim(m->lite), pd = m->dim - SL_LITE_CLASSES;
    const size_t n = m->text_scratch + wd + SL_LITE_CLASSES + m->head_scratch + pd;
    float *buf = sl_malloc_array(n, sizeof *buf);
    if (!buf) {
        memset(out, 0, m->dim * sizeof *out);
        return sl_fail(SL_ERR_NOMEM, "embed text: out of memory");
    }
    float *x = buf + m->text_scratch, *z = x + wd, *hs = z + SL_LITE_CLASSES, *p = hs + m->head_scratch;
    sl_status st = sl_lite_model_embed_text_ex(m->lite, text, strlen(text), buf, z, x);
    if (st) {
        /* No known word: no direction at all, as for the zero-shot model. */
        memset(out, 0, m->dim * sizeof *out);
    } else {
        sl_head_apply(&m->heads->text, x, hs, p);
        sl_heads_blend(m->heads->blend, z, SL_LITE_CLASSES, p, pd, out);
    }
    free(buf);
    return st;
}

size_t sl_model_word_dim(const sl_model *m) { return m ? sl_lite_model_word_dim(m->lite) : 0; }

/* MobileNetV2's pooled features; the file's network is checked to have
 * them when an image feature is asked for. */
size_t sl_model_pooled_dim(const sl_model *m) { return m ? SL_LITE_POOLED_DIM : 0; }

sl_status sl_model_text_features(const sl_model *m, const char *text, float *word_mean, float *z) {
    if (!m || !text) return sl_fail(SL_ERR_ARG, "embed text: NULL argument");
    float *scratch = sl_malloc_array(m->text_scratch + SL_LITE_CLASSES, sizeof *scratch);
    if (!scratch) return sl_fail(SL_ERR_NOMEM, "embed text: out of memory");
    float *zz = z ? z : scratch + m->text_scratch;
    sl_status st = sl_lite_model_embed_text_ex(m->lite, text, strlen(text), scratch, zz, word_mean);
    free(scratch);
    return st;
}

/* A lazily opened interpreter of the file's image model: validated for the
 * shape the lite embedding expects (1,001 uint8 class outputs). */
static sl_status borrow(sl_model *m, sl_tflite **out) {
    pthread_mutex_lock(&m->lock);
    *out = m->n_idle ? m->idle[--m->n_idle] : NULL;
    pthread_mutex_unlock(&m->lock);
    if (*out) return SL_OK;
    const uint8_t *bytes;
    size_t size;
    sl_lite_model_tflite(m->lite, &bytes, &size);
    sl_tflite_opts o;
    sl_tflite_opts_init(&o);
    o.n_threads = 1; /* callers parallelize over images (docs/BENCHMARKS.md) */
    sl_tflite *t;
    sl_status st = sl_tflite_open_memory(bytes, size, &o, &t);
    if (st) return sl_fail_prefix(st, "model's image network");
    uint32_t h, w, c;
    sl_tflite_input_size(t, &h, &w, &c);
    if (sl_tflite_output_count(t) != SL_LITE_CLASSES + 1 || c != 3) {
        sl_tflite_free(t);
        return sl_fail(SL_ERR_CORRUPT, "model's image network: expected 3 input channels and %d outputs",
                       SL_LITE_CLASSES + 1);
    }
    *out = t;
    return SL_OK;
}

/* Keeps the interpreter for the next caller; on allocation failure it is
 * simply closed (the next caller opens another). */
static void give_back(sl_model *m, sl_tflite *t) {
    pthread_mutex_lock(&m->lock);
    if (m->n_idle == m->cap_idle) {
        size_t cap = m->cap_idle ? 2 * m->cap_idle : 4;
        sl_tflite **grown = realloc(m->idle, cap * sizeof *grown);
        if (grown) {
            m->idle = grown;
            m->cap_idle = cap;
        }
    }
    if (m->n_idle < m->cap_idle) {
        m->idle[m->n_idle++] = t;
        t = NULL;
    }
    pthread_mutex_unlock(&m->lock);
    sl_tflite_free(t);
}

sl_status sl_model_embed_image(const sl_model *cm, const sl_image *image, float *out) {
    if (!out) return sl_fail(SL_ERR_ARG, "embed image: NULL argument");
    if (!cm || !cm->heads) return sl_model_image_features(cm, image, NULL, out);
    /* The features x = [pooled, z], the head's scratch and its output p. */
    const size_t pd = cm->dim - SL_LITE_CLASSES;
    const size_t n = SL_LITE_POOLED_DIM + SL_LITE_CLASSES + cm->head_scratch + pd;
    float *buf = sl_malloc_array(n, sizeof *buf);
    if (!buf) return sl_fail(SL_ERR_NOMEM, "embed image: out of memory");
    float *x = buf, *z = x + SL_LITE_POOLED_DIM, *hs = z + SL_LITE_CLASSES, *p = hs + cm->head_scratch;
    sl_status st = sl_model_image_features(cm, image, x, z);
    if (!st) {
        sl_head_apply(&cm->heads->image, x, hs, p);
        sl_heads_blend(cm->heads->blend, z, SL_LITE_CLASSES, p, pd, out);
    }
    free(buf);
    return st;
}

sl_status sl_model_image_features(const sl_model *cm, const sl_image *image, float *pooled, float *z) {
    if (!cm || !image || !image->pixels || !image->width || !image->height)
        return sl_fail(SL_ERR_ARG, "embed image: NULL or empty argument");
    /* The handle is logically const: the idle list is internal state behind
     * a lock. */
    sl_model *m = (sl_model *)(uintptr_t)cm;
    sl_tflite *t;
    sl_status st = borrow(m, &t);
    if (st) return st;
    /* The whole photo is resized, not center-cropped (docs/MODEL.md). */
    st = sl_tflite_run_image(t, image, 0);
    const void *raw = NULL;
    size_t count = 0;
    int is_s8 = 0, is_float = 0;
    float scale;
    int32_t zp;
    if (!st) st = sl_tflite_output_raw(t, &raw, &count, &is_s8, &is_float, &scale, &zp);
    if (!st && (count != SL_LITE_CLASSES + 1 || is_s8 || is_float))
        st = sl_fail(SL_ERR_CORRUPT, "model's image network: output is not %d uint8 values", SL_LITE_CLASSES + 1);
    if (!st && z) sl_lite_embed_image(raw, z);
    if (!st && pooled) {
        if (sl_tflite_embedding_count(t) != sl_model_pooled_dim(cm))
            st = sl_fail(SL_ERR_UNSUPPORTED, "model's image network: no %zu-value pooled layer",
                         sl_model_pooled_dim(cm));
        else if (!(st = sl_tflite_embedding(t, pooled, sl_model_pooled_dim(cm))))
            sl_lite_l2_normalize(pooled, sl_model_pooled_dim(cm));
    }
    give_back(m, t);
    return st;
}

sl_status sl_model_embed_file(const sl_model *m, const char *path, float *out, uint32_t *width,
                              uint32_t *height) {
    if (width) *width = 0;
    if (height) *height = 0;
    if (!m || !path || !out) return sl_fail(SL_ERR_ARG, "embed file: NULL argument");
    sl_image im;
    sl_status st = sl_image_load(path, NULL, &im);
    if (st) return st;
    st = sl_model_embed_image(m, &im, out);
    if (!st) {
        if (width) *width = im.width;
        if (height) *height = im.height;
    }
    sl_image_free(&im);
    return st ? sl_fail_prefix(st, path) : SL_OK;
}
