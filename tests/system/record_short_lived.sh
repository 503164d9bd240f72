#!/usr/bin/env bash
# Many short-lived processes (>= 200 of ~50 ms each) while recording: their
# samples are symbolized, because each process is snapshotted as soon as
# its first sample is seen, while it is still alive.
source "$(dirname "$0")/lib.sh"
require_bpf

out=$WORK/short.pb.gz
loop="for i in \$(seq 100); do '$FIXTURES/calltree_fp' 0.05 > /dev/null; done"
"$BPFPROF" record -o "$out" -- sh -c "($loop) & ($loop); wait" || fail "record failed"
pprof_check "$out"
pprof_traces "$out" > "$WORK/traces"
mine=$(sum_traces '$4 == "comm=calltree_fp"' "$WORK/traces")
# Named leaf: pprof shows an unresolved frame as "<unknown>" (no mapping)
# or "[object]" (mapping, no function).
named=$(sum_traces '$4 == "comm=calltree_fp" && $3 !~ /^(<|\[)/' "$WORK/traces")
pids=$(awk -F'\t' '$4 == "comm=calltree_fp" { print $2 }' "$WORK/traces" | sort -u | wc -l)
echo "short-lived: $pids processes, $mine samples, $named with a named leaf function"
[ "$pids" -ge 180 ] || fail "only $pids of 200 processes were sampled"
[ $((named * 100)) -ge $((mine * 90)) ] || fail "only $named of $mine samples named"
pass "short-lived processes symbolized"
