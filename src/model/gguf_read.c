/* GGUF reader: validates the whole header up front, then serves zero-copy
 * views into the caller's buffer. */
#include "gguf.h"

#include <stdlib.h>
#include <string.h>

#define GGUF_MAX_KV (1u << 16)
#define GGUF_MAX_TENSORS (1u << 16)
#define GGUF_MAX_ARRAY_DEPTH 1 /* arrays of arrays are refused */

typedef struct kv_entry {
    sl_gguf_str key;
    sl_gguf_type type;
    const uint8_t *value;     /* first byte of the value */
    sl_gguf_type elem_type;   /* arrays */
    uint64_t count;           /* arrays */
    const uint8_t **strings;  /* string arrays: start of each element */
    const uint8_t *raw;       /* the serialized value: bytes after the type */
    size_t raw_len;
} kv_entry;

struct sl_gguf {
    const uint8_t *base;
    size_t size;
    uint32_t version;
    uint32_t alignment;
    size_t n_kv, n_tensors;
    kv_entry *kv;
    sl_gguf_tensor *tensors;
};

typedef struct cursor {
    const uint8_t *p, *end;
} cursor;

static const char *type_name(sl_gguf_type t) {
    static const char *names[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32",
                                  "bool", "string", "array", "u64", "i64", "f64"};
    return (unsigned)t < SL_ARRAY_LEN(names) ? names[t] : "unknown";
}

size_t sl_gguf_type_size(sl_gguf_type t) {
    switch (t) {
    case SL_GGUF_U8: case SL_GGUF_I8: case SL_GGUF_BOOL: return 1;
    case SL_GGUF_U16: case SL_GGUF_I16: return 2;
    case SL_GGUF_U32: case SL_GGUF_I32: case SL_GGUF_F32: return 4;
    case SL_GGUF_U64: case SL_GGUF_I64: case SL_GGUF_F64: return 8;
    default: return 0;
    }
}

size_t sl_tensor_type_size(sl_tensor_type t) {
    switch (t) {
    case SL_TENSOR_F32: case SL_TENSOR_I32: return 4;
    case SL_TENSOR_F16: case SL_TENSOR_I16: return 2;
    case SL_TENSOR_I8: return 1;
    }
    return 0;
}

static int take(cursor *c, size_t n, const uint8_t **out) {
    if ((size_t)(c->end - c->p) < n) return 0;
    *out = c->p;
    c->p += n;
    return 1;
}

static int read_u32(cursor *c, uint32_t *v) {
    const uint8_t *p;
    if (!take(c, 4, &p)) return 0;
    *v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return 1;
}

static int read_u64(cursor *c, uint64_t *v) {
    uint32_t lo, hi;
    if (!read_u32(c, &lo) || !read_u32(c, &hi)) return 0;
    *v = (uint64_t)hi << 32 | lo;
    return 1;
}

static int read_str(cursor *c, sl_gguf_str *s) {
    uint64_t len;
    const uint8_t *p;
    if (!read_u64(c, &len) || len > (uint64_t)(c->end - c->p) || !take(c, (size_t)len, &p)) return 0;
    s->data = (const char *)p;
    s->len = len;
    return 1;
}

