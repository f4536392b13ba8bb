/* Splits of the training images (train_split.h). */
#include "api/train_split.h"
#include "train/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

sl_status sl_image_captions_build(const uint32_t *caption_image, const uint8_t *caption_known, size_t n_captions,
                                  size_t n_images, sl_image_captions *out) {
    memset(out, 0, sizeof *out);
    out->first = calloc(n_images + 1, sizeof *out->first);
    out->list = sl_malloc_array(n_captions ? n_captions : 1, sizeof *out->list);
    if (!out->first || !out->list) {
        sl_image_captions_free(out);
        return sl_fail(SL_ERR_NOMEM, "train: out of memory");
    }
    out->n_images = n_images;
    for (size_t a = 0; a < n_captions; a++) {
        if (caption_image[a] >= n_images) {
            sl_image_captions_free(out);
            return sl_fail(SL_ERR_ARG, "train: caption %zu names image %u of %zu", a, caption_image[a], n_images);
        }
        if (caption_known[a]) out->first[caption_image[a] + 1]++;
    }
    for (size_t i = 0; i < n_images; i++) out->first[i + 1] += out->first[i];
    uint32_t *next = sl_malloc_array(n_images ? n_images : 1, sizeof *next);
    if (!next) {
        sl_image_captions_free(out);
        return sl_fail(SL_ERR_NOMEM, "train: out of memory");
    }
    memcpy(next, out->first, n_images * sizeof *next);
    for (size_t a = 0; a < n_captions; a++)
        if (caption_known[a]) out->list[next[caption_image[a]]++] = (uint32_t)a;
    free(next);
    return SL_OK;
}

void sl_image_captions_free(sl_image_captions *c) {
    if (!c) return;
    free(c->first);
    free(c->list);
    memset(c, 0, sizeof *c);
}

void sl_shuffle_u32(uint32_t *v, size_t n, uint64_t *state) {
    /* j uniform in [0, i): the modulo bias of a 64-bit draw is below 2^-32
     * for i < 2^32 */
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(sl_rng_next(state) % i);
        uint32_t t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}

void sl_shuffle_indices(uint32_t *idx, size_t n, uint64_t seed) {
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) idx[i] = (uint32_t)i;
    sl_shuffle_u32(idx, n, &s);
}

sl_status sl_split_folds(size_t n_images, int k, uint64_t seed, uint8_t *fold_of) {
    uint32_t *perm = sl_malloc_array(n_images ? n_images : 1, sizeof *perm);
    if (!perm) return sl_fail(SL_ERR_NOMEM, "train: out of memory");
    sl_shuffle_indices(perm, n_images, seed ^ 0x666f6c6473ull /* "folds" */);
    for (size_t r = 0; r < n_images; r++) fold_of[perm[r]] = (uint8_t)(r % (size_t)k);
    free(perm);
    return SL_OK;
}

void sl_split_holdout(const uint32_t *imgs, size_t n, float frac, uint64_t seed, uint32_t *train, uint32_t *val,
                      size_t *n_val) {
    size_t nv = (size_t)lround((double)frac * (double)n);
    if (nv < 1) nv = 1;
    if (nv > SL_TRAIN_MAX_VAL_IMAGES) nv = SL_TRAIN_MAX_VAL_IMAGES;
    if (n >= 2 && nv > n - 2) nv = n - 2;
    /* permute positions, then take the first nv as validation */
    uint64_t s = seed ^ 0x686f6c646f7574ull; /* "holdout" */
    for (size_t i = 0; i < n; i++) train[i] = imgs[i];
    sl_shuffle_u32(train, n, &s);
    memcpy(val, train, nv * sizeof *val);
    memmove(train, train + nv, (n - nv) * sizeof *train);
    *n_val = nv;
}
