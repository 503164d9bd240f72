#!/usr/bin/env bash
# --log-format json holds for every line bpfprof writes on stderr (issue
# 12, "one log channel"): `record -- COMMAND`, `record` of the whole
# system, a usage error, a command that cannot run, and `agent`, with -v
# (libbpf's lines too), while warnings are forced from every source:
#  - debuginfod ($DEBUGINFOD_URLS) on a closed local port, for a stripped
#    binary, with $DEBUGINFOD_PROGRESS and $DEBUGINFOD_VERBOSE set (they
#    would make libdebuginfod write on stderr itself);
#  - the symbolizer, on a binary whose section headers are past its end,
#    named with a quote, a backslash, a control character and a byte that
#    is not UTF-8 (a JSON line must stay valid JSON and UTF-8);
#  - the agent's uploads, to a Pyroscope URL on the closed port.
# Every line must be a JSON object with time, level and msg, and the
# warnings forced must be among them, so that no output cannot pass.
source "$(dirname "$0")/lib.sh"
require_bpf

stripped=$FIXTURES/debuginfod/calltree_stripped
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export DEBUGINFOD_URLS=http://127.0.0.1:$port DEBUGINFOD_CACHE_PATH=$WORK/cache \
  DEBUGINFOD_PROGRESS=1 DEBUGINFOD_VERBOSE=1 no_proxy='*'

evil=$WORK/$(printf 'evil"\\\001\377.bin')
python3 - "$FIXTURES/calltree_fp" "$evil" <<'PY'
import os, struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
struct.pack_into("<Q", data, 0x28, 1 << 40)  # e_shoff: the kernel needs none
open(sys.argv[2], "wb").write(data)
os.chmod(sys.argv[2], 0o755)
PY

# check_json LOG PATTERN...: every line of LOG is a JSON object with time,
# level and msg; each PATTERN (a Python regex) matches the msg of one.
check_json() {
  python3 - "$@" <<'PY' || fail "$1 is not all JSON, or lacks a warning forced; it ends: $(tail -n 5 "$1")"
import json, re, sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
assert lines[-1] == b"", "the last line is cut"
msgs = []
for raw in lines[:-1]:
    try:
        o = json.loads(raw.decode("utf-8"))  # strict: valid UTF-8
    except ValueError as e:
        sys.exit("not a JSON line (%s): %r" % (e, raw))
    assert isinstance(o, dict) and set(o) == {"time", "level", "msg"}, raw
    assert o["level"] in ("debug", "info", "warning", "error"), raw
    assert not o["msg"].startswith("libbpf: libbpf: "), raw
    msgs.append(o["msg"])
for want in sys.argv[2:]:
    if not any(re.search(want, m) for m in msgs):
        sys.exit("no line matches /%s/" % want)
print("%s: %d JSON lines, the %d lines wanted among them" % (sys.argv[1].split("/")[-1], len(msgs), len(sys.argv) - 2))
PY
}

unreachable="^symbolizer: debuginfod http://127\.0\.0\.1:$port unreachable"
hostile='^symbolizer: read ELF \S*/evil"\\\x01\ufffd\.bin: '

# record -- COMMAND, -v: libbpf's debug lines, the debuginfod warning.
"$BPFPROF" record -v --log-format json -o "$WORK/cmd.pb.gz" -- "$stripped" 1 \
  > /dev/null 2> "$WORK/cmd.log" || fail "record -- COMMAND failed: $(tail -n 5 "$WORK/cmd.log")"
check_json "$WORK/cmd.log" '^libbpf: ' "$unreachable" ' samples, .*wrote '

# record of the whole system, briefly, while the hostile binary runs.
"$evil" 3 > /dev/null &
CHILDREN+=("$!")
sleep 0.2
"$BPFPROF" record -v --log-format json -d 2 -o "$WORK/all.pb.gz" 2> "$WORK/all.log" ||
  fail "record of the system failed: $(tail -n 5 "$WORK/all.log")"
check_json "$WORK/all.log" "$hostile" ' samples, .*wrote '

# A usage error after --log-format json; a command that cannot run.
"$BPFPROF" record --log-format json -F 0 2> "$WORK/usage.log"
[ $? -eq 2 ] || fail "record -F 0 did not exit 2"
check_json "$WORK/usage.log" "^invalid frequency '0'.*\nTry 'bpfprof record --help'\.$"
"$BPFPROF" record --log-format json -o "$WORK/none.pb.gz" -- "$WORK/no-such-command" 2> "$WORK/exec.log"
[ $? -eq 127 ] || fail "record of a missing command did not exit 127: $(cat "$WORK/exec.log")"
check_json "$WORK/exec.log" "^cannot run \S*/no-such-command: No such file"

# agent, -v, 1 s intervals, uploads to the closed port, both binaries.
"$stripped" 5 > /dev/null &
CHILDREN+=("$!")
"$evil" 5 > /dev/null &
CHILDREN+=("$!")
mkdir "$WORK/out"
start_agent "$WORK/agent.log" "$BPFPROF" agent -v --log-format json --interval 1s \
  --output-dir "$WORK/out" --spool-dir "$WORK/spool" --pyroscope-url "http://127.0.0.1:$port"
sleep 4
kill -INT "$AGENT_PID"
wait "$AGENT_PID" || fail "the agent exited with $?: $(tail -n 5 "$WORK/agent.log")"
check_json "$WORK/agent.log" '^profiling every 1 s' '^libbpf: ' "$unreachable" "$hostile" \
  '^pyroscope upload of .*: no answer \(will retry\)' '^upload of .* failed .*retrying' '^stopped: '
pass "every stderr line is JSON: record (command, system, usage error, exec failure) and agent"
