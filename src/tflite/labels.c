/* Label lists: one UTF-8 label per line, line i = class i. */
#include "core/core.h"

#include <stdlib.h>
#include <string.h>

#define SL_LABELS_MAX 1000000u
#define SL_LABEL_MAX_BYTES 4096u
/* A file of the maximum count of maximum-length labels, with CRLF. */
#define SL_LABELS_MAX_FILE ((size_t)SL_LABELS_MAX * (SL_LABEL_MAX_BYTES + 2))

struct sl_labels {
    char *text;     /* the file, newlines replaced by NULs */
    char **lines;   /* (count) pointers into text */
    size_t count;
};

void sl_labels_free(sl_labels *l) {
    if (!l) return;
    free(l->text);
    free(l->lines);
    free(l);
}

size_t sl_labels_count(const sl_labels *l) { return l ? l->count : 0; }

const char *sl_labels_get(const sl_labels *l, size_t i) {
    return l && i < l->count ? l->lines[i] : NULL;
}

sl_status sl_labels_load(const char *path, sl_labels **out) {
    if (!out) return sl_fail(SL_ERR_ARG, "labels: NULL output");
    *out = NULL;
    if (!path) return sl_fail(SL_ERR_ARG, "labels: NULL path");
    uint8_t *data;
    size_t size;
    sl_status st = sl_file_read(path, SL_LABELS_MAX_FILE, &data, &size);
    if (st) return st;
    char *text = (char *)data; /* NUL-terminated by sl_file_read */
    if (memchr(text, '\0', size)) {
        free(data);
        return sl_fail(SL_ERR_CORRUPT, "%s: labels contain a NUL byte", path);
    }
    /* Count lines first; a final newline does not start another label. */
    size_t count = 0;
    for (size_t i = 0; i < size; i++)
        if (text[i] == '\n') count++;
    if (size && text[size - 1] != '\n') count++;
    if (count > SL_LABELS_MAX) {
        free(data);
        return sl_fail(SL_ERR_LIMIT, "%s: more than %u labels", path, SL_LABELS_MAX);
    }
    sl_labels *l = calloc(1, sizeof *l);
    char **lines = sl_malloc_array(count ? count : 1, sizeof *lines);
    if (!l || !lines) {
        free(l);
        free(lines);
        free(data);
        return sl_fail(SL_ERR_NOMEM, "%s: out of memory", path);
    }
    size_t start = 0, k = 0;
    for (size_t i = 0; i <= size && k < count; i++) {
        if (i < size && text[i] != '\n') continue;
        size_t end = i;
        if (end > start && text[end - 1] == '\r') end--;
        if (end - start > SL_LABEL_MAX_BYTES) {
            free(l);
            free(lines);
            free(data);
            return sl_fail(SL_ERR_CORRUPT, "%s: line %zu is longer than %u bytes", path, k + 1,
                           SL_LABEL_MAX_BYTES);
        }
        text[end] = '\0';
        lines[k++] = text + start;
        start = i + 1;
    }
    l->text = text;
    l->lines = lines;
    l->count = count;
    *out = l;
    return SL_OK;
}
