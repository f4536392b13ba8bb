/* App files (src/index/app_file.h, docs/FORMAT.md "App file"): sparse and
 * dense files round-trip (every accessor gives back what was written, a
 * rewrite from the opened file gives the same bytes, the writer is
 * deterministic); the golden file tests/golden/app/tiny.sla is what the
 * writer makes of golden_input() and what the specification says (read
 * here by a small second reader); every truncation and every byte flip of
 * it is refused (with verify) or harmless; hand-made malformations are
 * refused with the right status and a message naming the section; the
 * writer refuses bad arguments. The container module (src/core/sections.h)
 * is also tested on its own, with a format of its own.
 *
 *   test_app_file --write-golden PATH   regenerates the golden file
 *   test_app_file --write-corpus DIR    small app files: fuzzer seeds */
#include "core/sections.h"
#include "index/ann_file.h"
#include "index/app_file.h"
#include "testlib.h"
#include "reseal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* ---- little-endian helpers of the second reader ---------------------------- */

/* The table entry with this tag (the table is where the header says). */
static uint8_t *entry(uint8_t *f, const char *tag) {
    uint64_t t = sl_test_rd64(f + 32);
    for (uint32_t e = 0; e < sl_test_rd32(f + 20); e++)
        if (!memcmp(f + t + 32 * e, tag, 4)) return f + t + 32 * e;
    fprintf(stderr, "no section '%s'\n", tag);
    exit(1);
}
static uint8_t *section(uint8_t *f, const char *tag, uint64_t *size) {
    uint8_t *e = entry(f, tag);
    if (size) *size = sl_test_rd64(e + 16);
    return f + sl_test_rd64(e + 8);
}

/* A copy in a buffer of exactly `size` bytes, so that ASan sees one byte
 * past the end of what the reader was given. */
static uint8_t *exact_copy(const uint8_t *data, size_t size) {
    uint8_t *c = malloc(size ? size : 1);
    if (size) memcpy(c, data, size);
    return c;
}

/* ---- data ----------------------------------------------------------------- */

/* An input and the storage it points to. */
typedef struct data {
    sl_app_file_in in;
    int64_t *ids;
    int32_t *w, *h;
    char **paths, **meta;
    float *x; /* (count, dim) */
    sl_sparse_rows rows;
    uint8_t *ann;
} data;

static void data_free(data *d) {
    for (size_t i = 0; i < d->in.count; i++) {
        free(d->paths[i]);
        free(d->meta[i]);
    }
    free(d->ids), free(d->w), free(d->h), free(d->paths), free(d->meta), free(d->x), free(d->ann);
    sl_sparse_rows_free(&d->rows);
}

/* count items of dim dimensions; about 1 in 4 values nonzero in sparse
 * files; every third item without metadata; UTF-8 in some paths. */
static void make_data(data *d, size_t count, uint32_t dim, int sparse, uint64_t seed) {
    memset(d, 0, sizeof *d);
    uint64_t s = seed;
    size_t c1 = count ? count : 1;
    d->ids = malloc(c1 * sizeof *d->ids);
    d->w = malloc(c1 * sizeof *d->w), d->h = malloc(c1 * sizeof *d->h);
    d->paths = calloc(c1, sizeof *d->paths), d->meta = calloc(c1, sizeof *d->meta);
    d->x = calloc(c1 * dim, sizeof *d->x);
    int64_t id = (int64_t)(sl_test_rand(&s) % 10);
    for (size_t i = 0; i < count; i++) {
        d->ids[i] = id;
        id += 1 + (int64_t)(sl_test_rand(&s) % 1000);
        d->w[i] = (int32_t)(i % 7 == 0 ? 0 : 100 + sl_test_rand(&s) % 4000);
        d->h[i] = (int32_t)(i % 7 == 0 ? 0 : 100 + sl_test_rand(&s) % 3000);
        char buf[128];
        snprintf(buf, sizeof buf, "photos/%s/IMG_%04zu.jpg", i % 2 ? "caf\xc3\xa9" : "2024", i);
        d->paths[i] = strdup(buf);
        if (i % 3) {
            snprintf(buf, sizeof buf, "{\"caption\":\"item %zu\",\"n\":%zu}", i, i * i);
            d->meta[i] = strdup(buf);
        }
        for (uint32_t j = 0; j < dim; j++) {
            float v = (float)((int)(sl_test_rand(&s) % 2001) - 1000) / 1000.0f;
            d->x[i * dim + j] = sparse && sl_test_rand(&s) % 4 ? 0.0f : v;
        }
    }
    d->in = (sl_app_file_in){"searchlite-lite/test v1", dim, count, d->ids, d->w, d->h,
                             (const char *const *)d->paths, (const char *const *)d->meta, NULL, NULL, NULL, 0};
    if (sparse) {
        REQUIRE(sl_sparse_from_dense(d->x, count, dim, &d->rows) == SL_OK);
        d->in.sparse = &d->rows;
    } else {
        d->in.dense = d->x;
    }
}

/* A brute-force snapshot over d's items (only with dense). */
static void add_ann(data *d) {
    sl_ann_opts o;
    sl_ann_opts_init(&o, 10, d->in.dim, SL_ANN_DOT);
    o.brute_force = 1;
    sl_ann *a = NULL;
    REQUIRE(sl_ann_build(d->x, d->ids, d->in.count, d->in.dim, &o, &a) == SL_OK);
    size_t n;
    REQUIRE(sl_ann_save_buffer(a, &d->ann, &n) == SL_OK);
    sl_ann_free(a);
    d->in.ann = d->ann;
    d->in.ann_size = n;
}

/* The golden file's input: 5 items, 8 dimensions, sparse. */
static void golden_input(data *d) { make_data(d, 5, 8, 1, 42); }

static const char *golden_path(void) {
    static char p[512];
    snprintf(p, sizeof p, "%s/tests/golden/app/tiny.sla", SL_TEST_SOURCE_DIR);
    return p;
}

/* ---- what an opened file must give back ----------------------------------- */

static int same_str(const char *a, const char *b) { return a == b || (a && b && !strcmp(a, b)); }

