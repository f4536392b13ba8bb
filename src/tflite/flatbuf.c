/* Bounds-checked FlatBuffers reader (see flatbuf.h for the layout). */
#include "flatbuf.h"

#include <string.h>

static sl_status table_at(const sl_fb *fb, size_t pos, sl_fb_table *out) {
    if (fb->size < 4 || pos > fb->size - 4)
        return sl_fail(SL_ERR_CORRUPT, "flatbuffer: table at %zu outside the %zu-byte buffer",
                       pos, fb->size);
    int32_t soff = (int32_t)sl_fb_le32(fb->data + pos);
    int64_t vt = (int64_t)pos - (int64_t)soff;
    if (vt < 0 || (uint64_t)vt > (uint64_t)fb->size - 4)
        return sl_fail(SL_ERR_CORRUPT, "flatbuffer: vtable of table at %zu out of bounds", pos);
    uint16_t vt_len = sl_fb_le16(fb->data + vt);
    uint16_t table_len = sl_fb_le16(fb->data + vt + 2);
    if (vt_len < 4 || (vt_len & 1) || (uint64_t)vt + vt_len > fb->size)
        return sl_fail(SL_ERR_CORRUPT, "flatbuffer: bad vtable length %u at %lld", vt_len,
                       (long long)vt);
    if (table_len < 4 || table_len > fb->size - pos)
        return sl_fail(SL_ERR_CORRUPT, "flatbuffer: table at %zu claims %u bytes past the end",
                       pos, table_len);
    out->fb = fb;
    out->pos = pos;
    out->vt = (size_t)vt;
    out->vt_len = vt_len;
    out->table_len = table_len;
    return SL_OK;
}

/* Offset of field `id` inside the table, 0 when absent. */
static uint16_t field_offset(const sl_fb_table *t, int id) {
    if (id < 0) return 0;
    size_t slot = 4 + 2 * (size_t)id;
    if (slot + 2 > t->vt_len) return 0;
    return sl_fb_le16(t->fb->data + t->vt + slot);
}

/* Position of a present field of `size` bytes, checked against the table. */
static sl_status field_pos(const sl_fb_table *t, int id, size_t size, size_t *pos) {
    uint16_t off = field_offset(t, id);
    if (off == 0) {
        *pos = 0;
        return SL_OK;
    }
    if (off < 4 || (size_t)off + size > t->table_len)
        return sl_fail(SL_ERR_CORRUPT, "flatbuffer: field %d of table at %zu overruns the table",
                       id, t->pos);
    *pos = t->pos + off;
    return SL_OK;
}

/* Follows the uoffset stored at `pos` (already known to be in bounds). */
static sl_status follow(const sl_fb *fb, size_t pos, size_t *target) {
    uint32_t rel = sl_fb_le32(fb->data + pos);
    if ((uint64_t)pos + rel >= fb->size)
        return sl_fail(SL_ERR_CORRUPT, "flatbuffer: offset at %zu points past the end", pos);
    *target = pos + rel;
    return SL_OK;
}

sl_status sl_fb_root(const sl_fb *fb, const char *identifier, sl_fb_table *root) {
    if (!fb->data || fb->size < 8)
        return sl_fail(SL_ERR_CORRUPT, "flatbuffer: %zu bytes is too short", fb->size);
    if (identifier && memcmp(fb->data + 4, identifier, 4) != 0)
        return sl_fail(SL_ERR_CORRUPT, "flatbuffer: file identifier is not \"%.4s\"", identifier);
    size_t pos;
    sl_status st = follow(fb, 0, &pos);
    if (st) return st;
    return table_at(fb, pos, root);
}

int sl_fb_has(const sl_fb_table *t, int id) { return field_offset(t, id) != 0; }

