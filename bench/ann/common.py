"""Shared helpers of the ANN benchmark harness (bench/ann/).

TEXMEX vector files: .fvecs rows are an int32 dimension d followed by d
float32 values; .ivecs rows are an int32 d followed by d int32 values. All
little-endian, no header, no padding.
"""
import datetime
import hashlib
import json
import os
import platform
import subprocess

import numpy as np

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DATASETS = ("glove-100", "fashion-mnist-784")


def data_dir():
    return os.environ.get("ANN_DATA_DIR") or os.path.join(REPO, "build", "ann", "data")


def results_dir():
    return os.environ.get("ANN_RESULTS_DIR") or os.path.join(REPO, "build", "ann", "results")


# ---- TEXMEX files ---------------------------------------------------------

def write_vecs(path, x):
    """Writes a 2-D float32 (.fvecs) or int32 (.ivecs) matrix, atomically."""
    x = np.ascontiguousarray(x)
    if x.dtype == np.float32:
        body = x.view(np.int32)
    elif x.dtype == np.int32:
        body = x
    else:
        raise TypeError("write_vecs: float32 or int32 only, got %s" % x.dtype)
    n, d = x.shape
    rows = np.empty((n, d + 1), dtype="<i4")
    rows[:, 0] = d
    rows[:, 1:] = body
    tmp = path + ".tmp"
    rows.tofile(tmp)
    os.replace(tmp, path)


def read_vecs(path, dtype):
    raw = np.fromfile(path, dtype="<i4")
    if raw.size == 0:
        return np.zeros((0, 0), dtype=dtype)
    d = int(raw[0])
    if d <= 0 or raw.size % (d + 1) != 0:
        raise ValueError("%s: not a TEXMEX file (first dim %d)" % (path, d))
    rows = raw.reshape(-1, d + 1)
    if not (rows[:, 0] == d).all():
        raise ValueError("%s: rows of mixed dimension" % path)
    return np.ascontiguousarray(rows[:, 1:]).view(dtype)


def read_fvecs(path):
    return read_vecs(path, np.float32)


def read_ivecs(path):
    return read_vecs(path, np.int32)


def sha256_file(path, chunk=1 << 22):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(chunk)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


# ---- a prepared data set --------------------------------------------------

class Dataset:
    """base/query/ground truth of DIR/NAME as written by prepare.py."""

    def __init__(self, name, root=None):
        self.name = name
        self.dir = os.path.join(root or data_dir(), name)
        with open(os.path.join(self.dir, "meta.json")) as f:
            self.meta = json.load(f)
        self.metric = self.meta["metric"]  # "ip" or "l2"
        self.base = read_fvecs(os.path.join(self.dir, "base.fvecs"))
        self.query = read_fvecs(os.path.join(self.dir, "query.fvecs"))
        self.gt = read_ivecs(os.path.join(self.dir, "groundtruth.ivecs"))
        self.dim = self.base.shape[1]


def recall_at_10(result_ids, gt):
    """Fraction of the true top-10 (first 10 columns of gt) found among the
    first 10 returned ids of each row, averaged over all rows (-1 = none)."""
    got = np.asarray(result_ids)[:, :10]
    truth = gt[: got.shape[0], :10]
    hits = (got[:, :, None] == truth[:, None, :]).any(axis=2).sum()
    return float(hits) / (truth.shape[0] * 10)


# ---- machine --------------------------------------------------------------

def machine():
    model = platform.processor() or platform.machine()
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
                break
    except (OSError, subprocess.CalledProcessError):
        pass
    return "%s, %d cores" % (model, os.cpu_count() or 0)


def today():
    return datetime.date.today().isoformat()
