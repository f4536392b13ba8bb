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

# The manifest's coco-train1600 lines: six columns, the sixth the sha256 of
# the full-size original the official URL gives; every other line five.
awk -F'\t' '/^#/ || $0 == "" {next}
  $1 == "coco-train1600" {
    n++
    if (NF != 6 || $3 !~ /^[0-9a-f]+$/ || length($3) != 64 || $6 !~ /^[0-9a-f]+$/ ||
        length($6) != 64 || $3 == $6 || $4 != "data/coco-train1600/images/" $2 ||
        $5 != "http://images.cocodataset.org/val2017/" $2) { print "bad line " NR; bad = 1 }
    next }
  NF != 5 { print "line " NR " has " NF " columns"; bad = 1 }
  END { if (n != 1600) { print n " coco-train1600 lines"; bad = 1 } exit bad }' \
  "$src/scripts/assets.tsv" >"$tmp/err" && ok || bad "assets.tsv columns: $(cat "$tmp/err")"
# Against the shared data, when it is beside the repository: column 3 is the
# shared file, column 6 the original_sha256 its captions.json records.
real_shared=$(dirname "$src")/shared/data/coco-train1600
if [ -f "$real_shared/captions.json" ] && command -v python3 >/dev/null 2>&1; then
  python3 - "$src/scripts/assets.tsv" "$real_shared" >"$tmp/err" 2>&1 <<'PY' && ok || bad "coco-train1600 lines agree with the shared data: $(cat "$tmp/err")"
import hashlib, json, os, sys
rows = {r[1]: r for r in (l.rstrip("\n").split("\t") for l in open(sys.argv[1]))
        if r[0] == "coco-train1600"}
images = json.load(open(os.path.join(sys.argv[2], "captions.json")))["images"]
assert sorted(rows) == sorted(i["file_name"] for i in images), "names differ from captions.json"
for i in images:
    r = rows[i["file_name"]]
    assert r[5] == i["original_sha256"] and r[4] == i["coco_url"], i["file_name"]
    with open(os.path.join(sys.argv[2], "images", i["file_name"]), "rb") as f:
        assert r[2] == hashlib.sha256(f.read()).hexdigest(), i["file_name"]
PY
fi

# The optional sixth column and the captions, on a small fake coco group: a
# copy of the script beside its own manifest, a fake shared folder and a fake
# official site served by a fake curl.
fake=$tmp/fake; mkdir -p "$fake/scripts" "$fake/web" "$fake/bin" "$fake/shared/data/coco-fake/images"
cp "$src/scripts/fetch-assets.sh" "$fake/scripts/"
sum() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
for n in a b c; do
  printf 'small %s' "$n" > "$fake/shared/data/coco-fake/images/$n.jpg"
  printf 'original %s' "$n" > "$fake/web/$n.jpg"
done
echo '{"images": []}' > "$fake/shared/data/coco-fake/captions.json"
{
  printf '# group\tname\tsha256\tpath\tURL\t[alt]\n'
  for n in a b; do
    printf 'coco-fake\t%s.jpg\t%s\tdata/coco-fake/images/%s.jpg\thttp://fake/%s.jpg\t%s\n' \
      "$n" "$(sum "small $n")" "$n" "$n" "$(sum "original $n")"
  done
  # five columns: only the shared file's checksum is accepted
  printf 'coco-fake\tc.jpg\t%s\tdata/coco-fake/images/c.jpg\thttp://fake/c.jpg\n' "$(sum "small c")"
} > "$fake/scripts/assets.tsv"
# curl ... -o DEST URL: serves $fake/web/NAME for http://fake/NAME
{
  echo '#!/bin/sh'
  echo 'while [ $# -gt 1 ]; do [ "$1" = -o ] && dest=$2; shift; done'
  echo "web='$fake/web'"
  echo '[ -f "$web/${1#http://fake/}" ] || exit 22'
  echo 'cp "$web/${1#http://fake/}" "$dest"'
} > "$fake/bin/curl"
chmod +x "$fake/bin/curl"
fetch() { PATH=$fake/bin:$PATH "$fake/scripts/fetch-assets.sh" "$@" 2>"$tmp/err"; }
fc=$tmp/fcache/coco-fake

SEARCHLITE_SHARED=$fake/shared SEARCHLITE_ASSETS=$tmp/fcache fetch coco-fake &&
  grep -q '3 fetched' "$tmp/err" && ! grep -q warning "$tmp/err" && ok || bad "coco group from the shared folder: $(cat "$tmp/err")"
