/* Gallery pages: a self-contained HTML file whose thumbnails decode, whose
 * hostile text is escaped, which references nothing outside itself, and
 * which shows a placeholder for a file that cannot be read. */
#include "api/base64.h"
#include "core/core.h"
#include "testlib.h"

#include <pthread.h>
#include <string.h>
#include <sys/stat.h>

/* ---- an independent base64 decoder (RFC 4648 §4) -------------------------- */

static int b64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Decodes len chars (a multiple of 4, '=' padding only at the end) into a
 * new buffer; NULL when malformed. */
static uint8_t *b64_decode(const char *s, size_t len, size_t *out_len) {
    if (len % 4) return NULL;
    uint8_t *out = malloc(len / 4 * 3 + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i += 4) {
        int v[4], pad = 0;
        for (int k = 0; k < 4; k++) {
            if (s[i + k] == '=' && i + 4 == len && k >= 2) {
                v[k] = 0;
                pad++;
            } else {
                if (pad) pad = 99; /* data after padding */
                v[k] = b64_value(s[i + k]);
            }
            if (v[k] < 0 || pad > 2) {
                free(out);
                return NULL;
            }
        }
        uint32_t x = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        out[n++] = (uint8_t)(x >> 16);
        if (pad < 2) out[n++] = (uint8_t)(x >> 8);
        if (pad < 1) out[n++] = (uint8_t)x;
    }
    *out_len = n;
    return out;
}

static void test_base64(void) {
    static const char *const vec[][2] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
                                         {"foo", "Zm9v"},  {"foob", "Zm9vYg=="},  {"fooba", "Zm9vYmE="},
                                         {"foobar", "Zm9vYmFy"}};
    for (size_t i = 0; i < SL_ARRAY_LEN(vec); i++) {
        size_t n = strlen(vec[i][0]);
        size_t len = sl_base64_len(n);
        char buf[32];
        memset(buf, '#', sizeof buf);
        sl_base64_encode(vec[i][0], n, buf);
        CHECK_MSG(len == strlen(vec[i][1]) && !strcmp(buf, vec[i][1]), "base64(\"%s\") = \"%s\"", vec[i][0], buf);
        size_t back_len = 99;
        uint8_t *back = b64_decode(buf, len, &back_len);
        CHECK(back && back_len == n && !memcmp(back, vec[i][0], n));
        free(back);
    }
    /* Every byte value and every tail length survives a round trip. */
    uint8_t bytes[259];
    for (size_t i = 0; i < sizeof bytes; i++) bytes[i] = (uint8_t)(i * 7 + 3);
    for (size_t n = 0; n <= sizeof bytes; n += 1 + n / 16) {
        char *enc = malloc(sl_base64_len(n) + 1);
        sl_base64_encode(bytes, n, enc);
        size_t m = 0;
        uint8_t *dec = b64_decode(enc, strlen(enc), &m);
        CHECK_MSG(dec && m == n && !memcmp(dec, bytes, n), "round trip of %zu bytes", n);
        free(dec);
        free(enc);
    }
    CHECK(sl_base64_len(SIZE_MAX) == 0); /* overflow is reported, not wrapped */
    CHECK(b64_decode("Zg=a", 4, &(size_t){0}) == NULL); /* the test decoder is strict */
}

/* ---- the page ------------------------------------------------------------- */

static size_t count_of(const char *hay, const char *needle) {
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle)) n++;
    return n;
}

static pthread_mutex_t g_log_mu = PTHREAD_MUTEX_INITIALIZER;
static char g_warnings[4096];

static void capture_log(void *user, sl_log_level level, const char *message) {
    (void)user;
    if (level < SL_LOG_WARN) return;
    pthread_mutex_lock(&g_log_mu);
    size_t n = strlen(g_warnings);
    snprintf(g_warnings + n, sizeof g_warnings - n, "%s\n", message);
    pthread_mutex_unlock(&g_log_mu);
}

/* Decodes every data URI of the page; returns how many there are and
 * checks each thumbnail's longer side. */
static size_t check_thumbnails(const char *page, uint32_t side) {
    static const char prefix[] = "src=\"data:image/jpeg;base64,";
    size_t n = 0;
    for (const char *p = page; (p = strstr(p, prefix)) != NULL; n++) {
        p += strlen(prefix);
        const char *end = strchr(p, '"');
        REQUIRE(end != NULL);
        size_t size = 0;
        uint8_t *jpeg = b64_decode(p, (size_t)(end - p), &size);
        CHECK_MSG(jpeg != NULL, "data URI %zu is not valid base64", n);
        sl_image img = {0};
        CHECK(jpeg && sl_image_decode(jpeg, size, NULL, &img) == SL_OK);
        CHECK_MSG(SL_MAX(img.width, img.height) == side, "thumbnail %zu is %ux%u, want a longer side of %u", n,
                  img.width, img.height, side);
        sl_image_free(&img);
        free(jpeg);
        p = end;
    }
    return n;
}

