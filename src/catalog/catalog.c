/* Library operations: model identity, scans, batches, items, embeddings and
 * snapshots. Every write that touches more than one row runs inside a
 * savepoint so it is atomic whether or not a batch is open. */
#include "catalog/catalog_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Snapshots above this are refused (SQLite's default blob limit is 1e9). */
#define SL_LIB_SNAPSHOT_MAX 1000000000u

/* Savepoint helpers: atomic units that nest inside an open batch. */
static sl_status lib_op_begin(sl_catalog *lib) {
    return sl_cat_exec(lib, SL_Q_SAVEPOINT);
}
static sl_status lib_op_end(sl_catalog *lib, sl_status st) {
    if (st == SL_OK) {
        sl_status rs = sl_cat_exec(lib, SL_Q_RELEASE);
        if (rs == SL_OK) return SL_OK;
        st = rs;
    }
    /* Keep the first message: the rollback's own status is secondary. */
    int rc = sqlite3_step(lib->stmt[SL_Q_ROLLBACK_TO]);
    sl_cat_done(lib, SL_Q_ROLLBACK_TO);
    if (rc == SQLITE_DONE) {
        sqlite3_step(lib->stmt[SL_Q_RELEASE]);
        sl_cat_done(lib, SL_Q_RELEASE);
    }
    return st;
}

static sl_status lib_meta_set_text(sl_catalog *lib, const char *key,
                                   const char *value) {
    sqlite3_stmt *s = lib->stmt[SL_Q_META_SET];
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    sl_status st = sl_cat_bind_text(lib, SL_Q_META_SET, 2, value);
    if (st != SL_OK) {
        sl_cat_done(lib, SL_Q_META_SET);
        return st;
    }
    return sl_cat_exec(lib, SL_Q_META_SET);
}

static sl_status lib_meta_set_int(sl_catalog *lib, const char *key,
                                  int64_t value) {
    sqlite3_stmt *s = lib->stmt[SL_Q_META_SET];
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, value);
    return sl_cat_exec(lib, SL_Q_META_SET);
}

static bool all_finite(const float *v, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i])) return false;
    return true;
}

/* ---- model identity ---------------------------------------------------- */

/* Re-reads the model identity from the file into the handle: another
 * connection may have switched models since this handle loaded it, and
 * comparing with a stale copy would let embeddings of two models mix. */
static sl_status lib_refresh_model(sl_catalog *lib) {
    sqlite3_stmt *s = lib->stmt[SL_Q_META_GET];
    char *id = NULL;
    int64_t dim = 0;
    sl_status st = SL_OK;
    for (int k = 0; k < 2 && st == SL_OK; k++) {
        sqlite3_bind_text(s, 1, k == 0 ? "model_id" : "model_dim", -1,
                          SQLITE_STATIC);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW && k == 0 &&
            sqlite3_column_type(s, 0) == SQLITE_TEXT) {
            const unsigned char *v = sqlite3_column_text(s, 0);
            int len = sqlite3_column_bytes(s, 0);
            if (!v || len <= 0 || len > SL_CATALOG_MODEL_ID_MAX)
                st = sl_fail(SL_ERR_CORRUPT, "library %s: bad model_id",
                             lib->path);
            else if (!(id = malloc((size_t)len + 1)))
                st = sl_fail(SL_ERR_NOMEM, "library %s", lib->path);
            else memcpy(id, v, (size_t)len + 1);
        } else if (rc == SQLITE_ROW && k == 1) {
            dim = sqlite3_column_int64(s, 0);
        } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            st = sl_cat_fail(lib, rc);
        }
        sl_cat_done(lib, SL_Q_META_GET);
    }
    if (st == SL_OK && ((id == NULL) != (dim == 0) || dim < 0 ||
                        dim > SL_CATALOG_DIM_MAX))
        st = sl_fail(SL_ERR_CORRUPT, "library %s: bad model_id/model_dim",
                     lib->path);
    if (st != SL_OK) {
        free(id);
        return st;
    }
    free(lib->model_id);
    lib->model_id = id;
    lib->dim = (uint32_t)dim;
    return SL_OK;
}

