/* Snapshot files of the searcher index (src/index/ann_file.h, docs/FORMAT.md):
 * every kind of index round-trips (same bytes when saved again, same hits
 * bit for bit, same options, add/remove on the loaded index equal to the
 * same changes on the original); the golden file tests/golden/ann/tiny.slx
 * is what the saver writes and what the specification says (read here by a
 * second, independent reader written from docs/FORMAT.md); every
 * truncation and every byte flip of it is refused or harmless; hand-made
 * malformations are refused with the right status and a message naming the
 * section.
 *
 * Runs at the scalar kernel level unless SEARCHLITE_CPU is set: the golden
 * file must be rebuilt bit for bit on any machine, and the SIMD sums differ
 * from the scalar ones in the last bit (src/index/flat.h). The SIMD kernels
 * have their own tests (test_flat, test_lut16); SEARCHLITE_CPU=avx512
 * runs this program's round trips on them (the golden rebuild is then
 * skipped).
 *
 *   test_ann_file --write-golden PATH      regenerates the golden file
 *   test_ann_file --write-corpus DIR       small snapshots: fuzzer seeds
 *   test_ann_file --bench N DIM LEAVES     load times of a random index */
#include "index/ann_file.h"
#include "index/ann_internal.h"
#include "testlib.h"
#include "reseal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* ---- data ----------------------------------------------------------------- */


/* Ids that are not row numbers: odd, spread, some negative. */
static int64_t *make_ids(size_t n, int64_t base) {
    int64_t *ids = malloc((n ? n : 1) * sizeof *ids);
    for (size_t i = 0; i < n; i++) ids[i] = base + (int64_t)i * 7919 * ((i % 5 == 0) ? -1 : 1);
    return ids;
}

/* ---- comparisons ---------------------------------------------------------- */

static int same_opts(const sl_ann_opts *a, const sl_ann_opts *b) {
    return a->metric == b->metric && a->brute_force == b->brute_force && a->num_leaves == b->num_leaves &&
           a->num_leaves_to_search == b->num_leaves_to_search && a->training_sample_size == b->training_sample_size &&
           a->spherical == b->spherical && a->kmeans_iters == b->kmeans_iters &&
           a->dims_per_block == b->dims_per_block && !memcmp(&a->aniso_threshold, &b->aniso_threshold, 4) &&
           a->ah_iters == b->ah_iters && a->store == b->store && a->reorder_k == b->reorder_k && a->seed == b->seed &&
           a->n_threads == b->n_threads;
}

/* Hits equal bit for bit (id and the score's bits; sl_hit's padding is
 * whatever the search's scratch memory held). */
static int same_hits(const sl_hit *a, const sl_hit *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (a[i].index != b[i].index || memcmp(&a[i].score, &b[i].score, sizeof a[i].score)) return 0;
    return 1;
}

/* Number of the nq queries whose hits differ (default query options, then
 * every leaf and a large re-ordering). */
static int differ(const sl_ann *a, const sl_ann *b, const float *qs, size_t nq, size_t dim) {
    int bad = 0;
    const sl_ann_query_opts wide = {1000000, 500};
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < nq; i++) {
            sl_hit ha[20], hb[20];
            sl_status sa, sb;
            const sl_ann_query_opts *qo = pass ? &wide : NULL;
            size_t na = sl_ann_search(a, qs + i * dim, 20, qo, ha, &sa), nb = sl_ann_search(b, qs + i * dim, 20, qo, hb, &sb);
            if (sa || sb || na != nb || !same_hits(ha, hb, na)) bad++;
        }
    return bad;
}

static int same_bytes(const uint8_t *a, size_t na, const uint8_t *b, size_t nb) {
    return na == nb && !memcmp(a, b, na);
}

/* A copy in a buffer of exactly `size` bytes, so that ASan sees one byte
 * past the end of what the loader was given. */
static uint8_t *exact_copy(const uint8_t *data, size_t size) {
    uint8_t *c = malloc(size ? size : 1);
    if (size) memcpy(c, data, size);
    return c;
}

static sl_status load_copy(const uint8_t *data, size_t size, int verify, sl_ann **out, uint8_t **buf) {
    *buf = exact_copy(data, size);
    return sl_ann_load_buffer(*buf, size, verify, out);
}

/* ---- round trips ---------------------------------------------------------- */

typedef struct config {
    const char *name;
    size_t n, dim;
    sl_ann_metric metric;
    int brute;
    uint32_t leaves, dpb;
    sl_ann_store store;
    int churn;      /* remove a third and add new items before saving */
    int empty_leaf; /* remove every item of one leaf before saving */
} config;

static sl_ann *build(const config *c, const float *x, const int64_t *ids) {
    sl_ann_opts o;
    sl_ann_opts_init(&o, c->brute ? 10 : 200000, c->dim, c->metric);
    if (!c->brute) {
        o.num_leaves = c->leaves;
        o.num_leaves_to_search = c->leaves > 4 ? c->leaves / 4 : 1;
        o.dims_per_block = c->dpb;
        o.store = c->store;
        o.reorder_k = 40;
        o.kmeans_iters = 4;
        o.ah_iters = 3;
        o.training_sample_size = 2000;
    }
    sl_ann *a = NULL;
    sl_status st = sl_ann_build(x, ids, c->n, c->dim, &o, &a);
    CHECK_MSG(st == SL_OK, "%s: build: %s", c->name, sl_last_error());
    return a;
}

/* The same changes on a and on b (b may be NULL): remove the given ids,
 * then add new items. */
static void change(sl_ann *a, sl_ann *b, const int64_t *rm, size_t n_rm, const float *x, const int64_t *ids, size_t n_add,
                   const char *name) {
    size_t ma = 9, mb = 9;
    sl_status sa = sl_ann_remove(a, rm, n_rm, &ma), sb = b ? sl_ann_remove(b, rm, n_rm, &mb) : SL_OK;
    CHECK_MSG(sa == SL_OK && sb == SL_OK && ma == 1 && (!b || mb == 1), "%s: remove: %d %d (%s)", name, sa, sb,
              sl_last_error());
    sa = sl_ann_add(a, x, ids, n_add);
    sb = b ? sl_ann_add(b, x, ids, n_add) : SL_OK;
    CHECK_MSG(sa == SL_OK && sb == SL_OK, "%s: add: %d %d (%s)", name, sa, sb, sl_last_error());
}

