/* Sectioned container files (sections.h; docs/FORMAT.md "Index snapshot":
 * Conventions, Layout, Header, Section table entry, What the reader
 * checks 1-2). The format modules decide what the sections mean; this file
 * decides only where they are and whether the bytes around them are
 * intact. */
#include "sections.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

uint32_t sl_crc32(const void *data, uint64_t n) {
    const uint8_t *p = data;
    uLong c = crc32(0L, Z_NULL, 0);
    while (n) {
        uInt m = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, p, m);
        p += m;
        n -= m;
    }
    return (uint32_t)c;
}

int sl_all_zero(const void *data, uint64_t n) {
    const uint8_t *p = data;
    for (uint64_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

static uint64_t align_up(uint64_t x) { return (x + SL_SECTIONS_ALIGN - 1) / SL_SECTIONS_ALIGN * SL_SECTIONS_ALIGN; }

/* ---- writing ------------------------------------------------------------ */

sl_status sl_sections_layout(sl_section_in *s, size_t n, uint64_t *file_size) {
    if (n > SL_SECTIONS_MAX) return sl_fail(SL_ERR_ARG, "sections: %zu sections above %d", n, SL_SECTIONS_MAX);
    /* a tag twice would make a file every reader refuses */
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (!memcmp(s[i].tag, s[j].tag, 4)) return sl_fail(SL_ERR_ARG, "sections: tag '%.4s' twice", s[i].tag);
    uint64_t pos = align_up(SL_SECTIONS_HEADER + (uint64_t)n * SL_SECTIONS_ENTRY);
    for (size_t i = 0; i < n; i++) {
        s[i].offset = pos;
        if (__builtin_add_overflow(pos, s[i].size, &pos) || pos > UINT64_MAX - SL_SECTIONS_ALIGN)
            return sl_fail(SL_ERR_LIMIT, "sections: the sections add up to more than 2^64 bytes");
        pos = align_up(pos);
    }
    *file_size = pos;
    return SL_OK;
}

void sl_sections_seal(uint8_t *buf, uint64_t file_size, const char *magic, uint32_t version, const sl_section_in *s,
                      size_t n) {
    const uint64_t table = SL_SECTIONS_HEADER; /* sl_sections_layout's place */
    for (size_t i = 0; i < n; i++) {
        uint8_t *t = buf + table + i * SL_SECTIONS_ENTRY;
        memcpy(t, s[i].tag, 4);
        sl_put_u32(t + 4, sl_crc32(buf + s[i].offset, s[i].size));
        sl_put_u64(t + 8, s[i].offset);
        sl_put_u64(t + 16, s[i].size);
        memset(t + 24, 0, 8);
    }
    memcpy(buf, magic, 8);
    sl_put_u32(buf + 8, version);
    sl_put_u32(buf + 12, 0); /* flags */
    sl_put_u32(buf + 16, SL_SECTIONS_HEADER);
    sl_put_u32(buf + 20, (uint32_t)n);
    sl_put_u64(buf + 24, file_size);
    sl_put_u64(buf + 32, table);
    sl_put_u32(buf + 40, SL_SECTIONS_ENTRY);
    sl_put_u32(buf + 44, sl_crc32(buf + table, (uint64_t)n * SL_SECTIONS_ENTRY));
    memset(buf + 48, 0, 12);
    sl_put_u32(buf + 60, sl_crc32(buf, 60));
}

sl_status sl_sections_write(const char *what, const char *magic, uint32_t version, sl_section_in *s, size_t n,
                            uint8_t **data, size_t *size) {
    *data = NULL;
    *size = 0;
    uint64_t total;
    sl_status st = sl_sections_layout(s, n, &total);
    if (st) return sl_fail_prefix(st, what);
    if (total > SIZE_MAX) return sl_fail(SL_ERR_LIMIT, "%s: %llu bytes do not fit in memory", what, (unsigned long long)total);
    uint8_t *buf = calloc(1, (size_t)total); /* zeroed: padding and reserved bytes are 0 */
    if (!buf) return sl_fail(SL_ERR_NOMEM, "%s: cannot allocate %llu bytes", what, (unsigned long long)total);
    for (size_t i = 0; i < n; i++)
        if (s[i].size) memcpy(buf + s[i].offset, s[i].data, (size_t)s[i].size);
    sl_sections_seal(buf, total, magic, version, s, n);
    *data = buf;
    *size = (size_t)total;
    return SL_OK;
}

/* ---- reading ------------------------------------------------------------ */

sl_status sl_section_fail(const sl_sections_spec *spec, size_t k, sl_status st, const char *fmt, ...) {
    char why[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return sl_fail(st, "%s: section '%s' (%s): %s", spec->what, spec->kinds[k].tag, spec->kinds[k].name, why);
}

sl_status sl_section_check_crc(const sl_sections_spec *spec, size_t k, const sl_section *s) {
    if (!s[k].present) return SL_OK;
    uint32_t crc = sl_crc32(s[k].data, s[k].size);
    if (crc != s[k].crc) return sl_section_fail(spec, k, SL_ERR_CHECKSUM, "CRC-32 0x%08x, computed 0x%08x", s[k].crc, crc);
    return SL_OK;
}

/* A tag as text for a message: printable ASCII kept, the rest in hex. */
static void tag_text(const uint8_t *p, char out[17]) {
    int printable = 1;
    for (int i = 0; i < 4; i++) printable &= p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\'';
    if (printable) snprintf(out, 17, "'%c%c%c%c'", p[0], p[1], p[2], p[3]);
    else snprintf(out, 17, "0x%08x", sl_get_u32(p));
}

static sl_status check_header(const sl_sections_spec *spec, const uint8_t *b, size_t size, uint32_t *version,
                              uint32_t *n_sec, uint64_t *table_off) {
    const char *w = spec->what;
    if (size == 0) return sl_fail(SL_ERR_CORRUPT, "%s: empty", w);
    if (size < 8 || memcmp(b, spec->magic, 8))
        return sl_fail(SL_ERR_CORRUPT, "%s: bad magic (not \"%.8s\")%s", w, spec->magic, size < 8 ? ", truncated" : "");
    if (size < SL_SECTIONS_HEADER)
        return sl_fail(SL_ERR_CORRUPT, "%s: header truncated (%zu of %d bytes)", w, size, SL_SECTIONS_HEADER);
    /* The version before the CRC: a newer header may put its CRC elsewhere,
     * and "made by a newer searchlite" is the useful message then. */
    *version = sl_get_u32(b + 8);
    if (*version > spec->version)
        return sl_fail(SL_ERR_UNSUPPORTED, "%s: header: version %u is newer than this reader's (%u)", w, *version,
                       spec->version);
    if (*version == 0) return sl_fail(SL_ERR_CORRUPT, "%s: header: version 0", w);
    uint32_t crc = sl_crc32(b, 60);
    if (sl_get_u32(b + 60) != crc)
        return sl_fail(SL_ERR_CHECKSUM, "%s: header: CRC-32 0x%08x, computed 0x%08x", w, sl_get_u32(b + 60), crc);
    if (sl_get_u32(b + 12)) return sl_fail(SL_ERR_UNSUPPORTED, "%s: header: unknown flags 0x%08x", w, sl_get_u32(b + 12));
    if (sl_get_u32(b + 16) != SL_SECTIONS_HEADER)
        return sl_fail(SL_ERR_CORRUPT, "%s: header: header_size %u, expected %d", w, sl_get_u32(b + 16), SL_SECTIONS_HEADER);
    uint64_t file_size = sl_get_u64(b + 24);
    if (file_size != size)
        return sl_fail(SL_ERR_CORRUPT, "%s: header: file_size %llu but the file has %zu bytes%s", w,
                       (unsigned long long)file_size, size, file_size > size ? " (truncated)" : "");
    if (size % SL_SECTIONS_ALIGN)
        return sl_fail(SL_ERR_CORRUPT, "%s: header: file_size %zu is not a multiple of %d", w, size, SL_SECTIONS_ALIGN);
    if (sl_get_u32(b + 40) != SL_SECTIONS_ENTRY)
        return sl_fail(SL_ERR_CORRUPT, "%s: header: table_entry_size %u, expected %d", w, sl_get_u32(b + 40),
                       SL_SECTIONS_ENTRY);
    if (!sl_all_zero(b + 48, 12)) return sl_fail(SL_ERR_CORRUPT, "%s: header: reserved bytes 48..59 are not zero", w);
    *n_sec = sl_get_u32(b + 20);
    *table_off = sl_get_u64(b + 32);
    if (*n_sec > SL_SECTIONS_MAX)
        return sl_fail(SL_ERR_LIMIT, "%s: header: section_count %u above %d", w, *n_sec, SL_SECTIONS_MAX);
    if (*table_off < SL_SECTIONS_HEADER || *table_off % SL_SECTIONS_ALIGN || *table_off > size ||
        (uint64_t)*n_sec * SL_SECTIONS_ENTRY > size - *table_off)
        return sl_fail(SL_ERR_CORRUPT,
                       "%s: header: section table (offset %llu, %u entries) is not inside the file or not %d-byte aligned",
                       w, (unsigned long long)*table_off, *n_sec, SL_SECTIONS_ALIGN);
    crc = sl_crc32(b + *table_off, (uint64_t)*n_sec * SL_SECTIONS_ENTRY);
    if (sl_get_u32(b + 44) != crc)
        return sl_fail(SL_ERR_CHECKSUM, "%s: section table: CRC-32 0x%08x, computed 0x%08x", w, sl_get_u32(b + 44), crc);
    return SL_OK;
}

typedef struct range {
    uint64_t off, end;
    const char *what;
} range;

/* Insertion sort by offset (at most 2 + 64 ranges); stable, so ranges at
 * one offset keep their order. */
static void sort_ranges(range *r, size_t n) {
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && r[j].off < r[j - 1].off; j--) {
            range t = r[j];
            r[j] = r[j - 1];
            r[j - 1] = t;
        }
}

/* Every byte outside the ranges (sorted, not overlapping) is zero: with
 * verify, every byte of the file is covered by a CRC or by this. */
static sl_status zero_outside(const char *w, const uint8_t *b, size_t size, const range *r, size_t n) {
    uint64_t at = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && r[i].off == r[i].end) continue;
        uint64_t next = i < n ? r[i].off : size;
        for (uint64_t j = at; j < next; j++)
            if (b[j]) return sl_fail(SL_ERR_CORRUPT, "%s: padding byte at offset %llu is not zero", w, (unsigned long long)j);
        if (i < n) at = r[i].end;
    }
    return SL_OK;
}

