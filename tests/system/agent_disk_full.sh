#!/usr/bin/env bash
# The agent's --output-dir on a full file system (a 2 MiB tmpfs, filled):
#  1. full, with profiles of its own in the directory: it deletes its oldest
#     to make room, so new profiles keep coming and none is dropped; one log
#     line for it, not one per interval;
#  2. full with none of its own left: each interval's profile is dropped
#     (bpfprof_profiles_failed_total counts them), one log line with the
#     cause, no partial or temporary file left, the agent keeps running;
#  3. the filler deleted: profiles resume, the log says how many were
#     dropped, SIGTERM still exits 0.
source "$(dirname "$0")/lib.sh"
require_bpf

fs=$WORK/fs
mkdir "$fs"
mount -t tmpfs -o size=2m,mode=0700 bpfprof-disk-full "$fs" || skip_or_fail "cannot mount a tmpfs"
trap 'umount "$fs" 2>/dev/null || umount -l "$fs"; cleanup' EXIT
out=$fs/out
log=$WORK/agent.log

start_calltree 40
"$BPFPROF" agent --interval 1s --service-name svc --output-dir "$out" \
  --metrics-addr 127.0.0.1:0 2> "$log" &
agent=$!
CHILDREN+=("$agent")
for _ in $(seq 500); do grep -q 'profiling every' "$log" && break; sleep 0.02; done
port=$(metrics_port "$log") || fail "no metrics port: $(cat "$log")"

profiles() { ls "$out" | grep -cE '^svc-[0-9]{8}T[0-9]{6}Z\.pb\.gz$'; }
newest() { ls "$out" | grep -E '^svc-.*\.pb\.gz$' | sort | tail -1; }
fill() { dd if=/dev/zero of="$fs/filler" bs=16k oflag=append conv=notrunc 2>/dev/null; }
alive() { kill -0 "$agent" 2>/dev/null || fail "the agent died: $(cat "$log")"; }
failed() { scrape "$port" /metrics | metric bpfprof_profiles_failed_total; }
# no_temp_files: a dot-file that is still there a moment later is a leftover.
no_temp_files() {
  ls -A "$out" | grep -q '^\.' || return 0
  sleep 0.3
  ! ls -A "$out" | grep '^\.' || fail "temporary files left in $out"
}
for _ in $(seq 100); do [ "$(profiles)" -ge 4 ] && break; sleep 0.1; done
[ "$(profiles)" -ge 4 ] || fail "no profiles before the disk filled: $(cat "$log")"

# 1. full, with old profiles to give up
fill
[ "$(df --output=avail -B1 "$fs" | tail -1)" -lt 4096 ] || fail "the tmpfs is not full"
before=$(newest)
sleep 4
alive
after=$(newest)
echo "full: newest profile $before, 4 s later $after, $(profiles) profiles"
[ "$after" \> "$before" ] || fail "no new profile on the full disk: $(cat "$log")"
[ "$(grep -c 'to make room' "$log")" -eq 1 ] ||
  fail "want one 'to make room' line: $(grep 'to make room' "$log")"
[ "$(failed)" = 0 ] || fail "profiles dropped although old ones could go: $(cat "$log")"

# 2. full, nothing of its own left
rm -f "$out"/svc-*.pb.gz
fill
sleep 4.5
alive
n=$(failed)
echo "full, no profile of ours: $n dropped, files: $(ls -A "$out" | tr '\n' ' ')"
[ "$n" -ge 3 ] || fail "bpfprof_profiles_failed_total is $n after 4 intervals on a full disk"
[ "$(profiles)" -eq 0 ] || fail "profiles appeared on a full disk: $(ls -A "$out")"
no_temp_files
grep 'No space left on device' "$log"
[ "$(grep -c 'profiles\? dropped since' "$log")" -eq 1 ] ||
  fail "want one line for the dropped profiles: $(cat "$log")"
[ "$(grep -c 'No space left on device' "$log")" -eq 2 ] ||
  fail "ENOSPC logged other than once per cause"

# 3. room again
rm -f "$fs/filler"
for _ in $(seq 40); do [ "$(profiles)" -ge 1 ] && break; sleep 0.1; done
[ "$(profiles)" -ge 1 ] || fail "profiles did not resume: $(cat "$log")"
grep -q "writing profiles again, after $n dropped\|writing profiles again, after $((n + 1)) dropped" "$log" ||
  fail "no recovery line: $(cat "$log")"
kill -TERM "$agent"
wait "$agent" || fail "agent exited $?: $(cat "$log")"
no_temp_files
pprof_check "$out/$(newest)"
pass "full output dir: own oldest profiles deleted first, then drops counted and logged once, no partial file, recovery"
