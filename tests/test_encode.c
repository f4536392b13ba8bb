/* JPEG encoding and thumbnails: what we encode decodes back (by our decoder)
 * close to the original, thumbnails keep the aspect ratio. */
#include "searchlite.h"
#include "testlib.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double psnr(const sl_image *a, const sl_image *b) {
    size_t n = (size_t)a->width * a->height * 3;
    double se = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a->pixels[i] - b->pixels[i];
        se += d * d;
    }
    return se == 0 ? 99.0 : 10.0 * log10(255.0 * 255.0 / (se / (double)n));
}

static void test_round_trip(void) {
    sl_image img, back;
    REQUIRE(sl_image_load(sl_test_asset("samples/grace_hopper.bmp"), NULL, &img) == SL_OK);
    for (int q = 50; q <= 95; q += 45) {
        uint8_t *jpg;
        size_t n;
        REQUIRE(sl_image_encode_jpeg(&img, q, &jpg, &n) == SL_OK);
        CHECK(n > 1000 && jpg[0] == 0xFF && jpg[1] == 0xD8 && jpg[n - 2] == 0xFF && jpg[n - 1] == 0xD9);
        REQUIRE(sl_image_decode(jpg, n, NULL, &back) == SL_OK);
        CHECK(back.width == img.width && back.height == img.height);
        double p = psnr(&img, &back);
        CHECK_MSG(p > (q > 90 ? 38.0 : 30.0), "quality %d: PSNR %.1f dB", q, p);
        sl_image_free(&back);
        free(jpg);
    }
    uint8_t *jpg = (uint8_t *)1;
    size_t n = 7;
    CHECK(sl_image_encode_jpeg(&img, 0, &jpg, &n) == SL_ERR_ARG && jpg == NULL && n == 0);
    CHECK(sl_image_encode_jpeg(&img, 101, &jpg, &n) == SL_ERR_ARG);
    sl_image empty = {0};
    CHECK(sl_image_encode_jpeg(&empty, 80, &jpg, &n) == SL_ERR_ARG);
    sl_image_free(&img);
}

static void test_thumbnail(void) {
    sl_image img, t;
    REQUIRE(sl_image_load(sl_test_asset("coco-train80/images/000000000790.jpg"), NULL, &img) == SL_OK);
    CHECK(img.width == 640 && img.height == 422);
    REQUIRE(sl_image_thumbnail(&img, 256, &t) == SL_OK);
    CHECK_MSG(t.width == 256 && t.height == 169, "%ux%u", t.width, t.height); /* 422*256/640 = 168.8 */
    sl_image_free(&t);
    /* portrait */
    sl_image tall = {3, 1000, calloc(3 * 1000, 3)};
    REQUIRE(sl_image_thumbnail(&tall, 100, &t) == SL_OK);
    CHECK(t.width == 1 && t.height == 100); /* never a zero side */
    sl_image_free(&t);
    sl_image_free(&tall);
    /* already small: an exact copy */
    REQUIRE(sl_image_thumbnail(&img, 1000, &t) == SL_OK);
    CHECK(t.width == img.width && t.height == img.height &&
          !memcmp(t.pixels, img.pixels, (size_t)img.width * img.height * 3));
    sl_image_free(&t);
    CHECK(sl_image_thumbnail(&img, 0, &t) == SL_ERR_ARG);
    /* in place */
    REQUIRE(sl_image_thumbnail(&img, 64, &img) == SL_OK);
    CHECK(img.width == 64 && img.height == 42);
    sl_image_free(&img);
}

int main(void) {
    test_round_trip();
    test_thumbnail();
    return sl_test_summary();
}
