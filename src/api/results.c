/* Search results: the scan's hits joined with their items from the catalog
 * (or the app file),
 * packed into one allocation (header, hit array, then every string) so
 * sl_results_free is one free() and no hit can outlive its strings. */
#include "api/search_internal.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

/* A kept hit while its strings are gathered: offsets into the text buffer,
 * because the buffer moves as it grows. */
typedef struct pending {
    int64_t id;
    float similarity;
    int32_t width, height;
    size_t path_off;
    size_t meta_off; /* SIZE_MAX: no metadata */
} pending;

typedef struct text_buf {
    char *p;
    size_t n, cap;
} text_buf;

static int text_add(text_buf *b, const char *str, size_t *off) {
    size_t len = strlen(str) + 1, need;
    if (sl_add_overflow(b->n, len, &need)) return -1;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < need) {
            if (cap > SIZE_MAX / 2) return -1;
            cap *= 2;
        }
        char *p = realloc(b->p, cap);
        if (!p) return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, str, len);
    *off = b->n;
    b->n = need;
    return 0;
}

/* Cosine similarity of unit vectors lies in [-1, 1]; rounding in the dot
 * product can step just outside, which the public contract rules out. */
static float clamp_similarity(float x) { return x > 1.0f ? 1.0f : (x < -1.0f ? -1.0f : x); }

/* Gathers up to k items under the catalog mutex. */
static sl_status gather(sl_searcher *s, const sl_hit *hits, size_t n_hits, int64_t exclude_id, size_t k,
                        pending *keep, size_t *n_keep, text_buf *text) {
    sl_status st = SL_OK;
    size_t m = 0;
    pthread_mutex_lock(&s->cat_mu);
    for (size_t i = 0; i < n_hits && m < k && st == SL_OK; i++) {
        int64_t id = s->ids[hits[i].index];
        if (id == exclude_id) continue;
        sl_item item = {0};
        sl_status g = SL_OK;
        if (s->app) /* an app file never changes: every row has its item */
            sl_app_file_item(s->app, (size_t)hits[i].index, &item.path, &item.metadata, &item.width, &item.height);
        else
            g = sl_catalog_get_item(s->cat, id, &item);
        if (g == SL_ERR_NOT_FOUND) {
            /* Forgotten by an index run since the searcher was opened: the
             * file is most likely gone, so leaving it out is the answer. */
            sl_log(SL_LOG_DEBUG, "search: item %lld was removed from %s, skipped", (long long)id,
                   s->library_path);
            continue;
        }
        if (g) {
            st = g;
            break;
        }
        pending *p = &keep[m];
        p->id = id;
        p->similarity = clamp_similarity(hits[i].score);
        p->width = item.width;
        p->height = item.height;
        p->meta_off = SIZE_MAX;
        if (text_add(text, item.path ? item.path : "", &p->path_off) ||
            (item.metadata && text_add(text, item.metadata, &p->meta_off)))
            st = sl_fail(SL_ERR_NOMEM, "search: out of memory for results");
        else
            m++;
    }
    pthread_mutex_unlock(&s->cat_mu);
    *n_keep = m;
    return st;
}

sl_status sl_results_build(sl_searcher *s, const sl_hit *hits, size_t n_hits, int64_t exclude_id, size_t k,
                           sl_results **out) {
    *out = NULL;
    size_t cap = SL_MIN(k, n_hits);
    pending *keep = sl_malloc_array(cap ? cap : 1, sizeof *keep);
    if (!keep) return sl_fail(SL_ERR_NOMEM, "search: out of memory for results");
    text_buf text = {0};
    size_t m = 0;
    sl_status st = gather(s, hits, n_hits, exclude_id, k, keep, &m, &text);

    /* header | hits (aligned) | strings */
    size_t hits_off = (sizeof(sl_results) + alignof(sl_result) - 1) / alignof(sl_result) * alignof(sl_result);
    size_t hits_bytes = 0, text_off = 0, total = 0;
    if (st == SL_OK && (sl_mul_overflow(m, sizeof(sl_result), &hits_bytes) ||
                        sl_add_overflow(hits_off, hits_bytes, &text_off) ||
                        sl_add_overflow(text_off, text.n, &total)))
        st = sl_fail(SL_ERR_LIMIT, "search: results too large");
    unsigned char *block = st == SL_OK ? malloc(total) : NULL;
    if (st == SL_OK && !block) st = sl_fail(SL_ERR_NOMEM, "search: out of memory for results");
    if (st == SL_OK) {
        sl_results *r = (sl_results *)block;
        char *strings = (char *)block + text_off;
        if (text.n) memcpy(strings, text.p, text.n);
        r->n = m;
        r->hits = m ? (sl_result *)(block + hits_off) : NULL;
        for (size_t i = 0; i < m; i++) {
            r->hits[i] = (sl_result){
                .id = keep[i].id,
                .similarity = keep[i].similarity,
                .path = strings + keep[i].path_off,
                .metadata = keep[i].meta_off == SIZE_MAX ? NULL : strings + keep[i].meta_off,
                .width = keep[i].width,
                .height = keep[i].height,
            };
        }
        *out = r;
    }
    free(text.p);
    free(keep);
    return st;
}

void sl_results_free(sl_results *results) { free(results); }
