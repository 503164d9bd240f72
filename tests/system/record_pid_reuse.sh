#!/usr/bin/env bash
# A pid reused by another process gets that process's symbols (issue 11,
# item 9). The call-tree fixture runs and exits; the next pid the kernel
# hands out is forced back to its pid (ns_last_pid) and python3 forks a
# child with it, in the same recording. The child's samples must be named
# with its own binary, not the call tree's: bpfprof used to keep the first
# process's mappings for the pid, because nothing told it the pid had been
# reused (the BPF side announced each pid once, and only exec undid that).
# And the first process's samples keep its own names too, though they are
# symbolized after the pid changed hands: samples carry the start time.
source "$(dirname "$0")/lib.sh"
require_bpf
[ -w /proc/sys/kernel/ns_last_pid ] || skip_or_fail "cannot write /proc/sys/kernel/ns_last_pid"

"$BPFPROF" record -d 6 -o "$WORK/reuse.pb.gz" 2> "$WORK/record.log" &
rec=$!
sleep 1
"$FIXTURES/calltree_fp" 1.5 > "$WORK/first.pid"
first=$(cat "$WORK/first.pid")
# A fork without exec (a pre-forking server's worker), so no exec tells
# anyone the pid has a new owner.
/usr/bin/python3 - "$first" > "$WORK/second.pid" <<'PY' || fail "could not have pid $first reused"
import os, sys, time
want = int(sys.argv[1])
for _ in range(200):
    with open("/proc/sys/kernel/ns_last_pid", "w") as f:
        f.write(str(want - 1))
    pid = os.fork()
    if pid == 0:
        if os.getpid() == want:
            t = time.time() + 2.5
            while time.time() < t:
                sum(i * i for i in range(1000))
        os._exit(0)
    os.waitpid(pid, 0)
    if pid == want:
        print(pid)
        sys.exit(0)
sys.exit(1)
PY
wait "$rec" || fail "record failed: $(cat "$WORK/record.log")"
pprof_check "$WORK/reuse.pb.gz"
pprof_traces "$WORK/reuse.pb.gz" > "$WORK/traces"
a_total=$(pid_samples "$WORK/traces" "$first" '' calltree_fp)
a_named=$(pid_samples "$WORK/traces" "$first" ';main' calltree_fp)
b_total=$(pid_samples "$WORK/traces" "$first" '' python3)
b_named=$(pid_samples "$WORK/traces" "$first" 'Py.*;Py_BytesMain' python3)
b_wrong=$(pid_samples "$WORK/traces" "$first" '(^|;)(a|b|work);' python3)
echo "pid $first: calltree_fp $a_named of $a_total samples down to main; then a forked python3 $b_named of $b_total in Python under Py_BytesMain, $b_wrong named after calltree_fp"
[ "$a_total" -ge 20 ] && [ $((a_named * 10)) -ge $((a_total * 9)) ] ||
  fail "the first process lost its names to the second ($a_named of $a_total)"
[ "$b_total" -ge 20 ] || fail "only $b_total samples of the second process"
[ "$b_wrong" = 0 ] || fail "$b_wrong samples of the second process carry the first one's functions"
[ $((b_named * 10)) -ge $((b_total * 9)) ] || fail "the second process is not symbolized with its own binary"
pass "a reused pid is symbolized as the new process"
