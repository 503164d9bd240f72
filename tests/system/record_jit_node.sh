#!/usr/bin/env bash
# JIT code: `node --perf-basic-prof` writes /tmp/perf-PID.map; bpfprof
# names the JavaScript function its samples spend their time in.
source "$(dirname "$0")/lib.sh"
require_bpf
command -v node >/dev/null || skip_or_fail "node is missing: run scripts/setup"

out=$WORK/node.pb.gz
# node runs in $WORK: what V8 writes to its working directory stays out of the tree.
js=$(realpath "$(dirname "$0")/fixtures/jit.js") bpfprof=$(realpath "$BPFPROF")
(cd "$WORK" && "$bpfprof" record -o "$out" -- node --perf-basic-prof "$js") \
  > "$WORK/node.pid" || fail "record failed"
pid=$(cat "$WORK/node.pid")
rm -f "/tmp/perf-$pid.map"
pprof_check "$out"
pprof_traces "$out" > "$WORK/traces"
mine=$(sum_traces "\$2 == \"pid=$pid\"" "$WORK/traces")
hot=$(sum_traces "\$2 == \"pid=$pid\" && \$3 ~ /hotJitFunction/" "$WORK/traces")
echo "node pid $pid: $mine samples, $hot in hotJitFunction"
go tool pprof -top -sample_index=samples "$out" 2>/dev/null | head -12
[ "$mine" -ge 100 ] || fail "only $mine samples of node"
[ $((hot * 100)) -ge $((mine * 60)) ] || fail "only $hot of $mine samples name hotJitFunction"
pass "JIT functions named from the perf map"
