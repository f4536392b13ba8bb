/* Snapshot files of the searcher index (src/index/ann.h): one file holds a
 * whole sl_ann, little-endian, every section 64-byte aligned and
 * checksummed (CRC-32), so that a loaded index maps the file and points
 * into it instead of reading and copying it. docs/FORMAT.md specifies the
 * layout byte by byte; tests/test_ann_file.c and the golden file
 * tests/golden/ann/tiny.slx keep the two in step.
 *
 * A loaded index searches exactly like the one that was saved (the same
 * hits, bit for bit) and can be changed: sl_ann_add/sl_ann_remove copy a
 * leaf out of the file the first time they touch it (copy on write), so
 * the file itself is never written through the map. */
#ifndef SL_INDEX_ANN_FILE_H
#define SL_INDEX_ANN_FILE_H

#include "ann.h"

/* Serializes the index into one new buffer (*data malloc'ed, the caller
 * frees it; *size its length). Deterministic: the same index (same items
 * in the same leaves and order, same options) gives the same bytes,
 * whether it was built, loaded or changed since.
 * Errors: SL_ERR_ARG (NULL argument), SL_ERR_LIMIT (a count does not fit
 * the format's fields), SL_ERR_NOMEM. */
sl_status sl_ann_save_buffer(const sl_ann *a, uint8_t **data, size_t *size);

/* sl_ann_save_buffer, then an atomic write (sl_file_write_atomic: a
 * temporary file renamed over `path`, so a reader sees the old file or
 * the new one, never a mix). Needs the file's size in memory once.
 * Errors: those of sl_ann_save_buffer, SL_ERR_IO. */
sl_status sl_ann_save(const sl_ann *a, const char *path);

/* Maps `path` read-only and builds an index on it: the big arrays (leaf
 * ids, codes, exact vectors, scales, centres and their norms, codebooks)
 * point into the map, nothing is copied; the leaves table and the id map
 * are built in memory (the map from the ids section, which also proves
 * the ids unique). The map is released by sl_ann_free. The file must not
 * be truncated in place while an index maps it (reads past the new end
 * fault); replacing it with sl_ann_save is safe: the rename leaves the
 * mapped file intact until it is unmapped.
 *
 * The file is hostile input. Always checked: the header and its CRC, the
 * section table and its CRC, every offset, size and count (inside the
 * file, aligned, non-overlapping, agreeing with each other), the options
 * (enum values, limits), the CRCs of the options and leaves sections, the
 * centres, their norms and the codebooks (finite), the ids (unique).
 * verify != 0 also checks the CRC of every other section and that all
 * padding is zero, which reads the whole file; without it a flipped bit in
 * the ids' values, codes or vectors goes unnoticed (it cannot make the
 * index read out of bounds: only the values of items change).
 *
 * Errors: SL_ERR_ARG (NULL argument), SL_ERR_IO (cannot open or map),
 * SL_ERR_CORRUPT (malformed: the message names the section and field),
 * SL_ERR_CHECKSUM (a CRC-32 does not match: the message names the
 * section), SL_ERR_UNSUPPORTED (a newer version, unknown flags or an
 * unknown section), SL_ERR_LIMIT (dimension or block count above the
 * index's limits), SL_ERR_NOMEM. Messages start with the path. */
sl_status sl_ann_load(const char *path, int verify, sl_ann **out);

/* The same from memory. The index borrows `data` (zero copy, like the
 * file's map): the buffer must stay valid and unchanged until
 * sl_ann_free, and it is never written. It must be 8-byte aligned (any
 * malloc'ed buffer is) so that the arrays in it are aligned for their
 * types; SL_ERR_ARG otherwise. Errors as sl_ann_load, without SL_ERR_IO. */
sl_status sl_ann_load_buffer(const void *data, size_t size, int verify, sl_ann **out);

#endif
