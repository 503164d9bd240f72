#!/usr/bin/env bash
# `bpfprof record -- COMMAND` on the call-tree fixture (main -> work ->
# {a: 2/3, b: 1/3}, frame pointers): shares within 5 points of the truth,
# >= 95% of samples with the whole chain down to main, the command's exit
# status passed through, `go tool pprof` reads the file, and the command's
# executable is the profile's first mapping (pprof's main binary), even
# when most samples are in the kernel (dd).
source "$(dirname "$0")/lib.sh"
require_bpf

out=$WORK/cmd.pb.gz
# 10 s: ~990 samples, so the shares' sampling noise (sd ~1.5 points) stays
# well inside the 5-point bar.
"$BPFPROF" record -o "$out" -- "$FIXTURES/calltree_fp" 10 7 > /dev/null 2> "$WORK/err"
rc=$?
cat "$WORK/err"
[ "$rc" -eq 7 ] || fail "bpfprof exited $rc, want the command's status 7"
grep -qE '^bpfprof: [0-9]+ samples, [0-9]+ processes, 0 dropped .* wrote '"$out"'$' "$WORK/err" ||
  fail "no summary line"
pprof_check "$out"

# Shares from -top: the flat% column of a and b.
go tool pprof -top -sample_index=samples "$out" 2>/dev/null > "$WORK/top"
cat "$WORK/top"
share() { awk -v f="$1" '$NF == f { sub(/%/, "", $2); print $2 }' "$WORK/top"; }
a=$(share a); b=$(share b)
[ -n "$a" ] && [ -n "$b" ] || fail "a or b missing from -top"
awk -v a="$a" -v b="$b" 'BEGIN { exit !(a >= 61.67 && a <= 71.67 && b >= 28.33 && b <= 38.33) }' ||
  fail "shares a=$a% b=$b%, want 66.7 and 33.3 within 5 points"

pprof_traces "$out" | user_traces > "$WORK/traces"
total=$(sum_traces 1 "$WORK/traces")
complete=$(sum_traces '$3 ~ /^(a|b);work;main(;|$)/' "$WORK/traces")
echo "samples: $total, complete a|b;work;main: $complete"
[ "$total" -ge 891 ] && [ "$total" -le 1089 ] || fail "$total samples, want 10 s x 99 Hz = 990 +-10%"
[ $((complete * 100)) -ge $((total * 95)) ] || fail "only $complete of $total samples have a|b -> work -> main"
dd=$(command -v dd)
"$BPFPROF" record -o "$WORK/dd.pb.gz" -- "$dd" if=/dev/zero of=/dev/null bs=1M count=4000 \
  2> "$WORK/dd.err" || { cat "$WORK/dd.err"; fail "record -- dd failed"; }
first=$(go tool pprof -raw "$WORK/dd.pb.gz" 2>/dev/null | awk '/^Mappings/ { getline; print $3; exit }')
echo "dd: first mapping $first"
[ "$first" = "$(realpath "$dd")" ] || fail "the first mapping is $first, not the command's executable"
pass "record -- COMMAND: a=$a% b=$b%, $complete/$total complete stacks"
