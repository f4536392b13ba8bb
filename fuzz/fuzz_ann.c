/* libFuzzer target for the index snapshot loader (src/index/ann_file.h):
 * load with and without verify; on success search (the file's own query
 * options and exhaustive ones), add and remove items (copy on write out of
 * the buffer), then save and load the result again, which must succeed.
 * Each input is tried as it is and "resealed" (every CRC-32 it names
 * recomputed), so that mutations reach the structural checks behind the
 * checksums instead of stopping at them.
 * Seeds: tests/golden/ann/tiny.slx and `test_ann_file --write-corpus DIR`. */
#include "index/ann_file.h"
#include "index/ann_internal.h"
#include "../tests/reseal.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(sl_ann *a) {
    const size_t dim = sl_ann_dim(a);
    float *q = malloc(2 * dim * sizeof *q);
    if (!q) return;
    for (size_t j = 0; j < 2 * dim; j++) q[j] = (float)((j * 37 % 11) - 5) / 8.0f;
    sl_hit h[10];
    /* the search allocates max(k, reorder_k) candidates per query: a file
     * may say reorder_k = 4e9, which is refused with SL_ERR_NOMEM but
     * trips the fuzzer's malloc limit first */
    const sl_ann_query_opts some = {0, 16}, all = {UINT32_MAX, 64};
    volatile size_t sink = sl_ann_search(a, q, 10, a->o.reorder_k > 4096 ? &some : NULL, h, NULL);
    sink += sl_ann_search(a, q + dim, 10, &all, h, NULL);
    int64_t ids[2] = {INT64_MIN + 5, INT64_MAX - 5};
    sl_ann_add(a, q, ids, 2);
    int64_t rm[4] = {ids[0], 0, 0, 12345};
    for (uint32_t p = 0, k = 1; p < a->n_leaves && k < 3; p++)
        if (a->leaves[p].n) rm[k++] = a->leaves[p].ids[a->leaves[p].n - 1];
    sl_ann_remove(a, rm, 4, NULL);
    sink += sl_ann_search(a, q, 10, &all, h, NULL);
    (void)sink;
    free(q);
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    for (int mode = 0; mode < 4; mode++) {
        const int verify = mode & 1, sealed = mode >> 1;
        /* a copy of exactly `size` bytes (ASan sees past its end), 8-byte
         * aligned as the loader needs, fresh for each mode */
        uint8_t *buf = malloc(size ? size : 1);
        if (!buf) return 0;
        if (size) memcpy(buf, data, size);
        if (sealed) sl_test_reseal(buf, size);
        uint8_t *orig = NULL;
        if (sealed && size && (orig = malloc(size))) memcpy(orig, buf, size);
        sl_ann *a = NULL;
        if (sl_ann_load_buffer(buf, size, verify, &a) == SL_OK) {
            exercise(a);
            /* changes copy leaves out of the buffer, never write into it */
            if (size && memcmp(buf, sealed ? orig : data, size)) __builtin_trap();
            /* what the saver writes, the loader takes */
            uint8_t *saved;
            size_t n;
            if (sl_ann_save_buffer(a, &saved, &n) == SL_OK) {
                sl_ann *b = NULL;
                sl_status st = sl_ann_load_buffer(saved, n, 1, &b);
                if (st != SL_OK && st != SL_ERR_NOMEM) __builtin_trap();
                sl_ann_free(b);
                free(saved);
            }
            sl_ann_free(a);
        }
        free(buf);
        free(orig);
    }
    return 0;
}
