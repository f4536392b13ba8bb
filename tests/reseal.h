/* Little-endian field access and CRC resealing for files in the section
 * container of docs/FORMAT.md (index snapshots, app files), written from
 * the spec and shared by their tests and fuzz targets: after a deliberate
 * edit, resealing recomputes every CRC-32 so that the structural checks,
 * not the checksums, are what a loader must refuse it with. Header-only
 * (the fuzz targets do not link testlib). */
#ifndef SL_TESTS_RESEAL_H
#define SL_TESTS_RESEAL_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

static inline uint32_t sl_test_rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t sl_test_rd64(const uint8_t *p) { return sl_test_rd32(p) | (uint64_t)sl_test_rd32(p + 4) << 32; }
static inline void sl_test_wr32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> 8 * i);
}
static inline void sl_test_wr64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> 8 * i);
}

/* Recomputes the CRCs of every section the table names (those inside the
 * file), of the table and of the header, as far as the header and table
 * can be walked; the rest of a damaged file is left as it is. */
static inline void sl_test_reseal(uint8_t *f, size_t size) {
    if (size < 64) return;
    uint64_t n = sl_test_rd32(f + 20), t = sl_test_rd64(f + 32);
    if (n > 64 || t > size || n * 32 > size - t) return;
    for (uint64_t e = 0; e < n; e++) {
        uint8_t *x = f + t + 32 * e;
        uint64_t off = sl_test_rd64(x + 8), len = sl_test_rd64(x + 16);
        if (off <= size && len <= size - off) sl_test_wr32(x + 4, (uint32_t)crc32(0, f + off, (uInt)len));
    }
    sl_test_wr32(f + 44, (uint32_t)crc32(0, f + t, (uInt)(n * 32)));
    sl_test_wr32(f + 60, (uint32_t)crc32(0, f, 60));
}

#endif
