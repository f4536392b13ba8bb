/* Image module: decoders (JPEG, PNG, BMP), EXIF orientation, DCT scaling,
 * resize and crop, checked against Pillow 9.4 (tests/pil_preprocess.py),
 * against independent formulations written here, and against hostile
 * input. */
#include "image/image_internal.h"
#include "testlib.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jpeglib.h>
#include <png.h>

/* ---- helpers ----------------------------------------------------------- */

static char g_assets[4096];
static char g_pil[4096];

static int is_status(sl_status st) { return st >= SL_OK && st <= SL_ERR_INTERNAL; }

static int file_exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0;
}

static sl_decode_opts opts_plain(void) {
    sl_decode_opts o;
    sl_decode_opts_init(&o);
    o.apply_orientation = 0;
    return o;
}

/* Decodes a file with orientation off (Pillow's Image.open does not
 * rotate); aborts the test program when a reference cannot be read. */
static sl_image load_or_die(const char *path) {
    sl_decode_opts o = opts_plain();
    sl_image img;
    sl_status st = sl_image_load(path, &o, &img);
    if (st) {
        fprintf(stderr, "cannot decode %s: %s\n", path, sl_last_error());
        printf("%d passed, %d failed\n", sl_test_passed, sl_test_failed + 1);
        exit(1);
    }
    return img;
}

typedef struct diff_stats {
    int max;
    long long differing, total;
} diff_stats;

/* Accumulates |a - b| over all values; returns 0 when the sizes differ. */
static int diff_images(const sl_image *a, const sl_image *b, diff_stats *ds) {
    if (a->width != b->width || a->height != b->height) return 0;
    size_t n = (size_t)a->width * a->height * 3;
    for (size_t i = 0; i < n; i++) {
        int d = abs((int)a->pixels[i] - (int)b->pixels[i]);
        if (d > ds->max) ds->max = d;
        ds->differing += d != 0;
    }
    ds->total += (long long)n;
    return 1;
}

static int same_image(const sl_image *a, const sl_image *b) {
    return a->width == b->width && a->height == b->height &&
           !memcmp(a->pixels, b->pixels, (size_t)a->width * a->height * 3);
}

