#!/usr/bin/env bash
# Benchmarks, run side by side with their anchors on this machine.
#   scripts/bench.sh [BUILD_DIR]    (default build)
# Prints searchlite's figures, then ONNX Runtime's and PyTorch's for
# MobileNetV2 (f32, random weights) from ../shared/tools/ort_anchor.sh, then
# the ratios. Machines are shared and noisy: compare within one run only.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${1:-$here/../build}
assets=$("$here/fetch-assets.sh" --dir)
"$here/fetch-assets.sh" models samples coco-train80 >/dev/null 2>&1
shared=${SEARCHLITE_SHARED:-$(dirname "$(dirname "$here")")/shared}
model="$assets/models/mobilenet_v2_1.0_224_quant.tflite"
image="$assets/coco-train80/images/000000000790.jpg" # 640x422, a typical COCO photo
out=$(mktemp)
echo "machine: $(lscpu | sed -n 's/^Model name: *//p') ($(nproc) cores), $(date -u +%F)"
echo "== searchlite: decode + resize + MobileNetV2 uint8 ($(basename "$image")) =="
"$build/bench/bench_pipeline" "$model" "$image" --runs 30 --threads 1 --threads 2 | tee "$out"
if [ -x "$build/bench/bench_qconv" ]; then
  echo "== searchlite: convolution layers of MobileNetV2 =="
  "$build/bench/bench_qconv" --summary || true
fi
if [ -x "$build/bench/bench_query" ] && [ -x "$build/searchlite" ]; then
  # Query latency through the public API (80 photos and 100,000 synthetic
  # items), then the cold start of the real `searchlite search` on the same
  # two library files. The model is built once into the build directory
  # (or given with SEARCHLITE_BENCH_MODEL).
  "$here/fetch-assets.sh" wordvecs >/dev/null 2>&1 || true
  qmodel=${SEARCHLITE_BENCH_MODEL:-$build/bench-model-lite.gguf}
  [ -f "$qmodel" ] || "$build/searchlite" model build --quiet --assets "$assets" --out "$qmodel"
  qlibs=$(mktemp -d)
  echo "== searchlite: query latency, model loaded (bench_query; medians of 200 queries) =="
  if "$build/bench/bench_query" "$qmodel" "$assets" --threads 1 --threads 2 --keep "$qlibs"; then
    echo "== searchlite: cold start of searchlite search (warm page cache; medians of 20 runs) =="
    "$here/../bench/bench_coldstart.sh" "$build/searchlite" "$qmodel" \
      coco80="$qlibs/coco80.db" synthetic100k="$qlibs/synthetic100k.db" --runs 20 || echo "(cold start failed)"
  else
    echo "(bench_query failed)"
  fi
  rm -rf "$qlibs"
fi
if [ -x "$shared/tools/ort_anchor.sh" ] && [ "${SKIP_ANCHORS:-0}" != 1 ]; then
  "$here/install-deps.sh" bench >/dev/null
  for t in 1 2; do
    echo "== anchors, $t thread(s) =="
    "$shared/tools/ort_anchor.sh" "$t" 2>/dev/null | tee -a "$out.anchor.$t" || echo "(anchor failed)"
  done
  echo "== ratios (anchor model time / searchlite model time, > 1 means searchlite is faster) =="
  for t in 1 2; do
    ours=$(sed -n "s/^threads=$t .* model_ms=\([0-9.]*\).*/\1/p" "$out")
    for eng in onnxruntime pytorch; do
      theirs=$(sed -n "s/^$eng .*mobilenet_v2 f32 $t thread(s): median \([0-9.]*\) ms/\1/p" "$out.anchor.$t")
      [ -n "$ours" ] && [ -n "$theirs" ] && awk -v a="$theirs" -v b="$ours" -v e="$eng" -v t="$t" \
        'BEGIN { printf "%-12s %d thread(s): %.2fx (%s ms vs %s ms)\n", e, t, a / b, a, b }'
    done
  done
fi
if [ -x "$build/bench/bench_train" ]; then
  # Training: one epoch of 100,000 synthetic pairs at searchlite train's
  # default shapes, beside PyTorch running the same step (docs/TRAINING.md).
  echo "== searchlite: training epoch (bench_train, 100,000 pairs) =="
  "$build/bench/bench_train" --threads 1 --threads 2 | tee "$out.train"
  if [ "${SKIP_ANCHORS:-0}" != 1 ]; then
    "$here/install-deps.sh" bench >/dev/null
    echo "== anchor: PyTorch, the same training step =="
    /usr/bin/python3 "$here/../bench/train_torch_anchor.py" --threads 1 2 | tee "$out.torch" || echo "(anchor failed)"
    for t in 1 2; do
      ours=$(awk -v t="$t" '$1 == t && NF == 6 { print $2 }' "$out.train")
      theirs=$(awk -v t="$t" '$1 == t && NF == 5 { print $2 }' "$out.torch")
      [ -n "$ours" ] && [ -n "$theirs" ] && awk -v a="$theirs" -v b="$ours" -v t="$t" \
        'BEGIN { printf "training epoch, pytorch / searchlite, %d thread(s): %.2fx (%s s vs %s s)\n", t, a / b, a, b }'
    done
  fi
fi
rm -f "$out" "$out".anchor.* "$out.train" "$out.torch"