static void check_contents(const sl_app_file *f, const data *d, const char *what) {
    const sl_app_file_in *in = &d->in;
    CHECK_MSG(!strcmp(sl_app_file_model_id(f), in->model_id), "%s: model id", what);
    CHECK_MSG(sl_app_file_dim(f) == in->dim && sl_app_file_count(f) == in->count, "%s: shape", what);
    CHECK_MSG(!in->count || !memcmp(sl_app_file_ids(f), in->ids, in->count * 8), "%s: ids", what);
    int items_ok = 1;
    for (size_t i = 0; i < in->count; i++) {
        const char *p, *m;
        int32_t w, h;
        sl_app_file_item(f, i, &p, &m, &w, &h);
        items_ok &= same_str(p, in->paths[i]) && same_str(m, in->metadata ? in->metadata[i] : NULL) && w == in->width[i] &&
                    h == in->height[i];
    }
    CHECK_MSG(items_ok, "%s: items", what);
    const sl_sparse_rows *s = sl_app_file_sparse(f);
    const float *x = sl_app_file_dense(f);
    size_t ann_n;
    const uint8_t *ann = sl_app_file_ann(f, &ann_n);
    if (in->sparse) {
        const sl_sparse_rows *r = in->sparse;
        uint32_t nnz = r->row_first[r->n];
        CHECK_MSG(s && !x && !ann && ann_n == 0, "%s: kind", what);
        if (s)
            CHECK_MSG(s->n == r->n && s->dim == r->dim && !memcmp(s->row_first, r->row_first, (r->n + 1) * 4) &&
                          (!nnz || (!memcmp(s->col, r->col, nnz * 2) && !memcmp(s->val, r->val, nnz * 4))),
                      "%s: sparse rows", what);
    } else {
        CHECK_MSG(x && !s, "%s: kind", what);
        CHECK_MSG(!in->count || (x && !memcmp(x, in->dense, in->count * in->dim * 4)), "%s: dense rows", what);
        CHECK_MSG(ann_n == in->ann_size && (!ann_n || !memcmp(ann, in->ann, ann_n)), "%s: ann bytes", what);
        CHECK_MSG(!ann || (uintptr_t)ann % 8 == 0, "%s: ann aligned", what);
    }
}

/* The input an opened file describes (pointing into it), to write again. */
static void input_of(const sl_app_file *f, sl_app_file_in *in, int32_t *w, int32_t *h, const char **p, const char **m) {
    for (size_t i = 0; i < sl_app_file_count(f); i++) sl_app_file_item(f, i, &p[i], &m[i], &w[i], &h[i]);
    size_t ann_n;
    const uint8_t *ann = sl_app_file_ann(f, &ann_n);
    *in = (sl_app_file_in){sl_app_file_model_id(f), sl_app_file_dim(f), sl_app_file_count(f), sl_app_file_ids(f), w, h, p, m,
                           sl_app_file_sparse(f), sl_app_file_dense(f), ann, ann_n};
}

static void round_trip(data *d, const char *what) {
    uint8_t *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    sl_status st = sl_app_file_write_buffer(&d->in, &a, &na);
    REQUIRE(st == SL_OK);
    CHECK_MSG(sl_app_file_write_buffer(&d->in, &b, &nb) == SL_OK && na == nb && !memcmp(a, b, na), "%s: deterministic", what);
    free(b);
    CHECK_MSG(na % 64 == 0 && sl_app_file_sniff(a, na) && !sl_app_file_sniff(a + 1, na - 1), "%s: size, sniff", what);

    for (int verify = 0; verify < 2; verify++) {
        sl_app_file *f = NULL;
        uint8_t *buf = exact_copy(a, na);
        st = sl_app_file_open_buffer(buf, na, verify, &f);
        CHECK_MSG(st == SL_OK, "%s: open (verify %d): %s", what, verify, sl_last_error());
        if (st) {
            free(buf);
            continue;
        }
        check_contents(f, d, what);
        /* written again from what was read: the same bytes */
        size_t c = sl_app_file_count(f) ? sl_app_file_count(f) : 1;
        int32_t *w = malloc(c * 4), *h = malloc(c * 4);
        const char **p = malloc(c * sizeof *p), **m = malloc(c * sizeof *m);
        sl_app_file_in again;
        input_of(f, &again, w, h, p, m);
        CHECK_MSG(sl_app_file_write_buffer(&again, &b, &nb) == SL_OK && nb == na && !memcmp(a, b, na),
                  "%s: rewrite gives the same bytes", what);
        free(b), free(w), free(h), free(p), free(m);
        /* the nested snapshot loads from where it sits */
        size_t ann_n;
        const uint8_t *ann = sl_app_file_ann(f, &ann_n);
        if (ann) {
            sl_ann *ix = NULL;
            CHECK_MSG(sl_ann_load_buffer(ann, ann_n, 1, &ix) == SL_OK && sl_ann_count(ix) == d->in.count,
                      "%s: nested snapshot loads: %s", what, sl_last_error());
            for (size_t i = 0; ix && i < d->in.count; i++) CHECK(sl_ann_contains(ix, d->in.ids[i]));
            sl_ann_free(ix);
        }
        sl_app_file_close(f);
        free(buf);
    }

    /* through a file: the same bytes on disk, the same contents mapped */
    char path[512];
    snprintf(path, sizeof path, "%s/%s.sla", sl_test_tmpdir(), what);
    CHECK(sl_app_file_write(&d->in, path) == SL_OK);
    size_t nf;
    uint8_t *disk = sl_test_read(path, &nf);
    CHECK_MSG(nf == na && !memcmp(disk, a, na), "%s: file = buffer", what);
    free(disk);
    sl_app_file *f = NULL;
    CHECK_MSG(sl_app_file_open(path, 1, &f) == SL_OK, "%s: open file: %s", what, sl_last_error());
    if (f) {
        check_contents(f, d, what);
        CHECK_MSG(!sl_app_file_dense(f) || (uintptr_t)sl_app_file_dense(f) % 64 == 0, "%s: dense rows 64-aligned", what);
        /* the sparse rows are searchable in place */
        const sl_sparse_rows *s = sl_app_file_sparse(f);
        if (s && s->n) {
            float *q = calloc(s->dim, sizeof *q);
            for (size_t j = 0; j < s->dim; j++) q[j] = (float)j - 3.0f;
            sl_hit h1[3], h2[3];
            size_t k1 = sl_sparse_search(s, q, 3, NULL, h1, NULL), k2 = sl_sparse_search(d->in.sparse, q, 3, NULL, h2, NULL);
            CHECK_MSG(k1 == k2 && k1 && h1[0].index == h2[0].index && h1[0].score == h2[0].score, "%s: sparse search", what);
            free(q);
        }
    }
    sl_app_file_close(f);
    free(a);
}

