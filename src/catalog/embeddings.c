/* Embedding blobs: choosing and encoding the stored format on put, and
 * reading every embedding back as a dense matrix or as CSR rows. A blob is
 * read as hostile input (the file may have been edited or damaged): its size
 * must match its format, sparse columns must be strictly increasing and
 * below dim, and every value must be finite. */
#include "catalog/catalog_internal.h"
#include "index/sparse.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Formats, sizes and the nnz rule are specified in docs/LIBRARY.md. Hosts
 * are little-endian (core.h), so u16 and f32 are stored as their memory
 * bytes; memcpy handles the blob's arbitrary alignment. */

sl_status sl_cat_encode(sl_catalog *lib, const float *vec, int *format,
                        const void **blob, size_t *size) {
    size_t dim = lib->dim, nnz = 0;
    for (size_t j = 0; j < dim; j++) nnz += vec[j] != 0.0f;
    /* Strictly smaller only: at a tie the dense form is as small and needs
     * no decoding. */
    if (6 * nnz >= 4 * dim) {
        *format = SL_EMB_DENSE;
        *blob = vec;
        *size = 4 * dim;
        return SL_OK;
    }
    *format = SL_EMB_SPARSE;
    if (nnz == 0) { /* all zeros: the empty blob (the buffer may not exist) */
        *blob = vec;
        *size = 0;
        return SL_OK;
    }
    size_t need = 6 * nnz; /* dim <= 65536: no overflow */
    if (need > lib->blob_cap) {
        /* Sized for the worst sparse case once, so puts never reallocate. */
        size_t cap = 4 * dim;
        uint8_t *nb = realloc(lib->blob_buf, cap);
        if (!nb) return sl_fail(SL_ERR_NOMEM, "library %s", lib->path);
        lib->blob_buf = nb;
        lib->blob_cap = cap;
    }
    uint8_t *cols = lib->blob_buf, *vals = lib->blob_buf + 2 * nnz;
    size_t k = 0;
    for (size_t j = 0; j < dim; j++) {
        if (vec[j] == 0.0f) continue;
        uint16_t c = (uint16_t)j;
        memcpy(cols + 2 * k, &c, 2);
        memcpy(vals + 4 * k, &vec[j], 4);
        k++;
    }
    *blob = lib->blob_buf;
    *size = need;
    return SL_OK;
}

/* A checked blob. Dense: dim values at vals. Sparse: nnz (column, value)
 * pairs, columns at cols. Both point into SQLite's row memory. */
typedef struct emb_view {
    int format;
    size_t nnz;
    const uint8_t *cols;
    const uint8_t *vals;
} emb_view;

static float emb_val(const emb_view *v, size_t k) {
    float x;
    memcpy(&x, v->vals + 4 * k, 4);
    return x;
}

static uint16_t emb_col(const emb_view *v, size_t k) {
    uint16_t c;
    memcpy(&c, v->cols + 2 * k, 2);
    return c;
}

