/* JPEG decoding through libjpeg-turbo.
 *
 * Default settings match what Pillow 9.4 gets from the same library for
 * Image.open(p).convert("RGB"): JDCT_ISLOW, fancy upsampling, libjpeg's own
 * colour conversion to RGB (greyscale is replicated), so full-size decodes
 * are bit-identical. CMYK/YCCK files are read as libjpeg's CMYK and
 * converted the way Pillow converts its "CMYK;I" (Adobe, inverted) mode.
 *
 * libjpeg reports fatal errors through error_exit, which must not return:
 * ours records the message and longjmps back to run(). Warnings are logged
 * at DEBUG, except "premature end of JPEG file": libjpeg would pad the
 * missing rows with grey, and an indexer is better off skipping such a
 * file, so a truncated input is SL_ERR_CORRUPT (Pillow raises on it too). */
#include "image/image_internal.h"

#include <limits.h>
#include <setjmp.h>
#include <stdio.h> /* jpeglib.h needs FILE */
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

/* Progressive files can hold any number of scans, each a full pass over
 * the coefficients; real encoders write about ten. The cap keeps a small
 * hostile file from costing minutes of CPU. */
enum { MAX_SCANS = 256, MAX_LOGGED_WARNINGS = 8, ROWS_PER_READ = 16 };

typedef struct jpeg_ctx {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_error_mgr err;
    struct jpeg_progress_mgr progress;
    jmp_buf jump;
    int created;      /* cinfo needs jpeg_destroy_decompress */
    int lib_error;    /* message[] holds libjpeg's text for status */
    sl_status status; /* result of run() */
    char message[JMSG_LENGTH_MAX];
    uint8_t *cmyk_row; /* (output_width, 4) scratch for CMYK output */
    int orientation;
    sl_image img;
} jpeg_ctx;

static sl_status status_for_code(int code) {
    switch (code) {
    case JERR_OUT_OF_MEMORY: return SL_ERR_NOMEM;
    case JERR_IMAGE_TOO_BIG: return SL_ERR_LIMIT;
    case JERR_SOF_UNSUPPORTED:
    case JERR_BAD_PRECISION:
    case JERR_NOT_COMPILED:
    case JERR_ARITH_NOTIMPL:
    case JERR_CONVERSION_NOTIMPL: return SL_ERR_UNSUPPORTED;
    default: return SL_ERR_CORRUPT;
    }
}

static void fail_jump(jpeg_ctx *ctx, sl_status status) {
    ctx->status = status;
    ctx->lib_error = 1;
    longjmp(ctx->jump, 1);
}

static void on_error_exit(j_common_ptr c) {
    jpeg_ctx *ctx = c->client_data;
    c->err->format_message(c, ctx->message);
    fail_jump(ctx, status_for_code(c->err->msg_code));
}

static void on_output_message(j_common_ptr c) {
    char buf[JMSG_LENGTH_MAX];
    c->err->format_message(c, buf);
    sl_log(SL_LOG_DEBUG, "jpeg: %s", buf);
}

static void on_emit_message(j_common_ptr c, int level) {
    if (level >= 0) return; /* trace output */
    jpeg_ctx *ctx = c->client_data;
    if (c->err->msg_code == JWRN_JPEG_EOF) {
        snprintf(ctx->message, sizeof ctx->message,
                 "truncated file (premature end of JPEG data)");
        fail_jump(ctx, SL_ERR_CORRUPT);
    }
    /* Other warnings ("corrupt JPEG data: ... extraneous bytes") leave a
     * usable image, and Pillow accepts those files as well. */
    if (c->err->num_warnings++ < MAX_LOGGED_WARNINGS) on_output_message(c);
}

static void on_progress(j_common_ptr c) {
    if (!c->is_decompressor) return;
    j_decompress_ptr d = (j_decompress_ptr)c;
    if (d->input_scan_number > MAX_SCANS) {
        jpeg_ctx *ctx = c->client_data;
        snprintf(ctx->message, sizeof ctx->message,
                 "more than %d scans in a progressive file", MAX_SCANS);
        fail_jump(ctx, SL_ERR_LIMIT);
    }
}

