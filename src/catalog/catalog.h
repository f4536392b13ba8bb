/* The catalog: the SQLite file behind a searchlite library, holding the items (image files), their
 * embeddings, the identity of the model that made them and the latest ANN
 * snapshot. It is the source of truth; indexes are rebuilt from it. Internal
 * API (the public one wraps it). Schema, versioning and durability are
 * specified in docs/LIBRARY.md.
 *
 * Threads: a handle is used by one thread at a time (the connection is opened
 * with SQLITE_OPEN_NOMUTEX); open one handle per thread. Several handles and
 * processes may share one file (WAL mode, busy timeout 5 s).
 *
 * Errors: every function returns an sl_status and records a message
 * ("library <path>: <why>") with sl_fail(). SQLite failures map to
 * SL_ERR_CORRUPT (malformed or not a database), SL_ERR_NOMEM, SL_ERR_ARG
 * (a constraint such as invalid metadata JSON) or SL_ERR_IO (anything else,
 * including a lock held longer than the busy timeout). */
#ifndef SL_CATALOG_H
#define SL_CATALOG_H

#include "core/core.h"
#include "index/sparse.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sl_catalog sl_catalog;

/* Flags for sl_catalog_open. */
enum {
    /* Create the file when missing, or initialize it when it is zero bytes
     * (or an empty SQLite database without tables, e.g. left by a crash
     * during creation). Without it those cases are refused. */
    SL_CATALOG_CREATE = 1u << 0,
    /* Also run PRAGMA quick_check on open (reads every page: see
     * docs/LIBRARY.md for its cost). */
    SL_CATALOG_VERIFY = 1u << 1
};

#define SL_CATALOG_SCHEMA_VERSION 1
/* PRAGMA application_id of a searchlite library: "SLIB". */
#define SL_CATALOG_APPLICATION_ID 0x534C4942
/* Longest content hash stored (bytes), longest model id (bytes), largest
 * embedding dimension accepted. */
#define SL_CATALOG_HASH_MAX 64
#define SL_CATALOG_MODEL_ID_MAX 256
#define SL_CATALOG_DIM_MAX 65536

/* One catalogued file. On put every pointer is borrowed for the call. */
typedef struct sl_item {
    int64_t id;           /* row id; ignored by put, set by get */
    const char *path;     /* UTF-8, NUL-terminated, unique key */
    int64_t size;         /* file size in bytes */
    int64_t mtime_ns;     /* modification time, ns since the epoch */
    const uint8_t *hash;  /* content hash bytes (NULL when hash_size == 0) */
    size_t hash_size;     /* <= SL_CATALOG_HASH_MAX */
    int32_t width;        /* pixels, 0 = unknown */
    int32_t height;
    const char *metadata; /* JSON text (object), or NULL */
} sl_item;

/* What the library knows about a path (for skipping unchanged files). */
typedef struct sl_item_info {
    bool known;         /* false: the path is not in the library */
    bool has_embedding; /* an embedding of the current model is stored */
    int64_t id;
    int64_t size;
    int64_t mtime_ns;
    size_t hash_size;
    uint8_t hash[SL_CATALOG_HASH_MAX];
} sl_item_info;

/* Opens (and with SL_CATALOG_CREATE creates) the library at `path`.
 * Errors: SL_ERR_ARG; SL_ERR_NOT_FOUND (missing file without CREATE);
 * SL_ERR_CORRUPT (not a SQLite file, truncated, malformed, another
 * application's SQLite file, zero-byte file without CREATE);
 * SL_ERR_UNSUPPORTED (schema version newer than this build); SL_ERR_IO;
 * SL_ERR_NOMEM. *out is NULL on failure. */
sl_status sl_catalog_open(const char *path, unsigned flags,
                          sl_catalog **out);
/* Closes the handle; an open batch is rolled back. NULL is a no-op. */
void sl_catalog_close(sl_catalog *lib);

