#!/usr/bin/env bash
# `bpfprof agent` in files mode:
#  1. two services for 3+ intervals of 2 s: one profile per service per
#     interval, each readable by go tool pprof, named by service and start;
#  2. nothing lost at rollover: the fixture's samples over all its files sum
#     to 99 Hz x the CPU time it used while the agent ran, +-5% (its CPU
#     time, not the wall clock: the agent's start-up takes CPU too);
#  3. SIGTERM writes the interval in progress and exits 0;
#  4. retention keeps exactly --retain-files profiles, and no partial file
#     is ever visible under a profile's name.
source "$(dirname "$0")/lib.sh"
require_bpf

out=$WORK/profiles
start_calltree 12
calltree=$FIXTURE_PID
"$FIXTURES/threads_nofp" 12 & CHILDREN+=($!)
sleep 0.3

# cpu_ticks PID: user + system clock ticks the process has used.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
"$BPFPROF" agent --interval 2s --output-dir "$out" 2> "$WORK/agent.log" &
agent=$!
CHILDREN+=("$agent")
for _ in $(seq 500); do grep -q 'profiling every' "$WORK/agent.log" && break; sleep 0.01; done
ticks0=$(cpu_ticks "$calltree")
sleep 7.2
ticks1=$(cpu_ticks "$calltree")
kill -TERM "$agent"
wait "$agent"; rc=$?
cat "$WORK/agent.log"
[ "$rc" -eq 0 ] || fail "agent exited $rc after SIGTERM, want 0"

for svc in calltree_fp threads_nofp; do
  n=$(find "$out" -name "$svc-*.pb.gz" | wc -l)
  echo "$svc: $n profiles"
  [ "$n" -ge 4 ] || fail "$svc has $n profiles, want 3 whole intervals + the last part"
done
ls "$out" | grep -vE '^[A-Za-z0-9._-]+-[0-9]{8}T[0-9]{6}Z\.pb\.gz$' &&
  fail "files not named SERVICE-YYYYmmddTHHMMSSZ.pb.gz"

# Samples of the call-tree fixture, interval by interval.
total=0
for f in $(ls "$out"/calltree_fp-*.pb.gz | sort); do
  pprof_check "$f"
  pprof_traces "$f" > "$WORK/traces"
  n=$(sum_traces "\$2 == \"pid=$calltree\"" "$WORK/traces")
  echo "  $(basename "$f"): $n samples"
  total=$((total + n))
done
want=$(awk -v a="$ticks0" -v b="$ticks1" -v hz="$(getconf CLK_TCK)" \
  'BEGIN { printf "%d", (b - a) / hz * 99 }')
echo "calltree_fp: $total samples over all intervals, want $want (99 Hz x its CPU time) +-5%"
awk -v n="$total" -v w="$want" 'BEGIN { exit !(n >= w * 0.95 && n <= w * 1.05) }' ||
  fail "samples lost or doubled at interval boundaries: $total vs $want"

# Retention.
rm -rf "$out"
"$BPFPROF" agent --interval 1s --retain-files 2 --service-name svc --output-dir "$out" \
  2> "$WORK/agent.log" &
agent=$!
CHILDREN+=("$agent")
for _ in $(seq 40); do # watch for partial files while it writes
  sleep 0.1
  ls "$out" 2>/dev/null | grep -vE '^(svc-[0-9]{8}T[0-9]{6}Z\.pb\.gz|\..*)$' && fail "unexpected file in $out"
done
kill -TERM "$agent"; wait "$agent" || fail "agent (retention) exited $?"
n=$(ls "$out" | wc -l)
echo "retention: $n files left: $(ls "$out" | tr '\n' ' ')"
[ "$n" -eq 2 ] || fail "$n files left, want exactly 2"
pass "agent: per-service interval profiles, nothing lost at rollover, retention"
