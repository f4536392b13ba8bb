/* Loading the lite model file: validate, then serve views into the map. */
#include "lite_model.h"
#include "lite_file.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sl_lite_model {
    sl_mmap map;
    sl_gguf *g;
    sl_lite_labels labels; /* views into the map, except hub (copied) */
    const int8_t *vq;      /* (n_words, dim) */
    const float *scales, *weights;
    size_t n_words, dim;
    sl_gguf_str_array words;
    uint32_t *hash; /* open addressing: word index + 1, 0 = empty */
    size_t hash_mask;
    const uint8_t *tflite;
    size_t tflite_size;
    char id[SL_LITE_MODEL_ID_MAX];
    /* Tuned files only (has_heads): weights borrowed from the map, the
     * record's strings copied (the file's are not NUL-terminated). For a
     * zero-shot file, tuned.base_id is the file's own id. */
    int has_heads;
    sl_lite_tuned tuned;
};

/* A required key that is absent is a malformed file, not a lookup miss. */
static sl_status required(sl_status st, const char *key) {
    if (st == SL_ERR_NOT_FOUND) return sl_fail(SL_ERR_CORRUPT, "model file: key '%s' is missing", key);
    return st;
}

/* Model ids are printed and stored in libraries: printable ASCII without
 * spaces, shorter than the buffer. */
static sl_status copy_id(const sl_gguf *g, const char *key, char out[SL_LITE_MODEL_ID_MAX]) {
    sl_gguf_str id;
    sl_status st = required(sl_gguf_get_str(g, key, &id), key);
    if (st) return st;
    if (id.len == 0 || id.len >= SL_LITE_MODEL_ID_MAX)
        return sl_fail(SL_ERR_CORRUPT, "lite model: %s is empty or too long", key);
    for (uint64_t i = 0; i < id.len; i++)
        if (id.data[i] <= ' ' || id.data[i] > '~')
            return sl_fail(SL_ERR_CORRUPT, "lite model: %s holds a non-printable byte", key);
    memcpy(out, id.data, (size_t)id.len);
    out[id.len] = '\0';
    return SL_OK;
}

static uint64_t fnv1a(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    return h;
}

static const sl_gguf_tensor *tensor(sl_lite_model *m, const char *name, sl_tensor_type type, uint32_t n_dims,
                                    sl_status *st) {
    const sl_gguf_tensor *t = sl_gguf_find_tensor(m->g, name);
    if (!t || t->type != type || t->n_dims != n_dims) {
        *st = sl_fail(SL_ERR_CORRUPT, "lite model: tensor '%s' is missing or has the wrong type or rank", name);
        return NULL;
    }
    return t;
}

static sl_status build_hash(sl_lite_model *m) {
    size_t slots = 1;
    while (slots < 2 * m->n_words) slots <<= 1;
    m->hash = calloc(slots, sizeof *m->hash);
    if (!m->hash) return sl_fail(SL_ERR_NOMEM, "lite model: out of memory for the vocabulary");
    m->hash_mask = slots - 1;
    for (size_t i = 0; i < m->n_words; i++) {
        sl_gguf_str w = sl_gguf_str_array_at(&m->words, i);
        size_t p = (size_t)fnv1a(w.data, (size_t)w.len) & m->hash_mask;
        while (m->hash[p]) {
            sl_gguf_str o = sl_gguf_str_array_at(&m->words, m->hash[p] - 1);
            if (o.len == w.len && !memcmp(o.data, w.data, (size_t)w.len))
                return sl_fail(SL_ERR_CORRUPT, "lite model: word %zu appears twice in the vocabulary", i);
            p = (p + 1) & m->hash_mask;
        }
        m->hash[p] = (uint32_t)i + 1;
    }
    return SL_OK;
}

static int32_t find_word(const sl_lite_model *m, const char *s, size_t n) {
    size_t p = (size_t)fnv1a(s, n) & m->hash_mask;
    while (m->hash[p]) {
        sl_gguf_str o = sl_gguf_str_array_at(&m->words, m->hash[p] - 1);
        if (o.len == n && !memcmp(o.data, s, n)) return (int32_t)(m->hash[p] - 1);
        p = (p + 1) & m->hash_mask;
    }
    return -1;
}

static int starts_with(sl_gguf_str s, const char *prefix) {
    size_t n = strlen(prefix);
    return s.len >= n && !memcmp(s.data, prefix, n);
}

