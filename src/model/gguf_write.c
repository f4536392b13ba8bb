/* GGUF builder: metadata is serialized as it is added; tensors are copied
 * and laid out, aligned, when the file is serialized. */
#include "gguf.h"

#include <stdlib.h>
#include <string.h>

#define GGUF_ALIGNMENT 32u

typedef struct buf {
    uint8_t *data;
    size_t len, cap;
} buf;

typedef struct pending_tensor {
    char *name;
    sl_tensor_type type;
    uint32_t n_dims;
    uint64_t dims[SL_GGUF_MAX_DIMS];
    size_t n_bytes;
    uint8_t *data;
} pending_tensor;

struct sl_gguf_builder {
    buf kv;
    uint64_t n_kv;
    char **keys;
    pending_tensor *tensors;
    size_t n_tensors, cap_tensors;
};

static int buf_reserve(buf *b, size_t extra) {
    size_t need;
    if (sl_add_overflow(b->len, extra, &need)) return 0;
    if (need <= b->cap) return 1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) return 0;
        cap *= 2;
    }
    uint8_t *p = realloc(b->data, cap);
    if (!p) return 0;
    b->data = p;
    b->cap = cap;
    return 1;
}

static int put(buf *b, const void *p, size_t n) {
    if (!buf_reserve(b, n)) return 0;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    return 1;
}

static int put_u32(buf *b, uint32_t v) {
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    return put(b, x, 4);
}

static int put_u64(buf *b, uint64_t v) { return put_u32(b, (uint32_t)v) && put_u32(b, (uint32_t)(v >> 32)); }

static int put_str(buf *b, const char *s, size_t n) { return put_u64(b, n) && put(b, s, n); }

sl_status sl_gguf_builder_new(sl_gguf_builder **out) {
    *out = calloc(1, sizeof **out);
    return *out ? SL_OK : sl_fail(SL_ERR_NOMEM, "gguf: out of memory");
}

void sl_gguf_builder_free(sl_gguf_builder *b) {
    if (!b) return;
    for (uint64_t i = 0; i < b->n_kv; i++) free(b->keys[i]);
    free(b->keys);
    for (size_t i = 0; i < b->n_tensors; i++) {
        free(b->tensors[i].name);
        free(b->tensors[i].data);
    }
    free(b->tensors);
    free(b->kv.data);
    free(b);
}

/* Writes the key and type of a new entry after checking it is unique. */
static sl_status begin_kv(sl_gguf_builder *b, const char *key, sl_gguf_type type) {
    if (!key || !*key) return sl_fail(SL_ERR_ARG, "gguf: empty key");
    for (uint64_t i = 0; i < b->n_kv; i++)
        if (!strcmp(b->keys[i], key)) return sl_fail(SL_ERR_ARG, "gguf: key '%s' set twice", key);
    char **keys = realloc(b->keys, (size_t)(b->n_kv + 1) * sizeof *keys);
    if (!keys) return sl_fail(SL_ERR_NOMEM, "gguf: out of memory");
    b->keys = keys;
    if (!(b->keys[b->n_kv] = strdup(key))) return sl_fail(SL_ERR_NOMEM, "gguf: out of memory");
    if (!put_str(&b->kv, key, strlen(key)) || !put_u32(&b->kv, (uint32_t)type)) {
        free(b->keys[b->n_kv]);
        return sl_fail(SL_ERR_NOMEM, "gguf: out of memory");
    }
    b->n_kv++;
    return SL_OK;
}

static sl_status kv_scalar(sl_gguf_builder *b, const char *key, sl_gguf_type t, const void *v, size_t n) {
    sl_status st = begin_kv(b, key, t);
    if (st) return st;
    return put(&b->kv, v, n) ? SL_OK : sl_fail(SL_ERR_NOMEM, "gguf: out of memory");
}

sl_status sl_gguf_set_u32(sl_gguf_builder *b, const char *key, uint32_t v) { return kv_scalar(b, key, SL_GGUF_U32, &v, 4); }
sl_status sl_gguf_set_i32(sl_gguf_builder *b, const char *key, int32_t v) { return kv_scalar(b, key, SL_GGUF_I32, &v, 4); }
sl_status sl_gguf_set_u64(sl_gguf_builder *b, const char *key, uint64_t v) { return kv_scalar(b, key, SL_GGUF_U64, &v, 8); }
sl_status sl_gguf_set_f32(sl_gguf_builder *b, const char *key, float v) { return kv_scalar(b, key, SL_GGUF_F32, &v, 4); }
sl_status sl_gguf_set_bool(sl_gguf_builder *b, const char *key, int v) {
    uint8_t x = v ? 1 : 0;
    return kv_scalar(b, key, SL_GGUF_BOOL, &x, 1);
}