/* Saves a and checks that b saves to the same bytes. */
static void check_same_file(const sl_ann *a, const sl_ann *b, const char *name, const char *what) {
    uint8_t *da, *db;
    size_t na, nb;
    REQUIRE(sl_ann_save_buffer(a, &da, &na) == SL_OK);
    REQUIRE(sl_ann_save_buffer(b, &db, &nb) == SL_OK);
    CHECK_MSG(same_bytes(da, na, db, nb), "%s: %s: files differ (%zu and %zu bytes)", name, what, na, nb);
    free(da);
    free(db);
}

/* The index of a configuration, after its removes and adds. */
static sl_ann *make_index(const config *c, const float *x, const int64_t *ids, const float *more, const int64_t *more_ids) {
    sl_ann *a = build(c, x, ids);
    if (!a) return NULL;
    if (c->churn) { /* removes (some unknown ids among them) and adds */
        int64_t rm[400];
        size_t n_rm = 0, missing = 0;
        for (size_t i = 0; i < c->n && n_rm < 398; i += 3) rm[n_rm++] = ids[i];
        rm[n_rm++] = -1;
        rm[n_rm++] = 12345678901;
        CHECK(sl_ann_remove(a, rm, n_rm, &missing) == SL_OK && missing == 2);
        CHECK(sl_ann_add(a, more, more_ids, 30) == SL_OK);
    }
    if (c->empty_leaf) { /* leaf 1 emptied: a leaf with no items in the file */
        const ann_leaf *l = &a->leaves[1];
        int64_t *rm = malloc((l->n ? l->n : 1) * sizeof *rm);
        size_t n_rm = l->n;
        memcpy(rm, l->ids, n_rm * sizeof *rm);
        CHECK(sl_ann_remove(a, rm, n_rm, NULL) == SL_OK && a->leaves[1].n == 0);
        free(rm);
    }
    return a;
}

static void round_trip(const config *c) {
    float *x = sl_test_clustered(c->n, c->dim, c->metric == SL_ANN_DOT, 100 + c->n);
    float *qs = sl_test_clustered(50, c->dim, c->metric == SL_ANN_DOT, 7);
    float *more = sl_test_clustered(60, c->dim, c->metric == SL_ANN_DOT, 8);
    int64_t *ids = make_ids(c->n, 1000), *more_ids = make_ids(60, 1 << 30);
    sl_ann *a = make_index(c, x, ids, more, more_ids);
    if (!a) goto out;

    /* saving twice gives the same bytes */
    uint8_t *f1, *f2;
    size_t n1, n2;
    REQUIRE(sl_ann_save_buffer(a, &f1, &n1) == SL_OK);
    REQUIRE(sl_ann_save_buffer(a, &f2, &n2) == SL_OK);
    CHECK_MSG(same_bytes(f1, n1, f2, n2), "%s: two saves differ", c->name);
    CHECK(n1 % 64 == 0 && !memcmp(f1, "SLANNIDX", 8));
    free(f2);

    char path[512];
    snprintf(path, sizeof path, "%s/%s.slx", sl_test_tmpdir(), c->name);
    REQUIRE(sl_ann_save(a, path) == SL_OK);
    size_t nf;
    uint8_t *ff = sl_test_read(path, &nf);
    CHECK_MSG(same_bytes(f1, n1, ff, nf), "%s: sl_ann_save and sl_ann_save_buffer differ", c->name);
    free(ff);

    /* loads: from a buffer and from the file, both verify modes */
    for (int from_file = 0; from_file < 2; from_file++)
        for (int verify = 0; verify < 2; verify++) {
            sl_ann *b = NULL;
            uint8_t *buf = NULL;
            sl_status st = from_file ? sl_ann_load(path, verify, &b) : load_copy(f1, n1, verify, &b, &buf);
            CHECK_MSG(st == SL_OK, "%s: load (%s, verify %d): %s", c->name, from_file ? "file" : "buffer", verify,
                      sl_last_error());
            if (st) {
                free(buf);
                continue;
            }
            CHECK(sl_ann_count(b) == sl_ann_count(a) && sl_ann_dim(b) == sl_ann_dim(a));
            CHECK_MSG(same_opts(sl_ann_options(a), sl_ann_options(b)), "%s: options differ", c->name);
            CHECK(b->n_leaves == a->n_leaves && b->eta == a->eta && b->build_mean_leaf == a->build_mean_leaf);
            int d = differ(a, b, qs, 50, c->dim);
            CHECK_MSG(d == 0, "%s: %d of 100 searches differ after load (%s, verify %d)", c->name, d,
                      from_file ? "file" : "buffer", verify);
            check_same_file(a, b, c->name, "saved again after load");
            /* zero copy: the big arrays are in the file */
            const uint8_t *lo = from_file ? b->file.data : buf, *hi = lo + n1;
            for (uint32_t p = 0; p < b->n_leaves; p++)
                if (b->leaves[p].n)
                    CHECK(b->leaves[p].borrowed && (const uint8_t *)b->leaves[p].ids >= lo &&
                          (const uint8_t *)b->leaves[p].ids < hi);
            if (!c->brute) CHECK(b->tables_borrowed && (const uint8_t *)b->centres >= lo && (const uint8_t *)b->pq.centres < hi);

            sl_ann_free(b);
            free(buf);
        }

    /* The same removes and adds on the original and on two loaded copies
     * (mapped file, borrowed buffer) give the same index: same hits, same
     * bytes when saved. The first change to a leaf copies it out of the
     * file (copy on write); the file and the buffer stay untouched. */
    sl_ann *bf = NULL, *bb = NULL;
    uint8_t *buf = NULL;
    if (sl_ann_load(path, 1, &bf) == SL_OK && load_copy(f1, n1, 0, &bb, &buf) == SL_OK) {
        int64_t rm[40];
        size_t n_rm = 0;
        for (uint32_t p = 0; p < a->n_leaves && n_rm < 30; p++)
            for (size_t i = 0; i < a->leaves[p].n && i < 3; i++) rm[n_rm++] = a->leaves[p].ids[i];
        rm[n_rm++] = -99; /* unknown */
        change(a, bf, rm, n_rm, more + 30 * c->dim, more_ids + 30, 30, c->name);
        change(bb, NULL, rm, n_rm, more + 30 * c->dim, more_ids + 30, 30, c->name);
        CHECK(sl_ann_count(a) == sl_ann_count(bf) && sl_ann_count(a) == sl_ann_count(bb));
        int d = differ(a, bf, qs, 50, c->dim) + differ(a, bb, qs, 50, c->dim);
        CHECK_MSG(d == 0, "%s: %d searches differ after the same changes", c->name, d);
        check_same_file(a, bf, c->name, "after the same changes (file)");
        check_same_file(a, bb, c->name, "after the same changes (buffer)");
        CHECK_MSG(same_bytes(buf, n1, f1, n1), "%s: the loaded buffer was written to", c->name);
    } else {
        CHECK_MSG(0, "%s: reload: %s", c->name, sl_last_error());
    }
    sl_ann_free(bf);
    sl_ann_free(bb);
    free(buf);
    sl_ann_free(a);
    free(f1);
out:
    free(x);
    free(qs);
    free(more);
    free(ids);
    free(more_ids);
}