sl_status sl_catalog_set_model(sl_catalog *lib, const char *model_id,
                               uint32_t dim) {
    if (!lib || !model_id) return sl_fail(SL_ERR_ARG, "library: NULL argument");
    size_t len = strlen(model_id);
    if (len == 0 || len > SL_CATALOG_MODEL_ID_MAX)
        return sl_fail(SL_ERR_ARG, "library %s: model id must be 1..%d bytes",
                       lib->path, SL_CATALOG_MODEL_ID_MAX);
    if (dim < 1 || dim > SL_CATALOG_DIM_MAX)
        return sl_fail(SL_ERR_ARG, "library %s: model dim %u outside 1..%d",
                       lib->path, dim, SL_CATALOG_DIM_MAX);
    if (!lib->in_batch) {
        sl_status rs = lib_refresh_model(lib);
        if (rs != SL_OK) return rs;
    }
    if (lib->model_id && lib->dim == dim && strcmp(lib->model_id, model_id) == 0)
        return SL_OK;
    if (lib->in_batch)
        return sl_fail(SL_ERR_STATE, "library %s: cannot switch models inside "
                       "a batch", lib->path);
    char *copy = malloc(len + 1);
    if (!copy) return sl_fail(SL_ERR_NOMEM, "library %s", lib->path);
    memcpy(copy, model_id, len + 1);

    /* Embeddings of two models never coexist: the old ones (and the ANN
     * snapshots built from them) go in the same transaction that records
     * the new identity. */
    sl_status st = lib_op_begin(lib);
    if (st == SL_OK) {
        st = sl_cat_exec(lib, SL_Q_EMB_DEL_ALL);
        if (st == SL_OK) st = sl_cat_exec(lib, SL_Q_SNAP_DEL_ALL);
        if (st == SL_OK) st = lib_meta_set_text(lib, "model_id", model_id);
        if (st == SL_OK) st = lib_meta_set_int(lib, "model_dim", dim);
        st = lib_op_end(lib, st);
    }
    if (st != SL_OK) {
        free(copy);
        return st;
    }
    free(lib->model_id);
    lib->model_id = copy;
    lib->dim = dim;
    return SL_OK;
}

sl_status sl_catalog_model(sl_catalog *lib, const char **model_id,
                           uint32_t *dim) {
    if (!lib) return sl_fail(SL_ERR_ARG, "library: NULL handle");
    if (model_id) *model_id = lib->model_id;
    if (dim) *dim = lib->dim;
    return SL_OK;
}

/* ---- scans -------------------------------------------------------------- */

sl_status sl_catalog_begin_scan(sl_catalog *lib, int64_t *generation) {
    if (!lib || !generation) return sl_fail(SL_ERR_ARG, "library: NULL argument");
    /* Read-increment-write under the savepoint: another process's scan
     * gets a different number. */
    sl_status st = lib_op_begin(lib);
    if (st != SL_OK) return st;
    int64_t gen = 0;
    sqlite3_stmt *s = lib->stmt[SL_Q_META_GET];
    sqlite3_bind_text(s, 1, "scan_generation", -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) gen = sqlite3_column_int64(s, 0);
    else if (rc != SQLITE_DONE) st = sl_cat_fail(lib, rc);
    sl_cat_done(lib, SL_Q_META_GET);
    if (st == SL_OK && gen == INT64_MAX)
        st = sl_fail(SL_ERR_CORRUPT, "library %s: scan generation exhausted",
                     lib->path);
    if (st == SL_OK) st = lib_meta_set_int(lib, "scan_generation", gen + 1);
    st = lib_op_end(lib, st);
    if (st != SL_OK) return st;
    lib->generation = gen + 1;
    *generation = gen + 1;
    return SL_OK;
}