static sl_status parse_kv_value(sl_gguf *g, cursor *c, kv_entry *e, size_t index) {
    if (!read_str(c, &e->key)) return sl_fail(SL_ERR_CORRUPT, "gguf: key %zu is truncated", index);
    uint32_t t;
    if (!read_u32(c, &t)) return sl_fail(SL_ERR_CORRUPT, "gguf: key '%.*s' has no type", (int)SL_MIN(e->key.len, 200), e->key.data);
    e->type = (sl_gguf_type)t;
    e->value = c->p;
    const uint8_t *skip;
    if (t == SL_GGUF_STRING) {
        sl_gguf_str s;
        if (!read_str(c, &s)) goto truncated;
        return SL_OK;
    }
    if (t == SL_GGUF_ARRAY) {
        uint32_t et;
        if (!read_u32(c, &et) || !read_u64(c, &e->count)) goto truncated;
        e->elem_type = (sl_gguf_type)et;
        e->value = c->p;
        if (et == SL_GGUF_STRING) {
            /* each element needs at least its 8-byte length */
            if (e->count > (uint64_t)(c->end - c->p) / 8) goto truncated;
            e->strings = sl_malloc_array((size_t)e->count ? (size_t)e->count : 1, sizeof *e->strings);
            if (!e->strings) return sl_fail(SL_ERR_NOMEM, "gguf: out of memory");
            for (uint64_t i = 0; i < e->count; i++) {
                e->strings[i] = c->p;
                sl_gguf_str s;
                if (!read_str(c, &s)) goto truncated;
            }
            return SL_OK;
        }
        size_t es = sl_gguf_type_size((sl_gguf_type)et);
        if (!es) return sl_fail(SL_ERR_UNSUPPORTED, "gguf: key '%.*s': arrays of %s are not supported",
                                (int)SL_MIN(e->key.len, 200), e->key.data, type_name((sl_gguf_type)et));
        if (e->count > (uint64_t)(c->end - c->p) / es || !take(c, (size_t)e->count * es, &skip)) goto truncated;
        return SL_OK;
    }
    size_t sz = sl_gguf_type_size(e->type);
    if (!sz) return sl_fail(SL_ERR_CORRUPT, "gguf: key '%.*s' has unknown type %u", (int)SL_MIN(e->key.len, 200), e->key.data, t);
    if (!take(c, sz, &skip)) goto truncated;
    (void)g;
    return SL_OK;
truncated:
    return sl_fail(SL_ERR_CORRUPT, "gguf: value of key '%.*s' is truncated", (int)SL_MIN(e->key.len, 200), e->key.data);
}

/* Also records where the serialized value lies, for copying it verbatim. */
static sl_status parse_kv(sl_gguf *g, cursor *c, kv_entry *e, size_t index) {
    sl_status st = parse_kv_value(g, c, e, index);
    if (st) return st;
    /* The key and its u32 type come first: 8 + len + 4 bytes. */
    e->raw = (const uint8_t *)e->key.data + e->key.len + 4;
    e->raw_len = (size_t)(c->p - e->raw);
    return SL_OK;
}

static int str_cmp(const sl_gguf_str *a, const sl_gguf_str *b) {
    size_t n = a->len < b->len ? (size_t)a->len : (size_t)b->len;
    int r = memcmp(a->data, b->data, n);
    if (r) return r;
    return (a->len > b->len) - (a->len < b->len);
}

static int cmp_kv_key(const void *x, const void *y) {
    return str_cmp(&(*(kv_entry *const *)x)->key, &(*(kv_entry *const *)y)->key);
}

static int cmp_tensor_name(const void *x, const void *y) {
    return str_cmp(&(*(sl_gguf_tensor *const *)x)->name, &(*(sl_gguf_tensor *const *)y)->name);
}

static int cmp_tensor_offset(const void *x, const void *y) {
    uintptr_t a = (uintptr_t)(*(sl_gguf_tensor *const *)x)->data;
    uintptr_t b = (uintptr_t)(*(sl_gguf_tensor *const *)y)->data;
    return (a > b) - (a < b);
}

/* Duplicate keys/names and overlapping tensors are refused: a sorted
 * index over the entries makes each check linear. */
static sl_status check_unique(sl_gguf *g) {
    size_t n = SL_MAX(g->n_kv, g->n_tensors);
    void **idx = sl_malloc_array(n ? n : 1, sizeof *idx);
    if (!idx) return sl_fail(SL_ERR_NOMEM, "gguf: out of memory");
    sl_status st = SL_OK;
    for (size_t i = 0; i < g->n_kv; i++) idx[i] = &g->kv[i];
    qsort(idx, g->n_kv, sizeof *idx, cmp_kv_key);
    for (size_t i = 1; i < g->n_kv && !st; i++)
        if (!cmp_kv_key(&idx[i - 1], &idx[i]))
            st = sl_fail(SL_ERR_CORRUPT, "gguf: duplicate key '%.*s'",
                         (int)SL_MIN(((kv_entry *)idx[i])->key.len, 200), ((kv_entry *)idx[i])->key.data);
    for (size_t i = 0; i < g->n_tensors; i++) idx[i] = &g->tensors[i];
    qsort(idx, g->n_tensors, sizeof *idx, cmp_tensor_name);
    for (size_t i = 1; i < g->n_tensors && !st; i++)
        if (!cmp_tensor_name(&idx[i - 1], &idx[i]))
            st = sl_fail(SL_ERR_CORRUPT, "gguf: duplicate tensor '%.*s'",
                         (int)SL_MIN(((sl_gguf_tensor *)idx[i])->name.len, 200), ((sl_gguf_tensor *)idx[i])->name.data);
    qsort(idx, g->n_tensors, sizeof *idx, cmp_tensor_offset);
    for (size_t i = 1; i < g->n_tensors && !st; i++) {
        const sl_gguf_tensor *a = idx[i - 1], *b = idx[i];
        if ((const uint8_t *)a->data + a->n_bytes > (const uint8_t *)b->data)
            st = sl_fail(SL_ERR_CORRUPT, "gguf: tensors '%.*s' and '%.*s' overlap",
                         (int)SL_MIN(a->name.len, 200), a->name.data, (int)SL_MIN(b->name.len, 200), b->name.data);
    }
    free(idx);
    return st;
}

