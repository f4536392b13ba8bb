/* Writing a tuned model file (docs/MODEL.md "Tuned models, file version 2"):
 * the base model's keys and tensors copied verbatim, plus the heads. */
#include "tuned_file.h"
#include "lite_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int str_is(sl_gguf_str s, const char *c) { return s.len == strlen(c) && !memcmp(s.data, c, (size_t)s.len); }

static int str_starts(sl_gguf_str s, const char *prefix) {
    size_t n = strlen(prefix);
    return s.len >= n && !memcmp(s.data, prefix, n);
}

/* in, hidden..., out of a head (n_layers + 1 values). */
static size_t head_dims(const sl_head *h, uint32_t dims[SL_HEAD_MAX_LAYERS + 1]) {
    for (size_t l = 0; l < h->n_layers; l++) dims[l] = h->layers[l].in;
    dims[h->n_layers] = h->layers[h->n_layers - 1].out;
    return h->n_layers + 1;
}

/* Everything that decides a tuned embedding beyond the zero-shot model,
 * which its id stands for. Sizes go in as u32 and the tensors as their f32
 * bytes in host order — little-endian, the only byte order searchlite's
 * files support (core.h), exactly as the file stores them — so the reader
 * recomputes the same digest from the map. */
sl_status sl_tuned_model_id(const char *base_id, const sl_heads *h, char out[SL_LITE_MODEL_ID_MAX]) {
    uint8_t d[SL_SHA256_SIZE];
    sl_sha256 *s;
    sl_status st = sl_sha256_new(&s);
    if (st) return st;
    sl_sha256_update(s, base_id, strlen(base_id) + 1);
    const sl_head *towers[2] = {&h->image, &h->text};
    for (size_t t = 0; t < 2; t++) {
        uint32_t dims[SL_HEAD_MAX_LAYERS + 1];
        uint32_t n = (uint32_t)head_dims(towers[t], dims);
        sl_sha256_update(s, &n, sizeof n);
        sl_sha256_update(s, dims, n * sizeof *dims);
    }
    for (size_t t = 0; t < 2; t++)
        for (size_t l = 0; l < towers[t]->n_layers; l++) {
            const sl_head_layer *L = &towers[t]->layers[l];
            sl_sha256_update(s, L->weight, (size_t)L->in * L->out * sizeof *L->weight);
            sl_sha256_update(s, L->bias, (size_t)L->out * sizeof *L->bias);
        }
    sl_sha256_update(s, &h->blend, sizeof h->blend);
    sl_sha256_final(s, d);
    sl_sha256_free(s);
    char hex[2 * 16 + 1];
    sl_hex(d, 16, hex);
    snprintf(out, SL_LITE_MODEL_ID_MAX, "searchlite-tuned-%u/%s", SL_TUNED_FILE_VERSION, hex);
    return SL_OK;
}

static sl_status add_head(sl_gguf_builder *b, const char *tower, const sl_head *h) {
    for (size_t l = 0; l < h->n_layers; l++) {
        const sl_head_layer *L = &h->layers[l];
        char name[64];
        /* ggml order: the (out, in) row-major weight is [in, out]. */
        const uint64_t dw[2] = {L->in, L->out}, db[1] = {L->out};
        snprintf(name, sizeof name, "heads.%s.layer%zu.weight", tower, l);
        sl_status st = sl_gguf_add_tensor(b, name, SL_TENSOR_F32, 2, dw, L->weight);
        if (st) return st;
        snprintf(name, sizeof name, "heads.%s.layer%zu.bias", tower, l);
        if ((st = sl_gguf_add_tensor(b, name, SL_TENSOR_F32, 1, db, L->bias))) return st;
    }
    return SL_OK;
}

static sl_status add_record(sl_gguf_builder *b, const sl_train_record *r) {
    sl_status st;
    if ((st = sl_gguf_set_str(b, "searchlite.train.data", r->data ? r->data : "")) ||
        (st = sl_gguf_set_u64(b, "searchlite.train.images", r->n_images)) ||
        (st = sl_gguf_set_u64(b, "searchlite.train.captions", r->n_captions)) ||
        (st = sl_gguf_set_str(b, "searchlite.train.options", r->options ? r->options : "")) ||
        (st = sl_gguf_set_str(b, "searchlite.train.heldout", r->heldout ? r->heldout : "")) ||
        (st = sl_gguf_set_array(b, "searchlite.train.zero_shot", SL_GGUF_F32, r->zero_shot, 4)) ||
        (st = sl_gguf_set_array(b, "searchlite.train.tuned", SL_GGUF_F32, r->tuned, 4)) ||
        (st = sl_gguf_set_u64(b, "searchlite.train.heldout_queries", r->n_heldout)) ||
        (st = sl_gguf_set_u32(b, "searchlite.train.epochs", r->epochs)))
        return st;
    return SL_OK;
}

