/* libFuzzer target for the GGUF reader: parse, then touch every key and
 * every tensor byte range the reader vouched for. */
#include "model/gguf.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sl_gguf *g = NULL;
    if (sl_gguf_open_memory(data, size, &g) != SL_OK) return 0;
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < sl_gguf_kv_count(g); i++) {
        sl_gguf_str key = sl_gguf_key_at(g, i);
        if (key.len) sink ^= (uint8_t)key.data[key.len - 1];
    }
    for (size_t i = 0; i < sl_gguf_tensor_count(g); i++) {
        const sl_gguf_tensor *t = sl_gguf_tensor_at(g, i);
        sink ^= ((const uint8_t *)t->data)[0];
        sink ^= ((const uint8_t *)t->data)[t->n_bytes - 1];
    }
    uint64_t n = 0;
    sl_gguf_str s;
    if (sl_gguf_get_str_array_count(g, "a.words", &n) == SL_OK)
        for (uint64_t i = 0; i < n; i++)
            if (sl_gguf_get_str_array_at(g, "a.words", i, &s) == SL_OK && s.len) sink ^= (uint8_t)s.data[0];
    (void)sink;
    sl_gguf_free(g);
    return 0;
}
