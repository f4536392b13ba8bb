#!/usr/bin/env bash
# End to end through the command-line tool: index coco-train80 into a
# temporary library, search captions and find their images in the top 10,
# similar, eval, the gallery page; kill -9 an indexing run midway and check
# that a rerun completes the library without duplicates; clear errors for
# bad input.  Usage: cli_search.sh SEARCHLITE ASSET_DIR MODEL
set -uo pipefail
bin=$1 assets=$2 model=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp/home XDG_DATA_HOME=$tmp/data SEARCHLITE_MODEL=$model
unset SEARCHLITE_LIBRARY
mkdir -p "$HOME"
images=$assets/coco-train80/images captions=$assets/coco-train80/captions.json
fail=0 pass=0
check() { # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then pass=$((pass + 1)); else echo "FAILED: $what" >&2; fail=$((fail + 1)); fi
}
py() { python3 -c "$@"; }

# ---- help and usage errors ------------------------------------------------
for c in index search similar eval model; do
  check "$c --help exits 0" "$bin" "$c" --help >/dev/null
done
"$bin" search --bogus x >/dev/null 2>&1; check "unknown option exits 2" test $? -eq 2
"$bin" search >/dev/null 2>&1; check "search without a query exits 2" test $? -eq 2
"$bin" index >/dev/null 2>&1; check "index without a folder exits 2" test $? -eq 2

# ---- no library yet: the error says what to do -----------------------------
"$bin" search "a dog" >"$tmp/out" 2>&1; rc=$?
check "search before indexing fails" test $rc -eq 1
check "and says to index" grep -q "searchlite index" "$tmp/out"

# ---- index into the default library (XDG_DATA_HOME) --------------------------
check "index coco-train80" "$bin" index "$images" --captions "$captions" -q
lib=$XDG_DATA_HOME/searchlite/library.db
check "default library created" test -s "$lib"
counts() { py "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(*c.execute('select (select count(*) from items), (select count(distinct path) from items), (select count(*) from embeddings)').fetchone())" "$1"; }
check "80 items, 80 paths, 80 embeddings" test "$(counts "$lib")" = "80 80 80"
"$bin" index "$images" 2>"$tmp/out"; rc=$?
check "re-index exits 0" test $rc -eq 0
check "re-index embeds nothing" grep -q "0 embedded, 80 unchanged" "$tmp/out"

# ---- search: each of the first 40 captions finds its image in the top 10 ----
py "
import json, sys
d = json.load(open(sys.argv[1]))
name = {im['id']: im['file_name'] for im in d['images']}
for a in d['annotations'][:40]:
    print(name[a['image_id']] + '\t' + a['caption'].strip().replace('\n', ' '))
" "$captions" >"$tmp/queries"
found=0 total=0
while IFS=$'\t' read -r file caption; do
  total=$((total + 1))
  "$bin" search "$caption" -k 10 --json >"$tmp/hits.json" 2>/dev/null || continue
  py "import json,sys; r=json.load(open(sys.argv[1]))['results']; sys.exit(0 if any(h['path'].endswith('/'+sys.argv[2]) for h in r) else 1)" \
    "$tmp/hits.json" "$file" && found=$((found + 1))
done <"$tmp/queries"
echo "captions whose image is in the top 10: $found / $total"
check "at least 28 of 40 captions find their image in the top 10" test "$found" -ge 28

"$bin" search "a dog sitting on a chair" -k 5 --json >"$tmp/dog.json"
check "search --json: 5 results, sorted, with metadata" py "
import json, sys
r = json.load(open(sys.argv[1]))['results']
assert len(r) == 5 and [h['rank'] for h in r] == [1, 2, 3, 4, 5]
assert all(r[i]['similarity'] >= r[i + 1]['similarity'] for i in range(4))
assert all(h['path'].startswith('/') and h['metadata']['captions'] for h in r)
" "$tmp/dog.json"
check "threads do not change results" bash -c \
  "diff <('$bin' search 'a dog sitting on a chair' -k 10 --threads 1 | tail -n +2) <('$bin' search 'a dog sitting on a chair' -k 10 --threads 2 | tail -n +2)"
"$bin" search "qwxzvvk" >"$tmp/out" 2>&1; rc=$?
check "unknown words: exit 1" test $rc -eq 1
check "unknown words: named" grep -q "qwxzvvk" "$tmp/out"

# ---- gallery page --------------------------------------------------------------
check "search --html" "$bin" search -q "a dog sitting on a chair" -q "a teddy bear" -k 6 --html "$tmp/page.html"
check "gallery has 12 embedded thumbnails" test "$(grep -o 'data:image/jpeg;base64' "$tmp/page.html" | wc -l)" -eq 12

# ---- similar ----------------------------------------------------------------------
first=$(ls "$images" | head -n 1)
"$bin" similar "$images/$first" -k 5 --json >"$tmp/sim.json"
check "similar: 5 results, never the image itself" py "
import json, sys
r = json.load(open(sys.argv[1]))['results']
assert len(r) == 5 and not any(h['path'].endswith('/' + sys.argv[2]) for h in r)
" "$tmp/sim.json" "$first"