sl_status sl_catalog_lookup(sl_catalog *lib, const char *path,
                            sl_item_info *info) {
    if (!lib || !path || !info) return sl_fail(SL_ERR_ARG, "library: NULL argument");
    memset(info, 0, sizeof *info);
    sqlite3_stmt *s = lib->stmt[SL_Q_LOOKUP];
    sl_status st = sl_cat_bind_text(lib, SL_Q_LOOKUP, 1, path);
    if (st == SL_OK && lib->model_id)
        st = sl_cat_bind_text(lib, SL_Q_LOOKUP, 2, lib->model_id);
    if (st != SL_OK) {
        sl_cat_done(lib, SL_Q_LOOKUP);
        return st;
    }
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        info->known = true;
        info->id = sqlite3_column_int64(s, 0);
        info->size = sqlite3_column_int64(s, 1);
        info->mtime_ns = sqlite3_column_int64(s, 2);
        const void *h = sqlite3_column_blob(s, 3);
        int hn = sqlite3_column_bytes(s, 3);
        if (hn < 0 || hn > SL_CATALOG_HASH_MAX) {
            st = sl_fail(SL_ERR_CORRUPT, "library %s: hash of %d bytes",
                         lib->path, hn);
        } else if (hn > 0) {
            memcpy(info->hash, h, (size_t)hn);
            info->hash_size = (size_t)hn;
        }
        info->has_embedding = sqlite3_column_int(s, 4) != 0;
    } else if (rc != SQLITE_DONE) {
        st = sl_cat_fail(lib, rc);
    }
    sl_cat_done(lib, SL_Q_LOOKUP);
    return st;
}

static sl_status lib_check_item(sl_catalog *lib, const sl_item *item) {
    if (!item->path || !*item->path)
        return sl_fail(SL_ERR_ARG, "library %s: item without a path", lib->path);
    if (item->size < 0 || item->width < 0 || item->height < 0)
        return sl_fail(SL_ERR_ARG, "library %s: negative size or dimension "
                       "for %s", lib->path, item->path);
    if (item->hash_size > SL_CATALOG_HASH_MAX ||
        (item->hash_size > 0 && !item->hash))
        return sl_fail(SL_ERR_ARG, "library %s: bad hash for %s", lib->path,
                       item->path);
    return SL_OK;
}

static sl_status lib_put_rows(sl_catalog *lib, const sl_item *item,
                              const float *vec, int64_t *id) {
    sl_cat_stmt q = SL_Q_UPSERT;
    sqlite3_stmt *s = lib->stmt[q];
    sl_status st = sl_cat_bind_text(lib, q, 1, item->path);
    if (st == SL_OK) {
        sqlite3_bind_int64(s, 2, item->size);
        sqlite3_bind_int64(s, 3, item->mtime_ns);
        if (item->hash_size > 0)
            sqlite3_bind_blob(s, 4, item->hash, (int)item->hash_size,
                              SQLITE_STATIC);
        else
            sqlite3_bind_null(s, 4);
        sqlite3_bind_int(s, 5, item->width);
        sqlite3_bind_int(s, 6, item->height);
        if (item->metadata) st = sl_cat_bind_text(lib, q, 7, item->metadata);
        else sqlite3_bind_null(s, 7);
        sqlite3_bind_int64(s, 8, lib->generation);
    }
    int64_t row = 0;
    if (st == SL_OK) {
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            row = sqlite3_column_int64(s, 0);
            rc = sqlite3_step(s);
        }
        if (rc != SQLITE_DONE) st = sl_cat_fail(lib, rc);
    }
    sl_cat_done(lib, q);
    if (st != SL_OK) return st;

    if (vec) {
        int format = SL_EMB_DENSE;
        const void *blob = NULL;
        size_t size = 0;
        s = lib->stmt[SL_Q_EMB_PUT];
        sqlite3_bind_int64(s, 1, row);
        st = sl_cat_bind_text(lib, SL_Q_EMB_PUT, 2, lib->model_id);
        if (st == SL_OK) st = sl_cat_encode(lib, vec, &format, &blob, &size);
        if (st == SL_OK) {
            sqlite3_bind_int(s, 3, format);
            /* A sparse all-zero vector is an empty blob, which must stay a
             * BLOB rather than become NULL (bind_blob of size 0 may). Sizes
             * are at most 6 * 65536 bytes, so they fit an int. */
            if (size == 0) sqlite3_bind_zeroblob(s, 4, 0);
            else sqlite3_bind_blob(s, 4, blob, (int)size, SQLITE_STATIC);
            st = sl_cat_exec(lib, SL_Q_EMB_PUT);
        } else {
            sl_cat_done(lib, SL_Q_EMB_PUT);
        }
    } else {
        sqlite3_bind_int64(lib->stmt[SL_Q_EMB_DEL], 1, row);
        st = sl_cat_exec(lib, SL_Q_EMB_DEL);
    }
    if (st == SL_OK && id) *id = row;
    return st;
}