static sl_status emb_check(sl_catalog *lib, int64_t id, int64_t format,
                           const uint8_t *blob, int size, emb_view *v) {
    size_t dim = lib->dim;
    memset(v, 0, sizeof *v);
    if (size < 0 || (size > 0 && !blob))
        return sl_fail(SL_ERR_CORRUPT, "library %s: embedding of item %lld "
                       "is unreadable", lib->path, (long long)id);
    size_t bytes = (size_t)size;
    if (format == SL_EMB_DENSE) {
        if (bytes != 4 * dim)
            return sl_fail(SL_ERR_CORRUPT, "library %s: embedding of item "
                           "%lld has %zu bytes, expected %zu", lib->path,
                           (long long)id, bytes, 4 * dim);
        v->nnz = dim;
        v->vals = blob;
    } else if (format == SL_EMB_SPARSE) {
        if (bytes % 6 != 0 || bytes / 6 > dim)
            return sl_fail(SL_ERR_CORRUPT, "library %s: sparse embedding of "
                           "item %lld has %zu bytes, expected 6 * nnz with "
                           "nnz <= %zu", lib->path, (long long)id, bytes, dim);
        v->nnz = bytes / 6;
        if (v->nnz > 0) { /* an empty blob may come back as NULL */
            v->cols = blob;
            v->vals = blob + 2 * v->nnz;
        }
        for (size_t k = 0; k < v->nnz; k++) {
            uint16_t c = emb_col(v, k);
            if (c >= dim || (k > 0 && c <= emb_col(v, k - 1)))
                return sl_fail(SL_ERR_CORRUPT, "library %s: sparse embedding "
                               "of item %lld: column %u at entry %zu is out "
                               "of range or not increasing", lib->path,
                               (long long)id, c, k);
        }
    } else {
        return sl_fail(SL_ERR_CORRUPT, "library %s: embedding of item %lld "
                       "has unknown format %lld", lib->path, (long long)id,
                       (long long)format);
    }
    v->format = (int)format;
    for (size_t k = 0; k < v->nnz; k++)
        if (!isfinite(emb_val(v, k)))
            return sl_fail(SL_ERR_CORRUPT, "library %s: embedding of item "
                           "%lld is not finite", lib->path, (long long)id);
    return SL_OK;
}

/* Called for each stored row in item id order with its checked blob. */
typedef sl_status (*emb_row_fn)(void *ctx, size_t row, const emb_view *v);

/* Steps every embedding of the current model; `n` is the bound counted in
 * the same transaction, so more rows than that is an inconsistency. *got
 * receives the number of rows read. */
static sl_status lib_each_row(sl_catalog *lib, int64_t *ids, size_t n,
                              emb_row_fn fn, void *ctx, size_t *got) {
    sqlite3_stmt *s = lib->stmt[SL_Q_EMB_LOAD];
    sl_status st = sl_cat_bind_text(lib, SL_Q_EMB_LOAD, 1, lib->model_id);
    size_t row = 0;
    int rc = SQLITE_DONE;
    while (st == SL_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (row >= n) {
            st = sl_fail(SL_ERR_CORRUPT, "library %s: embedding count changed "
                         "while reading", lib->path);
            break;
        }
        int64_t id = sqlite3_column_int64(s, 0);
        int64_t format = sqlite3_column_int64(s, 1);
        const uint8_t *blob = sqlite3_column_blob(s, 2);
        int size = sqlite3_column_bytes(s, 2);
        emb_view v;
        st = emb_check(lib, id, format, blob, size, &v);
        if (st == SL_OK) st = fn(ctx, row, &v);
        if (st != SL_OK) break;
        ids[row++] = id;
    }
    if (st == SL_OK && rc != SQLITE_DONE) st = sl_cat_fail(lib, rc);
    sl_cat_done(lib, SL_Q_EMB_LOAD);
    *got = row;
    return st;
}

/* Opens the read snapshot (unless a batch already is one) and counts the
 * embeddings in it: a bound on the current model's, which set_model keeps
 * alone in the table. */
static sl_status lib_read_begin(sl_catalog *lib, bool *own_tx,
                                int64_t *count) {
    *own_tx = false;
    *count = 0;
    if (!lib->model_id)
        return sl_fail(SL_ERR_STATE, "library %s: no model set", lib->path);
    /* The count and the rows must come from one snapshot: inside a batch
     * the batch is that snapshot, otherwise a read transaction. */
    if (sqlite3_get_autocommit(lib->db)) {
        sl_status bs = sl_cat_exec(lib, SL_Q_BEGIN_READ);
        if (bs != SL_OK) return bs;
        *own_tx = true;
    }
    sl_status st = sl_cat_count(lib, SL_Q_EMB_COUNT, count);
    if (st == SL_OK && (*count < 0 || (uint64_t)*count >= SIZE_MAX / 8))
        st = sl_fail(SL_ERR_LIMIT, "library %s: %lld embeddings do not fit in "
                     "memory", lib->path, (long long)*count);
    return st;
}

