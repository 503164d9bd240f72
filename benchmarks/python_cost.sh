#!/usr/bin/env bash
# python_cost.sh - what Python frames cost: in BPF per sample, in user
# space per frame.
#
# The workload is two Python processes (one per CPU of a 2-CPU machine, so
# nearly every sample is theirs) spinning 5, then 20 Python calls deep
# (plus the module and the loop's frames), profiled
# alone (-p) at 999 Hz with kernel.bpf_stats_enabled=1, for each unwind
# mode:
#  - with Python frames: Debian's python3.11 (the walk runs at each sample);
#  - without: the very same binary copied as "py3bench", a name detection
#    does not take for CPython: the same native stacks, no walk.
# BPF cost per sample = growth of do_sample's run_time_ns / run_cnt while
# the recording runs; user-space cost per Python frame = what the
# recording's summary line says (resolving and merging, warm: the
# workload has 4 code objects, read once).
#
# Each figure is the median of ROUNDS recordings, with and without
# alternated (one run's figure moves by a few hundred ns on this VM).
#
# Usage: benchmarks/python_cost.sh [BUILD_DIR] [SECONDS] [ROUNDS]
#   (root; default build, 10 s, 3 rounds)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
secs=${2:-10}
rounds=${3:-3}
bpfprof=$build/bpfprof
[ -x "$bpfprof" ] || { echo "missing $bpfprof: run scripts/build first" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "needs root" >&2; exit 1; }
py=/usr/bin/python3.11
[ -x "$py" ] || { echo "missing $py: run scripts/setup" >&2; exit 1; }

work=$(mktemp -d)
old_stats=$(sysctl -n kernel.bpf_stats_enabled)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  sysctl -q -w kernel.bpf_stats_enabled="$old_stats"
  rm -rf "$work"
}
trap cleanup EXIT
sysctl -q -w kernel.bpf_stats_enabled=1

cat > "$work/deep.py" <<'EOF'
import sys, time
def leaf():
    s = 0
    for i in range(1000):
        s += i
    return s
def deep(n):
    return deep(n - 1) if n else leaf()
end = time.time() + float(sys.argv[1])
depth = int(sys.argv[2])
while time.time() < end:
    deep(depth)
EOF
plain=$work/py3bench
cp "$py" "$plain"

perf_event_ids() {
  bpftool prog show --json | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p.get("type") == "perf_event":
        print(p["id"])'
}
prog_stats() {
  bpftool prog show --json | python3 -c '
import json, sys
ids = set(int(i) for i in sys.argv[1:])
rt = rc = 0
for p in json.load(sys.stdin):
    if p["id"] in ids:
        rt += p.get("run_time_ns", 0); rc += p.get("run_cnt", 0)
print(rt, rc)' "$@"
}

# measure INTERPRETER MODE DEPTH: prints "ns_per_sample samples us_per_python_frame"
measure() {
  local interp=$1 mode=$2 depth=$3 before ours t0 c0 t1 c1 rec log=$work/record.log app1 app2
  "$interp" "$work/deep.py" $((secs + 6)) "$depth" & app1=$!
  "$interp" "$work/deep.py" $((secs + 6)) "$depth" & app2=$!
  pids+=("$app1" "$app2")
  before=$(perf_event_ids)
  "$bpfprof" record -F 999 --unwind "$mode" -p "$app1,$app2" -d $((secs + 3)) \
    -o "$work/out.pb.gz" 2> "$log" & rec=$!
  sleep 2
  ours=$(comm -13 <(echo "$before" | sort) <(perf_event_ids | sort))
  read -r t0 c0 < <(prog_stats $ours)
  sleep "$secs"
  read -r t1 c1 < <(prog_stats $ours)
  wait "$rec"
  kill "$app1" "$app2" 2>/dev/null || true
  wait "$app1" "$app2" 2>/dev/null || true
  local frame
  frame=$(sed -n 's/.*, \([0-9.]*\) us per frame;.*/\1/p' "$log")
  awk -v t=$((t1 - t0)) -v c=$((c1 - c0)) -v f="${frame:--}" \
    'BEGIN { printf "%.0f %d %s\n", c ? t / c : 0, c, f }'
}

echo "Python frames: cost per sample, 2 processes, 999 Hz, median of $rounds x ${secs} s, $(nproc) CPUs,"
echo "kernel $(uname -r); without: the same python3.11 as py3bench"
echo "| mode  | calls deep | BPF ns/sample with | without | difference | samples | user us/Python frame |"
echo "|-------|------------|--------------------|---------|------------|---------|----------------------|"
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
for depth in 5 20; do
  for mode in auto fp; do
    withs=() withouts=() n=0
    for ((r = 0; r < rounds; r++)); do # alternated: a slow spell hits both
      read -r with n frame < <(measure "$py" "$mode" "$depth")
      read -r without _ _ < <(measure "$plain" "$mode" "$depth")
      withs+=("$with") withouts+=("$without")
    done
    with=$(printf '%s\n' "${withs[@]}" | median)
    without=$(printf '%s\n' "${withouts[@]}" | median)
    printf "| %-5s | %10s | %18s | %7s | %10s | %7s | %20s |\n" "$mode" "$depth" "$with" \
      "$without" $((with - without)) "$n" "$frame"
  done
done
