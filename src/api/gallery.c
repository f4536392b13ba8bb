/* Gallery pages: search results as one self-contained HTML5 file, a grid of
 * thumbnails per section with rank, similarity, file name and caption, in
 * the spirit of the grids drawn by TFLite Model Maker's Searcher tutorial.
 *
 * Everything that comes from outside (titles, paths, metadata) is hostile:
 * text is HTML-escaped after UTF-8 validation, links are percent-encoded,
 * and the page holds no script and loads nothing, so opening it from disk
 * runs nothing and contacts nobody. */
#include "api/base64.h"
#include "core/core.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GALLERY_DEFAULT_SIDE 256u
#define GALLERY_MAX_SIDE 4096u
#define GALLERY_DEFAULT_QUALITY 80

void sl_gallery_opts_init(sl_gallery_opts *opts) {
    if (!opts) return;
    memset(opts, 0, sizeof *opts);
    opts->thumb_side = GALLERY_DEFAULT_SIDE;
    opts->jpeg_quality = GALLERY_DEFAULT_QUALITY;
}

/* ---- a growing output buffer that remembers running out of memory ------- */

typedef struct html {
    char *p;
    size_t n, cap;
    int oom;
} html;

static void put_n(html *h, const char *s, size_t len) {
    if (h->oom) return;
    size_t need;
    if (sl_add_overflow(h->n, len, &need)) {
        h->oom = 1;
        return;
    }
    if (need > h->cap) {
        size_t cap = h->cap ? h->cap : 64 * 1024;
        while (cap < need) {
            if (cap > SIZE_MAX / 2) {
                h->oom = 1;
                return;
            }
            cap *= 2;
        }
        char *p = realloc(h->p, cap);
        if (!p) {
            h->oom = 1;
            return;
        }
        h->p = p;
        h->cap = cap;
    }
    memcpy(h->p + h->n, s, len);
    h->n = need;
}

static void put(html *h, const char *s) { put_n(h, s, strlen(s)); }

/* Only for short, fully trusted pieces (numbers). */
static void putf(html *h, const char *fmt, ...) SL_PRINTF(2, 3);
static void putf(html *h, const char *fmt, ...) {
    char buf[128];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (len > 0) put_n(h, buf, SL_MIN((size_t)len, sizeof buf - 1));
}

/* ---- escaping -------------------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * forms, no surrogates, at most U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *s) {
    if (s[0] < 0x80) return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) return (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        unsigned lo = s[0] == 0xE0 ? 0xA0 : 0x80, hi = s[0] == 0xED ? 0x9F : 0xBF;
        return s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 ? 3 : 0;
    }
    if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        unsigned lo = s[0] == 0xF0 ? 0x90 : 0x80, hi = s[0] == 0xF4 ? 0x8F : 0xBF;
        return s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 && (s[3] & 0xC0) == 0x80 ? 4 : 0;
    }
    return 0;
}

/* Text safe in element content and in double-quoted attributes. The page
 * says it is UTF-8, so a byte that is not (a path in Latin-1, a damaged
 * caption) becomes U+FFFD instead of an encoding error, and control
 * characters, which HTML forbids, become spaces. The NUL terminator stops
 * every continuation-byte test above, so a sequence cut short is caught. */
static void put_escaped(html *h, const char *text) {
    const unsigned char *s = (const unsigned char *)text;
    while (*s) {
        size_t run = 0;
        while (s[run] >= 0x20 && s[run] < 0x7F && !strchr("&<>\"'", s[run])) run++;
        if (run) {
            put_n(h, (const char *)s, run);
            s += run;
            continue;
        }
        switch (*s) {
        case '&': put(h, "&amp;"); break;
        case '<': put(h, "&lt;"); break;
        case '>': put(h, "&gt;"); break;
        case '"': put(h, "&quot;"); break;
        case '\'': put(h, "&#39;"); break;
        default:
            if (*s < 0x80) {
                put(h, " "); /* C0 control or DEL */
            } else {
                size_t len = utf8_seq(s);
                if (len) {
                    put_n(h, (const char *)s, len);
                    s += len;
                    continue;
                }
                put(h, "\xEF\xBF\xBD");
            }
        }
        s++;
    }
}

/* A file: URL for an absolute path (a relative one stays relative). Only
 * unreserved characters and '/' are kept, so the link can hold neither a
 * quote nor a markup character, and '#' or '?' in a file name stay part of
 * the name. */
