#!/usr/bin/env bash
# A workload that lives in the kernel (dd reading /dev/zero) shows kernel
# function names: most samples pass through vfs_read, in [kernel.kallsyms].
source "$(dirname "$0")/lib.sh"
require_bpf

dd if=/dev/zero of=/dev/null bs=1M count=10000000 2>/dev/null &
dd_pid=$!
CHILDREN+=("$dd_pid")
sleep 0.3
out=$WORK/kernel.pb.gz
"$BPFPROF" record -p "$dd_pid" -d 2 -o "$out" || fail "record failed"
pprof_check "$out"
grep -q '\[kernel.kallsyms\]' "$WORK/raw.txt" || fail "no [kernel.kallsyms] mapping"
pprof_traces "$out" > "$WORK/traces"
total=$(sum_traces 1 "$WORK/traces")
in_read=$(sum_traces '$3 ~ /(^|;)vfs_read(;|$)/' "$WORK/traces")
echo "dd: $total samples, $in_read through vfs_read"
go tool pprof -top -sample_index=samples "$out" 2>/dev/null | head -12
[ "$total" -ge 150 ] || fail "only $total samples of dd"
[ $((in_read * 100)) -ge $((total * 50)) ] || fail "only $in_read of $total samples name vfs_read"
pass "kernel functions named"
