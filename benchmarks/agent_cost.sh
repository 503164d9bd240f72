#!/usr/bin/env bash
# agent_cost.sh - what the agent costs on a busy machine, beside perf (issue 5).
#
# NPROCS busy processes (2/5 tests/system/calltree_fp, 2/5 calltree_nofp, the
# rest Debian's /usr/bin/python3 in a CPU loop; more than the CPUs, so they
# share them and all stay runnable), then, over one window of SECONDS, the
# whole machine is profiled at 99 Hz at the same time by
#   bpfprof agent --unwind fp    --interval 10s --output-dir DIR
#   bpfprof agent --unwind dwarf --interval 10s --output-dir DIR2
#   perf record -e cpu-clock -a -g -F 99 -- sleep SECONDS
# and afterwards `perf script` reads perf's file (timed on its own). The
# agents are stopped with SIGTERM at the end of the window (they write the
# interval in progress and exit 0).
#
# All three run at once, in one window, rather than one after the other: each
# is charged only its own CPU time (user+sys of its process), each has its
# own cpu-clock event per CPU (a fixed period of CPU time, whatever the
# others do), and the profilers sleep between drains, so the scheduler runs
# them soon after they wake, ahead of the busy processes. What they add to
# one another is a few samples of each other's processes (the rows of
# samples say how many each took; the DWARF agent drops, without a count in
# its log, the samples that find its ring full). Running them in
# turn would triple the time and not give the same workload.
#
# Measured, for each: CPU (user+sys, /usr/bin/time over its whole life, and
# from /proc/PID/stat over the window after a warm-up, i.e. steady state),
# % of one core, peak RSS (VmHWM just before SIGTERM, and the maximum RSS of
# its whole life), samples in the profiles written and the files written;
# for perf, record and script CPU, their RSS and perf.data's size. With
# kernel.bpf_stats_enabled=1 (restored at exit), the agents' BPF program
# time, which the kernel charges to the interrupted tasks, not to the agent.
# Prints a markdown table and met / not met lines for the FP targets.
#
# Usage: benchmarks/agent_cost.sh [BUILD_DIR] [SECONDS] [NPROCS]
#        (root; defaults build, 300, 60; KEEP_WORK=1 keeps the profiles)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
secs=${2:-300}
nprocs=${3:-60}
interval=10
bpfprof=$build/bpfprof
fix_fp=$build/tests/system/calltree_fp
fix_nofp=$build/tests/system/calltree_nofp
python=/usr/bin/python3
for f in "$bpfprof" "$fix_fp" "$fix_nofp"; do
  [ -x "$f" ] || { echo "missing $f: run scripts/build first" >&2; exit 1; }
done
for c in perf go /usr/bin/time "$python"; do
  command -v "$c" >/dev/null || { echo "$c missing: run scripts/setup" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "needs root" >&2; exit 1; }
if ! [[ $secs =~ ^[0-9]+$ ]] || [ "$secs" -lt 30 ]; then
  echo "SECONDS: a whole number >= 30" >&2; exit 2
fi
if ! [[ $nprocs =~ ^[0-9]+$ ]] || [ "$nprocs" -lt 3 ]; then
  echo "NPROCS: a whole number >= 3" >&2; exit 2
fi
# Steady state: the window after the first interval and a half (startup:
# BTF, loading the programs, the first objects parsed).
warm=$((interval * 3 / 2))
hz=$(getconf CLK_TCK)

