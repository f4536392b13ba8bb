#!/usr/bin/python3
"""Golden outputs of the four TFLite models, computed by Arm NN.

  /usr/bin/python3 scripts/make-tflite-golden.py [--assets DIR] [--out DIR]

For every model in MODELS and every image (the three samples and the first
ten COCO images of coco-train80, sorted by file name), this

  1. preprocesses the image exactly as tflite_reference.py does it
     (Image.open(p).convert("RGB").resize((S, S), Image.BILINEAR), no crop)
     and saves the result as a PNG of the model's input size S, in the
     layout of tests/pil_preprocess.py (TMP/<S>/<stem>.png);
  2. runs the reference tool on that PNG:
       /usr/bin/python3 ../shared/tools/tflite_reference.py MODEL PNG --raw OUT
     (resizing a same-size image is a copy, so Arm NN sees exactly these
     pixels);
  3. writes tests/golden/tflite/<model-stem>.txt: '#' header lines (command,
     date, Arm NN and Pillow versions, model sha256, output quantization),
     then one line per image:
       <stem> <fnv1a32 of the RGB pixels, hex> <value 0> <value 1> ...
     The pixel hash lets tests/test_tflite.c prove it fed the same pixels.

A second part records single layers, so that each operator can be compared
with Arm NN on identical inputs (end to end, the two arithmetics drift
apart, see docs/TFLITE.md). For the operators listed in LAYERS, the model
is copied with its subgraph output redirected to an intermediate tensor
(one int32 patched in place) and the reference tool is run on that copy for
grace_hopper, once per tensor needed. tests/golden/tflite/layers_<stem>.txt
then holds '#' headers and lines
  tensor <index> <count> <base64 of zlib-compressed raw bytes>
  tensor <index> image          (the model input: the PNG pixels)
  op <index> <builtin name>     (an operator whose tensors are all above)

Needs python3-pyarmnn, python3-pil and python3-numpy (Debian). Takes about
five minutes (each reference run loads Arm NN anew); run it with nice.
"""
import argparse
import base64
import datetime
import hashlib
import os
import subprocess
import sys
import struct
import tempfile
import zlib

import numpy as np
from PIL import Image

# The reference tool lives in the shared directory beside the repository.
REFERENCE = os.environ.get("SL_TFLITE_REFERENCE") or next(
    (p for p in (os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared",
                              "tools", "tflite_reference.py"),
                 "/work/shared/tools/tflite_reference.py") if os.path.exists(p)),
    "/work/shared/tools/tflite_reference.py")
MODELS = [
    ("mobilenet_v2_1.0_224_quant", 224),
    ("mobilenet_v1_1.0_224_quant_embedding_extractor", 224),
    ("tf2_mobilenet_v2_1.0_224_ptq", 224),
    ("mobilenet_v1_0.25_128_quant", 128),
]
SAMPLES = ["grace_hopper", "cat", "sunflower"]
N_COCO = 10
LAYER_IMAGE = "grace_hopper"
# Operators recorded one by one (indices in subgraph 0): every operator type
# of each file, with tensors small enough to commit (the first convolution
# and depthwise convolution of the small model, the tails of all four).
LAYERS = {
    "mobilenet_v1_0.25_128_quant": [0, 1, 23, 24, 25, 26, 27, 28, 29, 30],
    "mobilenet_v2_1.0_224_quant": [57, 59, 60, 61, 62, 63, 64, 65],
    "tf2_mobilenet_v2_1.0_224_ptq": [58, 60, 61, 62, 63, 64, 65, 66, 67],
    "mobilenet_v1_1.0_224_quant_embedding_extractor": [25, 26, 27],
}
OP_NAMES = {0: "ADD", 1: "AVERAGE_POOL_2D", 3: "CONV_2D", 4: "DEPTHWISE_CONV_2D", 6: "DEQUANTIZE",
            9: "FULLY_CONNECTED", 22: "RESHAPE", 25: "SOFTMAX", 40: "MEAN", 114: "QUANTIZE"}
# Inputs of each operator read at run time (the others are weights/shapes).
RUNTIME_INPUTS = {0: [0, 1], 1: [0], 3: [0], 4: [0], 6: [0], 9: [0], 22: [0], 25: [0], 40: [0],
                  114: [0]}