#define SCALAR_GETTER(name, type, bytes, load)                                 \
    sl_status name(const sl_fb_table *t, int id, type def, type *out) {        \
        size_t pos;                                                            \
        sl_status st = field_pos(t, id, bytes, &pos);                          \
        if (st) return st;                                                     \
        if (!pos) {                                                            \
            *out = def;                                                        \
            return SL_OK;                                                      \
        }                                                                      \
        load;                                                                  \
        return SL_OK;                                                          \
    }

SCALAR_GETTER(sl_fb_u8, uint8_t, 1, *out = t->fb->data[pos])
SCALAR_GETTER(sl_fb_i8, int8_t, 1, *out = (int8_t)t->fb->data[pos])
SCALAR_GETTER(sl_fb_i32, int32_t, 4, *out = (int32_t)sl_fb_le32(t->fb->data + pos))
SCALAR_GETTER(sl_fb_u32, uint32_t, 4, *out = sl_fb_le32(t->fb->data + pos))
SCALAR_GETTER(sl_fb_u64, uint64_t, 8, *out = sl_fb_le64(t->fb->data + pos))
SCALAR_GETTER(sl_fb_f32, float, 4, {
    uint32_t bits = sl_fb_le32(t->fb->data + pos);
    memcpy(out, &bits, 4);
})

sl_status sl_fb_table_field(const sl_fb_table *t, int id, int *present,
                            sl_fb_table *out) {
    *present = 0;
    size_t pos;
    sl_status st = field_pos(t, id, 4, &pos);
    if (st || !pos) return st;
    size_t target;
    if ((st = follow(t->fb, pos, &target))) return st;
    if ((st = table_at(t->fb, target, out))) return st;
    *present = 1;
    return SL_OK;
}

static sl_status vec_at(const sl_fb *fb, size_t pos, uint32_t elem_size,
                        uint32_t max_count, sl_fb_vec *out) {
    if (fb->size < 4 || pos > fb->size - 4)
        return sl_fail(SL_ERR_CORRUPT, "flatbuffer: vector at %zu outside the buffer", pos);
    uint32_t count = sl_fb_le32(fb->data + pos);
    if (count > max_count)
        return sl_fail(SL_ERR_LIMIT, "flatbuffer: vector of %u elements exceeds the cap of %u",
                       count, max_count);
    size_t avail = fb->size - pos - 4;
    if ((uint64_t)count * elem_size > avail)
        return sl_fail(SL_ERR_CORRUPT, "flatbuffer: vector of %u x %u bytes at %zu overruns the buffer",
                       count, elem_size, pos);
    out->fb = fb;
    out->pos = pos + 4;
    out->count = count;
    out->elem_size = elem_size;
    return SL_OK;
}

sl_status sl_fb_vec_field(const sl_fb_table *t, int id, uint32_t elem_size,
                          uint32_t max_count, sl_fb_vec *out) {
    out->fb = t->fb;
    out->pos = 0;
    out->count = 0;
    out->elem_size = elem_size;
    size_t pos;
    sl_status st = field_pos(t, id, 4, &pos);
    if (st || !pos) return st;
    size_t target;
    if ((st = follow(t->fb, pos, &target))) return st;
    return vec_at(t->fb, target, elem_size, max_count, out);
}

sl_status sl_fb_vec_table(const sl_fb_vec *v, uint32_t i, sl_fb_table *out) {
    if (i >= v->count || v->elem_size != 4)
        return sl_fail(SL_ERR_INTERNAL, "flatbuffer: bad vector element %u", i);
    size_t pos = v->pos + (size_t)i * 4;
    size_t target;
    sl_status st = follow(v->fb, pos, &target);
    if (st) return st;
    return table_at(v->fb, target, out);
}

sl_status sl_fb_string(const sl_fb_table *t, int id, uint32_t max_len,
                       const char **s, uint32_t *len) {
    *s = "";
    *len = 0;
    sl_fb_vec v;
    sl_status st = sl_fb_vec_field(t, id, 1, max_len, &v);
    if (st) return st;
    if (v.count) {
        *s = (const char *)(t->fb->data + v.pos);
        *len = v.count;
    }
    return SL_OK;
}
