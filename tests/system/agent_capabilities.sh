#!/usr/bin/env bash
# Least privilege: the agent runs as a dedicated non-root uid with exactly
# the capabilities docs/deploy/bpfprof-agent.service grants (the DaemonSet
# must grant the same), and each of them is needed:
#  1. with the set, and RLIMIT_MEMLOCK 0 (BPF maps are charged to the
#     memory cgroup: no CAP_SYS_RESOURCE), `agent` writes profiles (0600,
#     in a 0700 dir, owned by its uid) that go tool pprof reads, a spool
#     and /metrics; and names down to main, by itself (pprof
#     -symbolize=none): nobody's fixture run from a 0700 dir, a deleted
#     one of nobody's, root's fixture from a root-only dir; and the kernel
#     frames of nobody's dd (vfs_read);
#  2. without CAP_BPF or CAP_PERFMON, `agent` and `record` exit 1 with one
#     line naming the missing capability;
#  3. without one of the others, `record` still works but loses what that
#     capability is for (and warns, naming it): CAP_SYS_PTRACE and
#     CAP_DAC_READ_SEARCH other users' binaries, CAP_CHECKPOINT_RESTORE the
#     deleted binary (/proc/PID/map_files), CAP_SYSLOG the kernel's names.
source "$(dirname "$0")/lib.sh"
require_bpf
nobody_dir
deploy=$(dirname "$0")/../../docs/deploy

# The documented set, as setpriv wants it ("+bpf,+perfmon,...").
caps=$(sed -n 's/^AmbientCapabilities=//p' "$deploy/bpfprof-agent.service")
[ -n "$caps" ] || fail "no AmbientCapabilities= in bpfprof-agent.service"
bounding=$(sed -n 's/^CapabilityBoundingSet=//p' "$deploy/bpfprof-agent.service")
[ "$bounding" = "$caps" ] || fail "the unit's bounding set ($bounding) is not its ambient set ($caps)"
k8s=$(sed -n 's/.*add: \[\(.*\)\].*/\1/p' "$deploy/daemonset.yaml" | sed 's/ *, */ /g; s/\([A-Z_][A-Z_]*\)/CAP_\1/g')
[ "$k8s" = "$caps" ] || fail "daemonset.yaml adds '$k8s', the unit '$caps'"
setpriv_caps() { tr 'A-Z' 'a-z' <<< "$*" | sed 's/cap_/+/g; s/ /,/g'; }
all=$(setpriv_caps $caps)
echo "documented set: $caps"

# A uid of no account and no process: the agent's, not nobody's.
agent_uid=61000
while getent passwd "$agent_uid" > /dev/null || pgrep -U "$agent_uid" > /dev/null; do
  agent_uid=$((agent_uid + 1))
done
A=$WORK/agent
mkdir -m 0700 "$A" && cp "$BPFPROF" "$A/bpfprof" && chown -R "$agent_uid:$agent_uid" "$A"
# as_agent CAPS: sets AS_AGENT to the command prefix that runs a command as
# the agent's uid with exactly CAPS (a setpriv list, "" for none), as
# systemd's AmbientCapabilities= gives them. (A command, not a function,
# so that `... &` gives the pid of the agent itself.)
as_agent() {
  AS_AGENT=(setpriv --reuid="$agent_uid" --regid="$agent_uid" --clear-groups
    --inh-caps="-all${1:+,$1}" ${1:+--ambient-caps="$1"} --bounding-set="-all${1:+,$1}" --)
}
as_agent "$all"
"${AS_AGENT[@]}" true || fail "cannot grant $caps here (is one missing from our bounding set?)"

