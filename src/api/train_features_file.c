/* The feature cache file (train_features.h). Sections, all little-endian:
 *   INFO  64 bytes: u64 n_images, u64 n_captions, u32 pooled_dim,
 *         u32 word_dim, u32 z_dim, u32 model id length, 32-byte key
 *   MODL  the model id (UTF-8, no NUL)
 *   IMGF  f32 (n_images, pooled_dim + z_dim)
 *   TXTF  f32 (n_captions, word_dim + z_dim)
 *   CIMG  u32 (n_captions): each caption's image, < n_images
 *   CKNW  u8 (n_captions): 1 when the caption had a known word, else 0 */
#include "api/train_features.h"
#include "core/sections.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAGIC "SLFEATUR"
#define VERSION 1
#define MAX_DIM 65536u

enum { S_INFO, S_MODL, S_IMGF, S_TXTF, S_CIMG, S_CKNW, S_COUNT };
static const sl_section_kind KINDS[S_COUNT] = {{"INFO", "info"},          {"MODL", "model id"},
                                               {"IMGF", "image features"}, {"TXTF", "text features"},
                                               {"CIMG", "caption images"}, {"CKNW", "known captions"}};
static const sl_sections_spec SPEC = {"feature cache", MAGIC, VERSION, KINDS, S_COUNT};

static void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> 8 * i);
}
static void put64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> 8 * i);
}

sl_status sl_features_save(const sl_feature_set *f, const char *model_id, const uint8_t key[32], const char *path) {
    if (!f || !model_id || !key || !path) return sl_fail(SL_ERR_ARG, "feature cache: NULL argument");
    const size_t id_len = strlen(model_id);
    uint8_t info[64] = {0};
    put64(info, f->n_images);
    put64(info + 8, f->n_captions);
    put32(info + 16, (uint32_t)f->pooled_dim);
    put32(info + 20, (uint32_t)f->word_dim);
    put32(info + 24, (uint32_t)f->z_dim);
    put32(info + 28, (uint32_t)id_len);
    memcpy(info + 32, key, 32);
    /* Little-endian hosts only write the float and u32 arrays as they lie
     * in memory (x86-64 and arm64, every target of this project). */
    sl_section_in s[S_COUNT] = {
        {"INFO", info, sizeof info, 0},
        {"MODL", model_id, id_len, 0},
        {"IMGF", f->image, (uint64_t)f->n_images * f->image_dim * sizeof(float), 0},
        {"TXTF", f->text, (uint64_t)f->n_captions * f->text_dim * sizeof(float), 0},
        {"CIMG", f->caption_image, (uint64_t)f->n_captions * sizeof(uint32_t), 0},
        {"CKNW", f->caption_known, (uint64_t)f->n_captions, 0},
    };
    uint8_t *data = NULL;
    size_t size = 0;
    sl_status st = sl_sections_write("feature cache", MAGIC, VERSION, s, S_COUNT, &data, &size);
    if (!st) st = sl_file_write_atomic(path, data, size);
    free(data);
    return st ? sl_fail_prefix(st, path) : SL_OK;
}

/* Copies section k into a new buffer of exactly `want` bytes. */
static sl_status take(const sl_section *sec, int k, uint64_t want, void **out) {
    if (sec[k].size != want)
        return sl_section_fail(&SPEC, (size_t)k, SL_ERR_CORRUPT, "size %llu, expected %llu",
                               (unsigned long long)sec[k].size, (unsigned long long)want);
    *out = k == S_IMGF || k == S_TXTF ? sl_malloc_aligned(want ? want : 64) : malloc(want ? want : 1);
    if (!*out) return sl_fail(SL_ERR_NOMEM, "feature cache: out of memory");
    if (want) memcpy(*out, sec[k].data, want);
    return SL_OK;
}

