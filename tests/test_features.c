/* The training features of a captions set (src/api/train_features.h): the
 * same for 1 and 2 threads, their zero-shot parts equal to the model's
 * embeddings, the pooled and word parts unit rows, captions tied to their
 * images, and a missing image named in the error. */
#include "api/model_internal.h"
#include "api/train_features.h"
#include "testlib.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { N_IMG = 16 }; /* a prefix of coco-train80 keeps the sanitizer run short */

static double row_norm(const float *v, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)v[i] * v[i];
    return sqrt(s);
}

int main(void) {
    sl_model *m = NULL;
    REQUIRE(sl_model_open(sl_test_lite_model(), &m) == SL_OK);
    sl_captions caps;
    REQUIRE(sl_captions_load(sl_test_asset("coco-train80/captions.json"), &caps) == SL_OK);
    /* Keep the first N_IMG images and their captions (restored before
     * sl_captions_free, which frees every entry). */
    const size_t all_images = caps.n_images, all_captions = caps.n_captions;
    char **kept = malloc(all_captions * sizeof *kept);
    uint32_t *kept_img = malloc(all_captions * sizeof *kept_img);
    char **orig = caps.captions;
    uint32_t *orig_img = caps.caption_img;
    size_t nc = 0;
    for (size_t a = 0; a < all_captions; a++)
        if (orig_img[a] < N_IMG) {
            kept[nc] = orig[a];
            kept_img[nc++] = orig_img[a];
        }
    caps.n_images = N_IMG;
    caps.captions = kept;
    caps.caption_img = kept_img;
    caps.n_captions = nc;
    char dir[1024]; /* sl_test_asset's buffers rotate: keep a copy */
    snprintf(dir, sizeof dir, "%s", sl_test_asset("coco-train80/images"));

    sl_feature_set one, two;
    REQUIRE(sl_features_compute(m, &caps, dir, 1, NULL, NULL, &one) == SL_OK);
    REQUIRE(sl_features_compute(m, &caps, dir, 2, NULL, NULL, &two) == SL_OK);
    CHECK(one.n_images == N_IMG && one.n_captions == nc && nc >= 5 * N_IMG);
    CHECK(one.image_dim == 1280 + 1000 && one.text_dim == 100 + 1000);
    CHECK(memcmp(one.image, two.image, N_IMG * one.image_dim * sizeof(float)) == 0);
    CHECK(memcmp(one.text, two.text, nc * one.text_dim * sizeof(float)) == 0);
    CHECK(memcmp(one.caption_image, kept_img, nc * sizeof *kept_img) == 0);

    int z_same = 1, unit = 1;
    float z[1000];
    for (size_t i = 0; i < N_IMG; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "coco-train80/images/%s", caps.images[i].file_name);
        REQUIRE(sl_model_embed_file(m, sl_test_asset(rel), z, NULL, NULL) == SL_OK);
        const float *row = one.image + i * one.image_dim;
        z_same &= memcmp(row + 1280, z, sizeof z) == 0;
        unit &= fabs(row_norm(row, 1280) - 1) < 1e-5;
    }
    CHECK_MSG(z_same, "image rows' zero-shot part differs from sl_model_embed_file");
    CHECK_MSG(unit, "pooled parts are not unit rows");
    z_same = unit = 1;
    for (size_t a = 0; a < nc; a++) {
        const float *row = one.text + a * one.text_dim;
        if (!one.caption_known[a]) continue;
        REQUIRE(sl_model_embed_text(m, caps.captions[a], z) == SL_OK);
        z_same &= memcmp(row + 100, z, sizeof z) == 0;
        unit &= fabs(row_norm(row, 100) - 1) < 1e-5;
    }
    CHECK_MSG(z_same, "caption rows' zero-shot part differs from sl_model_embed_text");
    CHECK_MSG(unit, "word means are not unit rows");
    CHECK(one.n_unknown == 0); /* COCO captions always have a known word */
    sl_feature_set_free(&one);
    sl_feature_set_free(&two);

    /* A missing image: the call fails naming it, whatever the threads. */
    char *saved = caps.images[3].file_name;
    caps.images[3].file_name = "no-such-image.jpg";
    sl_feature_set bad;
    CHECK(sl_features_compute(m, &caps, dir, 2, NULL, NULL, &bad) == SL_ERR_IO);
    CHECK_MSG(strstr(sl_last_error(), "no-such-image.jpg") != NULL, "message: %s", sl_last_error());
    CHECK(bad.image == NULL);
    caps.images[3].file_name = saved;
    CHECK(sl_features_compute(m, &caps, dir, 0, NULL, NULL, &bad) == SL_ERR_ARG);

    caps.n_images = all_images;
    caps.captions = orig;
    caps.caption_img = orig_img;
    caps.n_captions = all_captions;
    free(kept);
    free(kept_img);
    sl_captions_free(&caps);
    sl_model_free(m);
    return sl_test_summary();
}
