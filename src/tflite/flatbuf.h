/* A bounds-checked, read-only FlatBuffers reader for hostile input.
 *
 * FlatBuffers layout recap (little-endian throughout):
 *   - a uoffset is a u32 added to its own position, pointing forward;
 *   - a table starts with an s32 soffset: vtable = table_pos - soffset;
 *   - a vtable is u16 vtable_len, u16 table_len, then one u16 per field:
 *     the field's offset inside the table, 0 = absent (use the default);
 *   - a vector is a u32 element count followed by the elements; a string is
 *     a vector of bytes (followed by a NUL we do not rely on).
 * Every position is checked against the buffer end before it is read, and
 * every read goes through memcpy, so misaligned or truncated input can make
 * a call fail but never read out of bounds. Nothing here allocates. */
#ifndef SL_TFLITE_FLATBUF_H
#define SL_TFLITE_FLATBUF_H

#include "core/core.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sl_fb {
    const uint8_t *data;
    size_t size;
} sl_fb;

/* A validated table: its vtable lies inside the buffer, and so do the
 * table's inline bytes [pos, pos + table_len). */
typedef struct sl_fb_table {
    const sl_fb *fb;
    size_t pos;        /* table start */
    size_t vt;         /* vtable start */
    uint16_t vt_len;   /* vtable bytes (4 + 2 * fields) */
    uint16_t table_len;/* inline table bytes */
} sl_fb_table;

/* A validated vector: count elements of elem_size bytes at data[pos]. */
typedef struct sl_fb_vec {
    const sl_fb *fb;
    size_t pos;   /* first element */
    uint32_t count;
    uint32_t elem_size;
} sl_fb_vec;

/* Little-endian loads; the caller has checked the bounds. */
static inline uint16_t sl_fb_le16(const uint8_t *p) {
    return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}
static inline uint32_t sl_fb_le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}
static inline uint64_t sl_fb_le64(const uint8_t *p) {
    return (uint64_t)sl_fb_le32(p) | (uint64_t)sl_fb_le32(p + 4) << 32;
}

/* Opens the root table; checks the 4-byte file identifier at offset 4
 * (NULL: no check). Errors: SL_ERR_CORRUPT. */
sl_status sl_fb_root(const sl_fb *fb, const char *identifier, sl_fb_table *root);

/* True when field `id` (0-based, schema order) is present in the table. */
int sl_fb_has(const sl_fb_table *t, int id);

/* Scalar fields; an absent field yields `def`. SL_ERR_CORRUPT when the
 * field's bytes do not fit inside the table. */
sl_status sl_fb_u8(const sl_fb_table *t, int id, uint8_t def, uint8_t *out);
sl_status sl_fb_i8(const sl_fb_table *t, int id, int8_t def, int8_t *out);
sl_status sl_fb_i32(const sl_fb_table *t, int id, int32_t def, int32_t *out);
sl_status sl_fb_u32(const sl_fb_table *t, int id, uint32_t def, uint32_t *out);
sl_status sl_fb_u64(const sl_fb_table *t, int id, uint64_t def, uint64_t *out);
sl_status sl_fb_f32(const sl_fb_table *t, int id, float def, float *out);

/* A sub-table field. *present = 0 (and *out untouched) when absent. */
sl_status sl_fb_table_field(const sl_fb_table *t, int id, int *present,
                            sl_fb_table *out);

/* A vector field of elem_size-byte elements (scalars or uoffsets). An
 * absent field yields an empty vector. max_count caps the element count
 * (SL_ERR_LIMIT above it). */
sl_status sl_fb_vec_field(const sl_fb_table *t, int id, uint32_t elem_size,
                          uint32_t max_count, sl_fb_vec *out);

/* Element i of a vector of tables. */
sl_status sl_fb_vec_table(const sl_fb_vec *v, uint32_t i, sl_fb_table *out);

/* Raw element pointer of a scalar vector (bounds already checked by
 * sl_fb_vec_field); read it with sl_fb_le*. */
static inline const uint8_t *sl_fb_vec_at(const sl_fb_vec *v, uint32_t i) {
    return v->fb->data + v->pos + (size_t)i * v->elem_size;
}

/* A string field: pointer into the buffer and its length (not
 * NUL-terminated as far as we rely on). Absent: "" with length 0. */
sl_status sl_fb_string(const sl_fb_table *t, int id, uint32_t max_len,
                       const char **s, uint32_t *len);

#endif /* SL_TFLITE_FLATBUF_H */
