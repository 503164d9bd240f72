#!/usr/bin/env bash
# DWARF unwinding of user stacks from snapshots, on code without frame
# pointers:
#  1. the call-tree fixture built -O2 -fomit-frame-pointer: >= 95% of
#     samples have a|b -> work -> main, shares within 5 points; the same
#     with --unwind fp must miss that bar (the unwinder does the work);
#  2. a thread made by pthread_create unwinds to start_thread and clone3;
#  3. kernel and user frames in one sample, kernel frames on top;
#  4. a stack whose sp is near its page's start, the page below never
#     touched (fixtures/stack_edge.S): its snapshot keeps the stack.
source "$(dirname "$0")/lib.sh"
require_bpf

# complete_share FILE: "COMPLETE TOTAL a% b%" for the call-tree fixture.
complete_share() {
  pprof_traces "$1" | user_traces > "$WORK/traces"
  go tool pprof -top -sample_index=samples "$1" 2>/dev/null > "$WORK/top"
  local total complete a b
  total=$(sum_traces 1 "$WORK/traces")
  complete=$(sum_traces '$3 ~ /^(a|b);work;main(;|$)/' "$WORK/traces")
  a=$(awk '$NF == "a" { sub(/%/, "", $2); print $2 }' "$WORK/top")
  b=$(awk '$NF == "b" { sub(/%/, "", $2); print $2 }' "$WORK/top")
  echo "$complete $total ${a:-0} ${b:-0}"
}

out=$WORK/dwarf.pb.gz
"$BPFPROF" record --unwind dwarf -o "$out" -- "$FIXTURES/calltree_nofp" 10 > /dev/null ||
  fail "record --unwind dwarf failed"
pprof_check "$out"
read -r complete total a b < <(complete_share "$out")
echo "dwarf: $complete of $total samples complete; a=$a% b=$b%"
[ "$total" -ge 891 ] || fail "only $total samples"
[ $((complete * 100)) -ge $((total * 95)) ] || fail "dwarf: only $complete of $total samples complete"
awk -v a="$a" -v b="$b" 'BEGIN { exit !(a >= 61.67 && a <= 71.67 && b >= 28.33 && b <= 38.33) }' ||
  fail "dwarf: shares a=$a% b=$b%, want 66.7 and 33.3 within 5 points"

out=$WORK/fp.pb.gz
"$BPFPROF" record --unwind fp -o "$out" -- "$FIXTURES/calltree_nofp" 2 > /dev/null ||
  fail "record --unwind fp failed"
pprof_check "$out"
read -r complete total a b < <(complete_share "$out")
echo "fp (expected to fail the bar): $complete of $total samples complete"
[ $((complete * 100)) -lt $((total * 95)) ] ||
  fail "--unwind fp got $complete of $total complete stacks: the fixture has frame pointers?"

# 2. Threads.
out=$WORK/threads.pb.gz
"$BPFPROF" record -o "$out" -- "$FIXTURES/threads_nofp" 2 || fail "record (threads) failed"
pprof_check "$out"
pprof_traces "$out" > "$WORK/traces"
total=$(sum_traces 1 "$WORK/traces")
whole=$(sum_traces '$3 ~ /(^|;)spin;thread_main;start_thread;clone3$/' "$WORK/traces")
echo "threads: $whole of $total samples end spin;thread_main;start_thread;clone3"
[ "$total" -ge 150 ] || fail "only $total samples of the thread"
[ $((whole * 100)) -ge $((total * 95)) ] || fail "only $whole of $total thread samples end at clone3"

# 3. Kernel on top of user: dd reading /dev/zero.
out=$WORK/kernel.pb.gz
"$BPFPROF" record -o "$out" -- dd if=/dev/zero of=/dev/null bs=64k count=2000000 2> /dev/null ||
  fail "record (dd) failed"
pprof_check "$out"
pprof_traces "$out" > "$WORK/traces"
total=$(sum_traces '$4 == "comm=dd"' "$WORK/traces")
# dd is stripped: its own frames are "[dd]"; libc's have names.
both=$(sum_traces '$4 == "comm=dd" && $3 ~ /(^|;)vfs_read;.*;(__libc_read|read);.*;__libc_start_main;/' "$WORK/traces")
echo "dd: $both of $total samples have vfs_read above libc's read above __libc_start_main"
[ "$total" -ge 50 ] || fail "only $total samples of dd"
[ $((both * 100)) -ge $((total * 50)) ] || fail "only $both of $total samples join kernel and user frames"

# 4. The red zone in a page not present.
"$FIXTURES/stack_edge" &
edge=$!
CHILDREN+=("$edge")
out=$WORK/edge.pb.gz
"$BPFPROF" record --unwind dwarf -d 2 -p "$edge" -o "$out" 2> /dev/null || fail "record (stack_edge) failed"
pprof_check "$out"
pprof_traces "$out" | user_traces > "$WORK/traces"
total=$(pid_samples "$WORK/traces" "$edge")
whole=$(pid_samples "$WORK/traces" "$edge" '^spin;_start$')
echo "stack_edge: $whole of $total samples are spin;_start"
[ "$total" -ge 50 ] || fail "only $total samples of stack_edge"
[ $((whole * 100)) -ge $((total * 95)) ] || fail "only $whole of $total stack_edge samples unwound to _start"
pass "DWARF unwinding: call tree, threads, kernel + user, red zone in a page not present"