sl_status sl_sections_parse(const sl_sections_spec *spec, const void *buf, size_t size, int verify, uint32_t *version,
                            sl_section *out) {
    const uint8_t *b = buf;
    const char *w = spec->what;
    memset(out, 0, spec->n_kinds * sizeof *out);
    uint32_t ver = 0, n_sec = 0;
    uint64_t table_off = 0;
    if (version) *version = 0;
    sl_status st = check_header(spec, b, size, &ver, &n_sec, &table_off);
    if (st) return st;
    if (version) *version = ver;

    range r[2 + SL_SECTIONS_MAX];
    size_t n = 0;
    r[n++] = (range){0, SL_SECTIONS_HEADER, "the header"};
    r[n++] = (range){table_off, table_off + (uint64_t)n_sec * SL_SECTIONS_ENTRY, "the section table"};
    for (uint32_t e = 0; e < n_sec; e++) {
        const uint8_t *t = b + table_off + (uint64_t)e * SL_SECTIONS_ENTRY;
        size_t k = spec->n_kinds;
        for (size_t i = 0; i < spec->n_kinds; i++)
            if (!memcmp(t, spec->kinds[i].tag, 4)) k = i;
        if (k == spec->n_kinds) {
            char tag[17];
            tag_text(t, tag);
            return sl_fail(SL_ERR_UNSUPPORTED, "%s: section table: entry %u has unknown tag %s", w, e, tag);
        }
        if (out[k].present) return sl_section_fail(spec, k, SL_ERR_CORRUPT, "appears twice in the section table");
        if (!sl_all_zero(t + 24, 8))
            return sl_section_fail(spec, k, SL_ERR_CORRUPT, "reserved bytes of its table entry are not zero");
        uint64_t off = sl_get_u64(t + 8), len = sl_get_u64(t + 16);
        if (off % SL_SECTIONS_ALIGN || off > size || len > size - off)
            return sl_section_fail(spec, k, SL_ERR_CORRUPT,
                                   "offset %llu, size %llu: not inside the %zu-byte file or not %d-byte aligned",
                                   (unsigned long long)off, (unsigned long long)len, size, SL_SECTIONS_ALIGN);
        out[k] = (sl_section){1, sl_get_u32(t + 4), off, len, b + off};
        r[n++] = (range){off, off + len, spec->kinds[k].name};
    }
    /* Sorted by offset, neighbours must not overlap: a section that
     * overlapped another (or the header, or the table) could be read as
     * two things at once. Empty ranges overlap nothing. */
    sort_ranges(r, n);
    uint64_t end = 0;
    const char *last = NULL;
    for (size_t i = 0; i < n; i++) {
        if (r[i].off == r[i].end) continue;
        if (r[i].off < end)
            return sl_fail(SL_ERR_CORRUPT, "%s: %s (offset %llu) overlaps %s", w, r[i].what, (unsigned long long)r[i].off,
                           last);
        end = r[i].end;
        last = r[i].what;
    }
    if (!verify) return SL_OK;

    for (size_t k = 0; k < spec->n_kinds; k++)
        if ((st = sl_section_check_crc(spec, k, out))) return st;
    return zero_outside(w, b, size, r, n);
}

sl_status sl_sections_check_padding(const sl_sections_spec *spec, const void *buf, size_t size, const sl_section *s) {
    const uint8_t *b = buf;
    /* the header's table fields were checked by sl_sections_parse */
    const uint64_t table_off = sl_get_u64(b + 32), n_sec = sl_get_u32(b + 20);
    range r[2 + SL_SECTIONS_MAX];
    size_t n = 0;
    r[n++] = (range){0, SL_SECTIONS_HEADER, "the header"};
    r[n++] = (range){table_off, table_off + n_sec * SL_SECTIONS_ENTRY, "the section table"};
    /* one present section per table entry: at most SL_SECTIONS_MAX */
    for (size_t k = 0; k < spec->n_kinds && n < 2 + SL_SECTIONS_MAX; k++)
        if (s[k].present) r[n++] = (range){s[k].offset, s[k].offset + s[k].size, spec->kinds[k].name};
    sort_ranges(r, n);
    return zero_outside(spec->what, b, size, r, n);
}
