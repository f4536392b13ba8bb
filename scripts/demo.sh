#!/usr/bin/env bash
# make demo: the whole path on the bundled default data.
#   1. fetch the assets (copied from ../shared, else downloaded and checked);
#   2. build the default model once (searchlite model build: the zero-shot
#      model, then heads trained on coco-train1600 + coco-train80 with 5-fold
#      cross-validation, about a minute);
#   3. index the 80 COCO photos of coco-train80 with their captions into a
#      demo library (not your personal one);
#   4. run a few text queries and an image query, and write a gallery page.
#   scripts/demo.sh [PATH/TO/searchlite]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=${1:-$here/../build/searchlite}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
out=$(dirname "$bin")/demo
assets=$("$here/fetch-assets.sh" --dir)
"$here/fetch-assets.sh" models coco-train80 coco-train1600 wordvecs
mkdir -p "$out"
library="$out/library.db"
page="$out/gallery.html"

echo "== 1. the default model =="
if "$bin" model info >/dev/null 2>&1; then
  "$bin" model info
else
  "$bin" model build
fi

echo
echo "== 2. searchlite index coco-train80 (80 photos) =="
"$bin" index "$assets/coco-train80/images" --captions "$assets/coco-train80/captions.json" --library "$library"

echo
echo "== 3. searchlite search =="
"$bin" search "a dog sitting on top of a truck" -k 3 --library "$library"
echo
"$bin" similar "$assets/coco-train80/images/000000000790.jpg" -k 3 --library "$library"
"$bin" search -k 6 --library "$library" --html "$page" \
  -q "a dog sitting on top of a truck" -q "a man skiing with his dog" -q "a teddy bear" \
  -q "a pizza on a plate" -q "a train at the station" -q "sheep in a field" >/dev/null

echo
echo "Gallery page: $page"
echo "  open it in a browser: file://$page"
echo "Try your own queries:"
echo "  $bin search \"a kitchen sink\" --library $library"
echo "Or index your photos into your own library (~/.local/share/searchlite):"
echo "  $bin index ~/Pictures && $bin search \"a beach at sunset\" --html results.html"
