#!/usr/bin/env bash
# The demo: classify the bundled sample images (and a few COCO photos) with
# the default MobileNetV2 through searchlite's own TFLite interpreter.
#   scripts/demo.sh [PATH/TO/searchlite]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=${1:-$here/../build/searchlite}
assets=$("$here/fetch-assets.sh" --dir)
"$here/fetch-assets.sh" models samples coco-train80
model="$assets/models/mobilenet_v2_1.0_224_quant.tflite"
labels="$assets/models/imagenet_labels.txt"
echo "== searchlite classify with $(basename "$model") =="
"$bin" classify "$model" --labels "$labels" -k 5 \
  "$assets"/samples/*.bmp \
  $(ls "$assets"/coco-train80/images/*.jpg | head -n 3)
