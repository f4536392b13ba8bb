/* Sectioned container files: the layout every searchlite binary format
 * shares (docs/FORMAT.md, "Index snapshot", Conventions to Section table
 * entry): a 64-byte header (8-byte magic, u32 version, flags, sizes, CRCs),
 * a table of 32-byte entries {tag, crc, offset, size}, and 64-byte aligned
 * sections with zero padding, little-endian, CRC-32 = zlib's crc32().
 *
 * This module knows the container only: which tags a format has, what
 * each section holds and how sections relate to each other belong to the
 * format's own module (app_file.c, ann_file.c). The writer is split in two
 * (layout, seal) so a format that fills its sections in place can use it
 * without copying; sl_sections_write does all three steps for sections
 * that already sit in memory. */
#ifndef SL_CORE_SECTIONS_H
#define SL_CORE_SECTIONS_H

#include "core.h"

enum {
    SL_SECTIONS_HEADER = 64,  /* header bytes */
    SL_SECTIONS_ENTRY = 32,   /* bytes of one table entry */
    SL_SECTIONS_ALIGN = 64,   /* of the table, every section and the file size */
    SL_SECTIONS_MAX = 64      /* a table longer than this is refused (SL_ERR_LIMIT) */
};

/* ---- little-endian fields and CRC-32 --------------------------------------
 * Byte by byte: no unaligned access whatever the offset, and the code says
 * the byte order. */
static inline void sl_put_u16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void sl_put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void sl_put_u64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t sl_get_u16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t sl_get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t sl_get_u64(const uint8_t *p) { return (uint64_t)sl_get_u32(p) | (uint64_t)sl_get_u32(p + 4) << 32; }

/* zlib's crc32() of n bytes (any n: fed in chunks, since zlib's length is
 * an unsigned int). */
uint32_t sl_crc32(const void *data, uint64_t n);
/* Whether n bytes are all zero. */
int sl_all_zero(const void *data, uint64_t n);

/* ---- writing ----------------------------------------------------------- */

/* One section to write. `tag` is 4 ASCII bytes (no NUL needed). `data`
 * (size bytes) is copied by sl_sections_write; sl_sections_layout and
 * sl_sections_seal ignore it. `offset` is set by sl_sections_layout. */
typedef struct sl_section_in {
    const char *tag;
    const void *data;
    uint64_t size;
    uint64_t offset;
} sl_section_in;

/* Places n sections (n <= SL_SECTIONS_MAX): the table right after the
 * header, then the sections in the given order, each at the first multiple
 * of 64 after the previous one; sets s[i].offset and *file_size (a multiple
 * of 64). This placement is the canonical one: the same sizes give the same
 * offsets. Errors: SL_ERR_ARG (n above the maximum, a tag twice),
 * SL_ERR_LIMIT (the sum overflows 64 bits). */
sl_status sl_sections_layout(sl_section_in *s, size_t n, uint64_t *file_size);

/* Writes the header and the table into buf (file_size bytes, laid out by
 * sl_sections_layout, sections already filled in, everything else zero):
 * each section's CRC-32 is computed from buf. `magic` is 8 bytes. */
void sl_sections_seal(uint8_t *buf, uint64_t file_size, const char *magic, uint32_t version, const sl_section_in *s,
                      size_t n);

/* Layout, a zeroed malloc buffer, a copy of every section's data, seal.
 * *data is the caller's to free. Errors: those of sl_sections_layout, and
 * SL_ERR_LIMIT (the file does not fit in size_t), SL_ERR_NOMEM. Messages
 * start with `what`. */
sl_status sl_sections_write(const char *what, const char *magic, uint32_t version, sl_section_in *s, size_t n,
                            uint8_t **data, size_t *size);

/* ---- reading ------------------------------------------------------------ */

/* A format: its magic, the newest version this reader knows, its tags.
 * `what` starts every message ("app file"); a section's `name` follows its
 * tag in messages ("section 'IDS ' (ids): ..."). */
typedef struct sl_section_kind {
    char tag[5];
    const char *name;
} sl_section_kind;

typedef struct sl_sections_spec {
    const char *what;
    const char *magic; /* 8 bytes */
    uint32_t version;  /* newest known; newer files: SL_ERR_UNSUPPORTED */
    const sl_section_kind *kinds;
    size_t n_kinds;
} sl_sections_spec;

/* A section found in a file (indexed like spec->kinds). */
typedef struct sl_section {
    int present;
    uint32_t crc; /* as the table says */
    uint64_t offset, size;
    const uint8_t *data; /* buf + offset; NULL when absent */
} sl_section;

/* Checks the container as hostile input and fills out[spec->n_kinds]:
 * size >= 8 and the magic; size >= 64; version (0: corrupt; newer than
 * spec->version: SL_ERR_UNSUPPORTED, read before the header CRC since a
 * newer header may be laid out differently); header CRC; flags 0
 * (SL_ERR_UNSUPPORTED); header_size 64; file_size = size and a multiple
 * of 64; table_entry_size 32; reserved bytes zero; section_count <= 64
 * (SL_ERR_LIMIT); the table inside the file and aligned; the table's CRC.
 * Every entry: a known tag (SL_ERR_UNSUPPORTED), not seen before
 * (corrupt), reserved bytes zero, inside the file (overflow-safe), 64-byte
 * aligned; no two of header, table and non-empty sections overlapping.
 * verify != 0 also checks every present section's CRC and that every byte
 * outside the header, the table and the sections is zero.
 * Which sections a file must have is the format's business, not checked
 * here. buf may be NULL when size is 0 (an empty file is corrupt).
 * Statuses: SL_ERR_CORRUPT, SL_ERR_CHECKSUM, SL_ERR_UNSUPPORTED,
 * SL_ERR_LIMIT; messages "<what>: header: ...", "<what>: section table:
 * ...", "<what>: section 'TAG' (name): ...". *version gets the file's
 * version (may be NULL). */
sl_status sl_sections_parse(const sl_sections_spec *spec, const void *buf, size_t size, int verify, uint32_t *version,
                            sl_section *out);

/* The padding check of verify on its own: every byte outside the header,
 * the table and the sections in s is zero. For a format that checks its
 * sections' contents first (parses with verify 0, then checks the CRCs
 * and this itself), so that a structural fault is named as such, not as
 * padding. buf, size and s as a successful sl_sections_parse left them.
 * Errors: SL_ERR_CORRUPT, "<what>: padding byte at offset N is not zero". */
sl_status sl_sections_check_padding(const sl_sections_spec *spec, const void *buf, size_t size, const sl_section *s);

/* The CRC-32 of section k against its table entry: SL_ERR_CHECKSUM with a
 * message naming it. For the small sections a format checks whatever
 * `verify` (those describing the structure, so damage there is named as
 * such). An absent section passes. */
sl_status sl_section_check_crc(const sl_sections_spec *spec, size_t k, const sl_section *s);

/* sl_fail with the message "<what>: section 'TAG' (name): <fmt...>". */
sl_status sl_section_fail(const sl_sections_spec *spec, size_t k, sl_status st, const char *fmt, ...) SL_PRINTF(4, 5);

#endif
