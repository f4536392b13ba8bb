#!/usr/bin/env bash
# `cmake --install` into a temporary prefix, then build examples/classify.c
# against the installed header and searchlite.pc (static and shared) and run
# it on a sample: the install target really produces a usable library.
#   cli_install.sh SEARCHLITE_BINARY ASSETS_DIR
set -euo pipefail
bin=$1; assets=$2
build=$(dirname "$bin")
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
pc=$(ls -d "$tmp"/prefix/lib*/pkgconfig | head -n 1)
export PKG_CONFIG_PATH=$pc
test -f "$tmp/prefix/include/searchlite.h"
test -x "$tmp/prefix/bin/searchlite"
model=$assets/models/mobilenet_v1_0.25_128_quant.tflite
image=$assets/samples/grace_hopper.bmp
passed=0; failed=0
check() { if "$@"; then passed=$((passed+1)); else failed=$((failed+1)); echo "FAILED: $*" >&2; fi; }
# shared library
cc "$src/examples/classify.c" $(pkg-config --cflags --libs searchlite) -o "$tmp/classify_shared"
out=$(LD_LIBRARY_PATH=$(dirname "$pc") "$tmp/classify_shared" "$model" "$image")
check test "$(echo "$out" | wc -l)" -eq 5
# static library
cc "$src/examples/classify.c" $(pkg-config --cflags searchlite) "$(dirname "$pc")/libsearchlite.a" \
   $(pkg-config --static --libs searchlite | sed 's/-lsearchlite//') -o "$tmp/classify_static"
out2=$("$tmp/classify_static" "$model" "$image")
check test "$out" = "$out2"
# only the public API is exported from the shared library
exported=$(nm -D --defined-only "$(dirname "$pc")"/libsearchlite.so | awk '{print $3}' | grep -v '^_' || true)
check test -z "$(echo "$exported" | grep -v '^sl_')"
# bad input: a clear error and status 1
check bash -c "! '$tmp/classify_shared' '$image' '$image' 2>/dev/null"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
