#!/usr/bin/env bash
# Profiles name every user's processes, so only root reads what bpfprof
# writes unless the operator widens it:
#  1. `record -o`: a new file is 0600 under umask 022, and so is one that
#     replaces a 0644 file; --file-mode 0640 gives 0640 even under umask 077;
#  2. the agent: --output-dir and the parents it creates 0700, profiles
#     0600; the spool (dir, rejected/, .lock, entries) 0700/0600;
#  3. BPFPROF_FILE_MODE=0640: output dir 0750, profiles 0640, the spool
#     still private; an existing output dir is not chmodded, its files
#     follow --file-mode;
#  4. modes wider than 0644 (world- or group-writable, executable) are
#     usage errors.
source "$(dirname "$0")/lib.sh"
require_bpf

mode() { stat -c %a "$1"; }
# expect_mode WANT PATH...
expect_mode() {
  local want=$1 f; shift
  for f in "$@"; do
    [ -e "$f" ] || fail "$f is missing"
    [ "$(mode "$f")" = "$want" ] || fail "$f has mode $(mode "$f"), want $want"
  done
}

start_calltree 20 # something to sample

# 1. record -o
(umask 022; "$BPFPROF" record -d 1 -o "$WORK/new.pb.gz" 2> "$WORK/record.log") ||
  fail "record: $(cat "$WORK/record.log")"
expect_mode 600 "$WORK/new.pb.gz"
echo old > "$WORK/old.pb.gz"; chmod 644 "$WORK/old.pb.gz"
(umask 022; "$BPFPROF" record -d 1 -o "$WORK/old.pb.gz" 2> "$WORK/record.log") ||
  fail "record over a file: $(cat "$WORK/record.log")"
expect_mode 600 "$WORK/old.pb.gz"
pprof_check "$WORK/old.pb.gz"
(umask 077; "$BPFPROF" record -d 1 --file-mode 0640 -o "$WORK/group.pb.gz" 2> "$WORK/record.log") ||
  fail "record --file-mode 0640: $(cat "$WORK/record.log")"
expect_mode 640 "$WORK/group.pb.gz"
echo "record -o: 0600 new, 0600 over a 0644 file, 0640 with --file-mode 0640 under umask 077"

# run_agent OUTPUT_DIR SPOOL_DIR [env...]: 2.5 s of 1 s intervals, uploads
# to a closed port so that the profiles stay in the spool.
run_agent() {
  local out=$1 spool=$2; shift 2
  env "$@" "$BPFPROF" agent --interval 1s --service-name svc --output-dir "$out" \
    --pyroscope-url http://127.0.0.1:1 --spool-dir "$spool" 2> "$WORK/agent.log" &
  local agent=$!
  CHILDREN+=("$agent")
  for _ in $(seq 500); do grep -q 'profiling every' "$WORK/agent.log" && break; sleep 0.02; done
  sleep 2.5
  kill -TERM "$agent"; wait "$agent" || fail "agent exited $?: $(cat "$WORK/agent.log")"
  ls "$out"/svc-*.pb.gz > /dev/null || fail "no profiles in $out: $(cat "$WORK/agent.log")"
  ls "$spool"/[0-9]*.spool > /dev/null || fail "nothing spooled in $spool"
}
# check_spool DIR: private whatever --file-mode says.
check_spool() {
  expect_mode 700 "$1" "$1/rejected"
  expect_mode 600 "$1/.lock" "$1"/[0-9]*.spool
}

# 2. the agent's defaults, under umask 022
(umask 022; run_agent "$WORK/a/b/out" "$WORK/s/spool")
expect_mode 700 "$WORK/a" "$WORK/a/b" "$WORK/a/b/out" "$WORK/s"
expect_mode 600 "$WORK"/a/b/out/*
check_spool "$WORK/s/spool"
echo "agent: output dir and its parents 0700, $(ls "$WORK/a/b/out" | wc -l) profiles 0600, spool 0700/0600"

# 3. widened from the environment, under umask 077
(umask 077; run_agent "$WORK/g/out" "$WORK/g/spool" BPFPROF_FILE_MODE=0640)
expect_mode 750 "$WORK/g" "$WORK/g/out"
expect_mode 640 "$WORK"/g/out/*
check_spool "$WORK/g/spool"
mkdir -m 755 "$WORK/existing"
(umask 022; run_agent "$WORK/existing" "$WORK/g/spool")
expect_mode 755 "$WORK/existing"
expect_mode 600 "$WORK"/existing/*
echo "BPFPROF_FILE_MODE=0640: dir 0750, profiles 0640, spool still 0700/0600; an existing 0755 dir kept, its profiles 0600"

# 4. too wide
for m in 0646 0660 0744 0700 4600 0400 600x; do
  "$BPFPROF" agent --file-mode "$m" --output-dir "$WORK/x" > /dev/null 2> "$WORK/err"
  rc=$?
  [ "$rc" -eq 2 ] && grep -q "invalid file mode '$m'" "$WORK/err" ||
    fail "--file-mode $m: exit $rc, $(cat "$WORK/err")"
done
BPFPROF_FILE_MODE=0666 "$BPFPROF" agent --output-dir "$WORK/x" > /dev/null 2> "$WORK/err"
[ $? -eq 2 ] || fail "BPFPROF_FILE_MODE=0666 accepted"
"$BPFPROF" record --file-mode 0606 -d 1 > /dev/null 2>&1
[ $? -eq 2 ] || fail "record --file-mode 0606 accepted"
[ ! -e "$WORK/x" ] || fail "a refused agent created its output dir"
pass "profiles, spool and their directories 0600/0700 unless --file-mode widens the profiles"