work=$(mktemp -d /tmp/agent-cost.XXXXXX)
export PPROF_TMPDIR=$work HOME=${HOME:-$work}
old_stats=$(sysctl -n kernel.bpf_stats_enabled)
declare -A agent_pid=()  # the agents (time's children)
pids=()       # everything started here, killed (with descendants) at exit
load_pids=()  # the busy processes
# kill_tree SIG PID: PID's descendants first (time's child, perf's sleep),
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
  # The agents are time's children, not ours: wait (10 s at most) until they
  # have written their last interval and gone, before removing their files.
  for p in "${agent_pid[@]}"; do
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  done
  sysctl -q -w kernel.bpf_stats_enabled="$old_stats" || true
  if [ -n "${KEEP_WORK:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- helpers
# Readings during the window are bash builtins only, setting globals: with
# NPROCS busy processes on the CPUs, every fork (cat, awk, $(...)) waits for
# a CPU, and a few hundred of them would stretch the window by tens of
# seconds (a first version's did by 30 s).
# stat_of PID: ST (state) and TICKS (utime+stime in clock ticks: fields 3,
# 14 and 15 of stat, counted after the ')' that ends comm); 0 if gone.
stat_of() {
  local s f
  ST='' TICKS=0
  { read -r s < "/proc/$1/stat"; } 2>/dev/null || return 0
  s=${s##*) }
  read -r -a f <<< "$s"
  ST=${f[0]} TICKS=$((f[11] + f[12]))
}
# status_kb PID KEY: KB, KEY's value in /proc/PID/status (kB).
status_kb() {
  local k v u
  KB=0
  { while read -r k v u; do
      [ "$k" = "$2:" ] && { KB=$v; break; }
    done < "/proc/$1/status"; } 2>/dev/null || true
}
# now: NOW, microseconds since the epoch.
now() { NOW=${EPOCHREALTIME/./}; }
# bpf_stats PID: BPF_RT and BPF_RC, run_time_ns and run_cnt summed over the
# perf_event programs (prog_type 7) whose fds PID holds (kernel.bpf_stats).
bpf_stats() {
  local f k v t rt rc
  BPF_RT=0 BPF_RC=0
  for f in /proc/"$1"/fdinfo/*; do
    t='' rt=0 rc=0
    { while read -r k v; do
        case $k in prog_type:) t=$v ;; run_time_ns:) rt=$v ;; run_cnt:) rc=$v ;; esac
      done < "$f"; } 2>/dev/null || continue
    [ "$t" = 7 ] && BPF_RT=$((BPF_RT + rt)) BPF_RC=$((BPF_RC + rc))
  done
  return 0
}
calc() { awk "BEGIN { printf \"$1\", $2 }"; }

# --- the workload: runs past the end of the window; killed at exit
life=$((secs + 120))
n_fp=$((nprocs * 2 / 5)) n_nofp=$((nprocs * 2 / 5))
n_py=$((nprocs - n_fp - n_nofp))
for _ in $(seq "$n_fp"); do "$fix_fp" "$life" > /dev/null & pids+=($!); load_pids+=($!); done
for _ in $(seq "$n_nofp"); do "$fix_nofp" "$life" > /dev/null & pids+=($!); load_pids+=($!); done
for _ in $(seq "$n_py"); do
  "$python" -c '
import sys, time
def leaf(n):
    x = 0
    for i in range(n):
        x += i * i
    return x
def mid(d):
    return leaf(5000) if d == 0 else mid(d - 1)
end = time.time() + float(sys.argv[1])
while time.time() < end:
    mid(6)' "$life" & pids+=($!); load_pids+=($!)
done
sleep 2

sysctl -q -w kernel.bpf_stats_enabled=1

# --- the two agents, under /usr/bin/time (CPU and maximum RSS of a whole life)
declare -A agent_job
for mode in fp dwarf; do
  /usr/bin/time -f '%U %S %e %M' -o "$work/agent-$mode.time" \
    "$bpfprof" agent --unwind "$mode" --interval "${interval}s" --output-dir "$work/out-$mode" \
    2> "$work/agent-$mode.log" & agent_job[$mode]=$!; pids+=($!)
done
# ready LOG: the agent has said it is profiling (builtins only, as below).
ready() {
  local l
  { while read -r l; do [[ $l == *'profiling every'* ]] && return 0; done < "$1"; } 2>/dev/null
  return 1
}
for mode in fp dwarf; do
  for _ in $(seq 600); do
    ready "$work/agent-$mode.log" && break
    kill -0 "${agent_job[$mode]}" 2>/dev/null || break
    sleep 0.1
  done
  ready "$work/agent-$mode.log" ||
    { echo "agent --unwind $mode did not start:" >&2; cat "$work/agent-$mode.log" >&2; exit 1; }
  agent_pid[$mode]=$(pgrep -P "${agent_job[$mode]}" | head -1)
  [ -n "${agent_pid[$mode]}" ] || { echo "no pid for agent --unwind $mode" >&2; exit 1; }
done

# --- perf over the same window
/usr/bin/time -f '%U %S %e %M' -o "$work/perf-record.time" \
  perf record -e cpu-clock -a -g -F 99 -o "$work/perf.data" -- sleep "$secs" \
  > /dev/null 2> "$work/perf-record.log" & perf_job=$!; pids+=("$perf_job")

now; t_start=$NOW
sleep "$warm"
now; t_warm=$NOW
declare -A tick_warm
for mode in fp dwarf; do stat_of "${agent_pid[$mode]}"; tick_warm[$mode]=$TICKS; done
# All runnable? The busy processes' states now (R: running or runnable).
runnable=0 load_warm=0
for p in "${load_pids[@]}"; do
  stat_of "$p"; [ "$ST" = R ] && runnable=$((runnable + 1)); load_warm=$((load_warm + TICKS))
done

# The end of the window: when perf's sleep ends.
now; left=$((t_start + secs * 1000000 - NOW)); [ "$left" -gt 0 ] || left=0
sleep "$(calc %.6f "$left / 1e6")"
now; t_end=$NOW
declare -A tick_end hwm rss bpf
for mode in fp dwarf; do
  p=${agent_pid[$mode]}
  stat_of "$p"; tick_end[$mode]=$TICKS
  [ -n "$ST" ] || { echo "agent --unwind $mode died:" >&2; cat "$work/agent-$mode.log" >&2; exit 1; }
  status_kb "$p" VmHWM; hwm[$mode]=$KB
  status_kb "$p" VmRSS; rss[$mode]=$KB
  bpf_stats "$p"; bpf[$mode]="$BPF_RT $BPF_RC"
done
# The workload's CPU, per process.
load_cpu=() load_end=0 alive=0
for p in "${load_pids[@]}"; do
  stat_of "$p"; load_cpu+=("$TICKS"); load_end=$((load_end + TICKS))
  [ -n "$ST" ] && alive=$((alive + 1))
done

for mode in fp dwarf; do kill -TERM "${agent_pid[$mode]}"; done
for mode in fp dwarf; do
  wait "${agent_job[$mode]}" ||
    { echo "agent --unwind $mode exited $?:" >&2; cat "$work/agent-$mode.log" >&2; exit 1; }
done
wait "$perf_job" || { echo "perf record failed:" >&2; cat "$work/perf-record.log" >&2; exit 1; }
for p in "${load_pids[@]}"; do kill_tree TERM "$p"; done

/usr/bin/time -f '%U %S %e %M' -o "$work/perf-script.time" \
  perf script -i "$work/perf.data" > /dev/null 2> "$work/perf-script.log"
perf report --stats -i "$work/perf.data" > "$work/perf.stats" 2>&1 || true

# --- numbers
window=$(calc %.1f "($t_end - $t_start) / 1e6")
steady=$(calc %.3f "($t_end - $t_warm) / 1e6")
declare -A user sys wall maxrss cpu life_pct steady_pct startup samples files logged bpf_s bpf_pct bpf_us
for mode in fp dwarf; do
  read -r user[$mode] sys[$mode] wall[$mode] maxrss[$mode] < "$work/agent-$mode.time"
  cpu[$mode]=$(calc %.2f "${user[$mode]} + ${sys[$mode]}")
  life_pct[$mode]=$(calc %.3f "100 * ${cpu[$mode]} / ${wall[$mode]}")
  steady_pct[$mode]=$(calc %.3f "100 * (${tick_end[$mode]} - ${tick_warm[$mode]}) / $hz / $steady")
  startup[$mode]=$(calc %.2f "${tick_warm[$mode]} / $hz")
  files[$mode]=$(find "$work/out-$mode" -name '*.pb.gz' | wc -l)
  logged[$mode]=$(sed -n 's/.*stopped: \([0-9]*\) profiles written.*/\1/p' "$work/agent-$mode.log")
  # Every profile merged: "... of N total".
  samples[$mode]=$(go tool pprof -top -sample_index=samples "$work/out-$mode"/*.pb.gz 2>/dev/null |
    sed -n 's/.* of \([0-9]*\) total.*/\1/p' | head -1)
  read -r rt rc <<< "${bpf[$mode]}"
  bpf_s[$mode]=$(calc %.3f "$rt / 1e9")
  bpf_pct[$mode]=$(calc %.3f "100 * $rt / 1e9 / ${wall[$mode]}")
  bpf_us[$mode]=$(calc %.2f "$rc ? $rt / $rc / 1000 : 0")
done
read -r pr_user pr_sys pr_wall pr_rss < "$work/perf-record.time"
read -r ps_user ps_sys ps_wall ps_rss < "$work/perf-script.time"
pr_cpu=$(calc %.2f "$pr_user + $pr_sys")
ps_cpu=$(calc %.2f "$ps_user + $ps_sys")
pf_cpu=$(calc %.2f "$pr_cpu + $ps_cpu")
perf_samples=$(awk '/^cpu-clock stats:/ { s = 1 } s && /SAMPLE events:/ { print $3; exit }' "$work/perf.stats")
[ -n "$perf_samples" ] || perf_samples=$(awk '/SAMPLE events:/ { print $3; exit }' "$work/perf.stats")
perf_lost=$(awk '/LOST(_SAMPLES)? events:/ { s += $3 } END { print s + 0 }' "$work/perf.stats")
perf_bytes=$(stat -c %s "$work/perf.data")
expected=$(calc %.0f "99 * $(nproc) * $window")
mib() { calc %.1f "$1 / 1024"; }
# The workload: CPU over the window, per process (min / max) and in all.
load_min=$(printf '%s\n' "${load_cpu[@]}" | sort -n | head -1)
load_max=$(printf '%s\n' "${load_cpu[@]}" | sort -n | tail -1)
load_share=$(calc %.1f "100 * ($load_end - $load_warm) / $hz / $steady / $(nproc)")

echo "Agent cost, whole machine at 99 Hz, ${window} s window, $(nproc) CPUs, kernel $(uname -r)"
echo "workload: $nprocs busy processes ($n_fp calltree_fp, $n_nofp calltree_nofp, $n_py python3 loops);" \
     "$runnable/$nprocs runnable at ${warm} s, $alive alive at the end;" \
     "CPU each $(calc %.1f "$load_min / $hz")-$(calc %.1f "$load_max / $hz") s;" \
     "${load_share}% of the machine after ${warm} s; $(perf --version)"
echo "all three at once: agent --unwind fp, agent --unwind dwarf (--interval ${interval}s --output-dir), perf record -a -g"
echo
echo "| measure | agent --unwind fp | agent --unwind dwarf | perf record -a -g -F 99 + perf script | target (fp) |"
echo "|---|---|---|---|---|"
echo "| samples (profiles / perf.data; ~$expected in the window if every CPU is busy; the agents run a little longer) | ${samples[fp]:-?} | ${samples[dwarf]:-?} | $perf_samples (lost $perf_lost) | |"
echo "| samples per second of wall time (99 x $(nproc) CPUs = $((99 * $(nproc)))) | $(calc %.1f "${samples[fp]:-0} / ${wall[fp]}") | $(calc %.1f "${samples[dwarf]:-0} / ${wall[dwarf]}") | $(calc %.1f "$perf_samples / $pr_wall") | |"
echo "| profiles written (files; agent's count) | ${files[fp]} (${logged[fp]:-?}) | ${files[dwarf]} (${logged[dwarf]:-?}) | 1 file, $(mib $((perf_bytes / 1024))) MiB | |"
echo "| CPU, whole life (user + sys) | ${cpu[fp]} s (${user[fp]} + ${sys[fp]}) | ${cpu[dwarf]} s (${user[dwarf]} + ${sys[dwarf]}) | record ${pr_cpu} s (${pr_user} + ${pr_sys}) + script ${ps_cpu} s (${ps_user} + ${ps_sys}) = ${pf_cpu} s | |"
echo "| % of one core, whole life (CPU / wall) | ${life_pct[fp]}% (${wall[fp]} s) | ${life_pct[dwarf]}% (${wall[dwarf]} s) | record $(calc %.3f "100 * $pr_cpu / $pr_wall")%; with script $(calc %.3f "100 * $pf_cpu / $pr_wall")% | < 1% |"
echo "| % of one core, steady (${warm} s to the end, /proc/PID/stat) | ${steady_pct[fp]}% | ${steady_pct[dwarf]}% | - | < 1% |"
echo "| CPU in the first ${warm} s (startup) | ${startup[fp]} s | ${startup[dwarf]} s | - | |"
echo "| user-space CPU per sample | $(calc %.1f "${samples[fp]:-0} ? ${cpu[fp]} * 1e6 / ${samples[fp]} : 0") us | $(calc %.1f "${samples[dwarf]:-0} ? ${cpu[dwarf]} * 1e6 / ${samples[dwarf]} : 0") us | $(calc %.1f "$perf_samples ? $pf_cpu * 1e6 / $perf_samples : 0") us | |"
echo "| peak RSS, VmHWM before SIGTERM (VmRSS) | $(mib "${hwm[fp]}") MiB ($(mib "${rss[fp]}")) | $(mib "${hwm[dwarf]}") MiB ($(mib "${rss[dwarf]}")) | - | |"
echo "| peak RSS, whole life (time's max RSS) | $(mib "${maxrss[fp]}") MiB | $(mib "${maxrss[dwarf]}") MiB | record $(mib "$pr_rss") MiB, script $(mib "$ps_rss") MiB | < 64 MiB |"
echo "| BPF program time, charged to the sampled tasks | ${bpf_s[fp]} s, ${bpf_pct[fp]}% of a core, ${bpf_us[fp]} us/run | ${bpf_s[dwarf]} s, ${bpf_pct[dwarf]}% of a core, ${bpf_us[dwarf]} us/run | (perf's sampling in the kernel: not measured) | |"
echo "| perf script wall time | - | - | ${ps_wall} s | |"
echo
verdict() { if awk "BEGIN { exit !($2) }"; then echo "met: $1"; else echo "not met: $1"; fi; }
verdict "fp agent CPU ${life_pct[fp]}% of one core over its whole life < 1% (steady ${steady_pct[fp]}%; BPF adds ${bpf_pct[fp]}%)" \
  "${life_pct[fp]} < 1 && ${steady_pct[fp]} < 1"
verdict "fp agent peak RSS $(mib "${maxrss[fp]}") MiB < 64 MiB" "${maxrss[fp]} < 65536 && ${hwm[fp]} < 65536"
echo "(dwarf agent, reported beside: ${life_pct[dwarf]}% of one core, steady ${steady_pct[dwarf]}%, peak RSS $(mib "${maxrss[dwarf]}") MiB)"

# Anything a tool warned about.
warn=$(grep -hiE 'warn|lost|error|fail|drop' "$work/agent-fp.log" "$work/agent-dwarf.log" \
         "$work/perf-record.log" "$work/perf-script.log" 2>/dev/null | sort | uniq -c || true)
for mode in fp dwarf; do
  [ "${files[$mode]}" = "${logged[$mode]:-}" ] ||
    warn+=$'\n'"agent --unwind $mode: ${files[$mode]} files, but it says ${logged[$mode]:-?} written (retention?)"
done
[ "$runnable" -ge $((nprocs * 9 / 10)) ] || warn+=$'\n'"only $runnable of $nprocs busy processes runnable at ${warm} s"
[ "$alive" = "$nprocs" ] || warn+=$'\n'"only $alive of $nprocs busy processes alive at the end"
warn=$(sed '/^$/d' <<< "$warn")
if [ -n "$warn" ]; then echo; echo "warnings:"; echo "$warn"; fi
