#!/usr/bin/env bash
# The agent under valgrind, with every part on (files, uploads through the
# spool and the upload thread, the metrics thread, DWARF unwinding): a few
# intervals, a scrape, then SIGTERM. It must exit 0 within a few seconds,
# with no invalid access and no leak (the daemon runs for months).
source "$(dirname "$0")/lib.sh"
require_bpf
command -v valgrind >/dev/null || skip_or_fail "valgrind is missing: run scripts/setup"

store=$WORK/store
start_ingest_server "$store"

start_calltree 30
valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite,indirect \
  --error-exitcode=99 --suppressions="$(dirname "$0")/valgrind.supp" \
  "$BPFPROF" agent --interval 2s --unwind dwarf --output-dir "$WORK/files" \
  --pyroscope-url "http://127.0.0.1:$port" --spool-dir "$WORK/spool" \
  --metrics-addr 127.0.0.1:0 2> "$WORK/vg.log" &
agent=$!
CHILDREN+=("$agent")
for _ in $(seq 600); do grep -q 'profiling every' "$WORK/vg.log" && break; sleep 0.1; done
grep -q 'profiling every' "$WORK/vg.log" || fail "the agent did not start under valgrind"
# valgrind slows the agent down 20-50 times: wait for a whole interval
for _ in $(seq 600); do grep -q 'interval of' "$WORK/vg.log" && break; sleep 0.1; done
sleep 3
mport=$(metrics_port "$WORK/vg.log") || fail "no metrics port in the log"
scrape "$mport" /metrics > "$WORK/metrics"
kill -TERM "$agent"
t0=$SECONDS
wait "$agent"; rc=$?
took=$((SECONDS - t0))
cat "$WORK/vg.log"
[ "$rc" -eq 0 ] || fail "agent under valgrind exited $rc (99: valgrind found errors)"
[ "$took" -le 10 ] || fail "agent took $took s to exit after SIGTERM"
read -r status _ < "$WORK/metrics"
[ "$status" = 200 ] || fail "metrics scrape under valgrind: $status"
ls "$WORK"/files/*.pb.gz > /dev/null || fail "no profile files"
n=$(ls "$store"/*.json 2>/dev/null | wc -l)
[ "$n" -ge 1 ] || fail "nothing uploaded"
pass "agent clean under valgrind: exit 0 after $took s, $n uploads"
