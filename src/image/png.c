/* PNG decoding through libpng.
 *
 * Output follows Pillow's Image.open(p).convert("RGB"): palette and low
 * bit depths expanded, greyscale replicated, alpha and tRNS dropped without
 * compositing, gamma and colour profiles ignored. One deliberate
 * difference: 16-bit samples keep their high byte (libpng's strip_16),
 * where Pillow clips 16-bit greyscale ("I" mode) to 255.
 *
 * libpng reports errors by longjmp to png_jmpbuf; run() holds the only
 * setjmp and keeps its state in the context struct. CRC errors in critical
 * chunks are errors (libpng's default); data after the image (even a
 * missing IEND) is not read, as Pillow does not need it either. */
#include "image/image_internal.h"

#include <limits.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Ancillary chunks libpng would otherwise parse (and in some cases
 * decompress) for nothing: the decode needs IHDR, PLTE, tRNS, IDAT only. */
static const png_byte k_ignored_chunks[] = {
    'b', 'K', 'G', 'D', '\0', 'c', 'H', 'R', 'M', '\0', 'e', 'X', 'I', 'f', '\0',
    'g', 'A', 'M', 'A', '\0', 'h', 'I', 'S', 'T', '\0', 'i', 'C', 'C', 'P', '\0',
    'i', 'T', 'X', 't', '\0', 'o', 'F', 'F', 's', '\0', 'p', 'C', 'A', 'L', '\0',
    'p', 'H', 'Y', 's', '\0', 's', 'B', 'I', 'T', '\0', 's', 'C', 'A', 'L', '\0',
    's', 'P', 'L', 'T', '\0', 's', 'R', 'G', 'B', '\0', 't', 'E', 'X', 't', '\0',
    't', 'I', 'M', 'E', '\0', 'z', 'T', 'X', 't', '\0',
};

/* The most libpng may allocate for one ancillary chunk. */
enum { CHUNK_MALLOC_MAX = 8 << 20 };

typedef struct png_ctx {
    const uint8_t *data;
    size_t size, pos;
    sl_status status;
    char message[256];
    png_bytep *rows; /* (height) pointers into img.pixels */
    sl_image img;
} png_ctx;

static void on_error(png_structp png, png_const_charp msg) {
    png_ctx *ctx = png_get_error_ptr(png);
    /* libpng's allocation failures say "Out of memory"; everything else it
     * raises is about the data. */
    ctx->status = strstr(msg, "ut of memory") || strstr(msg, "ut of Memory")
                      ? SL_ERR_NOMEM
                      : SL_ERR_CORRUPT;
    snprintf(ctx->message, sizeof ctx->message, "%s", msg);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg) {
    (void)png;
    sl_log(SL_LOG_DEBUG, "png: %s", msg);
}

static void on_read(png_structp png, png_bytep out, size_t n) {
    png_ctx *ctx = png_get_io_ptr(png);
    if (n > ctx->size - ctx->pos) png_error(png, "truncated file");
    memcpy(out, ctx->data + ctx->pos, n);
    ctx->pos += n;
}

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* IHDR must be the first chunk; reading its size before libpng lets an
 * oversized image fail with SL_ERR_LIMIT rather than libpng's generic
 * error (libpng's user limits below are the second line of defence). */
static sl_status precheck_ihdr(const uint8_t *d, size_t n, const sl_decode_cfg *cfg) {
    if (n < 33) return sl_fail(SL_ERR_CORRUPT, "png: truncated header (%zu bytes)", n);
    if (be32(d + 8) != 13 || memcmp(d + 12, "IHDR", 4))
        return sl_fail(SL_ERR_CORRUPT, "png: first chunk is not IHDR");
    uint32_t w = be32(d + 16), h = be32(d + 20);
    if (w > INT32_MAX || h > INT32_MAX)
        return sl_fail(SL_ERR_CORRUPT, "png: invalid size %ux%u", w, h);
    return sl_image_check_dims("png", w, h, cfg->max_pixels);
}

static void run(png_ctx *ctx, png_structp png, png_infop info,
                const sl_decode_cfg *cfg) {
    if (setjmp(png_jmpbuf(png))) return;

    png_set_read_fn(png, ctx, on_read);
    png_set_user_limits(png, SL_IMAGE_MAX_SIDE, SL_IMAGE_MAX_SIDE);
    png_set_chunk_malloc_max(png, CHUNK_MALLOC_MAX);
    png_set_chunk_cache_max(png, 64);
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, 0);
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, k_ignored_chunks,
                                (int)(sizeof k_ignored_chunks / 5));
    png_read_info(png, info);

    png_uint_32 w, h;
    int depth, color, interlace;
    png_get_IHDR(png, info, &w, &h, &depth, &color, &interlace, NULL, NULL);
    ctx->status = sl_image_check_dims("png", w, h, cfg->max_pixels);
    if (ctx->status) return;

    png_set_expand(png); /* palette -> RGB, grey 1/2/4 -> 8, tRNS -> alpha */
    png_set_strip_16(png);
    png_set_strip_alpha(png);
    png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_channels(png, info) != 3 || png_get_bit_depth(png, info) != 8 ||
        png_get_rowbytes(png, info) != (size_t)w * 3) {
        ctx->status = sl_fail(SL_ERR_INTERNAL, "png: unexpected output layout");
        return;
    }

    ctx->status = sl_image_alloc(&ctx->img, w, h);
    if (ctx->status) return;
    ctx->rows = sl_malloc_array(h, sizeof *ctx->rows);
    if (!ctx->rows) {
        ctx->status = sl_fail(SL_ERR_NOMEM, "png: cannot allocate row pointers");
        return;
    }
    for (png_uint_32 y = 0; y < h; y++) ctx->rows[y] = ctx->img.pixels + (size_t)y * w * 3;
    png_read_image(png, ctx->rows);
    ctx->status = SL_OK;
}

sl_status sl_png_decode(const uint8_t *data, size_t size,
                        const sl_decode_cfg *cfg, sl_image *out) {
    memset(out, 0, sizeof *out);
    sl_status st = precheck_ihdr(data, size, cfg);
    if (st) return st;

    png_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return sl_fail(SL_ERR_NOMEM, "png: cannot allocate the decoder");
    ctx->data = data;
    ctx->size = size;
    ctx->status = SL_ERR_INTERNAL;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, ctx, on_error,
                                             on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_read_struct(png ? &png : NULL, NULL, NULL);
        free(ctx);
        return sl_fail(SL_ERR_NOMEM, "png: cannot create the decoder");
    }
    run(ctx, png, info, cfg);
    png_destroy_read_struct(&png, &info, NULL);

    st = ctx->status;
    if (st == SL_OK) {
        *out = ctx->img;
    } else {
        if (ctx->message[0]) sl_fail(st, "png: %s", ctx->message);
        sl_image_free(&ctx->img);
    }
    free(ctx->rows);
    free(ctx);
    return st;
}
