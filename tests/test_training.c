/* sl_train end to end on a prefix of coco-train80 (docs/TRAINING.md):
 * the tuned model opens, is dense and 1,000 + dim wide; the same seed and
 * thread count give the same file byte for byte, with or without the
 * feature cache; the blend never loses to zero-shot on validation; the
 * heads learn the training images; cross-validation fills its report; and
 * bad captions files, mismatched image folders and bad options get clear
 * errors. */
#include "searcher/captions.h"
#include "testlib.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

enum { N_IMG = 24 }; /* small: this test also runs under the sanitizers */

static void json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

/* The first n images of a captions set and their captions, as a file. */
static void write_subset(const sl_captions *caps, size_t n, const char *path) {
    FILE *f = fopen(path, "w");
    REQUIRE(f != NULL);
    fputs("{\"images\": [", f);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%s{\"id\": %lld, \"file_name\": ", i ? ", " : "", (long long)caps->images[i].id);
        json_string(f, caps->images[i].file_name);
        fputc('}', f);
    }
    fputs("], \"annotations\": [", f);
    int first = 1;
    for (size_t a = 0; a < caps->n_captions; a++) {
        if (caps->caption_img[a] >= n) continue;
        fprintf(f, "%s{\"id\": %zu, \"image_id\": %lld, \"caption\": ", first ? "" : ", ", a,
                (long long)caps->images[caps->caption_img[a]].id);
        json_string(f, caps->captions[a]);
        fputc('}', f);
        first = 0;
    }
    fputs("]}\n", f);
    REQUIRE(fclose(f) == 0);
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    REQUIRE(f != NULL);
    fputs(text, f);
    REQUIRE(fclose(f) == 0);
}

static double quality(const sl_recall *r) { return (r->r1 + r->r5 + r->r10) / 3; }

