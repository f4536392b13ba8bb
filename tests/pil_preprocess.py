#!/usr/bin/python3
"""Pillow reference images for tests/test_image.c.

  /usr/bin/python3 tests/pil_preprocess.py OUTDIR [ASSETS_DIR]

Needs Debian's python3-pil (9.4, linked to the system libjpeg-turbo) and
python3-numpy. ASSETS_DIR defaults to $SEARCHLITE_ASSETS, else
~/.cache/searchlite (see scripts/fetch-assets.sh).

For the three sample BMPs and the first ten COCO JPEGs (sorted by file
name), preprocessed exactly as /work/shared/tools/tflite_reference.py does
(Image.open(p).convert("RGB"), optional centre crop, resize BILINEAR):
  full/<stem>.png      the full-size decode
  224/<stem>.png       resized to 224x224
  128/<stem>.png       resized to 128x128
  224crop/<stem>.png   centre-cropped square, resized to 224x224
  odd/<stem>_<W>x<H>.png            samples resized to odd sizes (see ODD_SIZES)
  odd/<stem>_crop_<W>x<H>.png       a 61x47 crop at (10, 20) upscaled
Format variants written by this script (or Pillow) and Pillow's decode:
  variants/<file>  and  variants/<file>.ref.png = Image.open(file).convert("RGB")
EXIF orientation:
  orient/o<N>.jpg  a JPEG with Orientation N (1..8) in its Exif segment
  orient/o<N>.png  ImageOps.exif_transpose of it, converted to RGB
Every file is written under a temporary name and renamed, files that exist
are kept, and OUTDIR/done.txt is written last, so a rerun after an
interruption completes the set and a finished set is not redone.
"""
import os
import struct
import sys
import zlib

import numpy as np
from PIL import Image, ImageOps

ODD_SIZES = [(700, 97), (97, 700), (301, 157), (1, 1), ("W", 100), (100, "H"), ("W+1", "H")]
CROP_BOX = (10, 20, 71, 67)  # 61x47
CROP_UP = (300, 157)
VARIANT_BASE = (131, 97)  # size of the synthetic variant images


def atomic_write(path, data):
    if os.path.exists(path):
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp%d" % os.getpid()
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def save(im, path, **kw):
    if os.path.exists(path):
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fmt = {".png": "PNG", ".jpg": "JPEG", ".bmp": "BMP"}[os.path.splitext(path)[1]]
    tmp = path + ".tmp%d" % os.getpid()
    im.save(tmp, fmt, **kw)
    os.replace(tmp, path)


def resolve(size, im):
    w, h = size
    table = {"W": im.width, "H": im.height, "W+1": im.width + 1}
    return (table.get(w, w), table.get(h, h))


def preprocess(src, stem, out, is_sample):
    im = Image.open(src).convert("RGB")
    save(im, f"{out}/full/{stem}.png")
    save(im.resize((224, 224), Image.BILINEAR), f"{out}/224/{stem}.png")
    save(im.resize((128, 128), Image.BILINEAR), f"{out}/128/{stem}.png")
    W, H = im.size
    s = min(W, H)
    box = ((W - s) // 2, (H - s) // 2, (W - s) // 2 + s, (H - s) // 2 + s)
    save(im.crop(box).resize((224, 224), Image.BILINEAR), f"{out}/224crop/{stem}.png")
    if is_sample:
        for size in ODD_SIZES:
            w, h = resolve(size, im)
            save(im.resize((w, h), Image.BILINEAR), f"{out}/odd/{stem}_{w}x{h}.png")
        crop = im.crop(CROP_BOX)
        save(crop.resize(CROP_UP, Image.BILINEAR),
             f"{out}/odd/{stem}_crop_{CROP_UP[0]}x{CROP_UP[1]}.png")


# ---- hand-written files for layouts Pillow does not write ------------------

def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_16bit_rgb(a8):
    """16-bit RGB PNG whose samples are v*257 + x (x varies the low byte)."""
    h, w, _ = a8.shape
    a16 = a8.astype(np.uint16) * 257
    a16 ^= (np.arange(w, dtype=np.uint16)[None, :, None] * 37) & 0xFF
    raw = b"".join(b"\0" + a16[y].astype(">u2").tobytes() for y in range(h))
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0))
            + png_chunk(b"IDAT", zlib.compress(raw, 9)) + png_chunk(b"IEND", b""))