static void test_round_trips(void) {
    const struct {
        const char *name;
        size_t count;
        uint32_t dim;
        int sparse, ann, no_meta;
    } cases[] = {
        {"sparse", 200, 64, 1, 0, 0},    {"sparse-empty", 0, 16, 1, 0, 0}, {"sparse-1", 1, 1, 1, 0, 0},
        {"dense", 150, 24, 0, 0, 0},     {"dense-ann", 120, 16, 0, 1, 0},  {"dense-empty", 0, 3, 0, 0, 0},
        {"dense-no-metadata", 30, 5, 0, 0, 1}, {"sparse-65536", 3, 65536, 1, 0, 1},
    };
    for (size_t c = 0; c < SL_ARRAY_LEN(cases); c++) {
        data d;
        make_data(&d, cases[c].count, cases[c].dim, cases[c].sparse, 1000 + c);
        if (cases[c].ann) add_ann(&d);
        if (cases[c].no_meta) d.in.metadata = NULL;
        round_trip(&d, cases[c].name);
        data_free(&d);
    }
}

/* ---- the golden file -------------------------------------------------------- */

static void test_golden(void) {
    size_t n;
    uint8_t *g = sl_test_read(golden_path(), &n);
    data d;
    golden_input(&d);
    uint8_t *w;
    size_t nw;
    REQUIRE(sl_app_file_write_buffer(&d.in, &w, &nw) == SL_OK);
    CHECK_MSG(nw == n && !memcmp(w, g, n), "the writer no longer makes tests/golden/app/tiny.sla (%zu vs %zu bytes)", nw, n);
    free(w);

    /* the second reader: docs/FORMAT.md, not app_file.c */
    static const char *order[8] = {"INFO", "MODL", "IDS ", "ITEM", "TEXT", "ROWF", "COLS", "VALS"};
    CHECK(!memcmp(g, "SLAPPIDX", 8) && sl_test_rd32(g + 8) == 1 && sl_test_rd32(g + 12) == 0 && sl_test_rd32(g + 16) == 64);
    CHECK(sl_test_rd32(g + 20) == 8 && sl_test_rd64(g + 24) == n && sl_test_rd64(g + 32) == 64 && sl_test_rd32(g + 40) == 32);
    CHECK(sl_test_rd32(g + 44) == (uint32_t)crc32(0, g + 64, 8 * 32) && sl_test_rd32(g + 60) == (uint32_t)crc32(0, g, 60));
    uint64_t expect_off = 64 + 256; /* the table ends on a multiple of 64 */
    for (int e = 0; e < 8; e++) {
        const uint8_t *t = g + 64 + 32 * e;
        uint64_t off = sl_test_rd64(t + 8), size = sl_test_rd64(t + 16);
        CHECK_MSG(!memcmp(t, order[e], 4) && off == expect_off && sl_test_rd32(t + 4) == (uint32_t)crc32(0, g + off, (uInt)size) &&
                      sl_test_rd64(t + 24) == 0,
                  "golden: entry %d", e);
        expect_off = (off + size + 63) / 64 * 64;
    }
    CHECK(expect_off == n);
    const uint8_t *info = section(g, "INFO", NULL);
    uint64_t ms, ts, is;
    const uint8_t *modl = section(g, "MODL", &ms), *text = section(g, "TEXT", &ts), *items = section(g, "ITEM", &is);
    uint32_t nnz = d.rows.row_first[5];
    CHECK(sl_test_rd32(info) == 1 && sl_test_rd32(info + 4) == 8 && sl_test_rd64(info + 8) == 5 && sl_test_rd64(info + 16) == nnz && sl_test_rd32(info + 24) == 23);
    CHECK(ms == 23 && !memcmp(modl, "searchlite-lite/test v1", 23) && is == 5 * 24);
    for (int i = 0; i < 5; i++) {
        const uint8_t *it = items + 24 * i;
        uint64_t po = sl_test_rd64(it + 8), mo = sl_test_rd64(it + 16);
        CHECK_MSG((int32_t)sl_test_rd32(it) == d.w[i] && (int32_t)sl_test_rd32(it + 4) == d.h[i] && po < ts &&
                      !strcmp((const char *)text + po, d.paths[i]) &&
                      (d.meta[i] ? mo < ts && !strcmp((const char *)text + mo, d.meta[i]) : mo == UINT64_MAX),
                  "golden: item %d", i);
        CHECK((int64_t)sl_test_rd64(section(g, "IDS ", NULL) + 8 * i) == d.ids[i]);
    }
    CHECK(text[ts - 1] == 0);
    const uint8_t *rf = section(g, "ROWF", NULL), *cols = section(g, "COLS", NULL);
    CHECK(sl_test_rd32(rf) == 0 && sl_test_rd32(rf + 20) == nnz);
    for (uint32_t e = 0; e < nnz; e++) CHECK(cols[2 * e] < 8 && cols[2 * e + 1] == 0);

    /* it opens, and gives back the input */
    for (int verify = 0; verify < 2; verify++) {
        sl_app_file *f = NULL;
        uint8_t *buf = exact_copy(g, n);
        CHECK(sl_app_file_open_buffer(buf, n, verify, &f) == SL_OK);
        if (f) check_contents(f, &d, "golden");
        sl_app_file_close(f);
        free(buf);
    }
    data_free(&d);
    free(g);
}

/* ---- damage -------------------------------------------------------------- */

/* Reads everything an opened file gives (ASan checks the reads). */
static void exercise(const sl_app_file *f) {
    volatile size_t sink = strlen(sl_app_file_model_id(f));
    for (size_t i = 0; i < sl_app_file_count(f); i++) {
        const char *p, *m;
        int32_t w, h;
        sl_app_file_item(f, i, &p, &m, &w, &h);
        sink += strlen(p) + (m ? strlen(m) : 0);
    }
    const sl_sparse_rows *s = sl_app_file_sparse(f);
    if (s) {
        float *q = calloc(s->dim, sizeof *q);
        sl_hit h[4];
        sink += sl_sparse_search(s, q, 4, NULL, h, NULL);
        free(q);
    }
    (void)sink;
}

static int refused(sl_status st) {
    return st == SL_ERR_CORRUPT || st == SL_ERR_CHECKSUM || st == SL_ERR_UNSUPPORTED || st == SL_ERR_LIMIT;
}

