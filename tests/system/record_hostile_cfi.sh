#!/usr/bin/env bash
# A local user's binary with a few MB of crafted CFI cannot stall bpfprof
# (issue 11, item 6). User nobody runs two static programs made here by
# fixtures/hostile_cfi.py, each function described by one FDE of a million
# rows or more (a new rule at every byte):
#  - wide: 2 FDEs of 1,000,000 rows (5.9 MB of .eh_frame), under the row cap:
#    its table is built, and its samples unwind through it to _start;
#  - huge: 3 FDEs of 1,500,000 rows (13 MB), over the cap (4 Mi rows): the
#    table is refused, said once, and its samples keep their leaf frame.
# `record --unwind dwarf -d 3 -p WIDE,HUGE` must finish within 20 s. The
# builder before this one asked libdw for each row, which re-ran the FDE's
# program from its start: O(rows^2), hours for wide alone (an FDE of 80k
# rows took 32 s); it did not stop on SIGTERM either.
source "$(dirname "$0")/lib.sh"
require_bpf
nobody_dir
command -v cc > /dev/null || fail "cc is missing"

gen=$(dirname "$0")/fixtures/hostile_cfi.py
for spec in "wide 2 1000000" "huge 3 1500000"; do
  read -r name fdes rows <<< "$spec"
  if ! python3 "$gen" "$WORK/$name" "$fdes" "$rows" ||
    ! cc -nostdlib -static -o "$UDIR/$name" "$WORK/$name.s"; then
    fail "could not build $name"
  fi
  chown nobody: "$UDIR/$name"
done
for name in wide huge; do
  size=$(readelf -SW "$UDIR/$name" |
    awk '{ for (i = 1; i < NF; i++) if ($i == ".eh_frame") print $(i + 4) }')
  echo "$name: .eh_frame of $((16#$size / 1024)) KiB"
done

"${AS_NOBODY[@]}" "$UDIR/wide" &
wide=$!
CHILDREN+=("$wide")
"${AS_NOBODY[@]}" "$UDIR/huge" &
huge=$!
CHILDREN+=("$huge")
sleep 0.5
[ "$(stat -c %U /proc/$wide)" = nobody ] || fail "wide does not run as nobody"

out=$WORK/p.pb.gz
start=$(date +%s.%N)
# (the old builder did not even stop on SIGTERM: -k)
timeout -k 10 60 "$BPFPROF" record --unwind dwarf -d 3 -p "$wide,$huge" -o "$out" 2> "$WORK/record.log"
rc=$?
took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
echo "record -d 3 took $took s (exit $rc)"
grep -q "AddressSanitizer\|runtime error" "$WORK/record.log" && fail "sanitizer: $(cat "$WORK/record.log")"
[ "$rc" = 0 ] || fail "record exited with $rc after $took s: $(tail -5 "$WORK/record.log")"
awk -v t="$took" 'BEGIN { exit !(t < 20) }' || fail "record -d 3 took $took s (bound: 20 s)"

grep "over the caps" "$WORK/record.log"
[ "$(grep -c "CFI of .*/huge not read: over the caps" "$WORK/record.log")" = 1 ] ||
  fail "huge's refused table is not said once: $(cat "$WORK/record.log")"
grep -q "CFI of .*/wide" "$WORK/record.log" && fail "wide's table was refused: $(cat "$WORK/record.log")"

pprof_check "$out"
pprof_traces "$out" | user_traces > "$WORK/traces"
w_all=$(pid_samples "$WORK/traces" "$wide")
w_whole=$(pid_samples "$WORK/traces" "$wide" '^f[01];_start$')
h_all=$(pid_samples "$WORK/traces" "$huge")
h_leaf=$(pid_samples "$WORK/traces" "$huge" '^f[012](;|$)')
echo "wide: $w_whole of $w_all samples are f0|f1 -> _start; huge: $h_leaf of $h_all have their leaf f0..f2"
# the machine may be busy: a few samples each are enough
[ "$w_all" -ge 20 ] || fail "only $w_all samples of wide"
[ $((w_whole * 100)) -ge $((w_all * 90)) ] || fail "only $w_whole of $w_all samples of wide unwound to _start"
[ "$h_all" -ge 20 ] || fail "only $h_all samples of huge"
[ $((h_leaf * 100)) -ge $((h_all * 90)) ] || fail "only $h_leaf of $h_all samples of huge keep their leaf"
pass "hostile CFI: 5 M rows of nobody's .eh_frame in $took s, one refused table said once"
