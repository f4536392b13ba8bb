/* The trained projection heads (model/heads.h): the forward pass against a
 * double-precision reference, ReLU between layers only, the normalization
 * (zero stays zero), the blend's norms and ends, the same bits every call,
 * and sl_heads_check refusing each kind of bad head. */
#include "model/heads.h"
#include "model/lite_model.h"
#include "model/tuned_file.h"
#include "testlib.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static float uniform(uint64_t *rs, float a) {
    return a * (2.0f * (float)(sl_test_rand(rs) >> 40) / (float)(1u << 24) - 1.0f);
}

/* The same computation in double throughout. */
static void reference(const sl_head *h, const float *x, double *p) {
    double a[4096], b[4096];
    for (size_t i = 0; i < h->layers[0].in; i++) a[i] = x[i];
    double *in = a, *out = b;
    for (size_t l = 0; l < h->n_layers; l++) {
        const sl_head_layer *L = &h->layers[l];
        for (size_t o = 0; o < L->out; o++) {
            double s = L->bias[o];
            for (size_t i = 0; i < L->in; i++) s += (double)L->weight[o * L->in + i] * in[i];
            out[o] = l + 1 < h->n_layers && s < 0 ? 0 : s;
        }
        double *t = in;
        in = out;
        out = t;
    }
    const size_t d = h->layers[h->n_layers - 1].out;
    double ss = 0;
    for (size_t i = 0; i < d; i++) ss += in[i] * in[i];
    for (size_t i = 0; i < d; i++) p[i] = ss > 0 ? in[i] / sqrt(ss) : 0;
}

static double norm(const float *v, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)v[i] * v[i];
    return sqrt(s);
}

static void test_forward(void) {
    uint64_t rs = 42;
    /* The lite model's image head shape, a text head, a one-layer head and
     * sizes that are not multiples of 8 (the tail of the dot product). */
    const uint32_t shapes[4][4] = {{2280, 512, 64, 0}, {1100, 128, 0, 0}, {1100, 64, 0, 0}, {13, 7, 5, 3}};
    const size_t n_dims[4] = {3, 2, 2, 4};
    for (size_t s = 0; s < 4; s++) {
        sl_head h;
        float *mem;
        mem = sl_test_random_head(&h, shapes[s], n_dims[s], &rs);
        const size_t in = h.layers[0].in, d = h.layers[h.n_layers - 1].out;
        float *x = malloc(in * sizeof *x), *scratch = malloc(sl_head_scratch(&h) * sizeof *scratch);
        float p[512], again[512];
        double ref[512];
        for (int trial = 0; trial < 5; trial++) {
            for (size_t i = 0; i < in; i++) x[i] = uniform(&rs, 1.0f);
            sl_head_apply(&h, x, scratch, p);
            reference(&h, x, ref);
            double worst = 0;
            for (size_t i = 0; i < d; i++) worst = fmax(worst, fabs(p[i] - ref[i]));
            CHECK_MSG(worst < 1e-5, "shape %zu: max difference %.3g from the double reference", s, worst);
            CHECK(fabs(norm(p, d) - 1) < 1e-6);
            /* The same input gives the same bits (the scratch's previous
             * contents do not matter). */
            for (size_t i = 0; i < sl_head_scratch(&h); i++) scratch[i] = 1e30f;
            sl_head_apply(&h, x, scratch, again);
            CHECK(memcmp(p, again, d * sizeof *p) == 0);
        }
        free(x);
        free(scratch);
        free(mem);
    }
}

/* 2 -> 2 -> 1 with identity first layer: x = (1, -1). With the ReLU the
 * hidden state is (1, 0) and the output 1; without it, 0. And no ReLU after
 * the last layer: a negative output keeps its sign. */
static void test_relu(void) {
    const float w1[4] = {1, 0, 0, 1}, b1[2] = {0, 0}, w2[2] = {1, 1}, b2[1] = {0};
    sl_head h = {.n_layers = 2};
    h.layers[0] = (sl_head_layer){2, 2, w1, b1};
    h.layers[1] = (sl_head_layer){2, 1, w2, b2};
    float x[2] = {1, -1}, scratch[4], p[1];
    sl_head_apply(&h, x, scratch, p);
    CHECK(p[0] == 1.0f);
    const float w2n[2] = {-1, -1};
    h.layers[1].weight = w2n;
    sl_head_apply(&h, x, scratch, p);
    CHECK(p[0] == -1.0f);

    /* An all-zero output stays zero (not NaN). */
    const float zw[6] = {0}, zb[3] = {0};
    sl_head z = {.n_layers = 1};
    z.layers[0] = (sl_head_layer){2, 3, zw, zb};
    float pz[3] = {5, 5, 5}, sz[6];
    sl_head_apply(&z, x, sz, pz);
    CHECK(pz[0] == 0 && pz[1] == 0 && pz[2] == 0);
}

