/* JPEG encoding and thumbnails: the gallery page and the web server embed
 * small JPEGs of the results. */
#include "image_internal.h"

#include <stdio.h> /* before jpeglib.h, which uses FILE */

#include <jpeglib.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

sl_status sl_image_thumbnail(const sl_image *src, uint32_t max_side, sl_image *out) {
    if (!src || !out || !src->pixels || !src->width || !src->height)
        return sl_fail(SL_ERR_ARG, "thumbnail: empty image");
    if (max_side == 0) return sl_fail(SL_ERR_ARG, "thumbnail: max_side must be positive");
    uint32_t w = src->width, h = src->height;
    if (w > max_side || h > max_side) {
        /* Scale the longer side to max_side; round the other to nearest. */
        if (w >= h) {
            h = (uint32_t)(((uint64_t)h * max_side + w / 2) / w);
            w = max_side;
        } else {
            w = (uint32_t)(((uint64_t)w * max_side + h / 2) / h);
            h = max_side;
        }
        if (!w) w = 1;
        if (!h) h = 1;
    }
    return sl_image_resize(src, w, h, out);
}

typedef struct jpeg_err {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
} jpeg_err;

static void on_error(j_common_ptr cinfo) {
    jpeg_err *e = (jpeg_err *)cinfo->err;
    cinfo->err->format_message(cinfo, e->message);
    longjmp(e->jump, 1);
}

static void on_message(j_common_ptr cinfo) { (void)cinfo; }

sl_status sl_image_encode_jpeg(const sl_image *img, int quality, uint8_t **data, size_t *size) {
    if (data) *data = NULL;
    if (size) *size = 0;
    if (!img || !img->pixels || !img->width || !img->height || !data || !size)
        return sl_fail(SL_ERR_ARG, "jpeg encode: empty image or NULL output");
    if (quality < 1 || quality > 100) return sl_fail(SL_ERR_ARG, "jpeg encode: quality %d outside 1..100", quality);
    if (img->width > JPEG_MAX_DIMENSION || img->height > JPEG_MAX_DIMENSION)
        return sl_fail(SL_ERR_LIMIT, "jpeg encode: %ux%u exceeds JPEG's %ld pixels per side", img->width,
                       img->height, (long)JPEG_MAX_DIMENSION);
    struct jpeg_compress_struct c;
    jpeg_err err;
    /* libjpeg grows the output buffer while it writes; keeping the pointer
     * in heap memory set up before setjmp lets the error path free it
     * (locals changed after setjmp are indeterminate after longjmp). */
    struct mem_dest {
        unsigned char *buf;
        unsigned long len;
    } *m = calloc(1, sizeof *m);
    if (!m) return sl_fail(SL_ERR_NOMEM, "jpeg encode: out of memory");
    c.err = jpeg_std_error(&err.mgr);
    err.mgr.error_exit = on_error;
    err.mgr.output_message = on_message;
    if (setjmp(err.jump)) {
        jpeg_destroy_compress(&c);
        free(m->buf);
        free(m);
        return sl_fail(strstr(err.message, "memory") ? SL_ERR_NOMEM : SL_ERR_INTERNAL, "jpeg encode: %s",
                       err.message);
    }
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &m->buf, &m->len);
    c.image_width = img->width;
    c.image_height = img->height;
    c.input_components = 3;
    c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, quality, TRUE);
    jpeg_start_compress(&c, TRUE);
    const size_t stride = (size_t)img->width * 3;
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = img->pixels + (size_t)c.next_scanline * stride;
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    *data = m->buf;
    *size = (size_t)m->len;
    free(m);
    return SL_OK;
}