static sl_status parse_tensor(sl_gguf *g, cursor *c, sl_gguf_tensor *t, size_t index) {
    uint32_t type;
    if (!read_str(c, &t->name) || !read_u32(c, &t->n_dims))
        return sl_fail(SL_ERR_CORRUPT, "gguf: tensor %zu is truncated", index);
    if (t->n_dims < 1 || t->n_dims > SL_GGUF_MAX_DIMS)
        return sl_fail(SL_ERR_CORRUPT, "gguf: tensor '%.*s' has %u dimensions (1..%d allowed)",
                       (int)SL_MIN(t->name.len, 200), t->name.data, t->n_dims, SL_GGUF_MAX_DIMS);
    uint64_t n = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) {
        if (!read_u64(c, &t->dims[d])) return sl_fail(SL_ERR_CORRUPT, "gguf: tensor %zu is truncated", index);
        if (t->dims[d] == 0 || __builtin_mul_overflow(n, t->dims[d], &n))
            return sl_fail(SL_ERR_CORRUPT, "gguf: tensor '%.*s' has an invalid shape",
                           (int)SL_MIN(t->name.len, 200), t->name.data);
    }
    for (uint32_t d = t->n_dims; d < SL_GGUF_MAX_DIMS; d++) t->dims[d] = 1;
    uint64_t offset;
    if (!read_u32(c, &type) || !read_u64(c, &offset)) return sl_fail(SL_ERR_CORRUPT, "gguf: tensor %zu is truncated", index);
    t->type = (sl_tensor_type)type;
    size_t es = sl_tensor_type_size(t->type);
    if (!es)
        return sl_fail(SL_ERR_UNSUPPORTED, "gguf: tensor '%.*s' has unsupported type %u",
                       (int)SL_MIN(t->name.len, 200), t->name.data, type);
    t->n_elements = n;
    if (__builtin_mul_overflow(n, (uint64_t)es, &t->n_bytes))
        return sl_fail(SL_ERR_CORRUPT, "gguf: tensor '%.*s' is too large", (int)SL_MIN(t->name.len, 200), t->name.data);
    if (offset % g->alignment)
        return sl_fail(SL_ERR_CORRUPT, "gguf: tensor '%.*s' offset %llu is not aligned to %u",
                       (int)SL_MIN(t->name.len, 200), t->name.data, (unsigned long long)offset, g->alignment);
    t->data = (const void *)(uintptr_t)offset; /* made absolute once the data section is known */
    return SL_OK;
}

static const kv_entry *find_kv(const sl_gguf *g, const char *key) {
    size_t n = strlen(key);
    for (size_t i = 0; i < g->n_kv; i++)
        if (g->kv[i].key.len == n && !memcmp(g->kv[i].key.data, key, n)) return &g->kv[i];
    return NULL;
}