static void test_round_trips(void) {
    const config configs[] = {
        {"brute_dot", 700, 24, SL_ANN_DOT, 1, 1, 0, SL_ANN_STORE_F32, 0, 0},
        {"brute_l2", 500, 17, SL_ANN_L2, 1, 1, 0, SL_ANN_STORE_F32, 1, 0},
        {"brute_empty", 0, 8, SL_ANN_DOT, 1, 1, 0, SL_ANN_STORE_F32, 0, 0},
        {"tree_dot_f32", 3000, 20, SL_ANN_DOT, 0, 16, 2, SL_ANN_STORE_F32, 0, 0},
        {"tree_l2_f16", 2500, 20, SL_ANN_L2, 0, 12, 2, SL_ANN_STORE_F16, 0, 0},
        {"tree_dot_i8_dpb3", 2000, 20, SL_ANN_DOT, 0, 10, 3, SL_ANN_STORE_I8, 0, 0},
        {"tree_l2_none", 1500, 16, SL_ANN_L2, 0, 8, 4, SL_ANN_STORE_NONE, 0, 0},
        {"one_leaf_ah", 1200, 12, SL_ANN_DOT, 0, 1, 2, SL_ANN_STORE_F32, 0, 0},
        {"tree_churned", 3000, 20, SL_ANN_DOT, 0, 16, 2, SL_ANN_STORE_I8, 1, 0},
        {"tree_empty_leaf", 1000, 8, SL_ANN_L2, 0, 6, 2, SL_ANN_STORE_F32, 0, 1},
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(configs); i++) round_trip(&configs[i]);
}

/* ---- an independent reader of the format (docs/FORMAT.md) ----------------- */


/* The table entry of a section (NULL when absent). */
static uint8_t *entry(uint8_t *f, const char *tag) {
    uint32_t n = sl_test_rd32(f + 20);
    uint8_t *t = f + sl_test_rd64(f + 32);
    for (uint32_t i = 0; i < n; i++, t += 32)
        if (!memcmp(t, tag, 4)) return t;
    return NULL;
}
static uint8_t *section(uint8_t *f, const char *tag, uint64_t *size) {
    uint8_t *e = entry(f, tag);
    if (!e) return NULL;
    if (size) *size = sl_test_rd64(e + 16);
    return f + sl_test_rd64(e + 8);
}


/* ---- the golden file ------------------------------------------------------ */

#define GOLDEN_N 100
#define GOLDEN_DIM 8

static sl_ann *golden_index(void) {
    float *x = sl_test_clustered(GOLDEN_N, GOLDEN_DIM, 1, 2024);
    int64_t ids[GOLDEN_N];
    for (int i = 0; i < GOLDEN_N; i++) ids[i] = 1000 + 3 * i;
    sl_ann_opts o;
    sl_ann_opts_init(&o, 200000, GOLDEN_DIM, SL_ANN_DOT);
    o.num_leaves = 4;
    o.num_leaves_to_search = 2;
    o.training_sample_size = GOLDEN_N;
    o.kmeans_iters = 5;
    o.dims_per_block = 2;
    o.ah_iters = 3;
    o.store = SL_ANN_STORE_I8;
    o.reorder_k = 10;
    o.seed = 42;
    o.n_threads = 1;
    sl_ann *a = NULL;
    sl_status st = sl_ann_build(x, ids, GOLDEN_N, GOLDEN_DIM, &o, &a);
    free(x);
    return st ? NULL : a;
}

static const char *golden_path(void) {
    static char p[512];
    snprintf(p, sizeof p, "%s/tests/golden/ann/tiny.slx", SL_TEST_SOURCE_DIR);
    return p;
}

