#!/usr/bin/env bash
# System-wide `bpfprof record -d 3` while the fixture runs: the fixture's
# pid carries 99 Hz x 3 s +-10% samples. Then `-p PID` keeps only that pid.
source "$(dirname "$0")/lib.sh"
require_bpf

start_calltree 6
sleep 0.5
out=$WORK/all.pb.gz
"$BPFPROF" record -d 3 -o "$out" || fail "record -d 3 failed"
pprof_check "$out"
pprof_traces "$out" > "$WORK/traces"
mine=$(sum_traces "\$2 == \"pid=$FIXTURE_PID\"" "$WORK/traces")
others=$(sum_traces "\$2 != \"pid=$FIXTURE_PID\"" "$WORK/traces")
echo "fixture pid $FIXTURE_PID: $mine samples; other processes: $others"
[ "$mine" -ge 267 ] && [ "$mine" -le 327 ] || fail "$mine samples for the fixture, want 297 +-10%"

# -p: only the named process, while another one burns CPU too.
kill "$FIXTURE_PID"; wait "$FIXTURE_PID" 2>/dev/null
start_calltree 5
other=$FIXTURE_PID
start_calltree 5
sleep 0.3
out=$WORK/pid.pb.gz
"$BPFPROF" record --unwind fp -p "$FIXTURE_PID" -d 2 -o "$out" || fail "record -p failed"
pprof_check "$out"
pprof_traces "$out" > "$WORK/traces"
mine=$(sum_traces "\$2 == \"pid=$FIXTURE_PID\"" "$WORK/traces")
others=$(sum_traces "\$2 != \"pid=$FIXTURE_PID\"" "$WORK/traces")
echo "-p $FIXTURE_PID: $mine samples; others (incl. $other): $others"
[ "$others" -eq 0 ] || fail "-p $FIXTURE_PID let $others samples of other processes in"
[ "$mine" -ge 178 ] && [ "$mine" -le 218 ] || fail "$mine samples with -p, want 2 s x 99 Hz = 198 +-10%"
pass "system-wide and -p sample counts"
