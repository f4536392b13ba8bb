#!/usr/bin/env bash
# Cold start of the real command: wall-clock time of one whole
#   searchlite search "a dog sitting on a chair" -k 10 --library L --model M
# process (exec, open model, open library, first answer, print), median of
# RUNS runs per library, plus the split the command itself reports with -v
# (open model, open library, first answer; medians of RUNS more runs).
#
#   bench/bench_coldstart.sh SEARCHLITE MODEL NAME=LIBRARY... [--runs N]
#
# The page cache is warm: one untimed run per library comes first, so the
# files are read from memory, not from disk (a cold cache after a reboot
# adds the disk reads of the model, 47 MB, and of the library). Also times
# `searchlite --version` (exec and dynamic linking alone) as a floor.
# Prints one line per library:
#   coldstart: library=NAME runs=N wall_ms=.. wall_min_ms=.. open_model_ms=..
#              open_library_ms=.. first_answer_ms=.. (first_answer_ms, as -v
#              reports it, counts from the start of the model open)
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 SEARCHLITE MODEL NAME=LIBRARY... [--runs N]" >&2
  exit 2
fi
bin=$1 model=$2
shift 2
runs=20
libs=()
while [ $# -gt 0 ]; do
  case $1 in
  --runs) runs=$2; shift 2 ;;
  *=*) libs+=("$1"); shift ;;
  *) echo "$0: bad argument $1" >&2; exit 2 ;;
  esac
done
exec python3 - "$bin" "$model" "$runs" "${libs[@]}" <<'EOF'
import re, statistics, subprocess, sys, time

binary, model, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
query = "a dog sitting on a chair"

def wall(cmd):
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - t0) * 1e3

v = [wall([binary, "--version"]) for _ in range(runs)]
print(f"coldstart: floor `searchlite --version` runs={runs} wall_ms={statistics.median(v):.1f} "
      f"wall_min_ms={min(v):.1f}", flush=True)

split_re = re.compile(r"open model ([0-9.]+) ms, open library \(([0-9]+) items\) ([0-9.]+) ms, "
                      r"first answer ([0-9.]+) ms")
for spec in sys.argv[4:]:
    name, lib = spec.split("=", 1)
    cmd = [binary, "search", query, "-k", "10", "--library", lib, "--model", model]
    wall(cmd)  # warms the page cache
    w = [wall(cmd) for _ in range(runs)]
    om, ol, fa, items = [], [], [], "?"
    for _ in range(runs):
        p = subprocess.run(cmd + ["-v"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True)
        m = split_re.search(p.stderr)
        if not m:
            sys.exit(f"bench_coldstart: no timing line in the -v output of {lib}:\n{p.stderr}")
        om.append(float(m[1])); items = m[2]; ol.append(float(m[3])); fa.append(float(m[4]))
    print(f"coldstart: library={name} items={items} runs={runs} wall_ms={statistics.median(w):.1f} "
          f"wall_min_ms={min(w):.1f} open_model_ms={statistics.median(om):.1f} "
          f"open_library_ms={statistics.median(ol):.1f} first_answer_ms={statistics.median(fa):.1f} (-v split; first_answer counts from the model open)", flush=True)
EOF