sl_status sl_catalog_put(sl_catalog *lib, const sl_item *item,
                         const sl_embedding *emb, int64_t *id) {
    if (!lib || !item) return sl_fail(SL_ERR_ARG, "library: NULL argument");
    sl_status st = lib_check_item(lib, item);
    if (st != SL_OK) return st;
    const float *vec = NULL;
    if (emb) {
        if (!emb->model || !emb->vec)
            return sl_fail(SL_ERR_ARG, "library %s: embedding without model "
                           "or vector", lib->path);
        if (!lib->model_id)
            return sl_fail(SL_ERR_STATE, "library %s: no model set; cannot "
                           "store an embedding", lib->path);
        if (strcmp(emb->model, lib->model_id) != 0 || emb->dim != lib->dim)
            return sl_fail(SL_ERR_STATE, "library %s: embedding of model "
                           "'%.100s' (dim %u) but the library holds '%s' "
                           "(dim %u); switch models with set_model",
                           lib->path, emb->model, emb->dim, lib->model_id,
                           lib->dim);
        if (!all_finite(emb->vec, lib->dim))
            return sl_fail(SL_ERR_ARG, "library %s: non-finite embedding for "
                           "%s", lib->path, item->path);
        vec = emb->vec;
    }
    st = lib_op_begin(lib);
    if (st != SL_OK) return st;
    return lib_op_end(lib, lib_put_rows(lib, item, vec, id));
}

sl_status sl_catalog_touch(sl_catalog *lib, int64_t item_id) {
    if (!lib) return sl_fail(SL_ERR_ARG, "library: NULL handle");
    sqlite3_stmt *s = lib->stmt[SL_Q_TOUCH];
    sqlite3_bind_int64(s, 1, item_id);
    sqlite3_bind_int64(s, 2, lib->generation);
    sl_status st = sl_cat_exec(lib, SL_Q_TOUCH);
    if (st == SL_OK && sqlite3_changes(lib->db) == 0)
        st = sl_fail(SL_ERR_NOT_FOUND, "library %s: no item %lld", lib->path,
                     (long long)item_id);
    return st;
}

sl_status sl_catalog_touch_mtime(sl_catalog *lib, int64_t item_id,
                                 int64_t mtime_ns) {
    if (!lib) return sl_fail(SL_ERR_ARG, "library: NULL handle");
    sqlite3_stmt *s = lib->stmt[SL_Q_TOUCH_MTIME];
    sqlite3_bind_int64(s, 1, item_id);
    sqlite3_bind_int64(s, 2, lib->generation);
    sqlite3_bind_int64(s, 3, mtime_ns);
    sl_status st = sl_cat_exec(lib, SL_Q_TOUCH_MTIME);
    if (st == SL_OK && sqlite3_changes(lib->db) == 0)
        st = sl_fail(SL_ERR_NOT_FOUND, "library %s: no item %lld", lib->path,
                     (long long)item_id);
    return st;
}

