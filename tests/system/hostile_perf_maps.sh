#!/usr/bin/env bash
# A local user's perf maps cannot freeze, fool or bloat bpfprof (issue 11,
# items 2-4). A process of user nobody spins in anonymous executable
# memory (as JIT code does), so bpfprof looks up /tmp/perf-PID.map for its
# samples, and nobody plants there in turn:
#  - a FIFO with a writer holding it open: bpfprof must not block on it
#    (it used to, for good: even SIGTERM could not stop it);
#  - a symlink to a root-only file, and a file of another user: their lines
#    must not become frame names;
#  - a map of tiny lines over the 16 MiB cap, and one under it: bounded RSS
#    (64 MiB used to cost ~360 MiB);
#  - a good map of its own: its name is used (so the checks above can fail).
source "$(dirname "$0")/lib.sh"
require_bpf
nobody_dir
cp "$FIXTURES/jit_spin" "$UDIR/" && chown nobody: "$UDIR/jit_spin"

# spin NAME: starts the JIT spinner as nobody; sets pid, addr, map.
spin() {
  "${AS_NOBODY[@]}" "$UDIR/jit_spin" > "$WORK/$1.spin" &
  CHILDREN+=("$!")
  for _ in $(seq 50); do [ -s "$WORK/$1.spin" ] && break; sleep 0.1; done
  read -r pid addr < "$WORK/$1.spin" || fail "$1: the spinner did not start"
  map=/tmp/perf-$pid.map
  rm -f "$map"
}

# record_spin NAME: records the spinner for 2 s (within 30 s, or fails);
# sets traces (the profile's) and log.
record_spin() {
  local t0=$SECONDS
  log=$WORK/$1.log
  timeout -s KILL 30 "$BPFPROF" record -d 2 -p "$pid" -o "$WORK/$1.pb.gz" 2> "$log" ||
    fail "$1: record failed or hung (exit $?, $((SECONDS - t0)) s): $(tail -3 "$log")"
  pprof_check "$WORK/$1.pb.gz"
  traces=$WORK/$1.traces
  pprof_traces "$WORK/$1.pb.gz" > "$traces"
  kill "$pid"
  rm -f "$map"
}

# 1. A FIFO, held open by a writer.
spin fifo
"${AS_NOBODY[@]}" mkfifo "$map"
"${AS_NOBODY[@]}" bash -c "exec 3<> '$map'; exec sleep 60" &
CHILDREN+=("$!")
start=$SECONDS
record_spin fifo
grep -q "perf map.*not a regular file" "$log" || fail "fifo: no line says why: $(cat "$log")"
echo "fifo: record finished in $((SECONDS - start)) s"

# 2. A symlink to a root-only file whose line covers the spinner.
spin link
secret=$WORK/secret.map
printf '%s 100 SECRET_OF_ROOT\n' "$addr" > "$secret"
chmod 0600 "$secret"
"${AS_NOBODY[@]}" ln -s "$secret" "$map"
record_spin link
! grep -q SECRET_OF_ROOT "$traces" || fail "link: a root-only file's line became a frame"
grep -q "perf map.*a symbolic link" "$log" || fail "link: no line says why: $(cat "$log")"

# 3. A map another user (daemon) wrote for nobody's process.
spin other
printf '%s 100 PLANTED_BY_DAEMON\n' "$addr" > "$map"
chown daemon: "$map"
record_spin other
! grep -q PLANTED_BY_DAEMON "$traces" || fail "other: another user's map was used"

# 4. nobody's own map: used.
spin own
"${AS_NOBODY[@]}" sh -c "printf '%s 100 jit_spin_loop\n' $addr > $map"
max_rss "$WORK/base.log" "$BPFPROF" record -d 2 -p "$pid" -o "$WORK/own.pb.gz"
[ "$RC" = 0 ] || fail "own: record failed: $(cat "$WORK/base.log")"
base_kb=$PEAK_KB
pprof_traces "$WORK/own.pb.gz" > "$WORK/own.traces"
total=$(sum_traces 1 "$WORK/own.traces")
named=$(sum_traces '$3 ~ /jit_spin_loop/' "$WORK/own.traces")
echo "own map: $named of $total samples named jit_spin_loop; peak RSS $((base_kb / 1024)) MiB"
[ "$total" -ge 20 ] && [ $((named * 10)) -ge $((total * 9)) ] ||
  fail "own: the process's own map was not used ($named of $total)"

# 5. Tiny lines: 64 MiB (over the cap: not read) and 15 MiB (read, at most
# PERF_MAP_MAX_ENTRIES of them kept).
for mb in 64 15; do
  "${AS_NOBODY[@]}" /usr/bin/python3 -c "
import sys
line = b'1 1 a\n'
with open('$map', 'wb') as f:
    f.write(line * ($mb * 1024 * 1024 // len(line)))
    f.write(b'$addr 100 jit_spin_loop\n')"
  max_rss "$WORK/tiny$mb.log" "$BPFPROF" record -d 2 -p "$pid" -o "$WORK/tiny$mb.pb.gz"
  [ "$RC" = 0 ] || fail "tiny $mb MiB: record failed: $(cat "$WORK/tiny$mb.log")"
  echo "tiny lines, $mb MiB map: peak RSS $((PEAK_KB / 1024)) MiB (own map: $((base_kb / 1024)) MiB)"
  # (not under ASan: its redzones and quarantine of freed blocks, not
  # bpfprof, decide the RSS there; the plain build is measured)
  asan_build || [ "$PEAK_KB" -lt $((base_kb + 96 * 1024)) ] ||
    fail "a $mb MiB perf map of tiny lines costs $(((PEAK_KB - base_kb) / 1024)) MiB"
done
grep -q "perf map.*larger than 16 MiB" "$WORK/tiny64.log" ||
  fail "64 MiB map: no line says why: $(cat "$WORK/tiny64.log")"
pass "perf maps: FIFO, symlink, another owner, size and line caps"
