/* SIF word weights and the stop list of REPORT 3.1. */
#include "text/wordvec.h"

#include <math.h>
#include <string.h>

/* The 139-word stop list, verbatim from REPORT 3.1, sorted: function
 * words, numbers up to four, quantity nouns and caption boilerplate.
 * Some ("a", "i") are not in the wink vocabulary; they are listed anyway. */
static const char *const STOPWORDS[] = {
    "a", "about", "above", "across", "against", "all", "along", "am", "an",
    "and", "another", "are", "around", "as", "at", "be", "been", "behind",
    "being", "below", "beside", "between", "both", "bunch", "but", "by",
    "can", "could", "couple", "did", "different", "do", "does", "doing",
    "down", "during", "each", "few", "for", "four", "from", "front", "group",
    "had", "has", "have", "he", "her", "here", "him", "his", "holding", "how",
    "i", "if", "image", "in", "into", "is", "it", "its", "looking", "lot",
    "lots", "many", "may", "me", "might", "must", "my", "near", "next", "no",
    "nor", "not", "of", "off", "on", "one", "onto", "or", "other", "our",
    "out", "over", "pair", "photo", "photograph", "picture", "several",
    "shall", "she", "should", "showing", "shown", "side", "sitting", "so",
    "some", "standing", "than", "that", "the", "their", "them", "then",
    "there", "these", "they", "this", "those", "three", "through", "to",
    "too", "top", "toward", "towards", "two", "under", "up", "us", "various",
    "very", "view", "was", "we", "were", "what", "when", "where", "which",
    "while", "who", "will", "with", "would", "you", "your",
};

size_t sl_stopword_count(void) { return SL_ARRAY_LEN(STOPWORDS); }

const char *sl_stopword(size_t i) {
    return i < SL_ARRAY_LEN(STOPWORDS) ? STOPWORDS[i] : NULL;
}

bool sl_is_stopword(const char *ptr, size_t len) {
    if (!ptr && len) return false;
    /* Binary search over the sorted list; memcmp order equals strcmp order
     * for these ASCII words. */
    size_t lo = 0, hi = SL_ARRAY_LEN(STOPWORDS);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *w = STOPWORDS[mid];
        size_t wl = strlen(w);
        int c = memcmp(w, ptr, SL_MIN(wl, len));
        if (c == 0) c = (wl > len) - (wl < len);
        if (c == 0) return true;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return false;
}

void sl_sif_fill(const sl_wordvec *wv, float *weights) {
    size_t n = sl_wordvec_count(wv);
    /* p(w) = 1 / ((rank + 1) * H_N): a Zipf estimate from the rank alone,
     * since the file carries no counts. Computed in double, as the Python
     * reference does, and rounded once. */
    double h_n = log((double)n) + SL_EULER_GAMMA;
    for (size_t i = 0; i < n; i++) {
        double p = 1.0 / ((double)(i + 1) * h_n);
        weights[i] = (float)(SL_SIF_A / (SL_SIF_A + p));
    }
    for (size_t k = 0; k < SL_ARRAY_LEN(STOPWORDS); k++) {
        int32_t idx = sl_wordvec_find(wv, STOPWORDS[k], strlen(STOPWORDS[k]));
        if (idx >= 0) weights[idx] = 0.0f;
    }
}
