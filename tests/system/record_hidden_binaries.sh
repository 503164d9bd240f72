#!/usr/bin/env bash
# Binaries the host cannot open by their path still resolve, because the
# symbolizer opens what the process maps (/proc/PID/map_files):
#  1. a binary deleted while it runs ("(deleted)" in its maps);
#  2. a binary that exists only inside a private mount namespace.
source "$(dirname "$0")/lib.sh"
require_bpf
command -v unshare >/dev/null || skip_or_fail "unshare (util-linux) is missing"

# expect_named TRACES PID WHAT: >= 95% of PID's samples are a|b;work;main.
expect_named() {
  local mine named
  mine=$(sum_traces "\$2 == \"pid=$2\"" "$1")
  named=$(sum_traces "\$2 == \"pid=$2\" && \$3 ~ /^(a|b);work;main(;|$)/" "$1")
  echo "$3: pid $2, $mine samples, $named symbolized down to main"
  [ "$mine" -ge 80 ] || fail "$3: only $mine samples"
  [ $((named * 100)) -ge $((mine * 95)) ] || fail "$3: only $named of $mine samples symbolized"
}

# 1. Deleted while running.
cp "$FIXTURES/calltree_fp" "$WORK/deleted_prog"
"$WORK/deleted_prog" 4 > /dev/null &
pid=$!
CHILDREN+=("$pid")
sleep 0.3
rm "$WORK/deleted_prog"
grep -q 'deleted_prog (deleted)' "/proc/$pid/maps" || fail "the binary is not shown deleted"
"$BPFPROF" record -p "$pid" -d 1.5 -o "$WORK/deleted.pb.gz" || fail "record (deleted) failed"
pprof_check "$WORK/deleted.pb.gz"
pprof_traces "$WORK/deleted.pb.gz" > "$WORK/traces"
expect_named "$WORK/traces" "$pid" "deleted binary"

# 2. Only inside a private mount namespace: a tmpfs mounted over $WORK/ns.
mkdir "$WORK/ns"
"$BPFPROF" record -o "$WORK/ns.pb.gz" -- unshare -m --propagation private sh -c "
  mount -t tmpfs none '$WORK/ns' && cp '$FIXTURES/calltree_fp' '$WORK/ns/prog' &&
  exec '$WORK/ns/prog' 1.5 > '$WORK/ns.pid'" || fail "record (namespace) failed"
[ ! -e "$WORK/ns/prog" ] || fail "the namespaced binary is visible on the host"
pprof_check "$WORK/ns.pb.gz"
pprof_traces "$WORK/ns.pb.gz" > "$WORK/traces"
expect_named "$WORK/traces" "$(cat "$WORK/ns.pid")" "binary in a mount namespace"
pass "deleted and namespaced binaries resolve"