class Flat:
    """Just enough of a FlatBuffers reader for the TFLite schema."""

    def __init__(self, data):
        self.b = bytearray(data)

    def u32(self, o):
        return struct.unpack_from("<I", self.b, o)[0]

    def deref(self, o):
        return o + self.u32(o)

    def field(self, table, i):
        vt = table - struct.unpack_from("<i", self.b, table)[0]
        vlen = struct.unpack_from("<H", self.b, vt)[0]
        if 4 + 2 * i >= vlen:
            return None
        off = struct.unpack_from("<H", self.b, vt + 4 + 2 * i)[0]
        return table + off if off else None

    def vector(self, table, i):
        p = self.field(table, i)
        if p is None:
            return 0, 0
        v = self.deref(p)
        return v + 4, self.u32(v)

    def tables(self, table, i):
        start, n = self.vector(table, i)
        return [self.deref(start + 4 * k) for k in range(n)]

    def ints(self, table, i):
        start, n = self.vector(table, i)
        return list(struct.unpack_from("<%di" % n, self.b, start)) if n else []


def model_graph(data):
    """(flat, subgraph table, [(code, inputs, outputs)], tensor shapes)."""
    f = Flat(data)
    root = f.deref(0)
    codes = []
    for oc in f.tables(root, 1):
        p0, p3 = f.field(oc, 0), f.field(oc, 3)
        dep = struct.unpack_from("<b", f.b, p0)[0] if p0 else 0
        ext = struct.unpack_from("<i", f.b, p3)[0] if p3 else 0
        codes.append(max(dep, ext))
    sg = f.tables(root, 2)[0]
    ops = []
    for op in f.tables(sg, 3):
        p = f.field(op, 0)
        ops.append((codes[f.u32(p) if p else 0], f.ints(op, 1), f.ints(op, 2)))
    shapes = [f.ints(t, 0) for t in f.tables(sg, 0)]
    return f, sg, ops, shapes


def redirect_output(data, tensor):
    """A copy of the model whose (first) subgraph output is `tensor`."""
    f, sg, _, _ = model_graph(data)
    start, n = f.vector(sg, 2)
    struct.pack_into("<i", f.b, start, tensor)
    return bytes(f.b)


def fnv1a32(data):
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def images(assets):
    out = [(s, f"{assets}/samples/{s}.bmp") for s in SAMPLES]
    coco_dir = f"{assets}/coco-train80/images"
    coco = sorted(f for f in os.listdir(coco_dir) if f.endswith(".jpg"))[:N_COCO]
    out += [(os.path.splitext(f)[0], f"{coco_dir}/{f}") for f in coco]
    return out


def armnn_version():
    try:
        out = subprocess.run([sys.executable, "-c", "import pyarmnn; print(pyarmnn.ARMNN_VERSION)"],
                             capture_output=True, text=True, check=True).stdout.strip()
    except (subprocess.CalledProcessError, OSError):
        out = "unknown"
    try:
        deb = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "python3-pyarmnn"],
                             capture_output=True, text=True).stdout.strip()
    except OSError:
        deb = ""
    return f"Arm NN {out}" + (f" (Debian python3-pyarmnn {deb})" if deb else "")


