/* Opening a library: file checks before SQLite sees it, schema creation and
 * version checks, connection settings, and the prepared statements. */
#include "catalog/catalog_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Milliseconds a statement waits for another connection's lock. */
#define SL_LIB_BUSY_MS 5000

static const char *const k_sql[SL_Q_COUNT_] = {
    [SL_Q_BEGIN] = "BEGIN IMMEDIATE",
    [SL_Q_BEGIN_READ] = "BEGIN DEFERRED",
    [SL_Q_COMMIT] = "COMMIT",
    [SL_Q_ROLLBACK] = "ROLLBACK",
    [SL_Q_SAVEPOINT] = "SAVEPOINT sl_op",
    [SL_Q_RELEASE] = "RELEASE sl_op",
    [SL_Q_ROLLBACK_TO] = "ROLLBACK TO sl_op",
    [SL_Q_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [SL_Q_META_SET] = "INSERT INTO meta(key, value) VALUES (?1, ?2) "
                      "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    [SL_Q_LOOKUP] = "SELECT i.id, i.size, i.mtime_ns, i.hash, "
                    "e.item_id IS NOT NULL FROM items i LEFT JOIN embeddings e "
                    "ON e.item_id = i.id AND e.model = ?2 WHERE i.path = ?1",
    [SL_Q_UPSERT] =
        "INSERT INTO items(path, size, mtime_ns, hash, width, height, "
        "metadata, seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
        "ON CONFLICT(path) DO UPDATE SET size = excluded.size, "
        "mtime_ns = excluded.mtime_ns, hash = excluded.hash, "
        "width = excluded.width, height = excluded.height, "
        "metadata = excluded.metadata, seen = excluded.seen RETURNING id",
    [SL_Q_EMB_PUT] = "INSERT OR REPLACE INTO embeddings(item_id, model, "
                     "format, vec) VALUES (?1, ?2, ?3, ?4)",
    [SL_Q_EMB_DEL] = "DELETE FROM embeddings WHERE item_id = ?1",
    [SL_Q_EMB_DEL_ALL] = "DELETE FROM embeddings",
    /* An upper bound for the load: without the model filter SQLite counts
     * b-tree cells without decoding rows (twice as fast on 100k rows). */
    [SL_Q_EMB_COUNT] = "SELECT count(*) FROM embeddings",
    /* the model as the file records it now, which another connection may
     * have set after this one loaded meta */
    [SL_Q_EMB_COUNT_FILE] = "SELECT count(*) FROM embeddings WHERE model = "
                            "(SELECT value FROM meta WHERE key = 'model_id')",
    [SL_Q_EMB_LOAD] = "SELECT item_id, format, vec FROM embeddings "
                      "WHERE model = ?1 ORDER BY item_id",
    [SL_Q_TOUCH] = "UPDATE items SET seen = ?2 WHERE id = ?1",
    [SL_Q_TOUCH_MTIME] = "UPDATE items SET seen = ?2, mtime_ns = ?3 "
                         "WHERE id = ?1",
    [SL_Q_SET_METADATA] = "UPDATE items SET metadata = ?2 WHERE id = ?1",
    [SL_Q_GET_ITEM] = "SELECT path, size, mtime_ns, hash, width, height, "
                      "metadata FROM items WHERE id = ?1",
    [SL_Q_COUNT] = "SELECT count(*) FROM items",
    [SL_Q_FORGET_ALL] = "DELETE FROM items WHERE seen < ?1",
    /* substr/length count characters on both sides, so the prefix test is
     * exact for any UTF-8 root; LIKE would treat % and _ in paths as
     * wildcards. */
    [SL_Q_FORGET_ROOT] = "DELETE FROM items WHERE seen < ?1 AND "
                         "(path = ?2 OR substr(path, 1, length(?3)) = ?3)",
    [SL_Q_SNAP_DEL] = "DELETE FROM snapshots WHERE model = ?1",
    [SL_Q_SNAP_DEL_ALL] = "DELETE FROM snapshots",
    [SL_Q_SNAP_PUT] = "INSERT INTO snapshots(created, model, blob) VALUES "
                      "(unixepoch(), ?1, ?2)",
    [SL_Q_SNAP_GET] = "SELECT blob FROM snapshots WHERE model = ?1 "
                      "ORDER BY id DESC LIMIT 1",
};

/* Version 1. Tables are STRICT so a wrong type is refused by SQLite itself;
 * embeddings and their items go together (ON DELETE CASCADE). An embedding
 * blob is dense f32 (format 0) or sparse u16 columns + f32 values (format 1),
 * whichever is smaller (docs/LIBRARY.md); the column was added to version 1
 * in place because no version-1 file had been released yet. */
static const char k_schema_v1[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY NOT NULL, value ANY) STRICT;"
    "CREATE TABLE items("
    " id INTEGER PRIMARY KEY,"
    " path TEXT UNIQUE NOT NULL,"
    " size INTEGER NOT NULL,"
    " mtime_ns INTEGER NOT NULL,"
    " hash BLOB,"
    " width INTEGER NOT NULL DEFAULT 0,"
    " height INTEGER NOT NULL DEFAULT 0,"
    " metadata TEXT CHECK (metadata IS NULL OR json_valid(metadata)),"
    " seen INTEGER NOT NULL DEFAULT 0) STRICT;"
    "CREATE INDEX items_seen ON items(seen);"
    "CREATE TABLE embeddings("
    " item_id INTEGER PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,"
    " model TEXT NOT NULL,"
    " format INTEGER NOT NULL DEFAULT 0 CHECK (format IN (0, 1)),"
    " vec BLOB NOT NULL) STRICT;"
    "CREATE TABLE snapshots("
    " id INTEGER PRIMARY KEY,"
    " created INTEGER NOT NULL,"
    " model TEXT NOT NULL,"
    " blob BLOB NOT NULL) STRICT;"
    "INSERT INTO meta(key, value) VALUES ('created', unixepoch()),"
    " ('scan_generation', 0);";

sl_status sl_cat_fail(sl_catalog *lib, int rc) {
    sl_status st = SL_ERR_IO;
    switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        st = SL_ERR_CORRUPT;
        break;
    case SQLITE_NOMEM:
        st = SL_ERR_NOMEM;
        break;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
        st = SL_ERR_ARG;
        break;
    default:
        break;
    }
    const char *msg = lib->db ? sqlite3_errmsg(lib->db) : sqlite3_errstr(rc);
    return sl_fail(st, "library %s: %s", lib->path, msg);
}