/* Runs tests/pil_preprocess.py once per build directory. */
static void ensure_pil_refs(void) {
    snprintf(g_pil, sizeof g_pil, "%s/pil", SL_TEST_BINARY_DIR);
    char done[4200];
    snprintf(done, sizeof done, "%s/done.txt", g_pil);
    if (file_exists(done)) return;
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/tests/pil_preprocess.py' '%s' '%s'",
             SL_TEST_SOURCE_DIR, g_pil, g_assets);
    fprintf(stderr, "generating Pillow references: %s\n", cmd);
    int rc = system(cmd);
    if (rc != 0 || !file_exists(done)) {
        fprintf(stderr,
                "FATAL: %s failed (status %d). It needs /usr/bin/python3 with "
                "python3-pil and python3-numpy (apt-get install python3-pil python3-numpy).\n",
                cmd, rc);
        printf("%d passed, %d failed\n", sl_test_passed, sl_test_failed + 1);
        exit(1);
    }
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted *.jpg names of the COCO folder (byte order, as Python's sorted). */
static int coco_names(char names[][64], int cap) {
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/coco-train80/images", g_assets);
    DIR *d = opendir(dir);
    if (!d) return 0;
    char *tmp[256];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256) {
        size_t len = strlen(e->d_name);
        if (len > 4 && len < 64 && !strcmp(e->d_name + len - 4, ".jpg")) tmp[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(tmp, (size_t)n, sizeof *tmp, cmp_str);
    int m = n < cap ? n : cap;
    for (int i = 0; i < n; i++) {
        if (i < m) snprintf(names[i], 64, "%s", tmp[i]);
        free(tmp[i]);
    }
    return m;
}

static void put16le(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32le(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put16be(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32be(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static uint32_t crc32_png(const uint8_t *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return c ^ 0xFFFFFFFFu;
}

/* ---- encoders used to build inputs --------------------------------------- */

/* Encodes rgb (h, w, 3) as a baseline JPEG in memory; caller frees. */
static uint8_t *encode_jpeg(const uint8_t *rgb, int w, int h, int quality, size_t *size) {
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr err;
    c.err = jpeg_std_error(&err);
    jpeg_create_compress(&c);
    unsigned char *buf = NULL;
    unsigned long n = 0;
    jpeg_mem_dest(&c, &buf, &n);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = 3;
    c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, quality, TRUE);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)(rgb + (size_t)c.next_scanline * w * 3);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    *size = n;
    return buf;
}

typedef struct mem_out {
    uint8_t *data;
    size_t size, cap;
} mem_out;

static void png_write_mem(png_structp png, png_bytep p, size_t n) {
    mem_out *m = png_get_io_ptr(png);
    if (m->size + n > m->cap) {
        m->cap = (m->size + n) * 2;
        m->data = realloc(m->data, m->cap);
    }
    memcpy(m->data + m->size, p, n);
    m->size += n;
}
static void png_flush_mem(png_structp png) { (void)png; }

/* Encodes raw PNG rows (already in the file's sample layout). */
static uint8_t *encode_png(const uint8_t *raw, int w, int h, int color, int depth,
                           int interlace, size_t *size) {
    mem_out m = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    png_set_write_fn(png, &m, png_write_mem, png_flush_mem);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, color,
                 interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    size_t rb = png_get_rowbytes(png, info);
    png_bytep *rows = malloc(sizeof *rows * (size_t)h);
    for (int y = 0; y < h; y++) rows[y] = (png_bytep)(raw + rb * (size_t)y);
    png_write_image(png, rows);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    free(rows);
    *size = m.size;
    return m.data;
}

/* A small asymmetric RGB pattern: every pixel distinct, smooth enough that
 * JPEG keeps it recognisable. */
static uint8_t *pattern(int w, int h) {
    uint8_t *p = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *q = p + ((size_t)y * w + x) * 3;
            q[0] = (uint8_t)(x * 255 / (w - 1));
            q[1] = (uint8_t)(y * 255 / (h - 1));
            q[2] = (uint8_t)((x * 3 + y * 5) & 255);
        }
    return p;
}

/* ---- captions.json: the sizes COCO declares -------------------------------- */

static long json_int_after(const char *s, const char *end, const char *key) {
    size_t kl = strlen(key);
    for (const char *p = s; p + kl < end; p++)
        if (!memcmp(p, key, kl)) return strtol(p + kl, NULL, 10);
    return -1;
}

static void test_coco_sizes(void) {
    size_t n;
    char *json = (char *)sl_test_read(sl_test_asset("coco-train80/captions.json"), &n);
    int checked = 0, decoded = 0;
    double t_total = 0;
    const char *key = "\"file_name\": \"";
    for (char *p = strstr(json, key); p; p = strstr(p + 1, key)) {
        char *name = p + strlen(key), *q = strchr(name, '"');
        char *open = p, *close = strchr(p, '}');
        while (open > json && *open != '{') open--;
        if (!q || !close) break;
        long w = json_int_after(open, close, "\"width\": ");
        long h = json_int_after(open, close, "\"height\": ");
        char file[256];
        snprintf(file, sizeof file, "coco-train80/images/%.*s", (int)(q - name), name);
        sl_image img;
        double t0 = sl_now();
        sl_status st = sl_image_load(sl_test_asset(file), NULL, &img);
        t_total += sl_now() - t0;
        CHECK_MSG(st == SL_OK, "%s: %s", file, sl_last_error());
        decoded += st == SL_OK;
        CHECK_MSG(st || ((long)img.width == w && (long)img.height == h),
                  "%s: decoded %ux%u, captions.json says %ldx%ld", file, img.width,
                  img.height, w, h);
        checked++;
        sl_image_free(&img);
    }
    CHECK_MSG(checked == 80, "captions.json lists %d images", checked);
    printf("coco: %d/%d images decoded at the sizes captions.json gives (%.1f ms each)\n",
           decoded, checked, checked ? t_total * 1e3 / checked : 0.0);
    free(json);
}

static void test_samples(void) {
    static const struct { const char *name; uint32_t w, h; } s[] = {
        {"samples/cat.bmp", 512, 341},
        {"samples/grace_hopper.bmp", 512, 600},
        {"samples/sunflower.bmp", 512, 340},
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(s); i++) {
        sl_image img;
        sl_status st = sl_image_load(sl_test_asset(s[i].name), NULL, &img);
        CHECK_MSG(st == SL_OK, "%s: %s", s[i].name, sl_last_error());
        CHECK(st || (img.width == s[i].w && img.height == s[i].h));
        sl_image_free(&img);
    }
}

/* ---- Pillow agreement ------------------------------------------------------ */

typedef struct named {
    char stem[64];
    char path[4200];
} named;

static int pil_inputs(named *out) {
    int n = 0;
    static const char *samples[] = {"cat", "grace_hopper", "sunflower"};
    for (int i = 0; i < 3; i++, n++) {
        snprintf(out[n].stem, sizeof out[n].stem, "%s", samples[i]);
        snprintf(out[n].path, sizeof out[n].path, "%s/samples/%s.bmp", g_assets, samples[i]);
    }
    char names[10][64];
    int m = coco_names(names, 10);
    CHECK_MSG(m == 10, "found %d COCO images", m);
    for (int i = 0; i < m; i++, n++) {
        snprintf(out[n].stem, sizeof out[n].stem, "%.*s", (int)strlen(names[i]) - 4, names[i]);
        snprintf(out[n].path, sizeof out[n].path, "%s/coco-train80/images/%s", g_assets, names[i]);
    }
    return n;
}

/* The bar is a difference of at most 1. Resizing is pure arithmetic
 * reimplemented from Pillow, so there we also insist on bit-exactness
 * (exact == 1); decoding depends on the libjpeg-turbo both sides link. */
static void report(const char *what, const diff_stats *ds, int images, int exact) {
    printf("pil %-22s %2d images: max |diff| %d, %lld of %lld values differ\n", what,
           images, ds->max, ds->differing, ds->total);
    CHECK_MSG(ds->max <= 1, "%s: max difference %d against Pillow", what, ds->max);
    if (exact)
        CHECK_MSG(ds->differing == 0, "%s: %lld values differ from Pillow", what, ds->differing);
}

static void test_pil_decode_and_resize(void) {
    named in[16];
    int n = pil_inputs(in);
    diff_stats d_full = {0}, d224 = {0}, d128 = {0}, dcrop = {0}, dodd = {0};
    int n_odd = 0;
    for (int i = 0; i < n; i++) {
        char ref[8192];
        sl_image img = load_or_die(in[i].path), want, got;

        snprintf(ref, sizeof ref, "%s/full/%s.png", g_pil, in[i].stem);
        want = load_or_die(ref);
        CHECK_MSG(diff_images(&img, &want, &d_full), "%s: size differs from Pillow", in[i].stem);
        sl_image_free(&want);

        static const struct { const char *dir; uint32_t side; } rs[] = {{"224", 224}, {"128", 128}};
        for (int r = 0; r < 2; r++) {
            snprintf(ref, sizeof ref, "%s/%s/%s.png", g_pil, rs[r].dir, in[i].stem);
            want = load_or_die(ref);
            CHECK(sl_image_resize(&img, rs[r].side, rs[r].side, &got) == SL_OK);
            CHECK(diff_images(&got, &want, r == 0 ? &d224 : &d128));
            sl_image_free(&got);
            sl_image_free(&want);
        }

        sl_image sq;
        snprintf(ref, sizeof ref, "%s/224crop/%s.png", g_pil, in[i].stem);
        want = load_or_die(ref);
        CHECK(sl_image_center_crop(&img, &sq) == SL_OK);
        CHECK(sl_image_resize(&sq, 224, 224, &got) == SL_OK);
        CHECK(diff_images(&got, &want, &dcrop));
        sl_image_free(&got);
        sl_image_free(&want);
        sl_image_free(&sq);

        if (i < 3) { /* the samples: odd sizes, one-axis and upscaling */
            const uint32_t sizes[][2] = {{700, 97}, {97, 700}, {301, 157}, {1, 1},
                                         {img.width, 100}, {100, img.height},
                                         {img.width + 1, img.height}};
            for (size_t k = 0; k < SL_ARRAY_LEN(sizes); k++) {
                snprintf(ref, sizeof ref, "%s/odd/%s_%ux%u.png", g_pil, in[i].stem,
                         sizes[k][0], sizes[k][1]);
                want = load_or_die(ref);
                CHECK(sl_image_resize(&img, sizes[k][0], sizes[k][1], &got) == SL_OK);
                CHECK_MSG(diff_images(&got, &want, &dodd), "%s", ref);
                sl_image_free(&got);
                sl_image_free(&want);
                n_odd++;
            }
            /* Pillow's crop box (10, 20, 71, 67), upscaled to 300x157. */
            sl_image crop;
            CHECK(sl_image_alloc(&crop, 61, 47) == SL_OK);
            for (uint32_t y = 0; y < 47; y++)
                memcpy(crop.pixels + (size_t)y * 61 * 3,
                       img.pixels + ((size_t)(20 + y) * img.width + 10) * 3, 61 * 3);
            snprintf(ref, sizeof ref, "%s/odd/%s_crop_300x157.png", g_pil, in[i].stem);
            want = load_or_die(ref);
            CHECK(sl_image_resize(&crop, 300, 157, &got) == SL_OK);
            CHECK(diff_images(&got, &want, &dodd));
            sl_image_free(&got);
            sl_image_free(&want);
            sl_image_free(&crop);
            n_odd++;
        }
        sl_image_free(&img);
    }
    report("decode (full size)", &d_full, n, 0);
    report("resize 224x224", &d224, n, 1);
    report("resize 128x128", &d128, n, 1);
    report("crop + resize 224x224", &dcrop, n, 1);
    report("resize odd/up sizes", &dodd, n_odd, 1);
}

static void test_pil_variants(void) {
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/variants", g_pil);
    DIR *d = opendir(dir);
    CHECK_MSG(d != NULL, "cannot open %s", dir);
    if (!d) return;
    diff_stats total = {0};
    int files = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || (len > 8 && !strcmp(e->d_name + len - 8, ".ref.png")) ||
            strstr(e->d_name, ".tmp"))
            continue;
        char path[8192], ref[8300];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        snprintf(ref, sizeof ref, "%s.ref.png", path);
        sl_image img = load_or_die(path), want = load_or_die(ref);
        diff_stats ds = {0};
        CHECK_MSG(diff_images(&img, &want, &ds), "%s: size differs", e->d_name);
        /* Lossless formats must match exactly; JPEGs within the bar. */
        int lossy = len > 4 && !strcmp(e->d_name + len - 4, ".jpg");
        CHECK_MSG(lossy ? ds.max <= 1 : ds.max == 0,
                  "%s: max |diff| %d, %lld values differ from Pillow", e->d_name, ds.max,
                  ds.differing);
        diff_images(&img, &want, &total);
        files++;
        sl_image_free(&img);
        sl_image_free(&want);
    }
    closedir(d);
    CHECK_MSG(files >= 25, "only %d variant files", files);
    printf("pil format variants      %2d files:  max |diff| %d, %lld of %lld values differ\n",
           files, total.max, total.differing, total.total);
}

/* Pillow's ImageOps.exif_transpose on JPEGs carrying each orientation. */
static void test_pil_orientation(void) {
    for (int o = 1; o <= 8; o++) {
        char path[4300], ref[4300];
        snprintf(path, sizeof path, "%s/orient/o%d.jpg", g_pil, o);
        snprintf(ref, sizeof ref, "%s/orient/o%d.png", g_pil, o);
        sl_image img, want = load_or_die(ref);
        CHECK(sl_image_load(path, NULL, &img) == SL_OK); /* default: orientation on */
        CHECK_MSG(same_image(&img, &want), "orientation %d differs from Pillow's exif_transpose", o);
        sl_image_free(&img);
        sl_image_free(&want);
    }
}

/* ---- EXIF orientation on generated JPEGs ------------------------------------ */

/* Display pixel (x, y) -> stored pixel, from the EXIF definitions of where
 * the stored row 0 and column 0 appear (written independently of the
 * library's table). */
static void exif_source(int o, uint32_t w, uint32_t h, uint32_t x, uint32_t y,
                        uint32_t *sx, uint32_t *sy) {
    /* row0: 0 top, 1 bottom, 2 left, 3 right; col0: 0 left, 1 right, 2 top, 3 bottom */
    static const int row0[9] = {0, 0, 0, 1, 1, 2, 3, 3, 2};
    static const int col0[9] = {0, 0, 1, 1, 0, 2, 2, 3, 3};
    if (o <= 4) {
        *sx = col0[o] == 0 ? x : w - 1 - x;
        *sy = row0[o] == 0 ? y : h - 1 - y;
    } else { /* stored rows run across the display, columns down it */
        *sy = row0[o] == 2 ? x : h - 1 - x;
        *sx = col0[o] == 2 ? y : w - 1 - y;
    }
}

/* Inserts an APP1 Exif segment with one Orientation entry (after a decoy
 * entry) right after SOI. */
static uint8_t *with_exif(const uint8_t *jpg, size_t n, int orientation, int big_endian,
                          size_t *out_n) {
    uint8_t seg[64] = {0};
    size_t k = 0;
    seg[k++] = 0xFF, seg[k++] = 0xE1;
    size_t len_at = k;
    k += 2;
    memcpy(seg + k, "Exif\0\0", 6), k += 6;
    void (*p16)(uint8_t *, uint32_t) = big_endian ? put16be : put16le;
    void (*p32)(uint8_t *, uint32_t) = big_endian ? put32be : put32le;
    seg[k] = seg[k + 1] = big_endian ? 'M' : 'I', k += 2;
    p16(seg + k, 42), k += 2;
    p32(seg + k, 8), k += 4;
    p16(seg + k, 2), k += 2;                          /* two entries */
    p16(seg + k, 0x011A), p16(seg + k + 2, 5);        /* XResolution, RATIONAL */
    p32(seg + k + 4, 1), p32(seg + k + 8, 9999), k += 12; /* offset beyond: must be ignored */
    p16(seg + k, 0x0112), p16(seg + k + 2, 3);        /* Orientation, SHORT */
    p32(seg + k + 4, 1), p16(seg + k + 8, (uint32_t)orientation), k += 12;
    p32(seg + k, 0), k += 4;                          /* no next IFD */
    put16be(seg + len_at, (uint32_t)(k - 2));
    uint8_t *o = malloc(n + k);
    memcpy(o, jpg, 2);
    memcpy(o + 2, seg, k);
    memcpy(o + 2 + k, jpg + 2, n - 2);
    *out_n = n + k;
    return o;
}

static void test_orientation_generated(void) {
    const int w = 37, h = 23;
    uint8_t *rgb = pattern(w, h);
    size_t n;
    uint8_t *jpg = encode_jpeg(rgb, w, h, 95, &n);
    sl_image base;
    CHECK(sl_image_decode(jpg, n, NULL, &base) == SL_OK);
    for (int be = 0; be < 2; be++)
        for (int o = 1; o <= 8; o++) {
            size_t m;
            uint8_t *ex = with_exif(jpg, n, o, be, &m);
            sl_decode_opts opts = opts_plain();
            sl_image plain, rot;
            CHECK(sl_image_decode(ex, m, &opts, &plain) == SL_OK);
            CHECK_MSG(same_image(&plain, &base), "orientation off must ignore the tag");
            CHECK(sl_image_decode(ex, m, NULL, &rot) == SL_OK);
            uint32_t ew = o >= 5 ? (uint32_t)h : (uint32_t)w, eh = o >= 5 ? (uint32_t)w : (uint32_t)h;
            int ok = rot.width == ew && rot.height == eh;
            for (uint32_t y = 0; ok && y < eh; y++)
                for (uint32_t x = 0; ok && x < ew; x++) {
                    uint32_t sx, sy;
                    exif_source(o, (uint32_t)w, (uint32_t)h, x, y, &sx, &sy);
                    ok = !memcmp(rot.pixels + ((size_t)y * ew + x) * 3,
                                 base.pixels + ((size_t)sy * w + sx) * 3, 3);
                }
            CHECK_MSG(ok, "orientation %d (%s) wrong", o, be ? "MM" : "II");
            sl_image_free(&plain);
            sl_image_free(&rot);
            free(ex);
        }

    /* DCT scaling sees the displayed size: 200x100 stored with orientation
     * 6 is 100x200 displayed, so a minimum of 40x80 allows 1/2 (50x100
     * displayed) but not 1/4 (25x50). */
    uint8_t *big = pattern(200, 100);
    size_t bn, m;
    uint8_t *bj = encode_jpeg(big, 200, 100, 90, &bn);
    uint8_t *ex = with_exif(bj, bn, 6, 0, &m);
    sl_decode_opts opts;
    sl_decode_opts_init(&opts);
    opts.min_width = 40;
    opts.min_height = 80;
    sl_image img;
    CHECK(sl_image_decode(ex, m, &opts, &img) == SL_OK);
    CHECK_MSG(img.width == 50 && img.height == 100, "got %ux%u", img.width, img.height);
    sl_image_free(&img);
    opts.apply_orientation = 0; /* unrotated 200x100: 1/2 gives 100x50 < 80 high */
    CHECK(sl_image_decode(ex, m, &opts, &img) == SL_OK);
    CHECK_MSG(img.width == 200 && img.height == 100, "got %ux%u", img.width, img.height);
    sl_image_free(&img);
    free(ex);
    free(bj);
    free(big);

    sl_image_free(&base);
    free(jpg);
    free(rgb);
}

/* The EXIF parser on its own, fed broken segments. */
static void test_exif_parser(void) {
    uint8_t s[64];
    /* A valid little-endian segment with orientation 6 at a known place. */
    size_t n = 0;
    memcpy(s, "Exif\0\0II", 8), n = 8;
    put16le(s + n, 42), n += 2;
    put32le(s + n, 8), n += 4;
    put16le(s + n, 1), n += 2;
    put16le(s + n, 0x0112), put16le(s + n + 2, 3), put32le(s + n + 4, 1), put16le(s + n + 8, 6);
    n += 12;
    CHECK(sl_exif_orientation(s, n) == 6);
    /* Every truncation is safe; only the complete entry yields 6. */
    for (size_t k = 0; k < n; k++) {
        int o = sl_exif_orientation(s, k);
        CHECK(o == 1 || (o == 6 && k >= n - 2));
    }
    uint8_t t[64];
    memcpy(t, s, n);
    put32le(t + 10, 0xFFFFFFF0u); /* IFD offset beyond the segment */
    CHECK(sl_exif_orientation(t, n) == 1);
    memcpy(t, s, n);
    put16le(t + 14, 0xFFFF); /* absurd entry count */
    CHECK(sl_exif_orientation(t, n) == 6);
    memcpy(t, s, n);
    put16le(t + 14 + 2 + 8, 9); /* out-of-range value */
    CHECK(sl_exif_orientation(t, n) == 1);
    memcpy(t, s, n);
    put16le(t + 14 + 2 + 8, 0);
    CHECK(sl_exif_orientation(t, n) == 1);
    memcpy(t, s, n);
    put32le(t + 14 + 2 + 4, 2); /* count 2: a list, not an orientation */
    CHECK(sl_exif_orientation(t, n) == 1);
    memcpy(t, s, n);
    t[6] = 'X'; /* bad byte order */
    CHECK(sl_exif_orientation(t, n) == 1);
    memcpy(t, s, n);
    put16le(t + 8, 43); /* bad TIFF magic */
    CHECK(sl_exif_orientation(t, n) == 1);
    memcpy(t, s, n);
    t[0] = 'e';
    CHECK(sl_exif_orientation(t, n) == 1);
    CHECK(sl_exif_orientation(NULL, 0) == 1);
    /* Random bytes after the header never crash and give 1..8. */
    uint64_t rs = 7;
    for (int i = 0; i < 20000; i++) {
        uint8_t r[48];
        memcpy(r, "Exif\0\0", 6);
        for (size_t k = 6; k < sizeof r; k++) r[k] = (uint8_t)sl_test_rand(&rs);
        r[6] = r[7] = (i & 1) ? 'M' : 'I';
        r[8 + (i & 1)] = 42, r[9 - (i & 1)] = 0;
        int o = sl_exif_orientation(r, 6 + sl_test_rand(&rs) % 43);
        CHECK(o >= 1 && o <= 8);
    }
}

/* ---- DCT scaling --------------------------------------------------------------- */

static void test_dct_scaling(void) {
    const char *p = sl_test_asset("coco-train80/images/000000054718.jpg"); /* 640x480 */
    static const struct { uint32_t mw, mh, w, h; } c[] = {
        {0, 0, 640, 480},   {224, 224, 320, 240}, {300, 300, 640, 480}, {320, 240, 320, 240},
        {321, 240, 640, 480}, {80, 60, 80, 60},   {81, 60, 160, 120},   {100, 0, 160, 120},
        {0, 61, 160, 120},  {1, 1, 80, 60},       {641, 1, 640, 480},
    };
    sl_image full = load_or_die(p);
    for (size_t i = 0; i < SL_ARRAY_LEN(c); i++) {
        sl_decode_opts o;
        sl_decode_opts_init(&o);
        o.min_width = c[i].mw;
        o.min_height = c[i].mh;
        sl_image img;
        CHECK(sl_image_load(p, &o, &img) == SL_OK);
        CHECK_MSG(img.width == c[i].w && img.height == c[i].h, "min %ux%u: got %ux%u, want %ux%u",
                  c[i].mw, c[i].mh, img.width, img.height, c[i].w, c[i].h);
        /* The reduced decode shows the same picture: compare with a box
         * average of the full decode. */
        uint32_t f = img.width ? full.width / img.width : 0;
        if (f > 1 && img.width * f == full.width && img.height * f == full.height) {
            double sum = 0;
            for (uint32_t y = 0; y < img.height; y++)
                for (uint32_t x = 0; x < img.width; x++)
                    for (int ch = 0; ch < 3; ch++) {
                        double a = 0;
                        for (uint32_t dy = 0; dy < f; dy++)
                            for (uint32_t dx = 0; dx < f; dx++)
                                a += full.pixels[(((size_t)(y * f + dy)) * full.width + x * f + dx) * 3 + ch];
                        sum += fabs(a / (f * f) - img.pixels[((size_t)y * img.width + x) * 3 + ch]);
                    }
            double mad = sum / ((double)img.width * img.height * 3);
            CHECK_MSG(mad < 4.0, "1/%u decode: mean |diff| %.2f from the box-averaged full decode", f, mad);
        }
        sl_image_free(&img);
    }
    sl_image_free(&full);
}

/* ---- PNG layouts libpng writes ------------------------------------------------ */

static void test_png_generated(void) {
    uint64_t rs = 99;
    /* Adam7-interlaced RGB and RGBA: lossless, so the decode is exact. */
    const int w = 33, h = 21;
    uint8_t *rgba = malloc((size_t)w * h * 4), *rgb = malloc((size_t)w * h * 3);
    for (int i = 0; i < w * h; i++) {
        for (int c = 0; c < 4; c++) rgba[i * 4 + c] = (uint8_t)sl_test_rand(&rs);
        memcpy(rgb + i * 3, rgba + i * 4, 3);
    }
    for (int il = 0; il < 2; il++) {
        size_t n;
        uint8_t *png = encode_png(rgb, w, h, PNG_COLOR_TYPE_RGB, 8, il, &n);
        sl_image img;
        CHECK(sl_image_decode(png, n, NULL, &img) == SL_OK);
        CHECK_MSG(img.width == (uint32_t)w && !memcmp(img.pixels, rgb, (size_t)w * h * 3),
                  "RGB interlace=%d", il);
        sl_image_free(&img);
        free(png);
        png = encode_png(rgba, w, h, PNG_COLOR_TYPE_RGBA, 8, il, &n);
        CHECK(sl_image_decode(png, n, NULL, &img) == SL_OK);
        CHECK_MSG(img.width == (uint32_t)w && !memcmp(img.pixels, rgb, (size_t)w * h * 3),
                  "RGBA interlace=%d: alpha must be dropped", il);
        sl_image_free(&img);
        free(png);
    }
    /* 16-bit grey: the high byte, replicated. 2-bit grey: scaled by 85. */
    const int g2_stride = (w * 2 + 7) / 8; /* libpng's row size for 2-bit samples */
    uint8_t *g16 = malloc((size_t)w * h * 2), *g2 = calloc((size_t)h, (size_t)g2_stride);
    for (int i = 0; i < w * h; i++) g16[2 * i] = (uint8_t)(i * 7), g16[2 * i + 1] = (uint8_t)i;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            g2[y * g2_stride + x / 4] |= (uint8_t)(((x + y) & 3) << (6 - 2 * (x % 4)));
    size_t n;
    uint8_t *png = encode_png(g16, w, h, PNG_COLOR_TYPE_GRAY, 16, 0, &n);
    sl_image img;
    CHECK(sl_image_decode(png, n, NULL, &img) == SL_OK);
    int ok = img.width == (uint32_t)w;
    for (int i = 0; ok && i < w * h; i++)
        ok = img.pixels[3 * i] == (uint8_t)(i * 7) && img.pixels[3 * i + 1] == (uint8_t)(i * 7) &&
             img.pixels[3 * i + 2] == (uint8_t)(i * 7);
    CHECK_MSG(ok, "16-bit grey");
    sl_image_free(&img);
    free(png);
    png = encode_png(g2, w, h, PNG_COLOR_TYPE_GRAY, 2, 1, &n);
    CHECK(sl_image_decode(png, n, NULL, &img) == SL_OK);
    ok = img.width == (uint32_t)w;
    for (int y = 0; ok && y < h; y++)
        for (int x = 0; ok && x < w; x++)
            ok = img.pixels[((size_t)y * w + x) * 3 + 1] == ((x + y) & 3) * 85;
    CHECK_MSG(ok, "2-bit grey, interlaced");
    sl_image_free(&img);
    free(png);
    free(g16);
    free(g2);
    free(rgba);
    free(rgb);
}

/* ---- hostile input ----------------------------------------------------------- */

static uint8_t *read_pil(const char *rel, size_t *n) {
    char p[8192];
    snprintf(p, sizeof p, "%s/%s", g_pil, rel);
    return sl_test_read(p, n);
}

/* Decodes every prefix shorter than `ok_from` (must fail with `want`) and
 * the ones from ok_from on (must succeed), `step` bytes apart. */
static void truncations(const char *what, const uint8_t *d, size_t n, size_t ok_from,
                        size_t step, sl_status want) {
    int bad = 0, checked = 0;
    for (size_t k = 0; k < n; k += (k < 64 ? 1 : step)) {
        sl_image img = {.width = 7};
        sl_status st = sl_image_decode(d, k, NULL, &img);
        int good = k < ok_from ? st == want && !img.pixels && !img.width
                               : st == SL_OK && img.pixels;
        if (!good && bad++ < 3)
            fprintf(stderr, "%s cut at %zu of %zu: %s (%s)\n", what, k, n,
                    sl_status_str(st), sl_last_error());
        sl_image_free(&img);
        checked++;
    }
    CHECK_MSG(bad == 0, "%s: %d of %d truncations misbehaved", what, bad, checked);
}

static void test_truncation(void) {
    size_t n;
    /* cat.bmp: 512x341x24 bit, pixels at the header's offset, 1536-byte
     * rows with no padding; the file has trailing bytes after them. */
    uint8_t *bmp = sl_test_read(sl_test_asset("samples/cat.bmp"), &n);
    uint32_t off = (uint32_t)bmp[10] | (uint32_t)bmp[11] << 8 | (uint32_t)bmp[12] << 16;
    truncations("cat.bmp", bmp, n, off + 512 * 3 * 341, 1, SL_ERR_CORRUPT);
    free(bmp);

    uint8_t *jpg = read_pil("variants/small.jpg", &n);
    truncations("small.jpg", jpg, n, n, 1, SL_ERR_CORRUPT);
    free(jpg);
    jpg = read_pil("variants/prog.jpg", &n);
    truncations("prog.jpg", jpg, n, n, 7, SL_ERR_CORRUPT);
    free(jpg);
    jpg = sl_test_read(sl_test_asset("coco-train80/images/000000084284.jpg"), &n);
    truncations("000000084284.jpg", jpg, n, n, n / 150, SL_ERR_CORRUPT);
    free(jpg);

    /* PNG: the image is complete once the last IDAT and its CRC are in;
     * IEND itself is not needed (Pillow does not need it either). */
    uint8_t *png = read_pil("variants/small.png", &n);
    size_t iend = n - 12;
    CHECK(!memcmp(png + iend + 4, "IEND", 4));
    truncations("small.png", png, n, iend, 1, SL_ERR_CORRUPT);
    free(png);
    png = read_pil("variants/p4.png", &n);
    truncations("p4.png", png, n, n - 12, 3, SL_ERR_CORRUPT);
    free(png);
}

static void test_limits(void) {
    size_t n;
    sl_image img;
    sl_decode_opts o;
    sl_decode_opts_init(&o);

    /* JPEG: patch SOF0's height and width. */
    uint8_t *jpg = read_pil("variants/small.jpg", &n);
    size_t sof = 2;
    while (sof + 9 < n && !(jpg[sof] == 0xFF && jpg[sof + 1] == 0xC0)) sof++;
    CHECK(sof + 9 < n);
    uint8_t *t = malloc(n);
    memcpy(t, jpg, n);
    put16be(t + sof + 5, 60000), put16be(t + sof + 7, 60000);
    CHECK(sl_image_decode(t, n, NULL, &img) == SL_ERR_LIMIT);
    CHECK(strstr(sl_last_error(), "60000x60000") != NULL);
    put16be(t + sof + 5, 30), put16be(t + sof + 7, 40); /* back to 40x30 */
    o.max_pixels = 1199;
    CHECK(sl_image_decode(t, n, &o, &img) == SL_ERR_LIMIT);
    o.max_pixels = 1200;
    CHECK(sl_image_decode(t, n, &o, &img) == SL_OK);
    sl_image_free(&img);
    put16be(t + sof + 5, 0); /* height 0 (DNL) */
    CHECK(sl_image_decode(t, n, NULL, &img) == SL_ERR_CORRUPT);
    free(t);
    free(jpg);

    /* PNG: IHDR size with a recomputed CRC, so only the size is wrong. */
    uint8_t *png = read_pil("variants/small.png", &n);
    t = malloc(n);
    memcpy(t, png, n);
    static const uint32_t sizes[][3] = {{60000, 60000, SL_ERR_LIMIT}, {70000, 10, SL_ERR_LIMIT},
                                        {0, 10, SL_ERR_CORRUPT}, {0x80000000u, 1, SL_ERR_CORRUPT}};
    for (size_t i = 0; i < SL_ARRAY_LEN(sizes); i++) {
        put32be(t + 16, sizes[i][0]), put32be(t + 20, sizes[i][1]);
        put32be(t + 29, crc32_png(t + 12, 17));
        sl_status st = sl_image_decode(t, n, NULL, &img);
        CHECK_MSG(st == (sl_status)sizes[i][2], "png %ux%u: %s", sizes[i][0], sizes[i][1],
                  sl_status_str(st));
    }
    /* Bad CRCs: IHDR's and the IDAT's; and damaged compressed data. */
    memcpy(t, png, n);
    t[29] ^= 1;
    CHECK(sl_image_decode(t, n, NULL, &img) == SL_ERR_CORRUPT);
    CHECK(strstr(sl_last_error(), "CRC") != NULL);
    memcpy(t, png, n);
    t[n - 13] ^= 1; /* last byte of the IDAT CRC */
    CHECK(sl_image_decode(t, n, NULL, &img) == SL_ERR_CORRUPT);
    memcpy(t, png, n);
    t[41 + 20] ^= 0x55; /* inside the IDAT data, with its CRC fixed */
    uint32_t idat_len = (uint32_t)t[33] << 24 | (uint32_t)t[34] << 16 | (uint32_t)t[35] << 8 | t[36];
    CHECK(!memcmp(t + 37, "IDAT", 4));
    put32be(t + 41 + idat_len, crc32_png(t + 37, 4 + idat_len));
    CHECK(sl_image_decode(t, n, NULL, &img) == SL_ERR_CORRUPT);
    o.max_pixels = 40 * 30 - 1;
    CHECK(sl_image_decode(png, n, &o, &img) == SL_ERR_LIMIT);
    free(t);
    free(png);

    /* BMP: claimed size, offsets, header sizes, compression. */
    uint8_t *bmp = read_pil("variants/p8.bmp", &n);
    t = malloc(n);
    memcpy(t, bmp, n);
    put32le(t + 18, 60000), put32le(t + 22, 60000);
    CHECK(sl_image_decode(t, n, NULL, &img) == SL_ERR_LIMIT);
    put32le(t + 18, 70000), put32le(t + 22, 1);
    CHECK(sl_image_decode(t, n, NULL, &img) == SL_ERR_LIMIT);
    put32le(t + 18, 131), put32le(t + 22, 0x80000000u); /* height INT32_MIN */
    CHECK(sl_image_decode(t, n, NULL, &img) == SL_ERR_LIMIT);
    put32le(t + 18, 0xFFFFFFFFu), put32le(t + 22, 97); /* width -1 */
    CHECK(sl_image_decode(t, n, NULL, &img) == SL_ERR_CORRUPT);
    put32le(t + 18, 0), put32le(t + 22, 97);
    CHECK(sl_image_decode(t, n, NULL, &img) == SL_ERR_CORRUPT);
    static const uint32_t bad_offsets[] = {0, 13, 0xFFFFFFF0u, 0x7FFFFFFFu};
    for (size_t i = 0; i < SL_ARRAY_LEN(bad_offsets); i++) {
        memcpy(t, bmp, n);
        put32le(t + 10, bad_offsets[i]);
        CHECK(sl_image_decode(t, n, NULL, &img) == SL_ERR_CORRUPT);
    }
    memcpy(t, bmp, n);
    put32le(t + 10, (uint32_t)n - 100); /* rows would run past the end */
    CHECK(sl_image_decode(t, n, NULL, &img) == SL_ERR_CORRUPT);
    static const uint32_t bad_headers[] = {0, 11, 39, 41, 200, 0xFFFFFFFFu};
    for (size_t i = 0; i < SL_ARRAY_LEN(bad_headers); i++) {
        memcpy(t, bmp, n);
        put32le(t + 14, bad_headers[i]);
        sl_status st = sl_image_decode(t, n, NULL, &img);
        CHECK_MSG(st == SL_ERR_CORRUPT || st == SL_ERR_UNSUPPORTED, "header size %u: %s",
                  bad_headers[i], sl_status_str(st));
    }
    memcpy(t, bmp, n);
    put32le(t + 14, 64);
    CHECK(sl_image_decode(t, n, NULL, &img) == SL_ERR_UNSUPPORTED);
    memcpy(t, bmp, n);
    put32le(t + 30, 1); /* BI_RLE8 */
    CHECK(sl_image_decode(t, n, NULL, &img) == SL_ERR_UNSUPPORTED);
    CHECK(strstr(sl_last_error(), "RLE") != NULL);
    memcpy(t, bmp, n);
    put32le(t + 30, 4); /* BI_JPEG */
    CHECK(sl_image_decode(t, n, NULL, &img) == SL_ERR_UNSUPPORTED);
    memcpy(t, bmp, n);
    put16le(t + 28, 7); /* 7 bits per pixel */
    CHECK(sl_image_decode(t, n, NULL, &img) == SL_ERR_UNSUPPORTED);
    memcpy(t, bmp, n);
    put32le(t + 46, 0xFFFFFFFFu); /* colours used: clamped to 256 */
    CHECK(sl_image_decode(t, n, NULL, &img) == SL_OK);
    sl_image_free(&img);
    o.max_pixels = 131 * 97;
    CHECK(sl_image_decode(bmp, n, &o, &img) == SL_OK);
    sl_image_free(&img);
    o.max_pixels = 131 * 97 - 1;
    CHECK(sl_image_decode(bmp, n, &o, &img) == SL_ERR_LIMIT);
    free(t);
    free(bmp);
    /* A 32-bit bit-field BMP with a non-contiguous mask. */
    bmp = read_pil("variants/bgra32_v5.bmp", &n);
    put32le(bmp + 54, 0x00F0F000);
    CHECK(sl_image_decode(bmp, n, NULL, &img) == SL_ERR_UNSUPPORTED);
    free(bmp);
}

static void test_bad_arguments(void) {
    sl_image img = {.width = 3};
    uint8_t junk[64] = {1, 2, 3};
    CHECK(sl_image_decode(junk, 0, NULL, &img) == SL_ERR_CORRUPT && !img.width);
    CHECK(sl_image_decode(NULL, 0, NULL, &img) == SL_ERR_CORRUPT);
    CHECK(sl_image_decode(NULL, 10, NULL, &img) == SL_ERR_ARG);
    CHECK(sl_image_decode(junk, sizeof junk, NULL, NULL) == SL_ERR_ARG);
    CHECK(sl_image_decode(junk, sizeof junk, NULL, &img) == SL_ERR_UNSUPPORTED);
    CHECK(strstr(sl_last_error(), "unknown format") != NULL);
    static const uint8_t sig_jpeg[] = {0xFF, 0xD8}, sig_png[] = {0x89, 'P', 'N', 'G'};
    CHECK(sl_image_decode(sig_jpeg, 2, NULL, &img) == SL_ERR_CORRUPT);
    CHECK(sl_image_decode(sig_png, 4, NULL, &img) == SL_ERR_CORRUPT);
    CHECK(sl_image_decode("B", 1, NULL, &img) == SL_ERR_CORRUPT);
    static const uint8_t soi_only[] = {0xFF, 0xD8, 0xFF, 0xD9};
    CHECK(sl_image_decode(soi_only, sizeof soi_only, NULL, &img) == SL_ERR_CORRUPT);

    char path[512];
    snprintf(path, sizeof path, "%s/empty.jpg", sl_test_tmpdir());
    FILE *f = fopen(path, "wb");
    fclose(f);
    CHECK(sl_image_load(path, NULL, &img) == SL_ERR_CORRUPT);
    CHECK(strstr(sl_last_error(), "empty.jpg") != NULL);
    snprintf(path, sizeof path, "%s/missing.png", sl_test_tmpdir());
    CHECK(sl_image_load(path, NULL, &img) == SL_ERR_IO);
    CHECK(sl_image_load(NULL, NULL, &img) == SL_ERR_ARG);
    CHECK(sl_image_load(sl_test_tmpdir(), NULL, &img) == SL_ERR_IO); /* a directory */

    sl_image_free(NULL);
    sl_image empty = {0};
    sl_image_free(&empty);
    sl_decode_opts_init(NULL);
    sl_decode_opts o;
    memset(&o, 0xAB, sizeof o);
    sl_decode_opts_init(&o);
    CHECK(o.min_width == 0 && o.min_height == 0 && o.apply_orientation &&
          o.max_pixels == SL_IMAGE_DEFAULT_MAX_PIXELS);
}

static int status_ok_shape(sl_status st, const sl_image *img) {
    if (!is_status(st)) return 0;
    if (st != SL_OK) return !img->pixels && !img->width && !img->height;
    return img->pixels && img->width >= 1 && img->height >= 1 &&
           img->width <= SL_IMAGE_MAX_SIDE && img->height <= SL_IMAGE_MAX_SIDE;
}

/* Random bytes, random bytes behind each signature, and bit flips of valid
 * files: nothing may crash, and results must be well-formed. */
static void test_random_and_mutations(void) {
    uint64_t rs = 12345;
    int bad = 0;
    static const uint8_t sigs[4][8] = {{0}, {0xFF, 0xD8, 0xFF}, {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'},
                                       {'B', 'M'}};
    static const size_t sig_len[4] = {0, 3, 8, 2};
    uint8_t buf[4096];
    for (int i = 0; i < 4000; i++) {
        size_t n = 1 + sl_test_rand(&rs) % sizeof buf;
        for (size_t k = 0; k < n; k++) buf[k] = (uint8_t)sl_test_rand(&rs);
        int s = i % 4;
        if (n >= sig_len[s]) memcpy(buf, sigs[s], sig_len[s]);
        sl_image img;
        sl_status st = sl_image_decode(buf, n, NULL, &img);
        bad += !status_ok_shape(st, &img);
        sl_image_free(&img);
    }
    CHECK_MSG(bad == 0, "%d random inputs gave malformed results", bad);

    static const char *files[] = {"variants/small.jpg", "variants/prog.jpg", "variants/small.png",
                                  "variants/p4.png",    "variants/p4.bmp",   "variants/rgb565_v4.bmp",
                                  "variants/rgb16.png", "orient/o6.jpg",     "variants/cmyk.jpg"};
    int decoded = 0, total = 0;
    bad = 0;
    for (size_t f = 0; f < SL_ARRAY_LEN(files); f++) {
        size_t n;
        uint8_t *orig = read_pil(files[f], &n), *m = malloc(n);
        for (int it = 0; it < 300; it++) {
            memcpy(m, orig, n);
            int flips = 1 + (int)(sl_test_rand(&rs) % 8);
            for (int k = 0; k < flips; k++) m[sl_test_rand(&rs) % n] ^= (uint8_t)(1 + sl_test_rand(&rs) % 255);
            sl_decode_opts o;
            sl_decode_opts_init(&o);
            o.max_pixels = 1 << 22;
            if (it & 1) o.min_width = o.min_height = 8;
            sl_image img;
            sl_status st = sl_image_decode(m, n, &o, &img);
            bad += !status_ok_shape(st, &img);
            decoded += st == SL_OK;
            total++;
            sl_image_free(&img);
        }
        free(m);
        free(orig);
    }
    CHECK_MSG(bad == 0, "%d mutated inputs gave malformed results", bad);
    printf("mutations: %d of %d damaged files still decoded, none crashed\n", decoded, total);
}

/* ---- resize against a double-precision reference ----------------------------- */

/* The triangle filter written from its definition: output sample i covers
 * source centres near (i + 0.5) * in / out, weight max(0, 1 - |d| / fs)
 * with fs = max(in / out, 1), normalised; computed in double. */
static void reference_weights(int in, int out, double *w /* (out, in) */) {
    double scale = (double)in / out, fs = scale > 1 ? scale : 1;
    for (int i = 0; i < out; i++) {
        double c = (i + 0.5) * scale, sum = 0;
        for (int x = 0; x < in; x++) {
            double v = 1.0 - fabs((x + 0.5 - c) / fs);
            w[(size_t)i * in + x] = v > 0 ? v : 0;
            sum += w[(size_t)i * in + x];
        }
        for (int x = 0; x < in; x++) w[(size_t)i * in + x] /= sum;
    }
}

static uint8_t round8(double a) {
    long v = lround(a);
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* Separable resize in double. round_between: round the horizontal pass to
 * 8 bits as Pillow's intermediate image does (then the only remaining
 * difference is Pillow's 22-bit fixed-point weights); otherwise round once
 * at the end (the ideal filter; the extra rounding makes up to 1 level). */
static void reference_resize(const sl_image *src, int ow, int oh, int round_between, uint8_t *dst) {
    int iw = (int)src->width, ih = (int)src->height;
    double *wx = malloc(sizeof *wx * (size_t)ow * iw), *wy = malloc(sizeof *wy * (size_t)oh * ih);
    double *rows = malloc(sizeof *rows * (size_t)ih * ow * 3);
    reference_weights(iw, ow, wx);
    reference_weights(ih, oh, wy);
    for (int y = 0; y < ih; y++)
        for (int i = 0; i < ow; i++)
            for (int c = 0; c < 3; c++) {
                double a = 0;
                for (int x = 0; x < iw; x++)
                    a += wx[(size_t)i * iw + x] * src->pixels[((size_t)y * iw + x) * 3 + c];
                rows[((size_t)y * ow + i) * 3 + c] = round_between ? round8(a) : a;
            }
    for (int j = 0; j < oh; j++)
        for (int i = 0; i < ow; i++)
            for (int c = 0; c < 3; c++) {
                double a = 0;
                for (int y = 0; y < ih; y++) a += wy[(size_t)j * ih + y] * rows[((size_t)y * ow + i) * 3 + c];
                dst[((size_t)j * ow + i) * 3 + c] = round8(a);
            }
    free(wx);
    free(wy);
    free(rows);
}

static void test_resize_reference(void) {
    uint64_t rs = 2024;
    int worst[2] = {0, 0};
    long long differ[2] = {0, 0}, total = 0;
    for (int it = 0; it < 60; it++) {
        sl_image src;
        uint32_t w = 1 + (uint32_t)(sl_test_rand(&rs) % 97), h = 1 + (uint32_t)(sl_test_rand(&rs) % 83);
        if (sl_image_alloc(&src, w, h)) continue;
        /* Half the images smooth, half noise (the hardest case). */
        for (size_t k = 0; k < (size_t)w * h * 3; k++)
            src.pixels[k] = (it & 1) ? (uint8_t)sl_test_rand(&rs)
                                     : (uint8_t)((k / 3 % w) * 7 + (k / 3 / w) * 3 + k % 3 * 50);
        uint32_t ow = 1 + (uint32_t)(sl_test_rand(&rs) % 131), oh = 1 + (uint32_t)(sl_test_rand(&rs) % 71);
        if (it % 5 == 0) ow = w; /* one axis only */
        if (it % 7 == 0) oh = h;
        sl_image got, other;
        CHECK(sl_image_resize(&src, ow, oh, &got) == SL_OK);
        /* Every kernel level this CPU has gives the same bytes. */
        for (int lv = SL_CPU_SCALAR; lv <= (int)sl_cpu(); lv++) {
            CHECK(sl_image_resize_level(&src, ow, oh, (sl_cpu_level)lv, &other) == SL_OK);
            CHECK_MSG(same_image(&got, &other), "resize at level %s differs",
                      sl_cpu_name((sl_cpu_level)lv));
            sl_image_free(&other);
        }
        uint8_t *want = malloc((size_t)ow * oh * 3);
        for (int rb = 0; rb < 2; rb++) {
            reference_resize(&src, (int)ow, (int)oh, rb, want);
            for (size_t k = 0; k < (size_t)ow * oh * 3; k++) {
                int d = abs((int)got.pixels[k] - want[k]);
                if (d > worst[rb]) worst[rb] = d;
                differ[rb] += d != 0;
            }
        }
        total += (long long)ow * oh * 3;
        free(want);
        sl_image_free(&got);
        sl_image_free(&src);
    }
    printf("resize vs double reference: rounded once max |diff| %d (%lld of %lld differ); "
           "rounded between passes max |diff| %d (%lld differ)\n",
           worst[0], differ[0], total, worst[1], differ[1]);
    CHECK_MSG(worst[0] <= 1, "resize is %d levels from the double reference", worst[0]);
    /* With the same intermediate rounding only exact ties (frequent on the
     * integer gradients) can be decided differently by the fixed-point
     * weights; bit-exactness itself is checked against Pillow above. */
    CHECK_MSG(worst[1] <= 1, "resize vs two-pass double reference: max %d", worst[1]);

    /* Same size: a copy. */
    sl_image src, got;
    CHECK(sl_image_alloc(&src, 19, 11) == SL_OK);
    for (size_t k = 0; k < 19 * 11 * 3; k++) src.pixels[k] = (uint8_t)sl_test_rand(&rs);
    CHECK(sl_image_resize(&src, 19, 11, &got) == SL_OK);
    CHECK(same_image(&src, &got) && got.pixels != src.pixels);
    sl_image_free(&got);
    /* A constant image stays constant at any size (weights sum to one). */
    memset(src.pixels, 200, 19 * 11 * 3);
    CHECK(sl_image_resize(&src, 1000, 3, &got) == SL_OK);
    int flat = 1;
    for (size_t k = 0; k < 1000 * 3 * 3; k++) flat &= got.pixels[k] == 200;
    CHECK(flat);
    sl_image_free(&got);
    /* Arguments. */
    got.width = 5;
    CHECK(sl_image_resize(&src, 0, 5, &got) == SL_ERR_ARG && !got.pixels && !got.width);
    CHECK(sl_image_resize(&src, 5, 0, &got) == SL_ERR_ARG);
    CHECK(sl_image_resize(&src, 70000, 5, &got) == SL_ERR_LIMIT);
    CHECK(sl_image_resize(&src, 20000, 20000, &got) == SL_ERR_LIMIT);
    CHECK(sl_image_resize(NULL, 5, 5, &got) == SL_ERR_ARG);
    CHECK(sl_image_resize(&src, 5, 5, NULL) == SL_ERR_ARG);
    sl_image empty = {0};
    CHECK(sl_image_resize(&empty, 5, 5, &got) == SL_ERR_ARG);
    sl_image_free(&src);
}

static void test_center_crop(void) {
    static const uint32_t dims[][4] = {{5, 3, 1, 0}, {3, 5, 0, 1}, {4, 4, 0, 0}, {6, 3, 1, 0},
                                       {3, 6, 0, 1}, {1, 9, 0, 4}, {8, 1, 3, 0}};
    for (size_t i = 0; i < SL_ARRAY_LEN(dims); i++) {
        uint32_t w = dims[i][0], h = dims[i][1], left = dims[i][2], top = dims[i][3];
        sl_image src, out;
        CHECK(sl_image_alloc(&src, w, h) == SL_OK);
        for (uint32_t k = 0; k < w * h * 3; k++) src.pixels[k] = (uint8_t)k;
        CHECK(sl_image_center_crop(&src, &out) == SL_OK);
        uint32_t s = w < h ? w : h;
        int ok = out.width == s && out.height == s;
        for (uint32_t y = 0; ok && y < s; y++)
            for (uint32_t x = 0; ok && x < s; x++)
                ok = !memcmp(out.pixels + ((size_t)y * s + x) * 3,
                             src.pixels + ((size_t)(y + top) * w + x + left) * 3, 3);
        CHECK_MSG(ok, "crop of %ux%u", w, h);
        sl_image_free(&out);
        sl_image_free(&src);
    }
    /* In place: out == src replaces the image (ASan checks nothing leaks). */
    sl_image img, ref;
    CHECK(sl_image_alloc(&img, 7, 4) == SL_OK);
    for (uint32_t k = 0; k < 7 * 4 * 3; k++) img.pixels[k] = (uint8_t)(k * 5);
    CHECK(sl_image_center_crop(&img, &ref) == SL_OK);
    CHECK(sl_image_center_crop(&img, &img) == SL_OK);
    CHECK(same_image(&img, &ref));
    sl_image_free(&ref);
    CHECK(sl_image_resize(&img, 9, 2, &ref) == SL_OK);
    CHECK(sl_image_resize(&img, 9, 2, &img) == SL_OK);
    CHECK(same_image(&img, &ref));
    CHECK(sl_image_resize(&img, 0, 2, &img) == SL_ERR_ARG && img.width == 9 && img.pixels);
    sl_image_free(&ref);
    sl_image_free(&img);

    sl_image out = {.width = 1}, empty = {0};
    CHECK(sl_image_center_crop(&empty, &out) == SL_ERR_ARG && !out.width);
    CHECK(sl_image_center_crop(NULL, &out) == SL_ERR_ARG);
}

/* ---- timing (figures for the report; not asserted) ---------------------------- */

static void test_timing(void) {
    size_t n;
    uint8_t *jpg = sl_test_read(sl_test_asset("coco-train80/images/000000054718.jpg"), &n);
    sl_decode_opts o;
    sl_decode_opts_init(&o);
    sl_image img;
    const int reps = 20;
    double t_full = 1e9, t_scaled = 1e9, t_resize = 1e9, t_resize_full = 1e9;
    for (int r = 0; r < reps; r++) {
        o.min_width = o.min_height = 0;
        double t0 = sl_now();
        CHECK(sl_image_decode(jpg, n, &o, &img) == SL_OK);
        double t1 = sl_now();
        sl_image small;
        CHECK(sl_image_resize(&img, 224, 224, &small) == SL_OK);
        double t2 = sl_now();
        t_full = fmin(t_full, t1 - t0);
        t_resize_full = fmin(t_resize_full, t2 - t1);
        sl_image_free(&small);
        sl_image_free(&img);
        o.min_width = o.min_height = 224;
        t0 = sl_now();
        CHECK(sl_image_decode(jpg, n, &o, &img) == SL_OK);
        t1 = sl_now();
        CHECK(sl_image_resize(&img, 224, 224, &small) == SL_OK);
        t2 = sl_now();
        t_scaled = fmin(t_scaled, t1 - t0);
        t_resize = fmin(t_resize, t2 - t1);
        sl_image_free(&small);
        sl_image_free(&img);
    }
    printf("timing (best of %d): decode 640x480 full %.2f ms, DCT-scaled to 320x240 %.2f ms; "
           "resize 320x240->224x224 %.3f ms, 640x480->224x224 %.3f ms\n",
           reps, t_full * 1e3, t_scaled * 1e3, t_resize * 1e3, t_resize_full * 1e3);
    free(jpg);
}

int main(void) {
    /* The assets directory, from the path of one known asset. */
    const char *cat = sl_test_asset("samples/cat.bmp");
    snprintf(g_assets, sizeof g_assets, "%.*s", (int)(strlen(cat) - strlen("/samples/cat.bmp")), cat);
    ensure_pil_refs();

    test_samples();
    test_coco_sizes();
    test_pil_decode_and_resize();
    test_pil_variants();
    test_pil_orientation();
    test_orientation_generated();
    test_exif_parser();
    test_dct_scaling();
    test_png_generated();
    test_bad_arguments();
    test_limits();
    test_truncation();
    test_random_and_mutations();
    test_resize_reference();
    test_center_crop();
    test_timing();
    return sl_test_summary();
}