/* searchlite.heads.<tower>_dims: in, hidden..., out. */
static sl_status read_dims(const sl_gguf *g, const char *key, uint32_t dims[SL_HEAD_MAX_LAYERS + 1], size_t *n) {
    sl_gguf_type et;
    uint64_t count;
    const void *elems;
    sl_status st = required(sl_gguf_get_array(g, key, &et, &count, &elems), key);
    if (st) return st;
    if (et != SL_GGUF_U32 || count < 2 || count > SL_HEAD_MAX_LAYERS + 1)
        return sl_fail(SL_ERR_CORRUPT, "tuned model: %s must be 2 to %d u32 values", key, SL_HEAD_MAX_LAYERS + 1);
    memcpy(dims, elems, (size_t)count * sizeof *dims); /* the file's bytes may be unaligned */
    for (uint64_t i = 0; i < count; i++)
        if (dims[i] < 1 || dims[i] > SL_HEAD_MAX_DIM)
            return sl_fail(SL_ERR_CORRUPT, "tuned model: %s[%llu] = %u is out of range (1..%d)", key,
                           (unsigned long long)i, dims[i], SL_HEAD_MAX_DIM);
    *n = (size_t)count;
    return SL_OK;
}

/* One F32 head tensor of exactly the given shape, read in place. The map is
 * page-aligned, but a file may declare a tiny general.alignment: floats
 * must still be aligned to be read where they lie. */
static sl_status head_tensor(const sl_gguf *g, const char *name, uint32_t n_dims, uint64_t d0, uint64_t d1,
                             const float **out) {
    const sl_gguf_tensor *t = sl_gguf_find_tensor(g, name);
    if (!t) return sl_fail(SL_ERR_CORRUPT, "tuned model: tensor '%s' is missing", name);
    if (t->type != SL_TENSOR_F32 || t->n_dims != n_dims || t->dims[0] != d0 || (n_dims == 2 && t->dims[1] != d1)) {
        if (n_dims == 1)
            return sl_fail(SL_ERR_CORRUPT, "tuned model: tensor '%s' is not F32 of shape [%llu]", name,
                           (unsigned long long)d0);
        return sl_fail(SL_ERR_CORRUPT, "tuned model: tensor '%s' is not F32 of shape [%llu, %llu]", name,
                       (unsigned long long)d0, (unsigned long long)d1);
    }
    if ((uintptr_t)t->data % _Alignof(float))
        return sl_fail(SL_ERR_CORRUPT, "tuned model: tensor '%s' is not aligned", name);
    *out = t->data;
    return SL_OK;
}

static sl_status load_head(const sl_gguf *g, const char *tower, const uint32_t *dims, size_t n_dims, sl_head *h) {
    h->n_layers = n_dims - 1;
    for (size_t l = 0; l + 1 < n_dims; l++) {
        sl_head_layer *L = &h->layers[l];
        L->in = dims[l];
        L->out = dims[l + 1];
        char name[64];
        snprintf(name, sizeof name, "heads.%s.layer%zu.weight", tower, l);
        sl_status st = head_tensor(g, name, 2, L->in, L->out, &L->weight);
        if (st) return st;
        snprintf(name, sizeof name, "heads.%s.layer%zu.bias", tower, l);
        if ((st = head_tensor(g, name, 1, L->out, 0, &L->bias))) return st;
    }
    return SL_OK;
}

/* An optional record string: "" when absent, copied with a NUL. */
static sl_status record_str(const sl_gguf *g, sl_lite_tuned *t, const char *key, size_t slot, const char **out) {
    sl_gguf_str s;
    sl_status st = sl_gguf_get_str(g, key, &s);
    *out = "";
    if (st == SL_ERR_NOT_FOUND) return SL_OK;
    if (st) return st;
    if (!(t->strings[slot] = malloc((size_t)s.len + 1)))
        return sl_fail(SL_ERR_NOMEM, "tuned model: out of memory");
    memcpy(t->strings[slot], s.data, (size_t)s.len);
    t->strings[slot][s.len] = '\0';
    *out = t->strings[slot];
    return SL_OK;
}

