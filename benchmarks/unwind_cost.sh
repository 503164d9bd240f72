#!/usr/bin/env bash
# unwind_cost.sh - per-sample cost of DWARF unwinding, bpfprof vs perf.
#
# In one run, on one workload (two busy processes built without frame
# pointers: tests/system/calltree_nofp, main -> work -> {a, b}; with
# UNWIND_COST_PYTHON=1 the second one is Debian's python3 in a CPU loop),
# over the same window, the whole machine is profiled at 99 Hz by both
#   bpfprof record --unwind dwarf -d SECS          (16 KiB stack snapshots)
#   perf record -e cpu-clock -F 99 -a --call-graph dwarf -- sleep SECS
#                                                  (8 KiB, perf's default)
# and afterwards `perf script` is run on perf's file, timed on its own.
# Measured: the BPF program's run time per sample (kernel.bpf_stats_enabled,
# the perf_event program found by load order: bpftool here cannot name
# owners), bytes copied and reserved per sample, user-space unwinding per
# frame (bpfprof's summary line), CPU (user+sys) of each tool, perf's bytes
# on disk per sample, and, as a sanity check that both did the same work,
# the share of the call-tree processes' samples whose stack has the whole
# chain a|b -> work -> main. Prints a markdown table and met / not met lines.
#
# Usage: benchmarks/unwind_cost.sh [BUILD_DIR] [SECONDS]   (root; default build, 30)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
secs=${2:-30}
bpfprof=$build/bpfprof
fixture=$build/tests/system/calltree_nofp
use_python=${UNWIND_COST_PYTHON:-0}
for f in "$bpfprof" "$fixture"; do
  [ -x "$f" ] || { echo "missing $f: run scripts/build first" >&2; exit 1; }
done
for c in perf bpftool go python3 /usr/bin/time cc; do
  command -v "$c" >/dev/null || { echo "$c missing: run scripts/setup" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "needs root" >&2; exit 1; }
if ! [[ $secs =~ ^[0-9]+$ ]] || [ "$secs" -lt 5 ]; then
  echo "SECONDS: a whole number >= 5" >&2; exit 2
fi

work=$(mktemp -d /tmp/unwind-cost.XXXXXX)
export PPROF_TMPDIR=$work HOME=${HOME:-$work}
old_stats=$(sysctl -n kernel.bpf_stats_enabled)
pids=()
# kill_tree SIG PID: PID's descendants first (perf's sleep, time's child),
# then PID itself.
kill_tree() {
  local c
  for c in $(pgrep -P "$2" 2>/dev/null || true); do kill_tree "$1" "$c"; done
  kill "-$1" "$2" 2>/dev/null || true
}
cleanup() {
  trap - EXIT INT TERM
  local p
  for p in "${pids[@]}"; do kill_tree TERM "$p"; done
  wait 2>/dev/null || true
  sysctl -q -w kernel.bpf_stats_enabled="$old_stats" || true
  if [ -n "${KEEP_WORK:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Ring-buffer record reserved per sample: sizeof(struct stack_event), from
# the header itself; the ring adds an 8-byte record header (BPF_RINGBUF_HDR_SZ)
# and rounds to 8.
cat > "$work/size.c" <<'EOF'
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>
#include "profile.h"
int main(void)
{
	printf("%zu %zu\n", sizeof(struct stack_event), offsetof(struct stack_event, stack));
	return 0;
}
EOF
cc -I bpf -o "$work/size" "$work/size.c"
read -r event_size event_head < <("$work/size")
ring_record=$(( (event_size + 8 + 7) / 8 * 8 ))

sysctl -q -w kernel.bpf_stats_enabled=1

# Workload: runs past the end of both recordings.
life=$((secs + 30))
tree_pids=()
"$fixture" "$life" > /dev/null & pids+=($!); tree_pids+=($!)
if [ "$use_python" = 1 ]; then
  python3 -c '
import time, sys
def leaf(n):
    x = 0
    for i in range(n):
        x += i * i
    return x
def mid(d):
    return leaf(20000) if d == 0 else mid(d - 1)
end = time.time() + float(sys.argv[1])
while time.time() < end:
    mid(8)' "$life" & pids+=($!)
  workload="calltree_nofp + python3 (CPU loop, 9 nested Python calls)"
else
  "$fixture" "$life" > /dev/null & pids+=($!); tree_pids+=($!)
  workload="2 x calltree_nofp"
fi
load_re=$(IFS='|'; echo "${pids[*]}")
sleep 1

perf_event_ids() {
  bpftool prog show --json | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p.get("type") == "perf_event":
        print(p["id"])'
}
# fd_stats FDINFO: sets rt and rc to the program's run_time_ns and run_cnt
# from its fd's fdinfo (the counters bpftool shows, read without starting a
# process each time); fails once the fd is gone.
fd_stats() {
  local k v
  rt='' rc=''
  { while read -r k v; do
      case $k in run_time_ns:) rt=$v ;; run_cnt:) rc=$v ;; esac
    done < "$1"; } 2> /dev/null || return 1
  [ -n "$rt" ] && [ -n "$rc" ]
}