static void test_golden(void) {
    size_t n;
    uint8_t *g = sl_test_read(golden_path(), &n);
    /* the header and table as docs/FORMAT.md spells them */
    CHECK(n % 64 == 0 && !memcmp(g, "SLANNIDX", 8) && sl_test_rd32(g + 8) == 1 && sl_test_rd32(g + 12) == 0 && sl_test_rd32(g + 16) == 64);
    CHECK(sl_test_rd32(g + 20) == 9 && sl_test_rd64(g + 24) == n && sl_test_rd64(g + 32) == 64 && sl_test_rd32(g + 40) == 32);
    CHECK(sl_test_rd32(g + 60) == (uint32_t)crc32(0, g, 60) && sl_test_rd32(g + 44) == (uint32_t)crc32(0, g + 64, 9 * 32));
    static const char *order[9] = {"OPTS", "CENT", "CNRM", "CODB", "LEAF", "IDS ", "CODE", "VECS", "SCAL"};
    uint64_t at = 64 + 9 * 32;
    for (int i = 0; i < 9; i++) {
        const uint8_t *e = g + 64 + 32 * i;
        at = (at + 63) / 64 * 64;
        CHECK_MSG(!memcmp(e, order[i], 4) && sl_test_rd64(e + 8) == at, "golden: entry %d", i);
        CHECK(sl_test_rd32(e + 4) == (uint32_t)crc32(0, g + sl_test_rd64(e + 8), (uInt)sl_test_rd64(e + 16)));
        at = sl_test_rd64(e + 8) + sl_test_rd64(e + 16);
    }
    CHECK((at + 63) / 64 * 64 == n);
    uint64_t sz;
    const uint8_t *opts = section(g, "OPTS", &sz);
    CHECK(sz == 128 && sl_test_rd32(opts) == 0 && sl_test_rd32(opts + 4) == 3 && sl_test_rd64(opts + 64) == GOLDEN_DIM &&
          sl_test_rd64(opts + 72) == GOLDEN_N && sl_test_rd32(opts + 80) == 4 && sl_test_rd32(opts + 84) == 4 && sl_test_rd32(opts + 88) == 2);

    /* exhaustive search equals a naive scan of the int8 rows read here */
    const uint8_t *leaves = section(g, "LEAF", NULL), *vecs = section(g, "VECS", NULL), *scal = section(g, "SCAL", NULL);
    const uint8_t *idsec = section(g, "IDS ", NULL);
    uint64_t total = 0;
    for (int p = 0; p < 4; p++) {
        CHECK(sl_test_rd64(leaves + 16 * p + 8) == total);
        total += sl_test_rd64(leaves + 16 * p);
    }
    CHECK(total == GOLDEN_N);
    sl_ann *a = NULL;
    uint8_t *buf;
    REQUIRE(load_copy(g, n, 1, &a, &buf) == SL_OK);
    float *qs = sl_test_clustered(5, GOLDEN_DIM, 1, 77);
    const sl_ann_query_opts all = {4, GOLDEN_N};
    int bad = 0;
    for (int q = 0; q < 5; q++) {
        const float *qv = qs + q * GOLDEN_DIM;
        float best = -INFINITY;
        int64_t best_id = 0;
        for (uint64_t i = 0; i < GOLDEN_N; i++) {
            float s;
            memcpy(&s, scal + 4 * i, 4);
            float acc = 0;
            for (int j = 0; j < GOLDEN_DIM; j++) acc += qv[j] * (s * (float)(int8_t)vecs[i * GOLDEN_DIM + j]);
            int64_t id = (int64_t)sl_test_rd64(idsec + 8 * i);
            if (acc > best || (acc == best && id < best_id)) best = acc, best_id = id;
        }
        sl_hit h[3];
        size_t got = sl_ann_search(a, qv, 3, &all, h, NULL);
        if (got != 3 || h[0].index != best_id || fabsf(h[0].score - best) > 1e-6f) bad++;
    }
    CHECK_MSG(bad == 0, "golden: %d of 5 exhaustive searches differ from the naive scan of the file", bad);

    /* the saver writes the golden bytes back */
    uint8_t *again;
    size_t n_again;
    REQUIRE(sl_ann_save_buffer(a, &again, &n_again) == SL_OK);
    CHECK_MSG(same_bytes(g, n, again, n_again), "golden: load + save changes the bytes");
    free(again);

    /* a rebuild gives the golden bytes (same build, same format) */
    if (sl_cpu() == SL_CPU_SCALAR) {
        sl_ann *r = golden_index();
        REQUIRE(r != NULL);
        uint8_t *rb;
        size_t nr;
        REQUIRE(sl_ann_save_buffer(r, &rb, &nr) == SL_OK);
        CHECK_MSG(same_bytes(g, n, rb, nr),
                  "golden: a rebuild differs from %s. If the format changed, bump the version and document it in "
                  "docs/FORMAT.md; if only the build changed, regenerate (tests/golden/ann/README.md)", golden_path());
        CHECK(differ(a, r, qs, 5, GOLDEN_DIM) == 0);
        free(rb);
        sl_ann_free(r);
    } else {
        printf("golden: rebuild check skipped (kernel level %s, not scalar)\n", sl_cpu_name(sl_cpu()));
    }
    sl_ann_free(a);
    free(buf);
    free(qs);
    free(g);
}

/* ---- corruption ----------------------------------------------------------- */

static int refused(sl_status st) {
    return st == SL_ERR_CORRUPT || st == SL_ERR_CHECKSUM || st == SL_ERR_LIMIT || st == SL_ERR_UNSUPPORTED;
}

/* A loaded (possibly damaged) index must search and change without
 * reading out of bounds: ASan watches. */
static void exercise(sl_ann *a) {
    float q[GOLDEN_DIM] = {0.5f, -0.25f, 0.125f, 0, 1, 0, -1, 0.75f};
    sl_hit h[8];
    const sl_ann_query_opts all = {1000, 1000};
    /* The search allocates reorder_k candidates per query: a damaged
     * reorder_k of billions makes it fail with SL_ERR_NOMEM, which ASan
     * reports as an error of its own. */
    const sl_ann_query_opts some = {0, 16};
    sl_ann_search(a, q, 8, a->o.reorder_k > 100000 ? &some : NULL, h, NULL);
    sl_ann_search(a, q, 8, &all, h, NULL);
    int64_t id = 77;
    sl_ann_add(a, q, &id, 1);
    if (sl_ann_count(a) > 1) {
        int64_t rm[2] = {a->leaves[0].n ? a->leaves[0].ids[0] : 1, 77};
        sl_ann_remove(a, rm, 2, NULL);
    }
    sl_ann_search(a, q, 8, &all, h, NULL);
}