# The workloads, of other users than the agent's.
cp "$FIXTURES/calltree_fp" "$UDIR/private_ct" && cp "$FIXTURES/calltree_fp" "$UDIR/deleted_ct"
chown nobody:nogroup "$UDIR"/*_ct && chmod 0500 "$UDIR"/*_ct && chmod 0700 "$UDIR"
mkdir -m 0700 "$WORK/root" && cp "$FIXTURES/calltree_fp" "$WORK/root/root_ct" && chmod 0700 "$WORK/root/root_ct"
"${AS_NOBODY[@]}" "$UDIR/private_ct" 90 > /dev/null & private=$!
"${AS_NOBODY[@]}" "$UDIR/deleted_ct" 90 > /dev/null & deleted=$!
"$WORK/root/root_ct" 90 > /dev/null & rootp=$!
"${AS_NOBODY[@]}" dd if=/dev/zero of=/dev/null bs=1M count=100000000 2> /dev/null & dd=$!
CHILDREN+=("$private" "$deleted" "$rootp" "$dd")
sleep 0.3
rm "$UDIR/deleted_ct"
grep -q 'deleted_ct (deleted)' "/proc/$deleted/maps" || fail "the binary is not shown deleted"

# named TRACES PID: how many of PID's samples are symbolized down to main:
# a|b;work;main, or what work calls (clock_gettime: in the vDSO, or in the
# kernel where the clock source has no vDSO path) above work;main.
NAMED_RE='^(.*;)?work;main(;|$)'
named() { pid_samples "$1" "$2" "$NAMED_RE"; }
# expect_named TRACES PID WHAT: >= 95% of them, of >= 20 samples.
expect_named() {
  local mine n
  mine=$(pid_samples "$1" "$2")
  n=$(named "$1" "$2")
  echo "  $3: $mine samples, $n symbolized down to main"
  [ "$mine" -ge 20 ] || fail "$3: only $mine samples"
  [ $((n * 100)) -ge $((mine * 95)) ] ||
    fail "$3: only $n of $mine samples symbolized; the others: $(RE=$NAMED_RE awk -F'\t' \
      -v p="pid=$2" '$2 == p && $3 !~ ENVIRON["RE"] { print $1 " " $3 }' "$1" | head -8)"
}
# expect_unnamed TRACES PID WHAT: none of >= 20 samples are.
expect_unnamed() {
  local mine n
  mine=$(pid_samples "$1" "$2")
  n=$(named "$1" "$2")
  echo "  $3: $mine samples, $n symbolized down to main"
  [ "$mine" -ge 20 ] || fail "$3: only $mine samples"
  [ "$n" -eq 0 ] || fail "$3: $n samples symbolized, want none"
}
# kernel_share TRACES: percent of dd's samples that pass through vfs_read.
kernel_share() {
  local all k
  all=$(pid_samples "$1" "$dd")
  k=$(pid_samples "$1" "$dd" '(^|;)vfs_read(;|$)')
  echo "  dd (kernel): $all samples, $k through vfs_read" >&2
  [ "$all" -ge 20 ] || fail "dd: only $all samples"
  echo $((k * 100 / all))
}
# traces_of FILE...: the traces of all of them, symbolized by bpfprof only.
traces_of() {
  local f
  for f in "$@"; do
    pprof_check "$f"
    pprof_traces "$f" -symbolize=none
  done
}

# 1. The agent with the documented set.
start_agent "$WORK/agent.log" "${AS_AGENT[@]}" prlimit --memlock=0:0 "$A/bpfprof" agent --interval 2s \
  --output-dir "$A/out" --spool-dir "$A/spool" --pyroscope-url http://127.0.0.1:1 --metrics-addr 127.0.0.1:0
sleep 4.5
scrape "$METRICS_PORT" /metrics > "$WORK/metrics"
kill -TERM "$AGENT_PID"
wait "$AGENT_PID" || fail "agent exited $?: $(cat "$WORK/agent.log")"
grep -q '^200 ' "$WORK/metrics" || fail "/metrics: $(head -1 "$WORK/metrics")"
! grep 'without CAP_\|not permitted\|kallsyms' "$WORK/agent.log" || fail "the documented set is not enough"
ls "$A"/out/*.pb.gz > /dev/null || fail "no profiles: $(cat "$WORK/agent.log")"
ls "$A"/spool/[0-9]*.spool > /dev/null || fail "nothing spooled: $(cat "$WORK/agent.log")"
for f in "$A/out" "$A/spool" "$A"/out/*.pb.gz "$A"/spool/[0-9]*.spool; do
  want=600; [ -d "$f" ] && want=700
  [ "$(stat -c %u:%a "$f")" = "$agent_uid:$want" ] ||
    fail "$f is $(stat -c %u:%a "$f"), want $agent_uid:$want"
done
echo "agent as uid $agent_uid: $(ls "$A/out" | wc -l) profiles and $(ls "$A/spool" | grep -c spool) spooled, 0600 in 0700 dirs"
traces_of "$A"/out/*.pb.gz > "$WORK/traces"
expect_named "$WORK/traces" "$private" "nobody's binary in a 0700 dir"
expect_named "$WORK/traces" "$deleted" "nobody's deleted binary"
expect_named "$WORK/traces" "$rootp" "root's binary in a 0700 dir"
share=$(kernel_share "$WORK/traces")
[ "$share" -ge 50 ] || fail "only $share% of dd's samples name vfs_read"

# record_without CAP: `record -d 3` as the agent's uid with the set less
# CAP; leaves its stderr in $WORK/err and its traces in $WORK/traces.
record_without() {
  local out=$A/without-$1.pb.gz
  as_agent "$(setpriv_caps ${caps/$1/})"
  "${AS_AGENT[@]}" "$A/bpfprof" record -d 3 -o "$out" 2> "$WORK/err" ||
    fail "record without $1 failed: $(cat "$WORK/err")"
  grep -q "warning: without .*$1 (" "$WORK/err" || fail "no warning naming $1: $(cat "$WORK/err")"
  traces_of "$out" > "$WORK/traces"
}

# 2. Less CAP_BPF or CAP_PERFMON: one line naming it.
for cap in CAP_BPF CAP_PERFMON; do
  for cmd in "agent --output-dir $A/out2" "record -d 1 -o $A/x.pb.gz"; do
    as_agent "$(setpriv_caps ${caps/$cap/})"
    "${AS_AGENT[@]}" "$A/bpfprof" $cmd > /dev/null 2> "$WORK/err"
    rc=$?
    [ "$rc" -eq 1 ] || fail "${cmd%% *} without $cap exited $rc, want 1: $(cat "$WORK/err")"
    [ "$(wc -l < "$WORK/err")" -eq 1 ] && grep -q "error: not permitted: missing $cap;" "$WORK/err" ||
      fail "${cmd%% *} without $cap: want one line naming it, got: $(cat "$WORK/err")"
  done
  echo "without $cap: $(cat "$WORK/err")"
done
[ ! -e "$A/out2" ] && [ ! -e "$A/x.pb.gz" ] || fail "a refused run created its output"

# 3. Less one of the others: what each is for.
echo "without CAP_SYS_PTRACE:"
record_without CAP_SYS_PTRACE
expect_unnamed "$WORK/traces" "$private" "nobody's binary"
expect_unnamed "$WORK/traces" "$rootp" "root's binary"
echo "without CAP_DAC_READ_SEARCH:"
record_without CAP_DAC_READ_SEARCH
expect_unnamed "$WORK/traces" "$private" "nobody's binary"
expect_unnamed "$WORK/traces" "$rootp" "root's binary"
echo "without CAP_CHECKPOINT_RESTORE:"
record_without CAP_CHECKPOINT_RESTORE
expect_unnamed "$WORK/traces" "$deleted" "nobody's deleted binary"
expect_named "$WORK/traces" "$private" "nobody's binary"
echo "without CAP_SYSLOG:"
record_without CAP_SYSLOG
share=$(kernel_share "$WORK/traces")
[ "$share" -eq 0 ] || fail "$share% of dd's samples name vfs_read without CAP_SYSLOG"
expect_named "$WORK/traces" "$rootp" "root's binary"
pass "the agent runs as uid $agent_uid with exactly $caps, each of them needed"