sl_status sl_gguf_set_str(sl_gguf_builder *b, const char *key, const char *v) {
    if (!v) return sl_fail(SL_ERR_ARG, "gguf: NULL string for '%s'", key);
    sl_status st = begin_kv(b, key, SL_GGUF_STRING);
    if (st) return st;
    return put_str(&b->kv, v, strlen(v)) ? SL_OK : sl_fail(SL_ERR_NOMEM, "gguf: out of memory");
}

sl_status sl_gguf_set_array(sl_gguf_builder *b, const char *key, sl_gguf_type elem_type,
                            const void *elems, uint64_t count) {
    size_t es = sl_gguf_type_size(elem_type), bytes;
    if (!es) return sl_fail(SL_ERR_ARG, "gguf: '%s': arrays must hold fixed-size scalars", key);
    if (count > SIZE_MAX || sl_mul_overflow((size_t)count, es, &bytes) || (!elems && count))
        return sl_fail(SL_ERR_ARG, "gguf: '%s': bad array", key);
    sl_status st = begin_kv(b, key, SL_GGUF_ARRAY);
    if (st) return st;
    if (!put_u32(&b->kv, (uint32_t)elem_type) || !put_u64(&b->kv, count) || !put(&b->kv, elems, bytes))
        return sl_fail(SL_ERR_NOMEM, "gguf: out of memory");
    return SL_OK;
}

sl_status sl_gguf_set_str_array(sl_gguf_builder *b, const char *key, const char *const *strs, uint64_t count) {
    for (uint64_t i = 0; i < count; i++)
        if (!strs[i]) return sl_fail(SL_ERR_ARG, "gguf: '%s': NULL string at %llu", key, (unsigned long long)i);
    sl_status st = begin_kv(b, key, SL_GGUF_ARRAY);
    if (st) return st;
    if (!put_u32(&b->kv, SL_GGUF_STRING) || !put_u64(&b->kv, count))
        return sl_fail(SL_ERR_NOMEM, "gguf: out of memory");
    for (uint64_t i = 0; i < count; i++)
        if (!put_str(&b->kv, strs[i], strlen(strs[i]))) return sl_fail(SL_ERR_NOMEM, "gguf: out of memory");
    return SL_OK;
}

sl_status sl_gguf_add_tensor(sl_gguf_builder *b, const char *name, sl_tensor_type type, uint32_t n_dims,
                             const uint64_t *dims, const void *data) {
    size_t es = sl_tensor_type_size(type);
    if (!name || !*name || !es || n_dims < 1 || n_dims > SL_GGUF_MAX_DIMS || !data)
        return sl_fail(SL_ERR_ARG, "gguf: bad tensor '%s'", name ? name : "(null)");
    for (size_t i = 0; i < b->n_tensors; i++)
        if (!strcmp(b->tensors[i].name, name)) return sl_fail(SL_ERR_ARG, "gguf: tensor '%s' added twice", name);
    size_t n = es;
    for (uint32_t d = 0; d < n_dims; d++)
        if (!dims[d] || dims[d] > SIZE_MAX || sl_mul_overflow(n, (size_t)dims[d], &n))
            return sl_fail(SL_ERR_ARG, "gguf: tensor '%s' has an invalid shape", name);
    if (b->n_tensors == b->cap_tensors) {
        size_t cap = b->cap_tensors ? b->cap_tensors * 2 : 8;
        pending_tensor *t = realloc(b->tensors, cap * sizeof *t);
        if (!t) return sl_fail(SL_ERR_NOMEM, "gguf: out of memory");
        b->tensors = t;
        b->cap_tensors = cap;
    }
    pending_tensor *t = &b->tensors[b->n_tensors];
    memset(t, 0, sizeof *t);
    t->name = strdup(name);
    t->data = malloc(n ? n : 1);
    if (!t->name || !t->data) {
        free(t->name);
        free(t->data);
        return sl_fail(SL_ERR_NOMEM, "gguf: out of memory");
    }
    memcpy(t->data, data, n);
    t->type = type;
    t->n_dims = n_dims;
    for (uint32_t d = 0; d < n_dims; d++) t->dims[d] = dims[d];
    t->n_bytes = n;
    b->n_tensors++;
    return SL_OK;
}