void sl_cat_done(sl_catalog *lib, sl_cat_stmt q) {
    sqlite3_reset(lib->stmt[q]);
    sqlite3_clear_bindings(lib->stmt[q]);
}

sl_status sl_cat_exec(sl_catalog *lib, sl_cat_stmt q) {
    int rc = sqlite3_step(lib->stmt[q]);
    sl_status st = SL_OK;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) st = sl_cat_fail(lib, rc);
    sl_cat_done(lib, q);
    return st;
}

sl_status sl_cat_count(sl_catalog *lib, sl_cat_stmt q, int64_t *count) {
    *count = 0;
    int rc = sqlite3_step(lib->stmt[q]);
    sl_status st = SL_OK;
    if (rc == SQLITE_ROW) *count = sqlite3_column_int64(lib->stmt[q], 0);
    else st = sl_cat_fail(lib, rc);
    sl_cat_done(lib, q);
    return st;
}

sl_status sl_cat_bind_text(sl_catalog *lib, sl_cat_stmt q, int i,
                           const char *text) {
    size_t len = strlen(text);
    if (len > 0x7fffffff)
        return sl_fail(SL_ERR_LIMIT, "library %s: text too long", lib->path);
    int rc = sqlite3_bind_text(lib->stmt[q], i, text, (int)len,
                               SQLITE_STATIC);
    return rc == SQLITE_OK ? SL_OK : sl_cat_fail(lib, rc);
}

/* Runs SQL text once (schema and pragmas only; operations use prepared
 * statements). */
