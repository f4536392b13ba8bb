/* Windows BMP decoding, by hand.
 *
 * Layout: a 14-byte file header ("BM", file size, reserved, offset of the
 * pixels), a DIB header whose first u32 is its own size (12 = OS/2 core,
 * 40 = BITMAPINFOHEADER, 52/56 = its V2/V3 extensions with masks, 108 = V4,
 * 124 = V5), optional bit masks (after a 40-byte header using
 * BI_BITFIELDS), a palette for 1/4/8 bpp, and the pixel rows, each padded
 * to 4 bytes, bottom-up unless the height is negative.
 *
 * Supported: 1/4/8-bit palettes, 24-bit BGR, 16/32-bit with the default
 * masks (555, BGRX) or BI_BITFIELDS/BI_ALPHABITFIELDS masks; alpha is
 * dropped. RLE, embedded JPEG/PNG and OS/2 2.x headers are refused as
 * SL_ERR_UNSUPPORTED. Every field is checked against the buffer before it
 * is used, and the image size against the caps before any allocation. */
#include "image/image_internal.h"

#include <string.h>

enum {
    FILE_HEADER = 14,
    BI_RGB = 0,
    BI_RLE8 = 1,
    BI_RLE4 = 2,
    BI_BITFIELDS = 3,
    BI_JPEG = 4,
    BI_PNG = 5,
    BI_ALPHABITFIELDS = 6,
};

static uint32_t le16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* One colour channel described by a bit mask: value = (px & mask) >> shift,
 * scaled from [0, max] to [0, 255]. */
typedef struct channel {
    uint32_t mask, shift, max;
} channel;

static int make_channel(uint32_t mask, channel *c) {
    c->mask = mask;
    c->shift = 0;
    c->max = 0;
    if (!mask) return 1; /* channel absent: reads as 0 */
    while (!((mask >> c->shift) & 1)) c->shift++;
    c->max = mask >> c->shift;
    return (c->max & (c->max + 1)) == 0; /* contiguous run of ones */
}

/* Pillow scales 5- and 6-bit fields by v * 255 / max (truncating). */
static inline uint8_t channel_value(const channel *c, uint32_t px) {
    if (!c->max) return 0;
    uint32_t v = (px & c->mask) >> c->shift;
    return (uint8_t)((uint64_t)v * 255 / c->max);
}

typedef struct bmp_info {
    uint32_t header_size;
    int64_t width, height; /* height > 0 after removing the sign */
    int top_down;
    uint32_t bpp, compression, colors_used;
    uint32_t masks[3]; /* R, G, B */
    size_t palette_offset, palette_entry;
} bmp_info;

static sl_status parse_header(const uint8_t *d, size_t n, uint64_t max_pixels,
                              bmp_info *bi) {
    memset(bi, 0, sizeof *bi);
    if (n < FILE_HEADER + 4) return sl_fail(SL_ERR_CORRUPT, "bmp: truncated header");
    bi->header_size = le32(d + FILE_HEADER);
    const uint32_t hs = bi->header_size;
    if (hs == 64 || (hs >= 16 && hs < 40))
        return sl_fail(SL_ERR_UNSUPPORTED, "bmp: OS/2 2.x header (%u bytes)", hs);
    if (hs != 12 && hs != 40 && hs != 52 && hs != 56 && hs != 108 && hs != 124)
        return sl_fail(SL_ERR_CORRUPT, "bmp: invalid header size %u", hs);
    if (n - FILE_HEADER < hs) return sl_fail(SL_ERR_CORRUPT, "bmp: truncated header");
    const uint8_t *h = d + FILE_HEADER;

    int64_t height;
    if (hs == 12) {
        bi->width = le16(h + 4);
        height = le16(h + 6);
        bi->bpp = le16(h + 10);
        bi->compression = BI_RGB;
        bi->palette_entry = 3;
    } else {
        bi->width = (int32_t)le32(h + 4);
        height = (int32_t)le32(h + 8);
        bi->bpp = le16(h + 14);
        bi->compression = le32(h + 16);
        bi->colors_used = le32(h + 32);
        bi->palette_entry = 4;
    }
    if (bi->width < 0) return sl_fail(SL_ERR_CORRUPT, "bmp: negative width");
    bi->top_down = height < 0;
    bi->height = height < 0 ? -height : height; /* int64: no INT32_MIN overflow */

    /* The caps come first: a huge claimed size is SL_ERR_LIMIT even when
     * the file is too short to hold it. */
    sl_status st = sl_image_check_dims("bmp", (uint64_t)bi->width,
                                       (uint64_t)bi->height, max_pixels);
    if (st) return st;

    switch (bi->compression) {
    case BI_RGB:
        if (bi->bpp != 1 && bi->bpp != 4 && bi->bpp != 8 && bi->bpp != 16 &&
            bi->bpp != 24 && bi->bpp != 32)
            return sl_fail(SL_ERR_UNSUPPORTED, "bmp: %u bits per pixel", bi->bpp);
        if (hs == 12 && (bi->bpp == 16 || bi->bpp == 32))
            return sl_fail(SL_ERR_CORRUPT, "bmp: %u bits per pixel in a core header", bi->bpp);
        if (bi->bpp == 16) {
            bi->masks[0] = 0x7C00, bi->masks[1] = 0x03E0, bi->masks[2] = 0x001F;
        } else if (bi->bpp == 32) {
            bi->masks[0] = 0xFF0000, bi->masks[1] = 0xFF00, bi->masks[2] = 0xFF;
        }
        break;
    case BI_BITFIELDS:
    case BI_ALPHABITFIELDS: {
        if (bi->bpp != 16 && bi->bpp != 32)
            return sl_fail(SL_ERR_UNSUPPORTED, "bmp: bit fields with %u bits per pixel", bi->bpp);
        /* Masks follow a 40-byte header, or are its fields 40..51 later. */
        const size_t at = FILE_HEADER + 40;
        if (n < at + 12) return sl_fail(SL_ERR_CORRUPT, "bmp: truncated bit masks");
        for (int i = 0; i < 3; i++) bi->masks[i] = le32(d + at + 4 * (size_t)i);
        break;
    }
    case BI_RLE8:
    case BI_RLE4:
        return sl_fail(SL_ERR_UNSUPPORTED, "bmp: RLE compression is not supported");
    case BI_JPEG:
    case BI_PNG:
        return sl_fail(SL_ERR_UNSUPPORTED, "bmp: embedded JPEG/PNG is not supported");
    default:
        return sl_fail(SL_ERR_UNSUPPORTED, "bmp: compression type %u", bi->compression);
    }
    if (bi->bpp == 16) /* only 16 bits of the masks are meaningful */
        for (int i = 0; i < 3; i++) bi->masks[i] &= 0xFFFF;

    bi->palette_offset = FILE_HEADER + (size_t)hs;
    if (hs == 40 && bi->compression == BI_BITFIELDS) bi->palette_offset += 12;
    if (hs == 40 && bi->compression == BI_ALPHABITFIELDS) bi->palette_offset += 16;
    return SL_OK;
}