def record_layers(model, size, assets, tmp, out, version, date):
    mpath = f"{assets}/models/{model}.tflite"
    data = open(mpath, "rb").read()
    _, sg, ops, shapes = model_graph(data)
    f = Flat(data)
    model_input = f.ints(sg, 1)[0]
    wanted = LAYERS[model]
    tensors = {}
    for k in wanted:
        code, ins, outs = ops[k]
        for t in [ins[i] for i in RUNTIME_INPUTS[code]] + outs[:1]:
            tensors.setdefault(t, None)
    png = f"{tmp}/{size}/{LAYER_IMAGE}.png"
    lines = []
    for t in sorted(tensors):
        if t == model_input:
            lines.append(f"tensor {t} image")
            continue
        cut = f"{tmp}/{model}_cut{t}.tflite"
        with open(cut, "wb") as fo:
            fo.write(redirect_output(data, t))
        raw = f"{tmp}/{model}_cut{t}.txt"
        subprocess.run([sys.executable, REFERENCE, cut, png, "--raw", raw], capture_output=True,
                       text=True, check=True)
        values = np.loadtxt(raw, dtype=np.float64).astype(np.int64)
        count = int(np.prod(shapes[t]))
        assert values.size == count, (model, t, values.size, count)
        lo = values.min()
        raw_bytes = (values if lo >= 0 else values & 0xFF).astype(np.uint8).tobytes()
        blob = base64.b64encode(zlib.compress(raw_bytes, 9)).decode()
        lines.append(f"tensor {t} {count} {blob}")
        print(f"{model} tensor {t}: {count} values", flush=True)
    for k in wanted:
        lines.append(f"op {k} {OP_NAMES.get(ops[k][0], ops[k][0])}")
    header = [
        f"# Single-layer reference tensors of {model}.tflite, computed by {version},",
        f"# CpuRef backend, on {date}, for {LAYER_IMAGE} preprocessed as in {model}.txt.",
        "# Each tensor: tflite_reference.py on a copy of the model whose subgraph output is",
        "# redirected to that tensor; raw 8-bit values (int8 as two's complement bytes),",
        "# zlib-compressed, base64. Generated by scripts/make-tflite-golden.py.",
    ]
    with open(f"{out}/layers_{model}.txt", "w") as fo:
        fo.write("\n".join(header + lines) + "\n")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--assets", default=os.environ.get("SEARCHLITE_ASSETS")
                    or os.path.expanduser("~/.cache/searchlite"))
    ap.add_argument("--out", default=os.path.join(here, "..", "tests", "golden", "tflite"))
    ap.add_argument("--skip-outputs", action="store_true", help="only record single layers")
    ap.add_argument("--skip-layers", action="store_true", help="only record whole-model outputs")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    version = armnn_version()
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    imgs = images(a.assets)
    with tempfile.TemporaryDirectory() as tmp:
        # 1. The PIL-preprocessed inputs, at both sizes.
        pixels = {}
        for size in sorted({s for _, s in MODELS}):
            os.makedirs(f"{tmp}/{size}", exist_ok=True)
            for stem, path in imgs:
                im = Image.open(path).convert("RGB").resize((size, size), Image.BILINEAR)
                im.save(f"{tmp}/{size}/{stem}.png")
                pixels[(size, stem)] = fnv1a32(im.tobytes())
        # Single layers.
        for model, size in MODELS:
            if not a.skip_layers:
                record_layers(model, size, a.assets, tmp, a.out, version, date)
        # 2-3. The reference outputs.
        for model, size in MODELS:
            if a.skip_outputs:
                continue
            mpath = f"{a.assets}/models/{model}.tflite"
            with open(mpath, "rb") as f:
                sha = hashlib.sha256(f.read()).hexdigest()
            lines, quant = [], ""
            for stem, _ in imgs:
                raw = f"{tmp}/{model}_{stem}.txt"
                png = f"{tmp}/{size}/{stem}.png"
                res = subprocess.run([sys.executable, REFERENCE, mpath, png, "--raw", raw],
                                     capture_output=True, text=True, check=True)
                quant = next((l for l in res.stdout.splitlines() if l.startswith("output ")), quant)
                with open(raw) as f:
                    values = [str(int(float(v))) for v in f.read().split()]
                lines.append(f"{stem} {pixels[(size, stem)]:08x} " + " ".join(values))
                print(f"{model} {stem}: {len(values)} values", flush=True)
            header = [
                f"# Reference outputs of {model}.tflite (sha256 {sha})",
                f"# computed by {version}, CpuRef backend, on {date}:",
                f"#   /usr/bin/python3 {REFERENCE} models/{model}.tflite {size}/<stem>.png --raw OUT",
                f"# input: Pillow {Image.__version__} Image.open(img).convert('RGB')"
                f".resize(({size}, {size}), Image.BILINEAR), saved as PNG",
                f"#   (images: samples/{{{','.join(SAMPLES)}}}.bmp and the first {N_COCO}"
                " coco-train80/images/*.jpg by name)",
                f"# {quant}" if quant else "# output quantization unknown",
                "# generated by scripts/make-tflite-golden.py; line: stem fnv1a32(RGB pixels) values...",
            ]
            with open(f"{a.out}/{model}.txt", "w") as f:
                f.write("\n".join(header + lines) + "\n")


if __name__ == "__main__":
    main()
