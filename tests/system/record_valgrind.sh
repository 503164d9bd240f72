#!/usr/bin/env bash
# A whole-machine recording under valgrind: no invalid access, no leak.
# (valgrind.supp covers bpf(2) attr fields valgrind does not know.)
source "$(dirname "$0")/lib.sh"
require_bpf
command -v valgrind >/dev/null || skip_or_fail "valgrind is missing: run scripts/setup"

start_calltree 4
out=$WORK/vg.pb.gz
valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite,indirect \
  --error-exitcode=99 --suppressions="$(dirname "$0")/valgrind.supp" \
  "$BPFPROF" record -d 2 -o "$out" 2> "$WORK/vg.log"
rc=$?
cat "$WORK/vg.log"
[ "$rc" -eq 0 ] || fail "bpfprof under valgrind exited $rc"
pprof_check "$out"
pass "clean under valgrind"
