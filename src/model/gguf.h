/* GGUF (version 3) containers: typed key/value metadata + named tensors, the
 * file format of on-device C inference (ggml, whisper.cpp, clip.cpp).
 *
 * Reading is zero-copy: sl_gguf_open_memory keeps pointers into the caller's
 * buffer (typically an mmap), which must outlive the handle. Every length,
 * offset and count is validated against the buffer before use; a malformed
 * file is refused with SL_ERR_CORRUPT and a message naming the field.
 *
 * Writing goes through a builder that copies what it is given and writes the
 * file atomically (temporary file + fsync + rename). */
#ifndef SL_MODEL_GGUF_H
#define SL_MODEL_GGUF_H

#include "core/core.h"

#include <stdint.h>

/* Metadata value types, numbered as in the GGUF specification. */
typedef enum sl_gguf_type {
    SL_GGUF_U8 = 0,
    SL_GGUF_I8 = 1,
    SL_GGUF_U16 = 2,
    SL_GGUF_I16 = 3,
    SL_GGUF_U32 = 4,
    SL_GGUF_I32 = 5,
    SL_GGUF_F32 = 6,
    SL_GGUF_BOOL = 7,
    SL_GGUF_STRING = 8,
    SL_GGUF_ARRAY = 9,
    SL_GGUF_U64 = 10,
    SL_GGUF_I64 = 11,
    SL_GGUF_F64 = 12
} sl_gguf_type;

/* Tensor element types, numbered as ggml's (only the ones we use). */
typedef enum sl_tensor_type {
    SL_TENSOR_F32 = 0,
    SL_TENSOR_F16 = 1,
    SL_TENSOR_I8 = 24,
    SL_TENSOR_I16 = 25,
    SL_TENSOR_I32 = 26
} sl_tensor_type;

#define SL_GGUF_MAX_DIMS 4

typedef struct sl_gguf sl_gguf;

/* A string inside the file: not NUL-terminated. */
typedef struct sl_gguf_str {
    const char *data;
    uint64_t len;
} sl_gguf_str;

typedef struct sl_gguf_tensor {
    sl_gguf_str name;
    uint32_t n_dims;
    uint64_t dims[SL_GGUF_MAX_DIMS]; /* dims[0] varies fastest (ggml order) */
    sl_tensor_type type;
    uint64_t n_elements;
    uint64_t n_bytes;
    const void *data; /* inside the buffer, aligned to the file's alignment */
} sl_gguf_tensor;

/* Parses a GGUF buffer. Errors: SL_ERR_CORRUPT (bad magic, truncation,
 * out-of-range offsets, duplicate keys or tensor names, overlapping
 * tensors), SL_ERR_UNSUPPORTED (version other than 2 or 3, unknown tensor
 * type), SL_ERR_LIMIT (counts above the caps), SL_ERR_NOMEM. */
sl_status sl_gguf_open_memory(const void *data, size_t size, sl_gguf **out);
void sl_gguf_free(sl_gguf *g);

size_t sl_gguf_kv_count(const sl_gguf *g);
size_t sl_gguf_tensor_count(const sl_gguf *g);
const sl_gguf_tensor *sl_gguf_tensor_at(const sl_gguf *g, size_t i);
/* NULL when absent. */
const sl_gguf_tensor *sl_gguf_find_tensor(const sl_gguf *g, const char *name);

/* Typed getters: SL_ERR_NOT_FOUND when the key is absent, SL_ERR_CORRUPT
 * when it has another type (the message names key and both types). */
sl_status sl_gguf_get_u32(const sl_gguf *g, const char *key, uint32_t *out);
sl_status sl_gguf_get_i32(const sl_gguf *g, const char *key, int32_t *out);
sl_status sl_gguf_get_u64(const sl_gguf *g, const char *key, uint64_t *out);
sl_status sl_gguf_get_f32(const sl_gguf *g, const char *key, float *out);
sl_status sl_gguf_get_bool(const sl_gguf *g, const char *key, int *out);
sl_status sl_gguf_get_str(const sl_gguf *g, const char *key, sl_gguf_str *out);
/* An array of scalars: element type, count and a pointer to the packed
 * little-endian elements inside the buffer (may be unaligned: use memcpy). */
sl_status sl_gguf_get_array(const sl_gguf *g, const char *key,
                            sl_gguf_type *elem_type, uint64_t *count,
                            const void **elems);
/* An array of strings: count, and the i-th string (i < count). */
sl_status sl_gguf_get_str_array_count(const sl_gguf *g, const char *key,
                                      uint64_t *count);