/* ---- model identity ---------------------------------------------------- */

/* Records the model whose embeddings the library holds. Same id and dim:
 * no-op. Different: all embeddings and snapshots are deleted in the same
 * transaction (the caller re-embeds). The comparison is with the model the
 * file records now, re-read first (another connection may have switched
 * it since this handle opened). Not allowed inside a batch.
 * Errors: SL_ERR_ARG (empty/too long id, dim outside 1..DIM_MAX),
 * SL_ERR_STATE (inside a batch), SQLite errors. */
sl_status sl_catalog_set_model(sl_catalog *lib, const char *model_id,
                               uint32_t dim);
/* The current model: *model_id points to handle-owned memory valid until
 * the next set_model or close; NULL and dim 0 when no model is set. Either
 * output may be NULL. */
sl_status sl_catalog_model(sl_catalog *lib, const char **model_id,
                           uint32_t *dim);

/* ---- incremental scans -------------------------------------------------- */

/* Starts a scan: a new generation number, committed at once. Items put or
 * touched from now on are stamped with it. */
sl_status sl_catalog_begin_scan(sl_catalog *lib, int64_t *generation);
/* Looks `path` up. Unknown path: SL_OK with info->known == false. */
sl_status sl_catalog_lookup(sl_catalog *lib, const char *path,
                            sl_item_info *info);
/* An embedding as the caller's model produced it. The library refuses one
 * whose model or dim differs from the recorded model (it never mixes
 * models). */
typedef struct sl_embedding {
    const char *model; /* model id, must equal the library's */
    uint32_t dim;      /* must equal the library's */
    const float *vec;  // (dim) f32, finite
} sl_embedding;

/* Inserts or updates the item keyed by item->path and stamps it with the
 * current generation. emb replaces its embedding, stored sparse when that
 * is smaller (6 * nnz < 4 * dim, nnz = values != 0; docs/LIBRARY.md: a
 * -0.0 then reads back as +0.0). emb == NULL deletes any stored embedding
 * (the content changed, so the old one is stale). Atomic
 * on its own; inside a batch it becomes durable at batch commit. *id (may
 * be NULL) receives the row id.
 * Errors: SL_ERR_ARG (bad item fields, non-finite vector, invalid metadata
 * JSON), SL_ERR_STATE (no model set, or emb of another model or dim),
 * SQLite errors. */
sl_status sl_catalog_put(sl_catalog *lib, const sl_item *item,
                         const sl_embedding *emb, int64_t *id);
/* Stamps an unchanged item with the current generation.
 * Errors: SL_ERR_NOT_FOUND (no such id), SQLite errors. */
sl_status sl_catalog_touch(sl_catalog *lib, int64_t item_id);
/* As touch, and sets the item's mtime_ns: for a file whose modification
 * time changed but whose content hash is the stored one, so its embedding
 * stays valid. Errors: SL_ERR_NOT_FOUND, SQLite errors. */
sl_status sl_catalog_touch_mtime(sl_catalog *lib, int64_t item_id,
                                 int64_t mtime_ns);
/* Replaces an item's metadata (JSON object text, or NULL), keeping
 * everything else, its embedding and its scan stamp included.
 * Errors: SL_ERR_NOT_FOUND, SL_ERR_ARG (invalid JSON), SQLite errors. */
sl_status sl_catalog_set_metadata(sl_catalog *lib, int64_t item_id,
                                  const char *metadata);
/* Ends the scan `generation` (must be the one begin_scan returned on this
 * handle, else SL_ERR_STATE): deletes the items under any of `roots` (a
 * root matches itself and paths starting with root + "/") that were not
 * stamped with it. n_roots == 0 means the whole library. Call it only when
 * the scan completed. *removed (may be NULL) gets the number deleted. Not
 * allowed inside a batch. */
sl_status sl_catalog_end_scan(sl_catalog *lib, int64_t generation,
                              const char *const *roots, size_t n_roots,
                              int64_t *removed);

