#!/usr/bin/env bash
# Installs the Debian packages searchlite needs to build and test, when they
# are missing. Runs apt-get as root, through sudo otherwise.
#   scripts/install-deps.sh [build|test|all|bench|browser|ann]   (default: build)
# all = build + test + the Arm NN reference; bench = the anchors of scripts/bench.sh
# ann = the ANN anchors and data of bench/ann/run.sh (faiss, hnswlib, Fashion-MNIST)
set -euo pipefail
what=${1:-build}
build_pkgs=(cmake make gcc pkg-config libjpeg62-turbo-dev libpng-dev zlib1g-dev libsqlite3-dev libcjson-dev libssl-dev libopenblas-dev curl ca-certificates)
test_pkgs=(clang libclang-rt-14-dev python3 python3-numpy python3-pil)
ref_pkgs=(python3-pyarmnn)
bench_pkgs=(python3-torch python3-torchvision)  # node + npm come with the machine
browser_pkgs=(chromium)  # scripts/screenshot.sh: look at a gallery page headless
ann_pkgs=(python3 python3-numpy python3-faiss python3-hnswlib python3-matplotlib dataset-fashion-mnist)  # bench/ann/run.sh
case "$what" in
  build) pkgs=("${build_pkgs[@]}") ;;
  test) pkgs=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
  all) pkgs=("${build_pkgs[@]}" "${test_pkgs[@]}" "${ref_pkgs[@]}") ;;
  bench) pkgs=("${build_pkgs[@]}" "${bench_pkgs[@]}") ;;
  browser) pkgs=("${browser_pkgs[@]}") ;;
  ann) pkgs=("${ann_pkgs[@]}") ;;
  *) echo "usage: $0 [build|test|all|bench|browser|ann]" >&2; exit 2 ;;
esac
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo); else
  echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