static void lib_read_end(sl_catalog *lib, bool own_tx) {
    if (!own_tx) return;
    /* read-only: ending it cannot lose anything */
    sqlite3_step(lib->stmt[SL_Q_COMMIT]);
    sl_cat_done(lib, SL_Q_COMMIT);
}

/* ---- dense ---------------------------------------------------------------- */

typedef struct dense_ctx {
    float *vecs;
    size_t dim;
} dense_ctx;

static sl_status dense_row(void *ctx, size_t row, const emb_view *v) {
    dense_ctx *c = ctx;
    float *dst = c->vecs + row * c->dim;
    if (v->format == SL_EMB_DENSE) {
        memcpy(dst, v->vals, 4 * c->dim);
    } else {
        memset(dst, 0, 4 * c->dim);
        for (size_t k = 0; k < v->nnz; k++) dst[emb_col(v, k)] = emb_val(v, k);
    }
    return SL_OK;
}

sl_status sl_catalog_load_embeddings(sl_catalog *lib, int64_t **ids,
                                     float **vecs, size_t *n, uint32_t *dim) {
    if (!lib || !ids || !vecs || !n || !dim)
        return sl_fail(SL_ERR_ARG, "library: NULL argument");
    *ids = NULL;
    *vecs = NULL;
    *n = 0;
    *dim = 0;
    bool own_tx;
    int64_t count;
    size_t got = 0;
    sl_status st = lib_read_begin(lib, &own_tx, &count);
    int64_t *id_buf = NULL;
    float *vec_buf = NULL;
    size_t cells = 0, bytes = 0;
    if (st == SL_OK && count > 0) {
        if (sl_mul_overflow((size_t)count, lib->dim, &cells) ||
            sl_mul_overflow(cells, sizeof(float), &bytes)) {
            st = sl_fail(SL_ERR_LIMIT, "library %s: %lld embeddings do not fit "
                         "in memory", lib->path, (long long)count);
        } else {
            id_buf = sl_malloc_array((size_t)count, sizeof *id_buf);
            vec_buf = sl_malloc_aligned(bytes);
            if (!id_buf || !vec_buf)
                st = sl_fail(SL_ERR_NOMEM, "library %s: %lld embeddings",
                             lib->path, (long long)count);
        }
        dense_ctx c = {vec_buf, lib->dim};
        if (st == SL_OK)
            st = lib_each_row(lib, id_buf, (size_t)count, dense_row, &c, &got);
    }
    lib_read_end(lib, own_tx);
    if (st != SL_OK) {
        free(id_buf);
        sl_free_aligned(vec_buf);
        return st;
    }
    if (got == 0) { /* documented: both NULL when there is nothing */
        free(id_buf);
        sl_free_aligned(vec_buf);
        id_buf = NULL;
        vec_buf = NULL;
    }
    *ids = id_buf;
    *vecs = vec_buf;
    *n = got;
    *dim = lib->dim;
    return SL_OK;
}

/* ---- sparse (CSR) --------------------------------------------------------- */

typedef struct csr_ctx {
    sl_catalog *lib;
    uint32_t *first; /* (n + 1) */
    uint16_t *col;   /* (cap) */
    float *val;      /* (cap) */
    size_t nnz, cap;
} csr_ctx;