static void test_blend(void) {
    uint64_t rs = 9;
    float z[1000], p[64], out[1064];
    for (int i = 0; i < 1000; i++) z[i] = uniform(&rs, 1);
    for (int i = 0; i < 64; i++) p[i] = uniform(&rs, 1);
    const double nz = norm(z, 1000), np = norm(p, 64);
    for (int i = 0; i < 1000; i++) z[i] = (float)(z[i] / nz);
    for (int i = 0; i < 64; i++) p[i] = (float)(p[i] / np);
    const float bs[] = {0.0f, 0.3f, 0.5f, 1.0f};
    for (size_t k = 0; k < 4; k++) {
        sl_heads_blend(bs[k], z, 1000, p, 64, out);
        CHECK(fabs(norm(out, 1064) - 1) < 1e-5);
        CHECK(fabs(norm(out, 1000) - sqrt(1 - bs[k])) < 1e-5);
        CHECK(fabs(norm(out + 1000, 64) - sqrt(bs[k])) < 1e-5);
    }
    /* The ends are exact: b = 0 is the zero-shot embedding, zeros appended. */
    sl_heads_blend(0, z, 1000, p, 64, out);
    CHECK(memcmp(out, z, sizeof z) == 0);
    CHECK(norm(out + 1000, 64) == 0);
    sl_heads_blend(1, z, 1000, p, 64, out);
    CHECK(norm(out, 1000) == 0 && memcmp(out + 1000, p, sizeof p) == 0);
}

static void test_check(void) {
    uint64_t rs = 5;
    const uint32_t di[3] = {40, 16, 8}, dt[2] = {20, 8};
    sl_heads h;
    float *mi, *mt;
    mi = sl_test_random_head(&h.image, di, 3, &rs);
    mt = sl_test_random_head(&h.text, dt, 2, &rs);
    h.blend = 0.3f;
    CHECK(sl_heads_check(&h) == SL_OK);
    CHECK(sl_heads_check(NULL) == SL_ERR_ARG);

    sl_heads bad = h;
    bad.blend = 1.5f;
    CHECK(sl_heads_check(&bad) == SL_ERR_CORRUPT && strstr(sl_last_error(), "blend"));
    bad.blend = -0.01f;
    CHECK(sl_heads_check(&bad) == SL_ERR_CORRUPT);
    bad.blend = NAN;
    CHECK(sl_heads_check(&bad) == SL_ERR_CORRUPT);
    bad.blend = 0;
    CHECK(sl_heads_check(&bad) == SL_OK);
    bad.blend = 1;
    CHECK(sl_heads_check(&bad) == SL_OK);

    bad = h;
    bad.image.n_layers = 0;
    CHECK(sl_heads_check(&bad) == SL_ERR_CORRUPT);
    bad = h;
    bad.text.n_layers = SL_HEAD_MAX_LAYERS + 1;
    CHECK(sl_heads_check(&bad) == SL_ERR_CORRUPT);
    bad = h;
    bad.image.layers[1].in = 15; /* chain broken */
    CHECK(sl_heads_check(&bad) == SL_ERR_CORRUPT && strstr(sl_last_error(), "image layer 1"));
    bad = h;
    bad.text.layers[0].out = 9; /* heads end in different sizes */
    CHECK(sl_heads_check(&bad) == SL_ERR_CORRUPT);
    bad = h;
    bad.text.layers[0].in = 0;
    CHECK(sl_heads_check(&bad) == SL_ERR_CORRUPT);
    bad = h;
    bad.image.layers[0].in = SL_HEAD_MAX_DIM + 1;
    CHECK(sl_heads_check(&bad) == SL_ERR_CORRUPT);
    bad = h;
    bad.image.layers[1].bias = NULL;
    CHECK(sl_heads_check(&bad) == SL_ERR_CORRUPT);

    float *w = (float *)(uintptr_t)h.image.layers[1].weight;
    w[17] = NAN;
    CHECK(sl_heads_check(&h) == SL_ERR_CORRUPT && strstr(sl_last_error(), "image layer 1 weight 17"));
    w[17] = INFINITY;
    CHECK(sl_heads_check(&h) == SL_ERR_CORRUPT);
    w[17] = 0;
    float *b = (float *)(uintptr_t)h.text.layers[0].bias;
    b[3] = -INFINITY;
    CHECK(sl_heads_check(&h) == SL_ERR_CORRUPT && strstr(sl_last_error(), "text layer 0 bias 3"));
    b[3] = 0;
    CHECK(sl_heads_check(&h) == SL_OK);
    free(mi);
    free(mt);
}

/* ---- the tuned parts' golden file ----------------------------------------- */

/* The parts a tuned file adds to its base (sl_tuned_add_parts) for heads of
 * fixed values, with the two base keys the parser reads (embedding_dim,
 * model_id): tests/golden/tuned/parts.gguf holds exactly these bytes, so a
 * change of layout is a visible change of the golden file. */
enum { G_DIM = 2 };
static float g_iw[2280 * G_DIM], g_ib[G_DIM], g_tw[1100 * G_DIM], g_tb[G_DIM];
static const char *G_BASE = "searchlite-lite-1/00112233445566778899aabbccddeeff";