sl_status sl_gguf_get_str_array_at(const sl_gguf *g, const char *key,
                                   uint64_t i, sl_gguf_str *out);

/* A string array resolved once, for many reads without looking the key up
 * again (a vocabulary of 341,479 words). Valid while the file is open. */
typedef struct sl_gguf_str_array {
    const uint8_t *const *items; /* start of each element: u64 length, bytes */
    uint64_t count;
} sl_gguf_str_array;

sl_status sl_gguf_get_str_array(const sl_gguf *g, const char *key, sl_gguf_str_array *out);

/* Element i < a->count (validated at open time; little-endian host). */
static inline sl_gguf_str sl_gguf_str_array_at(const sl_gguf_str_array *a, uint64_t i) {
    sl_gguf_str s;
    uint64_t len;
    __builtin_memcpy(&len, a->items[i], 8);
    s.len = len;
    s.data = (const char *)a->items[i] + 8;
    return s;
}

/* The name of the i-th key (for listing). */
sl_gguf_str sl_gguf_key_at(const sl_gguf *g, size_t i);
sl_gguf_type sl_gguf_kv_type_at(const sl_gguf *g, size_t i);
/* The serialized value of the i-th key as it lies in the file (the bytes
 * after its type; validated at open), for copying it verbatim.
 * Errors: SL_ERR_ARG (i out of range). */
sl_status sl_gguf_kv_raw_at(const sl_gguf *g, size_t i, const void **value, size_t *size);

/* ---- writing ------------------------------------------------------------ */

typedef struct sl_gguf_builder sl_gguf_builder;

sl_status sl_gguf_builder_new(sl_gguf_builder **out);
void sl_gguf_builder_free(sl_gguf_builder *b);

/* Each setter copies its arguments. Keys must be unique (SL_ERR_ARG). */
sl_status sl_gguf_set_u32(sl_gguf_builder *b, const char *key, uint32_t v);
sl_status sl_gguf_set_i32(sl_gguf_builder *b, const char *key, int32_t v);
sl_status sl_gguf_set_u64(sl_gguf_builder *b, const char *key, uint64_t v);
sl_status sl_gguf_set_f32(sl_gguf_builder *b, const char *key, float v);
sl_status sl_gguf_set_bool(sl_gguf_builder *b, const char *key, int v);
sl_status sl_gguf_set_str(sl_gguf_builder *b, const char *key, const char *v);
/* An array of fixed-size scalars (not STRING, ARRAY). */
sl_status sl_gguf_set_array(sl_gguf_builder *b, const char *key,
                            sl_gguf_type elem_type, const void *elems,
                            uint64_t count);
sl_status sl_gguf_set_str_array(sl_gguf_builder *b, const char *key,
                                const char *const *strs, uint64_t count);
/* A tensor; dims[0] varies fastest. data holds n_elements * element size
 * bytes and is copied. */
sl_status sl_gguf_add_tensor(sl_gguf_builder *b, const char *name,
                             sl_tensor_type type, uint32_t n_dims,
                             const uint64_t *dims, const void *data);

/* Copies the i-th key of a file, of any type (scalars, strings, arrays of
 * either), under the same name: how a derived file keeps its base's keys.
 * Errors: SL_ERR_ARG (i out of range, a key holding a NUL byte, a key
 * already set), SL_ERR_NOMEM. */
sl_status sl_gguf_copy_kv(sl_gguf_builder *b, const sl_gguf *g, size_t i);
/* Adds a tensor of a file (name, type, shape, bytes). Errors: those of
 * sl_gguf_add_tensor; SL_ERR_ARG for a name holding a NUL byte. */
sl_status sl_gguf_copy_tensor(sl_gguf_builder *b, const sl_gguf_tensor *t);

/* Serializes to a new malloc'd buffer (caller frees). Alignment 32. */
sl_status sl_gguf_builder_serialize(const sl_gguf_builder *b, uint8_t **data,
                                    size_t *size);
/* Serializes and writes atomically. */
sl_status sl_gguf_builder_write(const sl_gguf_builder *b, const char *path);

/* Size in bytes of a fixed-size metadata value; 0 for STRING, ARRAY and
 * unknown types. */
size_t sl_gguf_type_size(sl_gguf_type t);

/* Size in bytes of one element of a tensor type; 0 for unknown types. */
size_t sl_tensor_type_size(sl_tensor_type t);

#endif /* SL_MODEL_GGUF_H */
