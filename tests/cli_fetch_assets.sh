#!/usr/bin/env bash
# scripts/fetch-assets.sh: copies from the shared folder, keeps verified
# files, refuses a copy whose sha256 differs (never caching it) and names
# what it could not get.
#   cli_fetch_assets.sh SEARCHLITE_BINARY ASSETS_DIR
set -uo pipefail
assets=$2
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
passed=0; failed=0
ok() { passed=$((passed+1)); }
bad() { failed=$((failed+1)); echo "FAILED: $*" >&2; }

# A fake shared folder holding the real labels file and a damaged model.
mkdir -p "$tmp/shared/models" "$tmp/shared/data/samples"
cp "$assets/models/imagenet_labels.txt" "$tmp/shared/models/"
cp "$assets/samples/"*.bmp "$tmp/shared/data/samples/"
export SEARCHLITE_SHARED=$tmp/shared SEARCHLITE_ASSETS=$tmp/cache

SEARCHLITE_SHARED=$tmp/shared "$src/scripts/fetch-assets.sh" samples 2>"$tmp/err" && ok || bad "samples from the shared folder: $(cat "$tmp/err")"
[ "$(ls "$tmp/cache/samples" | wc -l)" -eq 3 ] && ok || bad "three samples cached"
"$src/scripts/fetch-assets.sh" samples 2>"$tmp/err" && grep -q '3 already cached' "$tmp/err" && ok || bad "second run keeps the cache: $(cat "$tmp/err")"

cp "$assets/models/mobilenet_v1_0.25_128_quant.tflite" "$tmp/shared/models/"
printf 'x' >> "$tmp/shared/models/mobilenet_v1_0.25_128_quant.tflite"
# No network is needed: the other models are missing from the fake shared
# folder, so make their official URLs unreachable too.
PATH_NO_NET=$tmp/bin; mkdir -p "$PATH_NO_NET"
printf '#!/bin/sh\nexit 7\n' > "$PATH_NO_NET/curl"; chmod +x "$PATH_NO_NET/curl"
PATH=$PATH_NO_NET:$PATH "$src/scripts/fetch-assets.sh" models 2>"$tmp/err"; rc=$?
[ "$rc" -eq 1 ] && ok || bad "exit status 1 when assets are missing or damaged (got $rc)"
grep -q 'mobilenet_v1_0.25_128_quant.tflite (sha256' "$tmp/err" && ok || bad "damaged file named with its checksum: $(cat "$tmp/err")"
grep -q 'mobilenet_v2_1.0_224_quant.tflite (not in' "$tmp/err" && ok || bad "missing file named"
[ ! -e "$tmp/cache/models/mobilenet_v1_0.25_128_quant.tflite" ] && ok || bad "a damaged file is never cached"
[ -f "$tmp/cache/models/imagenet_labels.txt" ] && ok || bad "the good file of the group is still cached"
ls "$tmp/cache/models" | grep -q part && bad "temporary files left behind" || ok

"$src/scripts/fetch-assets.sh" nosuchgroup 2>/dev/null; [ $? -eq 2 ] && ok || bad "unknown group is a usage error"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
