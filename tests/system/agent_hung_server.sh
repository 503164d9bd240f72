#!/usr/bin/env bash
# A Pyroscope that accepts connections and never answers must not hold the
# agent: sampling and files go on (uploads have their own thread), SIGTERM
# ends it within a few seconds (the request in flight is cut off after the
# 3 s given to pending uploads), and the profiles not sent stay spooled for
# the next start.
source "$(dirname "$0")/lib.sh"
require_bpf

# A listener that never reads nor answers; prints its port.
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
print(s.getsockname()[1], flush=True)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
' > "$WORK/port" &
CHILDREN+=($!)
for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
port=$(head -1 "$WORK/port")
[ -n "$port" ] || fail "the silent server did not start"

start_calltree 10
"$BPFPROF" agent --interval 1s --service-name svc --output-dir "$WORK/files" \
  --pyroscope-url "http://127.0.0.1:$port" --spool-dir "$WORK/spool" 2> "$WORK/agent.log" &
agent=$!
CHILDREN+=("$agent")
for _ in $(seq 500); do grep -q 'profiling every' "$WORK/agent.log" && break; sleep 0.01; done
sleep 4.5
files=$(ls "$WORK/files" | wc -l)
kill -TERM "$agent"
t0=$(date +%s%N)
wait "$agent"; rc=$?
took_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
cat "$WORK/agent.log"
spooled=$(find "$WORK/spool" -maxdepth 1 -name '[0-9]*.spool' | wc -l)
echo "files while the server hung: $files; exit after $took_ms ms; $spooled profiles left spooled"
[ "$rc" -eq 0 ] || fail "agent exited $rc"
[ "$files" -ge 4 ] || fail "only $files files in 4.5 s of 1 s intervals: the silent server held up the agent"
[ "$took_ms" -le 6000 ] || fail "exit took $took_ms ms after SIGTERM"
[ "$spooled" -ge 5 ] || fail "only $spooled profiles spooled"
pass "silent server: $files files written, exit in $took_ms ms, $spooled profiles kept for later"
