#!/usr/bin/env bash
# The agent's files, through the real binary:
#  1. a profile never replaces another: with a file already under every
#     name SERVICE-YYYYmmddTHHMMSSZ.pb.gz of the next minute (what a second
#     interval in the same second, or a restart, finds), each profile goes
#     to SERVICE-YYYYmmddTHHMMSSZ-1.pb.gz (-2 for a second one in that
#     second, as a short last interval gives) and every older file keeps its
#     bytes; go tool pprof reads the new ones; retention (--retain-files 3)
#     counts and trims them with the rest, oldest first;
#  2. what an agent SIGKILLed mid-write left: its temporary files in the
#     output directory (.SERVICE-...pb.gz.XXXXXX), the spool and rejected/
#     (.tmp-N.spool, .tmp-N.reason) are removed at start, logged once with
#     their count; files of other names stay;
#  3. an ancestor of --output-dir or --spool-dir owned by nobody, or group-
#     writable without the sticky bit: refused at start with one line naming
#     it, its owner and mode and the fix, nothing created; root's 0755, or
#     sticky 1777 as /tmp: the agent starts.
source "$(dirname "$0")/lib.sh"
require_bpf

start_calltree 60

# run_agent SECONDS ARGS...: the agent for SECONDS after it profiles, then
# SIGTERM; it must exit 0.
run_agent() {
  local secs=$1; shift
  start_agent "$WORK/agent.log" "$BPFPROF" agent --interval 1s --service-name svc "$@"
  sleep "$secs"
  kill -TERM "$AGENT_PID"
  wait "$AGENT_PID" || fail "agent exited $?: $(cat "$WORK/agent.log")"
}
stamp() { date -u -d "@$1" +%Y%m%dT%H%M%SZ; }

# 1. every name of the next minute taken
out=$WORK/out
mkdir -m 700 "$out"
now=$(date +%s)
for t in $(seq $((now - 2)) $((now + 60))); do
  echo "planted $t" > "$out/svc-$(stamp "$t").pb.gz"
done
run_agent 3 --output-dir "$out"
cat "$WORK/agent.log"
for t in $(seq $((now - 2)) $((now + 60))); do
  [ "$(cat "$out/svc-$(stamp "$t").pb.gz")" = "planted $t" ] ||
    fail "svc-$(stamp "$t").pb.gz was replaced by a profile"
done
written=$(sed -n 's/.*stopped: \([0-9]*\) profiles written.*/\1/p' "$WORK/agent.log")
new=("$out"/svc-*Z-[1-9]*.pb.gz)
[ -e "${new[0]}" ] && [ "${#new[@]}" -eq "$written" ] && [ "$written" -ge 2 ] ||
  fail "${#new[@]} profiles named SERVICE-STAMP-N.pb.gz, want the $written written: $(ls "$out")"
for f in "${new[@]}"; do pprof_check "$f"; done
echo "$written profiles as $(cd "$out" && echo svc-*Z-[1-9]*.pb.gz); the 63 files in their names kept"
run_agent 1 --output-dir "$out" --retain-files 3
left=$(ls "$out" | grep -c '^svc-')
[ "$left" -eq 3 ] || fail "$left profiles left, want 3 (--retain-files 3): $(ls "$out")"
for t in $((now + 58)) $((now + 59)) $((now + 60)); do # the newest: planted
  [ "$(cat "$out/svc-$(stamp "$t").pb.gz")" = "planted $t" ] || fail "retention kept $(ls "$out")"
done
echo "retention: the 3 newest kept, the -N files counted and deleted first"

# 2. leftovers of a killed agent
out=$WORK/left/out spool=$WORK/left/spool
mkdir -p -m 700 "$WORK/left" "$out" "$spool" "$spool/rejected"
for f in "$out/.svc-20200101T000000Z.pb.gz.AbC123" "$out/.svc-20200101T000001Z.pb.gz.x1Y2z3" \
    "$spool/.tmp-00000000000000000005.spool" "$spool/rejected/.tmp-00000000000000000004.reason" \
    "$out/notes.txt" "$out/.svc-20200101T000000Z.pb.gz.Ab" "$spool/.tmp-notes" "$spool/notes"; do
  echo partial > "$f"
done
run_agent 1 --output-dir "$out" --spool-dir "$spool" --pyroscope-url http://127.0.0.1:1
cat "$WORK/agent.log"
for f in "$out/.svc-20200101T000000Z.pb.gz.AbC123" "$out/.svc-20200101T000001Z.pb.gz.x1Y2z3" \
    "$spool/.tmp-00000000000000000005.spool" "$spool/rejected/.tmp-00000000000000000004.reason"; do
  [ ! -e "$f" ] || fail "leftover $f not removed"
done
for f in "$out/notes.txt" "$out/.svc-20200101T000000Z.pb.gz.Ab" "$spool/.tmp-notes" "$spool/notes"; do
  [ "$(cat "$f")" = partial ] || fail "$f, not a temporary file of bpfprof's, was removed"
done
grep -q "output directory $out: removed 2 temporary files left by an interrupted write" \
  "$WORK/agent.log" || fail "no line counting the output directory's leftovers"
grep -q "spool $spool: removed 2 temporary files left by an interrupted write" \
  "$WORK/agent.log" || fail "no line counting the spool's leftovers"
echo "leftovers: 2 in the output directory and 2 in the spool removed, logged once each; others kept"

# 3. ancestors
anc=$WORK/anc
mkdir -m 755 "$anc"
chmod 755 "$WORK"
# refused ARGS... GREP: the agent exits non-zero at once, saying GREP.
refused() {
  local want=${*: -1}
  timeout 20 "$BPFPROF" agent --interval 1s "${@:1:$#-1}" > /dev/null 2> "$WORK/agent.log"
  local rc=$?
  cat "$WORK/agent.log"
  [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "agent exited $rc, want a refusal: $(cat "$WORK/agent.log")"
  grep -q -- "$want" "$WORK/agent.log" || fail "no line saying: $want"
}
chown 65534:65534 "$anc"
refused --output-dir "$anc/sub/out" \
  "output directory $anc/sub/out: its ancestor $anc is owned by uid 65534 (mode 0755).*chown 0 $anc"
refused --output-dir "$WORK/ok" --pyroscope-url http://127.0.0.1:1 --spool-dir "$anc/spool" \
  "spool $anc/spool: its ancestor $anc is owned by uid 65534"
[ ! -e "$anc/sub" ] && [ ! -e "$anc/spool" ] || fail "a refused agent created its directories"
chown 0:0 "$anc" && chmod 775 "$anc"
refused --output-dir "$anc/sub/out" \
  "its ancestor $anc is writable by group or others without the sticky bit (uid 0, mode 0775).*chmod go-w $anc"
echo "ancestors of nobody's and group-writable: refused"
chmod 1777 "$anc"
run_agent 1 --output-dir "$anc/sticky/out"
chmod 755 "$anc"
run_agent 1 --output-dir "$anc/sub/out"
ls "$anc"/sticky/out/svc-*.pb.gz "$anc"/sub/out/svc-*.pb.gz > /dev/null || fail "no profiles"
pass "profiles never replace one another, a killed agent's temporary files are removed, unsafe ancestors refused"