static void test_corruption(void) {
    size_t n;
    uint8_t *g = sl_test_read(golden_path(), &n);
    /* every truncation, both modes: all refused as corrupt */
    int bad = 0;
    for (size_t cut = 0; cut < n; cut++)
        for (int verify = 0; verify < 2; verify++) {
            sl_ann *a = (sl_ann *)1;
            uint8_t *buf;
            sl_status st = load_copy(g, cut, verify, &a, &buf);
            if (st != SL_ERR_CORRUPT || a != NULL) bad++;
            free(buf);
        }
    CHECK_MSG(bad == 0, "%d of %zu truncations not refused as corrupt", bad, 2 * n);

    /* The bytes that describe the structure (header, table, options,
     * leaves) are checked in both modes; the rest only with verify. */
    uint64_t struct_end[3][2] = {{0, 64 + 9 * 32}, {0, 0}, {0, 0}};
    uint64_t sz;
    struct_end[1][0] = (uint64_t)(section(g, "OPTS", &sz) - g), struct_end[1][1] = struct_end[1][0] + sz;
    struct_end[2][0] = (uint64_t)(section(g, "LEAF", &sz) - g), struct_end[2][1] = struct_end[2][0] + sz;
    int caught_v1 = 0, caught_struct = 0, n_struct = 0, ok_v0 = 0, wrong_status = 0;
    const uint8_t flips[3] = {0x01, 0x80, 0xff};
    for (size_t i = 0; i < n; i++)
        for (int f = 0; f < 3; f++) {
            int structural = 0;
            for (int r = 0; r < 3; r++) structural |= i >= struct_end[r][0] && i < struct_end[r][1];
            n_struct += structural;
            for (int verify = 0; verify < 2; verify++) {
                uint8_t *buf = exact_copy(g, n);
                buf[i] ^= flips[f];
                sl_ann *a = NULL;
                sl_status st = sl_ann_load_buffer(buf, n, verify, &a);
                if (st == SL_OK) {
                    if (!verify) ok_v0++;
                    exercise(a);
                    sl_ann_free(a);
                } else {
                    if (!refused(st)) wrong_status++;
                    if (verify) caught_v1++;
                    else if (structural) caught_struct++;
                }
                free(buf);
            }
        }
    CHECK_MSG(wrong_status == 0, "%d flips refused with an unexpected status", wrong_status);
    CHECK_MSG(caught_v1 == (int)(3 * n), "verify: %d of %zu flips caught", caught_v1, 3 * n);
    CHECK_MSG(caught_struct == n_struct, "no verify: %d of %d flips in the structure caught", caught_struct, n_struct);
    printf("byte flips: %zu, all caught with verify; without: %d loaded (data and padding), %d refused\n", 3 * n, ok_v0,
           (int)(3 * n) - ok_v0);

    /* random multi-byte damage, resealed so the structural checks see it */
    uint64_t rs = 99;
    int crashes_would_show = 0;
    for (int round = 0; round < 3000; round++) {
        uint8_t *buf = exact_copy(g, n);
        int k = 1 + (int)(sl_test_rand(&rs) % 4);
        for (int j = 0; j < k; j++) buf[sl_test_rand(&rs) % n] ^= (uint8_t)(1 + sl_test_rand(&rs) % 255);
        if (sl_test_rd64(buf + 32) == 64 && sl_test_rd32(buf + 20) <= 9 && !memcmp(buf, "SLANNIDX", 8)) {
            /* reseal only when the table can be walked */
            int walkable = 1;
            for (uint32_t e = 0; e < sl_test_rd32(buf + 20); e++) {
                const uint8_t *t = buf + 64 + 32 * e;
                if (sl_test_rd64(t + 8) > n || sl_test_rd64(t + 16) > n - sl_test_rd64(t + 8)) walkable = 0;
            }
            if (walkable) sl_test_reseal(buf, n);
        }
        for (int verify = 0; verify < 2; verify++) {
            sl_ann *a = NULL;
            sl_status st = sl_ann_load_buffer(buf, n, verify, &a);
            if (st == SL_OK) {
                exercise(a);
                sl_ann_free(a);
            } else if (!refused(st)) {
                crashes_would_show++;
            }
        }
        free(buf);
    }
    CHECK_MSG(crashes_would_show == 0, "%d resealed mutations refused with an unexpected status", crashes_would_show);
    free(g);
}

/* One hand-made malformation: edit a copy of the golden file, reseal it
 * (or not), and expect `want` with a message containing `needle`. */
typedef void (*edit_fn)(uint8_t *f, size_t n);

static void expect(const char *what, edit_fn edit, int seal, int verify, sl_status want, const char *needle) {
    size_t n;
    uint8_t *g = sl_test_read(golden_path(), &n);
    uint8_t *buf = exact_copy(g, n);
    edit(buf, n);
    if (seal) sl_test_reseal(buf, n);
    sl_ann *a = NULL;
    sl_clear_error();
    sl_status st = sl_ann_load_buffer(buf, n, verify, &a);
    const char *msg = sl_last_error();
    CHECK_MSG(st == want && (!needle || strstr(msg, needle)), "%s: status %d (want %d), message \"%s\" (want \"%s\")",
              what, st, want, msg, needle ? needle : "");
    sl_ann_free(a);
    free(buf);
    free(g);
}