sl_status sl_gguf_open_memory(const void *data, size_t size, sl_gguf **out) {
    *out = NULL;
    if (!data) return sl_fail(size ? SL_ERR_ARG : SL_ERR_CORRUPT, "gguf: %s", size ? "NULL buffer" : "empty file");
    cursor c = {data, (const uint8_t *)data + size};
    const uint8_t *magic;
    if (!take(&c, 4, &magic) || memcmp(magic, "GGUF", 4))
        return sl_fail(SL_ERR_CORRUPT, "gguf: not a GGUF file (bad magic)");
    sl_gguf *g = calloc(1, sizeof *g);
    if (!g) return sl_fail(SL_ERR_NOMEM, "gguf: out of memory");
    g->base = data;
    g->size = size;
    g->alignment = 32;
    sl_status st = SL_OK;
    uint64_t n_tensors, n_kv;
    if (!read_u32(&c, &g->version) || !read_u64(&c, &n_tensors) || !read_u64(&c, &n_kv)) {
        st = sl_fail(SL_ERR_CORRUPT, "gguf: header is truncated");
        goto fail;
    }
    if (g->version != 2 && g->version != 3) {
        st = sl_fail(SL_ERR_UNSUPPORTED, "gguf: version %u is not supported (2 or 3)", g->version);
        goto fail;
    }
    if (n_tensors > GGUF_MAX_TENSORS || n_kv > GGUF_MAX_KV) {
        st = sl_fail(SL_ERR_LIMIT, "gguf: %llu tensors / %llu keys exceed the limits (%u / %u)",
                     (unsigned long long)n_tensors, (unsigned long long)n_kv, GGUF_MAX_TENSORS, GGUF_MAX_KV);
        goto fail;
    }
    g->kv = calloc(n_kv ? (size_t)n_kv : 1, sizeof *g->kv);
    g->tensors = calloc(n_tensors ? (size_t)n_tensors : 1, sizeof *g->tensors);
    if (!g->kv || !g->tensors) {
        st = sl_fail(SL_ERR_NOMEM, "gguf: out of memory");
        goto fail;
    }
    for (size_t i = 0; i < n_kv; i++) {
        g->n_kv = i + 1; /* so fail frees the string tables parsed so far */
        if ((st = parse_kv(g, &c, &g->kv[i], i))) goto fail;
    }
    const kv_entry *al = find_kv(g, "general.alignment");
    if (al) {
        if (al->type != SL_GGUF_U32) {
            st = sl_fail(SL_ERR_CORRUPT, "gguf: general.alignment must be u32");
            goto fail;
        }
        uint32_t a;
        memcpy(&a, al->value, 4);
        if (a == 0 || (a & (a - 1)) || a > 65536) {
            st = sl_fail(SL_ERR_CORRUPT, "gguf: alignment %u is not a power of two up to 65536", a);
            goto fail;
        }
        g->alignment = a;
    }
    for (size_t i = 0; i < n_tensors; i++) {
        g->n_tensors = i + 1;
        if ((st = parse_tensor(g, &c, &g->tensors[i], i))) goto fail;
    }
    size_t header = (size_t)(c.p - g->base);
    size_t data_start = (header + g->alignment - 1) / g->alignment * g->alignment;
    if (data_start > size && n_tensors) {
        st = sl_fail(SL_ERR_CORRUPT, "gguf: data section is missing");
        goto fail;
    }
    for (size_t i = 0; i < g->n_tensors; i++) {
        sl_gguf_tensor *t = &g->tensors[i];
        uint64_t off = (uint64_t)(uintptr_t)t->data, end;
        if (__builtin_add_overflow(off, t->n_bytes, &end) || end > (uint64_t)(size - data_start)) {
            st = sl_fail(SL_ERR_CORRUPT, "gguf: tensor '%.*s' lies outside the file",
                         (int)SL_MIN(t->name.len, 200), t->name.data);
            goto fail;
        }
        t->data = g->base + data_start + off;
    }
    if ((st = check_unique(g))) goto fail;
    *out = g;
    return SL_OK;
fail:
    sl_gguf_free(g);
    return st;
}

void sl_gguf_free(sl_gguf *g) {
    if (!g) return;
    for (size_t i = 0; i < g->n_kv; i++) free(g->kv[i].strings);
    free(g->kv);
    free(g->tensors);
    free(g);
}

size_t sl_gguf_kv_count(const sl_gguf *g) { return g->n_kv; }
size_t sl_gguf_tensor_count(const sl_gguf *g) { return g->n_tensors; }
const sl_gguf_tensor *sl_gguf_tensor_at(const sl_gguf *g, size_t i) {
    return i < g->n_tensors ? &g->tensors[i] : NULL;
}
sl_gguf_str sl_gguf_key_at(const sl_gguf *g, size_t i) {
    sl_gguf_str none = {"", 0};
    return i < g->n_kv ? g->kv[i].key : none;
}
sl_gguf_type sl_gguf_kv_type_at(const sl_gguf *g, size_t i) {
    return i < g->n_kv ? g->kv[i].type : (sl_gguf_type)-1;
}

sl_status sl_gguf_kv_raw_at(const sl_gguf *g, size_t i, const void **value, size_t *size) {
    if (i >= g->n_kv) return sl_fail(SL_ERR_ARG, "gguf: key index %zu out of range", i);
    *value = g->kv[i].raw;
    *size = g->kv[i].raw_len;
    return SL_OK;
}