int main(void) {
    const char *base = sl_test_lite_model();
    char dir[1024], images[1024], caps_path[1100], cache[1100], out1[1100], out2[1100], out3[1100];
    snprintf(dir, sizeof dir, "%s", sl_test_tmpdir());
    snprintf(images, sizeof images, "%s", sl_test_asset("coco-train80/images"));
    snprintf(caps_path, sizeof caps_path, "%s/captions.json", dir);
    snprintf(cache, sizeof cache, "%s/cache", dir);
    snprintf(out1, sizeof out1, "%s/tuned1.gguf", dir);
    snprintf(out2, sizeof out2, "%s/tuned2.gguf", dir);
    snprintf(out3, sizeof out3, "%s/tuned3.gguf", dir);
    sl_captions all;
    REQUIRE(sl_captions_load(sl_test_asset("coco-train80/captions.json"), &all) == SL_OK);
    write_subset(&all, N_IMG, caps_path);
    sl_captions_free(&all);

    sl_train_set set = {caps_path, images};
    sl_train_opts o;
    sl_train_opts_init(&o);
    o.sets = &set;
    o.n_sets = 1;
    o.epochs = 12;
    o.patience = 12;
    o.batch = 16;
    o.dim = 16;
    o.hidden = 32;
    o.lr = 3e-3f;
    o.val_split = 0.25f;
    o.cache_dir = cache;
    o.description = "coco-train80 first 24 images";

    /* 1. a run that computes and caches the features */
    sl_train_report r1, r2;
    sl_status st = sl_train(base, &o, out1, &r1);
    CHECK_MSG(st == SL_OK, "%s", sl_last_error());
    REQUIRE(st == SL_OK);
    CHECK(!r1.features_from_cache);
    CHECK(r1.n_images == N_IMG && r1.n_captions >= 5 * N_IMG);
    CHECK(r1.folds == 0);
    CHECK(r1.blend >= 0.0f && r1.blend <= 1.0f);
    /* the blend is chosen on validation: never below zero-shot there */
    CHECK(quality(&r1.val_tuned) >= quality(&r1.val_zero_shot) - 1e-9);

    sl_model *lite = NULL, *tuned = NULL;
    REQUIRE(sl_model_open(base, &lite) == SL_OK);
    REQUIRE(sl_model_open(out1, &tuned) == SL_OK);
    CHECK(sl_model_dim(tuned) == sl_model_dim(lite) + 16);
    CHECK(!sl_model_sparse(tuned));
    CHECK(strcmp(sl_model_id(tuned), sl_model_id(lite)) != 0);
    sl_model_training info;
    REQUIRE(sl_model_training_info(tuned, &info) == SL_OK);
    CHECK(info.tuned && info.head_dim == 16 && info.n_images == N_IMG);
    CHECK(strcmp(info.base_id, sl_model_id(lite)) == 0);
    CHECK(strstr(info.data, "first 24") != NULL);
    CHECK(fabsf(info.blend - r1.blend) == 0.0f);
    CHECK(fabs(info.trained.r10 - r1.val_tuned.r10) < 1e-6 && fabs(info.zero_shot.r1 - r1.val_zero_shot.r1) < 1e-6);
    /* a text embeds to a unit vector whose zero-shot part is the lite one, scaled */
    float zt[1000], et[1016];
    REQUIRE(sl_model_embed_text(lite, "a dog on a truck", zt) == SL_OK);
    REQUIRE(sl_model_embed_text(tuned, "a dog on a truck", et) == SL_OK);
    double n2 = 0, worst = 0, k = sqrt(1.0 - info.blend);
    for (int i = 0; i < 1016; i++) n2 += (double)et[i] * et[i];
    for (int i = 0; i < 1000; i++) worst = fmax(worst, fabs(et[i] - k * zt[i]));
    CHECK(fabs(n2 - 1.0) < 1e-5);
    CHECK(worst < 1e-6);

    /* the heads learned the training images: on all 24 (mostly training
     * images) the tuned model ranks better than zero-shot when it blends */
    sl_eval_report ez, et_;
    REQUIRE(sl_eval_captions(lite, caps_path, images, NULL, &ez) == SL_OK);
    REQUIRE(sl_eval_captions(tuned, caps_path, images, NULL, &et_) == SL_OK);
    if (info.blend > 0)
        CHECK_MSG(quality(&et_.text_to_image) > quality(&ez.text_to_image), "tuned %.3f vs zero-shot %.3f",
                  quality(&et_.text_to_image), quality(&ez.text_to_image));
    /* a library indexed with the lite model, then with the tuned one:
     * every embedding is replaced, the library searches at the new size,
     * and a searcher of the old model is refused */
    char lib_path[1100], photos[1100], link[2300], from[2300];
    snprintf(lib_path, sizeof lib_path, "%s/library.db", dir);
    snprintf(photos, sizeof photos, "%s/photos", dir);
    REQUIRE(mkdir(photos, 0755) == 0);
    const char *names[3] = {"000000000790.jpg", "000000030752.jpg", "000000037666.jpg"};
    for (int i = 0; i < 3; i++) {
        snprintf(from, sizeof from, "%s/%s", images, names[i]);
        snprintf(link, sizeof link, "%s/%s", photos, names[i]);
        size_t n;
        uint8_t *bytes = sl_test_read(from, &n);
        FILE *f = fopen(link, "wb");
        REQUIRE(f && fwrite(bytes, 1, n, f) == n && fclose(f) == 0);
        free(bytes);
    }
    const char *roots[1] = {photos};
    sl_library *lib = NULL;
    sl_index_stats is;
    REQUIRE(sl_library_open(lib_path, 1, &lib) == SL_OK);
    CHECK(sl_library_index(lib, lite, roots, 1, NULL, &is) == SL_OK && is.embedded == 3);
    CHECK(sl_library_index(lib, tuned, roots, 1, NULL, &is) == SL_OK && is.embedded == 3 && is.unchanged == 0);
    CHECK(sl_library_index(lib, tuned, roots, 1, NULL, &is) == SL_OK && is.embedded == 0 && is.unchanged == 3);
    sl_library_close(lib);
    sl_searcher *srch = NULL;
    CHECK(sl_searcher_open(lite, lib_path, NULL, &srch) == SL_ERR_STATE && srch == NULL);
    REQUIRE(sl_searcher_open(tuned, lib_path, NULL, &srch) == SL_OK);
    sl_results *hits = NULL;
    REQUIRE(sl_search_text(srch, "a dog on a truck", 3, &hits) == SL_OK);
    CHECK(hits->n == 3 && hits->hits[0].similarity >= hits->hits[2].similarity);
    /* the score is the dot product of the tuned embeddings */
    float ei[1016];
    REQUIRE(sl_model_embed_file(tuned, hits->hits[0].path, ei, NULL, NULL) == SL_OK);
    double dot = 0;
    for (int i = 0; i < 1016; i++) dot += (double)ei[i] * et[i];
    CHECK(fabs(dot - hits->hits[0].similarity) < 1e-5);
    sl_results_free(hits);
    sl_searcher_free(srch);
    sl_model_free(tuned);

    /* 2. the same run from the cache: the same model byte for byte */
    st = sl_train(base, &o, out2, &r2);
    CHECK_MSG(st == SL_OK, "%s", sl_last_error());
    CHECK(r2.features_from_cache);
    size_t s1, s2;
    uint8_t *b1 = sl_test_read(out1, &s1), *b2 = sl_test_read(out2, &s2);
    CHECK(s1 == s2 && memcmp(b1, b2, s1) == 0);
    free(b2);

    /* 3. another seed: another model */
    sl_train_opts o3 = o;
    o3.seed = 7;
    st = sl_train(base, &o3, out3, NULL);
    CHECK(st == SL_OK);
    b2 = sl_test_read(out3, &s2);
    CHECK(s1 != s2 || memcmp(b1, b2, s1) != 0);
    free(b2);
    free(b1);

    /* 4. cross-validation fills the report, fold by fold */
    sl_train_opts o4 = o;
    o4.folds = 3;
    o4.epochs = 4;
    sl_train_report r4;
    st = sl_train(base, &o4, out3, &r4);
    CHECK_MSG(st == SL_OK, "%s", sl_last_error());
    CHECK(r4.folds == 3);
    size_t queries = 0;
    for (int f = 0; f < 3; f++) {
        CHECK(r4.fold_zero_shot[f].n_queries > 0 && r4.fold_zero_shot[f].n_queries == r4.fold_tuned[f].n_queries);
        queries += r4.fold_tuned[f].n_queries;
    }
    CHECK(queries == r4.n_captions); /* every caption held out exactly once */
    CHECK(r4.cv_tuned.r10 >= 0 && r4.cv_tuned.r10 <= 1 && r4.cv_tuned.median_rank >= 1);

    /* 5. clear errors */
    char bad[1100], missing[1100];
    snprintf(bad, sizeof bad, "%s/bad.json", dir);
    write_text(bad, "{\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\"}], \"annotations\": [");
    sl_train_set bs = {bad, images};
    sl_train_opts ob = o;
    ob.sets = &bs;
    st = sl_train(base, &ob, out3, NULL);
    CHECK(st == SL_ERR_CORRUPT && strstr(sl_last_error(), "bad.json") != NULL);
    /* a caption naming an image that is not in images[] */
    write_text(bad, "{\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\"}], \"annotations\": "
                    "[{\"image_id\": 2, \"caption\": \"a cat\"}]}");
    st = sl_train(base, &ob, out3, NULL);
    CHECK(st == SL_ERR_CORRUPT);
    /* the right captions with the wrong folder: the first missing image is named */
    snprintf(missing, sizeof missing, "%s", sl_test_asset("samples"));
    sl_train_set ms = {caps_path, missing};
    sl_train_opts om = o;
    om.sets = &ms;
    om.cache_dir = NULL;
    st = sl_train(base, &om, out3, NULL);
    CHECK(st != SL_OK && strstr(sl_last_error(), ".jpg") != NULL);
    /* too few images */
    write_text(bad, "{\"images\": [{\"id\": 1, \"file_name\": \"000000000790.jpg\"}], \"annotations\": "
                    "[{\"image_id\": 1, \"caption\": \"a cat\"}]}");
    ob.cache_dir = NULL;
    st = sl_train(base, &ob, out3, NULL);
    CHECK(st == SL_ERR_ARG && strstr(sl_last_error(), "at least") != NULL);
    /* bad options */
    sl_train_opts oo = o;
    oo.folds = 1;
    CHECK(sl_train(base, &oo, out3, NULL) == SL_ERR_ARG);
    oo = o;
    oo.batch = 1;
    CHECK(sl_train(base, &oo, out3, NULL) == SL_ERR_ARG);
    oo = o;
    oo.n_sets = 0;
    CHECK(sl_train(base, &oo, out3, NULL) == SL_ERR_ARG);
    /* a base that is not a model */
    CHECK(sl_train(bad, &o, out3, NULL) != SL_OK);

    sl_model_free(lite);
    return sl_test_summary();
}