static sl_status lib_exec_sql(sl_catalog *lib, const char *sql) {
    int rc = sqlite3_exec(lib->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? SL_OK : sl_cat_fail(lib, rc);
}

/* A pragma or query returning one integer. */
static sl_status lib_query_int(sl_catalog *lib, const char *sql,
                               int64_t *value) {
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(lib->db, sql, -1, &s, NULL);
    if (rc != SQLITE_OK) return sl_cat_fail(lib, rc);
    rc = sqlite3_step(s);
    sl_status st = SL_OK;
    if (rc == SQLITE_ROW) *value = sqlite3_column_int64(s, 0);
    else if (rc == SQLITE_DONE) *value = 0;
    else st = sl_cat_fail(lib, rc);
    sqlite3_finalize(s);
    return st;
}

/* A query returning one text value, compared with `expect`. */
static sl_status lib_query_expect(sl_catalog *lib, const char *sql,
                                  const char *expect, sl_status on_mismatch) {
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(lib->db, sql, -1, &s, NULL);
    if (rc != SQLITE_OK) return sl_cat_fail(lib, rc);
    rc = sqlite3_step(s);
    sl_status st = SL_OK;
    if (rc != SQLITE_ROW) {
        st = rc == SQLITE_DONE ? sl_fail(on_mismatch, "library %s: %s: no "
                                         "result", lib->path, sql)
                               : sl_cat_fail(lib, rc);
    } else {
        const unsigned char *v = sqlite3_column_text(s, 0);
        if (!v || strcmp((const char *)v, expect) != 0)
            st = sl_fail(on_mismatch, "library %s: %s returned '%.200s'",
                         lib->path, sql, v ? (const char *)v : "NULL");
    }
    sqlite3_finalize(s);
    return st;
}

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

/* A non-empty -wal file means another connection may be checkpointing:
 * page 1 (with the new page count) is written before the pages that grow
 * the file, so the raw header may briefly run ahead of the file size. */
static bool lib_has_wal(const char *path) {
    char wal[4096];
    struct stat sb;
    if (snprintf(wal, sizeof wal, "%s-wal", path) >= (int)sizeof wal)
        return true; /* cannot tell: skip the check rather than refuse */
    return stat(wal, &sb) == 0 && sb.st_size > 0;
}

/* Looks at the file before SQLite does: SQLite reads a short or truncated
 * file as zero-filled pages and may only notice much later, so the header
 * is checked here (magic, page size, and page count against the size).
 * *empty is set for a zero-byte file. */
static sl_status lib_check_file(const char *path, bool *exists, bool *empty) {
    struct stat sb;
    *exists = false;
    *empty = false;
    if (stat(path, &sb) != 0) {
        if (errno == ENOENT) return SL_OK;
        return sl_fail(SL_ERR_IO, "library %s: %s", path, strerror(errno));
    }
    *exists = true;
    if (!S_ISREG(sb.st_mode))
        return sl_fail(SL_ERR_IO, "library %s: not a regular file", path);
    if (sb.st_size == 0) {
        *empty = true;
        return SL_OK;
    }
    uint8_t h[100];
    FILE *f = fopen(path, "rb");
    if (!f) return sl_fail(SL_ERR_IO, "library %s: %s", path, strerror(errno));
    size_t got = fread(h, 1, sizeof h, f);
    fclose(f);
    if (got < 16 || memcmp(h, "SQLite format 3", 16) != 0)
        return sl_fail(SL_ERR_CORRUPT,
                       "library %s: file is not a database (no SQLite header)",
                       path);
    if (got < sizeof h)
        return sl_fail(SL_ERR_CORRUPT, "library %s: truncated SQLite header "
                       "(%zu bytes)", path, got);
    /* Page size: big-endian u16 at 16, 1 means 65536. */
    uint32_t page = (uint32_t)h[16] << 8 | h[17];
    if (page == 1) page = 65536;
    if (page < 512 || page > 65536 || (page & (page - 1)) != 0)
        return sl_fail(SL_ERR_CORRUPT, "library %s: bad page size %u", path,
                       page);
    /* The in-header page count (28) is valid when the change counter (24)
     * equals version-valid-for (92); a quiescent file holds at least that
     * many pages. */
    uint32_t pages = be32(h + 28);
    if (pages != 0 && be32(h + 24) == be32(h + 92) && !lib_has_wal(path)) {
        uint64_t need = (uint64_t)pages * page;
        if ((uint64_t)sb.st_size < need)
            return sl_fail(SL_ERR_CORRUPT,
                           "library %s: truncated (%lld bytes, header says "
                           "%u pages of %u = %llu bytes)", path,
                           (long long)sb.st_size, pages, page,
                           (unsigned long long)need);
    }
    return SL_OK;
}

static sl_status lib_create_schema(sl_catalog *lib) {
    /* journal_mode cannot change inside a transaction. */
    sl_status st = lib_query_expect(lib, "PRAGMA journal_mode=WAL", "wal",
                                    SL_ERR_IO);
    if (st != SL_OK) return st;
    st = lib_exec_sql(lib, "BEGIN IMMEDIATE");
    if (st != SL_OK) return st;
    /* Another process may have created it meanwhile: re-check under the
     * write lock. */
    int64_t app = 0, tables = 0;
    st = lib_query_int(lib, "PRAGMA application_id", &app);
    if (st == SL_OK)
        st = lib_query_int(lib, "SELECT count(*) FROM sqlite_schema", &tables);
    if (st == SL_OK && app == 0 && tables == 0) {
        char sql[sizeof k_schema_v1 + 128];
        snprintf(sql, sizeof sql, "%sPRAGMA application_id=%d;"
                 "PRAGMA user_version=%d;", k_schema_v1,
                 SL_CATALOG_APPLICATION_ID, SL_CATALOG_SCHEMA_VERSION);
        st = lib_exec_sql(lib, sql);
    }
    if (st == SL_OK) return lib_exec_sql(lib, "COMMIT");
    sqlite3_exec(lib->db, "ROLLBACK", NULL, NULL, NULL);
    return st;
}

/* Checks application_id / user_version, creating the schema on an empty
 * database when allowed. */
static sl_status lib_check_schema(sl_catalog *lib, unsigned flags) {
    int64_t app = 0, ver = 0, tables = 0;
    sl_status st = lib_query_int(lib, "PRAGMA application_id", &app);
    if (st == SL_OK) st = lib_query_int(lib, "PRAGMA user_version", &ver);
    if (st == SL_OK)
        st = lib_query_int(lib, "SELECT count(*) FROM sqlite_schema", &tables);
    if (st != SL_OK) return st;
    if (app == 0 && ver == 0 && tables == 0) {
        if (!(flags & SL_CATALOG_CREATE))
            return sl_fail(SL_ERR_CORRUPT, "library %s: empty file, not a "
                           "searchlite library (open with create to "
                           "initialize it)", lib->path);
        st = lib_create_schema(lib);
        if (st != SL_OK) return st;
        st = lib_query_int(lib, "PRAGMA application_id", &app);
        if (st == SL_OK) st = lib_query_int(lib, "PRAGMA user_version", &ver);
        if (st != SL_OK) return st;
    }
    if (app != SL_CATALOG_APPLICATION_ID)
        return sl_fail(SL_ERR_CORRUPT, "library %s: not a searchlite library "
                       "(SQLite application_id 0x%llx, expected 0x%x)",
                       lib->path, (unsigned long long)(uint32_t)app,
                       SL_CATALOG_APPLICATION_ID);
    if (ver > SL_CATALOG_SCHEMA_VERSION)
        return sl_fail(SL_ERR_UNSUPPORTED, "library %s: schema version %lld "
                       "is newer than this searchlite (%d); upgrade "
                       "searchlite", lib->path, (long long)ver,
                       SL_CATALOG_SCHEMA_VERSION);
    if (ver < 1)
        return sl_fail(SL_ERR_CORRUPT, "library %s: bad schema version %lld",
                       lib->path, (long long)ver);
    return SL_OK;
}

/* Loads model identity and scan generation from meta. */
static sl_status lib_load_meta(sl_catalog *lib) {
    sqlite3_stmt *s = lib->stmt[SL_Q_META_GET];
    const char *keys[3] = {"model_id", "model_dim", "scan_generation"};
    for (int k = 0; k < 3; k++) {
        sqlite3_bind_text(s, 1, keys[k], -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        sl_status st = SL_OK;
        if (rc == SQLITE_ROW) {
            if (k == 0 && sqlite3_column_type(s, 0) == SQLITE_TEXT) {
                int len = sqlite3_column_bytes(s, 0);
                const unsigned char *v = sqlite3_column_text(s, 0);
                if (len <= 0 || len > SL_CATALOG_MODEL_ID_MAX || !v) {
                    st = sl_fail(SL_ERR_CORRUPT, "library %s: bad model_id",
                                 lib->path);
                } else {
                    lib->model_id = malloc((size_t)len + 1);
                    if (!lib->model_id) st = sl_fail(SL_ERR_NOMEM, "library");
                    else memcpy(lib->model_id, v, (size_t)len + 1);
                }
            } else if (k == 1) {
                int64_t d = sqlite3_column_int64(s, 0);
                if (d < 1 || d > SL_CATALOG_DIM_MAX)
                    st = sl_fail(SL_ERR_CORRUPT, "library %s: bad model_dim "
                                 "%lld", lib->path, (long long)d);
                else lib->dim = (uint32_t)d;
            } else if (k == 2) {
                lib->generation = sqlite3_column_int64(s, 0);
            }
        } else if (rc != SQLITE_DONE) {
            st = sl_cat_fail(lib, rc);
        }
        sl_cat_done(lib, SL_Q_META_GET);
        if (st != SL_OK) return st;
    }
    if ((lib->model_id == NULL) != (lib->dim == 0))
        return sl_fail(SL_ERR_CORRUPT, "library %s: model_id and model_dim "
                       "disagree", lib->path);
    return SL_OK;
}

sl_status sl_catalog_open(const char *path, unsigned flags,
                          sl_catalog **out) {
    if (!out) return sl_fail(SL_ERR_ARG, "library: out is NULL");
    *out = NULL;
    if (!path || !*path) return sl_fail(SL_ERR_ARG, "library: empty path");
    if (flags & ~(unsigned)(SL_CATALOG_CREATE | SL_CATALOG_VERIFY))
        return sl_fail(SL_ERR_ARG, "library %s: unknown flags 0x%x", path,
                       flags);
    bool exists, empty;
    sl_status st = lib_check_file(path, &exists, &empty);
    if (st != SL_OK) return st;
    if (!exists && !(flags & SL_CATALOG_CREATE))
        return sl_fail(SL_ERR_NOT_FOUND, "library %s: no such file", path);
    if (empty && !(flags & SL_CATALOG_CREATE))
        return sl_fail(SL_ERR_CORRUPT, "library %s: zero-byte file, not a "
                       "searchlite library", path);

    sl_catalog *lib = calloc(1, sizeof *lib);
    if (!lib) return sl_fail(SL_ERR_NOMEM, "library %s", path);
    size_t plen = strlen(path);
    lib->path = malloc(plen + 1);
    if (!lib->path) {
        free(lib);
        return sl_fail(SL_ERR_NOMEM, "library %s", path);
    }
    memcpy(lib->path, path, plen + 1);

    int oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
    if (flags & SL_CATALOG_CREATE) oflags |= SQLITE_OPEN_CREATE;
    int rc = sqlite3_open_v2(path, &lib->db, oflags, NULL);
    if (rc != SQLITE_OK) {
        st = sl_cat_fail(lib, rc);
        goto fail;
    }
    sqlite3_extended_result_codes(lib->db, 1);
    sqlite3_busy_timeout(lib->db, SL_LIB_BUSY_MS);

    st = lib_check_schema(lib, flags);
    if (st != SL_OK) goto fail;
    /* WAL: readers never block the writer, and a commit is one append to
     * the log. synchronous=FULL fsyncs the log at every commit, so a
     * committed batch survives power loss as well as kill -9 (NORMAL
     * would only guarantee the latter); see docs/LIBRARY.md. */
    st = lib_query_expect(lib, "PRAGMA journal_mode=WAL", "wal", SL_ERR_IO);
    if (st == SL_OK)
        st = lib_exec_sql(lib, "PRAGMA synchronous=FULL;"
                               "PRAGMA foreign_keys=ON;");
    if (st != SL_OK) goto fail;
    if (flags & SL_CATALOG_VERIFY) {
        st = lib_query_expect(lib, "PRAGMA quick_check", "ok", SL_ERR_CORRUPT);
        if (st != SL_OK) goto fail;
    }
    for (int q = 0; q < SL_Q_COUNT_; q++) {
        rc = sqlite3_prepare_v3(lib->db, k_sql[q], -1, SQLITE_PREPARE_PERSISTENT,
                                &lib->stmt[q], NULL);
        if (rc != SQLITE_OK) {
            st = sl_cat_fail(lib, rc);
            goto fail;
        }
    }
    st = lib_load_meta(lib);
    if (st != SL_OK) goto fail;
    *out = lib;
    return SL_OK;
fail:
    sl_catalog_close(lib);
    return st;
}

void sl_catalog_close(sl_catalog *lib) {
    if (!lib) return;
    if (lib->in_batch && lib->stmt[SL_Q_ROLLBACK])
        sl_cat_exec(lib, SL_Q_ROLLBACK);
    for (int q = 0; q < SL_Q_COUNT_; q++) sqlite3_finalize(lib->stmt[q]);
    sqlite3_close(lib->db);
    free(lib->path);
    free(lib->model_id);
    free(lib->item_buf);
    free(lib->blob_buf);
    free(lib);
}
