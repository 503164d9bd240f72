#!/usr/bin/env bash
# Debug info from a real debuginfod server (Debian's `debuginfod`) on
# 127.0.0.1, serving the debug file of a fully stripped test binary:
#  1. with the server up, the binary's frames resolve through it;
#  2. with the server stopped, bpfprof still finishes, quickly, and says
#     once that the server is unreachable.
source "$(dirname "$0")/lib.sh"
require_bpf
command -v debuginfod >/dev/null || skip_or_fail "debuginfod is missing: run scripts/setup"

stripped=$FIXTURES/debuginfod/calltree_stripped
build_id=$(readelf -n "$stripped" | awk '/Build ID/ { print $3 }')
[ -n "$build_id" ] || fail "the stripped fixture has no build-id"
mkdir "$WORK/srv"
cp "$FIXTURES/debuginfod/calltree_fp.debug" "$WORK/srv/"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
export no_proxy='*'

debuginfod -F -p "$port" -d "$WORK/db.sqlite" "$WORK/srv" > "$WORK/server.log" 2>&1 &
server=$!
CHILDREN+=("$server")
# Wait until it has scanned the directory and serves the file.
python3 - "$url/buildid/$build_id/debuginfo" <<'PY' || { cat "$WORK/server.log"; fail "debuginfod never served the debug file"; }
import sys, time, urllib.request
for _ in range(300):
    try:
        with urllib.request.urlopen(sys.argv[1], timeout=1) as r:
            if r.status == 200:
                sys.exit(0)
    except Exception:
        pass
    time.sleep(0.1)
sys.exit(1)
PY

# count_named TRACES: samples whose stack is a|b;work;main.
count_named() { sum_traces '$3 ~ /^(a|b);work;main(;|$)/' "$1"; }

out=$WORK/up.pb.gz
DEBUGINFOD_CACHE_PATH=$WORK/cache1 "$BPFPROF" record --debuginfod "$url" -o "$out" -- \
  "$stripped" 2 > /dev/null 2> "$WORK/up.err" || { cat "$WORK/up.err"; fail "record (server up) failed"; }
pprof_check "$out"
pprof_traces "$out" > "$WORK/traces"
total=$(sum_traces 1 "$WORK/traces"); named=$(count_named "$WORK/traces")
echo "server up: $named of $total samples resolved to a|b;work;main"
[ "$total" -ge 150 ] || fail "only $total samples"
[ $((named * 100)) -ge $((total * 95)) ] || fail "only $named of $total samples resolved through debuginfod"

kill "$server"; wait "$server" 2>/dev/null
out=$WORK/down.pb.gz
start=$(date +%s)
DEBUGINFOD_CACHE_PATH=$WORK/cache2 "$BPFPROF" record --debuginfod "$url" -o "$out" -- \
  "$stripped" 1 > /dev/null 2> "$WORK/down.err" || { cat "$WORK/down.err"; fail "record (server down) failed"; }
took=$(( $(date +%s) - start ))
cat "$WORK/down.err"
pprof_check "$out"
said=$(grep -c "debuginfod $url unreachable" "$WORK/down.err")
[ "$said" -eq 1 ] || fail "said $said times that the server is unreachable, want once"
[ "$took" -le 10 ] || fail "took $took s with the server down"
pprof_traces "$out" > "$WORK/traces"
[ "$(count_named "$WORK/traces")" -eq 0 ] || fail "resolved without the server: the test proves nothing"
pass "debuginfod: resolved when up, one line and on time when down"