sl_status sl_catalog_set_metadata(sl_catalog *lib, int64_t item_id,
                                  const char *metadata) {
    if (!lib) return sl_fail(SL_ERR_ARG, "library: NULL handle");
    sqlite3_stmt *s = lib->stmt[SL_Q_SET_METADATA];
    sqlite3_bind_int64(s, 1, item_id);
    sl_status st = SL_OK;
    if (metadata) st = sl_cat_bind_text(lib, SL_Q_SET_METADATA, 2, metadata);
    else sqlite3_bind_null(s, 2);
    if (st != SL_OK) {
        sl_cat_done(lib, SL_Q_SET_METADATA);
        return st;
    }
    st = sl_cat_exec(lib, SL_Q_SET_METADATA);
    if (st == SL_OK && sqlite3_changes(lib->db) == 0)
        st = sl_fail(SL_ERR_NOT_FOUND, "library %s: no item %lld", lib->path,
                     (long long)item_id);
    return st;
}

sl_status sl_catalog_end_scan(sl_catalog *lib, int64_t generation,
                              const char *const *roots, size_t n_roots,
                              int64_t *removed) {
    if (!lib || (n_roots > 0 && !roots))
        return sl_fail(SL_ERR_ARG, "library: NULL argument");
    if (generation != lib->generation || generation <= 0)
        return sl_fail(SL_ERR_STATE, "library %s: generation %lld is not the "
                       "scan begun on this handle (%lld)", lib->path,
                       (long long)generation, (long long)lib->generation);
    if (lib->in_batch)
        return sl_fail(SL_ERR_STATE, "library %s: end_scan inside a batch",
                       lib->path);
    for (size_t r = 0; r < n_roots; r++)
        if (!roots[r] || !*roots[r])
            return sl_fail(SL_ERR_ARG, "library %s: empty root", lib->path);
    int64_t total = 0;
    sl_status st = lib_op_begin(lib);
    if (st != SL_OK) return st;
    if (n_roots == 0) {
        sqlite3_bind_int64(lib->stmt[SL_Q_FORGET_ALL], 1, generation);
        st = sl_cat_exec(lib, SL_Q_FORGET_ALL);
        if (st == SL_OK) total = sqlite3_changes64(lib->db);
    }
    for (size_t r = 0; r < n_roots && st == SL_OK; r++) {
        /* root without trailing slashes, and root + "/" as the prefix */
        size_t len = strlen(roots[r]);
        while (len > 1 && roots[r][len - 1] == '/') len--;
        char *prefix = malloc(len + 2);
        if (!prefix) {
            st = sl_fail(SL_ERR_NOMEM, "library %s", lib->path);
            break;
        }
        memcpy(prefix, roots[r], len);
        size_t plen = len;
        if (!(len == 1 && prefix[0] == '/')) prefix[plen++] = '/';
        prefix[plen] = '\0';
        sqlite3_stmt *s = lib->stmt[SL_Q_FORGET_ROOT];
        sqlite3_bind_int64(s, 1, generation);
        sqlite3_bind_text(s, 2, prefix, (int)len, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, prefix, (int)plen, SQLITE_STATIC);
        st = sl_cat_exec(lib, SL_Q_FORGET_ROOT);
        if (st == SL_OK) total += sqlite3_changes64(lib->db);
        free(prefix);
    }
    st = lib_op_end(lib, st);
    if (st == SL_OK && removed) *removed = total;
    return st;
}

/* ---- batches ------------------------------------------------------------ */

sl_status sl_catalog_batch_begin(sl_catalog *lib) {
    if (!lib) return sl_fail(SL_ERR_ARG, "library: NULL handle");
    if (lib->in_batch)
        return sl_fail(SL_ERR_STATE, "library %s: batch already open",
                       lib->path);
    sl_status st = sl_cat_exec(lib, SL_Q_BEGIN);
    if (st == SL_OK) lib->in_batch = true;
    return st;
}