static void test_corruption(void) {
    size_t n;
    uint8_t *g = sl_test_read(golden_path(), &n);
    int bad_trunc = 0, bad_flip_verify = 0, bad_flip = 0, harmless = 0, bad_sealed = 0;
    for (size_t len = 0; len < n; len++)
        for (int verify = 0; verify < 2; verify++) {
            uint8_t *buf = exact_copy(g, len);
            sl_app_file *f = NULL;
            sl_clear_error();
            sl_status st = sl_app_file_open_buffer(len ? buf : NULL, len, verify, &f);
            const char *msg = sl_last_error();
            if (st != SL_ERR_CORRUPT || f || strncmp(msg, "app file: ", 10) ||
                !(strstr(msg, "empty") || strstr(msg, "magic") || strstr(msg, "truncated")))
                bad_trunc++, fprintf(stderr, "truncated to %zu: status %d, \"%s\"\n", len, st, msg);
            sl_app_file_close(f);
            free(buf);
        }
    CHECK_MSG(bad_trunc == 0, "%d truncations not refused as truncated", bad_trunc);

    /* every byte changed, three ways; with verify refused, without verify
     * refused or harmless (and then readable in full) */
    const uint8_t flips[3] = {0x01, 0x80, 0xff};
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 3; k++)
            for (int verify = 0; verify < 2; verify++) {
                uint8_t *buf = exact_copy(g, n);
                buf[i] ^= flips[k];
                sl_app_file *f = NULL;
                sl_status st = sl_app_file_open_buffer(buf, n, verify, &f);
                if (verify && st == SL_OK) bad_flip_verify++, fprintf(stderr, "flip at %zu ^ 0x%02x accepted with verify\n", i, flips[k]);
                if (!refused(st) && st != SL_OK) bad_flip++;
                if (st == SL_OK) exercise(f), harmless += !verify;
                sl_app_file_close(f);
                free(buf);
            }
    CHECK_MSG(bad_flip_verify == 0, "%d byte flips accepted with verify", bad_flip_verify);
    CHECK_MSG(bad_flip == 0, "%d byte flips refused with an unexpected status", bad_flip);
    /* without verify only the big sections' values may change unnoticed */
    CHECK_MSG(harmless > 0 && harmless < (int)(3 * n), "%d of %zu flips accepted without verify", harmless, 3 * n);

    /* the same, resealed: the structural checks behind the CRCs */
    uint64_t st_state = 7;
    for (int round = 0; round < 20000; round++) {
        uint8_t *buf = exact_copy(g, n);
        int edits = 1 + (int)(sl_test_rand(&st_state) % 3);
        for (int e = 0; e < edits; e++) buf[sl_test_rand(&st_state) % n] ^= (uint8_t)(1 + sl_test_rand(&st_state) % 255);
        sl_test_reseal(buf, n);
        for (int verify = 0; verify < 2; verify++) {
            sl_app_file *f = NULL;
            sl_status st = sl_app_file_open_buffer(buf, n, verify, &f);
            if (st == SL_OK) exercise(f);
            else if (!refused(st)) bad_sealed++;
            sl_app_file_close(f);
        }
        free(buf);
    }
    CHECK_MSG(bad_sealed == 0, "%d resealed mutations refused with an unexpected status", bad_sealed);
    free(g);
}

/* One hand-made malformation: edit a copy of the golden file (or of a
 * dense one), reseal it or not, and expect `want` with `needle` in the
 * message. */
typedef void (*edit_fn)(uint8_t *f, size_t n);
static uint8_t *dense_file;
static size_t dense_size;

static void expect_in(const uint8_t *src, size_t n, const char *what, edit_fn edit, int seal, int verify, sl_status want,
                      const char *needle) {
    uint8_t *buf = exact_copy(src, n);
    edit(buf, n);
    if (seal) sl_test_reseal(buf, n);
    sl_app_file *f = NULL;
    sl_clear_error();
    sl_status st = sl_app_file_open_buffer(buf, n, verify, &f);
    const char *msg = sl_last_error();
    CHECK_MSG(st == want && (!needle || strstr(msg, needle)), "%s: status %d (want %d), message \"%s\" (want \"%s\")", what,
              st, want, msg, needle ? needle : "");
    if (f) exercise(f);
    sl_app_file_close(f);
    free(buf);
}
static void expect(const char *what, edit_fn edit, int seal, int verify, sl_status want, const char *needle) {
    size_t n;
    uint8_t *g = sl_test_read(golden_path(), &n);
    expect_in(g, n, what, edit, seal, verify, want, needle);
    free(g);
}