def bmp_file(w, h, bpp, pixel_rows, compression=0, header_size=40, masks=None,
             palette=None, top_down=False):
    """A BMP with the given DIB header size; pixel_rows are unpadded rows,
    top row first."""
    stride = (w * bpp + 31) // 32 * 4
    rows = [r + b"\0" * (stride - len(r)) for r in pixel_rows]
    if not top_down:
        rows = rows[::-1]
    pixels = b"".join(rows)
    dib = struct.pack("<IiiHHIIiiII", header_size, w, -h if top_down else h, 1, bpp,
                      compression, len(pixels), 2835, 2835,
                      len(palette) // 4 if palette else 0, 0)
    extra = b""
    if header_size == 40 and compression == 3:
        extra = struct.pack("<III", *masks[:3])
    elif header_size > 40:
        m = list(masks or (0, 0, 0, 0)) + [0] * 4
        dib += struct.pack("<IIII", *m[:4])
        dib += b"\0" * (header_size - len(dib))
    pal = palette or b""
    off = 14 + len(dib) + len(extra) + len(pal)
    head = b"BM" + struct.pack("<IHHI", off + len(pixels), 0, 0, off)
    return head + dib + extra + pal + pixels


def variants(base, out):
    d = f"{out}/variants"
    a = np.asarray(base)
    h, w, _ = a.shape
    save(base, f"{d}/s420.jpg", quality=90)
    save(base, f"{d}/s422.jpg", quality=90, subsampling=1)
    save(base, f"{d}/s444.jpg", quality=90, subsampling=0)
    save(base, f"{d}/prog.jpg", quality=90, progressive=True)
    save(base.convert("L"), f"{d}/gray.jpg", quality=90)
    save(base.convert("CMYK"), f"{d}/cmyk.jpg", quality=90)
    save(base.resize((40, 30), Image.BILINEAR), f"{d}/small.jpg", quality=85)
    save(base.resize((40, 30), Image.BILINEAR), f"{d}/small.png")
    save(base.convert("L"), f"{d}/gray.png")
    rgba = base.copy()
    rgba.putalpha(Image.fromarray((np.indices((h, w)).sum(0) * 7 % 256).astype(np.uint8)))
    save(rgba, f"{d}/rgba.png")
    save(rgba.convert("LA"), f"{d}/la.png")
    p256 = base.quantize(200)
    save(p256, f"{d}/p8.png")
    p_trns = base.quantize(50)
    save(p_trns, f"{d}/p8trns.png", transparency=3)
    p16 = base.quantize(16)
    save(p16, f"{d}/p4.png", bits=4)
    save(base.convert("1"), f"{d}/bw1.png")
    atomic_write(f"{d}/rgb16.png", png_16bit_rgb(a))
    # BMP: Pillow writes 1/8/24 bit; the rest by hand.
    save(base, f"{d}/rgb24.bmp")
    save(base.convert("L"), f"{d}/l8.bmp")
    save(p256, f"{d}/p8.bmp")
    save(base.convert("1"), f"{d}/bw1.bmp")
    bgrx = [bytes(np.concatenate([a[y][:, ::-1], np.full((w, 1), 0x5A, np.uint8)], 1).tobytes())
            for y in range(h)]
    atomic_write(f"{d}/bgrx32_topdown.bmp", bmp_file(w, h, 32, bgrx, top_down=True))
    atomic_write(f"{d}/bgra32_v5.bmp", bmp_file(w, h, 32, bgrx, compression=3, header_size=124,
                                                masks=(0xFF0000, 0xFF00, 0xFF, 0xFF000000)))
    a16 = a.astype(np.uint32)
    v555 = ((a16[..., 0] >> 3) << 10) | ((a16[..., 1] >> 3) << 5) | (a16[..., 2] >> 3)
    v565 = ((a16[..., 0] >> 3) << 11) | ((a16[..., 1] >> 2) << 5) | (a16[..., 2] >> 3)
    atomic_write(f"{d}/rgb555.bmp", bmp_file(w, h, 16, [v555[y].astype("<u2").tobytes() for y in range(h)]))
    atomic_write(f"{d}/rgb565_v4.bmp", bmp_file(w, h, 16, [v565[y].astype("<u2").tobytes() for y in range(h)],
                                                compression=3, header_size=108,
                                                masks=(0xF800, 0x07E0, 0x001F, 0)))
    pal16 = np.asarray(p16.getpalette()[:48], np.uint8).reshape(16, 3)
    idx = np.asarray(p16)
    rows4 = [bytes(((idx[y][0::2] << 4) | np.append(idx[y][1::2], 0)[: (w + 1) // 2]).astype(np.uint8))
             for y in range(h)]
    pal_bytes = b"".join(bytes([c[2], c[1], c[0], 0]) for c in pal16)
    atomic_write(f"{d}/p4.bmp", bmp_file(w, h, 4, rows4, palette=pal_bytes))
    for name in sorted(os.listdir(d)):
        if name.endswith(".ref.png") or ".tmp" in name:
            continue
        save(Image.open(f"{d}/{name}").convert("RGB"), f"{d}/{name}.ref.png")


def orientations(base, out):
    d = f"{out}/orient"
    for n in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = n
        save(base, f"{d}/o{n}.jpg", quality=92, exif=exif.tobytes())
        save(ImageOps.exif_transpose(Image.open(f"{d}/o{n}.jpg")).convert("RGB"), f"{d}/o{n}.png")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    assets = sys.argv[2] if len(sys.argv) > 2 else (
        os.environ.get("SEARCHLITE_ASSETS") or os.path.expanduser("~/.cache/searchlite"))
    if os.path.exists(f"{out}/done.txt"):
        return
    for s in ("cat", "grace_hopper", "sunflower"):
        preprocess(f"{assets}/samples/{s}.bmp", s, out, True)
    coco = sorted(f for f in os.listdir(f"{assets}/coco-train80/images") if f.endswith(".jpg"))
    for f in coco[:10]:
        preprocess(f"{assets}/coco-train80/images/{f}", os.path.splitext(f)[0], out, False)
    cat = Image.open(f"{assets}/samples/cat.bmp").convert("RGB")
    base = cat.resize(VARIANT_BASE, Image.BILINEAR)
    variants(base, out)
    orientations(base.crop((0, 0, 67, 45)), out)
    atomic_write(f"{out}/done.txt", ("Pillow %s\n" % Image.__version__).encode())


if __name__ == "__main__":
    main()
