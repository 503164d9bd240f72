#!/usr/bin/env bash
# A user's FUSE file system cannot stall bpfprof (issue 11). User nobody
# mounts one (fusermount3, allow_other: /etc/fuse.conf's user_allow_other
# lets users) whose daemon (fixtures/fuse_stall.c) stops answering on cue.
# Once its daemon has read a request, the kernel waits for the answer
# uninterruptibly: not even SIGKILL ends the waiter. Then nobody
#  1. runs a binary from it: bpfprof must not open it (map_files, a path)
#     nor stat it;
#  2. runs a JIT spinner whose /tmp, in nobody's own user and mount
#     namespace, is that file system: bpfprof must not look up its
#     /tmp/perf-PID.map there.
# A system-wide `record` must finish on time (it used to hang for good),
# say why once for each, and keep the binary's frames as address + mapping.
source "$(dirname "$0")/lib.sh"
require_bpf
[ -c /dev/fuse ] || skip_or_fail "this kernel has no FUSE (/dev/fuse)"
command -v fusermount3 > /dev/null || fail "fusermount3 (fuse3) is missing: run scripts/setup"
[ -u "$(command -v fusermount3)" ] || fail "fusermount3 is not setuid root: users cannot mount"
[ -x "$FIXTURES/fuse_stall" ] || fail "no fuse_stall fixture (libfuse3-dev: run scripts/setup)"
nobody_dir
MNT=$UDIR/mnt FLAG=$UDIR/stall daemon=
mkdir "$MNT" && chown nobody:nogroup "$MNT"
cp "$FIXTURES/jit_spin" "$UDIR/" && chown nobody: "$UDIR/jit_spin"

# What a user's FUSE mount needs, as a Debian desktop has it: /dev/fuse
# 0666 (udev's rule; here no udev may run) and user_allow_other. Both are
# put back, and the daemon released and unmounted, whatever happens.
fuse_mode=$(stat -c %a /dev/fuse)
conf_saved=
if ! grep -qx user_allow_other /etc/fuse.conf 2> /dev/null; then
  if [ -e /etc/fuse.conf ]; then cp -p /etc/fuse.conf "$WORK/fuse.conf"; fi
  conf_saved=1
  echo user_allow_other >> /etc/fuse.conf
fi
fuse_cleanup() {
  rm -f "$FLAG" # the daemon answers again, and every waiter goes on
  if [ -n "$daemon" ]; then
    kill -9 "$daemon" 2> /dev/null # its /dev/fuse closes: the connection aborts
    wait "$daemon" 2> /dev/null
    fusermount3 -u -z "$MNT" 2> /dev/null || umount -l "$MNT" 2> /dev/null
  fi
  chmod "$fuse_mode" /dev/fuse
  if [ -n "$conf_saved" ]; then
    if [ -e "$WORK/fuse.conf" ]; then cp -p "$WORK/fuse.conf" /etc/fuse.conf; else rm -f /etc/fuse.conf; fi
  fi
}
trap 'fuse_cleanup; cleanup' EXIT
chmod 0666 /dev/fuse

# The file system, mounted by nobody, serving a copy of calltree_fp.
"${AS_NOBODY[@]}" "$FIXTURES/fuse_stall" "$FLAG" "$FIXTURES/calltree_fp" "$MNT" -f \
  -o allow_other 2> "$WORK/daemon.log" &
daemon=$!
for _ in $(seq 100); do mountpoint -q "$MNT" && break; sleep 0.05; done
mountpoint -q "$MNT" || fail "nobody could not mount FUSE: $(cat "$WORK/daemon.log")"
line=$(awk -v m="$MNT" '$5 == m' /proc/self/mountinfo)
echo "mounted: $line"
[[ $line == *" - fuse.fuse_stall "*user_id=65534* ]] || fail "not a user's FUSE mount: $line"

