#!/usr/bin/env bash
# Code a process maps after bpfprof read its mappings:
#  1. python3 spins for 1.5 s (so bpfprof reads its mappings), then dlopens
#     a library and spends 2.5 s in it. An address outside every known
#     mapping makes bpfprof read the process's mappings again; it used to
#     leave every frame of the late library unnamed.
#  2. late_caller (no frame pointers) spins 0.5 s, dlopens the library and
#     spins in itself again, called back through the library's late_call:
#     no sample's pc is in the library, only a caller's is. A DWARF walk
#     that meets a pc outside the known mappings is retried with the maps
#     read again; it used to stop there for every sample.
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

out=$WORK/late_call.pb.gz
"$BPFPROF" record --unwind dwarf -o "$out" -- "$FIXTURES/late_caller" "$FIXTURES/liblate.so" 2.5 \
  2> "$WORK/record.log" || fail "record late_caller failed: $(cat "$WORK/record.log")"
pprof_check "$out"
pprof_traces "$out" > "$WORK/traces"
called=$(sum_traces '$3 ~ /^spin;late_call;/' "$WORK/traces")
whole=$(sum_traces '$3 ~ /^spin;late_call;main;(.*;)?(_start|__libc_start_main[_a-z]*)$/' "$WORK/traces")
echo "late_caller: $called samples in spin called back through late_call, $whole of them rooted"
awk -F'\t' '$3 ~ /^spin;/ && $3 !~ /^spin;late_call;main;/ { print "  other: " $3 }' "$WORK/traces" | sort | uniq -c | sort -rn | head -3
[ "$called" -ge 180 ] || fail "only $called samples of spin pass through late_call (want >= 180 of ~250)"
[ $((whole * 100)) -ge $((called * 95)) ] || fail "only $whole of $called late_call stacks reach __libc_start_main"
pass "a library loaded after the first sample is symbolized and unwound through"
