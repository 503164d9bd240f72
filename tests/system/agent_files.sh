#!/usr/bin/env bash
# `bpfprof agent` in files mode:
#  1. two services for 3+ intervals of 2 s: one profile per service per
#     interval, each readable by go tool pprof, named by service and start;
#  2. nothing lost at rollover: the fixture's samples over all its files sum
#     to 99 Hz x the CPU time it used while the agent ran, +-5% (its CPU
#     time, not the wall clock: the agent's start-up takes CPU too); and a
#     second fixture, run whole under `bpfprof record -- CMD` while the
#     agent runs, has as many samples in the agent's files as in that one
#     long record, +-5%;
#  3. SIGTERM writes the interval in progress and exits 0;
#  4. retention keeps exactly --retain-files profiles, and no partial file
#     is ever visible under a profile's name.
source "$(dirname "$0")/lib.sh"
require_bpf

out=$WORK/profiles
start_calltree 12
calltree=$FIXTURE_PID
"$FIXTURES/threads_nofp" 12 & threads=$!
CHILDREN+=("$threads")
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
ls "$out" | grep -vE '^[A-Za-z0-9._-]+-[0-9]{8}T[0-9]{6}Z(-[1-9][0-9]*)?\.pb\.gz$' &&
  fail "files not named SERVICE-YYYYmmddTHHMMSSZ[-N].pb.gz"

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

# The same process in one long record and in the agent's intervals, alone
# on the machine: where processes share a CPU, which one each of two
# samplers' ticks lands on is noise of its own.
kill "$calltree" "$threads"; wait "$calltree" "$threads" 2>/dev/null
"$BPFPROF" agent --interval 1s --output-dir "$WORK/both" 2> "$WORK/agent.log" &
agent=$!
CHILDREN+=("$agent")
for _ in $(seq 500); do grep -q 'profiling every' "$WORK/agent.log" && break; sleep 0.01; done
"$BPFPROF" record -o "$WORK/long.pb.gz" -- "$FIXTURES/calltree_fp" 4 > "$WORK/long.pid" \
  2> "$WORK/record.log" || fail "record failed: $(cat "$WORK/record.log")"
kill -TERM "$agent"; wait "$agent" || fail "agent exited $?"
long_pid=$(cat "$WORK/long.pid")
pprof_check "$WORK/long.pb.gz"
in_record=$(pprof_traces "$WORK/long.pb.gz" | sum_traces "\$2 == \"pid=$long_pid\"" /dev/stdin)
in_agent=0
for f in "$WORK"/both/calltree_fp-*.pb.gz; do
  in_agent=$((in_agent + $(pprof_traces "$f" | sum_traces "\$2 == \"pid=$long_pid\"" /dev/stdin)))
done
echo "pid $long_pid: $in_record samples in one long record, $in_agent over the agent's intervals"
[ "$in_record" -ge 300 ] || fail "only $in_record samples in the record of a 4 s fixture"
awk -v n="$in_agent" -v w="$in_record" 'BEGIN { exit !(n >= w * 0.95 && n <= w * 1.05) }' ||
  fail "agent $in_agent vs record $in_record samples of the same process"

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