# 1. A binary run from it.
"${AS_NOBODY[@]}" "$MNT/prog" 60 > "$WORK/prog.pid" &
prog=$!
CHILDREN+=("$prog")
# 2. A JIT spinner whose /tmp is it: nobody's own namespaces, jit_spin
# opened before /tmp is covered.
"${AS_NOBODY[@]}" unshare -Urm bash -c \
  'exec 3< "$1" && mount --bind "$2" /tmp && exec /proc/self/fd/3' _ "$UDIR/jit_spin" "$MNT" \
  > "$WORK/jit.spin" 2> "$WORK/jit.err" &
CHILDREN+=("$!")
for _ in $(seq 100); do [ -s "$WORK/prog.pid" ] && [ -s "$WORK/jit.spin" ] && break; sleep 0.05; done
read -r jit _ < "$WORK/jit.spin" || fail "the JIT spinner did not start: $(cat "$WORK/jit.err")"
grep -q "$MNT/prog" "/proc/$prog/maps" || fail "the binary does not run from the mount"
awk '$5 == "/tmp"' "/proc/$jit/mountinfo" | grep -q ' - fuse.fuse_stall .*user_id=65534' ||
  fail "the spinner's /tmp is not the user's FUSE mount: $(awk '$5 == "/tmp"' "/proc/$jit/mountinfo")"

# The daemon stops answering; a root stat of the binary now waits (it is
# released by the cleanup).
touch "$FLAG"
stat "$MNT/prog" > /dev/null 2>&1 &
probe=$!
sleep 1
kill -0 "$probe" 2> /dev/null || fail "the daemon does not stall: a stat returned"
echo "the daemon stalls: root's stat of $MNT/prog still waits after 1 s"

# record, system-wide: it must end within 30 s (it is not waited on: a
# bpfprof waiting for the daemon could not be killed).
start=$SECONDS
"$BPFPROF" record -d 3 -o "$WORK/out.pb.gz" 2> "$WORK/record.log" &
rec=$!
CHILDREN+=("$rec")
for _ in $(seq 300); do kill -0 "$rec" 2> /dev/null || break; sleep 0.1; done
if kill -0 "$rec" 2> /dev/null; then
  fail "record hangs after $((SECONDS - start)) s (waiting for the FUSE daemon: $(cat "/proc/$rec/wchan" 2> /dev/null)); its log: $(tail -5 "$WORK/record.log")"
fi
wait "$rec" || fail "record failed (exit $?): $(tail -5 "$WORK/record.log")"
echo "record finished in $((SECONDS - start)) s"
grep -i 'fuse' "$WORK/record.log"

n=$(grep -c "$MNT/prog (pid $prog) not opened: served by a user's FUSE daemon (logged once" "$WORK/record.log")
[ "$n" = 1 ] || fail "the binary's refusal is logged $n times, not once: $(cat "$WORK/record.log")"
n=$(grep -c "perf map /tmp/perf-$jit.map of pid $jit ignored: under a user's FUSE mount (logged once" "$WORK/record.log")
[ "$n" = 1 ] || fail "the perf map's refusal is logged $n times, not once: $(cat "$WORK/record.log")"

# The binary's frames: address + its mapping. The daemon is released
# first: pprof, as root, would read the mapped file to name them.
rm -f "$FLAG"
wait "$probe"
pprof_check "$WORK/out.pb.gz"
grep -q "$MNT/prog" "$WORK/raw.txt" || fail "the profile has no mapping of $MNT/prog"
pprof_traces "$WORK/out.pb.gz" > "$WORK/traces"
samples=$(pid_samples "$WORK/traces" "$prog")
echo "binary on FUSE: $samples samples, mapping $MNT/prog kept"
[ "$samples" -ge 10 ] || fail "only $samples samples of the binary on FUSE"
pid_samples "$WORK/traces" "$prog" '(^|;)(a|b|work|main)(;|$)' | grep -qx 0 ||
  fail "the binary on FUSE was read: its functions are named"
pass "a user's FUSE file system did not stall record; both refusals logged once"
