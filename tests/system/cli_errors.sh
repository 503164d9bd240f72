#!/usr/bin/env bash
# The CLI explains itself and fails clearly: --help covers every flag; bad
# flags, unknown pids, missing privileges and a missing command each give
# one line and a non-zero exit; so does a `record -o` path that cannot be
# written (missing directory, a directory, a read-only file system), at
# once, before recording or starting the command.
source "$(dirname "$0")/lib.sh"
require_bpf

# expect_error WANT_RC PATTERN CMD...: CMD exits WANT_RC, stderr matches PATTERN.
expect_error() {
  local want=$1 pattern=$2; shift 2
  "$@" > "$WORK/out" 2> "$WORK/err"; local rc=$?
  [ "$rc" -eq "$want" ] || fail "'$*' exited $rc, want $want; stderr: $(cat "$WORK/err")"
  grep -qE "$pattern" "$WORK/err" || fail "'$*' stderr lacks /$pattern/: $(cat "$WORK/err")"
}

"$BPFPROF" --help > "$WORK/help" || fail "bpfprof --help failed"
grep -q record "$WORK/help" || fail "bpfprof --help does not list record"
"$BPFPROF" record --help > "$WORK/rhelp" || fail "bpfprof record --help failed"
for flag in --frequency --duration --pid --output --include-idle --unwind --snapshot-kb --debuginfod --symbolizer-cache-mb --file-mode --verbose --help; do
  grep -q -- "$flag" "$WORK/rhelp" || fail "record --help does not explain $flag"
done

"$BPFPROF" agent --help > "$WORK/ahelp" || fail "bpfprof agent --help failed"
for flag in --interval --output-dir --retain-files --retain-mb --service-name --pyroscope-url \
    --pyroscope-ca-file --basic-auth-user --basic-auth-password-file --bearer-token-file \
    --tenant-id --tag --spool-dir --spool-max-mb --upload-labels --metrics-addr --frequency \
    --unwind --log-format --file-mode --verbose --help BPFPROF_SOME_FLAG; do
  grep -q -- "$flag" "$WORK/ahelp" || fail "agent --help does not explain $flag"
done
expect_error 2 "nowhere to put profiles" "$BPFPROF" agent
expect_error 2 "invalid interval" "$BPFPROF" agent --interval 0 --output-dir "$WORK/a"
expect_error 2 "invalid interval" "$BPFPROF" agent --interval 10x --output-dir "$WORK/a"
expect_error 2 "invalid tag" "$BPFPROF" agent --tag novalue --output-dir "$WORK/a"
expect_error 2 "invalid --upload-labels" "$BPFPROF" agent --upload-labels pid --output-dir "$WORK/a"
expect_error 2 "unknown option '--bogus'" "$BPFPROF" agent --bogus
expect_error 2 "invalid --metrics-addr" "$BPFPROF" agent --metrics-addr nohost --output-dir "$WORK/a"
expect_error 2 "invalid log format" "$BPFPROF" agent --log-format xml --output-dir "$WORK/a"
# Settings from BPFPROF_* variables, checked like the flags; flags win.
BPFPROF_INTERVAL=10x expect_error 2 "invalid interval '10x'" "$BPFPROF" agent --output-dir "$WORK/a"
BPFPROF_INCLUDE_IDLE=maybe expect_error 2 "invalid BPFPROF_INCLUDE_IDLE" "$BPFPROF" agent \
  --output-dir "$WORK/a"
start_calltree 10 # samples for the profiles, on an idle machine too
BPFPROF_OUTPUT_DIR=$WORK/env BPFPROF_INTERVAL=30s BPFPROF_LOG_FORMAT=json \
  "$BPFPROF" agent --interval 1s --service-name envtest 2> "$WORK/json.log" &