/* A NUL-terminated copy of a file string (names and keys are C strings in
 * the builder); NULL with *st set when it holds a NUL or memory runs out. */
static char *c_string(sl_gguf_str s, const char *what, sl_status *st) {
    if (memchr(s.data, '\0', (size_t)s.len)) {
        *st = sl_fail(SL_ERR_ARG, "gguf: %s '%.*s' holds a NUL byte", what, (int)SL_MIN(s.len, 200), s.data);
        return NULL;
    }
    char *c = malloc((size_t)s.len + 1);
    if (!c) {
        *st = sl_fail(SL_ERR_NOMEM, "gguf: out of memory");
        return NULL;
    }
    memcpy(c, s.data, (size_t)s.len);
    c[s.len] = '\0';
    return c;
}

sl_status sl_gguf_copy_kv(sl_gguf_builder *b, const sl_gguf *g, size_t i) {
    const void *value;
    size_t size;
    sl_status st = sl_gguf_kv_raw_at(g, i, &value, &size);
    if (st) return st;
    char *key = c_string(sl_gguf_key_at(g, i), "key", &st);
    if (!key) return st;
    /* The reader validated the value's layout for its type, and the
     * serialization is the same on both sides: copy the bytes. */
    st = begin_kv(b, key, sl_gguf_kv_type_at(g, i));
    if (!st && !put(&b->kv, value, size)) st = sl_fail(SL_ERR_NOMEM, "gguf: out of memory");
    free(key);
    return st;
}

sl_status sl_gguf_copy_tensor(sl_gguf_builder *b, const sl_gguf_tensor *t) {
    sl_status st = SL_OK;
    char *name = c_string(t->name, "tensor", &st);
    if (!name) return st;
    st = sl_gguf_add_tensor(b, name, t->type, t->n_dims, t->dims, t->data);
    free(name);
    return st;
}

static size_t align_up(size_t x) { return (x + GGUF_ALIGNMENT - 1) / GGUF_ALIGNMENT * GGUF_ALIGNMENT; }

sl_status sl_gguf_builder_serialize(const sl_gguf_builder *b, uint8_t **data, size_t *size) {
    *data = NULL;
    *size = 0;
    buf out = {0};
    int ok = put(&out, "GGUF", 4) && put_u32(&out, 3) && put_u64(&out, b->n_tensors) &&
             put_u64(&out, b->n_kv) && put(&out, b->kv.data, b->kv.len);
    size_t offset = 0;
    for (size_t i = 0; ok && i < b->n_tensors; i++) {
        const pending_tensor *t = &b->tensors[i];
        ok = put_str(&out, t->name, strlen(t->name)) && put_u32(&out, t->n_dims);
        for (uint32_t d = 0; ok && d < t->n_dims; d++) ok = put_u64(&out, t->dims[d]);
        ok = ok && put_u32(&out, (uint32_t)t->type) && put_u64(&out, offset);
        offset = align_up(offset + t->n_bytes);
    }
    static const uint8_t zeros[GGUF_ALIGNMENT];
    if (ok && b->n_tensors) ok = put(&out, zeros, align_up(out.len) - out.len);
    for (size_t i = 0; ok && i < b->n_tensors; i++) {
        const pending_tensor *t = &b->tensors[i];
        ok = put(&out, t->data, t->n_bytes);
        if (ok && i + 1 < b->n_tensors) ok = put(&out, zeros, align_up(t->n_bytes) - t->n_bytes);
    }
    if (!ok) {
        free(out.data);
        return sl_fail(SL_ERR_NOMEM, "gguf: out of memory while serializing");
    }
    *data = out.data;
    *size = out.len;
    return SL_OK;
}

sl_status sl_gguf_builder_write(const sl_gguf_builder *b, const char *path) {
    uint8_t *data;
    size_t size;
    sl_status st = sl_gguf_builder_serialize(b, &data, &size);
    if (st) return st;
    st = sl_file_write_atomic(path, data, size);
    free(data);
    return st;
}
