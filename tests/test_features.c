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

    /* The cache: a round trip gives the same bits; another model or key,
     * a missing, truncated or damaged file is refused with its reason. */
    char path[1100];
    snprintf(path, sizeof path, "%s/features.bin", sl_test_tmpdir());
    uint8_t key[32] = {1, 2, 3}, other[32] = {9};
    const char *id = sl_model_id(m);
    REQUIRE(sl_features_save(&one, id, key, path) == SL_OK);
    sl_feature_set back;
    REQUIRE(sl_features_load(path, id, key, &back) == SL_OK);
    CHECK(back.n_images == N_IMG && back.n_captions == nc && back.image_dim == one.image_dim &&
          back.text_dim == one.text_dim && back.n_unknown == 0);
    CHECK(memcmp(back.image, one.image, N_IMG * one.image_dim * sizeof(float)) == 0);
    CHECK(memcmp(back.text, one.text, nc * one.text_dim * sizeof(float)) == 0);
    CHECK(memcmp(back.caption_image, one.caption_image, nc * sizeof(uint32_t)) == 0);
    CHECK(memcmp(back.caption_known, one.caption_known, nc) == 0);
    sl_feature_set_free(&back);
    CHECK(sl_features_load(path, id, other, &back) == SL_ERR_STATE && back.image == NULL);
    CHECK(sl_features_load(path, "another-model", key, &back) == SL_ERR_STATE);
    char missing[1200];
    snprintf(missing, sizeof missing, "%s.none", path);
    CHECK(sl_features_load(missing, id, key, &back) == SL_ERR_NOT_FOUND);
    size_t size = 0;
    uint8_t *bytes = sl_test_read(path, &size);
    int refused = 1;
    for (size_t cut = 0; cut < size; cut += size / 7 + 1) {
        FILE *t = fopen(missing, "wb");
        REQUIRE(t && fwrite(bytes, 1, cut, t) == cut);
        fclose(t);
        sl_status st = sl_features_load(missing, id, key, &back);
        refused &= st == SL_ERR_CORRUPT;
    }
    CHECK_MSG(refused, "a truncated cache loaded or failed oddly");
    bytes[size / 2] ^= 0x40; /* inside the feature matrices */
    FILE *t = fopen(missing, "wb");
    REQUIRE(t && fwrite(bytes, 1, size, t) == size);
    fclose(t);
    CHECK(sl_features_load(missing, id, key, &back) == SL_ERR_CHECKSUM);
    free(bytes);
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
