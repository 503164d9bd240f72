#!/usr/bin/env bash
# A Go program built here with Debian's Go toolchain: its hot function is
# named, with the inlined helper as its own frame. (Go keeps frame
# pointers, but a leaf function without a stack frame sets none up, so
# frame-pointer unwinding skips its caller: main.main is not asserted.)
source "$(dirname "$0")/lib.sh"
require_bpf

export GOCACHE=$WORK/gocache GOPATH=$WORK/gopath GOFLAGS=-buildvcs=false GO111MODULE=off
go build -o "$WORK/gohot" "$(dirname "$0")/fixtures/gohot.go" || fail "go build failed"
out=$WORK/go.pb.gz
"$BPFPROF" record -o "$out" -- "$WORK/gohot" 2 > "$WORK/go.pid" || fail "record failed"
pid=$(cat "$WORK/go.pid")
pprof_check "$out"
pprof_traces "$out" | user_traces > "$WORK/traces"
mine=$(sum_traces "\$2 == \"pid=$pid\"" "$WORK/traces")
hot=$(sum_traces "\$2 == \"pid=$pid\" && \$3 ~ /^(main\\.mix;)?main\\.hotLoop;/" "$WORK/traces")
echo "go pid $pid: $mine samples, $hot in main.hotLoop"
go tool pprof -top -sample_index=samples "$out" 2>/dev/null | head -10
[ "$mine" -ge 150 ] || fail "only $mine samples of the Go program"
[ $((hot * 100)) -ge $((mine * 90)) ] || fail "only $hot of $mine samples in main.hotLoop"
grep -q 'main.mix' "$WORK/traces" || fail "the inlined main.mix is not a frame of its own"
pass "Go hot function named"
