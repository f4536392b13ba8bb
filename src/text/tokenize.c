/* The query tokenizer of REPORT 3.2: ASCII letter runs, lower-cased. The
 * study measured richer rules (hyphen joining, possessives, digits,
 * plurals) and they changed nothing, so this is the whole rule. */
#include "text/wordvec.h"

static inline bool is_letter(uint8_t c) {
    return (uint8_t)((c | 0x20) - 'a') < 26;
}

void sl_tok_init(sl_tok *cur, const char *text, size_t len) {
    cur->text = text;
    cur->len = text ? len : 0;
    cur->pos = 0;
}

bool sl_tok_next(sl_tok *cur, const char **start, size_t *len) {
    const uint8_t *t = (const uint8_t *)cur->text;
    size_t i = cur->pos, n = cur->len;
    while (i < n && !is_letter(t[i])) i++;
    if (i >= n) {
        cur->pos = n;
        return false;
    }
    size_t s = i;
    while (i < n && is_letter(t[i])) i++;
    cur->pos = i;
    *start = cur->text + s;
    *len = i - s;
    return true;
}

void sl_tok_lower(char *dst, const char *src, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)src[i];
        dst[i] = (char)(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
    }
}

sl_status sl_wordvec_content_words(const sl_wordvec *wv, const char *text,
                                   size_t len, sl_word_weight *out,
                                   size_t cap, size_t *n_total) {
    if (!wv || !n_total || (!text && len) || (!out && cap))
        return sl_fail(SL_ERR_ARG, "wordvec: NULL argument");
    size_t count = 0;
    sl_tok cur;
    sl_tok_init(&cur, text, len);
    const char *s;
    size_t n;
    char low[SL_WORDVEC_MAX_WORD_LEN];
    while (sl_tok_next(&cur, &s, &n)) {
        /* Longer tokens cannot be vocabulary words; no need to copy them. */
        if (n > sizeof(low)) continue;
        sl_tok_lower(low, s, n);
        int32_t idx = sl_wordvec_find(wv, low, n);
        if (idx < 0) continue;
        float w = sl_wordvec_weight(wv, idx);
        if (w == 0.0f) continue;
        if (count < cap) out[count] = (sl_word_weight){idx, w};
        count++;
    }
    *n_total = count;
    if (count > cap)
        return sl_fail(SL_ERR_LIMIT, "wordvec: %zu content words, room for %zu",
                       count, cap);
    return SL_OK;
}