static void e_version(uint8_t *f, size_t n) { (void)n, sl_test_wr32(f + 8, 2); }
static void e_flags(uint8_t *f, size_t n) { (void)n, sl_test_wr32(f + 12, 1); }
static void e_header_crc(uint8_t *f, size_t n) { (void)n, f[60] ^= 1; }
static void e_table_crc(uint8_t *f, size_t n) { (void)n, f[64 + 8] ^= 1; }
static void e_file_size(uint8_t *f, size_t n) { sl_test_wr64(f + 24, n + 64); }
static void e_unknown_tag(uint8_t *f, size_t n) { (void)n, memcpy(entry(f, "CNRM"), "XYZW", 4); }
static void e_dup_tag(uint8_t *f, size_t n) { (void)n, memcpy(entry(f, "CNRM"), "CENT", 4); }
static void e_missing(uint8_t *f, size_t n) { (void)n, sl_test_wr32(f + 20, 8); /* drops SCAL, the last entry */ }
static void e_misaligned(uint8_t *f, size_t n) {
    (void)n;
    uint8_t *e = entry(f, "VECS");
    sl_test_wr64(e + 8, sl_test_rd64(e + 8) + 8);
}
static void e_outside(uint8_t *f, size_t n) { sl_test_wr64(entry(f, "SCAL") + 16, n); }
static void e_overlap(uint8_t *f, size_t n) {
    (void)n;
    sl_test_wr64(entry(f, "CNRM") + 8, sl_test_rd64(entry(f, "CENT") + 8) + 64); /* CENT is 128 bytes */
}
static void e_dup_id(uint8_t *f, size_t n) {
    (void)n;
    uint8_t *ids = section(f, "IDS ", NULL);
    memcpy(ids + 8 * 57, ids + 8 * 3, 8);
}
static void e_metric(uint8_t *f, size_t n) { (void)n, sl_test_wr32(section(f, "OPTS", NULL), 7); }
static void e_store(uint8_t *f, size_t n) { (void)n, sl_test_wr32(section(f, "OPTS", NULL) + 4, 9); }
static void e_dim_limit(uint8_t *f, size_t n) { (void)n, sl_test_wr64(section(f, "OPTS", NULL) + 64, 70000); }
static void e_dim_zero(uint8_t *f, size_t n) { (void)n, sl_test_wr64(section(f, "OPTS", NULL) + 64, 0); }
static void e_blocks(uint8_t *f, size_t n) { (void)n, sl_test_wr32(section(f, "OPTS", NULL) + 84, 5); }
static void e_brute(uint8_t *f, size_t n) { (void)n, sl_test_wr32(section(f, "OPTS", NULL) + 8, 1); }
static void e_eta(uint8_t *f, size_t n) { (void)n, sl_test_wr32(section(f, "OPTS", NULL) + 92, 0x7fc00000u); }
static void e_reserved(uint8_t *f, size_t n) { (void)n, section(f, "OPTS", NULL)[120] = 1; }
static void e_count(uint8_t *f, size_t n) { (void)n, sl_test_wr64(section(f, "OPTS", NULL) + 72, 99); }
static void e_leaf_first(uint8_t *f, size_t n) {
    (void)n;
    uint8_t *l = section(f, "LEAF", NULL);
    sl_test_wr64(l, sl_test_rd64(l) + 1);
}
static void e_leaf_shift(uint8_t *f, size_t n) { /* counts still add up, codes no longer fit */
    (void)n;
    uint8_t *l = section(f, "LEAF", NULL);
    uint64_t moved = 10; /* leaf 0 (24 items, 1 group) gets a second group */
    sl_test_wr64(l, sl_test_rd64(l) + moved);
    sl_test_wr64(l + 16, sl_test_rd64(l + 16) - moved);
    sl_test_wr64(l + 24, sl_test_rd64(l + 24) + moved);
}
static void e_leaf_sum(uint8_t *f, size_t n) { /* the last leaf one item short */
    (void)n;
    uint8_t *l = section(f, "LEAF", NULL);
    sl_test_wr64(l + 48, sl_test_rd64(l + 48) - 1);
}
/* header edits that leave no table to walk: only the header's CRC is redone */
static void e_many_sections(uint8_t *f, size_t n) {
    (void)n;
    sl_test_wr32(f + 20, 65);
    sl_test_wr32(f + 60, (uint32_t)crc32(0, f, 60));
}
static void e_table_outside(uint8_t *f, size_t n) {
    sl_test_wr64(f + 32, n);
    sl_test_wr32(f + 60, (uint32_t)crc32(0, f, 60));
}
static void e_opts_size(uint8_t *f, size_t n) { (void)n, sl_test_wr64(entry(f, "OPTS") + 16, 64); }
static void e_nan_centre(uint8_t *f, size_t n) { (void)n, sl_test_wr32(section(f, "CENT", NULL) + 12, 0x7fc00000u); }
static void e_inf_codebook(uint8_t *f, size_t n) { (void)n, sl_test_wr32(section(f, "CODB", NULL) + 4, 0x7f800000u); }
static void e_vector(uint8_t *f, size_t n) { (void)n, section(f, "VECS", NULL)[5] ^= 0x40; }
static void e_padding(uint8_t *f, size_t n) { (void)n, f[sl_test_rd64(entry(f, "CNRM") + 8) + 20] = 1; }
static void e_code_slot(uint8_t *f, size_t n) { /* code of an unused slot in leaf 0's last group */
    (void)n;
    uint8_t *l = section(f, "LEAF", NULL), *codes = section(f, "CODE", NULL);
    uint64_t c0 = sl_test_rd64(l);
    if (c0 % 32) sl_lut16_set(codes, 4, (size_t)c0, 1, 9);
}

