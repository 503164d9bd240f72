#!/usr/bin/env bash
# A process of a systemd unit that exits before its interval ends keeps its
# unit's name. The test makes system.slice/bpfprof-test-PID.service (root's,
# 0755: only such cgroups name a service, service.h), starts the agent with
# 6 s intervals and, in the unit, a burner (calltree_fp) that runs 1.5 s
# and is gone, reaped, long before the interval is written. Its samples
# must be in the unit's profile, none under its process name. (The agent
# used to read the cgroup when it wrote the interval: by then the process
# had no /proc entry and its samples went to a profile named calltree_fp.)
source "$(dirname "$0")/lib.sh"
require_bpf

require_cgroup2
slice=$CGROUP2/system.slice
name=bpfprof-test-$$
unit=$slice/$name.service
made_slice=
if [ ! -d "$slice" ]; then
  mkdir "$slice" || skip_or_fail "cannot create cgroups under $CGROUP2"
  made_slice=1
fi
mkdir "$unit" || skip_or_fail "cannot create $unit"
chmod 0755 "$slice" "$unit" 2> /dev/null
cleanup_cgroup() {
  local p
  while read -r p; do echo "$p" > "$CGROUP2/cgroup.procs"; done < "$unit/cgroup.procs" 2> /dev/null
  rmdir "$unit"
  [ -z "$made_slice" ] || rmdir "$slice" 2> /dev/null # another test may be using it
}
trap 'cleanup; cleanup_cgroup' EXIT

out=$WORK/profiles
start_agent "$WORK/agent.log" "$BPFPROF" agent --interval 6s --output-dir "$out"
# The shell joins the unit before it execs the burner, so every sample of
# the burner's pid is taken inside the unit.
sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2" 1.5' sh "$unit" "$FIXTURES/calltree_fp" \
  > "$WORK/burner.out" &
burner=$!
CHILDREN+=("$burner")
wait "$burner" || fail "the burner failed ($?): $(cat "$WORK/burner.out")"
[ "$(head -1 "$WORK/burner.out")" = "$burner" ] || fail "the burner did not run in the unit"
written_before=$(grep -c 'interval of' "$WORK/agent.log")
# The interval the burner ended in is written after it is gone: wait for it.
for _ in $(seq 600); do
  [ "$(grep -c 'interval of' "$WORK/agent.log")" -gt "$written_before" ] && break
  sleep 0.1
done
[ "$(grep -c 'interval of' "$WORK/agent.log")" -gt "$written_before" ] ||
  fail "no interval written 60 s after the burner exited: $(tail "$WORK/agent.log")"
kill -TERM "$AGENT_PID"; wait "$AGENT_PID" || fail "agent exited $?: $(tail "$WORK/agent.log")"
[ "$written_before" -eq 0 ] ||
  echo "note: $written_before interval(s) were written while the burner ran (a slow start)"

ls "$out"
total=0 in_unit=0 by_name=0
for f in "$out"/*.pb.gz; do
  [ -e "$f" ] || fail "the agent wrote no profile: $(tail "$WORK/agent.log")"
  pprof_check "$f"
  pprof_traces "$f" > "$WORK/traces"
  n=$(pid_samples "$WORK/traces" "$burner")
  total=$((total + n))
  case ${f##*/} in
    "$name"-*.pb.gz) in_unit=$((in_unit + n)) ;;
    calltree_fp-* | sh-*) by_name=$((by_name + n)) ;;
  esac
done
echo "burner pid $burner: $total samples, $in_unit in $name's profiles," \
  "$by_name in profiles named after its process"
# 1.5 s at 99 Hz is ~150 samples on an idle CPU; a loaded one gives fewer.
[ "$total" -ge 20 ] || fail "only $total samples of the burner in all profiles"
[ "$by_name" -eq 0 ] || fail "$by_name samples of the burner, gone before its interval" \
  "was written, were named after its process, not its unit $name"
[ $((in_unit * 10)) -ge $((total * 9)) ] ||
  fail "only $in_unit of the burner's $total samples are in the profile of its unit $name"
pass "a unit's process that exited mid-interval is written under its unit"
