/* COCO captions parsing with cJSON (Debian libcjson). */
#include "captions.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

void sl_captions_free(sl_captions *c) {
    if (!c) return;
    for (size_t i = 0; i < c->n_images; i++) {
        free(c->images[i].file_name);
        free(c->images[i].flickr_url);
        free(c->images[i].coco_url);
    }
    for (size_t i = 0; i < c->n_captions; i++) free(c->captions[i]);
    free(c->images);
    free(c->captions);
    free(c->caption_img);
    memset(c, 0, sizeof *c);
}

static int get_id(const cJSON *obj, const char *key, int64_t *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v)) return 0;
    double d = v->valuedouble;
    if (d != d || d < -9.0e15 || d > 9.0e15 || d != (double)(int64_t)d) return 0;
    *out = (int64_t)d;
    return 1;
}

static char *dup_str(const cJSON *obj, const char *key, int required, int *ok) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) {
        if (required) *ok = 0;
        return NULL;
    }
    if (!cJSON_IsString(v) || !v->valuestring) {
        *ok = 0;
        return NULL;
    }
    char *s = strdup(v->valuestring);
    if (!s) *ok = 0;
    return s;
}

static int cmp_id(const void *a, const void *b) {
    int64_t x = ((const int64_t *)a)[0], y = ((const int64_t *)b)[0];
    return (x > y) - (x < y);
}

/* Image index of an id, by binary search over (id, index) pairs. */
static long find_image(const int64_t *pairs, size_t n, int64_t id) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (pairs[2 * mid] < id) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && pairs[2 * lo] == id ? (long)pairs[2 * lo + 1] : -1;
}

sl_status sl_captions_parse(const char *json, size_t len, sl_captions *out) {
    memset(out, 0, sizeof *out);
    if (!json) return sl_fail(SL_ERR_ARG, "captions: NULL text");
    if (len > SL_CAPTIONS_MAX_BYTES) return sl_fail(SL_ERR_LIMIT, "captions: file above 512 MiB");
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root) return sl_fail(SL_ERR_CORRUPT, "captions: not valid JSON (near byte %zu)",
                              (size_t)(cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() - json : 0));
    sl_status st = SL_OK;
    int64_t *pairs = NULL;
    const cJSON *images = cJSON_GetObjectItemCaseSensitive(root, "images");
    const cJSON *anns = cJSON_GetObjectItemCaseSensitive(root, "annotations");
    if (!cJSON_IsArray(images) || !cJSON_IsArray(anns)) {
        st = sl_fail(SL_ERR_CORRUPT, "captions: expected arrays \"images\" and \"annotations\" (COCO captions format)");
        goto done;
    }
    size_t ni = (size_t)cJSON_GetArraySize(images), na = (size_t)cJSON_GetArraySize(anns);
    out->images = calloc(ni ? ni : 1, sizeof *out->images);
    out->captions = calloc(na ? na : 1, sizeof *out->captions);
    out->caption_img = calloc(na ? na : 1, sizeof *out->caption_img);
    pairs = sl_malloc_array(ni ? 2 * ni : 1, sizeof *pairs);
    if (!out->images || !out->captions || !out->caption_img || !pairs) {
        st = sl_fail(SL_ERR_NOMEM, "captions: out of memory");
        goto done;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, images) {
        size_t i = out->n_images;
        sl_caption_image *im = &out->images[i];
        int ok = cJSON_IsObject(it) && get_id(it, "id", &im->id);
        im->file_name = dup_str(it, "file_name", 1, &ok);
        im->flickr_url = dup_str(it, "flickr_url", 0, &ok);
        im->coco_url = dup_str(it, "coco_url", 0, &ok);
        out->n_images++;
        if (!ok) {
            st = sl_fail(SL_ERR_CORRUPT, "captions: images[%zu] needs a numeric \"id\" and a string \"file_name\"", i);
            goto done;
        }
        const char *f = im->file_name;
        if (!*f || strchr(f, '/') || strchr(f, '\\') || !strcmp(f, ".") || !strcmp(f, "..")) {
            st = sl_fail(SL_ERR_CORRUPT, "captions: images[%zu] file_name \"%.100s\" is not a plain file name", i, f);
            goto done;
        }
        pairs[2 * i] = im->id;
        pairs[2 * i + 1] = (int64_t)i;
    }
    qsort(pairs, out->n_images, 2 * sizeof *pairs, cmp_id);
    for (size_t i = 1; i < out->n_images; i++)
        if (pairs[2 * i] == pairs[2 * i - 2]) {
            st = sl_fail(SL_ERR_CORRUPT, "captions: image id %lld appears twice", (long long)pairs[2 * i]);
            goto done;
        }
    cJSON_ArrayForEach(it, anns) {
        size_t a = out->n_captions;
        int64_t image_id;
        const cJSON *cap = cJSON_IsObject(it) ? cJSON_GetObjectItemCaseSensitive(it, "caption") : NULL;
        if (!cJSON_IsObject(it) || !get_id(it, "image_id", &image_id) || !cJSON_IsString(cap) || !cap->valuestring) {
            st = sl_fail(SL_ERR_CORRUPT, "captions: annotations[%zu] needs a numeric \"image_id\" and a string \"caption\"", a);
            goto done;
        }
        long img = find_image(pairs, out->n_images, image_id);
        if (img < 0) {
            st = sl_fail(SL_ERR_CORRUPT, "captions: annotations[%zu] refers to unknown image id %lld", a,
                         (long long)image_id);
            goto done;
        }
        if (!(out->captions[a] = strdup(cap->valuestring))) {
            st = sl_fail(SL_ERR_NOMEM, "captions: out of memory");
            goto done;
        }
        out->caption_img[a] = (uint32_t)img;
        out->n_captions++;
    }
done:
    free(pairs);
    cJSON_Delete(root);
    if (st) sl_captions_free(out);
    return st;
}

sl_status sl_captions_load(const char *path, sl_captions *out) {
    memset(out, 0, sizeof *out);
    uint8_t *data;
    size_t size;
    sl_status st = sl_file_read(path, SL_CAPTIONS_MAX_BYTES, &data, &size);
    if (st) return st;
    st = sl_captions_parse((const char *)data, size, out);
    free(data);
    return st ? sl_fail_prefix(st, path) : SL_OK;
}
