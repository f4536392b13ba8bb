/* App files (app_file.h; docs/FORMAT.md "App file (`searchlite export`),
 * version 1" is the specification, byte by byte). The container (header,
 * section table, alignment, CRCs) is src/core/sections.c; this file says
 * what the sections hold and checks them against each other. The comments
 * say why a check is made. */
#include "app_file.h"

#include "ann_file.h"
#include "core/sections.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    APP_VERSION = 1,
    INFO_SIZE = 64,
    ITEM_SIZE = 24, /* i32 width, i32 height, u64 path offset, u64 metadata offset */
    KIND_SPARSE = 1,
    KIND_DENSE = 2
};
#define APP_MAX_DIM 65536u /* COLS are u16: a sparse column must fit */
#define NO_METADATA UINT64_MAX

enum { S_INFO, S_MODL, S_IDS, S_ITEM, S_TEXT, S_ROWF, S_COLS, S_VALS, S_EMBD, S_ANN, S_COUNT };
static const sl_section_kind KINDS[S_COUNT] = {
    {"INFO", "info"},        {"MODL", "model id"}, {"IDS ", "ids"},    {"ITEM", "items"},
    {"TEXT", "text"},        {"ROWF", "row starts"}, {"COLS", "columns"}, {"VALS", "values"},
    {"EMBD", "embeddings"},  {"ANN ", "index snapshot"}};
static const sl_sections_spec SPEC = {"app file", SL_APP_FILE_MAGIC, APP_VERSION, KINDS, S_COUNT};

struct sl_app_file {
    sl_mmap map; /* sl_app_file_open's; empty for a borrowed buffer */
    char model_id[SL_APP_MODEL_ID_MAX + 1];
    uint32_t kind, dim;
    size_t count;
    const int64_t *ids;
    const uint8_t *items; /* (count) records of ITEM_SIZE bytes */
    const char *text;
    sl_sparse_rows sparse;
    const float *dense;
    const uint8_t *ann;
    size_t ann_size;
};

/* Which sections a kind of file has: one function for the writer and the
 * reader, so the two cannot disagree. ANN is optional (dense only):
 * need = 2. */
static void required(uint32_t kind, int need[S_COUNT]) {
    for (int i = 0; i < S_COUNT; i++) need[i] = 0;
    need[S_INFO] = need[S_MODL] = need[S_IDS] = need[S_ITEM] = need[S_TEXT] = 1;
    if (kind == KIND_SPARSE) need[S_ROWF] = need[S_COLS] = need[S_VALS] = 1;
    else {
        need[S_EMBD] = 1;
        need[S_ANN] = 2;
    }
}

/* Every section's size from the info fields (the text's and the snapshot's
 * are free); 0 on overflow of 64 bits. Overflow cannot come from a real
 * collection, only from a hostile INFO. */
static int sizes_of(uint32_t kind, uint64_t dim, uint64_t count, uint64_t nnz, uint64_t model_len, uint64_t size[S_COUNT]) {
    uint64_t t;
    memset(size, 0, S_COUNT * sizeof *size);
    size[S_INFO] = INFO_SIZE;
    size[S_MODL] = model_len;
    if (__builtin_mul_overflow(count, 8, &size[S_IDS]) || __builtin_mul_overflow(count, ITEM_SIZE, &size[S_ITEM]))
        return 0;
    if (kind == KIND_SPARSE)
        return !__builtin_add_overflow(count, 1, &t) && !__builtin_mul_overflow(t, 4, &size[S_ROWF]) &&
               !__builtin_mul_overflow(nnz, 2, &size[S_COLS]) && !__builtin_mul_overflow(nnz, 4, &size[S_VALS]);
    return !__builtin_mul_overflow(count, dim, &t) && !__builtin_mul_overflow(t, 4, &size[S_EMBD]);
}

/* ---- writing ------------------------------------------------------------ */