/* The first APP1 segment that is Exif decides, as in Pillow. */
static int find_orientation(j_decompress_ptr cinfo) {
    for (jpeg_saved_marker_ptr m = cinfo->marker_list; m; m = m->next) {
        if (m->marker != JPEG_APP0 + 1 || m->data_length < 6 ||
            memcmp(m->data, "Exif\0\0", 6))
            continue;
        return sl_exif_orientation(m->data, m->data_length);
    }
    return 1;
}

/* DCT scaling: the smallest of 1/8, 1/4, 1/2 whose output, seen after the
 * orientation, still covers the requested minimum; else full size. */
static void choose_scale(j_decompress_ptr cinfo, const sl_decode_cfg *cfg,
                         int transposed) {
    cinfo->scale_num = 1;
    cinfo->scale_denom = 1;
    if (!cfg->min_width && !cfg->min_height) return;
    for (unsigned denom = 8; denom >= 2; denom /= 2) {
        cinfo->scale_denom = denom;
        jpeg_calc_output_dimensions(cinfo);
        JDIMENSION w = transposed ? cinfo->output_height : cinfo->output_width;
        JDIMENSION h = transposed ? cinfo->output_width : cinfo->output_height;
        if (w >= cfg->min_width && h >= cfg->min_height) return;
    }
    cinfo->scale_denom = 1;
}

/* Pillow's CMYK -> RGB for one channel: with ink C = 255 - raw (its
 * "CMYK;I" unpacking of Adobe files) and nk = 255 - K = raw_k, it computes
 * nk - round(C * nk / 255) using its exact MULDIV255 rounding. */
static inline uint8_t cmyk_to_channel(unsigned raw, unsigned raw_k) {
    unsigned ink = 255 - raw, t = ink * raw_k + 128;
    unsigned scaled = ((t >> 8) + t) >> 8;
    return (uint8_t)(raw_k - scaled); /* scaled <= raw_k since ink <= 255 */
}

static void cmyk_row_to_rgb(uint8_t *rgb, const uint8_t *cmyk, uint32_t width) {
    for (uint32_t x = 0; x < width; x++, rgb += 3, cmyk += 4) {
        rgb[0] = cmyk_to_channel(cmyk[0], cmyk[3]);
        rgb[1] = cmyk_to_channel(cmyk[1], cmyk[3]);
        rgb[2] = cmyk_to_channel(cmyk[2], cmyk[3]);
    }
}

/* Everything that can longjmp happens here. After a longjmp it returns at
 * once; all state lives in *ctx (not in this frame's locals, whose values
 * setjmp would not preserve). */
