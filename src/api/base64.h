/* Base64 (RFC 4648 §4, standard alphabet, '=' padding), for the JPEG data
 * URIs of gallery pages. */
#ifndef SL_API_BASE64_H
#define SL_API_BASE64_H

#include <stddef.h>

/* Characters sl_base64_encode writes for n input bytes, without the NUL;
 * 0 when that count would overflow size_t (n > 0). */
size_t sl_base64_len(size_t n);

/* Writes the encoding of src (n bytes) and a terminating NUL to dst, which
 * holds sl_base64_len(n) + 1 chars. */
void sl_base64_encode(const void *src, size_t n, char *dst);

#endif