/* The caller's snapshot must be one over exactly these items: an app that
 * searched it would otherwise return ids the file has no items for. It is
 * loaded (with verify) to check; a copy makes it 8-byte aligned. */
static sl_status check_ann(const sl_app_file_in *in) {
    uint8_t *copy = malloc(in->ann_size);
    if (!copy) return sl_fail(SL_ERR_NOMEM, "app file write: cannot allocate %zu bytes", in->ann_size);
    memcpy(copy, in->ann, in->ann_size);
    sl_ann *a = NULL;
    sl_status st = sl_ann_load_buffer(copy, in->ann_size, 1, &a);
    if (st) {
        char why[512];
        snprintf(why, sizeof why, "%s", sl_last_error());
        free(copy);
        return sl_fail(st == SL_ERR_NOMEM ? st : SL_ERR_ARG, "app file write: ann is not a valid index snapshot: %s", why);
    }
    if (sl_ann_dim(a) != in->dim || sl_ann_count(a) != in->count) {
        st = sl_fail(SL_ERR_ARG, "app file write: ann has %zu items of dimension %zu, the file %zu of %u",
                     sl_ann_count(a), sl_ann_dim(a), in->count, in->dim);
    } else {
        for (size_t i = 0; i < in->count && !st; i++)
            if (!sl_ann_contains(a, in->ids[i]))
                st = sl_fail(SL_ERR_ARG, "app file write: ann lacks id %lld (item %zu)", (long long)in->ids[i], i);
    }
    sl_ann_free(a);
    free(copy);
    return st;
}

/* Everything the reader refuses is refused here first, so that a written
 * file always opens with verify. */
static sl_status check_in(const sl_app_file_in *in, uint64_t *text_size) {
#define BAD(...) sl_fail(SL_ERR_ARG, "app file write: " __VA_ARGS__)
    if (!in) return BAD("NULL input");
    if (!in->model_id) return BAD("NULL model_id");
    size_t ml = strnlen(in->model_id, SL_APP_MODEL_ID_MAX + 1);
    if (ml == 0 || ml > SL_APP_MODEL_ID_MAX) return BAD("model_id must have 1..%d bytes", SL_APP_MODEL_ID_MAX);
    if (in->dim == 0 || in->dim > APP_MAX_DIM) return BAD("dim %u is not in 1..%u", in->dim, APP_MAX_DIM);
    if (!in->sparse == !in->dense) return BAD("exactly one of sparse and dense must be given");
    if (in->count && (!in->ids || !in->width || !in->height || !in->paths)) return BAD("NULL ids, width, height or paths");
    if (!in->ann != !in->ann_size) return BAD("ann and ann_size must both be set or both be empty");
    if (in->ann && in->sparse) return BAD("an index snapshot goes with dense embeddings only");
    uint64_t text = 0;
    for (size_t i = 0; i < in->count; i++) {
        if (in->ids[i] < 0) return BAD("item %zu: id %lld is negative", i, (long long)in->ids[i]);
        if (i && in->ids[i] <= in->ids[i - 1])
            return BAD("item %zu: id %lld does not follow %lld (ids must be strictly ascending)", i, (long long)in->ids[i],
                       (long long)in->ids[i - 1]);
        if (in->width[i] < 0 || in->height[i] < 0)
            return BAD("item %zu: size %d x %d is negative", i, (int)in->width[i], (int)in->height[i]);
        if (!in->paths[i]) return BAD("item %zu: NULL path", i);
        text += strlen(in->paths[i]) + 1;
        if (in->metadata && in->metadata[i]) text += strlen(in->metadata[i]) + 1;
    }
    *text_size = text;
    if (in->sparse) {
        const sl_sparse_rows *s = in->sparse;
        if (s->n != in->count || s->dim != in->dim)
            return BAD("sparse rows are (%zu, %zu), the file has (%zu, %u)", s->n, s->dim, in->count, in->dim);
        if (!s->row_first) return BAD("sparse rows: NULL row_first");
        if (s->row_first[0] != 0) return BAD("sparse rows: row_first[0] is %u, not 0", s->row_first[0]);
        for (size_t r = 0; r < s->n; r++)
            if (s->row_first[r + 1] < s->row_first[r]) return BAD("sparse rows: row_first decreases at row %zu", r + 1);
        uint32_t nnz = s->row_first[s->n];
        if (nnz && (!s->col || !s->val)) return BAD("sparse rows: NULL col or val");
        for (uint32_t e = 0; e < nnz; e++) {
            if (s->col[e] >= in->dim) return BAD("sparse rows: entry %u: column %u >= dim %u", e, s->col[e], in->dim);
            if (!isfinite(s->val[e])) return BAD("sparse rows: entry %u: value is not finite", e);
        }
    } else {
        uint64_t n;
        if (__builtin_mul_overflow((uint64_t)in->count, (uint64_t)in->dim, &n) || n > SIZE_MAX / 4)
            return sl_fail(SL_ERR_LIMIT, "app file write: %zu x %u embeddings are too large", in->count, in->dim);
        for (size_t i = 0; i < (size_t)n; i++)
            if (!isfinite(in->dense[i])) return BAD("dense embeddings: row %zu, dimension %zu is not finite", i / in->dim, i % in->dim);
    }
#undef BAD
    return in->ann ? check_ann(in) : SL_OK;
}

