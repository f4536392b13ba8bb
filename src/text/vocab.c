/* The sl_wordvec object: words in one blob, the (n, dim) matrix, an
 * open-addressing hash from word bytes to index, and the SIF weights. */
#include "text/wordvec.h"

#include <stdlib.h>
#include <string.h>

struct sl_wordvec {
    size_t n, dim;
    char *blob;         /* n NUL-terminated words back to back */
    uint32_t *offsets;  /* (n) start of word i in blob */
    uint16_t *lens;     /* (n) byte length of word i (<= 256) */
    float *vectors;     /* (n, dim) row-major, 64-byte aligned */
    float *weights;     /* (n) SIF weight of word i */
    int32_t *slots;     /* (n_slots) word index or -1; n_slots a power of 2 */
    size_t mask;        /* n_slots - 1 */
};

/* FNV-1a: simple, good enough spread for short words, no table. */
static uint32_t hash_bytes(const char *p, size_t len) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)p[i];
        h *= 16777619u;
    }
    return h;
}

void sl_wordvec_free(sl_wordvec *wv) {
    if (!wv) return;
    free(wv->blob);
    free(wv->offsets);
    free(wv->lens);
    sl_free_aligned(wv->vectors);
    free(wv->weights);
    free(wv->slots);
    free(wv);
}

int32_t sl_wordvec_find(const sl_wordvec *wv, const char *ptr, size_t len) {
    if (!wv || (!ptr && len) || len > SL_WORDVEC_MAX_WORD_LEN) return -1;
    size_t s = hash_bytes(ptr, len) & wv->mask;
    /* Load factor <= 1/2 guarantees an empty slot ends every probe. */
    for (;;) {
        int32_t idx = wv->slots[s];
        if (idx < 0) return -1;
        if (wv->lens[idx] == len &&
            (len == 0 || memcmp(wv->blob + wv->offsets[idx], ptr, len) == 0))
            return idx;
        s = (s + 1) & wv->mask;
    }
}

sl_status sl_wordvec_adopt(size_t n, size_t dim, char *blob, size_t blob_size,
                           uint32_t *offsets, float *vectors,
                           sl_wordvec **out) {
    sl_status st = SL_OK;
    sl_wordvec *wv = calloc(1, sizeof(*wv));
    if (!wv) {
        free(blob);
        free(offsets);
        sl_free_aligned(vectors);
        return sl_fail(SL_ERR_NOMEM, "wordvec: out of memory");
    }
    wv->n = n;
    wv->dim = dim;
    wv->blob = blob;
    wv->offsets = offsets;
    wv->vectors = vectors;
    if (n == 0 || n > SL_WORDVEC_MAX_WORDS || !blob || !offsets || !vectors) {
        st = sl_fail(SL_ERR_INTERNAL, "wordvec: bad adopt arguments");
        goto fail;
    }
    size_t n_slots = 16;
    while (n_slots < 2 * n) n_slots *= 2; /* n <= 2e6: no overflow */
    wv->mask = n_slots - 1;
    wv->slots = sl_malloc_array(n_slots, sizeof(int32_t));
    wv->lens = sl_malloc_array(n, sizeof(uint16_t));
    wv->weights = sl_malloc_array(n, sizeof(float));
    if (!wv->slots || !wv->lens || !wv->weights) {
        st = sl_fail(SL_ERR_NOMEM, "wordvec: out of memory for %zu words", n);
        goto fail;
    }
    memset(wv->slots, 0xff, n_slots * sizeof(int32_t));
    for (size_t i = 0; i < n; i++) {
        size_t off = offsets[i];
        /* The blob comes from our own builders, but a bad offset would read
         * out of bounds, so it is checked like input. */
        const char *w = off < blob_size ? blob + off : NULL;
        size_t len = w ? strnlen(w, blob_size - off) : 0;
        if (!w || off + len >= blob_size || len > SL_WORDVEC_MAX_WORD_LEN) {
            st = sl_fail(SL_ERR_INTERNAL, "wordvec: bad word offset %zu", i);
            goto fail;
        }
        wv->lens[i] = (uint16_t)len;
        size_t s = hash_bytes(w, len) & wv->mask;
        while (wv->slots[s] >= 0) {
            int32_t j = wv->slots[s];
            if (wv->lens[j] == len && memcmp(blob + offsets[j], w, len) == 0) {
                st = sl_fail(SL_ERR_CORRUPT,
                             "wordvec: duplicate word \"%.*s\" at %zu and %d",
                             (int)SL_MIN(len, 64), w, i, (int)j);
                goto fail;
            }
            s = (s + 1) & wv->mask;
        }
        wv->slots[s] = (int32_t)i;
    }
    sl_sif_fill(wv, wv->weights);
    *out = wv;
    return SL_OK;
fail:
    sl_wordvec_free(wv);
    return st;
}