static sl_status build(const sl_lite_model *base, const sl_heads *h, const sl_train_record *rec,
                       sl_gguf_builder *b) {
    const sl_gguf *g = sl_lite_model_gguf(base);
    const uint32_t dim = h->image.layers[h->image.n_layers - 1].out;
    char id[SL_LITE_MODEL_ID_MAX];
    sl_status st = sl_tuned_model_id(sl_lite_model_base_id(base), h, id);
    /* The base's keys in their order, the three that change rewritten in
     * place and an older tuned base's heads and record left out. */
    for (size_t i = 0; i < sl_gguf_kv_count(g) && !st; i++) {
        sl_gguf_str k = sl_gguf_key_at(g, i);
        if (str_starts(k, "searchlite.heads.") || str_starts(k, "searchlite.train.")) continue;
        /* the builder lays tensors out at its own alignment (32): a base's
         * other value copied over would make readers look elsewhere */
        if (str_is(k, "general.alignment")) continue;
        if (str_is(k, "searchlite.file_version")) st = sl_gguf_set_u32(b, "searchlite.file_version", SL_TUNED_FILE_VERSION);
        else if (str_is(k, "searchlite.embedding_dim"))
            st = sl_gguf_set_u32(b, "searchlite.embedding_dim", SL_LITE_CLASSES + dim);
        else if (str_is(k, "searchlite.model_id")) st = sl_gguf_set_str(b, "searchlite.model_id", id);
        else st = sl_gguf_copy_kv(b, g, i);
    }
    if (st) return st;
    for (size_t i = 0; i < sl_gguf_tensor_count(g) && !st; i++) {
        const sl_gguf_tensor *t = sl_gguf_tensor_at(g, i);
        if (!str_starts(t->name, "heads.")) st = sl_gguf_copy_tensor(b, t);
    }
    if (!st) st = sl_tuned_add_parts(b, sl_lite_model_base_id(base), h, rec);
    return st;
}

sl_status sl_tuned_add_parts(sl_gguf_builder *b, const char *base_id, const sl_heads *h, const sl_train_record *rec) {
    const uint32_t dim = h->image.layers[h->image.n_layers - 1].out;
    uint32_t di[SL_HEAD_MAX_LAYERS + 1], dt[SL_HEAD_MAX_LAYERS + 1];
    const size_t ni = head_dims(&h->image, di), nt = head_dims(&h->text, dt);
    sl_status st;
    if ((st = sl_gguf_set_str(b, "searchlite.heads.base_model_id", base_id)) ||
        (st = sl_gguf_set_u32(b, "searchlite.heads.dim", dim)) ||
        (st = sl_gguf_set_f32(b, "searchlite.heads.blend", h->blend)) ||
        (st = sl_gguf_set_array(b, "searchlite.heads.image_dims", SL_GGUF_U32, di, ni)) ||
        (st = sl_gguf_set_array(b, "searchlite.heads.text_dims", SL_GGUF_U32, dt, nt)) ||
        (rec && (st = add_record(b, rec))))
        return st;
    if (!(st = add_head(b, "image", &h->image))) st = add_head(b, "text", &h->text);
    return st;
}

sl_status sl_tuned_file_write(const char *base_path, const sl_heads *heads, const sl_train_record *rec,
                              const char *out_path) {
    if (!base_path || !heads || !out_path) return sl_fail(SL_ERR_ARG, "tuned model: NULL argument");
    sl_status st = sl_heads_check(heads);
    if (st) return sl_fail_prefix(SL_ERR_ARG, "tuned model");
    sl_lite_model *base;
    if ((st = sl_lite_model_open(base_path, &base))) return st;
    /* The heads must read the features this base computes, or the file
     * would be refused when opened. */
    const size_t want_image = SL_LITE_POOLED_DIM + SL_LITE_CLASSES,
                 want_text = sl_lite_model_word_dim(base) + SL_LITE_CLASSES;
    if (heads->image.layers[0].in != want_image || heads->text.layers[0].in != want_text) {
        st = sl_fail(SL_ERR_ARG, "tuned model: the heads read %u image and %u text values; %s gives %zu and %zu",
                     heads->image.layers[0].in, heads->text.layers[0].in, base_path, want_image, want_text);
        sl_lite_model_free(base);
        return st;
    }
    sl_gguf_builder *b;
    if (!(st = sl_gguf_builder_new(&b))) {
        st = build(base, heads, rec, b);
        if (!st) st = sl_gguf_builder_write(b, out_path);
        sl_gguf_builder_free(b);
    }
    sl_lite_model_free(base);
    return st;
}