sl_status sl_app_file_write_buffer(const sl_app_file_in *in, uint8_t **data, size_t *size) {
    if (!data || !size) return sl_fail(SL_ERR_ARG, "app file write: NULL output");
    *data = NULL;
    *size = 0;
    uint64_t text_size = 0;
    sl_status st = check_in(in, &text_size);
    if (st) return st;
    const uint32_t kind = in->sparse ? KIND_SPARSE : KIND_DENSE;
    const uint64_t nnz = in->sparse ? in->sparse->row_first[in->count] : 0;
    const size_t ml = strlen(in->model_id);
    int need[S_COUNT];
    uint64_t sz[S_COUNT];
    required(kind, need);
    if (!in->ann) need[S_ANN] = 0;
    if (!sizes_of(kind, in->dim, in->count, nnz, ml, sz))
        return sl_fail(SL_ERR_LIMIT, "app file write: %zu items are too many for the format", in->count);
    sz[S_TEXT] = text_size;
    sz[S_ANN] = in->ann_size;

    /* In the order of KINDS, which is the order docs/FORMAT.md lists. */
    sl_section_in sec[S_COUNT];
    int at[S_COUNT];
    size_t n = 0;
    for (int k = 0; k < S_COUNT; k++) {
        at[k] = -1;
        if (!need[k]) continue;
        at[k] = (int)n;
        sec[n++] = (sl_section_in){KINDS[k].tag, NULL, sz[k], 0};
    }
    uint64_t total;
    if ((st = sl_sections_layout(sec, n, &total))) return sl_fail_prefix(st, "app file write");
    if (total > SIZE_MAX)
        return sl_fail(SL_ERR_LIMIT, "app file write: %llu bytes do not fit in memory", (unsigned long long)total);
    uint8_t *buf = calloc(1, (size_t)total); /* zeroed: padding and reserved bytes are 0 */
    if (!buf) return sl_fail(SL_ERR_NOMEM, "app file write: cannot allocate %llu bytes", (unsigned long long)total);
#define AT(k) (buf + sec[at[k]].offset)

    uint8_t *info = AT(S_INFO);
    sl_put_u32(info + 0, kind);
    sl_put_u32(info + 4, in->dim);
    sl_put_u64(info + 8, in->count);
    sl_put_u64(info + 16, nnz);
    sl_put_u32(info + 24, (uint32_t)ml);
    memcpy(AT(S_MODL), in->model_id, ml);
    uint8_t *ids = AT(S_IDS), *items = AT(S_ITEM), *text = AT(S_TEXT);
    uint64_t t = 0;
    for (size_t i = 0; i < in->count; i++) {
        sl_put_u64(ids + 8 * i, (uint64_t)in->ids[i]);
        uint8_t *it = items + (uint64_t)i * ITEM_SIZE;
        sl_put_u32(it + 0, (uint32_t)in->width[i]);
        sl_put_u32(it + 4, (uint32_t)in->height[i]);
        /* path then metadata, item after item: the bytes follow from the
         * input alone (no sharing of equal strings, which would make the
         * layout depend on a hashing strategy) */
        size_t len = strlen(in->paths[i]) + 1;
        sl_put_u64(it + 8, t);
        memcpy(text + t, in->paths[i], len);
        t += len;
        const char *m = in->metadata ? in->metadata[i] : NULL;
        if (m) {
            len = strlen(m) + 1;
            sl_put_u64(it + 16, t);
            memcpy(text + t, m, len);
            t += len;
        } else {
            sl_put_u64(it + 16, NO_METADATA);
        }
    }
    if (kind == KIND_SPARSE) {
        const sl_sparse_rows *s = in->sparse;
        /* little-endian hosts only (core.h): the arrays are the file's bytes */
        memcpy(AT(S_ROWF), s->row_first, (size_t)sz[S_ROWF]);
        if (nnz) {
            memcpy(AT(S_COLS), s->col, (size_t)sz[S_COLS]);
            memcpy(AT(S_VALS), s->val, (size_t)sz[S_VALS]);
        }
    } else {
        if (sz[S_EMBD]) memcpy(AT(S_EMBD), in->dense, (size_t)sz[S_EMBD]);
        if (in->ann) memcpy(AT(S_ANN), in->ann, in->ann_size);
    }
#undef AT
    sl_sections_seal(buf, total, SL_APP_FILE_MAGIC, APP_VERSION, sec, n);
    *data = buf;
    *size = (size_t)total;
    return SL_OK;
}