static void test_page(void) {
    const char *hostile = "<script>alert(1)</script> & \"quotes\"";
    const char *escaped = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;";
    char img[4][512];
    const char *names[4] = {"000000000790.jpg", "000000030752.jpg", "000000037666.jpg", "000000054718.jpg"};
    for (int i = 0; i < 4; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "coco-train80/images/%s", names[i]);
        snprintf(img[i], sizeof img[i], "%s", sl_test_asset(rel));
    }
    const char *missing = "/nonexistent dir/x&y#1.jpg";
    sl_result a[] = {
        {.id = 1, .similarity = 0.87654f, .path = img[0],
         .metadata = "{\"captions\":[\"a <b>family</b> & cake\",\"second\"],\"coco_id\":790}"},
        {.id = 2, .similarity = 0.5f, .path = missing, .metadata = NULL},
        {.id = 3, .similarity = 0.25f, .path = img[1], .metadata = "{\"captions\":[]}"},
    };
    sl_result b[] = {
        {.id = 4, .similarity = -0.125f, .path = img[2], .metadata = "not json"},
        {.id = 5, .similarity = 0.0625f, .path = img[3], .metadata = "{\"captions\":[42]}"},
    };
    sl_results ra = {SL_ARRAY_LEN(a), a}, rb = {SL_ARRAY_LEN(b), b}, empty = {0, NULL};
    sl_gallery_section sections[] = {
        {"a family with cake", &ra},
        {hostile, &rb},
        {"nothing \xff\xfe here", &empty},
    };
    char path[512];
    snprintf(path, sizeof path, "%s/gallery.html", sl_test_tmpdir());
    sl_gallery_opts o;
    sl_gallery_opts_init(&o);
    CHECK(o.thumb_side == 256 && o.jpeg_quality == 80 && o.title == NULL);
    o.title = hostile;

    sl_set_log(capture_log, NULL, SL_LOG_DEBUG);
    REQUIRE(sl_gallery_write(path, sections, SL_ARRAY_LEN(sections), &o) == SL_OK);
    sl_set_log(NULL, NULL, SL_LOG_INFO);
    CHECK_MSG(strstr(g_warnings, missing) != NULL, "no warning names the unreadable file: %s", g_warnings);

    size_t size;
    char *page = (char *)sl_test_read(path, &size);
    CHECK(strlen(page) == size);
    CHECK(!strncmp(page, "<!DOCTYPE html>\n<html", 21));
    CHECK(size > 8 && !strcmp(page + size - 8, "</html>\n"));
    CHECK(strstr(page, "<meta charset=\"utf-8\">") && strstr(page, "<style>"));
    CHECK(count_of(page, "<section>") == 3 && count_of(page, "</section>") == 3);
    /* Exactly the four readable images, each a 256-pixel JPEG. */
    CHECK(count_of(page, "data:image/jpeg;base64,") == 4);
    CHECK(check_thumbnails(page, 256) == 4);
    /* Hostile text only escaped: in <title>, <h1> and the section <h2>. */
    CHECK(strstr(page, "<script") == NULL && strstr(page, "alert(1)</") == NULL);
    CHECK(count_of(page, escaped) == 3);
    CHECK(strstr(page, "a &lt;b&gt;family&lt;/b&gt; &amp; cake") != NULL);
    CHECK(strstr(page, "second") == NULL); /* only the first caption */
    /* Invalid UTF-8 is replaced, never copied. */
    CHECK(strstr(page, "nothing \xEF\xBF\xBD\xEF\xBF\xBD here") && !strchr(page, '\xff'));
    /* The unreadable file: one placeholder, still linked and named. */
    CHECK(count_of(page, ">unreadable<") == 1);
    CHECK(strstr(page, "href=\"file:///nonexistent%20dir/x%26y%231.jpg\"") != NULL);
    CHECK(strstr(page, ">x&amp;y#1.jpg<") != NULL);
    CHECK(count_of(page, "no results") == 1);
    /* Ranks, similarities with three decimals, names and links. */
    CHECK(strstr(page, "#1</span> <span class=\"sim\">0.877<") != NULL);
    CHECK(strstr(page, "#1</span> <span class=\"sim\">-0.125<") != NULL);
    CHECK(strstr(page, ">000000054718.jpg<") != NULL);
    CHECK(count_of(page, "href=\"file:///") == 5);
    /* Self-contained: no remote or absolute reference, no script. */
    CHECK(strstr(page, "http") == NULL && strstr(page, "src=\"/") == NULL && strstr(page, "url(") == NULL);
    CHECK(strstr(page, "made by searchlite") != NULL);
    free(page);

    /* A smaller side, default options otherwise, overwriting the file. */
    sl_gallery_opts_init(&o);
    o.thumb_side = 96;
    REQUIRE(sl_gallery_write(path, sections, 1, &o) == SL_OK);
    page = (char *)sl_test_read(path, &size);
    CHECK(check_thumbnails(page, 96) == 2);
    CHECK(strstr(page, "<title>searchlite results</title>") != NULL);
    free(page);

    /* Zero sections: still a page. */
    REQUIRE(sl_gallery_write(path, NULL, 0, NULL) == SL_OK);
    page = (char *)sl_test_read(path, &size);
    CHECK(strstr(page, "</html>") && !strstr(page, "<section>"));
    free(page);

    /* Errors leave the previous page in place. */
    o.jpeg_quality = 101;
    CHECK(sl_gallery_write(path, sections, 1, &o) == SL_ERR_ARG && *sl_last_error());
    sl_gallery_opts_init(&o);
    o.thumb_side = 100000;
    CHECK(sl_gallery_write(path, sections, 1, &o) == SL_ERR_ARG);
    CHECK(sl_gallery_write(NULL, sections, 1, NULL) == SL_ERR_ARG);
    CHECK(sl_gallery_write(path, NULL, 1, NULL) == SL_ERR_ARG);
    sl_results broken = {2, NULL};
    sl_gallery_section bs = {"x", &broken};
    CHECK(sl_gallery_write(path, &bs, 1, NULL) == SL_ERR_ARG);
    CHECK(sl_gallery_write("/nonexistent-dir/x/page.html", sections, 1, NULL) == SL_ERR_IO);
    page = (char *)sl_test_read(path, &size);
    CHECK(strstr(page, "</html>") && !strstr(page, "<section>"));
    free(page);
}

int main(void) {
    test_base64();
    test_page();
    return sl_test_summary();
}
