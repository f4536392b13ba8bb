#!/usr/bin/env bash
# ANN benchmark: searchlite's index beside faiss and hnswlib (bench/ann/README.md).
#   bench/ann/run.sh [--quick] [DATASET...]     (default: glove-100 fashion-mnist-784)
# Installs the Debian packages (scripts/install-deps.sh ann), prepares the
# data (idempotent), runs the anchors, runs build/bench/ann_bench when it
# exists, then plots. --quick: a smoke test on 20,000 base rows and 1,000
# queries with few sweep points, in build/ann/{data,results}-quick.
# Environment: ANN_DATA_DIR, ANN_RESULTS_DIR, ANN_BUILD_THREADS (default 2),
# SKIP_ANCHORS=1 (plot what is there plus a fresh searchlite run),
# ANN_BENCH (the C driver, default build/bench/ann_bench).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
quick=()
datasets=()
for a in "$@"; do
  case "$a" in
    --quick) quick=(--quick) ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    -*) echo "usage: $0 [--quick] [glove-100] [fashion-mnist-784]" >&2; exit 2 ;;
    *) datasets+=("$a") ;;
  esac
done
[ ${#datasets[@]} -gt 0 ] || datasets=(glove-100 fashion-mnist-784)
suffix=${quick:+-quick}
export ANN_DATA_DIR=${ANN_DATA_DIR:-$repo/build/ann/data$suffix}
export ANN_RESULTS_DIR=${ANN_RESULTS_DIR:-$repo/build/ann/results$suffix}
ann_bench=${ANN_BENCH:-$repo/build/bench/ann_bench}
# Debian's python3-faiss and python3-hnswlib live in the system Python.
py=/usr/bin/python3
[ -x "$py" ] || py=python3

"$repo/scripts/install-deps.sh" ann
if printf '%s\n' "${datasets[@]}" | grep -qx glove-100; then
  "$repo/scripts/fetch-assets.sh" wordvecs >/dev/null  # the word-vector asset
fi
mkdir -p "$ANN_DATA_DIR" "$ANN_RESULTS_DIR"
"$py" "$here/prepare.py" "${quick[@]}" --data "$ANN_DATA_DIR" "${datasets[@]}"

for ds in "${datasets[@]}"; do
  if [ "${SKIP_ANCHORS:-0}" != 1 ]; then
    "$py" "$here/anchors.py" "${quick[@]}" --dataset "$ds" --data "$ANN_DATA_DIR" \
      --out "$ANN_RESULTS_DIR/$ds.anchors.jsonl"
  fi
  if [ -x "$ann_bench" ]; then
    echo "run.sh: $ann_bench --data $ANN_DATA_DIR --dataset $ds" >&2
    "$ann_bench" --data "$ANN_DATA_DIR" --dataset "$ds" \
      --out "$ANN_RESULTS_DIR/$ds.searchlite.jsonl" "${quick[@]}"
  else
    echo "run.sh: $ann_bench not built: anchors only" >&2
  fi
done

"$py" "$here/plot.py" --results "$ANN_RESULTS_DIR" "${datasets[@]}"