static void test_malformed(void) {
    expect("version 2", e_version, 1, 0, SL_ERR_UNSUPPORTED, "version 2 is newer");
    expect("flags", e_flags, 1, 0, SL_ERR_UNSUPPORTED, "flags");
    expect("header CRC", e_header_crc, 0, 0, SL_ERR_CHECKSUM, "header: CRC-32");
    expect("table CRC", e_table_crc, 0, 0, SL_ERR_CHECKSUM, "section table: CRC-32");
    expect("file size", e_file_size, 1, 0, SL_ERR_CORRUPT, "file_size");
    expect("unknown tag", e_unknown_tag, 1, 0, SL_ERR_UNSUPPORTED, "unknown tag 'XYZW'");
    expect("duplicate tag", e_dup_tag, 1, 0, SL_ERR_CORRUPT, "'CENT' (centres): appears twice");
    expect("missing section", e_missing, 1, 0, SL_ERR_CORRUPT, "'SCAL' (scales): missing");
    expect("misaligned", e_misaligned, 1, 0, SL_ERR_CORRUPT, "'VECS' (vectors): offset");
    expect("outside", e_outside, 1, 0, SL_ERR_CORRUPT, "'SCAL' (scales): offset");
    expect("overlap", e_overlap, 1, 0, SL_ERR_CORRUPT, "overlaps");
    expect("duplicate id", e_dup_id, 1, 0, SL_ERR_CORRUPT, "appears twice");
    expect("metric", e_metric, 1, 0, SL_ERR_CORRUPT, "'OPTS' (options): metric 7");
    expect("store", e_store, 1, 0, SL_ERR_CORRUPT, "store 9");
    expect("dim limit", e_dim_limit, 1, 0, SL_ERR_LIMIT, "dim 70000");
    expect("dim zero", e_dim_zero, 1, 0, SL_ERR_CORRUPT, "dim is 0");
    expect("blocks", e_blocks, 1, 0, SL_ERR_CORRUPT, "n_blocks 5");
    expect("brute force flag", e_brute, 1, 0, SL_ERR_CORRUPT, "brute force needs");
    expect("eta NaN", e_eta, 1, 0, SL_ERR_CORRUPT, "eta");
    expect("reserved", e_reserved, 1, 0, SL_ERR_CORRUPT, "reserved");
    expect("count", e_count, 1, 0, SL_ERR_CORRUPT, "'IDS ' (ids): size");
    expect("leaf first", e_leaf_first, 1, 0, SL_ERR_CORRUPT, "'LEAF' (leaves): leaf 1: first item");
    expect("leaf shift", e_leaf_shift, 1, 0, SL_ERR_CORRUPT, "'CODE' (codes): size");
    expect("leaf sum", e_leaf_sum, 1, 0, SL_ERR_CORRUPT, "leaf counts add up to 99");
    expect("many sections", e_many_sections, 0, 0, SL_ERR_LIMIT, "section_count 65");
    expect("table outside", e_table_outside, 0, 0, SL_ERR_CORRUPT, "section table (offset 3648");
    expect("options size", e_opts_size, 1, 0, SL_ERR_CORRUPT, "'OPTS' (options): size 64, expected 128");
    expect("NaN centre", e_nan_centre, 1, 0, SL_ERR_CORRUPT, "'CENT' (centres): leaf 0, dimension 3");
    expect("inf codebook", e_inf_codebook, 1, 0, SL_ERR_CORRUPT, "'CODB' (codebooks)");
    expect("options CRC (no verify)", e_metric, 0, 0, SL_ERR_CHECKSUM, "'OPTS' (options): CRC-32");
    expect("leaves CRC (no verify)", e_leaf_first, 0, 0, SL_ERR_CHECKSUM, "'LEAF' (leaves): CRC-32");
    expect("vector flip, no verify", e_vector, 0, 0, SL_OK, NULL);
    expect("vector flip, verify", e_vector, 0, 1, SL_ERR_CHECKSUM, "'VECS' (vectors): CRC-32");
    expect("padding, no verify", e_padding, 0, 0, SL_OK, NULL);
    expect("padding, verify", e_padding, 0, 1, SL_ERR_CORRUPT, "padding byte");
    expect("unused code slot, no verify", e_code_slot, 1, 0, SL_OK, NULL);
    expect("unused code slot, verify", e_code_slot, 1, 1, SL_ERR_CORRUPT, "unused slot");

    /* arguments, alignment, files */
    size_t n;
    uint8_t *g = sl_test_read(golden_path(), &n);
    sl_ann *a = (sl_ann *)1;
    CHECK(sl_ann_load_buffer(NULL, 0, 0, &a) == SL_ERR_CORRUPT && a == NULL);
    CHECK(sl_ann_load_buffer(NULL, 10, 0, &a) == SL_ERR_ARG);
    CHECK(sl_ann_load_buffer(g, n, 0, NULL) == SL_ERR_ARG);
    uint8_t *odd = malloc(n + 8);
    memcpy(odd + 4, g, n);
    CHECK(sl_ann_load_buffer(odd + 4, n, 0, &a) == SL_ERR_ARG && strstr(sl_last_error(), "aligned"));
    free(odd);
    uint8_t *out;
    size_t out_n;
    CHECK(sl_ann_save_buffer(NULL, &out, &out_n) == SL_ERR_ARG);
    char path[512];
    snprintf(path, sizeof path, "%s/missing.slx", sl_test_tmpdir());
    CHECK(sl_ann_load(path, 0, &a) == SL_ERR_IO && a == NULL);
    snprintf(path, sizeof path, "%s/bad.slx", sl_test_tmpdir());
    g[8] = 9; /* version 9 */
    REQUIRE(sl_file_write_atomic(path, g, n) == SL_OK);
    CHECK(sl_ann_load(path, 1, &a) == SL_ERR_UNSUPPORTED && strstr(sl_last_error(), path) == sl_last_error());
    REQUIRE(sl_file_write_atomic(path, g, 0) == SL_OK);
    CHECK(sl_ann_load(path, 1, &a) == SL_ERR_CORRUPT && strstr(sl_last_error(), "empty"));
    free(g);
}

/* ---- a large index: load times (not run by ctest) --------------------------- */