static void e_version(uint8_t *f, size_t n) { (void)n, sl_test_wr32(f + 8, 2); }
static void e_version0(uint8_t *f, size_t n) { (void)n, sl_test_wr32(f + 8, 0); }
static void e_flags(uint8_t *f, size_t n) { (void)n, sl_test_wr32(f + 12, 4); }
static void e_header_crc(uint8_t *f, size_t n) { (void)n, f[60] ^= 1; }
static void e_table_crc(uint8_t *f, size_t n) { (void)n, f[64 + 8] ^= 1; }
static void e_file_size(uint8_t *f, size_t n) { sl_test_wr64(f + 24, n + 64); }
static void e_header_reserved(uint8_t *f, size_t n) { (void)n, f[50] = 1; }
static void e_unknown_tag(uint8_t *f, size_t n) { (void)n, memcpy(entry(f, "ITEM"), "XYZW", 4); }
static void e_dup_tag(uint8_t *f, size_t n) { (void)n, memcpy(entry(f, "COLS"), "ROWF", 4); }
static void e_missing(uint8_t *f, size_t n) { (void)n, sl_test_wr32(f + 20, 7); /* drops VALS, the last entry */ }
static void e_extra(uint8_t *f, size_t n) { (void)n, memcpy(entry(f, "ANN "), "VALS", 4); } /* dense file */
static void e_entry_reserved(uint8_t *f, size_t n) { (void)n, entry(f, "TEXT")[30] = 1; }
static void e_misaligned(uint8_t *f, size_t n) {
    (void)n;
    uint8_t *e = entry(f, "TEXT");
    sl_test_wr64(e + 8, sl_test_rd64(e + 8) + 8);
}
static void e_outside(uint8_t *f, size_t n) { sl_test_wr64(entry(f, "VALS") + 16, n); }
static void e_overlap(uint8_t *f, size_t n) { (void)n, sl_test_wr64(entry(f, "MODL") + 8, sl_test_rd64(entry(f, "INFO") + 8)); }
static void e_overlap_table(uint8_t *f, size_t n) { (void)n, sl_test_wr64(entry(f, "MODL") + 8, 64); }
static void e_many_sections(uint8_t *f, size_t n) {
    (void)n;
    sl_test_wr32(f + 20, 65);
    sl_test_wr32(f + 60, (uint32_t)crc32(0, f, 60));
}
static void e_table_outside(uint8_t *f, size_t n) {
    sl_test_wr64(f + 32, n);
    sl_test_wr32(f + 60, (uint32_t)crc32(0, f, 60));
}
static void e_info_size(uint8_t *f, size_t n) { (void)n, sl_test_wr64(entry(f, "INFO") + 16, 32); }
static void e_kind(uint8_t *f, size_t n) { (void)n, sl_test_wr32(section(f, "INFO", NULL), 3); }
static void e_kind_dense(uint8_t *f, size_t n) { (void)n, sl_test_wr32(section(f, "INFO", NULL), 2); }
static void e_dim0(uint8_t *f, size_t n) { (void)n, sl_test_wr32(section(f, "INFO", NULL) + 4, 0); }
static void e_dim_limit(uint8_t *f, size_t n) { (void)n, sl_test_wr32(section(f, "INFO", NULL) + 4, 65537); }
static void e_count(uint8_t *f, size_t n) { (void)n, sl_test_wr64(section(f, "INFO", NULL) + 8, 6); }
static void e_count_huge(uint8_t *f, size_t n) { (void)n, sl_test_wr64(section(f, "INFO", NULL) + 8, UINT64_MAX / 4); }
static void e_nnz(uint8_t *f, size_t n) { (void)n, sl_test_wr64(section(f, "INFO", NULL) + 16, 1ull << 33); }
static void e_model_len(uint8_t *f, size_t n) { (void)n, sl_test_wr32(section(f, "INFO", NULL) + 24, 257); }
static void e_info_reserved(uint8_t *f, size_t n) { (void)n, section(f, "INFO", NULL)[40] = 1; }
static void e_model_nul(uint8_t *f, size_t n) { (void)n, section(f, "MODL", NULL)[3] = 0; }
static void e_ids_order(uint8_t *f, size_t n) {
    (void)n;
    uint8_t *ids = section(f, "IDS ", NULL);
    sl_test_wr64(ids + 16, sl_test_rd64(ids + 8)); /* item 2 = item 1 */
}
static void e_id_negative(uint8_t *f, size_t n) { (void)n, sl_test_wr64(section(f, "IDS ", NULL), (uint64_t)-5); }
static void e_width(uint8_t *f, size_t n) { (void)n, sl_test_wr32(section(f, "ITEM", NULL) + 24, (uint32_t)-1); }
static void e_path_off(uint8_t *f, size_t n) {
    (void)n;
    uint64_t ts;
    section(f, "TEXT", &ts);
    sl_test_wr64(section(f, "ITEM", NULL) + 24 * 2 + 8, ts);
}
static void e_meta_off(uint8_t *f, size_t n) { (void)n, sl_test_wr64(section(f, "ITEM", NULL) + 24 * 1 + 16, UINT64_MAX - 1); }
static void e_text_nul(uint8_t *f, size_t n) {
    (void)n;
    uint64_t ts;
    section(f, "TEXT", &ts)[ts - 1] = 'x';
}
static void e_row0(uint8_t *f, size_t n) { (void)n, sl_test_wr32(section(f, "ROWF", NULL), 1); }
static void e_row_order(uint8_t *f, size_t n) {
    (void)n;
    uint8_t *rf = section(f, "ROWF", NULL);
    sl_test_wr32(rf + 8, sl_test_rd32(rf + 4) - 1);
}
static void e_row_end(uint8_t *f, size_t n) {
    (void)n;
    uint8_t *rf = section(f, "ROWF", NULL);
    sl_test_wr32(rf + 20, sl_test_rd32(rf + 20) - 1);
}
static void e_col(uint8_t *f, size_t n) { (void)n, section(f, "COLS", NULL)[2] = 8; }
static void e_nan(uint8_t *f, size_t n) { (void)n, sl_test_wr32(section(f, "VALS", NULL) + 4, 0x7fc00000u); }
static void e_inf_dense(uint8_t *f, size_t n) { (void)n, sl_test_wr32(section(f, "EMBD", NULL) + 40, 0x7f800000u); }
static void e_padding(uint8_t *f, size_t n) {
    (void)n;
    uint8_t *e = entry(f, "MODL");
    f[sl_test_rd64(e + 8) + sl_test_rd64(e + 16) + 1] = 1;
}
static void e_trailing(uint8_t *f, size_t n) { f[n - 1] = 1; }
static void e_ann_magic(uint8_t *f, size_t n) { (void)n, section(f, "ANN ", NULL)[0] = 'X'; }
static void e_value(uint8_t *f, size_t n) { (void)n, section(f, "VALS", NULL)[1] ^= 0x10; }

