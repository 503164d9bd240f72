#!/usr/bin/env bash
# A local user cannot pose as a service or a container by naming cgroups.
# Root delegates a unit's cgroup to nobody, as systemd does with
# user@UID.service (and any Delegate=yes unit): it chowns the cgroup to
# them. nobody creates app.slice/nginx.service and a cgroup of 64 hex
# digits below it and moves a process into each. The agent must name both
# processes' service after the delegated unit, "bpfproftest-deleg" (the
# name root chose), never "nginx" nor the container id the names claim
# (it used to: the deepest name won, whoever had made it).
source "$(dirname "$0")/lib.sh"
require_bpf
nobody_dir

require_cgroup2
root=$CGROUP2
id=4f1c2a9e8b7d6c5f4e3d2c1b0a99887766554433221100ffeeddccbbaa998877
top=$root/bpfproftest-$$.slice
deleg=$top/bpfproftest-deleg.service
mkdir -p "$deleg" || skip_or_fail "cannot create cgroups under $root"
cleanup_cgroups() {
  local g p
  for g in $(find "$top" -depth -type d 2>/dev/null); do
    while read -r p; do echo "$p" > "$root/cgroup.procs"; done < "$g/cgroup.procs" 2>/dev/null
    rmdir "$g"
  done
}
trap 'cleanup; cleanup_cgroups' EXIT
# What cgroup v2 delegation grants (Documentation/admin-guide/cgroup-v2.rst):
# the directory and its cgroup.procs, cgroup.threads, cgroup.subtree_control.
for f in "$deleg" "$deleg"/cgroup.{procs,threads,subtree_control}; do
  [ ! -e "$f" ] || chown nobody:nogroup "$f" || fail "chown $f"
done

cp "$FIXTURES/calltree_fp" "$UDIR/spin" && chown nobody: "$UDIR/spin"
"${AS_NOBODY[@]}" mkdir -p "$deleg/app.slice/nginx.service" "$deleg/app.slice/$id" ||
  fail "nobody cannot create cgroups in the delegated $deleg"
"${AS_NOBODY[@]}" "$UDIR/spin" 8 > /dev/null & unit_pid=$!
CHILDREN+=("$unit_pid")
"${AS_NOBODY[@]}" "$UDIR/spin" 8 > /dev/null & id_pid=$!
CHILDREN+=("$id_pid")
# root starts them in the delegated unit (systemd would start the user's
# manager there); nobody moves them on, within their own subtree
for p in "$unit_pid" "$id_pid"; do echo "$p" > "$deleg/cgroup.procs" || fail "move $p"; done
"${AS_NOBODY[@]}" sh -c "echo $unit_pid > '$deleg/app.slice/nginx.service/cgroup.procs' &&
  echo $id_pid > '$deleg/app.slice/$id/cgroup.procs'" || fail "nobody cannot move its processes"
grep . "/proc/$unit_pid/cgroup" "/proc/$id_pid/cgroup" | grep '0::'

out=$WORK/profiles
start_agent "$WORK/agent.log" "$BPFPROF" agent --interval 2s --output-dir "$out"
sleep 4.5
kill -TERM "$AGENT_PID"; wait "$AGENT_PID" || fail "agent exited $?: $(tail "$WORK/agent.log")"
spoofed=$(find "$out" -name 'nginx-*' -o -name "${id:0:12}-*")
[ -z "$spoofed" ] || fail "a user's own cgroup names made these services: $spoofed"
files=$(find "$out" -name 'bpfproftest-deleg-*.pb.gz')
[ -n "$files" ] || fail "no profile of the delegated unit's service bpfproftest-deleg"
unit_samples=0 id_samples=0
for f in $files; do
  pprof_check "$f"
  pprof_traces "$f" > "$WORK/traces"
  unit_samples=$((unit_samples + $(pid_samples "$WORK/traces" "$unit_pid")))
  id_samples=$((id_samples + $(pid_samples "$WORK/traces" "$id_pid")))
done
echo "bpfproftest-deleg: $unit_samples samples of pid $unit_pid (in nginx.service)," \
  "$id_samples of pid $id_pid (in ${id:0:12}...)"
[ "$unit_samples" -gt 0 ] && [ "$id_samples" -gt 0 ] ||
  fail "the delegated unit's profiles lack the samples of its user's processes"
pass "names made inside a delegated cgroup do not count; the delegated unit's does"
