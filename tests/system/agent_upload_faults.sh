#!/usr/bin/env bash
# An upload server that misbehaves in every way we know, one fault at a
# time (the fake's fault modes, tests/ingest_server/pyroscope_ingest.py):
#   refused      nothing listens on the port yet
#   500          a server error
#   413          too large: refused for good
#   not_http     an SSH banner instead of HTTP
#   bad_status   "HTTP/1.1 OK 200"
#   endless_header, huge_body (after a 200), hang (no answer)
#   429          with Retry-After: 99999999999
# Checked: the agent keeps running and writing files; after each fault the
# spool empties again; at the end every profile written as a file was
# uploaded exactly once, except the 413's, which is in the spool's
# rejected/; the retries counted (metrics and exit log) are the faults
# served plus the refused attempts; the next attempt after the 429 comes
# at the backoff's 60 s cap, not in 3000 years; no sanitizer report (run
# with the ASan build's bpfprof). The URL carries credentials: they are
# sent, but neither the log nor /metrics shows them.
source "$(dirname "$0")/lib.sh"
require_bpf
store=$WORK/store
mkdir "$store"
secret=s3cr3t-pw

# requests.log of the fake: "UNIX-TIME ANSWER" per request to /ingest
requests() { wc -l < "$store/requests.log" 2>/dev/null || echo 0; }
# wait_answer ANSWER N SECONDS: the number of the first line past N that
# says ANSWER, once there is one (an upload may come between the control
# request and the fault)
wait_answer() {
  local k
  for _ in $(seq $(( $3 * 10 ))); do
    k=$(awk -v a="$1" -v n="$2" 'NR > n && $2 == a { print NR; exit }' "$store/requests.log")
    [ -n "$k" ] && { echo "$k"; return 0; }
    sleep 0.1
  done
  fail "no '$1' answered in $3 s: $(tail -3 "$store/requests.log")"
}
# wait_requests N SECONDS: until the server has seen N requests
wait_requests() {
  for _ in $(seq $(( $2 * 10 ))); do [ "$(requests)" -ge "$1" ] && return 0; sleep 0.1; done
  fail "the server saw $(requests) requests after $2 s, want $1"
}
pending() { find "$WORK/spool" -maxdepth 1 -type f -name '[0-9]*.spool' | wc -l; }
# wait_spool_empty SECONDS
wait_spool_empty() {
  for _ in $(seq $(( $1 * 10 ))); do [ "$(pending)" -eq 0 ] && return 0; sleep 0.1; done
  fail "$(pending) profiles still spooled after $1 s"
}
alive() { kill -0 "$agent" 2>/dev/null || fail "the agent died $1: $(tail -5 "$WORK/agent.log")"; }
inject() {
  curl -sf -X POST "http://127.0.0.1:$port/-/fail?count=1&$1" > /dev/null ||
    fail "control request $1"
}

# A free port, with nothing listening on it for now.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_calltree 150
"$BPFPROF" agent --interval 1s --service-name svc --output-dir "$WORK/files" \
  --pyroscope-url "http://bpfprof:$secret@127.0.0.1:$port" --spool-dir "$WORK/spool" \
  --metrics-addr 127.0.0.1:0 2> "$WORK/agent.log" &
agent=$!
CHILDREN+=("$agent")
for _ in $(seq 500); do grep -q 'profiling every' "$WORK/agent.log" && break; sleep 0.01; done
mport=$(metrics_port "$WORK/agent.log") || fail "no metrics port in the log: $(cat "$WORK/agent.log")"

# refused: attempts find nothing listening
for _ in $(seq 200); do grep -q '(will retry): Failed to connect' "$WORK/agent.log" && break; sleep 0.1; done
sleep 1
alive "with the server refusing"
start_ingest_server "$store" "$port"
wait_spool_empty 30
echo "refused: recovered once the server listened"