/* ---- batches ------------------------------------------------------------ */

/* One write transaction around many puts/touches (BEGIN IMMEDIATE ...
 * COMMIT). A crash loses at most the open batch. Nesting is SL_ERR_STATE. */
sl_status sl_catalog_batch_begin(sl_catalog *lib);
sl_status sl_catalog_batch_commit(sl_catalog *lib);
/* Discards the open batch (no-op when none is open). */
sl_status sl_catalog_batch_rollback(sl_catalog *lib);

/* ---- reading ------------------------------------------------------------ */

/* Number of items. */
sl_status sl_catalog_count(sl_catalog *lib, int64_t *count);
/* Number of embeddings of the model the file records now (0 when none is
 * set), even if another connection set it after this handle opened. */
sl_status sl_catalog_count_embeddings(sl_catalog *lib, int64_t *count);
/* All embeddings of the current model, ordered by item id, read in one
 * consistent snapshot, sparse blobs expanded:
 *   *ids  // (n) int64, free with free()
 *   *vecs // (n, dim) row-major f32, free with sl_free_aligned()
 * Both NULL when n == 0. Every blob is validated as hostile input (its size
 * matches its format, sparse columns strictly increasing and < dim, values
 * finite); the message of SL_ERR_CORRUPT names the item id.
 * Errors: SL_ERR_STATE (no model set), SL_ERR_CORRUPT (bad blob),
 * SL_ERR_NOMEM, SL_ERR_LIMIT (matrix size overflows), SQLite errors. */
sl_status sl_catalog_load_embeddings(sl_catalog *lib, int64_t **ids,
                                     float **vecs, size_t *n, uint32_t *dim);
/* All embeddings of the current model as compressed sparse rows, ordered by
 * item id, read in one consistent snapshot (as load_embeddings). Row r is
 * item (*ids)[r] and holds exactly its values != 0, columns ascending:
 * sparse blobs are copied, dense ones converted (so a stored -0.0 is
 * dropped like +0.0).
 *   *ids  // (n) int64, free with free(); NULL when n == 0
 *   rows  // n, dim, row_first (n + 1), col u16 / val f32 (row_first[n]);
 *         // malloc'd even when n == 0, free with sl_sparse_rows_free
 * Every blob is validated as load_embeddings does, plus sparse columns
 * strictly increasing and < dim. On failure *ids is NULL and rows zeroed.
 * Errors: SL_ERR_ARG, SL_ERR_STATE (no model set), SL_ERR_CORRUPT (a bad
 * blob: the message names its item id), SL_ERR_LIMIT (more than 2^32 - 1
 * non-zero values, or counts that overflow), SL_ERR_NOMEM, SQLite
 * errors. */
sl_status sl_catalog_load_sparse(sl_catalog *lib, int64_t **ids,
                                 sl_sparse_rows *rows);
/* Reads item `id`. out->path, out->hash and out->metadata point to
 * handle-owned memory valid until the next get_item on this handle or
 * close. Errors: SL_ERR_NOT_FOUND, SL_ERR_NOMEM, SQLite errors. */
sl_status sl_catalog_get_item(sl_catalog *lib, int64_t id, sl_item *out);

/* ---- ANN snapshots (issue 4) -------------------------------------------- */

/* Stores `data` as the latest snapshot tagged `model` (replacing older ones
 * with the same tag). size <= 1 GB (SL_ERR_LIMIT). */
sl_status sl_catalog_put_snapshot(sl_catalog *lib, const char *model,
                                  const void *data, size_t size);
/* The latest snapshot tagged `model`, copied into a malloc'd buffer (free
 * with free(); NULL when size is 0). Errors: SL_ERR_NOT_FOUND, SQLite. */
sl_status sl_catalog_get_snapshot(sl_catalog *lib, const char *model,
                                  uint8_t **data, size_t *size);

#endif /* SL_CATALOG_H */