static void run(jpeg_ctx *ctx, const uint8_t *data, size_t size,
                const sl_decode_cfg *cfg) {
    j_decompress_ptr cinfo = &ctx->cinfo;
    if (setjmp(ctx->jump)) return;

    cinfo->err = jpeg_std_error(&ctx->err);
    ctx->err.error_exit = on_error_exit;
    ctx->err.emit_message = on_emit_message;
    ctx->err.output_message = on_output_message;
    cinfo->client_data = ctx;
    jpeg_create_decompress(cinfo);
    ctx->created = 1;
    ctx->progress.progress_monitor = on_progress;
    cinfo->progress = &ctx->progress;

    jpeg_mem_src(cinfo, data, (unsigned long)size);
    if (cfg->apply_orientation) jpeg_save_markers(cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(cinfo, TRUE);

    /* Caps on the stored size, before libjpeg allocates anything that
     * grows with the image (a progressive file buffers every coefficient
     * of the full-size image, even when decoding at 1/8). */
    ctx->status = sl_image_check_dims("jpeg", cinfo->image_width,
                                      cinfo->image_height, cfg->max_pixels);
    if (ctx->status) return;

    switch (cinfo->jpeg_color_space) {
    case JCS_GRAYSCALE:
    case JCS_YCbCr:
    case JCS_RGB: cinfo->out_color_space = JCS_RGB; break;
    case JCS_CMYK:
    case JCS_YCCK: cinfo->out_color_space = JCS_CMYK; break;
    default:
        ctx->status = sl_fail(SL_ERR_UNSUPPORTED,
                              "jpeg: unsupported colour space (%d components)",
                              cinfo->num_components);
        return;
    }
    cinfo->dct_method = JDCT_ISLOW;
    cinfo->do_fancy_upsampling = TRUE;

    ctx->orientation = cfg->apply_orientation ? find_orientation(cinfo) : 1;
    choose_scale(cinfo, cfg, sl_orientation_transposes(ctx->orientation));

    jpeg_start_decompress(cinfo);
    const uint32_t w = cinfo->output_width, h = cinfo->output_height;
    const int cmyk = cinfo->out_color_space == JCS_CMYK;
    if (cinfo->output_components != (cmyk ? 4 : 3) || w == 0 || h == 0 ||
        w > cinfo->image_width || h > cinfo->image_height) {
        ctx->status = sl_fail(SL_ERR_INTERNAL, "jpeg: unexpected output %ux%ux%d",
                              w, h, cinfo->output_components);
        return;
    }
    ctx->status = sl_image_alloc(&ctx->img, w, h);
    if (ctx->status) return;
    if (cmyk) {
        ctx->cmyk_row = sl_malloc_array(w, 4);
        if (!ctx->cmyk_row) {
            ctx->status = sl_fail(SL_ERR_NOMEM, "jpeg: cannot allocate a row");
            return;
        }
    }

    const size_t stride = (size_t)w * 3;
    while (cinfo->output_scanline < h) {
        JDIMENSION y = cinfo->output_scanline, got;
        if (cmyk) {
            JSAMPROW row = ctx->cmyk_row;
            got = jpeg_read_scanlines(cinfo, &row, 1);
            if (got == 1) cmyk_row_to_rgb(ctx->img.pixels + y * stride, ctx->cmyk_row, w);
        } else {
            JSAMPROW rows[ROWS_PER_READ];
            JDIMENSION n = SL_MIN((JDIMENSION)ROWS_PER_READ, h - y);
            for (JDIMENSION i = 0; i < n; i++) rows[i] = ctx->img.pixels + (y + i) * stride;
            got = jpeg_read_scanlines(cinfo, rows, n);
        }
        if (got == 0) { /* only a suspending source returns nothing */
            ctx->status = sl_fail(SL_ERR_INTERNAL, "jpeg: decoder made no progress");
            return;
        }
    }
    /* Reads up to EOI, so a file cut after its last scan is caught too. */
    jpeg_finish_decompress(cinfo);
    ctx->status = SL_OK;
}

sl_status sl_jpeg_decode(const uint8_t *data, size_t size,
                         const sl_decode_cfg *cfg, sl_image *out) {
    memset(out, 0, sizeof *out);
    if (size > ULONG_MAX) return sl_fail(SL_ERR_LIMIT, "jpeg: input too large");
    jpeg_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return sl_fail(SL_ERR_NOMEM, "jpeg: cannot allocate the decoder");
    ctx->status = SL_ERR_INTERNAL;
    run(ctx, data, size, cfg);
    if (ctx->created) jpeg_destroy_decompress(&ctx->cinfo);
    free(ctx->cmyk_row);

    sl_status st = ctx->status;
    if (st == SL_OK) st = sl_image_orient(&ctx->img, ctx->orientation);
    if (st == SL_OK) {
        *out = ctx->img;
    } else {
        if (ctx->lib_error) sl_fail(st, "jpeg: %s", ctx->message);
        sl_image_free(&ctx->img);
    }
    free(ctx);
    return st;
}