sl_status sl_app_file_write(const sl_app_file_in *in, const char *path) {
    if (!path) return sl_fail(SL_ERR_ARG, "app file write: NULL path");
    uint8_t *data;
    size_t size;
    sl_status st = sl_app_file_write_buffer(in, &data, &size);
    if (!st) st = sl_file_write_atomic(path, data, size);
    free(data);
    return st ? sl_fail_prefix(st, path) : SL_OK;
}

/* ---- reading ------------------------------------------------------------ */

#define FAIL(k, st, ...) sl_section_fail(&SPEC, (k), (st), __VA_ARGS__)

static sl_status parse(const uint8_t *b, size_t size, int verify, sl_app_file *f) {
    sl_section sec[S_COUNT];
    sl_status st = sl_sections_parse(&SPEC, b, size, verify, NULL, sec);
    if (st) return st;

    /* INFO and MODL describe the rest: their CRCs are checked whatever
     * verify, so that damage there is reported as damage. */
    if (!sec[S_INFO].present) return FAIL(S_INFO, SL_ERR_CORRUPT, "missing");
    if (sec[S_INFO].size != INFO_SIZE)
        return FAIL(S_INFO, SL_ERR_CORRUPT, "size %llu, expected %d", (unsigned long long)sec[S_INFO].size, INFO_SIZE);
    if ((st = sl_section_check_crc(&SPEC, S_INFO, sec))) return st;
    const uint8_t *info = sec[S_INFO].data;
    const uint32_t kind = sl_get_u32(info), dim = sl_get_u32(info + 4), ml = sl_get_u32(info + 24);
    const uint64_t count = sl_get_u64(info + 8), nnz = sl_get_u64(info + 16);
    if (kind != KIND_SPARSE && kind != KIND_DENSE)
        return FAIL(S_INFO, SL_ERR_CORRUPT, "kind %u is not 1 (sparse) or 2 (dense)", kind);
    if (!dim) return FAIL(S_INFO, SL_ERR_CORRUPT, "dim is 0");
    if (dim > APP_MAX_DIM) return FAIL(S_INFO, SL_ERR_LIMIT, "dim %u above %u", dim, APP_MAX_DIM);
    if (kind == KIND_DENSE && nnz) return FAIL(S_INFO, SL_ERR_CORRUPT, "nnz %llu in a dense file (must be 0)", (unsigned long long)nnz);
    /* the row starts are u32 */
    if (nnz > UINT32_MAX) return FAIL(S_INFO, SL_ERR_CORRUPT, "nnz %llu above 2^32 - 1", (unsigned long long)nnz);
    if (!ml || ml > SL_APP_MODEL_ID_MAX)
        return FAIL(S_INFO, SL_ERR_CORRUPT, "model id length %u is not in 1..%d", ml, SL_APP_MODEL_ID_MAX);
    if (!sl_all_zero(info + 28, INFO_SIZE - 28)) return FAIL(S_INFO, SL_ERR_CORRUPT, "reserved bytes 28..63 are not zero");
    if (count > SIZE_MAX / ITEM_SIZE) return FAIL(S_INFO, SL_ERR_LIMIT, "count %llu too large", (unsigned long long)count);

    int need[S_COUNT];
    uint64_t want[S_COUNT];
    required(kind, need);
    const char *kname = kind == KIND_SPARSE ? "sparse" : "dense";
    if (!sizes_of(kind, dim, count, nnz, ml, want))
        return FAIL(S_INFO, SL_ERR_CORRUPT, "count %llu (nnz %llu, dim %u): section sizes overflow", (unsigned long long)count,
                    (unsigned long long)nnz, dim);
    for (int k = 0; k < S_COUNT; k++) {
        if (need[k] == 1 && !sec[k].present) return FAIL(k, SL_ERR_CORRUPT, "missing in a %s file", kname);
        if (!need[k] && sec[k].present) return FAIL(k, SL_ERR_CORRUPT, "unexpected in a %s file", kname);
        if (sec[k].present && k != S_TEXT && k != S_ANN && sec[k].size != want[k])
            return FAIL(k, SL_ERR_CORRUPT, "size %llu, expected %llu", (unsigned long long)sec[k].size,
                        (unsigned long long)want[k]);
    }

    if ((st = sl_section_check_crc(&SPEC, S_MODL, sec))) return st;
    if (memchr(sec[S_MODL].data, 0, ml)) return FAIL(S_MODL, SL_ERR_CORRUPT, "a NUL byte inside the model id");
    memcpy(f->model_id, sec[S_MODL].data, ml);
    f->model_id[ml] = 0;
    f->kind = kind;
    f->dim = dim;
    f->count = (size_t)count;

    /* ids: the searcher's hits are ids, and callers binary-search them */
    const int64_t *ids = (const int64_t *)(uintptr_t)sec[S_IDS].data;
    for (size_t i = 0; i < f->count; i++) {
        if (ids[i] < 0) return FAIL(S_IDS, SL_ERR_CORRUPT, "item %zu: id %lld is negative", i, (long long)ids[i]);
        if (i && ids[i] <= ids[i - 1])
            return FAIL(S_IDS, SL_ERR_CORRUPT, "item %zu: id %lld after %lld (must be strictly ascending)", i,
                        (long long)ids[i], (long long)ids[i - 1]);
    }
    f->ids = ids;

    /* text: a NUL at the end makes every offset inside it a terminated
     * string, so no offset check needs to find the string's end */
    const uint64_t tsize = sec[S_TEXT].size;
    if (tsize && sec[S_TEXT].data[tsize - 1])
        return FAIL(S_TEXT, SL_ERR_CORRUPT, "the last of its %llu bytes is not NUL", (unsigned long long)tsize);
    const uint8_t *items = sec[S_ITEM].data;
    for (size_t i = 0; i < f->count; i++) {
        const uint8_t *it = items + (uint64_t)i * ITEM_SIZE;
        int32_t w = (int32_t)sl_get_u32(it), h = (int32_t)sl_get_u32(it + 4);
        uint64_t p = sl_get_u64(it + 8), m = sl_get_u64(it + 16);
        if (w < 0 || h < 0) return FAIL(S_ITEM, SL_ERR_CORRUPT, "item %zu: size %d x %d is negative", i, (int)w, (int)h);
        if (p >= tsize)
            return FAIL(S_ITEM, SL_ERR_CORRUPT, "item %zu: path offset %llu outside the %llu-byte text", i,
                        (unsigned long long)p, (unsigned long long)tsize);
        if (m != NO_METADATA && m >= tsize)
            return FAIL(S_ITEM, SL_ERR_CORRUPT, "item %zu: metadata offset %llu outside the %llu-byte text", i,
                        (unsigned long long)m, (unsigned long long)tsize);
    }
    f->items = items;
    f->text = (const char *)sec[S_TEXT].data;

    if (kind == KIND_SPARSE) {
        const uint32_t *rf = (const uint32_t *)(uintptr_t)sec[S_ROWF].data;
        const uint16_t *col = (const uint16_t *)(uintptr_t)sec[S_COLS].data;
        const float *val = (const float *)(uintptr_t)sec[S_VALS].data;
        if (rf[0] != 0) return FAIL(S_ROWF, SL_ERR_CORRUPT, "row 0 starts at %u, not 0", rf[0]);
        for (size_t r = 0; r < f->count; r++)
            if (rf[r + 1] < rf[r])
                return FAIL(S_ROWF, SL_ERR_CORRUPT, "row %zu starts at %u, before row %zu (%u)", r + 1, rf[r + 1], r, rf[r]);
        if (rf[f->count] != nnz)
            return FAIL(S_ROWF, SL_ERR_CORRUPT, "the rows end at %u, INFO says nnz %llu", rf[f->count],
                        (unsigned long long)nnz);
        /* always, not only with verify: a search indexes the query with
         * every column, so one out of range is a read out of bounds */
        for (uint64_t e = 0; e < nnz; e++)
            if (col[e] >= dim) return FAIL(S_COLS, SL_ERR_CORRUPT, "entry %llu: column %u >= dim %u", (unsigned long long)e, col[e], dim);
        if (verify)
            for (uint64_t e = 0; e < nnz; e++)
                if (!isfinite(val[e])) return FAIL(S_VALS, SL_ERR_CORRUPT, "entry %llu is not finite", (unsigned long long)e);
        f->sparse = (sl_sparse_rows){f->count, dim, rf, col, val};
    } else {
        const float *x = (const float *)(uintptr_t)sec[S_EMBD].data;
        if (verify)
            for (uint64_t i = 0; i < count * dim; i++)
                if (!isfinite(x[i]))
                    return FAIL(S_EMBD, SL_ERR_CORRUPT, "row %llu, dimension %llu is not finite", (unsigned long long)(i / dim),
                                (unsigned long long)(i % dim));
        f->dense = x;
        if (sec[S_ANN].present) {
            /* not parsed here (sl_ann_load_buffer does that, as hostile
             * input); only what tells a snapshot from something else */
            if (sec[S_ANN].size < 64 || memcmp(sec[S_ANN].data, "SLANNIDX", 8))
                return FAIL(S_ANN, SL_ERR_CORRUPT, "%llu bytes, not an index snapshot (magic \"SLANNIDX\")",
                            (unsigned long long)sec[S_ANN].size);
            if (sec[S_ANN].size > SIZE_MAX) return FAIL(S_ANN, SL_ERR_LIMIT, "too large");
            f->ann = sec[S_ANN].data;
            f->ann_size = (size_t)sec[S_ANN].size;
        }
    }
    return SL_OK;
}
#undef FAIL

