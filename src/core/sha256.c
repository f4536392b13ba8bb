/* SHA-256 through OpenSSL's EVP interface: content hashes of catalogued
 * files and the identity of model files. A well-kept library rather than
 * our own code: it uses the SHA extensions of the CPU where present. */
#include "core/core.h"

#include <openssl/evp.h>
#include <string.h>
#include <stdlib.h>

struct sl_sha256 {
    EVP_MD_CTX *ctx;
};

void sl_sha256_once(const void *data, size_t size, uint8_t out[SL_SHA256_SIZE]) {
    unsigned int len = 0;
    /* EVP_Digest only fails on allocation failure; the output is then
     * zeroed so that a caller never reads uninitialized bytes. */
    if (!EVP_Digest(data, size, out, &len, EVP_sha256(), NULL) || len != SL_SHA256_SIZE)
        memset(out, 0, SL_SHA256_SIZE);
}

sl_status sl_sha256_new(sl_sha256 **out) {
    *out = NULL;
    sl_sha256 *h = calloc(1, sizeof *h);
    if (!h) return sl_fail(SL_ERR_NOMEM, "sha256: out of memory");
    h->ctx = EVP_MD_CTX_new();
    if (!h->ctx || !EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL)) {
        sl_sha256_free(h);
        return sl_fail(SL_ERR_NOMEM, "sha256: cannot create a digest context");
    }
    *out = h;
    return SL_OK;
}

void sl_sha256_update(sl_sha256 *h, const void *data, size_t size) {
    if (size) EVP_DigestUpdate(h->ctx, data, size);
}

void sl_sha256_final(sl_sha256 *h, uint8_t out[SL_SHA256_SIZE]) {
    unsigned int len = 0;
    if (!EVP_DigestFinal_ex(h->ctx, out, &len) || len != SL_SHA256_SIZE) memset(out, 0, SL_SHA256_SIZE);
}

void sl_sha256_free(sl_sha256 *h) {
    if (!h) return;
    EVP_MD_CTX_free(h->ctx);
    free(h);
}

void sl_hex(const uint8_t *bytes, size_t n, char *out) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}
