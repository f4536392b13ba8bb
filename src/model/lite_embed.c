/* Text and image embeddings of the lite encoder (docs/research/
 * lite-zero-shot.md §3.5-3.6). */
#include "lite.h"

#include <math.h>
#include <string.h>

size_t sl_lite_text_scratch(const sl_lite_labels *l) { return l->n_synonyms + SL_LITE_CLASSES; }

int sl_lite_l2_normalize(float *v, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)v[i] * v[i];
    if (s <= 0) return 0;
    float inv = (float)(1.0 / sqrt(s));
    for (size_t i = 0; i < n; i++) v[i] *= inv;
    return 1;
}

void sl_lite_mix_word(const sl_lite_labels *l, const float *v, float weight, float *scratch,
                      float out[SL_LITE_CLASSES]) {
    float *syn_scores = scratch, *z = scratch + l->n_synonyms;
    sl_lite_word_class_sims(l, v, syn_scores, z);
    /* The word's distribution over classes: softmax of its hub-corrected
     * similarities, computed stably. */
    float zmax = -INFINITY;
    for (size_t k = 0; k < SL_LITE_CLASSES; k++) {
        z[k] = SL_LITE_SHARPNESS * (z[k] - SL_LITE_HUB_FACTOR * l->hub[k]);
        if (z[k] > zmax) zmax = z[k];
    }
    double sum = 0;
    for (size_t k = 0; k < SL_LITE_CLASSES; k++) {
        z[k] = expf(z[k] - zmax);
        sum += z[k];
    }
    const float scale = (float)(weight / sum);
    for (size_t k = 0; k < SL_LITE_CLASSES; k++) out[k] += scale * z[k];
}

sl_status sl_lite_embed_text(const sl_lite_labels *l, const sl_wordvec *wv, const char *text,
                             size_t len, float *scratch, float out[SL_LITE_CLASSES]) {
    memset(out, 0, SL_LITE_CLASSES * sizeof *out);
    sl_word_weight words[SL_LITE_MAX_QUERY_WORDS];
    size_t n = 0;
    sl_status st = sl_wordvec_content_words(wv, text, len, words, SL_LITE_MAX_QUERY_WORDS, &n);
    if (st == SL_ERR_LIMIT)
        return sl_fail(SL_ERR_LIMIT, "query has %zu content words (at most %d)", n, SL_LITE_MAX_QUERY_WORDS);
    if (st) return st;
    if (n == 0) return sl_fail(SL_ERR_NOT_FOUND, "no known content word in the query");
    for (size_t w = 0; w < n; w++)
        sl_lite_mix_word(l, sl_wordvec_vector(wv, words[w].index), words[w].weight, scratch, out);
    sl_lite_l2_normalize(out, SL_LITE_CLASSES);
    return SL_OK;
}

void sl_lite_embed_image(const uint8_t raw[SL_LITE_CLASSES + 1], float out[SL_LITE_CLASSES]) {
    /* raw^0.25 of a byte: a 256-entry table computed once would be faster,
     * but this runs once per image next to a 4 ms network. */
    for (size_t k = 0; k < SL_LITE_CLASSES; k++)
        out[k] = raw[k + 1] ? (float)pow((double)raw[k + 1], SL_LITE_IMAGE_POWER) : 0.0f;
    sl_lite_l2_normalize(out, SL_LITE_CLASSES);
}
