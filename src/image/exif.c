/* EXIF Orientation from a JPEG APP1 segment.
 *
 * Layout: "Exif\0\0", then a TIFF file: byte order ("II" little / "MM"
 * big endian), the number 42, the offset of IFD0 (from the TIFF start),
 * and at IFD0 a 16-bit entry count followed by 12-byte entries
 * (tag u16, type u16, count u32, value-or-offset 4 bytes). Orientation is
 * tag 0x0112, one SHORT whose value sits in the first bytes of the value
 * field. The whole segment is attacker-controlled, so every read goes
 * through bounds-checked helpers. */
#include "image/image_internal.h"

#include <string.h>

typedef struct tiff {
    const uint8_t *p;
    size_t n;
    int big_endian;
} tiff;

/* Reads u16/u32 at `off`; returns 0 when the bytes are not all inside. */
static int rd16(const tiff *t, size_t off, uint32_t *v) {
    if (off > t->n || t->n - off < 2) return 0;
    const uint8_t *b = t->p + off;
    *v = t->big_endian ? (uint32_t)b[0] << 8 | b[1] : (uint32_t)b[1] << 8 | b[0];
    return 1;
}

static int rd32(const tiff *t, size_t off, uint32_t *v) {
    if (off > t->n || t->n - off < 4) return 0;
    const uint8_t *b = t->p + off;
    *v = t->big_endian
             ? (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]
             : (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0];
    return 1;
}

enum { TAG_ORIENTATION = 0x0112, TYPE_BYTE = 1, TYPE_SHORT = 3, TYPE_LONG = 4 };

int sl_exif_orientation(const uint8_t *app1, size_t size) {
    static const uint8_t hdr[6] = {'E', 'x', 'i', 'f', 0, 0};
    if (!app1 || size < sizeof hdr || memcmp(app1, hdr, sizeof hdr)) return 1;
    tiff t = {app1 + sizeof hdr, size - sizeof hdr, 0};
    if (t.n < 8) return 1;
    if (t.p[0] == 'I' && t.p[1] == 'I') t.big_endian = 0;
    else if (t.p[0] == 'M' && t.p[1] == 'M') t.big_endian = 1;
    else return 1;
    uint32_t magic, ifd, count;
    if (!rd16(&t, 2, &magic) || magic != 42) return 1;
    if (!rd32(&t, 4, &ifd) || !rd16(&t, ifd, &count)) return 1;
    /* Entries beyond the segment are ignored rather than trusted. */
    for (uint32_t i = 0; i < count; i++) {
        size_t e = (size_t)ifd + 2 + (size_t)i * 12;
        uint32_t tag, type, n, v;
        if (!rd16(&t, e, &tag) || !rd16(&t, e + 2, &type) || !rd32(&t, e + 4, &n))
            return 1;
        if (tag != TAG_ORIENTATION) continue;
        /* A single value fits in the 4-byte field; several would make it a
         * list, which Pillow does not treat as an orientation either. */
        if (n != 1) return 1;
        int ok;
        switch (type) {
        case TYPE_SHORT: ok = rd16(&t, e + 8, &v); break;
        case TYPE_LONG: ok = rd32(&t, e + 8, &v); break;
        case TYPE_BYTE: ok = e + 8 < t.n; v = ok ? t.p[e + 8] : 0; break;
        default: ok = 0; break;
        }
        return ok && v >= 1 && v <= 8 ? (int)v : 1;
    }
    return 1;
}
