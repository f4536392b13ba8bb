/* libFuzzer target for the app file reader (src/index/app_file.h,
 * docs/FORMAT.md "App file"): open with and without verify; on success
 * read everything the accessors give (every item's strings, a sparse
 * search, the dense rows, the nested snapshot loaded as the searcher
 * would); with verify, the opened contents written again must open again.
 * Each input is tried as it is and "resealed" (every CRC-32 the header and
 * table name recomputed), so that mutations reach the structural checks
 * behind the checksums instead of stopping at them.
 * Seeds: tests/golden/app/tiny.sla and `test_app_file --write-corpus DIR`. */
#include "index/ann_file.h"
#include "index/app_file.h"
#include "../tests/reseal.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);



/* Reads everything; with verify, writes the contents again and opens
 * the result, which must succeed (the writer refuses what the reader
 * refuses, and the reader takes what the writer writes). */
static void exercise(const sl_app_file *f, int verify) {
    const size_t n = sl_app_file_count(f), dim = sl_app_file_dim(f);
    volatile size_t sink = strlen(sl_app_file_model_id(f));
    const int64_t *ids = sl_app_file_ids(f);
    int32_t *w = malloc((n ? n : 1) * sizeof *w), *h = malloc((n ? n : 1) * sizeof *h);
    const char **p = malloc((n ? n : 1) * sizeof *p), **m = malloc((n ? n : 1) * sizeof *m);
    if (!w || !h || !p || !m) goto done;
    for (size_t i = 0; i < n; i++) {
        sl_app_file_item(f, i, &p[i], &m[i], &w[i], &h[i]);
        sink += strlen(p[i]) + (m[i] ? strlen(m[i]) : 0) + (size_t)ids[i];
    }
    const sl_sparse_rows *s = sl_app_file_sparse(f);
    const float *x = sl_app_file_dense(f);
    float *q = calloc(dim, sizeof *q);
    if (!q) goto done;
    for (size_t j = 0; j < dim; j++) q[j] = (float)((j * 37 % 11) - 5) / 8.0f;
    if (s) {
        sl_hit hits[5];
        sink += sl_sparse_search(s, q, 5, NULL, hits, NULL);
    }
    if (x)
        for (size_t i = 0; i < n * dim; i++) sink += x[i] > 0;
    size_t ann_n;
    const uint8_t *ann = sl_app_file_ann(f, &ann_n);
    if (ann) {
        sl_ann *a = NULL;
        if (sl_ann_load_buffer(ann, ann_n, 0, &a) == SL_OK) {
            sl_hit hits[5];
            sink += sl_ann_search(a, q, 5, NULL, hits, NULL);
            sl_ann_free(a);
        }
    }
    free(q);
    if (verify) {
        sl_app_file_in in = {sl_app_file_model_id(f), (uint32_t)dim, n, ids, w, h, p, m, s, x, ann, ann_n};
        uint8_t *out;
        size_t out_n;
        sl_status st = sl_app_file_write_buffer(&in, &out, &out_n);
        /* the nested snapshot is not parsed by the reader, the writer
         * checks it: only it may make the writer refuse */
        if (st != SL_OK && st != SL_ERR_NOMEM && !ann) __builtin_trap();
        if (st == SL_OK) {
            sl_app_file *g = NULL;
            st = sl_app_file_open_buffer(out, out_n, 1, &g);
            if (st != SL_OK && st != SL_ERR_NOMEM) __builtin_trap();
            sl_app_file_close(g);
            free(out);
        }
    }
done:
    (void)sink;
    free(w), free(h), free(p), free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    for (int mode = 0; mode < 4; mode++) {
        const int verify = mode & 1, sealed = mode >> 1;
        /* a copy of exactly `size` bytes (ASan sees past its end), 8-byte
         * aligned as the reader needs, fresh for each mode */
        uint8_t *buf = malloc(size ? size : 1);
        if (!buf) return 0;
        if (size) memcpy(buf, data, size);
        if (sealed) sl_test_reseal(buf, size);
        sl_app_file *f = NULL;
        if (sl_app_file_open_buffer(buf, size, verify, &f) == SL_OK) exercise(f, verify);
        sl_app_file_close(f);
        free(buf);
    }
    return 0;
}
