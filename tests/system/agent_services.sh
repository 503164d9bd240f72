#!/usr/bin/env bash
# The agent names services by cgroup: a process in a systemd unit's cgroup
# ("bpfproftest.service") is the service "bpfproftest", one in a docker
# container's cgroup (/docker/<64 hex>) the container's short id.
source "$(dirname "$0")/lib.sh"
require_bpf

require_cgroup2
root=$CGROUP2
id=4f1c2a9e8b7d6c5f4e3d2c1b0a99887766554433221100ffeeddccbbaa998877
unit=$root/bpfproftest-$$.slice/bpfproftest.service
container=$root/bpfproftest-$$.slice/docker/$id
mkdir -p "$unit" "$container" || skip_or_fail "cannot create cgroups under $root"
cleanup_cgroups() {
  for g in "$unit" "$container"; do
    while read -r p; do echo "$p" > "$root/cgroup.procs"; done < "$g/cgroup.procs" 2>/dev/null
  done
  rmdir "$unit" "$container" "$root/bpfproftest-$$.slice/docker" "$root/bpfproftest-$$.slice" 2>/dev/null
}
trap 'cleanup_cgroups; cleanup' EXIT

start_calltree 8
echo "$FIXTURE_PID" > "$unit/cgroup.procs" || fail "cannot move a process into $unit"
"$FIXTURES/threads_nofp" 8 & CHILDREN+=($!)
echo "$!" > "$container/cgroup.procs" || fail "cannot move a process into $container"
sleep 0.2

out=$WORK/profiles
"$BPFPROF" agent --interval 1s --output-dir "$out" 2> "$WORK/agent.log" &
agent=$!
CHILDREN+=("$agent")
sleep 3.5
kill -TERM "$agent"; wait "$agent" || fail "agent exited $?"
ls "$out"
unit_files=$(find "$out" -name 'bpfproftest-*.pb.gz' | wc -l)
container_files=$(find "$out" -name "${id:0:12}-*.pb.gz" | wc -l)
echo "bpfproftest: $unit_files profiles; container ${id:0:12}: $container_files profiles"
[ "$unit_files" -ge 2 ] || fail "no profiles for the systemd unit's service"
[ "$container_files" -ge 2 ] || fail "no profiles for the container's service"
# The moved processes' samples are in their unit's and container's files,
# none under their process names (other processes of those names may run).
unit_samples=0
for f in "$out"/bpfproftest-*.pb.gz; do
  pprof_check "$f"
  pprof_traces "$f" > "$WORK/traces"
  unit_samples=$((unit_samples + $(sum_traces "\$2 == \"pid=$FIXTURE_PID\"" "$WORK/traces")))
done
[ "$unit_samples" -gt 0 ] || fail "the unit's files have no samples of pid $FIXTURE_PID"
for f in $(find "$out" -name 'calltree_fp-*' -o -name 'threads_nofp-*'); do
  pprof_traces "$f" > "$WORK/traces"
  [ "$(sum_traces "\$2 == \"pid=$FIXTURE_PID\"" "$WORK/traces")" -eq 0 ] ||
    fail "pid $FIXTURE_PID, in a unit, was named by its process name in $f"
done
pass "services from systemd units and containers"