sl_status sl_app_file_open_buffer(const void *data, size_t size, int verify, sl_app_file **out) {
    if (!out) return sl_fail(SL_ERR_ARG, "app file: NULL output");
    *out = NULL;
    if (!data && size) return sl_fail(SL_ERR_ARG, "app file: NULL buffer");
    /* 64-byte aligned sections make every array aligned for its type only
     * if the buffer itself is aligned for the widest (int64 ids) */
    if ((uintptr_t)data % 8) return sl_fail(SL_ERR_ARG, "app file: buffer is not 8-byte aligned");
    sl_app_file *f = calloc(1, sizeof *f);
    if (!f) return sl_fail(SL_ERR_NOMEM, "app file: out of memory");
    sl_status st = parse(data, size, verify, f);
    if (st) {
        free(f);
        return st;
    }
    *out = f;
    return SL_OK;
}

sl_status sl_app_file_open(const char *path, int verify, sl_app_file **out) {
    if (!out) return sl_fail(SL_ERR_ARG, "app file: NULL output");
    *out = NULL;
    if (!path) return sl_fail(SL_ERR_ARG, "app file: NULL path");
    sl_mmap map;
    sl_status st = sl_mmap_open(path, &map);
    if (st) return st; /* the message names the path already */
    sl_app_file *f = calloc(1, sizeof *f);
    if (!f) {
        sl_mmap_close(&map);
        return sl_fail(SL_ERR_NOMEM, "%s: out of memory", path);
    }
    st = parse(map.data, map.size, verify, f);
    if (st) {
        free(f);
        sl_mmap_close(&map);
        return sl_fail_prefix(st, path);
    }
    f->map = map; /* the arrays point into it until close */
    *out = f;
    return SL_OK;
}

