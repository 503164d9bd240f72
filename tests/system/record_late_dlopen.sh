#!/usr/bin/env bash
# Code a process maps after its first sample is symbolized: python3 spins
# for 1.5 s (so bpfprof reads its mappings), then dlopens a library and
# spends 2.5 s in it. An address outside every known mapping makes bpfprof
# read the process's mappings again (at most once a second); it used to
# leave every frame of the late library unnamed.
source "$(dirname "$0")/lib.sh"
require_bpf

/usr/bin/python3 -c '
import ctypes, sys, time
t = time.time() + 1.5
while time.time() < t:
    pass
ctypes.CDLL(sys.argv[1]).late_hot(ctypes.c_double(2.5))' "$FIXTURES/liblate.so" &
pid=$!
CHILDREN+=("$pid")
"$BPFPROF" record -d 5 -p "$pid" -o "$WORK/late.pb.gz" 2> "$WORK/record.log" ||
  fail "record failed: $(cat "$WORK/record.log")"
pprof_check "$WORK/late.pb.gz"
pprof_traces "$WORK/late.pb.gz" > "$WORK/traces"
total=$(sum_traces 1 "$WORK/traces")
late=$(sum_traces '$3 ~ /^late_hot(;|$)/' "$WORK/traces")
echo "pid $pid: $total samples, $late in late_hot (loaded 1.5 s after the start)"
[ "$late" -ge 40 ] || fail "the late library's function is not named ($late samples)"
pass "a library loaded after the first sample is symbolized"
