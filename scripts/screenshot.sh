#!/usr/bin/env bash
# Renders a page (e.g. the gallery `make demo` writes) in headless Chromium
# and saves a PNG, to look at what a user would see.
#   scripts/screenshot.sh PAGE.html OUT.png [WIDTHxHEIGHT]   (default 1280x2400)
# Chromium comes from Debian (scripts/install-deps.sh browser). It runs
# without a sandbox (CI containers run as root), GPU or network.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 PAGE.html OUT.png [WIDTHxHEIGHT]" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
page=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
out=$2 size=${3:-1280x2400}
"$here/install-deps.sh" browser
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
  --disable-background-networking --disable-component-update --disable-sync --no-first-run \
  --user-data-dir="$profile" --hide-scrollbars --window-size="${size/x/,}" \
  --screenshot="$out" "file://$page" 2>/dev/null
[ -s "$out" ] || { echo "screenshot.sh: chromium wrote nothing" >&2; exit 1; }
echo "$out"
