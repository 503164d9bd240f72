#!/usr/bin/env bash
# `bpfprof agent --pyroscope-url` against a strict fake of Pyroscope's
# /ingest (tests/ingest_server/pyroscope_ingest.py) on 127.0.0.1:
#  1. 3 intervals with two services: one upload per service per interval,
#     readable by go tool pprof, with the right service_name and times;
#  2. the server down for 3 intervals, then back: every interval arrives,
#     in order, none twice;
#  3. the agent killed with SIGKILL while profiles are spooled, started
#     again: they still arrive;
#  4. uploads carry no per-sample labels, unless --upload-labels asks.
source "$(dirname "$0")/lib.sh"
require_bpf
store=$WORK/store
mkdir "$store"

start_agent() { # [more agent flags]
  "$BPFPROF" agent --interval 2s --pyroscope-url "http://127.0.0.1:$port" \
    --spool-dir "$WORK/spool" --tag env=test "$@" 2>> "$WORK/agent.log" &
  agent=$!
  CHILDREN+=("$agent")
}
# uploads: "SERVICE FROM UNTIL" per stored upload, in arrival order.
uploads() {
  python3 - "$store" <<'PY'
import json, glob, sys
for f in sorted(glob.glob(sys.argv[1] + "/*.json")):
    d = json.load(open(f))
    print(d["labels"]["service_name"], d["query"]["from"], d["query"]["until"])
PY
}
# wait_spool_empty SECONDS
wait_spool_empty() {
  for _ in $(seq $(( $1 * 10 ))); do
    [ -z "$(find "$WORK/spool" -maxdepth 1 -type f -name '[0-9]*' 2>/dev/null)" ] && return 0
    sleep 0.1
  done
  fail "profiles still spooled after $1 s: $(ls "$WORK/spool")"
}
# check_series SERVICE: its uploads are in order, none twice.
check_series() {
  uploads | awk -v s="$1" '$1 == s { print $2 }' > "$WORK/from.$1"
  sort -n -u "$WORK/from.$1" | cmp -s - "$WORK/from.$1" ||
    fail "$1: uploads out of order or twice: $(tr '\n' ' ' < "$WORK/from.$1")"
}

start_ingest_server "$store"
start_calltree 60
"$FIXTURES/threads_nofp" 60 & CHILDREN+=($!)
start_agent --metrics-addr 127.0.0.1:0
sleep 6.5
uploads > "$WORK/first"
cat "$WORK/first"
for svc in calltree_fp threads_nofp; do
  n=$(awk -v s="$svc" '$1 == s' "$WORK/first" | wc -l)
  [ "$n" -ge 3 ] || fail "$svc: $n uploads after 3 intervals, want 3"
  awk -v s="$svc" '$1 == s && ($3 - $2 < 1 || $3 - $2 > 3) { bad = 1 } END { exit bad }' \
    "$WORK/first" || fail "$svc: an upload does not span its 2 s interval"
done
for f in "$store"/*.pprof; do
  pprof_check "$f"
  grep -qE 'comm:|thread_name:' "$WORK/raw.txt" && fail "$f carries per-sample labels"
done
go tool pprof -top -sample_index=samples "$(ls "$store"/*.pprof | tail -1)" > /dev/null 2>&1 ||
  fail "go tool pprof cannot read an upload"

# 2. Down for 3 intervals.
kill "$server"; wait "$server" 2>/dev/null
sleep 6.5
before=$(uploads | wc -l)
start_ingest_server "$store" "$port"
wait_spool_empty 30
after=$(uploads | wc -l)
echo "server back: $((after - before)) uploads arrived from the spool"
[ $((after - before)) -ge 6 ] || fail "only $((after - before)) of the outage's profiles arrived"
check_series calltree_fp
check_series threads_nofp
# The agent's metrics saw the outage: retries, then the profiles sent.
sleep 1.2 # metrics are published once a second
mport=$(metrics_port "$WORK/agent.log") || fail "no metrics port in the log"
scrape "$mport" /metrics > "$WORK/metrics"
ok=$(metric bpfprof_uploads_total 'result="ok"' < "$WORK/metrics")
retries=$(metric bpfprof_upload_retries_total < "$WORK/metrics")
spool=$(metric bpfprof_spool_profiles < "$WORK/metrics")
received=$(uploads | wc -l)
echo "metrics: $ok uploads ok, $retries retries, $spool spooled; the server has $after to $received"
[ "$retries" -ge 1 ] && [ "$ok" -ge "$after" ] && [ "$ok" -le "$received" ] ||
  fail "metrics disagree: $ok uploads ok (server: $after to $received), $retries retries"

# 3. SIGKILL with profiles spooled.
kill "$server"; wait "$server" 2>/dev/null
sleep 4.5
spooled=$(find "$WORK/spool" -maxdepth 1 -type f -name '[0-9]*' | wc -l)
kill -KILL "$agent"; wait "$agent" 2>/dev/null
echo "killed the agent with $spooled profiles spooled"
[ "$spooled" -ge 2 ] || fail "only $spooled profiles spooled while the server was down"
before=$(uploads | wc -l)
start_ingest_server "$store" "$port"
start_agent --upload-labels comm
wait_spool_empty 30
after=$(uploads | wc -l)
echo "after the restart: $((after - before)) uploads"
[ $((after - before)) -ge "$spooled" ] || fail "spooled profiles lost across SIGKILL"
check_series calltree_fp
check_series threads_nofp
kill -TERM "$agent"; wait "$agent" || fail "agent exited $? after SIGTERM"
pprof_check "$(ls "$store"/*.pprof | tail -1)"
grep -q 'comm:' "$WORK/raw.txt" || fail "--upload-labels comm: no comm label uploaded"
tail -3 "$WORK/agent.log"
pass "agent uploads: per service per interval, outage and SIGKILL lose nothing"