const sl_gguf_tensor *sl_gguf_find_tensor(const sl_gguf *g, const char *name) {
    size_t n = strlen(name);
    for (size_t i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].name.len == n && !memcmp(g->tensors[i].name.data, name, n)) return &g->tensors[i];
    return NULL;
}

static sl_status get_typed(const sl_gguf *g, const char *key, sl_gguf_type want, const kv_entry **out) {
    const kv_entry *e = find_kv(g, key);
    if (!e) return sl_fail(SL_ERR_NOT_FOUND, "gguf: key '%s' not found", key);
    if (e->type != want)
        return sl_fail(SL_ERR_CORRUPT, "gguf: key '%s' is %s, expected %s", key, type_name(e->type), type_name(want));
    *out = e;
    return SL_OK;
}

#define SL_GGUF_GETTER(fn, ctype, gtype)                                    \
    sl_status fn(const sl_gguf *g, const char *key, ctype *out) {           \
        const kv_entry *e = NULL;                                           \
        sl_status st = get_typed(g, key, gtype, &e);                        \
        if (st) return st;                                                  \
        memcpy(out, e->value, sizeof *out);                                 \
        return SL_OK;                                                       \
    }
SL_GGUF_GETTER(sl_gguf_get_u32, uint32_t, SL_GGUF_U32)
SL_GGUF_GETTER(sl_gguf_get_i32, int32_t, SL_GGUF_I32)
SL_GGUF_GETTER(sl_gguf_get_u64, uint64_t, SL_GGUF_U64)
SL_GGUF_GETTER(sl_gguf_get_f32, float, SL_GGUF_F32)

sl_status sl_gguf_get_bool(const sl_gguf *g, const char *key, int *out) {
    const kv_entry *e = NULL;
    sl_status st = get_typed(g, key, SL_GGUF_BOOL, &e);
    if (st) return st;
    *out = e->value[0] != 0;
    return SL_OK;
}

sl_status sl_gguf_get_str(const sl_gguf *g, const char *key, sl_gguf_str *out) {
    const kv_entry *e = NULL;
    sl_status st = get_typed(g, key, SL_GGUF_STRING, &e);
    if (st) return st;
    sl_gguf_str_array one = {&e->value, 1};
    *out = sl_gguf_str_array_at(&one, 0);
    return SL_OK;
}

sl_status sl_gguf_get_array(const sl_gguf *g, const char *key, sl_gguf_type *elem_type,
                            uint64_t *count, const void **elems) {
    const kv_entry *e = NULL;
    sl_status st = get_typed(g, key, SL_GGUF_ARRAY, &e);
    if (st) return st;
    if (e->elem_type == SL_GGUF_STRING)
        return sl_fail(SL_ERR_CORRUPT, "gguf: key '%s' is an array of strings", key);
    *elem_type = e->elem_type;
    *count = e->count;
    *elems = e->value;
    return SL_OK;
}

static sl_status get_str_array(const sl_gguf *g, const char *key, const kv_entry **out) {
    sl_status st = get_typed(g, key, SL_GGUF_ARRAY, out);
    if (st) return st;
    if ((*out)->elem_type != SL_GGUF_STRING)
        return sl_fail(SL_ERR_CORRUPT, "gguf: key '%s' is an array of %s, expected strings", key,
                       type_name((*out)->elem_type));
    return SL_OK;
}

sl_status sl_gguf_get_str_array(const sl_gguf *g, const char *key, sl_gguf_str_array *out) {
    const kv_entry *e = NULL;
    sl_status st = get_str_array(g, key, &e);
    if (st) return st;
    out->items = e->strings;
    out->count = e->count;
    return SL_OK;
}

sl_status sl_gguf_get_str_array_count(const sl_gguf *g, const char *key, uint64_t *count) {
    const kv_entry *e = NULL;
    sl_status st = get_str_array(g, key, &e);
    if (st) return st;
    *count = e->count;
    return SL_OK;
}

sl_status sl_gguf_get_str_array_at(const sl_gguf *g, const char *key, uint64_t i, sl_gguf_str *out) {
    const kv_entry *e = NULL;
    sl_status st = get_str_array(g, key, &e);
    if (st) return st;
    if (i >= e->count) return sl_fail(SL_ERR_ARG, "gguf: index %llu out of range for '%s'", (unsigned long long)i, key);
    sl_gguf_str_array a = {e->strings, e->count};
    *out = sl_gguf_str_array_at(&a, i);
    return SL_OK;
}
