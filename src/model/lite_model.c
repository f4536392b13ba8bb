/* Loading the lite model file: validate, then serve views into the map. */
#include "lite_model.h"
#include "lite_file.h"

#include <math.h>
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
};

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

static sl_status validate(sl_lite_model *m) {
    sl_status st = SL_OK;
    sl_gguf_str arch;
    uint32_t version = 0, emb = 0;
    if (sl_gguf_get_str(m->g, "general.architecture", &arch) || arch.len != strlen(SL_LITE_ARCH) ||
        memcmp(arch.data, SL_LITE_ARCH, (size_t)arch.len))
        return sl_fail(SL_ERR_CORRUPT, "not a searchlite lite model (general.architecture)");
    if ((st = sl_gguf_get_u32(m->g, "searchlite.file_version", &version))) return st;
    if (version > SL_LITE_FILE_VERSION)
        return sl_fail(SL_ERR_UNSUPPORTED, "lite model: file version %u is newer than this searchlite (%u)", version,
                       SL_LITE_FILE_VERSION);
    sl_gguf_str id;
    if ((st = sl_gguf_get_str(m->g, "searchlite.model_id", &id))) return st;
    if (id.len == 0 || id.len >= SL_LITE_MODEL_ID_MAX)
        return sl_fail(SL_ERR_CORRUPT, "lite model: searchlite.model_id is empty or too long");
    for (uint64_t i = 0; i < id.len; i++)
        if (id.data[i] <= ' ' || id.data[i] > '~')
            return sl_fail(SL_ERR_CORRUPT, "lite model: searchlite.model_id holds a non-printable byte");
    memcpy(m->id, id.data, (size_t)id.len);
    m->id[id.len] = '\0';
    if ((st = sl_gguf_get_u32(m->g, "searchlite.embedding_dim", &emb))) return st;
    if (emb != SL_LITE_CLASSES) return sl_fail(SL_ERR_CORRUPT, "lite model: embedding_dim %u (expected 1000)", emb);
    if ((st = sl_gguf_get_str_array(m->g, "searchlite.vocab.words", &m->words))) return st;
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
