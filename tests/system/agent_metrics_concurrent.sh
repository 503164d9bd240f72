#!/usr/bin/env bash
# The metrics server serves many clients at once and cannot be held by any:
#  1. it listens on exactly the address given (127.0.0.1, not 0.0.0.0);
#  2. with 24 idle connections open (half silent, half with a partial
#     request), a scrape of /metrics answers within 1 s (one at a time, as
#     before, it waited 2 s for each);
#  3. 200 connections at once: the agent stays up, the ones over the cap are
#     closed at once, the ones taken in are cut at their 2 s deadline, and
#     a scrape answers again within 4 s;
#  4. /metrics counts it: accepted, refused over the cap (> 0), timed out.
source "$(dirname "$0")/lib.sh"
require_bpf

start_agent "$WORK/agent.log" "$BPFPROF" agent --interval 1s --output-dir "$WORK/out" --metrics-addr 127.0.0.1:0

# 1: /proc/net/tcp lists local addresses as hex IP:PORT; state 0A is LISTEN.
listen=$(awk -v p="$(printf '%04X' "$METRICS_PORT")" '$4 == "0A" && $2 ~ ":" p "$" { print $2 }' \
  /proc/net/tcp)
[ "$listen" = "0100007F:$(printf '%04X' "$METRICS_PORT")" ] ||
  fail "--metrics-addr 127.0.0.1:$METRICS_PORT listens on '$listen'"

python3 - "$METRICS_PORT" > "$WORK/result" 2> "$WORK/client.log" <<'EOF'
import socket, sys, time, urllib.request
port = int(sys.argv[1])

def scrape(timeout):
    """(seconds, body) or (seconds, None) when refused, cut or too slow."""
    t0 = time.monotonic()
    try:
        r = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=timeout)
        return time.monotonic() - t0, r.read().decode()
    except OSError as e:
        sys.stderr.write(f"scrape: {e!r}\n")
        return time.monotonic() - t0, None

# 2
idle = []
for i in range(24):
    s = socket.create_connection(("127.0.0.1", port))
    if i % 2:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1")
    idle.append(s)
time.sleep(0.2)
took, body = scrape(5)
print(f"idle {took:.3f} {int(body is not None)}")
for s in idle:
    s.close()

# 3
flood = []
for i in range(200):
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex(("127.0.0.1", port))
    flood.append(s)
time.sleep(0.3)
t0, tries, body = time.monotonic(), 0, None
while body is None and time.monotonic() - t0 < 4:
    tries += 1
    _, body = scrape(2)
    if body is None:
        time.sleep(0.1)
print(f"flood {time.monotonic() - t0:.3f} {tries} {int(body is not None)}")
for s in flood:
    s.close()

# 4: the figures are published once a second
time.sleep(1.5)
_, body = scrape(5)
sys.stdout.write(body or "")
EOF
sort "$WORK/client.log" | uniq -c | head -5
kill -0 "$AGENT_PID" 2>/dev/null || fail "the agent died: $(cat "$WORK/agent.log")"
kill -TERM "$AGENT_PID"; wait "$AGENT_PID" || fail "agent exited $?"
cat "$WORK/agent.log"
head -2 "$WORK/result"
grep '^bpfprof_metrics_' "$WORK/result"

read -r _ idle_took ok < <(grep '^idle ' "$WORK/result")
[ "$ok" = 1 ] || fail "no answer to a scrape with 24 idle connections open"
awk -v t="$idle_took" 'BEGIN { exit !(t < 1) }' ||
  fail "scrape with 24 idle connections took $idle_took s"
read -r _ flood_took tries ok < <(grep '^flood ' "$WORK/result")
[ "$ok" = 1 ] || fail "no answer to a scrape within 4 s of 200 connections"

m=$(tail -n +3 "$WORK/result")
accepted=$(metric bpfprof_metrics_connections_accepted_total <<< "$m") || fail "no accepted count"
refused=$(metric bpfprof_metrics_connections_refused_total <<< "$m") || fail "no refused count"
timed_out=$(metric bpfprof_metrics_connections_timed_out_total <<< "$m") || fail "no timed-out count"
open=$(metric bpfprof_metrics_connections_open <<< "$m") || fail "no open gauge"
[ "$refused" -gt 0 ] || fail "200 connections at once, none refused over the cap"
[ "$accepted" -ge 88 ] || fail "only $accepted connections accepted (24 idle + 64 of the flood + scrapes)"
[ "$timed_out" -gt 0 ] || fail "no connection of the flood timed out"
[ "$open" -le 1 ] || fail "$open connections still open after the clients left"
pass "24 idle connections: scrape in ${idle_took}s; 200 at once: answered after ${flood_took}s ($tries tries), $accepted accepted, $refused refused, $timed_out timed out"