before=$(perf_event_ids)
/usr/bin/time -f '%U %S %e' -o "$work/bpfprof.time" \
  "$bpfprof" record --unwind dwarf -d "$secs" -o "$work/bpfprof.pb.gz" \
  2> "$work/bpfprof.log" & bpfprof_job=$!; pids+=("$bpfprof_job")
/usr/bin/time -f '%U %S %e' -o "$work/perf-record.time" \
  perf record -e cpu-clock -F 99 -a --call-graph dwarf -o "$work/perf.data" -- sleep "$secs" \
  > /dev/null 2> "$work/perf-record.log" & perf_job=$!; pids+=("$perf_job")

# Our program: a perf_event program that appeared after bpfprof started
# (load order), confirmed by its fd in bpfprof's /proc/PID/fdinfo: the
# project's tests may start other bpfprofs on this machine at the same time.
ours='' fdinfo='' new=''
for _ in $(seq 150); do
  kill -0 "$bpfprof_job" 2>/dev/null || break
  bp_pid=$(pgrep -P "$bpfprof_job" | head -1 || true)
  new=$(comm -13 <(echo "$before" | sort) <(perf_event_ids | sort))
  if [ -n "$bp_pid" ] && [ -n "$new" ]; then
    for f in /proc/"$bp_pid"/fdinfo/*; do
      id=$(awk '$1 == "prog_type:" { t = $2 } $1 == "prog_id:" { i = $2 }
                END { if (t == 7) print i }' "$f" 2> /dev/null || true)
      if [ -n "$id" ] && grep -qx "$id" <<< "$new"; then ours=$id fdinfo=$f; break; fi
    done
  fi
  [ -n "$ours" ] && break
  sleep 0.1
done
[ -n "$ours" ] || { echo "did not find bpfprof's perf_event program (new: '$new')" >&2
                    cat "$work/bpfprof.log" >&2; exit 1; }
others=$(grep -vcx "$ours" <<< "$new" || true)
fd_stats "$fdinfo" || { echo "cannot read $fdinfo" >&2; exit 1; }
t0=$rt c0=$rc t1=$rt c1=$rc
# Read the counters every second until the program goes away with bpfprof;
# keep the last reading.
while kill -0 "$bpfprof_job" 2>/dev/null; do
  if fd_stats "$fdinfo"; then t1=$rt c1=$rc; fi
  sleep 1
done
wait "$bpfprof_job" || { echo "bpfprof failed:" >&2; cat "$work/bpfprof.log" >&2; exit 1; }
wait "$perf_job" || { echo "perf record failed:" >&2; cat "$work/perf-record.log" >&2; exit 1; }

/usr/bin/time -f '%U %S %e' -o "$work/perf-script.time" \
  perf script -i "$work/perf.data" > /dev/null 2> "$work/perf-script.log"
# Stacks for the sanity check (a second, untimed pass).
perf script -F comm,pid,ip,sym -i "$work/perf.data" > "$work/perf.stacks" 2> /dev/null
perf report --stats -i "$work/perf.data" > "$work/perf.stats" 2>&1 || true
for p in "${pids[@]}"; do kill_tree TERM "$p"; done

# --- bpfprof's numbers
log=$work/bpfprof.log
unwound=$(sed -n 's/^bpfprof: \([0-9]*\) stacks unwound from snapshots (\([0-9.]*\) KiB and \([0-9.]*\) frames each, \([0-9.]*\) us per frame), \([0-9]*\) truncated, \([0-9]*\) stopped early.*/\1 \2 \3 \4 \5 \6/p' "$log")
read -r snapshots snap_kib frames_each us_frame truncated stopped <<< "${unwound:-0 0 0 0 0 0}"
summary=$(sed -n 's/^bpfprof: \([0-9]*\) samples, [0-9]* processes, \([0-9]*\) dropped.*/\1 \2/p' "$log")
read -r bp_samples bp_dropped <<< "${summary:-0 0}"
read -r bp_user bp_sys bp_wall < "$work/bpfprof.time"
dt=$((t1 - t0)) dc=$((c1 - c0))