static void put_file_url(html *h, const char *path) {
    static const char hex[] = "0123456789ABCDEF";
    if (path[0] == '/') put(h, "file://");
    for (const unsigned char *s = (const unsigned char *)path; *s; s++) {
        int keep = (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
                   strchr("-._~/", *s);
        if (keep) {
            put_n(h, (const char *)s, 1);
        } else {
            char esc[3] = {'%', hex[*s >> 4], hex[*s & 15]};
            put_n(h, esc, 3);
        }
    }
}

static const char *base_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* ---- cards ----------------------------------------------------------------- */

/* metadata "captions"[0], escaped, when the metadata has one. */
static void put_caption(html *h, const char *metadata) {
    if (!metadata) return;
    cJSON *root = cJSON_ParseWithLength(metadata, strlen(metadata));
    if (!root) return; /* not ours to judge: the page just shows no caption */
    const cJSON *caps = cJSON_GetObjectItemCaseSensitive(root, "captions");
    const cJSON *first = cJSON_IsArray(caps) ? cJSON_GetArrayItem(caps, 0) : NULL;
    if (cJSON_IsString(first) && first->valuestring && first->valuestring[0]) {
        put(h, "<p class=\"cap\">");
        put_escaped(h, first->valuestring);
        put(h, "</p>");
    }
    cJSON_Delete(root);
}

/* The <img> of a thumbnail, or the placeholder when the file cannot be
 * read (moved, deleted, damaged since it was indexed): a stale hit should
 * cost one grey box, not the whole page. Only running out of memory fails. */
static sl_status put_thumbnail(html *h, const char *path, const char *alt, uint32_t side, int quality) {
    sl_decode_opts o;
    sl_decode_opts_init(&o);
    /* A JPEG may decode at 1/2..1/8 scale as long as both sides stay at
     * least `side`: several times faster for camera photos, same result. */
    o.min_width = side;
    o.min_height = side;
    sl_image img = {0};
    sl_status st = sl_image_load(path, &o, &img);
    if (st == SL_OK) st = sl_image_thumbnail(&img, side, &img);
    uint8_t *jpeg = NULL;
    size_t size = 0;
    if (st == SL_OK) st = sl_image_encode_jpeg(&img, quality, &jpeg, &size);
    if (st == SL_ERR_NOMEM) {
        sl_image_free(&img);
        return st;
    }
    if (st) {
        sl_log(SL_LOG_WARN, "gallery: %s shown as unreadable: %s", path, sl_last_error());
        put(h, "<div class=\"thumb ph\">unreadable</div>");
        sl_image_free(&img);
        return SL_OK;
    }
    size_t b64_len = sl_base64_len(size);
    char *b64 = b64_len ? malloc(b64_len + 1) : NULL;
    if (!b64) {
        free(jpeg);
        sl_image_free(&img);
        return sl_fail(SL_ERR_NOMEM, "gallery: out of memory for a thumbnail of %zu bytes", size);
    }
    sl_base64_encode(jpeg, size, b64);
    put(h, "<div class=\"thumb\"><img src=\"data:image/jpeg;base64,");
    put_n(h, b64, b64_len);
    putf(h, "\" width=\"%u\" height=\"%u\" alt=\"", img.width, img.height);
    put_escaped(h, alt);
    put(h, "\"></div>");
    free(b64);
    free(jpeg);
    sl_image_free(&img);
    return SL_OK;
}

static sl_status put_card(html *h, const sl_result *r, size_t rank, uint32_t side, int quality) {
    const char *path = r->path ? r->path : "";
    const char *name = base_name(path);
    put(h, "<a class=\"card\" href=\"");
    put_file_url(h, path);
    put(h, "\" title=\"");
    put_escaped(h, path);
    put(h, "\">");
    sl_status st = put_thumbnail(h, path, name, side, quality);
    if (st) return st;
    /* NaN would print as "nan"; the searcher never returns one, but hand-
     * built results may. */
    float sim = r->similarity == r->similarity ? r->similarity : 0.0f;
    putf(h, "<p class=\"score\"><span class=\"rank\">#%zu</span> <span class=\"sim\">%.3f</span></p>", rank, sim);
    put(h, "<p class=\"name\">");
    put_escaped(h, name);
    put(h, "</p>");
    put_caption(h, r->metadata);
    put(h, "</a>\n");
    return SL_OK;
}

/* ---- the page ---------------------------------------------------------------- */

static const char k_style[] =
    "body{margin:0;padding:20px 24px;background:#f6f6f6;color:#222;"
    "font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}\n"
    "h1{font-size:22px;margin:0 0 8px}\n"
    "h2{font-size:17px;margin:28px 0 12px;overflow-wrap:anywhere}\n"
    ".grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:14px}\n"
    ".card{display:block;background:#fff;border:1px solid #ddd;border-radius:8px;padding:8px;"
    "color:inherit;text-decoration:none;min-width:0}\n"
    ".card:hover{border-color:#888;box-shadow:0 2px 6px rgba(0,0,0,.12)}\n"
    ".thumb{aspect-ratio:1/1;display:flex;align-items:center;justify-content:center;"
    "background:#eee;border-radius:4px;overflow:hidden}\n"
    ".thumb img{width:100%;height:100%;object-fit:contain;display:block}\n"
    ".ph{background:#c8c8c8;color:#555;font-size:13px}\n"
    ".card p{margin:6px 0 0;overflow-wrap:anywhere}\n"
    ".score{text-align:center;font-variant-numeric:tabular-nums}\n"
    ".rank{color:#777}\n"
    ".sim{font-weight:600}\n"
    ".name{color:#555;font-size:12px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}\n"
    ".cap{font-size:12px;color:#333}\n"
    ".empty{color:#777;font-style:italic}\n"
    "footer{margin-top:32px;color:#999;font-size:12px;text-align:center}\n";

static sl_status put_page(html *h, const sl_gallery_section *sections, size_t n_sections, const char *title,
                          uint32_t side, int quality) {
    put(h, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
    put_escaped(h, title);
    put(h, "</title>\n<style>\n");
    put(h, k_style);
    put(h, "</style>\n</head>\n<body>\n<h1>");
    put_escaped(h, title);
    put(h, "</h1>\n");
    for (size_t i = 0; i < n_sections; i++) {
        const sl_gallery_section *sec = &sections[i];
        const sl_results *res = sec->results;
        put(h, "<section>\n<h2>");
        put_escaped(h, sec->title ? sec->title : "");
        put(h, "</h2>\n");
        if (!res || res->n == 0) {
            put(h, "<p class=\"empty\">no results</p>\n");
        } else {
            put(h, "<div class=\"grid\">\n");
            for (size_t r = 0; r < res->n; r++) {
                sl_status st = put_card(h, &res->hits[r], r + 1, side, quality);
                if (st) return st;
            }
            put(h, "</div>\n");
        }
        put(h, "</section>\n");
    }
    put(h, "<footer>made by searchlite</footer>\n</body>\n</html>\n");
    return h->oom ? sl_fail(SL_ERR_NOMEM, "gallery: out of memory for the page") : SL_OK;
}

sl_status sl_gallery_write(const char *html_path, const sl_gallery_section *sections, size_t n_sections,
                           const sl_gallery_opts *opts) {
    if (!html_path || !html_path[0]) return sl_fail(SL_ERR_ARG, "gallery: no output path");
    if (n_sections && !sections) return sl_fail(SL_ERR_ARG, "gallery: NULL sections");
    for (size_t i = 0; i < n_sections; i++)
        if (sections[i].results && sections[i].results->n && !sections[i].results->hits)
            return sl_fail(SL_ERR_ARG, "gallery: section %zu has hits but no array", i);
    sl_gallery_opts o;
    sl_gallery_opts_init(&o);
    if (opts) o = *opts;
    const char *title = o.title ? o.title : "searchlite results";
    uint32_t side = o.thumb_side ? o.thumb_side : GALLERY_DEFAULT_SIDE;
    int quality = o.jpeg_quality ? o.jpeg_quality : GALLERY_DEFAULT_QUALITY;
    if (side > GALLERY_MAX_SIDE)
        return sl_fail(SL_ERR_ARG, "gallery: thumbnail side %u above the maximum of %u", side, GALLERY_MAX_SIDE);
    if (quality < 1 || quality > 100) return sl_fail(SL_ERR_ARG, "gallery: JPEG quality %d not in 1..100", quality);

    html h = {0};
    sl_status st = put_page(&h, sections, n_sections, title, side, quality);
    if (st == SL_OK) st = sl_file_write_atomic(html_path, h.p, h.n);
    free(h.p);
    return st;
}