[ "$(cat "$fc/images/a.jpg")" = "small a" ] && cmp -s "$fc/captions.json" "$fake/shared/data/coco-fake/captions.json" &&
  ok || bad "images and captions.json cached at <group>/images and <group>/captions.json"
SEARCHLITE_SHARED=$fake/shared SEARCHLITE_ASSETS=$tmp/fcache fetch &&
  grep -q '3 already cached' "$tmp/err" && ok || bad "second run keeps the coco cache: $(cat "$tmp/err")"

# No shared folder: originals are downloaded and kept with one warning; a
# five-column line refuses the original; captions cannot be had.
rm -rf "$tmp/fcache"
SEARCHLITE_SHARED=$tmp/none SEARCHLITE_ASSETS=$tmp/fcache fetch coco-fake; rc=$?
[ "$rc" -eq 1 ] && ok || bad "exit status 1 without the shared folder (got $rc)"
[ "$(cat "$fc/images/a.jpg" 2>/dev/null)" = "original a" ] && [ "$(cat "$fc/images/b.jpg" 2>/dev/null)" = "original b" ] &&
  ok || bad "downloaded originals matching the sixth column are kept"
[ "$(grep -c warning "$tmp/err")" -eq 1 ] && grep -q 'warning: 2 file(s) of coco-fake are the full-size originals' "$tmp/err" &&
  ok || bad "one warning line about the originals: $(cat "$tmp/err")"
grep -qF "c.jpg (sha256 $(sum "original c") from http://fake/c.jpg, expected $(sum "small c"))" "$tmp/err" &&
  [ ! -e "$fc/images/c.jpg" ] && ok || bad "without a sixth column the original is refused: $(cat "$tmp/err")"
grep -qF "coco-fake/captions.json (not in $tmp/fcache/coco-fake/ nor in $tmp/none/data/coco-fake/captions.json; captions come only with the shared folder, they cannot be downloaded)" "$tmp/err" &&
  ok || bad "missing captions.json named with where it comes from: $(cat "$tmp/err")"
ls -R "$tmp/fcache" | grep -q part && bad "temporary files left behind (coco)" || ok

# A shared copy that is the original, not the downscaled file, is refused.
mkdir -p "$tmp/orig-shared/data/coco-fake/images"
cp "$fake/web/a.jpg" "$tmp/orig-shared/data/coco-fake/images/"
SEARCHLITE_SHARED=$tmp/orig-shared SEARCHLITE_ASSETS=$tmp/ocache fetch coco-fake
grep -qF "a.jpg (sha256 $(sum "original a") from $tmp/orig-shared/data/coco-fake/images/a.jpg, expected $(sum "small a"))" "$tmp/err" &&
  [ ! -e "$tmp/ocache/coco-fake/images/a.jpg" ] && ok || bad "the shared copy must match column 3: $(cat "$tmp/err")"

# Cached originals stay while the shared folder lacks them and give way to
# the shared copies once it has them.
mkdir -p "$tmp/part-shared/data/coco-fake/images"
cp "$fake/shared/data/coco-fake/captions.json" "$tmp/part-shared/data/coco-fake/"
cp "$fake/shared/data/coco-fake/images/c.jpg" "$tmp/part-shared/data/coco-fake/images/"
SEARCHLITE_SHARED=$tmp/part-shared SEARCHLITE_ASSETS=$tmp/fcache fetch coco-fake &&
  grep -q '1 fetched, 2 already cached' "$tmp/err" && grep -q 'warning: 2 file(s)' "$tmp/err" &&
  [ "$(cat "$fc/images/a.jpg")" = "original a" ] && ok || bad "cached originals kept with a warning: $(cat "$tmp/err")"
SEARCHLITE_SHARED=$fake/shared SEARCHLITE_ASSETS=$tmp/fcache fetch coco-fake &&
  grep -q '2 fetched, 1 already cached' "$tmp/err" && ! grep -q warning "$tmp/err" &&
  [ "$(cat "$fc/images/a.jpg")" = "small a" ] && ok || bad "cached originals replaced by the shared copies: $(cat "$tmp/err")"
# Once everything is cached the shared folder is no longer needed.
SEARCHLITE_SHARED=$tmp/none SEARCHLITE_ASSETS=$tmp/fcache fetch coco-fake &&
  grep -q '3 already cached' "$tmp/err" && ok || bad "a complete cache needs no shared folder: $(cat "$tmp/err")"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
