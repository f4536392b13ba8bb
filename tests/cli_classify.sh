#!/usr/bin/env bash
# `searchlite classify` as a user meets it: help, results, bad input.
#   cli_classify.sh SEARCHLITE_BINARY ASSETS_DIR
set -uo pipefail
bin=$1; assets=$2
m=$assets/models
v2=$m/mobilenet_v2_1.0_224_quant.tflite
small=$m/mobilenet_v1_0.25_128_quant.tflite
gh=$assets/samples/grace_hopper.bmp
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
passed=0; failed=0
ok() { passed=$((passed+1)); }
bad() { failed=$((failed+1)); echo "FAILED: $*" >&2; }
expect_status() { # want cmd...
  local want=$1; shift
  "$@" >"$tmp/out" 2>"$tmp/err"; local got=$?
  if [ "$got" -eq "$want" ]; then ok; else bad "exit $got (want $want): $*"; cat "$tmp/err" >&2; fi
}

expect_status 0 "$bin" classify --help
grep -q '^usage: searchlite classify' "$tmp/out" && ok || bad "help text"
expect_status 2 "$bin" classify
expect_status 2 "$bin" classify "$v2" "$gh" --bogus
expect_status 2 "$bin" classify "$v2" "$gh" -k 0
expect_status 2 "$bin" nosuchcommand
expect_status 0 "$bin" --help

# The reference case of the model assets: grace_hopper -> 653 military uniform.
expect_status 0 "$bin" classify "$v2" "$gh"
first=$(sed -n '3p' "$tmp/out")
echo "$first" | grep -q '653 *military uniform' && ok || bad "grace_hopper top-1: $first"
[ "$(grep -c '^ *[1-5] ' "$tmp/out")" -eq 5 ] && ok || bad "five rows"
cp "$tmp/out" "$tmp/one_thread"

# Same answer with two threads and with the reference kernels.
expect_status 0 "$bin" classify "$v2" "$gh" --threads 2
cmp -s "$tmp/out" "$tmp/one_thread" && ok || bad "--threads 2 changes the output"
expect_status 0 "$bin" classify "$v2" "$gh" --reference
cmp -s "$tmp/out" "$tmp/one_thread" && ok || bad "--reference changes the output"

# --raw prints every output value.
expect_status 0 "$bin" classify "$small" "$gh" --raw
[ "$(grep -c '^[0-9][0-9]*$' "$tmp/out")" -eq 1001 ] && ok || bad "--raw prints 1001 values"

# Bad images are reported and skipped; the good one is still classified.
: > "$tmp/empty.jpg"
echo "not an image" > "$tmp/text.png"
head -c 5000 "$assets/coco-train80/images/000000000790.jpg" > "$tmp/truncated.jpg"
expect_status 1 "$bin" classify "$small" "$tmp/empty.jpg" "$gh" "$tmp/text.png" "$tmp/truncated.jpg" /nonexistent.bmp
grep -q 'grace_hopper' "$tmp/out" && ok || bad "good image classified despite bad ones"
for f in empty.jpg text.png truncated.jpg /nonexistent.bmp; do
  grep -q "$(basename "$f")" "$tmp/err" && ok || bad "error names $f"
done

# Bad models: clear message, exit 1.
expect_status 1 "$bin" classify /nonexistent.tflite "$gh"
grep -qi 'nonexistent.tflite' "$tmp/err" && ok || bad "missing model named"
head -c 100000 "$small" > "$tmp/cut.tflite"
expect_status 1 "$bin" classify "$tmp/cut.tflite" "$gh"
grep -qi 'corrupt\|truncat\|outside\|past the end' "$tmp/err" && ok || bad "truncated model: $(cat "$tmp/err")"
expect_status 1 "$bin" classify "$gh" "$gh"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