static void test_malformed(void) {
    expect("version 2", e_version, 1, 0, SL_ERR_UNSUPPORTED, "app file: header: version 2 is newer");
    expect("version 2, unsealed", e_version, 0, 0, SL_ERR_UNSUPPORTED, "version 2 is newer");
    expect("version 0", e_version0, 1, 0, SL_ERR_CORRUPT, "version 0");
    expect("flags", e_flags, 1, 0, SL_ERR_UNSUPPORTED, "unknown flags 0x00000004");
    expect("header CRC", e_header_crc, 0, 0, SL_ERR_CHECKSUM, "header: CRC-32");
    expect("table CRC", e_table_crc, 0, 0, SL_ERR_CHECKSUM, "section table: CRC-32");
    expect("file size", e_file_size, 1, 0, SL_ERR_CORRUPT, "file_size");
    expect("header reserved", e_header_reserved, 1, 0, SL_ERR_CORRUPT, "reserved bytes 48..59");
    expect("unknown tag", e_unknown_tag, 1, 0, SL_ERR_UNSUPPORTED, "unknown tag 'XYZW'");
    expect("duplicate tag", e_dup_tag, 1, 0, SL_ERR_CORRUPT, "section 'ROWF' (row starts): appears twice");
    expect("missing section", e_missing, 1, 0, SL_ERR_CORRUPT, "section 'VALS' (values): missing in a sparse file");
    expect("entry reserved", e_entry_reserved, 1, 0, SL_ERR_CORRUPT, "'TEXT' (text): reserved bytes");
    expect("misaligned", e_misaligned, 1, 0, SL_ERR_CORRUPT, "'TEXT' (text): offset");
    expect("outside", e_outside, 1, 0, SL_ERR_CORRUPT, "'VALS' (values): offset");
    expect("overlap", e_overlap, 1, 0, SL_ERR_CORRUPT, "overlaps");
    expect("overlap with the table", e_overlap_table, 1, 0, SL_ERR_CORRUPT, "overlaps");
    expect("many sections", e_many_sections, 0, 0, SL_ERR_LIMIT, "section_count 65");
    expect("table outside", e_table_outside, 0, 0, SL_ERR_CORRUPT, "section table (offset");
    expect("info size", e_info_size, 1, 0, SL_ERR_CORRUPT, "'INFO' (info): size 32, expected 64");
    expect("info CRC (no verify)", e_kind, 0, 0, SL_ERR_CHECKSUM, "'INFO' (info): CRC-32");
    expect("kind", e_kind, 1, 0, SL_ERR_CORRUPT, "kind 3");
    expect("kind dense on sparse sections", e_kind_dense, 1, 0, SL_ERR_CORRUPT, "nnz");
    expect("dim 0", e_dim0, 1, 0, SL_ERR_CORRUPT, "dim is 0");
    expect("dim limit", e_dim_limit, 1, 0, SL_ERR_LIMIT, "dim 65537");
    expect("count", e_count, 1, 0, SL_ERR_CORRUPT, "'IDS ' (ids): size 40, expected 48");
    expect("count huge", e_count_huge, 1, 0, SL_ERR_LIMIT, "count");
    expect("nnz", e_nnz, 1, 0, SL_ERR_CORRUPT, "nnz 8589934592");
    expect("model id length", e_model_len, 1, 0, SL_ERR_CORRUPT, "model id length 257");
    expect("info reserved", e_info_reserved, 1, 0, SL_ERR_CORRUPT, "'INFO' (info): reserved");
    expect("model id CRC (no verify)", e_model_nul, 0, 0, SL_ERR_CHECKSUM, "'MODL' (model id): CRC-32");
    expect("model id NUL", e_model_nul, 1, 0, SL_ERR_CORRUPT, "NUL byte inside the model id");
    expect("ids not ascending", e_ids_order, 1, 0, SL_ERR_CORRUPT, "'IDS ' (ids): item 2");
    expect("id negative", e_id_negative, 1, 0, SL_ERR_CORRUPT, "id -5 is negative");
    expect("negative width", e_width, 1, 0, SL_ERR_CORRUPT, "'ITEM' (items): item 1: size -1");
    expect("path offset", e_path_off, 1, 0, SL_ERR_CORRUPT, "item 2: path offset");
    expect("metadata offset", e_meta_off, 1, 0, SL_ERR_CORRUPT, "item 1: metadata offset");
    expect("text not terminated", e_text_nul, 1, 0, SL_ERR_CORRUPT, "'TEXT' (text): the last of its");
    expect("row 0", e_row0, 1, 0, SL_ERR_CORRUPT, "'ROWF' (row starts): row 0 starts at 1");
    expect("rows decrease", e_row_order, 1, 0, SL_ERR_CORRUPT, "row 2 starts at");
    expect("rows end", e_row_end, 1, 0, SL_ERR_CORRUPT, "INFO says nnz");
    expect("column >= dim", e_col, 1, 0, SL_ERR_CORRUPT, "'COLS' (columns): entry 1: column 8 >= dim 8");
    expect("column >= dim, unsealed", e_col, 0, 0, SL_ERR_CORRUPT, "column 8 >= dim 8");
    expect("NaN value, no verify", e_nan, 1, 0, SL_OK, NULL);
    expect("NaN value, verify", e_nan, 1, 1, SL_ERR_CORRUPT, "'VALS' (values): entry 1 is not finite");
    expect("value flip, no verify", e_value, 0, 0, SL_OK, NULL);
    expect("value flip, verify", e_value, 0, 1, SL_ERR_CHECKSUM, "'VALS' (values): CRC-32");
    expect("padding, no verify", e_padding, 0, 0, SL_OK, NULL);
    expect("padding, verify", e_padding, 0, 1, SL_ERR_CORRUPT, "padding byte at offset");
    expect("trailing padding, verify", e_trailing, 0, 1, SL_ERR_CORRUPT, "padding byte at offset");

    expect_in(dense_file, dense_size, "extra section", e_extra, 1, 0, SL_ERR_CORRUPT, "'VALS' (values): unexpected in a dense file");
    expect_in(dense_file, dense_size, "infinite embedding, no verify", e_inf_dense, 1, 0, SL_OK, NULL);
    expect_in(dense_file, dense_size, "infinite embedding", e_inf_dense, 1, 1, SL_ERR_CORRUPT,
              "'EMBD' (embeddings): row 2, dimension 2 is not finite");
    expect_in(dense_file, dense_size, "not a snapshot", e_ann_magic, 1, 0, SL_ERR_CORRUPT, "'ANN ' (index snapshot)");

    /* arguments, alignment, files */
    size_t n;
    uint8_t *g = sl_test_read(golden_path(), &n);
    sl_app_file *f = (sl_app_file *)1;
    CHECK(sl_app_file_open_buffer(NULL, 0, 0, &f) == SL_ERR_CORRUPT && f == NULL && strstr(sl_last_error(), "empty"));
    CHECK(sl_app_file_open_buffer(NULL, 10, 0, &f) == SL_ERR_ARG);
    CHECK(sl_app_file_open_buffer(g, n, 0, NULL) == SL_ERR_ARG);
    uint8_t *odd = malloc(n + 8);
    memcpy(odd + 4, g, n);
    CHECK(sl_app_file_open_buffer(odd + 4, n, 0, &f) == SL_ERR_ARG && strstr(sl_last_error(), "aligned"));
    free(odd);
    memcpy(g, "SLANNIDX", 8); /* another format's file */
    CHECK(sl_app_file_open_buffer(g, n, 0, &f) == SL_ERR_CORRUPT && strstr(sl_last_error(), "bad magic"));
    CHECK(!sl_app_file_sniff(g, n) && !sl_app_file_sniff(NULL, 0) && !sl_app_file_sniff("SLAPPID", 7));
    memcpy(g, "SLAPPIDX", 8);
    CHECK(sl_app_file_sniff(g, 8));
    char path[512];
    snprintf(path, sizeof path, "%s/missing.sla", sl_test_tmpdir());
    CHECK(sl_app_file_open(path, 0, &f) == SL_ERR_IO && f == NULL);
    CHECK(sl_app_file_open(NULL, 0, &f) == SL_ERR_ARG);
    snprintf(path, sizeof path, "%s/bad.sla", sl_test_tmpdir());
    g[8] = 9; /* version 9 */
    REQUIRE(sl_file_write_atomic(path, g, n) == SL_OK);
    CHECK(sl_app_file_open(path, 1, &f) == SL_ERR_UNSUPPORTED && strstr(sl_last_error(), path) == sl_last_error());
    REQUIRE(sl_file_write_atomic(path, g, 0) == SL_OK);
    CHECK(sl_app_file_open(path, 1, &f) == SL_ERR_CORRUPT && strstr(sl_last_error(), "empty") &&
          strstr(sl_last_error(), path) == sl_last_error());
    sl_app_file_close(NULL);
    const char *p = "x", *m = "y";
    int32_t w = 1, h = 1;
    sl_app_file_item(NULL, 0, &p, &m, &w, &h);
    CHECK(!p && !m && !w && !h && !sl_app_file_count(NULL) && !sl_app_file_sparse(NULL));
    free(g);
}

