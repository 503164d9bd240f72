#!/usr/bin/env bash
# BPF maps far too small for the workload (issue 11, faults): 16 keys and 16
# stacks, with a dozen busy processes of distinct stacks, in each unwinding
# mode and in the agent. What does not fit is dropped and counted — in the
# summary line, the agent's last line and its metrics — and the rest is a
# good profile: no crash, exit 0.
source "$(dirname "$0")/lib.sh"
require_bpf

for i in $(seq 4); do
  "$FIXTURES/calltree_fp" 12 > /dev/null & CHILDREN+=("$!")
  "$FIXTURES/libc_burner" 12 > /dev/null & CHILDREN+=("$!")
  "$FIXTURES/threads_nofp" 12 > /dev/null & CHILDREN+=("$!")
done
tiny=(--max-keys 16 --max-stacks 16)
for mode in fp dwarf; do
  "$BPFPROF" record "${tiny[@]}" --unwind "$mode" -d 2 -o "$WORK/$mode.pb.gz" 2> "$WORK/$mode.log" ||
    fail "$mode: record failed: $(cat "$WORK/$mode.log")"
  pprof_check "$WORK/$mode.pb.gz"
  line=$(grep 'samples, .* dropped' "$WORK/$mode.log")
  dropped=$(sed -n 's/.* \([0-9]*\) dropped.*/\1/p' <<< "$line")
  lost=$(sed -n 's/.*(\([0-9]*\) kernel and \([0-9]*\) user stacks lost).*/\1 \2/p' <<< "$line")
  echo "$mode: $line"
  [ -n "$dropped" ] || fail "$mode: no summary line: $(cat "$WORK/$mode.log")"
  [ "$dropped" -gt 0 ] || [ "${lost% *}" -gt 0 ] || [ "${lost#* }" -gt 0 ] ||
    fail "$mode: nothing was counted as dropped with 16-entry maps"
done

start_agent "$WORK/agent.log" "$BPFPROF" agent "${tiny[@]}" --interval 1s --output-dir "$WORK/out" \
  --metrics-addr 127.0.0.1:0
sleep 3.5
scrape "$METRICS_PORT" /metrics > "$WORK/metrics"
kill -INT "$AGENT_PID"
wait "$AGENT_PID" || fail "agent exited with $?: $(tail -5 "$WORK/agent.log")"
grep -q "AddressSanitizer\|runtime error" "$WORK/agent.log" && fail "agent: $(cat "$WORK/agent.log")"
lost=$(awk '/^bpfprof_(samples_lost|stacks_lost)_total/ { s += $2 } END { print s + 0 }' "$WORK/metrics")
files=$(ls "$WORK"/out/*.pb.gz | wc -l)
for f in "$WORK"/out/*.pb.gz; do pprof_check "$f"; done
echo "agent: $files profiles, $lost samples or stacks lost (metrics); $(grep stopped "$WORK/agent.log")"
[ "$files" -ge 2 ] || fail "agent: only $files profiles"
[ "${lost%.*}" -gt 0 ] || fail "agent: nothing counted lost with 16-entry maps: $(grep lost "$WORK/metrics")"
pass "tiny BPF maps: drops counted, profiles good, no crash"