static sl_status record_scores(const sl_gguf *g, const char *key, float out[4]) {
    sl_gguf_type et;
    uint64_t count;
    const void *elems;
    sl_status st = sl_gguf_get_array(g, key, &et, &count, &elems);
    if (st == SL_ERR_NOT_FOUND) return SL_OK;
    if (st) return st;
    if (et != SL_GGUF_F32 || count != 4) return sl_fail(SL_ERR_CORRUPT, "tuned model: %s must be 4 f32 values", key);
    memcpy(out, elems, 4 * sizeof *out);
    return SL_OK;
}

static sl_status record_u64(const sl_gguf *g, const char *key, uint64_t *out) {
    sl_status st = sl_gguf_get_u64(g, key, out);
    return st == SL_ERR_NOT_FOUND ? SL_OK : st;
}

static sl_status load_record(const sl_gguf *g, sl_lite_tuned *t) {
    sl_train_record *r = &t->rec;
    sl_status st;
    if ((st = record_str(g, t, "searchlite.train.data", 0, &r->data)) ||
        (st = record_str(g, t, "searchlite.train.options", 1, &r->options)) ||
        (st = record_str(g, t, "searchlite.train.heldout", 2, &r->heldout)) ||
        (st = record_u64(g, "searchlite.train.images", &r->n_images)) ||
        (st = record_u64(g, "searchlite.train.captions", &r->n_captions)) ||
        (st = record_u64(g, "searchlite.train.heldout_queries", &r->n_heldout)) ||
        (st = record_scores(g, "searchlite.train.zero_shot", r->zero_shot)) ||
        (st = record_scores(g, "searchlite.train.tuned", r->tuned)))
        return st;
    st = sl_gguf_get_u32(g, "searchlite.train.epochs", &r->epochs);
    return st == SL_ERR_NOT_FOUND ? SL_OK : st;
}

/* The heads of a version-2 file, after the base model validated (the text
 * head's input size depends on its word dimension). Everything is checked
 * against everything else: the dims arrays against the tensors' shapes and
 * the features the heads read, the head dim against embedding_dim, the
 * weights for finiteness, and the model id against a digest of the heads,
 * so a file whose heads were edited under an old id is refused rather than
 * mixed into a library made by other weights. */
static sl_status load_heads(const sl_gguf *g, size_t word_dim, uint32_t emb, const char *model_id,
                            sl_lite_tuned *t) {
    uint32_t di[SL_HEAD_MAX_LAYERS + 1], dt[SL_HEAD_MAX_LAYERS + 1], dim;
    size_t ni, nt;
    sl_status st;
    if ((st = read_dims(g, "searchlite.heads.image_dims", di, &ni)) ||
        (st = read_dims(g, "searchlite.heads.text_dims", dt, &nt)) ||
        (st = required(sl_gguf_get_u32(g, "searchlite.heads.dim", &dim), "searchlite.heads.dim")) ||
        (st = required(sl_gguf_get_f32(g, "searchlite.heads.blend", &t->heads.blend), "searchlite.heads.blend")) ||
        (st = copy_id(g, "searchlite.heads.base_model_id", t->base_id)))
        return st;
    if (di[ni - 1] != dim || dt[nt - 1] != dim)
        return sl_fail(SL_ERR_CORRUPT, "tuned model: the heads end in %u and %u values, searchlite.heads.dim is %u",
                       di[ni - 1], dt[nt - 1], dim);
    if (di[0] != SL_LITE_POOLED_DIM + SL_LITE_CLASSES)
        return sl_fail(SL_ERR_CORRUPT, "tuned model: the image head reads %u values, the image features are %d", di[0],
                       SL_LITE_POOLED_DIM + SL_LITE_CLASSES);
    if (dt[0] != word_dim + SL_LITE_CLASSES)
        return sl_fail(SL_ERR_CORRUPT, "tuned model: the text head reads %u values, the text features are %zu", dt[0],
                       word_dim + SL_LITE_CLASSES);
    if (emb != SL_LITE_CLASSES + dim)
        return sl_fail(SL_ERR_CORRUPT, "tuned model: embedding_dim %u (expected 1000 + head dim %u)", emb, dim);
    if ((st = load_head(g, "image", di, ni, &t->heads.image)) || (st = load_head(g, "text", dt, nt, &t->heads.text)))
        return st;
    /* Every tensor the dims describe is there; nothing else may be. */
    size_t n_head_tensors = 0;
    for (size_t i = 0; i < sl_gguf_tensor_count(g); i++)
        n_head_tensors += starts_with(sl_gguf_tensor_at(g, i)->name, "heads.");
    if (n_head_tensors != 2 * (ni - 1 + nt - 1))
        return sl_fail(SL_ERR_CORRUPT, "tuned model: %zu heads.* tensors, the dims arrays describe %zu",
                       n_head_tensors, 2 * (ni - 1 + nt - 1));
    if ((st = sl_heads_check(&t->heads))) return sl_fail_prefix(st, "tuned model");
    if (model_id) {
        char want[SL_LITE_MODEL_ID_MAX];
        if ((st = sl_tuned_model_id(t->base_id, &t->heads, want))) return st;
        if (strcmp(want, model_id))
            return sl_fail(SL_ERR_CORRUPT, "tuned model: searchlite.model_id %s does not match its heads (%s)",
                           model_id, want);
    }
    return load_record(g, t);
}