void sl_app_file_close(sl_app_file *f) {
    if (!f) return;
    sl_mmap_close(&f->map);
    free(f);
}

int sl_app_file_sniff(const void *head, size_t size) {
    return head && size >= 8 && !memcmp(head, SL_APP_FILE_MAGIC, 8);
}

const char *sl_app_file_model_id(const sl_app_file *f) { return f ? f->model_id : NULL; }
uint32_t sl_app_file_dim(const sl_app_file *f) { return f ? f->dim : 0; }
size_t sl_app_file_count(const sl_app_file *f) { return f ? f->count : 0; }
const int64_t *sl_app_file_ids(const sl_app_file *f) { return f ? f->ids : NULL; }
const sl_sparse_rows *sl_app_file_sparse(const sl_app_file *f) { return f && f->kind == KIND_SPARSE ? &f->sparse : NULL; }
const float *sl_app_file_dense(const sl_app_file *f) { return f && f->kind == KIND_DENSE ? f->dense : NULL; }

const uint8_t *sl_app_file_ann(const sl_app_file *f, size_t *size) {
    if (size) *size = f ? f->ann_size : 0;
    return f ? f->ann : NULL;
}

void sl_app_file_item(const sl_app_file *f, size_t r, const char **path, const char **metadata, int32_t *width,
                      int32_t *height) {
    const char *p = NULL, *m = NULL;
    int32_t w = 0, h = 0;
    if (f && r < f->count) { /* offsets were checked at open */
        const uint8_t *it = f->items + (uint64_t)r * ITEM_SIZE;
        w = (int32_t)sl_get_u32(it);
        h = (int32_t)sl_get_u32(it + 4);
        p = f->text + sl_get_u64(it + 8);
        uint64_t mo = sl_get_u64(it + 16);
        m = mo == NO_METADATA ? NULL : f->text + mo;
    }
    if (path) *path = p;
    if (metadata) *metadata = m;
    if (width) *width = w;
    if (height) *height = h;
}
