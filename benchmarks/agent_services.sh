#!/usr/bin/env bash
# agent_services.sh - does the agent's cost grow with services x samples?
# (issue 12)
#
# The same workload twice: NPROCS processes of tests/system/calltree_fp
# (frame pointers, so the agent runs with --unwind fp and the cost is the
# interval's drain and profiles, not unwinding), either all in one systemd
# unit's cgroup (system.slice/bench-one.service: one service) or each in
# its own (bench-N.service: NPROCS services). Each case runs for SECONDS,
# the two cases twice, interleaved (one, many, one, many), with the
# profiles written to a tmpfs: a file's fsync is a real per-service cost,
# but not the one measured here.
#
# Measured per run: the agent's CPU time (all its threads' schedstat)
# from the end of its first interval to the end of its last whole one
# (SECONDS / 10 s intervals; start-up and exit are left out), the samples
# of the profiles it wrote for the intervals in between (its -v log says
# how many each profile has), and their ratio, CPU ms per 1,000 samples. The target: the many-services case
# within 1.2x of the one-service case.
#
# Usage: benchmarks/agent_services.sh [BUILD_DIR] [SECONDS] [NPROCS]
#        (root, cgroup v2; defaults build, 40, 120; KEEP_WORK=1 keeps files)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
secs=${2:-40}
nprocs=${3:-120}
interval=10
bpfprof=$build/bpfprof
burner=$build/tests/system/calltree_fp
for f in "$bpfprof" "$burner"; do
  [ -x "$f" ] || { echo "missing $f: run scripts/build first" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "needs root" >&2; exit 1; }
if ! [[ $secs =~ ^[0-9]+$ ]] || [ "$secs" -lt $((2 * interval)) ]; then
  echo "SECONDS: a whole number >= $((2 * interval))" >&2; exit 2
fi
if ! [[ $nprocs =~ ^[0-9]+$ ]] || [ "$nprocs" -lt 2 ]; then
  echo "NPROCS: a whole number >= 2" >&2; exit 2
fi
cgroot=
for d in /sys/fs/cgroup /sys/fs/cgroup/unified; do
  [ "$(stat -f -c %T "$d" 2>/dev/null)" = cgroup2fs ] && cgroot=$d && break
done
[ -n "$cgroot" ] || { echo "no cgroup v2 hierarchy mounted" >&2; exit 1; }
slice=$cgroot/system.slice
made_slice=
[ -d "$slice" ] || { mkdir "$slice"; made_slice=1; }

work=$(mktemp -d /tmp/agent-services.XXXXXX)
mount -t tmpfs -o size=512m bench "$work"
mkfifo "$work/never"
exec {never}<> "$work/never"
pids=()
units=()
cleanup() {
  trap - EXIT INT TERM
  local p u
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for u in "${units[@]}"; do
    for _ in $(seq 50); do rmdir "$u" 2>/dev/null && break; sleep 0.1; done
  done
  [ -z "$made_slice" ] || rmdir "$slice" 2>/dev/null || true
  if [ -n "${KEEP_WORK:-}" ]; then
    cp -r "$work" "$work.kept"; echo "kept $work.kept" >&2
  fi
  exec {never}>&-
  umount "$work"; rmdir "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

unit() { # unit NAME: the unit's cgroup, made once
  local d=$slice/$1.service
  [ -d "$d" ] || { mkdir "$d"; units+=("$d"); }
  UNIT=$d
}

# cpu_ns PID: CPU_NS, the CPU time of all PID's threads in ns (the first
# field of each task's schedstat: exact, where stat's clock ticks are 10 ms).
cpu_ns() {
  local f t rest
  CPU_NS=0
  for f in /proc/"$1"/task/*/schedstat; do
    { read -r t rest < "$f"; } 2>/dev/null && CPU_NS=$((CPU_NS + t))
  done
  return 0
}

# wait_interval K LOG: until the agent has logged its K-th interval. Bash
# builtins only (a read with a timeout on a FIFO nobody writes to, for a
# sleep): each process forked while the agent runs is one it must
# symbolize, a cost of the benchmark, not of the services.
wait_interval() {
  local n l
  for _ in $(seq $(((secs + 2 * interval) * 10))); do
    n=0
    while IFS= read -r l; do [[ $l == 'bpfprof: interval of'* ]] && n=$((n + 1)); done < "$2"
    [ "$n" -ge "$1" ] && return 0
    read -r -t 0.1 -u "$never" _ || true
  done
  echo "interval $1 never written" >&2; cat "$2" >&2; exit 1
}

# run CASE N: one run; appends "CASE N cpu_s samples" to $work/results.
run() {
  local case=$1 n=$2 dir=$work/$1-$2 load=() i job agent intervals first_ns last_ns
  mkdir -p "$dir"
  for i in $(seq "$nprocs"); do
    if [ "$case" = one ]; then unit bench-one; else unit "bench-$i"; fi
    sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2" "$3"' sh "$UNIT" "$burner" \
      $((secs + 30)) > /dev/null & load+=($!); pids+=($!)
  done
  sleep 1
  "$bpfprof" agent --unwind fp -v \
    --interval "${interval}s" --output-dir "$dir/out" --retain-files 100000 \
    2> "$dir/log" & job=$!; pids+=($job)
  agent=$job
  for _ in $(seq 300); do grep -q 'profiling every' "$dir/log" && break; sleep 0.1; done
  grep -q 'profiling every' "$dir/log" || { cat "$dir/log" >&2; exit 1; }
  # the CPU between the end of the first interval and that of the last
  intervals=$((secs / interval))
  wait_interval 1 "$dir/log"; cpu_ns "$agent"; first_ns=$CPU_NS
  wait_interval "$intervals" "$dir/log"; cpu_ns "$agent"; last_ns=$CPU_NS
  kill -TERM "$agent"
  wait "$job" || { echo "$case: agent failed" >&2; cat "$dir/log" >&2; exit 1; }
  kill "${load[@]}" 2>/dev/null || true
  wait "${load[@]}" 2>/dev/null || true
  awk -v cpu=$((last_ns - first_ns)) -v c="$case" -v n="$n" -v last="$intervals" '
    /^bpfprof: interval of/ { intervals++; next }
    intervals >= 1 && intervals < last && /wrote the profile of/ {
      for (i = 1; i < NF; i++) if ($(i + 1) ~ /^samples/) s += $i }
    END { printf "%s %d %.4f %d\n", c, n, cpu / 1e9, s }' "$dir/log" >> "$work/results"
}

echo "agent --unwind fp, $nprocs x calltree_fp, ${secs} s a run, interval ${interval} s, profiles on tmpfs"
for n in 1 2; do
  run one "$n"
  run many "$n"
done
awk -v procs="$nprocs" '
  { per = $4 ? 1000 * $3 / $4 : 0; cost[$1] += per; runs[$1]++
    rows = rows sprintf("| %s (%s) | %d | %.3f | %d | %.2f |\n", $1 == "one" ? "1 service" : procs " services", $2, $1 == "one" ? 1 : procs, $3, $4, 1000 * per) }
  END {
    print "| case (run) | services | agent CPU, intervals 2 to last (s) | samples | CPU ms / 1000 samples |"
    print "|---|---|---|---|---|"
    printf "%s", rows
    one = cost["one"] / runs["one"]; many = cost["many"] / runs["many"]
    ratio = one ? many / one : 0
    printf "many / one: %.2fx (target <= 1.2x): %s\n", ratio, ratio <= 1.2 ? "met" : "not met"
  }' "$work/results"