sl_status sl_lite_tuned_parse(const sl_gguf *g, size_t word_dim, uint32_t embedding_dim, const char *model_id,
                              sl_lite_tuned *out) {
    memset(out, 0, sizeof *out);
    sl_status st = load_heads(g, word_dim, embedding_dim, model_id, out);
    if (st) sl_lite_tuned_release(out);
    return st;
}

void sl_lite_tuned_release(sl_lite_tuned *t) {
    if (!t) return;
    for (size_t i = 0; i < SL_ARRAY_LEN(t->strings); i++) free(t->strings[i]);
    memset(t, 0, sizeof *t);
}

/* A version-2 file is recognized by its heads; heads in a version-1 file or
 * a version-2 file without them are inconsistent. */
static int has_head_parts(const sl_gguf *g) {
    for (size_t i = 0; i < sl_gguf_kv_count(g); i++)
        if (starts_with(sl_gguf_key_at(g, i), "searchlite.heads.")) return 1;
    for (size_t i = 0; i < sl_gguf_tensor_count(g); i++)
        if (starts_with(sl_gguf_tensor_at(g, i)->name, "heads.")) return 1;
    return 0;
}

static sl_status validate(sl_lite_model *m) {
    sl_status st = SL_OK;
    sl_gguf_str arch;
    uint32_t version = 0, emb = 0;
    if (sl_gguf_get_str(m->g, "general.architecture", &arch) || arch.len != strlen(SL_LITE_ARCH) ||
        memcmp(arch.data, SL_LITE_ARCH, (size_t)arch.len))
        return sl_fail(SL_ERR_CORRUPT, "not a searchlite lite model (general.architecture)");
    if ((st = required(sl_gguf_get_u32(m->g, "searchlite.file_version", &version), "searchlite.file_version")))
        return st;
    if (version > SL_MODEL_FILE_VERSION_MAX)
        return sl_fail(SL_ERR_UNSUPPORTED, "lite model: file version %u is newer than this searchlite (%u)", version,
                       SL_MODEL_FILE_VERSION_MAX);
    const int heads = has_head_parts(m->g);
    if (heads != (version == SL_TUNED_FILE_VERSION))
        return sl_fail(SL_ERR_CORRUPT, "model file: version %u %s trained heads", version,
                       heads ? "cannot hold" : "has no");
    if ((st = copy_id(m->g, "searchlite.model_id", m->id))) return st;
    if ((st = required(sl_gguf_get_u32(m->g, "searchlite.embedding_dim", &emb), "searchlite.embedding_dim")))
        return st;
    if (!heads && emb != SL_LITE_CLASSES)
        return sl_fail(SL_ERR_CORRUPT, "lite model: embedding_dim %u (expected 1000)", emb);
    if ((st = required(sl_gguf_get_str_array(m->g, "searchlite.vocab.words", &m->words), "searchlite.vocab.words")))
        return st;
    const uint64_t n_words = m->words.count;
    const sl_gguf_tensor *tf = tensor(m, "image.tflite", SL_TENSOR_I8, 1, &st);
    const sl_gguf_tensor *sy = tf ? tensor(m, "lite.synonyms", SL_TENSOR_F32, 2, &st) : NULL;
    const sl_gguf_tensor *sc = sy ? tensor(m, "lite.synonym_class", SL_TENSOR_I32, 1, &st) : NULL;
    const sl_gguf_tensor *cf = sc ? tensor(m, "lite.class_first", SL_TENSOR_I32, 1, &st) : NULL;
    const sl_gguf_tensor *hb = cf ? tensor(m, "lite.hub", SL_TENSOR_F32, 1, &st) : NULL;
    const sl_gguf_tensor *vq = hb ? tensor(m, "vocab.vectors_q8", SL_TENSOR_I8, 2, &st) : NULL;
    const sl_gguf_tensor *vs = vq ? tensor(m, "vocab.scales", SL_TENSOR_F32, 1, &st) : NULL;
    const sl_gguf_tensor *vw = vs ? tensor(m, "vocab.weights", SL_TENSOR_F32, 1, &st) : NULL;
    if (!vw) return st;
    const size_t dim = (size_t)sy->dims[0], n_syn = (size_t)sy->dims[1];
    if (!n_words || n_words > SL_WORDVEC_MAX_WORDS || dim < 1 || dim > SL_WORDVEC_MAX_DIM ||
        vq->dims[0] != dim || vq->dims[1] != n_words || vs->n_elements != n_words || vw->n_elements != n_words ||
        sc->n_elements != n_syn || cf->n_elements != SL_LITE_CLASSES + 1 || hb->n_elements != SL_LITE_CLASSES)
        return sl_fail(SL_ERR_CORRUPT, "lite model: tensor sizes do not agree with each other");
    const int32_t *first = cf->data, *cls = sc->data;
    if (first[0] != 0 || (size_t)first[SL_LITE_CLASSES] > n_syn)
        return sl_fail(SL_ERR_CORRUPT, "lite model: lite.class_first is out of range");
    for (size_t k = 0; k < SL_LITE_CLASSES; k++)
        if (first[k + 1] < first[k]) return sl_fail(SL_ERR_CORRUPT, "lite model: lite.class_first decreases");
    for (size_t k = 0; k < SL_LITE_CLASSES; k++)
        for (int32_t s = first[k]; s < first[k + 1]; s++)
            if (cls[s] != (int32_t)k) return sl_fail(SL_ERR_CORRUPT, "lite model: lite.synonym_class disagrees");
    const float *hub = hb->data, *scales = vs->data, *weights = vw->data, *syn = sy->data;
    for (size_t k = 0; k < SL_LITE_CLASSES; k++)
        if (!isfinite(hub[k])) return sl_fail(SL_ERR_CORRUPT, "lite model: lite.hub is not finite");
    for (size_t i = 0; i < n_words; i++)
        if (!isfinite(scales[i]) || scales[i] < 0 || !isfinite(weights[i]) || weights[i] < 0)
            return sl_fail(SL_ERR_CORRUPT, "lite model: word %zu has an invalid scale or weight", i);
    for (size_t i = 0; i < n_syn * dim; i++)
        if (!isfinite(syn[i])) return sl_fail(SL_ERR_CORRUPT, "lite model: lite.synonyms is not finite");
    m->dim = dim;
    m->n_words = (size_t)n_words;
    m->vq = vq->data;
    m->scales = scales;
    m->weights = weights;
    m->tflite = tf->data;
    m->tflite_size = (size_t)tf->n_bytes;
    /* The synonym tables are read in place; class ids were just checked,
     * and I32 values in range read the same as U32. */
    m->labels.dim = dim;
    m->labels.n_synonyms = (size_t)first[SL_LITE_CLASSES];
    m->labels.synonyms = (float *)(uintptr_t)syn;
    m->labels.syn_class = (uint32_t *)(uintptr_t)cls;
    m->labels.class_first = (uint32_t *)(uintptr_t)first;
    memcpy(m->labels.hub, hub, sizeof m->labels.hub);
    if (heads) {
        if ((st = sl_lite_tuned_parse(m->g, dim, emb, m->id, &m->tuned))) return st;
        m->has_heads = 1;
    } else
        memcpy(m->tuned.base_id, m->id, sizeof m->id);
    return build_hash(m);
}

