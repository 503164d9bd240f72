#!/usr/bin/env bash
# bpf_cost.sh - the BPF program's cost per sample, bpfprof vs bpftrace.
#
# Both profilers sample the whole machine at 99 Hz at the same time (bpfprof
# with --unwind fp, the same work as bpftrace: frame-pointer stacks), on the
# same workload (two busy call-tree processes plus whatever else runs), with
# kernel.bpf_stats_enabled=1. The cost per sample is the growth of the
# program's run_time_ns divided by the growth of its run_cnt between two
# readings taken while both run. Prints a table.
#
# Usage: benchmarks/bpf_cost.sh [BUILD_DIR] [SECONDS]   (root; default build, 20)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
secs=${2:-20}
bpfprof=$build/bpfprof
fixture=$build/tests/system/calltree_fp
for f in "$bpfprof" "$fixture"; do
  [ -x "$f" ] || { echo "missing $f: run scripts/build first" >&2; exit 1; }
done
command -v bpftrace >/dev/null || { echo "bpftrace missing: run scripts/setup" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "needs root" >&2; exit 1; }

work=$(mktemp -d)
old_stats=$(sysctl -n kernel.bpf_stats_enabled)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  sysctl -q -w kernel.bpf_stats_enabled="$old_stats"
  rm -rf "$work"
}
trap cleanup EXIT
sysctl -q -w kernel.bpf_stats_enabled=1

for _ in 1 2; do "$fixture" $((secs + 10)) > /dev/null & pids+=($!); done
# perf_event_ids: ids of the loaded perf_event programs, one per line.
perf_event_ids() {
  bpftool prog show --json | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p.get("type") == "perf_event":
        print(p["id"])'
}
# prog_stats ID...: "run_time_ns run_cnt" summed over those programs.
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

# Tell the programs apart by load order: bpftool here cannot name owners.
before=$(perf_event_ids)
"$bpfprof" record --unwind fp -o "$work/bench.pb.gz" 2> "$work/bpfprof.log" & pids+=($!)
sleep 2
ours=$(comm -13 <(echo "$before" | sort) <(perf_event_ids | sort))
bpftrace -e 'profile:hz:99 { @[kstack, ustack, comm] = count(); }' > "$work/bpftrace.out" 2>&1 &
pids+=($!)
sleep 3
theirs=$(comm -13 <(printf '%s\n' $before $ours | sort) <(perf_event_ids | sort))
[ -n "$ours" ] && [ -n "$theirs" ] || { echo "could not find both programs" >&2; exit 1; }

read -r ours_t0 ours_c0 < <(prog_stats $ours)
read -r bt_t0 bt_c0 < <(prog_stats $theirs)
sleep "$secs"
read -r ours_t1 ours_c1 < <(prog_stats $ours)
read -r bt_t1 bt_c1 < <(prog_stats $theirs)

row() { # name dt dc
  awk -v n="$1" -v t="$2" -v c="$3" 'BEGIN {
    printf "| %-45s | %9d | %12.0f | %10.2f |\n", n, c, t, c ? t / c / 1000 : 0 }'
}
echo "BPF program cost per sample, whole machine at 99 Hz, ${secs} s, $(nproc) CPUs, kernel $(uname -r)"
echo "| program                                       |   samples | run_time_ns  | us/sample  |"
echo "|-----------------------------------------------|-----------|--------------|------------|"
row "bpfprof do_sample (kstack+ustack ids, counts)" $((ours_t1 - ours_t0)) $((ours_c1 - ours_c0))
row "bpftrace profile:hz:99 @[kstack,ustack,comm]" $((bt_t1 - bt_t0)) $((bt_c1 - bt_c0))
