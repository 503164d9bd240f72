#!/usr/bin/env bash
# The agent with Python processes, uploading to a strict fake of
# Pyroscope's /ingest: a long-running Debian python3.11 (py_driver ->
# py_leaf_a, py_leaf_b) arrives with its Python frames and lines, 2/3 and
# 1/3 (+-6 points) of its samples; three short-lived ones (0.6 s each,
# started while the agent runs, their functions renamed py_short_*) are
# resolved too: >= 80% of their samples under py_short_driver. The
# metrics count the samples with Python frames, the code objects kept and
# the walks cut at 64 frames (a process 100 calls deep for 1.5 s).
source "$(dirname "$0")/lib.sh"
require_bpf
[ -x /usr/bin/python3.11 ] || skip_or_fail "Debian's python3.11 is missing: run scripts/setup"
fixtures=$(dirname "$0")/fixtures
leaves=$WORK/py_leaves.py short=$WORK/py_short.py
cp "$fixtures/py_leaves.py" "$leaves" || fail "copy the fixture"
sed 's/py_leaf_/py_short_leaf_/g; s/py_driver/py_short_driver/g' "$leaves" > "$short"
store=$WORK/store
mkdir "$store"

start_ingest_server "$store"
"$BPFPROF" agent --interval 2s --pyroscope-url "http://127.0.0.1:$port" \
  --spool-dir "$WORK/spool" --metrics-addr 127.0.0.1:0 2>> "$WORK/agent.log" &
agent=$!
CHILDREN+=("$agent")
for _ in $(seq 500); do grep -q 'profiling every' "$WORK/agent.log" && break; sleep 0.02; done
grep -q 'profiling every' "$WORK/agent.log" || fail "the agent is not profiling: $(tail "$WORK/agent.log")"

/usr/bin/python3.11 "$leaves" 7 &
CHILDREN+=($!)
long=$!
for _ in 1 2 3; do
  sleep 1
  /usr/bin/python3.11 "$short" 0.6 || fail "the short-lived python failed"
done
# 100 calls deep for 1.5 s: its walks are cut at 64 frames, and counted
cat > "$WORK/py_deep.py" <<'EOF'
import time
def deep(n, end):
    if n:
        return deep(n - 1, end)
    while time.time() < end:
        pass
deep(100, time.time() + 1.5)
EOF
/usr/bin/python3.11 "$WORK/py_deep.py" || fail "the deep python failed"
wait "$long"
sleep 4.5 # the last interval written and sent
mport=$(metrics_port "$WORK/agent.log") || fail "no metrics port: $(tail "$WORK/agent.log")"
scrape "$mport" /metrics > "$WORK/metrics"
py_samples=$(metric bpfprof_python_samples_total < "$WORK/metrics") || fail "no bpfprof_python_samples_total"
code=$(metric bpfprof_python_code_objects < "$WORK/metrics") || fail "no bpfprof_python_code_objects"
cut=$(metric bpfprof_python_frames_lost_total 'reason="frames_cap"' < "$WORK/metrics") ||
  fail "no bpfprof_python_frames_lost_total{reason=\"frames_cap\"}"
echo "metrics: $py_samples samples with Python frames, $code code objects kept, $cut walks cut"
[ "${py_samples%.*}" -ge 600 ] || fail "bpfprof_python_samples_total is $py_samples"
# at least most of py_deep.py's ~150 samples (not == 0 before it: the
# agent samples every process, and the test's own python helpers can run
# more than 64 frames deep while importing)
[ "${cut%.*}" -ge 75 ] || fail "walks cut at the frame cap: $cut, not py_deep.py's"
kill -INT "$agent"
wait "$agent" || fail "the agent exited with $?: $(tail "$WORK/agent.log")"

files=("$store"/*.pprof)
[ -e "${files[0]}" ] || fail "nothing uploaded: $(tail "$WORK/agent.log")"
go tool pprof -top -lines -nodecount=1000 -symbolize=none "${files[@]}" 2> /dev/null > "$WORK/lines"
for f in "${files[@]}"; do pprof_traces "$f"; done > "$WORK/traces"
driver=$(sum_traces '$3 ~ /(^|;)py_driver(;|$)/' "$WORK/traces")
a=$(sum_traces '$3 ~ /(^|;)py_leaf_a(;|$)/' "$WORK/traces")
b=$(sum_traces '$3 ~ /(^|;)py_leaf_b(;|$)/' "$WORK/traces")
echo "long-running: $driver samples under py_driver, py_leaf_a $a, py_leaf_b $b"
[ "$driver" -ge 500 ] || fail "only $driver samples under py_driver in the uploads"
[ $((a * 100)) -ge $((driver * 6067 / 100)) ] && [ $((a * 100)) -le $((driver * 7267 / 100)) ] ||
  fail "py_leaf_a: $a of $driver, not 2/3 +-6 points"
[ $((b * 100)) -ge $((driver * 2733 / 100)) ] && [ $((b * 100)) -le $((driver * 3933 / 100)) ] ||
  fail "py_leaf_b: $b of $driver, not 1/3 +-6 points"
grep -q "py_leaf_a $leaves:1[01]\$" "$WORK/lines" || fail "no py_leaf_a line of $leaves: $(grep py_leaf "$WORK/lines")"

# The short-lived processes: every sample of theirs runs the script, so
# the share without Python frames is what detection missed.
shorts=$(sum_traces '$3 ~ /(^|;)py_short_driver(;|$)/' "$WORK/traces")
echo "short-lived: $shorts samples under py_short_driver of ~$((3 * 60)) taken"
[ "$shorts" -ge $((3 * 60 * 80 / 100)) ] || fail "short-lived: only $shorts samples resolved"
pass "the agent uploads Python frames, short-lived processes too"