sl_status sl_catalog_batch_commit(sl_catalog *lib) {
    if (!lib) return sl_fail(SL_ERR_ARG, "library: NULL handle");
    if (!lib->in_batch)
        return sl_fail(SL_ERR_STATE, "library %s: no batch open", lib->path);
    sl_status st = sl_cat_exec(lib, SL_Q_COMMIT);
    /* A failed COMMIT (e.g. SQLITE_BUSY) leaves the transaction open; roll
     * it back so the handle is usable and the state is unambiguous. */
    if (st != SL_OK && !sqlite3_get_autocommit(lib->db)) {
        sqlite3_step(lib->stmt[SL_Q_ROLLBACK]);
        sl_cat_done(lib, SL_Q_ROLLBACK);
    }
    lib->in_batch = false;
    return st;
}

sl_status sl_catalog_batch_rollback(sl_catalog *lib) {
    if (!lib) return sl_fail(SL_ERR_ARG, "library: NULL handle");
    if (!lib->in_batch) return SL_OK;
    lib->in_batch = false;
    if (sqlite3_get_autocommit(lib->db)) return SL_OK;
    return sl_cat_exec(lib, SL_Q_ROLLBACK);
}

/* ---- reading ------------------------------------------------------------ */

sl_status sl_catalog_count(sl_catalog *lib, int64_t *count) {
    if (!lib || !count) return sl_fail(SL_ERR_ARG, "library: NULL argument");
    return sl_cat_count(lib, SL_Q_COUNT, count);
}

sl_status sl_catalog_count_embeddings(sl_catalog *lib, int64_t *count) {
    if (!lib || !count) return sl_fail(SL_ERR_ARG, "library: NULL argument");
    return sl_cat_count(lib, SL_Q_EMB_COUNT_FILE, count);
}

sl_status sl_catalog_get_item(sl_catalog *lib, int64_t id, sl_item *out) {
    if (!lib || !out) return sl_fail(SL_ERR_ARG, "library: NULL argument");
    memset(out, 0, sizeof *out);
    sqlite3_stmt *s = lib->stmt[SL_Q_GET_ITEM];
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    sl_status st = SL_OK;
    if (rc == SQLITE_DONE) {
        st = sl_fail(SL_ERR_NOT_FOUND, "library %s: no item %lld", lib->path,
                     (long long)id);
    } else if (rc != SQLITE_ROW) {
        st = sl_cat_fail(lib, rc);
    } else {
        /* path NUL, hash, metadata NUL packed into one reused buffer */
        const unsigned char *path = sqlite3_column_text(s, 0);
        size_t plen = (size_t)sqlite3_column_bytes(s, 0);
        const void *hash = sqlite3_column_blob(s, 3);
        size_t hlen = (size_t)sqlite3_column_bytes(s, 3);
        const unsigned char *meta = sqlite3_column_text(s, 6);
        size_t mlen = (size_t)sqlite3_column_bytes(s, 6);
        size_t need = plen + 1 + hlen + mlen + 1;
        if (!path || hlen > SL_CATALOG_HASH_MAX) {
            st = sl_fail(SL_ERR_CORRUPT, "library %s: bad item %lld",
                         lib->path, (long long)id);
        } else if (need > lib->item_cap) {
            char *nb = realloc(lib->item_buf, need);
            if (!nb) st = sl_fail(SL_ERR_NOMEM, "library %s", lib->path);
            else {
                lib->item_buf = nb;
                lib->item_cap = need;
            }
        }
        if (st == SL_OK) {
            char *b = lib->item_buf;
            memcpy(b, path, plen);
            b[plen] = '\0';
            out->path = b;
            if (hlen > 0) {
                memcpy(b + plen + 1, hash, hlen);
                out->hash = (const uint8_t *)(b + plen + 1);
                out->hash_size = hlen;
            }
            if (meta) {
                char *m = b + plen + 1 + hlen;
                memcpy(m, meta, mlen);
                m[mlen] = '\0';
                out->metadata = m;
            }
            out->id = id;
            out->size = sqlite3_column_int64(s, 1);
            out->mtime_ns = sqlite3_column_int64(s, 2);
            out->width = sqlite3_column_int(s, 4);
            out->height = sqlite3_column_int(s, 5);
        }
    }
    sl_cat_done(lib, SL_Q_GET_ITEM);
    return st;
}

