#!/usr/bin/env bash
# An interval's profile over the upload limits goes to Pyroscope in parts:
# with --upload-max-samples 4, one service's interval arrives as several
# uploads of the same series and time range, none over 4 Sample messages,
# whose samples add up to exactly those of the file the agent wrote for the
# same interval (both outputs are built from the same buffer).
source "$(dirname "$0")/lib.sh"
require_bpf

store=$WORK/store
start_ingest_server "$store"

start_calltree 10
"$FIXTURES/threads_nofp" 10 & CHILDREN+=($!)
"$BPFPROF" agent --interval 60s --service-name one --upload-max-samples 4 \
  --pyroscope-url "http://127.0.0.1:$port" --spool-dir "$WORK/spool" \
  --output-dir "$WORK/files" 2> "$WORK/agent.log" &
agent=$!
CHILDREN+=("$agent")
for _ in $(seq 500); do grep -q 'profiling every' "$WORK/agent.log" && break; sleep 0.01; done
sleep 3
kill -TERM "$agent"; wait "$agent" || fail "agent exited $?"
cat "$WORK/agent.log"
grep -q 'over the upload limits: sent in [0-9]* parts$' "$WORK/agent.log" ||
  fail "no split logged"

file=$(ls "$WORK"/files/one-*.pb.gz)
pprof_check "$file"
want=$(pprof_traces "$file" | sum_traces 1 /dev/stdin)
python3 - "$store" > "$WORK/parts" <<'PY'
import glob, json, sys
for f in sorted(glob.glob(sys.argv[1] + "/*.json")):
    d = json.load(open(f))
    print(f[:-5] + ".pprof", d["service_name"], d["from_seconds"], d["until_seconds"], d["samples"])
PY
nparts=$(wc -l < "$WORK/parts")
ranges=$(awk '{ print $2, $3, $4 }' "$WORK/parts" | sort -u | wc -l)
biggest=$(awk '$5 > m { m = $5 } END { print m + 0 }' "$WORK/parts")
got=0
while read -r pprof _; do
  pprof_check "$pprof"
  got=$((got + $(pprof_traces "$pprof" | sum_traces 1 /dev/stdin)))
done < "$WORK/parts"
echo "file: $want samples; uploads: $nparts parts of one series and range ($ranges), at most $biggest Sample messages each, $got samples"
[ "$nparts" -ge 2 ] || fail "$nparts uploads, want the interval split"
[ "$ranges" -eq 1 ] || fail "the parts differ in service or time range"
[ "$biggest" -le 4 ] || fail "a part has $biggest Sample messages, over --upload-max-samples 4"
[ "$got" -eq "$want" ] || fail "the parts hold $got samples, the file $want"
pass "upload split in $nparts parts, $got samples as in the file"