sl_status sl_lite_model_open(const char *path, sl_lite_model **out) {
    *out = NULL;
    sl_lite_model *m = calloc(1, sizeof *m);
    if (!m) return sl_fail(SL_ERR_NOMEM, "lite model: out of memory");
    sl_status st = sl_mmap_open(path, &m->map);
    if (!st) st = sl_gguf_open_memory(m->map.data, m->map.size, &m->g);
    if (!st) st = validate(m);
    if (st) {
        sl_lite_model_free(m);
        return sl_fail_prefix(st, path);
    }
    *out = m;
    return SL_OK;
}

void sl_lite_model_free(sl_lite_model *m) {
    if (!m) return;
    free(m->hash);
    sl_lite_tuned_release(&m->tuned);
    sl_gguf_free(m->g);
    sl_mmap_close(&m->map);
    free(m);
}

/* Appends a token to a comma-separated list, silently stopping when full. */
static void note_word(char *list, size_t cap, const char *t, size_t tl) {
    size_t used = strlen(list);
    if (used + tl + 3 >= cap) return;
    if (used) {
        memcpy(list + used, ", ", 2);
        used += 2;
    }
    memcpy(list + used, t, tl);
    list[used + tl] = '\0';
}

size_t sl_lite_model_text_scratch(const sl_lite_model *m) {
    return sl_lite_text_scratch(&m->labels) + m->dim;
}