sl_status sl_bmp_decode(const uint8_t *d, size_t n, const sl_decode_cfg *cfg,
                        sl_image *out) {
    memset(out, 0, sizeof *out);
    bmp_info bi;
    sl_status st = parse_header(d, n, cfg->max_pixels, &bi);
    if (st) return st;
    const uint32_t w = (uint32_t)bi.width, h = (uint32_t)bi.height;

    /* Palette (1/4/8 bpp): entries beyond the file are an error, indices
     * beyond the palette read as black. */
    uint8_t palette[256][3];
    memset(palette, 0, sizeof palette);
    if (bi.bpp <= 8) {
        uint32_t count = bi.colors_used ? bi.colors_used : 1u << bi.bpp;
        if (count > (1u << bi.bpp)) count = 1u << bi.bpp;
        if (bi.palette_offset > n || (n - bi.palette_offset) / bi.palette_entry < count)
            return sl_fail(SL_ERR_CORRUPT, "bmp: truncated palette (%u entries)", count);
        const uint8_t *p = d + bi.palette_offset;
        for (uint32_t i = 0; i < count; i++, p += bi.palette_entry) {
            palette[i][0] = p[2]; /* stored B, G, R */
            palette[i][1] = p[1];
            palette[i][2] = p[0];
        }
    }
    channel ch[3];
    if (bi.bpp == 16 || bi.bpp == 32)
        for (int i = 0; i < 3; i++)
            if (!make_channel(bi.masks[i], &ch[i]))
                return sl_fail(SL_ERR_UNSUPPORTED, "bmp: non-contiguous bit mask 0x%08x",
                               bi.masks[i]);

    /* Pixel rows: w <= 65535 and bpp <= 32 keep these products small. */
    const uint32_t off = le32(d + 10);
    const uint64_t row_bytes = ((uint64_t)w * bi.bpp + 7) / 8;
    const uint64_t stride = ((uint64_t)w * bi.bpp + 31) / 32 * 4;
    const uint64_t need = stride * (h - 1) + row_bytes; /* last row may lack padding */
    if (off < FILE_HEADER + bi.header_size || off > n)
        return sl_fail(SL_ERR_CORRUPT, "bmp: pixel data offset %u outside the file", off);
    if (n - off < need)
        return sl_fail(SL_ERR_CORRUPT, "bmp: truncated pixel data (%zu of %llu bytes)",
                       n - off, (unsigned long long)need);

    sl_image img = {0};
    st = sl_image_alloc(&img, w, h);
    if (st) return st;
    for (uint32_t y = 0; y < h; y++) {
        const uint8_t *s = d + off + stride * (bi.top_down ? y : h - 1 - y);
        uint8_t *o = img.pixels + (size_t)y * w * 3;
        switch (bi.bpp) {
        case 1:
        case 4:
        case 8: {
            const uint32_t per_byte = 8 / bi.bpp, mask = (1u << bi.bpp) - 1;
            for (uint32_t x = 0; x < w; x++, o += 3) {
                uint32_t shift = 8 - bi.bpp * (x % per_byte + 1);
                uint32_t idx = (s[x / per_byte] >> shift) & mask;
                memcpy(o, palette[idx], 3);
            }
            break;
        }
        case 24:
            for (uint32_t x = 0; x < w; x++, o += 3, s += 3) {
                o[0] = s[2];
                o[1] = s[1];
                o[2] = s[0];
            }
            break;
        case 16:
            for (uint32_t x = 0; x < w; x++, o += 3, s += 2) {
                uint32_t px = le16(s);
                for (int c = 0; c < 3; c++) o[c] = channel_value(&ch[c], px);
            }
            break;
        default: /* 32 */
            for (uint32_t x = 0; x < w; x++, o += 3, s += 4) {
                uint32_t px = le32(s);
                for (int c = 0; c < 3; c++) o[c] = channel_value(&ch[c], px);
            }
            break;
        }
    }
    *out = img;
    return SL_OK;
}