static int bench(size_t n, size_t dim, uint32_t leaves) {
    printf("building %zu x %zu random unit vectors, %u leaves, f32 store...\n", n, dim, leaves);
    float *x = malloc(n * dim * sizeof *x);
    int64_t *ids = malloc(n * sizeof *ids);
    uint64_t s = 12345;
    for (size_t i = 0; i < n; i++) {
        double nn = 0;
        for (size_t j = 0; j < dim; j++) { /* sum of 4 uniforms: roughly Gaussian, so directions are uniform-ish */
            double v = 0;
            for (int k = 0; k < 4; k++) v += (double)(sl_test_rand(&s) % 1000001) / 1e6 - 0.5;
            x[i * dim + j] = (float)v;
            nn += v * v;
        }
        for (size_t j = 0; j < dim; j++) x[i * dim + j] /= (float)sqrt(nn);
        ids[i] = (int64_t)i * 3 + 11;
    }
    sl_ann_opts o;
    sl_ann_opts_init(&o, n, dim, SL_ANN_DOT);
    o.num_leaves = leaves;
    o.num_leaves_to_search = leaves / 20 ? leaves / 20 : 1;
    o.store = SL_ANN_STORE_F32;
    o.n_threads = 2;
    double t0 = sl_now();
    sl_ann *a;
    if (sl_ann_build(x, ids, n, dim, &o, &a)) {
        fprintf(stderr, "build: %s\n", sl_last_error());
        return 1;
    }
    printf("build: %.1f s\n", sl_now() - t0);
    char path[512];
    snprintf(path, sizeof path, "%s/bench.slx", sl_test_tmpdir());
    t0 = sl_now();
    if (sl_ann_save(a, path)) {
        fprintf(stderr, "save: %s\n", sl_last_error());
        return 1;
    }
    double t_save = sl_now() - t0;
    size_t size;
    free(sl_test_read(path, &size));
    printf("file: %zu bytes (%.1f MB), save %.0f ms\n", size, size / 1e6, t_save * 1e3);
    for (int verify = 0; verify < 2; verify++) {
        double best = 1e9, sum = 0;
        const int runs = 7;
        for (int r = 0; r < runs; r++) {
            sl_ann *b;
            t0 = sl_now();
            if (sl_ann_load(path, verify, &b)) {
                fprintf(stderr, "load: %s\n", sl_last_error());
                return 1;
            }
            double t = sl_now() - t0;
            best = t < best ? t : best;
            sum += t;
            sl_ann_free(b);
        }
        printf("load verify=%d: best %.1f ms, mean %.1f ms (%d runs, file in the page cache)\n", verify, best * 1e3,
               sum / runs * 1e3, runs);
    }
    /* the id map rebuild alone: plain inserts, and with the home slots
     * prefetched as the loader does */
    for (int prefetch = 0; prefetch < 2; prefetch++) {
        double best = 1e9;
        for (int r = 0; r < 7; r++) {
            ann_map m;
            t0 = sl_now();
            sl_ann_map_init(&m, a->count);
            for (uint32_t p = 0; p < a->n_leaves; p++) {
                const ann_leaf *l = &a->leaves[p];
                for (size_t i = 0; i < l->n; i++) {
                    if (prefetch && i + 16 < l->n)
                        __builtin_prefetch(&m.slots[(size_t)(((uint64_t)l->ids[i + 16] * 0x9E3779B97F4A7C15ull) >> 20) & m.mask]);
                    sl_ann_map_put(&m, l->ids[i], p, (uint32_t)i);
                }
            }
            double t = sl_now() - t0;
            best = t < best ? t : best;
            sl_ann_map_free(&m);
        }
        printf("  id map rebuild%s: best %.1f ms\n", prefetch ? " with prefetch (the loader's)" : ", plain inserts", best * 1e3);
    }
    /* searches: the first ones on a fresh load fault pages in */
    sl_ann *b;
    sl_ann_load(path, 0, &b);
    float *qs = x; /* the first 100 items as queries */
    t0 = sl_now();
    sl_hit h[10];
    for (int q = 0; q < 100; q++) sl_ann_search(b, qs + q * dim, 10, NULL, h, NULL);
    double t_first = sl_now() - t0;
    t0 = sl_now();
    for (int q = 0; q < 100; q++) sl_ann_search(b, qs + q * dim, 10, NULL, h, NULL);
    double t_loaded = sl_now() - t0;
    t0 = sl_now();
    for (int q = 0; q < 100; q++) sl_ann_search(a, qs + q * dim, 10, NULL, h, NULL);
    double t_orig = sl_now() - t0;
    printf("100 searches: %.2f ms/query right after load, %.2f loaded, %.2f original in memory; identical hits: %s\n",
           t_first * 10, t_loaded * 10, t_orig * 10, differ(a, b, qs, 100, dim) == 0 ? "yes" : "NO");
    sl_ann_free(b);
    sl_ann_free(a);
    free(x);
    free(ids);
    remove(path);
    return 0;
}

/* Small snapshots of every kind, as seeds for fuzz/fuzz_ann.c. */
static int write_corpus(const char *dir) {
    const config tiny[] = {
        {"brute_dot", 60, 8, SL_ANN_DOT, 1, 1, 0, SL_ANN_STORE_F32, 0, 0},
        {"brute_l2_churned", 50, 5, SL_ANN_L2, 1, 1, 0, SL_ANN_STORE_F32, 1, 0},
        {"brute_empty", 0, 3, SL_ANN_DOT, 1, 1, 0, SL_ANN_STORE_F32, 0, 0},
        {"tree_l2_f16", 120, 6, SL_ANN_L2, 0, 3, 2, SL_ANN_STORE_F16, 0, 0},
        {"tree_dot_i8_dpb3", 100, 7, SL_ANN_DOT, 0, 4, 3, SL_ANN_STORE_I8, 0, 0},
        {"tree_l2_none", 80, 5, SL_ANN_L2, 0, 2, 4, SL_ANN_STORE_NONE, 0, 0},
        {"one_leaf_f32", 50, 4, SL_ANN_DOT, 0, 1, 2, SL_ANN_STORE_F32, 0, 0},
        {"tree_churned_i8", 90, 6, SL_ANN_DOT, 0, 3, 2, SL_ANN_STORE_I8, 1, 0},
        {"tree_empty_leaf", 70, 4, SL_ANN_L2, 0, 3, 1, SL_ANN_STORE_F32, 0, 1},
    };
    int failed = 0;
    for (size_t i = 0; i < SL_ARRAY_LEN(tiny); i++) {
        const config *c = &tiny[i];
        float *x = sl_test_clustered(c->n, c->dim, c->metric == SL_ANN_DOT, 5 + i), *more = sl_test_clustered(60, c->dim, 1, 6);
        int64_t *ids = make_ids(c->n, 1000), *more_ids = make_ids(60, 1 << 30);
        sl_ann *a = make_index(c, x, ids, more, more_ids);
        char path[1024];
        snprintf(path, sizeof path, "%s/%s.slx", dir, c->name);
        if (!a || sl_ann_save(a, path)) {
            fprintf(stderr, "%s: %s\n", c->name, sl_last_error());
            failed = 1;
        }
        sl_ann_free(a);
        free(x);
        free(more);
        free(ids);
        free(more_ids);
    }
    return failed;
}

int main(int argc, char **argv) {
    if (argc == 5 && !strcmp(argv[1], "--bench")) /* at the machine's best kernel level */
        return bench((size_t)atol(argv[2]), (size_t)atol(argv[3]), (uint32_t)atol(argv[4]));
    /* before anything calls sl_cpu(): see the comment at the top */
    setenv("SEARCHLITE_CPU", "scalar", 0);
    if (argc == 3 && !strcmp(argv[1], "--write-golden")) {
        sl_ann *a = golden_index();
        sl_status st = a ? sl_ann_save(a, argv[2]) : SL_ERR_INTERNAL;
        if (st) fprintf(stderr, "%s\n", sl_last_error());
        sl_ann_free(a);
        return st ? 1 : 0;
    }
    if (argc == 3 && !strcmp(argv[1], "--write-corpus")) return write_corpus(argv[2]);
    test_round_trips();
    test_golden();
    test_corruption();
    test_malformed();
    return sl_test_summary();
}