static sl_status parse(const uint8_t *b, size_t size, const char *model_id, const uint8_t key[32],
                       sl_feature_set *f) {
    sl_section sec[S_COUNT];
    sl_status st = sl_sections_parse(&SPEC, b, size, 1, NULL, sec);
    if (st) return st;
    for (int k = 0; k < S_COUNT; k++)
        if (!sec[k].present) return sl_section_fail(&SPEC, (size_t)k, SL_ERR_CORRUPT, "missing");
    if (sec[S_INFO].size != 64) return sl_section_fail(&SPEC, S_INFO, SL_ERR_CORRUPT, "size is not 64");
    const uint8_t *info = sec[S_INFO].data;
    const uint64_t n_img = sl_get_u64(info), n_cap = sl_get_u64(info + 8);
    const uint32_t pd = sl_get_u32(info + 16), wd = sl_get_u32(info + 20), zd = sl_get_u32(info + 24);
    const uint32_t id_len = sl_get_u32(info + 28);
    if (!pd || !wd || !zd || pd > MAX_DIM || wd > MAX_DIM || zd > MAX_DIM)
        return sl_section_fail(&SPEC, S_INFO, SL_ERR_CORRUPT, "dimensions %u, %u, %u", pd, wd, zd);
    /* Every array's size is checked against the file's own length below;
     * bounding the counts by it first keeps the products from overflowing. */
    if (n_img > size || n_cap > size) return sl_section_fail(&SPEC, S_INFO, SL_ERR_CORRUPT, "counts beyond the file");
    if (id_len != sec[S_MODL].size)
        return sl_section_fail(&SPEC, S_MODL, SL_ERR_CORRUPT, "size %llu, INFO says %u",
                               (unsigned long long)sec[S_MODL].size, id_len);
    if (strlen(model_id) != id_len || memcmp(sec[S_MODL].data, model_id, id_len) != 0)
        return sl_fail(SL_ERR_STATE, "feature cache: made with another model");
    if (memcmp(info + 32, key, 32) != 0)
        return sl_fail(SL_ERR_STATE, "feature cache: made from other captions or images");
    f->n_images = (size_t)n_img;
    f->n_captions = (size_t)n_cap;
    f->pooled_dim = pd;
    f->word_dim = wd;
    f->z_dim = zd;
    f->image_dim = (size_t)pd + zd;
    f->text_dim = (size_t)wd + zd;
    st = take(sec, S_IMGF, n_img * f->image_dim * sizeof(float), (void **)&f->image);
    if (!st) st = take(sec, S_TXTF, n_cap * f->text_dim * sizeof(float), (void **)&f->text);
    if (!st) st = take(sec, S_CIMG, n_cap * sizeof(uint32_t), (void **)&f->caption_image);
    if (!st) st = take(sec, S_CKNW, n_cap, (void **)&f->caption_known);
    for (size_t a = 0; !st && a < f->n_captions; a++) {
        if (f->caption_image[a] >= f->n_images)
            st = sl_section_fail(&SPEC, S_CIMG, SL_ERR_CORRUPT, "caption %zu: image %u of %zu", a,
                                 f->caption_image[a], f->n_images);
        else if (f->caption_known[a] > 1)
            st = sl_section_fail(&SPEC, S_CKNW, SL_ERR_CORRUPT, "caption %zu: value %u", a, f->caption_known[a]);
        else
            f->n_unknown += !f->caption_known[a];
    }
    return st;
}

sl_status sl_features_load(const char *path, const char *model_id, const uint8_t key[32], sl_feature_set *out) {
    if (!out) return sl_fail(SL_ERR_ARG, "feature cache: NULL argument");
    memset(out, 0, sizeof *out);
    if (!path || !model_id || !key) return sl_fail(SL_ERR_ARG, "feature cache: NULL argument");
    struct stat sb;
    if (stat(path, &sb) != 0 && errno == ENOENT) return sl_fail(SL_ERR_NOT_FOUND, "feature cache %s: no such file", path);
    sl_mmap map;
    sl_status st = sl_mmap_open(path, &map);
    if (st) return st;
    st = parse(map.data, map.size, model_id, key, out);
    sl_mmap_close(&map);
    if (st) sl_feature_set_free(out);
    return st ? sl_fail_prefix(st, path) : SL_OK;
}
