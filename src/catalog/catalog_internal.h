/* Shared between the library's open/schema code and its operations. */
#ifndef SL_CATALOG_INTERNAL_H
#define SL_CATALOG_INTERNAL_H

#include "catalog/catalog.h"

#include <sqlite3.h>

/* Every statement the library runs, prepared once at open. */
typedef enum sl_cat_stmt {
    SL_Q_BEGIN,
    SL_Q_BEGIN_READ,
    SL_Q_COMMIT,
    SL_Q_ROLLBACK,
    SL_Q_SAVEPOINT,
    SL_Q_RELEASE,
    SL_Q_ROLLBACK_TO,
    SL_Q_META_GET,
    SL_Q_META_SET,
    SL_Q_LOOKUP,
    SL_Q_UPSERT,
    SL_Q_EMB_PUT,
    SL_Q_EMB_DEL,
    SL_Q_EMB_DEL_ALL,
    SL_Q_EMB_COUNT,
    SL_Q_EMB_COUNT_FILE,
    SL_Q_EMB_LOAD,
    SL_Q_TOUCH,
    SL_Q_TOUCH_MTIME,
    SL_Q_SET_METADATA,
    SL_Q_GET_ITEM,
    SL_Q_COUNT,
    SL_Q_FORGET_ALL,
    SL_Q_FORGET_ROOT,
    SL_Q_SNAP_DEL,
    SL_Q_SNAP_DEL_ALL,
    SL_Q_SNAP_PUT,
    SL_Q_SNAP_GET,
    SL_Q_COUNT_
} sl_cat_stmt;

struct sl_catalog {
    sqlite3 *db;
    char *path;
    sqlite3_stmt *stmt[SL_Q_COUNT_];
    bool in_batch;
    char *model_id; /* NULL when no model is set */
    uint32_t dim;
    int64_t generation; /* stamp for put/touch; the last begun scan */
    /* get_item's strings (handle-owned, reused) */
    char *item_buf;
    size_t item_cap;
    /* put's encoded sparse blob (handle-owned, reused) */
    uint8_t *blob_buf;
    size_t blob_cap;
};

/* Embedding blob formats (embeddings.format; docs/LIBRARY.md). */
enum {
    SL_EMB_DENSE = 0,  /* dim little-endian f32 */
    SL_EMB_SPARSE = 1  /* nnz u16 columns (strictly increasing, < dim), then
                          nnz f32 values; 6 * nnz bytes */
};

/* Turns the connection's last error into an sl_fail with the path. */
sl_status sl_cat_fail(sl_catalog *lib, int rc);
/* Steps a statement that returns no rows and resets it. */
sl_status sl_cat_exec(sl_catalog *lib, sl_cat_stmt q);
/* Steps a one-row integer query (a count) into *count (0 on failure). */
sl_status sl_cat_count(sl_catalog *lib, sl_cat_stmt q, int64_t *count);
/* Resets and clears the bindings of a statement after use. */
void sl_cat_done(sl_catalog *lib, sl_cat_stmt q);
/* Binds text of any length (SL_ERR_LIMIT above 2 GiB). */
sl_status sl_cat_bind_text(sl_catalog *lib, sl_cat_stmt q, int i,
                           const char *text);

/* Encodes vec (lib->dim finite floats) in the smaller format: sparse when
 * 6 * nnz < 4 * dim (nnz = values != 0), else dense. *blob points into vec
 * or into lib->blob_buf (valid until the next encode). */
sl_status sl_cat_encode(sl_catalog *lib, const float *vec, int *format,
                        const void **blob, size_t *size);

#endif /* SL_CATALOG_INTERNAL_H */
