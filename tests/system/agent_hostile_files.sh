#!/usr/bin/env bash
# The agent, as root, in directories where a local user (nobody) planted
# links, FIFOs and files pointing at a root-only file:
#  1. an --output-dir and a --spool-dir that nobody owns (and keeps planting
#     .tmp-* and entry links into while the agent would run): refused at
#     start, one line each naming the owner and the fix;
#  2. the same directories handed over to root (chown, chmod 755) with
#     nobody's leftovers in them: the agent runs, and retention
#     (--retain-files 1) deletes only its own profiles: the links, the FIFO
#     and nobody's file named like its oldest profiles stay; the spool skips
#     the linked and FIFO entries without reading or blocking on them;
#  3. a .lock that is a link: the spool is refused and says to remove it.
# The root-only target is never written, truncated or replaced.
source "$(dirname "$0")/lib.sh"
require_bpf

pub=$WORK/pub
mkdir -m 755 "$pub"
chmod 755 "$WORK"
target=$pub/root-only
printf 'root only\n' > "$target"; chmod 600 "$target"
target_sum=$(stat -c '%i %s %a %Y' "$target")$(sha1sum < "$target")
check_target() {
  [ "$(stat -c '%i %s %a %Y' "$target")$(sha1sum < "$target")" = "$target_sum" ] ||
    fail "$1: the root-only target changed: $(stat -c '%i %s %a %y' "$target"), $(head -c 64 "$target")"
}
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
mkdir "$pub/out" "$pub/spool" && chown 65534:65534 "$pub/out" "$pub/spool" # theirs
as_nobody sh -c "
  ln -s '$target' '$pub/out/svc-20200101T000000Z.pb.gz'
  mkfifo '$pub/out/svc-20200101T000001Z.pb.gz'
  echo nobody > '$pub/out/svc-20200101T000002Z.pb.gz'
  ln -s '$target' '$pub/spool/00000000000000000001.spool'
  mkfifo '$pub/spool/00000000000000000002.spool'
  ln -s '$target' '$pub/spool/.tmp-00000000000000000003.spool'
  mkdir '$pub/spool/rejected'" || fail "nobody could not plant the files"
planted="svc-20200101T000000Z.pb.gz svc-20200101T000001Z.pb.gz svc-20200101T000002Z.pb.gz"
start_calltree 30

# agent OUT SPOOL: runs the agent in the background into $WORK/agent.log.
agent() {
  "$BPFPROF" agent --interval 1s --service-name svc --retain-files 1 --output-dir "$1" \
    --pyroscope-url http://127.0.0.1:1 --spool-dir "$2" 2> "$WORK/agent.log" &
  agent=$!
  CHILDREN+=("$agent")
}
# exits_within SECONDS: the agent exits by itself, non-zero.
exits_within() {
  for _ in $(seq $(( $1 * 10 ))); do kill -0 "$agent" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$agent" 2>/dev/null && fail "the agent is still running: $(cat "$WORK/agent.log")"
  wait "$agent"; local rc=$?
  [ "$rc" -ne 0 ] || fail "the agent exited 0: $(cat "$WORK/agent.log")"
}

# 1. nobody's directories, and nobody planting links for the next entries
# and temporary files while the agent runs.
as_nobody sh -c "for i in \$(seq 4 40); do n=\$(printf %020d \$i)
  ln -s '$target' '$pub/spool/.tmp-'\$n.spool; ln -s '$target' '$pub/spool/'\$n.spool
  done; sleep 4; for f in '$pub'/out/.svc-* '$pub'/spool/.tmp-*; do
  [ -e \"\$f\" ] && ln -sf '$target' \"\$f\"; done" &
planter=$!
agent "$pub/out" "$WORK/spool-ok"
exits_within 5
wait "$planter"
cat "$WORK/agent.log"
grep -q "output directory $pub/out is owned by uid 65534, not by bpfprof's uid 0.*chown 0 $pub/out" \
  "$WORK/agent.log" || fail "no clear refusal of nobody's output directory"
agent "$WORK/out-ok" "$pub/spool"
exits_within 5
cat "$WORK/agent.log"
grep -q "spool $pub/spool is owned by uid 65534" "$WORK/agent.log" ||
  fail "no clear refusal of nobody's spool"
check_target "nobody's directories"
echo "nobody's directories: refused"

# 2. handed over to root, nobody's leftovers still in them.
as_nobody sh -c "rm -f '$pub'/spool/.tmp-*[1-9]*.spool '$pub'/spool/0000000000000000000[4-9].spool \
  '$pub'/spool/000000000000000000[1-4][0-9].spool"
ln -s "$target" "$pub/spool/.tmp-00000000000000000003.spool" 2>/dev/null
chown root:root "$pub/out" "$pub/spool" "$pub/spool/rejected"
chmod 755 "$pub/out" "$pub/spool" "$pub/spool/rejected"
agent "$pub/out" "$pub/spool"
# until retention has deleted one of its own (a few intervals)
for _ in $(seq 300); do grep -q 'old ones removed' "$WORK/agent.log" && break; sleep 0.1; done
kill -TERM "$agent"
for _ in $(seq 80); do kill -0 "$agent" 2>/dev/null || break; sleep 0.1; done
kill -0 "$agent" 2>/dev/null && fail "the agent did not stop in 8 s after SIGTERM (blocked on a FIFO?)"
wait "$agent" || fail "agent exited $?: $(cat "$WORK/agent.log")"
cat "$WORK/agent.log"
ls -la "$pub/out" "$pub/spool"
for f in $planted; do
  [ -e "$pub/out/$f" ] || [ -L "$pub/out/$f" ] || fail "retention deleted nobody's $f"
done
[ -L "$pub/out/svc-20200101T000000Z.pb.gz" ] && [ -p "$pub/out/svc-20200101T000001Z.pb.gz" ] &&
  [ "$(cat "$pub/out/svc-20200101T000002Z.pb.gz")" = nobody ] || fail "nobody's files were replaced"
own=$(find "$pub/out" -maxdepth 1 -type f -user root -name 'svc-*.pb.gz' | wc -l)
[ "$own" -eq 1 ] || fail "$own profiles of the agent left, want 1 (--retain-files 1)"
[ -L "$pub/spool/00000000000000000001.spool" ] && [ -p "$pub/spool/00000000000000000002.spool" ] ||
  fail "the spool's planted entries were replaced"
[ ! -e "$pub/spool/.tmp-00000000000000000003.spool" ] && [ ! -L "$pub/spool/.tmp-00000000000000000003.spool" ] ||
  fail "the planted .tmp-* link was not removed"
n=$(find "$pub/spool" -maxdepth 1 -type f -user root -perm 600 -name '[0-9]*.spool' | wc -l)
[ "$n" -ge 2 ] || fail "only $n of the agent's own entries in the spool"
check_target "leftovers in root's directories"
echo "leftovers: $planted and 2 spool entries left alone; 1 profile and $n spool entries of the agent's own"

# 3. a .lock link
ln -s "$target" "$pub/spool/.lock.new" && mv -f -T "$pub/spool/.lock.new" "$pub/spool/.lock"
agent "$WORK/out-ok" "$pub/spool"
exits_within 5
cat "$WORK/agent.log"
grep -q "spool $pub/spool: .lock: a link or not a regular file.*remove it" "$WORK/agent.log" ||
  fail "no clear refusal of a .lock link"
check_target ".lock link"
pass "planted links, FIFOs and other users' directories refused or left alone; the root-only file untouched"