static sl_heads golden_heads(void) {
    for (size_t i = 0; i < SL_ARRAY_LEN(g_iw); i++) g_iw[i] = (float)((int)(i % 7) - 3) / 64.0f;
    for (size_t i = 0; i < SL_ARRAY_LEN(g_tw); i++) g_tw[i] = (float)((int)(i % 5) - 2) / 32.0f;
    g_ib[0] = 0.5f, g_ib[1] = -0.25f, g_tb[0] = 0.125f, g_tb[1] = 0.0f;
    sl_heads h;
    memset(&h, 0, sizeof h);
    h.image.n_layers = h.text.n_layers = 1;
    h.image.layers[0] = (sl_head_layer){2280, G_DIM, g_iw, g_ib};
    h.text.layers[0] = (sl_head_layer){1100, G_DIM, g_tw, g_tb};
    h.blend = 0.75f;
    return h;
}

static sl_status golden_bytes(uint8_t **data, size_t *size, char id[SL_LITE_MODEL_ID_MAX]) {
    sl_heads h = golden_heads();
    sl_train_record rec = {"golden set", 12, 60, "epochs=3", "validation split", {0.25f, 0.5f, 0.75f, 3.0f},
                           {0.5f, 0.75f, 1.0f, 1.5f}, 60, 3};
    sl_gguf_builder *b = NULL;
    sl_status st = sl_tuned_model_id(G_BASE, &h, id);
    if (!st) st = sl_gguf_builder_new(&b);
    if (!st) st = sl_gguf_set_u32(b, "searchlite.embedding_dim", SL_LITE_CLASSES + G_DIM);
    if (!st) st = sl_gguf_set_str(b, "searchlite.model_id", id);
    if (!st) st = sl_tuned_add_parts(b, G_BASE, &h, &rec);
    if (!st) st = sl_gguf_builder_serialize(b, data, size);
    sl_gguf_builder_free(b);
    return st;
}

static void test_golden(void) {
    uint8_t *data = NULL;
    size_t size = 0;
    char id[SL_LITE_MODEL_ID_MAX];
    REQUIRE(golden_bytes(&data, &size, id) == SL_OK);
    char path[512];
    snprintf(path, sizeof path, "%s/tests/golden/tuned/parts.gguf", SL_TEST_SOURCE_DIR);
    size_t ng = 0;
    uint8_t *gold = sl_test_read(path, &ng);
    CHECK_MSG(ng == size && !memcmp(gold, data, size), "sl_tuned_add_parts output differs from %s", path);
    /* the golden bytes read back as what was written, id check included */
    sl_gguf *g = NULL;
    REQUIRE(sl_gguf_open_memory(gold, ng, &g) == SL_OK);
    sl_lite_tuned t;
    sl_status st = sl_lite_tuned_parse(g, 100, SL_LITE_CLASSES + G_DIM, id, &t);
    CHECK_MSG(st == SL_OK, "%s", sl_last_error());
    if (st == SL_OK) {
        const sl_heads want = golden_heads();
        CHECK(t.heads.blend == 0.75f && t.heads.image.n_layers == 1 && t.heads.text.n_layers == 1);
        CHECK(t.heads.image.layers[0].in == 2280 && t.heads.image.layers[0].out == G_DIM);
        CHECK(!memcmp(t.heads.image.layers[0].weight, want.image.layers[0].weight, sizeof g_iw));
        CHECK(!memcmp(t.heads.text.layers[0].weight, want.text.layers[0].weight, sizeof g_tw));
        CHECK(t.heads.text.layers[0].bias[0] == 0.125f && t.heads.image.layers[0].bias[1] == -0.25f);
        CHECK(strcmp(t.base_id, G_BASE) == 0);
        CHECK(strcmp(t.rec.data, "golden set") == 0 && strcmp(t.rec.heldout, "validation split") == 0);
        CHECK(t.rec.n_images == 12 && t.rec.n_captions == 60 && t.rec.n_heldout == 60 && t.rec.epochs == 3);
        CHECK(t.rec.zero_shot[2] == 0.75f && t.rec.tuned[3] == 1.5f);
        sl_lite_tuned_release(&t);
    }
    /* another id is refused: the digest covers the heads */
    st = sl_lite_tuned_parse(g, 100, SL_LITE_CLASSES + G_DIM, G_BASE, &t);
    CHECK(st == SL_ERR_CORRUPT);
    sl_gguf_free(g);
    free(gold);
    free(data);
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--write-golden")) {
        uint8_t *data = NULL;
        size_t size = 0;
        char id[SL_LITE_MODEL_ID_MAX];
        if (golden_bytes(&data, &size, id)) return 1;
        FILE *f = fopen(argv[2], "wb");
        int bad = !f || fwrite(data, 1, size, f) != size;
        if (f && fclose(f)) bad = 1;
        free(data);
        return bad;
    }
    test_forward();
    test_relu();
    test_blend();
    test_check();
    test_golden();
    return sl_test_summary();
}
