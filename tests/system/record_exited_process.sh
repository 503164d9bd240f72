#!/usr/bin/env bash
# A process that exits halfway through the recording is still symbolized:
# its mappings were captured while it was alive. Recorded with --unwind fp,
# so the in-kernel frame-pointer path keeps a test of its stacks too.
source "$(dirname "$0")/lib.sh"
require_bpf

out=$WORK/exited.pb.gz
"$BPFPROF" record --unwind fp -o "$out" -- sh -c "'$FIXTURES/calltree_fp' 1 > '$WORK/pid'; sleep 2" ||
  fail "record failed"
pid=$(cat "$WORK/pid")
pprof_check "$out"
pprof_traces "$out" | user_traces > "$WORK/traces"
mine=$(sum_traces "\$2 == \"pid=$pid\"" "$WORK/traces")
named=$(sum_traces "\$2 == \"pid=$pid\" && \$3 ~ /^(a|b);work;main(;|$)/" "$WORK/traces")
echo "exited pid $pid: $mine samples, $named symbolized down to main"
[ "$mine" -ge 80 ] || fail "only $mine samples for the 1 s process"
[ $((named * 100)) -ge $((mine * 95)) ] || fail "only $named of $mine samples symbolized"
pass "exited process symbolized"
