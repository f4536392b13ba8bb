#!/usr/bin/env bash
# searchlite train through the command-line tool: usage errors, a small run
# on 16 images of coco-train80 (the model opens, `model info` shows what it
# was trained on, a library indexed with it answers a query), the same seed
# giving the same file, and clear errors for a corrupt captions file and the
# wrong images folder. Usage: cli_train.sh SEARCHLITE ASSET_DIR MODEL
set -uo pipefail
bin=$1 assets=$2 model=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp/home XDG_DATA_HOME=$tmp/data XDG_CACHE_HOME=$tmp/cache SEARCHLITE_MODEL=$model
unset SEARCHLITE_LIBRARY
mkdir -p "$HOME"
images=$assets/coco-train80/images
fail=0 pass=0
check() { # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then pass=$((pass + 1)); else echo "FAILED: $what" >&2; fail=$((fail + 1)); fi
}

# 16 images and their captions
python3 - "$assets/coco-train80/captions.json" "$tmp/caps.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
imgs = d["images"][:16]
ids = {i["id"] for i in imgs}
json.dump({"images": imgs, "annotations": [a for a in d["annotations"] if a["image_id"] in ids]}, open(sys.argv[2], "w"))
PY
small=(--captions "$tmp/caps.json" --images "$images" --epochs 3 --hidden 16 --dim 8 --batch 8 --val-split 0.25)

# ---- usage errors ----------------------------------------------------------------
check "train --help exits 0" "$bin" train --help >/dev/null
"$bin" train "${small[@]}" >/dev/null 2>&1; check "no -o exits 2" test $? -eq 2
"$bin" train --captions "$tmp/caps.json" -o "$tmp/x.gguf" >/dev/null 2>&1
check "captions without images exits 2" test $? -eq 2
"$bin" train "${small[@]}" -o "$tmp/x.gguf" --folds 1 >/dev/null 2>&1; check "--folds 1 exits 2" test $? -eq 2
"$bin" train "${small[@]}" -o "$tmp/x.gguf" --lr -1 >/dev/null 2>&1; check "--lr -1 exits 2" test $? -eq 2
"$bin" train "${small[@]}" -o "$model" >/dev/null 2>&1; check "writing over the base exits 2" test $? -eq 2

# ---- a small run ------------------------------------------------------------------
check "train" "$bin" train "${small[@]}" -o "$tmp/a.gguf" --description "sixteen photos" >"$tmp/out" 2>&1
check "reports the scores" grep -q "validation tuned" "$tmp/out"
check "reports the file" grep -q "wrote $tmp/a.gguf" "$tmp/out"
check "features were cached" test -n "$(ls "$tmp/cache/searchlite/features/" 2>/dev/null)"
"$bin" model info "$tmp/a.gguf" >"$tmp/info" 2>&1
check "model info: tuned" grep -q "^tuned *heads of dimension 8" "$tmp/info"
check "model info: trained on" grep -q "sixteen photos (16 images" "$tmp/info"
check "model info: dimension 1008" grep -q "^dimension *1008" "$tmp/info"
check "same seed, same model (from the cache)" "$bin" train -q "${small[@]}" -o "$tmp/b.gguf" --description "sixteen photos"
check "  byte for byte" cmp -s "$tmp/a.gguf" "$tmp/b.gguf"
"$bin" train -q "${small[@]}" -o "$tmp/d.gguf" --seed 99 >/dev/null 2>&1
check "another seed, another model id" test "$("$bin" info "$tmp/a.gguf" | grep "^id")" != "$("$bin" info "$tmp/d.gguf" | grep "^id")"
printf 'x' | "$bin" train "${small[@]}" -o "$tmp/x.gguf" --seed 99999999999999999999999 >/dev/null 2>&1
check "an out-of-range seed exits 2" test $? -eq 2
check "index with the tuned model" "$bin" index "$images" --model "$tmp/a.gguf" --library "$tmp/lib.db" -q
"$bin" search "a dog on a truck" --model "$tmp/a.gguf" --library "$tmp/lib.db" -k 3 >"$tmp/hits" 2>&1
check "search with it" grep -q "3 results" "$tmp/hits"
"$bin" search "a dog on a truck" --library "$tmp/lib.db" >"$tmp/err" 2>&1; rc=$?
check "the lite model refuses the tuned library" test $rc -eq 1
check "  and says why" grep -qi "model" "$tmp/err"

# ---- bad input ----------------------------------------------------------------------
head -c 300 "$tmp/caps.json" >"$tmp/cut.json"
"$bin" train --captions "$tmp/cut.json" --images "$images" -o "$tmp/c.gguf" >"$tmp/err" 2>&1; rc=$?
check "truncated captions exits 1" test $rc -eq 1
check "  naming the file" grep -q "cut.json" "$tmp/err"
check "  nothing written" test ! -e "$tmp/c.gguf"
"$bin" train --captions "$tmp/caps.json" --images "$assets/samples" -o "$tmp/c.gguf" --no-cache >"$tmp/err" 2>&1; rc=$?
check "wrong images folder exits 1" test $rc -eq 1
check "  naming the missing image" grep -q "\.jpg" "$tmp/err"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
