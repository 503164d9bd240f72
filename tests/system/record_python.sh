#!/usr/bin/env bash
# Debian's python3 (no frame pointers anywhere): >= 90% of its samples have
# a root frame in the start-up path (_start, __libc_start_main or main),
# not a raw address: the whole native stack was unwound.
source "$(dirname "$0")/lib.sh"
require_bpf
py=/usr/bin/python3
[ -x "$py" ] || skip_or_fail "Debian's python3 is missing: run scripts/setup"

out=$WORK/python.pb.gz
"$BPFPROF" record -o "$out" -- "$py" -c '
import time
def fib(n): return n if n < 2 else fib(n - 1) + fib(n - 2)
end = time.time() + 3
while time.time() < end: fib(18)
' || fail "record failed"
pprof_check "$out"
pprof_traces "$out" > "$WORK/traces"
total=$(sum_traces '$4 ~ /^comm=python3/' "$WORK/traces")
rooted=$(sum_traces '$4 ~ /^comm=python3/ && $3 ~ /(^|;)(_start|__libc_start_main|main)$/' "$WORK/traces")
truncated=$(sum_traces '$4 ~ /^comm=python3/ && $3 ~ /\[truncated\]$/' "$WORK/traces")
echo "python3: $rooted of $total samples rooted in the start-up path; $truncated truncated"
awk -F'\t' '$4 ~ /^comm=python3/ { n = split($3, f, ";"); print f[n] }' "$WORK/traces" |
  sort | uniq -c | sort -rn | head -5
[ "$total" -ge 250 ] || fail "only $total samples of python3"
[ $((rooted * 100)) -ge $((total * 90)) ] || fail "only $rooted of $total samples rooted"
pass "python3 stacks unwound to their roots"