agent=$!
CHILDREN+=("$agent")
for _ in $(seq 500); do grep -q 'profiling every' "$WORK/json.log" && break; sleep 0.02; done
sleep 2.5
kill -TERM "$agent"; wait "$agent" || fail "agent set up from the environment exited $?"
ls "$WORK/env"/envtest-*.pb.gz > /dev/null || fail "no profiles in BPFPROF_OUTPUT_DIR"
# --log-format json: every line an object with time, level and msg.
python3 - "$WORK/json.log" "$WORK/env" <<'PY' || fail "log lines not JSON: $(cat "$WORK/json.log")"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) >= 3, lines
for l in lines:
    o = json.loads(l)
    assert set(o) == {"time", "level", "msg"} and o["level"] in ("info", "warning", "error"), o
    assert o["time"].endswith("Z"), o
msgs = [json.loads(l)["msg"] for l in lines]
assert "profiling every 1 s into " + sys.argv[2] in msgs, msgs  # the flag won
assert any(m.startswith("stopped:") for m in msgs), msgs
PY

expect_error 2 "unknown option '--bogus'" "$BPFPROF" record --bogus
expect_error 2 "unknown command" "$BPFPROF" frobnicate
expect_error 2 "invalid frequency" "$BPFPROF" record -F 0
expect_error 2 "invalid duration" "$BPFPROF" record -d abc
expect_error 2 "invalid cache size" "$BPFPROF" record --symbolizer-cache-mb 0
expect_error 2 "invalid unwind mode" "$BPFPROF" record --unwind lbr
expect_error 2 "invalid snapshot size" "$BPFPROF" record --snapshot-kb 6
expect_error 2 "needs a value" "$BPFPROF" record -o
expect_error 2 "exclude each other" "$BPFPROF" record -p 1 -- true
expect_error 2 "invalid file mode '0666'" "$BPFPROF" record --file-mode 0666 -d 1

# An output that cannot be written fails before recording: within a
# second, without running the command, leaving no file behind.
ro=$WORK/ro
mkdir "$ro"
mount -t tmpfs -o ro,size=64k bpfprof-ro "$ro" || skip_or_fail "cannot mount a tmpfs"
trap 'umount "$ro" 2>/dev/null; cleanup' EXIT
mkdir "$WORK/adir"
for case in "$WORK/no/such/dir/p.pb.gz:No such file or directory" "$WORK/adir:Is a directory" \
    "$WORK/adir/:Is a directory" "$ro/p.pb.gz:Read-only file system" \
    "/dev/null:not a regular file \('-o -' writes to standard output\)"; do
  path=${case%%:*}
  t0=$(date +%s%N)
  expect_error 1 "^bpfprof: error: cannot write the profile to $path: ${case#*:}\$" \
    "$BPFPROF" record -d 5 -o "$path" -- touch "$WORK/ran"
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  [ "$(wc -l < "$WORK/err")" -eq 1 ] || fail "record -o $path: more than one line: $(cat "$WORK/err")"
  [ "$ms" -lt 1000 ] || fail "record -o $path took $ms ms to fail"
  [ ! -e "$WORK/ran" ] || fail "record -o $path ran the command"
  echo "record -o $path: failed in $ms ms: $(cat "$WORK/err")"
done
[ -z "$(ls -A "$WORK/adir")" ] || fail "files left in $WORK/adir: $(ls -A "$WORK/adir")"

unused=4194000
while kill -0 "$unused" 2>/dev/null; do unused=$((unused + 1)); done
expect_error 1 "no process with pid $unused" "$BPFPROF" record -p "$unused" -d 1

# Not root: the binary is run as nobody from a directory nobody can enter.
chmod 755 "$WORK" && cp "$BPFPROF" "$WORK/bpfprof" && chmod 755 "$WORK/bpfprof"
expect_error 1 "root or CAP_BPF" setpriv --reuid=65534 --regid=65534 --clear-groups \
  "$WORK/bpfprof" record -d 1 -o "$WORK/nobody.pb.gz"

expect_error 127 "cannot run /nonexistent/cmd" \
  "$BPFPROF" record -o "$WORK/missing.pb.gz" -- /nonexistent/cmd
pass "CLI errors and help"