/* Makes room for `more` entries, doubling so the total cost stays linear. */
static sl_status csr_reserve(csr_ctx *c, size_t more) {
    size_t need;
    if (sl_add_overflow(c->nnz, more, &need) || need > UINT32_MAX)
        return sl_fail(SL_ERR_LIMIT, "library %s: more than %u non-zero "
                       "embedding values", c->lib->path, UINT32_MAX);
    if (need <= c->cap) return SL_OK;
    size_t cap = c->cap < 1024 ? 1024 : c->cap;
    while (cap < need) cap *= 2; /* need <= UINT32_MAX: no overflow */
    if (cap > UINT32_MAX) cap = UINT32_MAX;
    size_t col_bytes, val_bytes;
    if (sl_mul_overflow(cap, sizeof *c->col, &col_bytes) ||
        sl_mul_overflow(cap, sizeof *c->val, &val_bytes))
        return sl_fail(SL_ERR_LIMIT, "library %s: %zu non-zero embedding "
                       "values", c->lib->path, need);
    /* Each array is kept as soon as it grows, so a failure leaves c whole
     * for the caller to free. */
    uint16_t *col = realloc(c->col, col_bytes);
    if (col) c->col = col;
    float *val = col ? realloc(c->val, val_bytes) : NULL;
    if (val) c->val = val;
    if (!col || !val)
        return sl_fail(SL_ERR_NOMEM, "library %s: %zu non-zero embedding "
                       "values", c->lib->path, need);
    c->cap = cap;
    return SL_OK;
}

static sl_status csr_row(void *ctx, size_t row, const emb_view *v) {
    csr_ctx *c = ctx;
    c->first[row] = (uint32_t)c->nnz;
    /* v->nnz bounds this row's non-zeros, dense or sparse */
    sl_status st = csr_reserve(c, v->nnz);
    if (st != SL_OK) return st;
    for (size_t k = 0; k < v->nnz; k++) {
        float x = emb_val(v, k);
        if (x == 0.0f) continue; /* CSR rows hold exactly the non-zeros */
        c->col[c->nnz] = v->format == SL_EMB_DENSE ? (uint16_t)k : emb_col(v, k);
        c->val[c->nnz++] = x;
    }
    return SL_OK;
}

sl_status sl_catalog_load_sparse(sl_catalog *lib, int64_t **ids,
                                 sl_sparse_rows *rows) {
    if (rows) memset(rows, 0, sizeof *rows);
    if (ids) *ids = NULL;
    if (!lib || !ids || !rows)
        return sl_fail(SL_ERR_ARG, "library: NULL argument");
    bool own_tx;
    int64_t count;
    sl_status st = lib_read_begin(lib, &own_tx, &count);
    int64_t *id_buf = NULL;
    size_t got = 0;
    csr_ctx c = {.lib = lib};
    if (st == SL_OK) {
        size_t n = (size_t)count; /* < SIZE_MAX / 8: n + 1 cannot overflow */
        c.first = sl_malloc_array(n + 1, sizeof *c.first);
        if (n > 0) id_buf = sl_malloc_array(n, sizeof *id_buf);
        if (!c.first || (n > 0 && !id_buf))
            st = sl_fail(SL_ERR_NOMEM, "library %s: %zu embeddings",
                         lib->path, n);
        /* col and val always exist (at least one slot), as in
         * sl_sparse_from_dense */
        /* Room for 32 values a row up front (lite rows hold about 27), so
         * that a large library is not copied by repeated doubling. */
        if (st == SL_OK) st = csr_reserve(&c, n < ((size_t)1 << 25) ? 32 * n + 1 : (size_t)1 << 30);
        if (st == SL_OK && n > 0)
            st = lib_each_row(lib, id_buf, n, csr_row, &c, &got);
        if (st == SL_OK) c.first[got] = (uint32_t)c.nnz;
    }
    lib_read_end(lib, own_tx);
    if (st != SL_OK) {
        free(id_buf);
        free(c.first);
        free(c.col);
        free(c.val);
        return st;
    }
    if (got == 0) {
        free(id_buf);
        id_buf = NULL;
    }
    *ids = id_buf;
    rows->n = got;
    rows->dim = lib->dim;
    rows->row_first = c.first;
    rows->col = c.col;
    rows->val = c.val;
    return SL_OK;
}
