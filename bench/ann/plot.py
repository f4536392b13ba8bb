#!/usr/bin/env python3
"""Plots recall@10 vs QPS for every results file of a data set.

  bench/ann/plot.py [--results DIR] [--out-dir DIR] [DATASET...]

Reads every DIR/*.jsonl (anchors, searchlite's, whichever exist), keeps the
rows of each data set, and writes OUT/DATASET.png (recall@10 on x from 0.5
to 1, QPS on a log y; left the one-query-at-a-time single-thread QPS, the
headline, right the batched single-thread QPS; one colour per library, its
Pareto frontier as a line and every configuration as a dot) and
OUT/DATASET.md (per library: the best single-thread QPS at recall@10 >=
0.90 and >= 0.95, the configuration reaching it, its batched QPS, build
time and bytes per vector). OUT defaults to DIR.
"""
import argparse
import glob
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

KEYS = ("dataset", "library", "config", "recall10", "qps_single", "qps_batch",
        "build_s", "bytes_per_vector")
THRESHOLDS = (0.90, 0.95)


def load(results, dataset):
    rows = []
    for path in sorted(glob.glob(os.path.join(results, "*.jsonl"))):
        with open(path) as f:
            for ln, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    r = json.loads(line)
                except ValueError:
                    print("plot: %s:%d: not JSON, skipped" % (path, ln), file=sys.stderr)
                    continue
                if not all(k in r for k in KEYS):
                    print("plot: %s:%d: missing keys, skipped" % (path, ln), file=sys.stderr)
                    continue
                if r["dataset"] == dataset:
                    rows.append(r)
    return rows


def pareto(rows, key):
    """Points no other point beats on both recall and QPS, by recall."""
    pts = sorted((r for r in rows if r.get(key)), key=lambda r: (-r["recall10"], -r[key]))
    front, best = [], 0.0
    for r in pts:
        if r[key] > best:
            front.append(r)
            best = r[key]
    return sorted(front, key=lambda r: r["recall10"])


def libraries(rows):
    order = []
    for r in rows:
        if r["library"] not in order:
            order.append(r["library"])
    # a fixed order (so a fixed colour) for the known libraries, searchlite
    # first; others after them, in the order read
    known = ["faiss IVFPQFastScan", "faiss IVFPQFastScan+RefineFlat", "faiss HNSWFlat", "hnswlib"]

    def rank(s):
        if s.lower().startswith("searchlite"):
            return (0, order.index(s))
        if s in known:
            return (1, known.index(s))
        return (2, order.index(s))
    return sorted(order, key=rank)


def plot(rows, dataset, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    libs = libraries(rows)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), dpi=80, sharey=True)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    markers = "o^sDvP*X"
    for ax, key, title in ((axes[0], "qps_single", "one query at a time (headline)"),
                           (axes[1], "qps_batch", "all queries in one call")):
        for i, lib in enumerate(libs):
            lr = [r for r in rows if r["library"] == lib and r.get(key)]
            if not lr:
                continue
            c, m = colors[i % len(colors)], markers[i % len(markers)]
            ax.scatter([r["recall10"] for r in lr], [r[key] for r in lr],
                       s=10, color=c, alpha=0.35, marker=m, linewidths=0)
            fr = pareto(lr, key)
            ax.plot([r["recall10"] for r in fr], [r[key] for r in fr], color=c,
                    marker=m, markersize=4, linewidth=1.5, label=lib)
        ax.set_xlim(0.5, 1.005)
        ax.set_yscale("log")
        ax.set_xlabel("recall@10")
        ax.set_title(title, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("queries per second, 1 thread")
    axes[0].legend(fontsize=8, loc="lower left")
    r0 = rows[0]
    fig.suptitle("%s: %d base vectors, %d queries, k=10; %s, %s" %
                 (dataset, r0["n_base"], r0["n_queries"], r0.get("machine", "?"),
                  r0.get("date", "?")), fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def fmt_qps(x):
    return "%.0f" % x if x >= 100 else "%.1f" % x


def table(rows, dataset):
    r0 = rows[0]
    out = ["### %s (%d base, %d queries)" % (dataset, r0["n_base"], r0["n_queries"]), "",
           "Best one-query-at-a-time QPS (1 thread) at a recall@10 floor; the "
           "configuration reaching it, its batched QPS (1 thread, all queries in one "
           "call), its build time and its bytes per vector.", ""]
    for thr in THRESHOLDS:
        out += ["**recall@10 >= %.2f**" % thr, "",
                "| library | QPS, 1 at a time | recall@10 | config | QPS, batched | build s | bytes/vector |",
                "|---|---:|---:|---|---:|---:|---:|"]
        for lib in libraries(rows):
            ok = [r for r in rows if r["library"] == lib and r["recall10"] >= thr]
            if not ok:
                best_r = max(r["recall10"] for r in rows if r["library"] == lib)
                out.append("| %s | not reached (best recall %.3f) | | | | | |" % (lib, best_r))
                continue
            b = max(ok, key=lambda r: r["qps_single"])
            out.append("| %s | %s | %.3f | `%s` | %s | %.1f | %.0f |" % (
                lib, fmt_qps(b["qps_single"]), b["recall10"], b["config"],
                fmt_qps(b["qps_batch"]) if b.get("qps_batch") else "-",
                b["build_s"], b["bytes_per_vector"]))
        out.append("")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description="recall@10 vs QPS plots and tables")
    ap.add_argument("--results", default=common.results_dir())
    ap.add_argument("--out-dir", help="default: the results dir")
    ap.add_argument("datasets", nargs="*", default=list(common.DATASETS))
    a = ap.parse_args()
    out_dir = a.out_dir or a.results
    os.makedirs(out_dir, exist_ok=True)
    for ds in a.datasets:
        rows = load(a.results, ds)
        if not rows:
            print("plot: no results for %s in %s" % (ds, a.results), file=sys.stderr)
            continue
        png = os.path.join(out_dir, ds + ".png")
        plot(rows, ds, png)
        md = table(rows, ds)
        with open(os.path.join(out_dir, ds + ".md"), "w") as f:
            f.write(md + "\n")
        print(md)
        print("plot: wrote %s (%d configurations)" % (png, len(rows)), file=sys.stderr)


if __name__ == "__main__":
    main()