# --- perf's numbers
read -r pr_user pr_sys pr_wall < "$work/perf-record.time"
read -r ps_user ps_sys ps_wall < "$work/perf-script.time"
perf_samples=$(awk '/^cpu-clock stats:/ { s = 1 } s && /SAMPLE events:/ { print $3; exit }' "$work/perf.stats")
[ -n "$perf_samples" ] || perf_samples=$(awk '/SAMPLE events:/ { print $3; exit }' "$work/perf.stats")
perf_lost=$(awk '/LOST(_SAMPLES)? events:/ { s += $3 } END { print s + 0 }' "$work/perf.stats")
perf_bytes=$(stat -c %s "$work/perf.data")
perf_stack=$(perf evlist -v -i "$work/perf.data" 2>/dev/null |
  sed -n 's/.*sample_stack_user: \([0-9]*\).*/\1/p' | head -1)

# --- sanity check: share of the call-tree processes' samples with the chain
tree_re=$(IFS='|'; echo "${tree_pids[*]}")
# load_re (the workload's pids) is set where the workload starts.
# bpfprof: traces as tests/system/lib.sh's pprof_traces, leaf first:
# "COUNT<TAB>PID<TAB>STACK<TAB>COMM".
go tool pprof -traces -sample_index=samples "$work/bpfprof.pb.gz" 2> /dev/null | awk '
  function flush() { if (n != "") print n "\t" pid "\t" st "\t" comm; n = ""; st = "" }
  /^-+\+-+/ { flush(); pid = ""; comm = ""; next }
  /^ *pid: / { pid = $2; next }
  /^ *comm: / { comm = $2; next }
  /^ *[a-z_]+: / { next }
  /^ +[0-9]+ +[^ ]/ { flush(); n = $1; st = $2; next }
  /^ +[^ ]/ && n != "" { st = st ";" $1; next }
  END { flush() }' > "$work/bpfprof.traces"
# perf: blocks of "COMM PID" then one "ADDR SYM" line per frame, leaf first;
# the same format, one line per sample.
awk '
  function flush() { if (pid != "") print 1 "\t" pid "\t" st "\t" comm; pid = ""; st = "" }
  /^[^ \t]/ { flush(); pid = $NF; comm = $0; sub(/[ \t]+[0-9]+[ \t]*$/, "", comm); next }
  /^[ \t]+[0-9a-f]+ / { st = (st == "" ? $2 : st ";" $2); next }
  END { flush() }' "$work/perf.stacks" > "$work/perf.traces"
# tally TRACES: "CALLTREE COMPLETE WORKLOAD OTHER BUSIEST_OTHER" (idle, pid 0,
# is left out of OTHER: bpfprof does not sample it).
tally() {
  awk -F'\t' -v tree="^($tree_re)\$" -v load="^($load_re)\$" '
    $2 ~ tree { t += $1; if ($3 ~ /(^|;)(a|b);work;main(;|$)/) w += $1 }
    $2 ~ load { l += $1; next }
    $2 != 0 { o += $1; c[$4] += $1 }
    END { for (k in c) if (c[k] > m) { m = c[k]; b = k }
          print t + 0, w + 0, l + 0, o + 0, (m ? b "(" m ")" : "-") }' "$1"
}
read -r bp_tree bp_whole bp_load bp_other bp_busiest < <(tally "$work/bpfprof.traces")
read -r pf_tree pf_whole pf_load pf_other pf_busiest < <(tally "$work/perf.traces")
pf_idle=$(awk -F'\t' '$2 == 0 { n++ } END { print n + 0 }' "$work/perf.traces")

