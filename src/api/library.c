/* sl_library_open / close / count: the public face of the catalog
 * (src/catalog/catalog.h). Indexing is in index.c. */
#include "api/library_internal.h"

#include <stdlib.h>
#include <string.h>

sl_status sl_library_open(const char *path, int create, sl_library **out) {
    if (!out) return sl_fail(SL_ERR_ARG, "library: out is NULL");
    *out = NULL;
    if (!path || !*path) return sl_fail(SL_ERR_ARG, "library: empty path");
    sl_library *lib = calloc(1, sizeof *lib);
    char *copy = strdup(path);
    if (!lib || !copy) {
        free(lib);
        free(copy);
        return sl_fail(SL_ERR_NOMEM, "library %s", path);
    }
    lib->path = copy;
    /* The catalog's messages already name the file and the reason. */
    sl_status st = sl_catalog_open(path, create ? SL_CATALOG_CREATE : 0, &lib->cat);
    if (st != SL_OK) {
        sl_library_close(lib);
        return st;
    }
    *out = lib;
    return SL_OK;
}

void sl_library_close(sl_library *lib) {
    if (!lib) return;
    sl_catalog_close(lib->cat);
    free(lib->path);
    free(lib);
}

sl_status sl_library_count(sl_library *lib, int64_t *items, int64_t *embedded) {
    if (items) *items = 0;
    if (embedded) *embedded = 0;
    if (!lib) return sl_fail(SL_ERR_ARG, "library: NULL handle");
    sl_status st = SL_OK;
    if (items) st = sl_catalog_count(lib->cat, items);
    if (st == SL_OK && embedded) st = sl_catalog_count_embeddings(lib->cat, embedded);
    return st;
}
