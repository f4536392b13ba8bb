#!/usr/bin/env python3
"""Runs the ANN anchors (faiss, hnswlib) on a prepared data set.

  bench/ann/anchors.py --dataset NAME [--data DIR] [--out FILE.jsonl]
                       [--quick] [--only faiss-ivfpqfs,faiss-hnsw,hnswlib]
                       [--build-threads N] [--queries N]
                       [--hnsw-m 16,32] [--nlists N,N]

One JSON line per configuration (schema in bench/ann/README.md). Queries
run on one thread (faiss.omp_set_num_threads(1), hnswlib num_threads=1);
builds use --build-threads (default $ANN_BUILD_THREADS, else 2), recorded
as params.build_threads.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

K = 10
EF_CONSTRUCTION = 200
# A sweep goes no further (larger nprobe, k_factor or ef are only slower)
# after a point slower than this, one query at a time: 10,000 queries at
# under 150 q/s take over two minutes a point on this machine.
MIN_QPS = 150.0


def log(*a):
    print("anchors:", *a, file=sys.stderr, flush=True)


def deb_version(pkg):
    try:
        return subprocess.run(["dpkg-query", "-W", "-f", "${Version}", pkg],
                              capture_output=True, text=True).stdout.strip() or "?"
    except OSError:
        return "?"


class Runner:
    def __init__(self, ds, nq, out, build_threads):
        self.ds, self.nq, self.out = ds, nq, out
        self.build_threads = build_threads
        self.query = np.ascontiguousarray(ds.query[:nq])
        self.rows = [self.query[i:i + 1] for i in range(nq)]  # (1, d) views
        self.gt = ds.gt[:nq]
        self.machine, self.date = common.machine(), common.today()

    def emit(self, library, config, params, recall, qps_single, qps_batch, build_s, bpv):
        row = {
            "dataset": self.ds.name, "library": library, "config": config,
            "params": params, "recall10": round(recall, 5),
            "qps_single": round(qps_single, 1), "qps_batch": round(qps_batch, 1),
            "build_s": round(build_s, 2), "bytes_per_vector": round(bpv, 2),
            "n_base": int(self.ds.base.shape[0]), "n_queries": self.nq, "threads": 1,
            "machine": self.machine, "date": self.date,
        }
        self.out.write(json.dumps(row) + "\n")
        self.out.flush()
        log("%-32s %-40s recall %.4f  single %8.0f q/s  batch %8.0f q/s" %
            (library, config, recall, qps_single, qps_batch))
        return row

    def measure(self, search_one, search_batch):
        """search_one(q (1,d)) -> ids (1,k); search_batch(Q) -> ids (n,k).
        Returns recall@10 (of the one-at-a-time results), both QPS."""
        res = []
        t0 = time.perf_counter()
        for q in self.rows:
            res.append(search_one(q))
        t_single = time.perf_counter() - t0
        ids = np.vstack(res)
        t0 = time.perf_counter()
        ids_b = search_batch(self.query)
        t_batch = time.perf_counter() - t0
        r = common.recall_at_10(ids, self.gt)
        rb = common.recall_at_10(ids_b, self.gt)
        if abs(r - rb) > 0.002:
            log("warning: batch recall %.4f differs from single %.4f" % (rb, r))
        return r, self.nq / t_single, self.nq / t_batch


# ---- faiss ----------------------------------------------------------------

def faiss_setup(threads):
    import faiss
    faiss.omp_set_num_threads(threads)
    # Debian's faiss links libblas.so.3, the reference BLAS unless an
    # optimized one is installed; its own direct kernels are faster than
    # that, so k-means and batched flat searches never go to BLAS.
    faiss.cvar.distance_compute_blas_threshold = 1 << 30
    return faiss


def serialized_bytes(faiss, index):
    return int(faiss.serialize_index(index).size)


def run_faiss_ivfpqfs(rn, quick, max_probe_sweep, only_nlists=None):
    faiss = faiss_setup(1)
    ds = rn.ds
    n, d = ds.base.shape
    metric = faiss.METRIC_INNER_PRODUCT if ds.metric == "ip" else faiss.METRIC_L2
    m = d // 2
    lo, hi = math.sqrt(n), 4 * math.sqrt(n)
    nlists = [1 << e for e in range(30) if lo <= (1 << e) <= hi]
    if quick:
        nlists = nlists[:1]
    if only_nlists:
        nlists = only_nlists
    nprobes = [2, 8, 32] if quick else [1, 2, 4, 8, 16, 32, 64, 128, 256]
    refine_probes = [8, 32] if quick else [4, 8, 16, 32, 64, 128]
    k_factors = [4] if quick else [2, 4, 8, 16]
    ver = "faiss " + faiss.__version__ + " (Debian python3-faiss " + deb_version("python3-faiss") + ")"
    for nlist in nlists:
        faiss.omp_set_num_threads(rn.build_threads)
        t0 = time.perf_counter()
        quantizer = faiss.IndexFlatIP(d) if ds.metric == "ip" else faiss.IndexFlatL2(d)
        index = faiss.IndexIVFPQFastScan(quantizer, d, nlist, m, 4, metric)
        index.by_residual = True
        index.train(ds.base)
        index.add(ds.base)
        build_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        refine = faiss.IndexRefineFlat(index, faiss.swig_ptr(ds.base))
        build_refine_s = build_s + time.perf_counter() - t0
        faiss.omp_set_num_threads(1)
        bpv = serialized_bytes(faiss, index) / n
        bpv_refine = serialized_bytes(faiss, refine) / n
        base_params = {"nlist": nlist, "M": m, "nbits": 4, "by_residual": True,
                       "build_threads": rn.build_threads, "version": ver}

        prev = -1.0
        for nprobe in nprobes:
            if nprobe > nlist:
                break
            index.nprobe = nprobe
            r, qs, qb = rn.measure(lambda q: index.search(q, K)[1],
                                   lambda Q: index.search(Q, K)[1])
            rn.emit("faiss IVFPQFastScan", "nlist=%d,M=%d,nprobe=%d" % (nlist, m, nprobe),
                    dict(base_params, nprobe=nprobe), r, qs, qb, build_s, bpv)
            if r >= max_probe_sweep or r - prev < 0.002 or qs < MIN_QPS:
                break  # done, saturated by the 4-bit codes, or too slow
            prev = r
        for nprobe in refine_probes:
            if nprobe > nlist:
                break
            index.nprobe = nprobe
            best = 0.0
            for kf in k_factors:
                refine.k_factor = kf
                r, qs, qb = rn.measure(lambda q: refine.search(q, K)[1],
                                       lambda Q: refine.search(Q, K)[1])
                rn.emit("faiss IVFPQFastScan+RefineFlat",
                        "nlist=%d,M=%d,nprobe=%d,k_factor=%d" % (nlist, m, nprobe, kf),
                        dict(base_params, nprobe=nprobe, k_factor=kf), r, qs, qb,
                        build_refine_s, bpv_refine)
                best = max(best, r)
                slow = qs < MIN_QPS
                if r >= 0.999 or slow:
                    break
            if best >= 0.999 or (slow and kf == k_factors[0]):
                break
        del refine, index, quantizer


def hnsw_efs(quick):
    return [16, 64, 256] if quick else [10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512]


def run_faiss_hnsw(rn, quick, ms):
    faiss = faiss_setup(1)
    ds = rn.ds
    n, d = ds.base.shape
    metric = faiss.METRIC_INNER_PRODUCT if ds.metric == "ip" else faiss.METRIC_L2
    ver = "faiss " + faiss.__version__ + " (Debian python3-faiss " + deb_version("python3-faiss") + ")"
    for m in ([16] if quick else ms):
        faiss.omp_set_num_threads(rn.build_threads)
        t0 = time.perf_counter()
        index = faiss.IndexHNSWFlat(d, m, metric)
        index.hnsw.efConstruction = EF_CONSTRUCTION
        index.add(ds.base)
        build_s = time.perf_counter() - t0
        faiss.omp_set_num_threads(1)
        bpv = serialized_bytes(faiss, index) / n
        log("faiss HNSWFlat M=%d built in %.1f s" % (m, build_s))
        for ef in hnsw_efs(quick):
            index.hnsw.efSearch = ef
            r, qs, qb = rn.measure(lambda q: index.search(q, K)[1],
                                   lambda Q: index.search(Q, K)[1])
            rn.emit("faiss HNSWFlat", "M=%d,efC=%d,efSearch=%d" % (m, EF_CONSTRUCTION, ef),
                    {"M": m, "efConstruction": EF_CONSTRUCTION, "efSearch": ef,
                     "build_threads": rn.build_threads, "version": ver},
                    r, qs, qb, build_s, bpv)
            if r >= 0.9995 or qs < MIN_QPS:
                break
        del index


def run_hnswlib(rn, quick, tmpdir, ms):
    import hnswlib
    ds = rn.ds
    n, d = ds.base.shape
    space = "ip" if ds.metric == "ip" else "l2"
    ver = "hnswlib (Debian python3-hnswlib " + deb_version("python3-hnswlib") + ")"
    for m in ([16] if quick else ms):
        t0 = time.perf_counter()
        p = hnswlib.Index(space=space, dim=d)
        p.init_index(max_elements=n, ef_construction=EF_CONSTRUCTION, M=m, random_seed=100)
        p.add_items(ds.base, np.arange(n), num_threads=rn.build_threads)
        build_s = time.perf_counter() - t0
        path = os.path.join(tmpdir, "hnswlib.bin")
        p.save_index(path)
        bpv = os.path.getsize(path) / n
        os.remove(path)
        log("hnswlib M=%d built in %.1f s" % (m, build_s))
        p.set_num_threads(1)
        for ef in hnsw_efs(quick):
            p.set_ef(ef)
            r, qs, qb = rn.measure(lambda q: p.knn_query(q, k=K, num_threads=1)[0],
                                   lambda Q: p.knn_query(Q, k=K, num_threads=1)[0])
            rn.emit("hnswlib", "M=%d,efC=%d,ef=%d" % (m, EF_CONSTRUCTION, ef),
                    {"M": m, "ef_construction": EF_CONSTRUCTION, "ef": ef,
                     "build_threads": rn.build_threads, "version": ver},
                    r, qs, qb, build_s, bpv)
            if r >= 0.9995 or qs < MIN_QPS:
                break
        del p


def call_overhead(ds, nq=2000):
    """Per-call cost of the Python bindings alone (a 1-vector index), so that
    the one-at-a-time QPS of the anchors can be read against a C driver."""
    import faiss
    import hnswlib
    faiss.omp_set_num_threads(1)
    d = ds.dim
    rows = [np.ascontiguousarray(ds.query[i:i + 1]) for i in range(nq)]
    f = faiss.IndexFlatL2(d)
    f.add(ds.base[:1])
    t0 = time.perf_counter()
    for q in rows:
        f.search(q, 1)
    faiss_us = (time.perf_counter() - t0) / nq * 1e6
    h = hnswlib.Index(space="l2", dim=d)
    h.init_index(max_elements=1, M=16)
    h.add_items(ds.base[:1], [0])
    t0 = time.perf_counter()
    for q in rows:
        h.knn_query(q, k=1, num_threads=1)
    hnsw_us = (time.perf_counter() - t0) / nq * 1e6
    return {"dataset": ds.name, "faiss_search_call_us": round(faiss_us, 2),
            "hnswlib_knn_query_call_us": round(hnsw_us, 2),
            "what": "time of one Python call on a 1-vector index (binding + "
                    "one distance), included in every one-at-a-time QPS"}


def main():
    ap = argparse.ArgumentParser(description="faiss and hnswlib anchors")
    ap.add_argument("--dataset", required=True, choices=common.DATASETS)
    ap.add_argument("--data", default=common.data_dir())
    ap.add_argument("--out", help="JSON lines (default: RESULTS/NAME.anchors.jsonl)")
    ap.add_argument("--quick", action="store_true", help="few sweep points (smoke test)")
    ap.add_argument("--only", default="faiss-ivfpqfs,faiss-hnsw,hnswlib")
    ap.add_argument("--build-threads", type=int,
                    default=int(os.environ.get("ANN_BUILD_THREADS", "2")))
    ap.add_argument("--queries", type=int, default=0, help="use the first N queries only")
    ap.add_argument("--hnsw-m", default="16,32", help="HNSW graph degrees M to build (both libraries)")
    ap.add_argument("--nlists", default="", help="IVF list counts (default: powers of 2 in [sqrt n, 4 sqrt n])")
    a = ap.parse_args()
    hnsw_ms = [int(x) for x in a.hnsw_m.split(",") if x]
    nlists = [int(x) for x in a.nlists.split(",") if x]

    ds = common.Dataset(a.dataset, a.data)
    nq = ds.query.shape[0] if a.queries <= 0 else min(a.queries, ds.query.shape[0])
    out_path = a.out or os.path.join(common.results_dir(), a.dataset + ".anchors.jsonl")
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    only = set(a.only.split(","))
    log("%s: base %s, %d queries, metric %s, build threads %d -> %s" %
        (a.dataset, ds.base.shape, nq, ds.metric, a.build_threads, out_path))
    over = call_overhead(ds)
    with open(os.path.splitext(out_path)[0] + ".overhead.json", "w") as f:
        json.dump(over, f)
        f.write("\n")
    log("binding call overhead: faiss %.1f us, hnswlib %.1f us" %
        (over["faiss_search_call_us"], over["hnswlib_knn_query_call_us"]))
    with open(out_path, "w") as out, tempfile.TemporaryDirectory() as tmp:
        rn = Runner(ds, nq, out, a.build_threads)
        if "faiss-ivfpqfs" in only:
            run_faiss_ivfpqfs(rn, a.quick, 0.999, nlists)
        if "faiss-hnsw" in only:
            run_faiss_hnsw(rn, a.quick, hnsw_ms)
        if "hnswlib" in only:
            run_hnswlib(rn, a.quick, tmp, hnsw_ms)


if __name__ == "__main__":
    main()
