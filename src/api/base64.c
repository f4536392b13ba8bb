/* Base64 encoding, three bytes to four characters. */
#include "api/base64.h"

#include <stdint.h>

static const char k_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t sl_base64_len(size_t n) {
    size_t groups = n / 3 + (n % 3 != 0);
    if (groups > SIZE_MAX / 4) return 0;
    return groups * 4;
}

void sl_base64_encode(const void *src, size_t n, char *dst) {
    const uint8_t *s = src;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *dst++ = k_alphabet[v >> 18];
        *dst++ = k_alphabet[(v >> 12) & 63];
        *dst++ = k_alphabet[(v >> 6) & 63];
        *dst++ = k_alphabet[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;
        *dst++ = k_alphabet[v >> 18];
        *dst++ = k_alphabet[(v >> 12) & 63];
        *dst++ = '=';
        *dst++ = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
        *dst++ = k_alphabet[v >> 18];
        *dst++ = k_alphabet[(v >> 12) & 63];
        *dst++ = k_alphabet[(v >> 6) & 63];
        *dst++ = '=';
    }
    *dst = '\0';
}