for fault in "mode=status&status=500" "mode=status&status=413" mode=not_http mode=bad_status \
  mode=endless_header mode=huge_body mode=hang \
  "mode=status&status=429&retry_after=99999999999"; do
  n=$(requests)
  files=$(ls "$WORK/files" | wc -l)
  answer=${fault#mode=} # what requests.log will say: the mode, or the status
  if [[ $answer == status* ]]; then answer=${fault#*&status=}; answer=${answer%%&*}; fi
  inject "$fault"
  k=$(wait_answer "$answer" "$n" 10)
  if [ "$answer" = 429 ]; then
    wait_requests $((k + 1)) 75 # well past the cap of 60 s: 3000 years before
    gap=$(awk -v k="$k" 'NR == k { t = $1 } NR == k + 1 { printf "%.1f", $1 - t }' \
      "$store/requests.log")
  fi
  wait_spool_empty 60
  alive "after $fault"
  echo "$fault: answered at request $k, $(( $(ls "$WORK/files" | wc -l) - files )) files meanwhile"
done
echo "429 with Retry-After 99999999999: next attempt after $gap s"

# the counts, once the figures are at most a second old
sleep 1.2
stored_before=$(ls "$store"/*.json | wc -l)
curl -sf "http://127.0.0.1:$mport/metrics" > "$WORK/metrics" || fail "scrape"
stored_after=$(ls "$store"/*.json | wc -l)
kill -TERM "$agent"
wait "$agent"; rc=$?
cat "$WORK/agent.log" | grep -v 'interval of'
grep -E '^bpfprof_(upload|spool)' "$WORK/metrics"
[ "$rc" -eq 0 ] || fail "agent exited $rc"
! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$WORK/agent.log" || fail "sanitizer report"

# nothing lost, nothing twice, the 413 set aside
read -r sent retried rejected expired waiting dropped < <(sed -n \
  's/.*uploads: \([0-9]*\) sent, \([0-9]*\) retried, \([0-9]*\) rejected, \([0-9]*\) too old; \([0-9]*\) waiting in the spool, \([0-9]*\) dropped.*/\1 \2 \3 \4 \5 \6/p' \
  "$WORK/agent.log")
[ -n "$sent" ] || fail "no upload figures in the exit log"
files=$(ls "$WORK/files" | wc -l)
stored=$(ls "$store"/*.json | wc -l)
distinct=$(sha256sum "$store"/*.pprof | awk '{ print $1 }' | sort -u | wc -l)
set_aside=$(ls "$WORK/spool/rejected/"*.spool 2>/dev/null | wc -l)
echo "files $files; uploads stored $stored ($distinct distinct); sent $sent, retried $retried," \
  "rejected $rejected ($set_aside in rejected/), $waiting waiting, $dropped dropped"
[ "$waiting" -eq 0 ] && [ "$dropped" -eq 0 ] && [ "$expired" -eq 0 ] ||
  fail "$waiting left in the spool, $dropped dropped, $expired expired"
[ "$stored" -eq "$sent" ] && [ "$distinct" -eq "$stored" ] ||
  fail "the server stored $stored ($distinct distinct), the agent sent $sent"
[ "$rejected" -eq 1 ] && [ "$set_aside" -eq 1 ] || fail "$rejected rejected, $set_aside set aside"
grep -q 413 "$WORK/spool/rejected/"*.reason || fail "the rejected profile's reason: $(cat "$WORK/spool/rejected/"*.reason)"
# Every interval written as a file went up, or aside: the same start times.
# (Times, not counts: two intervals that start in the same second share a
# file name, the later file replacing the earlier.)
python3 - "$store" "$WORK/files" "$WORK/agent.log" <<'EOF' || fail "files and uploads differ"
import calendar, glob, json, os, re, sys, time
store, files, log = sys.argv[1:]
sent = {int(json.load(open(f))["query"]["from"]) for f in glob.glob(store + "/*.json")}
aside = {int(t) for t in re.findall(r"upload of svc from (\d+): HTTP 413", open(log).read())}
written = {calendar.timegm(time.strptime(re.search(r"-(\d{8}T\d{6}Z)", f).group(1),
                                         "%Y%m%dT%H%M%SZ")) for f in os.listdir(files)}
if written != sent | aside or len(aside) != 1:
    sys.exit(f"written, not sent: {sorted(written - sent - aside)}; sent, not written: "
             f"{sorted((sent | aside) - written)}; set aside: {aside}")
EOF

# every failed attempt retried and counted: the faults served + the refused
faults=$(awk '$2 != 200 && $2 != 413 && $2 != "huge_body"' "$store/requests.log" | wc -l)
refused=$(grep -c '(will retry): Failed to connect' "$WORK/agent.log")
[ "$faults" -eq 6 ] || fail "$faults retryable faults served, want 6: $(cat "$store/requests.log")"
[ "$refused" -ge 1 ] && [ "$retried" -eq $((faults + refused)) ] ||
  fail "retried $retried, want $faults faults + $refused refused"
m=$(cat "$WORK/metrics")
[ "$(metric bpfprof_upload_retries_total <<< "$m")" -eq "$retried" ] &&
  [ "$(metric bpfprof_uploads_total 'result="rejected"' <<< "$m")" -eq 1 ] ||
  fail "/metrics disagrees: $(grep -E '^bpfprof_upload' <<< "$m")"
ok=$(metric bpfprof_uploads_total 'result="ok"' <<< "$m")
[ "$ok" -ge $((stored_before - 2)) ] && [ "$ok" -le "$stored_after" ] ||
  fail "/metrics says $ok sent, the server had $stored_before..$stored_after"

# the 429's wait: the backoff's cap, honoured
awk -v g="$gap" 'BEGIN { exit !(g >= 58 && g <= 64) }' || fail "next attempt after the 429: $gap s"

# credentials: sent, never shown
grep -q "\"Authorization\": \"Basic $(printf 'bpfprof:%s' "$secret" | base64)\"" "$store/000001.json" ||
  fail "the URL's credentials were not sent"
! grep -q "$secret" "$WORK/agent.log" "$WORK/metrics" || fail "the password is in the log or /metrics"
grep -q "into $WORK/files and http://\*\*\*@127.0.0.1:$port" "$WORK/agent.log" &&
  grep -q 'basic-auth-password-file' "$WORK/agent.log" ||
  fail "the log does not show the URL redacted, or how to pass credentials"
pass "faults survived: $files profiles, $sent uploaded once each, 1 set aside, $retried retries; 429 waited $gap s"