# --- table
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
bp_cpu=$(calc %.2f "$bp_user + $bp_sys")
pr_cpu=$(calc %.2f "$pr_user + $pr_sys")
ps_cpu=$(calc %.2f "$ps_user + $ps_sys")
pf_cpu=$(calc %.2f "$pr_cpu + $ps_cpu")
bpf_us=$(calc %.2f "$dc ? $dt / $dc / 1000 : 0")
copied=$(calc %.0f "$snap_kib * 1024")
pf_bps=$(calc %.0f "$perf_samples ? $perf_bytes / $perf_samples : 0")
bp_share=$(calc %.1f "$bp_tree ? 100 * $bp_whole / $bp_tree : 0")
pf_share=$(calc %.1f "$pf_tree ? 100 * $pf_whole / $pf_tree : 0")
pct() { calc %.1f "100 * $1 / $secs"; }
per_sample() { calc %.1f "$2 ? $1 * 1e6 / $2 : 0"; }

echo "DWARF unwinding cost, whole machine at 99 Hz, ${secs} s, $(nproc) CPUs, kernel $(uname -r)"
echo "workload: $workload; $(perf --version)"
echo
echo "| measure | bpfprof | perf | target |"
echo "|---|---|---|---|"
echo "| samples (all processes) | $bp_samples | $perf_samples (incl. idle) | |"
echo "| samples lost / dropped | $bp_dropped | $perf_lost | 0 |"
echo "| BPF program per sample (run_time_ns / run_cnt, $dc runs) | $bpf_us us | - | <= 5 us |"
echo "| user stack copied per sample | $copied B ($snap_kib KiB avg, 16 KiB max) | ${perf_stack:-?} B max | |"
echo "| ring-buffer bytes reserved per sample | $event_size B (sizeof stack_event: $event_head header + 16384; $ring_record in the ring) | - | |"
echo "| perf.data bytes per sample (file / samples) | - | $pf_bps B ($perf_bytes B total) | |"
echo "| frames per unwound stack | $frames_each | - | |"
echo "| user-space unwinding per frame | $us_frame us | (in perf script) | <= 0.5 us |"
echo "| stacks truncated / stopped early | $truncated / $stopped of $snapshots | - | |"
echo "| CPU of record (user+sys) | ${bp_cpu} s (${bp_user} + ${bp_sys}) | ${pr_cpu} s (${pr_user} + ${pr_sys}) | |"
echo "| CPU of perf script (user+sys) | - | ${ps_cpu} s (${ps_user} + ${ps_sys}) | |"
echo "| total CPU for the profile | ${bp_cpu} s | ${pf_cpu} s | bpfprof < perf |"
echo "| wall time of record / perf script | ${bp_wall} s | ${pr_wall} s / ${ps_wall} s | |"
echo "| % of one core over ${secs} s | $(pct "$bp_cpu")% | $(pct "$pf_cpu")% (record $(pct "$pr_cpu")%) | |"
echo "| user-space CPU per sample | $(per_sample "$bp_cpu" "$bp_samples") us | $(per_sample "$pf_cpu" "$perf_samples") us | |"
echo "| samples of the workload / of other processes (busiest) | $bp_load / $bp_other, $bp_busiest | $pf_load / $pf_other, $pf_busiest; idle $pf_idle | |"
echo "| call-tree samples with a\\|b -> work -> main | $bp_whole / $bp_tree = $bp_share% | $pf_whole / $pf_tree = $pf_share% | >= 95% both |"
echo
verdict() { if awk "BEGIN { exit !($2) }"; then echo "met: $1"; else echo "not met: $1"; fi; }
verdict "BPF program $bpf_us us per sample <= 5 us" "$dc > 0 && $bpf_us <= 5"
verdict "unwinding $us_frame us per frame <= 0.5 us" "$snapshots > 0 && $us_frame <= 0.5"
verdict "bpfprof total CPU $bp_cpu s < perf record + script $pf_cpu s" "$bp_cpu < $pf_cpu"
verdict "complete chains: bpfprof $bp_share%, perf $pf_share%, both >= 95%" \
  "$bp_tree > 0 && $pf_tree > 0 && $bp_share >= 95 && $pf_share >= 95"

# Anything either tool warned about.
warn=$(grep -hiE 'warn|lost|error|fail' "$work/perf-record.log" "$work/perf-script.log" 2>/dev/null | sort | uniq -c || true)
[ "$bp_dropped" = 0 ] || warn+=$'\n'"bpfprof dropped $bp_dropped samples"
[ "$others" = 0 ] ||
  warn+=$'\n'"$others other perf_event BPF program(s) loaded while bpfprof started (another bpfprof?)"
warn=$(sed '/^$/d' <<< "$warn")
if [ -n "$warn" ]; then echo; echo "warnings:"; echo "$warn"; fi