sl_status sl_wordvec_from_arrays(size_t n, size_t dim,
                                 const char *const *words,
                                 const float *vectors, sl_wordvec **out) {
    if (!out || !words || !vectors)
        return sl_fail(SL_ERR_ARG, "wordvec: NULL argument");
    if (n == 0 || n > SL_WORDVEC_MAX_WORDS || dim == 0 ||
        dim > SL_WORDVEC_MAX_DIM)
        return sl_fail(SL_ERR_ARG, "wordvec: n=%zu dim=%zu out of range", n,
                       dim);
    size_t blob_size = 0;
    for (size_t i = 0; i < n; i++) {
        if (!words[i]) return sl_fail(SL_ERR_ARG, "wordvec: word %zu NULL", i);
        size_t len = strnlen(words[i], SL_WORDVEC_MAX_WORD_LEN + 1);
        if (len > SL_WORDVEC_MAX_WORD_LEN)
            return sl_fail(SL_ERR_LIMIT, "wordvec: word %zu over %u bytes", i,
                           SL_WORDVEC_MAX_WORD_LEN);
        blob_size += len + 1; /* <= 2e6 * 257: no overflow */
    }
    size_t n_floats, n_bytes;
    if (sl_mul_overflow(n, dim, &n_floats) ||
        sl_mul_overflow(n_floats, sizeof(float), &n_bytes))
        return sl_fail(SL_ERR_LIMIT, "wordvec: matrix too large");
    char *blob = malloc(blob_size);
    uint32_t *offsets = sl_malloc_array(n, sizeof(uint32_t));
    float *vecs = sl_malloc_aligned(n_bytes);
    if (!blob || !offsets || !vecs) {
        free(blob);
        free(offsets);
        sl_free_aligned(vecs);
        return sl_fail(SL_ERR_NOMEM, "wordvec: out of memory");
    }
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(words[i]);
        offsets[i] = (uint32_t)at;
        memcpy(blob + at, words[i], len + 1);
        at += len + 1;
    }
    memcpy(vecs, vectors, n_bytes);
    return sl_wordvec_adopt(n, dim, blob, blob_size, offsets, vecs, out);
}

size_t sl_wordvec_count(const sl_wordvec *wv) { return wv ? wv->n : 0; }
size_t sl_wordvec_dim(const sl_wordvec *wv) { return wv ? wv->dim : 0; }

const char *sl_wordvec_word(const sl_wordvec *wv, int32_t i) {
    if (!wv || i < 0 || (size_t)i >= wv->n) return NULL;
    return wv->blob + wv->offsets[i];
}

const float *sl_wordvec_vector(const sl_wordvec *wv, int32_t i) {
    if (!wv || i < 0 || (size_t)i >= wv->n) return NULL;
    return wv->vectors + (size_t)i * wv->dim;
}

float sl_wordvec_weight(const sl_wordvec *wv, int32_t i) {
    if (!wv || i < 0 || (size_t)i >= wv->n) return 0.0f;
    return wv->weights[i];
}