sl_status sl_lite_model_embed_text(const sl_lite_model *m, const char *text, size_t len, float *scratch,
                                   float out[SL_LITE_CLASSES]) {
    return sl_lite_model_embed_text_ex(m, text, len, scratch, out, NULL);
}

sl_status sl_lite_model_embed_text_ex(const sl_lite_model *m, const char *text, size_t len, float *scratch,
                                      float out[SL_LITE_CLASSES], float *word_mean) {
    memset(out, 0, SL_LITE_CLASSES * sizeof *out);
    if (word_mean) memset(word_mean, 0, m->dim * sizeof *word_mean);
    if (!text && len) return sl_fail(SL_ERR_ARG, "embed text: NULL text");
    float *v = scratch + sl_lite_text_scratch(&m->labels);
    sl_tok cur;
    const char *t;
    size_t tl, n = 0;
    char lower[SL_WORDVEC_MAX_WORD_LEN];
    /* For the error message when nothing is usable: the words we did not
     * know, else the stop words we ignored. */
    char unknown[160] = "", ignored[160] = "";
    sl_tok_init(&cur, text, len);
    while (sl_tok_next(&cur, &t, &tl)) {
        int32_t i = tl > sizeof lower ? -1 : (sl_tok_lower(lower, t, tl), find_word(m, lower, tl));
        if (i < 0 || m->weights[i] <= 0) {
            note_word(i < 0 ? unknown : ignored, sizeof unknown, t, tl);
            continue;
        }
        if (++n > SL_LITE_MAX_QUERY_WORDS)
            return sl_fail(SL_ERR_LIMIT, "query has more than %d content words", SL_LITE_MAX_QUERY_WORDS);
        const int8_t *q = m->vq + (size_t)i * m->dim;
        for (size_t d = 0; d < m->dim; d++) v[d] = m->scales[i] * q[d];
        if (word_mean)
            for (size_t d = 0; d < m->dim; d++) word_mean[d] += m->weights[i] * v[d];
        sl_lite_mix_word(&m->labels, v, m->weights[i], scratch, out);
    }
    if (!n) {
        if (unknown[0]) return sl_fail(SL_ERR_NOT_FOUND, "no known word in the query (unknown: %s)", unknown);
        if (ignored[0])
            return sl_fail(SL_ERR_NOT_FOUND, "the query has only common words that carry no meaning here (%s)",
                           ignored);
        return sl_fail(SL_ERR_NOT_FOUND, "the query has no words");
    }
    sl_lite_l2_normalize(out, SL_LITE_CLASSES);
    if (word_mean) sl_lite_l2_normalize(word_mean, m->dim);
    return SL_OK;
}

size_t sl_lite_model_word_dim(const sl_lite_model *m) { return m->dim; }

void sl_lite_model_tflite(const sl_lite_model *m, const uint8_t **data, size_t *size) {
    *data = m->tflite;
    *size = m->tflite_size;
}

const char *sl_lite_model_id(const sl_lite_model *m) { return m->id; }

const sl_lite_labels *sl_lite_model_labels(const sl_lite_model *m) { return &m->labels; }

const char *sl_lite_model_base_id(const sl_lite_model *m) { return m->tuned.base_id; }

const sl_heads *sl_lite_model_heads(const sl_lite_model *m) { return m->has_heads ? &m->tuned.heads : NULL; }

const sl_train_record *sl_lite_model_record(const sl_lite_model *m) { return m->has_heads ? &m->tuned.rec : NULL; }

const sl_gguf *sl_lite_model_gguf(const sl_lite_model *m) { return m->g; }
