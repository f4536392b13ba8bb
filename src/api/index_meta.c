/* Per-file metadata from a COCO captions file: an indexed file whose name
 * equals an image's file_name gets that image's captions and URLs as a JSON
 * object (built with cJSON, so every string is escaped correctly). */
#include "api/index_internal.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sl_index_meta {
    sl_captions c;
    /* images sorted by file_name (ties: file order), for binary search */
    struct name_ref {
        const char *name; /* borrowed from c */
        uint32_t image;
    } *by_name;          /* (n_images) */
    /* captions of image i: cap_ids[cap_first[i] .. cap_first[i + 1]) in
     * file order */
    size_t *cap_first;   /* (n_images + 1) */
    uint32_t *cap_ids;   /* (n_captions) */
};

void sl_index_meta_free(sl_index_meta *m) {
    if (!m) return;
    sl_captions_free(&m->c);
    free(m->by_name);
    free(m->cap_first);
    free(m->cap_ids);
    free(m);
}

/* qsort is not stable: the image index breaks ties so the first image of
 * a name wins. */
static int cmp_name(const void *a, const void *b) {
    const struct name_ref *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->image > y->image) - (x->image < y->image);
}

sl_status sl_index_meta_load(const char *path, sl_index_meta **out) {
    *out = NULL;
    sl_index_meta *m = calloc(1, sizeof *m);
    if (!m) return sl_fail(SL_ERR_NOMEM, "captions %s", path);
    sl_status st = sl_captions_load(path, &m->c);
    if (st != SL_OK) {
        free(m);
        return st;
    }
    size_t ni = m->c.n_images, nc = m->c.n_captions;
    if (ni > UINT32_MAX || nc > UINT32_MAX) {
        sl_index_meta_free(m);
        return sl_fail(SL_ERR_LIMIT, "captions %s: too many entries", path);
    }
    m->by_name = sl_malloc_array(ni ? ni : 1, sizeof *m->by_name);
    m->cap_first = sl_calloc_array(ni + 1, sizeof *m->cap_first);
    m->cap_ids = sl_malloc_array(nc ? nc : 1, sizeof *m->cap_ids);
    if (!m->by_name || !m->cap_first || !m->cap_ids) {
        sl_index_meta_free(m);
        return sl_fail(SL_ERR_NOMEM, "captions %s", path);
    }
    for (size_t i = 0; i < ni; i++) m->by_name[i] = (struct name_ref){m->c.images[i].file_name, (uint32_t)i};
    if (ni > 1) qsort(m->by_name, ni, sizeof *m->by_name, cmp_name);
    /* counting sort of the captions by image keeps file order within one */
    for (size_t k = 0; k < nc; k++) m->cap_first[m->c.caption_img[k] + 1]++;
    for (size_t i = 0; i < ni; i++) m->cap_first[i + 1] += m->cap_first[i];
    size_t *fill = sl_malloc_array(ni ? ni : 1, sizeof *fill);
    if (!fill) {
        sl_index_meta_free(m);
        return sl_fail(SL_ERR_NOMEM, "captions %s", path);
    }
    if (ni) memcpy(fill, m->cap_first, ni * sizeof *fill);
    for (size_t k = 0; k < nc; k++) m->cap_ids[fill[m->c.caption_img[k]]++] = (uint32_t)k;
    free(fill);
    *out = m;
    return SL_OK;
}

/* Image index named `name`, or -1. */
static long find_name(const sl_index_meta *m, const char *name) {
    size_t lo = 0, hi = m->c.n_images;
    while (lo < hi) { /* first entry >= name */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(m->by_name[mid].name, name) < 0) lo = mid + 1;
        else hi = mid;
    }
    if (lo < m->c.n_images && strcmp(m->by_name[lo].name, name) == 0) return (long)m->by_name[lo].image;
    return -1;
}

sl_status sl_index_meta_json(const sl_index_meta *m, const char *path, char **json) {
    *json = NULL;
    const char *slash = strrchr(path, '/');
    long img = find_name(m, slash ? slash + 1 : path);
    if (img < 0) return SL_OK;
    const sl_caption_image *im = &m->c.images[img];
    cJSON *obj = cJSON_CreateObject();
    cJSON *caps = obj ? cJSON_AddArrayToObject(obj, "captions") : NULL;
    bool ok = caps != NULL;
    for (size_t k = m->cap_first[img]; ok && k < m->cap_first[img + 1]; k++) {
        cJSON *s = cJSON_CreateString(m->c.captions[m->cap_ids[k]]);
        ok = s && cJSON_AddItemToArray(caps, s);
        if (!ok) cJSON_Delete(s);
    }
    if (ok && im->flickr_url) ok = cJSON_AddStringToObject(obj, "flickr_url", im->flickr_url) != NULL;
    if (ok && im->coco_url) ok = cJSON_AddStringToObject(obj, "coco_url", im->coco_url) != NULL;
    /* raw digits: a double would print large ids as 1e+15 */
    char id[32];
    snprintf(id, sizeof id, "%" PRId64, im->id);
    if (ok) ok = cJSON_AddRawToObject(obj, "coco_id", id) != NULL;
    char *text = ok ? cJSON_PrintUnformatted(obj) : NULL;
    cJSON_Delete(obj);
    if (!text) return sl_fail(SL_ERR_NOMEM, "index: metadata of %s", path);
    /* cJSON allocates with malloc unless hooks are installed; copy so the
     * caller can always free() */
    *json = strdup(text);
    cJSON_free(text);
    return *json ? SL_OK : sl_fail(SL_ERR_NOMEM, "index: metadata of %s", path);
}