/* ---- snapshots ---------------------------------------------------------- */

sl_status sl_catalog_put_snapshot(sl_catalog *lib, const char *model,
                                  const void *data, size_t size) {
    if (!lib || !model || !*model || (size > 0 && !data))
        return sl_fail(SL_ERR_ARG, "library: bad snapshot argument");
    if (size > SL_LIB_SNAPSHOT_MAX)
        return sl_fail(SL_ERR_LIMIT, "library %s: snapshot of %zu bytes",
                       lib->path, size);
    sl_status st = lib_op_begin(lib);
    if (st != SL_OK) return st;
    st = sl_cat_bind_text(lib, SL_Q_SNAP_DEL, 1, model);
    if (st == SL_OK) st = sl_cat_exec(lib, SL_Q_SNAP_DEL);
    else sl_cat_done(lib, SL_Q_SNAP_DEL);
    if (st == SL_OK) {
        st = sl_cat_bind_text(lib, SL_Q_SNAP_PUT, 1, model);
        /* zeroblob keeps an empty snapshot a BLOB rather than NULL */
        if (st == SL_OK && size == 0)
            sqlite3_bind_zeroblob(lib->stmt[SL_Q_SNAP_PUT], 2, 0);
        else if (st == SL_OK)
            sqlite3_bind_blob64(lib->stmt[SL_Q_SNAP_PUT], 2, data, size,
                                SQLITE_STATIC);
        if (st == SL_OK) st = sl_cat_exec(lib, SL_Q_SNAP_PUT);
        else sl_cat_done(lib, SL_Q_SNAP_PUT);
    }
    return lib_op_end(lib, st);
}

sl_status sl_catalog_get_snapshot(sl_catalog *lib, const char *model,
                                  uint8_t **data, size_t *size) {
    if (!lib || !model || !data || !size)
        return sl_fail(SL_ERR_ARG, "library: NULL argument");
    *data = NULL;
    *size = 0;
    sqlite3_stmt *s = lib->stmt[SL_Q_SNAP_GET];
    sl_status st = sl_cat_bind_text(lib, SL_Q_SNAP_GET, 1, model);
    int rc = st == SL_OK ? sqlite3_step(s) : SQLITE_DONE;
    if (st != SL_OK) {
        /* bind failed: message already recorded */
    } else if (rc == SQLITE_DONE) {
        st = sl_fail(SL_ERR_NOT_FOUND, "library %s: no snapshot for '%s'",
                     lib->path, model);
    } else if (rc != SQLITE_ROW) {
        st = sl_cat_fail(lib, rc);
    } else {
        const void *blob = sqlite3_column_blob(s, 0);
        int n = sqlite3_column_bytes(s, 0);
        if (n < 0 || (n > 0 && !blob)) {
            st = sl_fail(SL_ERR_CORRUPT, "library %s: bad snapshot", lib->path);
        } else if (n > 0) {
            uint8_t *copy = malloc((size_t)n);
            if (!copy) st = sl_fail(SL_ERR_NOMEM, "library %s", lib->path);
            else {
                memcpy(copy, blob, (size_t)n);
                *data = copy;
                *size = (size_t)n;
            }
        }
    }
    sl_cat_done(lib, SL_Q_SNAP_GET);
    return st;
}
