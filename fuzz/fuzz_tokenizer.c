/* libFuzzer target for src/text: tokenizes the input, checks the token
 * invariants, looks tokens up in a small vocabulary built from arrays,
 * lists content words, and feeds the same bytes to the JSON reader. */
#include "text/wordvec.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sl_wordvec *small_vocab(void) {
    static sl_wordvec *wv;
    if (wv) return wv;
    static const char *const words[] = {"the", "cat", "dog", "a",   "zebra",
                                        "on",  "mat", "x",   "Cat", ""};
    enum { N = sizeof(words) / sizeof(words[0]), D = 4 };
    float vecs[N * D];
    for (int i = 0; i < N * D; i++) vecs[i] = (float)i;
    if (sl_wordvec_from_arrays(N, D, words, vecs, &wv) != SL_OK) abort();
    return wv;
}

static int is_letter(uint8_t c) {
    c |= 0x20;
    return c >= 'a' && c <= 'z';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sl_wordvec *wv = small_vocab();
    const char *text = (const char *)data;
    sl_tok cur;
    sl_tok_init(&cur, text, size);
    const char *s;
    size_t n, prev_end = 0;
    while (sl_tok_next(&cur, &s, &n)) {
        size_t at = (size_t)(s - text);
        /* Inside the input, after the previous token, maximal, letters. */
        if (at < prev_end || n == 0 || at + n > size) abort();
        if (at > 0 && is_letter(data[at - 1])) abort();
        if (at + n < size && is_letter(data[at + n])) abort();
        for (size_t i = 0; i < n; i++)
            if (!is_letter(data[at + i])) abort();
        prev_end = at + n;
        char low[SL_WORDVEC_MAX_WORD_LEN];
        if (n <= sizeof(low)) {
            sl_tok_lower(low, s, n);
            int32_t idx = sl_wordvec_find(wv, low, n);
            if (idx >= (int32_t)sl_wordvec_count(wv)) abort();
        }
    }
    sl_word_weight ww[8];
    size_t total = 0;
    sl_status st = sl_wordvec_content_words(wv, text, size, ww, 8, &total);
    if (st != SL_OK && st != SL_ERR_LIMIT) abort();
    for (size_t i = 0; i < total && i < 8; i++)
        if (ww[i].weight <= 0.0f) abort();

    sl_wordvec *j = NULL;
    if (sl_wordvec_load_json_mem(data, size, &j) == SL_OK) {
        volatile float sink = 0;
        for (int32_t i = 0; i < (int32_t)sl_wordvec_count(j); i++)
            sink += sl_wordvec_vector(j, i)[99] + sl_wordvec_weight(j, i);
        (void)sink;
    }
    sl_wordvec_free(j);
    return 0;
}