/* ---- the writer's arguments ---------------------------------------------- */

static void expect_arg(const sl_app_file_in *in, sl_status want, const char *needle, const char *what) {
    uint8_t *out = (uint8_t *)1;
    size_t n = 1;
    sl_clear_error();
    sl_status st = sl_app_file_write_buffer(in, &out, &n);
    if (want == SL_OK) {
        CHECK_MSG(st == SL_OK && out && n, "%s: status %d, \"%s\"", what, st, sl_last_error());
        if (!st) free(out);
        return;
    }
    CHECK_MSG(st == want && out == NULL && n == 0 && strstr(sl_last_error(), needle), "%s: status %d, \"%s\"", what, st,
              sl_last_error());
}

static void test_writer_args(void) {
    data d, e;
    make_data(&d, 10, 8, 1, 5);
    make_data(&e, 10, 8, 0, 5);
    add_ann(&e);
    sl_app_file_in in;
    char long_id[300];
    memset(long_id, 'a', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = 0;
    expect_arg(NULL, SL_ERR_ARG, "NULL input", "NULL input");
#define TRY(edit, want, needle)                        \
    do {                                              \
        in = d.in;                                    \
        edit;                                         \
        expect_arg(&in, want, needle, #edit);         \
    } while (0)
    TRY(in.model_id = NULL, SL_ERR_ARG, "model_id");
    TRY(in.model_id = "", SL_ERR_ARG, "model_id must have 1..256");
    TRY(in.model_id = long_id, SL_ERR_ARG, "model_id must have 1..256");
    TRY(in.dim = 0, SL_ERR_ARG, "dim 0");
    TRY((in.dim = 65537, d.rows.dim = 65537), SL_ERR_ARG, "dim 65537");
    d.rows.dim = 8;
    TRY(in.dense = e.x, SL_ERR_ARG, "exactly one of sparse and dense");
    TRY(in.sparse = NULL, SL_ERR_ARG, "exactly one of sparse and dense");
    TRY(in.ids = NULL, SL_ERR_ARG, "NULL ids");
    TRY(in.paths = NULL, SL_ERR_ARG, "NULL ids, width, height or paths");
    TRY(in.count = 9, SL_ERR_ARG, "sparse rows are (10, 8)");
    TRY((in.ann = e.ann, in.ann_size = e.in.ann_size), SL_ERR_ARG, "dense embeddings only");
    TRY(in.ann_size = 64, SL_ERR_ARG, "ann and ann_size");
    d.ids[4] = d.ids[3];
    TRY((void)0, SL_ERR_ARG, "item 4: id");
    d.ids[4] = d.ids[3] + 1;
    int64_t id0 = d.ids[0];
    d.ids[0] = -1;
    TRY((void)0, SL_ERR_ARG, "id -1 is negative");
    d.ids[0] = id0;
    d.w[2] = -3;
    TRY((void)0, SL_ERR_ARG, "item 2: size -3");
    d.w[2] = 3;
    char *p3 = d.paths[3];
    d.paths[3] = NULL;
    TRY((void)0, SL_ERR_ARG, "item 3: NULL path");
    d.paths[3] = p3;
    uint16_t *col = (uint16_t *)(uintptr_t)d.rows.col;
    uint16_t c1 = col[1];
    col[1] = 8;
    TRY((void)0, SL_ERR_ARG, "column 8 >= dim 8");
    col[1] = c1;
    float *val = (float *)(uintptr_t)d.rows.val;
    float v0 = val[0];
    val[0] = NAN;
    TRY((void)0, SL_ERR_ARG, "entry 0: value is not finite");
    val[0] = v0;
    uint32_t *rf = (uint32_t *)(uintptr_t)d.rows.row_first;
    uint32_t r2 = rf[2];
    rf[2] = rf[1] - 1;
    TRY((void)0, SL_ERR_ARG, "row_first decreases");
    rf[2] = r2;
    TRY((void)0, SL_OK, ""); /* every edit undone */
    uint8_t *out;
    size_t n;
    CHECK(sl_app_file_write_buffer(&d.in, NULL, &n) == SL_ERR_ARG && sl_app_file_write_buffer(&d.in, &out, NULL) == SL_ERR_ARG);
    CHECK(sl_app_file_write(&d.in, NULL) == SL_ERR_ARG);
    char path[512];
    snprintf(path, sizeof path, "%s/no/such/dir/x.sla", sl_test_tmpdir());
    CHECK(sl_app_file_write(&d.in, path) == SL_ERR_IO && strstr(sl_last_error(), path) == sl_last_error());
#undef TRY
#define TRY(edit, want, needle)                        \
    do {                                              \
        in = e.in;                                    \
        edit;                                         \
        expect_arg(&in, want, needle, #edit);         \
    } while (0)
    e.x[13] = INFINITY;
    TRY((void)0, SL_ERR_ARG, "row 1, dimension 5 is not finite");
    e.x[13] = 0.5f;
    TRY((void)0, SL_OK, "");
    uint8_t junk[128] = {0};
    TRY((in.ann = junk, in.ann_size = sizeof junk), SL_ERR_ARG, "ann is not a valid index snapshot");
    e.ids[9] += 1; /* the snapshot no longer has the last id */
    TRY((void)0, SL_ERR_ARG, "ann lacks id");
    e.ids[9] -= 1;
    TRY(in.count = 9, SL_ERR_ARG, "ann has 10 items");
    /* an unaligned snapshot is fine: the writer copies it to check it */
    uint8_t *shifted = malloc(e.in.ann_size + 3);
    memcpy(shifted + 3, e.ann, e.in.ann_size);
    TRY(in.ann = shifted + 3, SL_OK, "");
    free(shifted);
#undef TRY
    data_free(&d);
    data_free(&e);
}

/* ---- the container module on its own (src/core/sections.h) ----------------- */

static void test_sections(void) {
    const sl_section_kind kinds[3] = {{"AAAA", "first"}, {"BBBB", "second"}, {"CCCC", "third"}};
    sl_sections_spec spec = {"test file", "TESTFILE", 3, kinds, 3};
    uint8_t x[100];
    for (int i = 0; i < 100; i++) x[i] = (uint8_t)(i + 1);
    /* any order, an empty section, one kind absent */
    sl_section_in in[2] = {{"CCCC", x, 100, 0}, {"AAAA", NULL, 0, 0}};
    uint8_t *d;
    size_t n;
    REQUIRE(sl_sections_write("test file", "TESTFILE", 3, in, 2, &d, &n) == SL_OK);
    CHECK(n == 256 && in[0].offset == 128 && in[1].offset == 256); /* table 64..127, C 128..227, A empty at 256 */
    CHECK(!memcmp(d, "TESTFILE", 8) && sl_test_rd32(d + 8) == 3 && sl_test_rd32(d + 20) == 2 && sl_test_rd64(d + 24) == 256);
    CHECK(sl_test_rd32(d + 64 + 4) == (uint32_t)crc32(0, x, 100) && sl_test_rd32(d + 60) == (uint32_t)crc32(0, d, 60));
    sl_section out[3];
    uint32_t version = 0;
    CHECK(sl_sections_parse(&spec, d, n, 1, &version, out) == SL_OK && version == 3);
    CHECK(out[2].present && out[2].offset == 128 && out[2].size == 100 && !memcmp(out[2].data, x, 100));
    CHECK(out[0].present && out[0].size == 0 && !out[1].present && !out[1].data);
    CHECK(sl_section_check_crc(&spec, 2, out) == SL_OK && sl_section_check_crc(&spec, 1, out) == SL_OK);
    out[2].crc ^= 1;
    CHECK(sl_section_check_crc(&spec, 2, out) == SL_ERR_CHECKSUM && strstr(sl_last_error(), "test file: section 'CCCC' (third): CRC-32"));
    spec.version = 2; /* an older reader */
    CHECK(sl_sections_parse(&spec, d, n, 0, &version, out) == SL_ERR_UNSUPPORTED && strstr(sl_last_error(), "version 3 is newer than this reader's (2)"));
    spec.version = 3;
    spec.n_kinds = 2; /* a reader that does not know CCCC */
    CHECK(sl_sections_parse(&spec, d, n, 0, NULL, out) == SL_ERR_UNSUPPORTED && strstr(sl_last_error(), "unknown tag 'CCCC'"));
    spec.n_kinds = 3;
    d[200] ^= 1; /* inside CCCC: only verify sees it */
    CHECK(sl_sections_parse(&spec, d, n, 0, NULL, out) == SL_OK);
    CHECK(sl_sections_parse(&spec, d, n, 1, NULL, out) == SL_ERR_CHECKSUM);
    free(d);
    /* no sections at all: a header alone */
    REQUIRE(sl_sections_write("test file", "TESTFILE", 1, NULL, 0, &d, &n) == SL_OK);
    CHECK(n == 64 && sl_sections_parse(&spec, d, n, 1, NULL, out) == SL_OK && !out[0].present);
    free(d);
    /* the writer refuses a tag twice (every reader would refuse the file) */
    sl_section_in twice[2] = {{"AAAA", x, 1, 0}, {"AAAA", x, 2, 0}};
    CHECK(sl_sections_write("test file", "TESTFILE", 1, twice, 2, &d, &n) == SL_ERR_ARG && d == NULL && n == 0);
}

/* ---- entry points ---------------------------------------------------------- */

static int write_golden(const char *path) {
    data d;
    golden_input(&d);
    sl_status st = sl_app_file_write(&d.in, path);
    data_free(&d);
    if (st) fprintf(stderr, "%s\n", sl_last_error());
    else printf("wrote %s\n", path);
    return st != SL_OK;
}

static int write_corpus(const char *dir) {
    const struct {
        size_t count;
        uint32_t dim;
        int sparse, ann;
    } c[] = {{5, 8, 1, 0}, {0, 4, 1, 0}, {3, 4, 0, 0}, {12, 6, 0, 1}, {0, 2, 0, 0}, {20, 300, 1, 0}};
    for (size_t i = 0; i < SL_ARRAY_LEN(c); i++) {
        data d;
        make_data(&d, c[i].count, c[i].dim, c[i].sparse, 77 + i);
        if (c[i].ann) add_ann(&d);
        char path[512];
        snprintf(path, sizeof path, "%s/app-%zu.sla", dir, i);
        sl_status st = sl_app_file_write(&d.in, path);
        data_free(&d);
        if (st) {
            fprintf(stderr, "%s\n", sl_last_error());
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--write-golden")) return write_golden(argv[2]);
    if (argc == 3 && !strcmp(argv[1], "--write-corpus")) return write_corpus(argv[2]);
    /* a dense file with a snapshot for the dense malformations */
    data d;
    make_data(&d, 6, 4, 0, 9);
    add_ann(&d);
    REQUIRE(sl_app_file_write_buffer(&d.in, &dense_file, &dense_size) == SL_OK);
    data_free(&d);

    test_sections();
    test_round_trips();
    test_golden();
    test_corruption();
    test_malformed();
    test_writer_args();
    free(dense_file);
    return sl_test_summary();
}
