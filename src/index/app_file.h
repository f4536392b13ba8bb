/* App files: everything a searcher needs, in one read-only file an app
 * ships (`searchlite export`; docs/FORMAT.md "App file"): the model's
 * identity, the items (id, path, size in pixels, metadata JSON), their
 * embeddings (sparse rows or a dense matrix) and, for a large dense
 * collection, the ANN index snapshot (ann_file.h) nested as one section.
 *
 * Same conventions as the index snapshot: little-endian, a 64-byte header
 * and a section table, every section 64-byte aligned and CRC-32'd, mapped
 * and used in place (no copies of the arrays). */
#ifndef SL_INDEX_APP_FILE_H
#define SL_INDEX_APP_FILE_H

#include "sparse.h"

#define SL_APP_FILE_MAGIC "SLAPPIDX"
#define SL_APP_MODEL_ID_MAX 256

/* What goes into a file. Every pointer is borrowed for the call. */
typedef struct sl_app_file_in {
    const char *model_id;      /* 1..SL_APP_MODEL_ID_MAX bytes, no NUL inside */
    uint32_t dim;              /* 1..65536 */
    size_t count;              /* items */
    const int64_t *ids;        /* (count) strictly ascending, >= 0 */
    const int32_t *width;      /* (count) pixels, 0 = unknown */
    const int32_t *height;     /* (count) */
    const char *const *paths;  /* (count) UTF-8, NUL-terminated, not NULL */
    const char *const *metadata; /* (count) JSON text or NULL entries; may itself be NULL */
    /* Exactly one of: */
    const sl_sparse_rows *sparse; /* (count, dim) CSR, row r of item ids[r] */
    const float *dense;           /* (count, dim) row-major */
    /* Optional: an index snapshot (sl_ann_save_buffer) over exactly these
     * ids; only with dense. */
    const uint8_t *ann;
    size_t ann_size;
} sl_app_file_in;

/* Writes the file atomically (sl_file_write_atomic). Deterministic: the
 * same input gives the same bytes.
 * Errors: SL_ERR_ARG (a field out of range, ids not ascending, ann with
 * sparse), SL_ERR_LIMIT (sizes beyond the format's fields), SL_ERR_NOMEM,
 * SL_ERR_IO. */
sl_status sl_app_file_write(const sl_app_file_in *in, const char *path);
/* The same into one new malloc'ed buffer (*data, the caller frees it;
 * *size bytes): what sl_app_file_write writes. Errors as sl_app_file_write
 * without SL_ERR_IO. */
sl_status sl_app_file_write_buffer(const sl_app_file_in *in, uint8_t **data, size_t *size);

typedef struct sl_app_file sl_app_file;

/* Maps `path` and checks it as hostile input: header, table, every
 * offset/size/count against each other, ids strictly ascending, every
 * sparse column < dim and row_first monotone, every string offset inside
 * the text section (whose last byte must be NUL). verify != 0 also checks
 * the CRC of every section, zero padding and finite values. The nested
 * ANN snapshot is not parsed here (sl_app_file_ann gives its bytes).
 * Errors: SL_ERR_ARG, SL_ERR_IO, SL_ERR_CORRUPT, SL_ERR_CHECKSUM,
 * SL_ERR_UNSUPPORTED (newer version, unknown flags or section), SL_ERR_LIMIT,
 * SL_ERR_NOMEM. Messages start with the path. */
sl_status sl_app_file_open(const char *path, int verify, sl_app_file **out);
/* The same over memory the caller keeps valid until close (8-byte aligned). */
sl_status sl_app_file_open_buffer(const void *data, size_t size, int verify, sl_app_file **out);
void sl_app_file_close(sl_app_file *f);

/* Whether the first bytes of a file are an app file's magic (callers
 * sniff a path before choosing how to open it). `size` bytes at `head`. */
int sl_app_file_sniff(const void *head, size_t size);

/* Accessors; arrays point into the map and live until close. */
const char *sl_app_file_model_id(const sl_app_file *f); /* NUL-terminated copy */
uint32_t sl_app_file_dim(const sl_app_file *f);
size_t sl_app_file_count(const sl_app_file *f);
const int64_t *sl_app_file_ids(const sl_app_file *f); /* (count) ascending */
/* Non-NULL for a sparse file: CSR pointing into the map (never free it). */
const sl_sparse_rows *sl_app_file_sparse(const sl_app_file *f);
/* Non-NULL for a dense file: (count, dim), 64-byte aligned. */
const float *sl_app_file_dense(const sl_app_file *f);
/* The nested snapshot's bytes (8-byte aligned) and size, or NULL/0. */
const uint8_t *sl_app_file_ann(const sl_app_file *f, size_t *size);
/* Item of row r (< count): path (never NULL), metadata (NULL if none). */
void sl_app_file_item(const sl_app_file *f, size_t r, const char **path, const char **metadata, int32_t *width,
                      int32_t *height);

#endif