# ---- export: the app file answers as the library does ------------------------------
check "export -o app file" "$bin" export -o "$tmp/app.sla" -q
check "search --exact gives the default's results" bash -c \
  "diff <('$bin' search 'a dog sitting on a chair' -k 10 --json | grep -v seconds) <('$bin' search 'a dog sitting on a chair' -k 10 --exact --json | grep -v seconds)"
check "the app file gives the library's results" bash -c \
  "diff <('$bin' search 'a man skiing with his dog' -q 'a red bus' -k 10 --json | grep -v seconds) <('$bin' search 'a man skiing with his dog' -q 'a red bus' -k 10 --json --library '$tmp/app.sla' | grep -v seconds)"
check "similar works on the app file" bash -c \
  "diff <('$bin' similar '$images/$first' -k 5 --json | grep -v seconds) <('$bin' similar '$images/$first' -k 5 --json --library '$tmp/app.sla' | grep -v seconds)"
"$bin" export >"$tmp/out" 2>&1; rc=$?
check "export without -o: usage error" test $rc -eq 2
"$bin" export -o "$tmp/x.sla" --library "$tmp/none.db" >"$tmp/out" 2>&1; rc=$?
check "export of a missing library: exit 1, nothing written" bash -c "test $rc -eq 1 && ! test -e '$tmp/x.sla'"
head -c 3000 "$tmp/app.sla" >"$tmp/cut.sla"
"$bin" search "a dog" --library "$tmp/cut.sla" >"$tmp/out" 2>&1; rc=$?
check "truncated app file: exit 1 with a message" bash -c "test $rc -eq 1 && grep -q 'cut.sla' '$tmp/out'"

# ---- eval ---------------------------------------------------------------------------
"$bin" eval --captions "$captions" --images "$images" --json -q >"$tmp/eval.json"
check "eval --json: 80 images, 400 captions, text->image R@10 >= 0.78" py "
import json, sys
e = json.load(open(sys.argv[1]))
print('eval:', e['text_to_image'], e['image_to_text'])
assert e['images'] == 80 and e['captions'] == 400
assert e['text_to_image']['r10'] >= 0.78 and e['image_to_text']['r10'] >= 0.80
" "$tmp/eval.json"

# ---- kill -9 midway, then rerun: complete, no duplicates ----------------------------
lib2=$tmp/killed.db
"$bin" index "$images" --library "$lib2" --batch 4 --threads 1 -q &
pid=$!
n=0
for _ in $(seq 1 600); do
  n=$(py "import sqlite3,sys
try: print(sqlite3.connect(sys.argv[1]).execute('select count(*) from embeddings').fetchone()[0])
except Exception: print(0)" "$lib2" 2>/dev/null || echo 0)
  [ "$n" -ge 8 ] && break
  sleep 0.05
done
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
echo "killed the indexer with $n of 80 embeddings committed"
check "killed midway (some but not all committed)" test "$n" -ge 8 -a "$n" -lt 80
"$bin" index "$images" --library "$lib2" 2>"$tmp/out"
cat "$tmp/out"
check "rerun completes: 80 items, 80 paths, 80 embeddings" test "$(counts "$lib2")" = "80 80 80"
check "rerun kept the committed work" py "
import re, sys
m = re.search(r'(\d+) embedded, (\d+) unchanged', open(sys.argv[1]).read())
assert m and int(m.group(2)) >= 8 and int(m.group(1)) + int(m.group(2)) == 80
" "$tmp/out"

# ---- bad input ------------------------------------------------------------------------
head -c 5000 /dev/urandom >"$tmp/garbage.db"
"$bin" search "a dog" --library "$tmp/garbage.db" >"$tmp/out" 2>&1; rc=$?
check "garbage library: exit 1 with a message" test $rc -eq 1 -a -s "$tmp/out"
head -c 100000 "$lib" >"$tmp/truncated.db"
"$bin" search "a dog" --library "$tmp/truncated.db" >"$tmp/out" 2>&1; rc=$?
check "truncated library: exit 1" test $rc -eq 1
head -c 1000000 "$model" >"$tmp/truncated.gguf"
"$bin" model info "$tmp/truncated.gguf" >"$tmp/out" 2>&1; rc=$?
check "truncated model: exit 1" test $rc -eq 1
"$bin" index /nonexistent/folder --library "$tmp/x.db" >"$tmp/out" 2>&1; rc=$?
check "missing folder: exit 1" test $rc -eq 1
check "missing folder: named" grep -q "/nonexistent/folder" "$tmp/out"
mkdir -p "$tmp/mixed"
cp "$images/$first" "$tmp/mixed/"
head -c 3000 /dev/urandom >"$tmp/mixed/corrupt.jpg"
: >"$tmp/mixed/empty.png"
echo "not an image" >"$tmp/mixed/notes.txt"
"$bin" index "$tmp/mixed" --library "$tmp/mixed.db" 2>"$tmp/out"; rc=$?
check "corrupt files are skipped (exit 0)" test $rc -eq 0
check "two files skipped and counted" grep -q "2 skipped" "$tmp/out"
check "each named in a warning" bash -c "grep -q 'corrupt.jpg' '$tmp/out' && grep -q 'empty.png' '$tmp/out'"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
