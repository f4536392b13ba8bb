/* Overflow-checked and aligned allocation. */
#include "core.h"

#include <stdlib.h>

void *sl_malloc_array(size_t n, size_t size) {
    size_t bytes;
    if (sl_mul_overflow(n, size, &bytes)) return NULL;
    return malloc(bytes ? bytes : 1);
}

void *sl_calloc_array(size_t n, size_t size) {
    size_t bytes;
    if (sl_mul_overflow(n, size, &bytes)) return NULL;
    return calloc(bytes ? n : 1, bytes ? size : 1);
}

void *sl_malloc_aligned(size_t size) {
    /* aligned_alloc wants a multiple of the alignment. */
    size_t rounded;
    if (sl_add_overflow(size, 63, &rounded)) return NULL;
    rounded &= ~(size_t)63;
    if (rounded == 0) rounded = 64;
    return aligned_alloc(64, rounded);
}

void sl_free_aligned(void *p) { free(p); }
