#!/usr/bin/env bash
# `bpfprof agent --metrics-addr`: Prometheus text on /metrics while the
# agent runs, with figures that agree with what it did:
#  1. samples taken grow between two scrapes;
#  2. profiles_written_total equals the files in the directory (retention
#     off), intervals_total the intervals;
#  3. the symbolizer cache, CPU seconds and RSS are there and plausible;
#  4. every sample line belongs to a family with # HELP and # TYPE, and the
#     samples-lost family has its reasons;
#  5. a bad --metrics-addr is a usage error; an unknown path is a 404.
source "$(dirname "$0")/lib.sh"
require_bpf

"$BPFPROF" agent --output-dir "$WORK/x" --metrics-addr 127.0.0.1 > /dev/null 2>&1
[ $? -eq 2 ] || fail "--metrics-addr without a port is not a usage error"

out=$WORK/profiles
start_calltree 8
start_agent "$WORK/agent.log" "$BPFPROF" agent --interval 1s --output-dir "$out" --metrics-addr 127.0.0.1:0
sleep 2.5
scrape "$METRICS_PORT" /metrics > "$WORK/m1"
sleep 2
scrape "$METRICS_PORT" /metrics > "$WORK/m2"
read -r status404 _ < <(scrape "$METRICS_PORT" /nope)
kill -TERM "$AGENT_PID"; wait "$AGENT_PID" || fail "agent exited $?"
cat "$WORK/agent.log"
head -1 "$WORK/m1"
grep -E '^(bpfprof_samples|bpfprof_profiles|bpfprof_intervals|bpfprof_symbolizer_cache_(bytes|hit)|process_)' \
  "$WORK/m2"

read -r status ctype < "$WORK/m1"
[ "$status" = 200 ] || fail "GET /metrics: $status"
[[ $ctype == text/plain*version=0.0.4* ]] || fail "content type '$ctype'"
s1=$(tail -n +2 "$WORK/m1" | metric bpfprof_samples_total) || fail "no bpfprof_samples_total"
s2=$(tail -n +2 "$WORK/m2" | metric bpfprof_samples_total)
awk -v a="$s1" -v b="$s2" 'BEGIN { exit !(b > a && a > 0) }' ||
  fail "samples_total did not grow: $s1 then $s2"

# 2: the second scrape is at most a second old, and intervals of 1 s
# went on after it: compare with the files written by then.
written=$(tail -n +2 "$WORK/m2" | metric bpfprof_profiles_written_total)
intervals=$(tail -n +2 "$WORK/m2" | metric bpfprof_intervals_total)
files=$(ls "$out" | wc -l)
echo "scrape 2: $written profiles written over $intervals intervals; $files files at the end"
[ "$intervals" -ge 3 ] && [ "$written" -ge "$intervals" ] && [ "$written" -le "$files" ] ||
  fail "profiles_written_total $written, intervals_total $intervals, files $files"

# 3
m=$(tail -n +2 "$WORK/m2")
hits=$(metric bpfprof_symbolizer_cache_hits_total <<< "$m") || fail "no cache hits metric"
misses=$(metric bpfprof_symbolizer_cache_misses_total <<< "$m") || fail "no cache misses metric"
ratio=$(metric bpfprof_symbolizer_cache_hit_ratio <<< "$m") || fail "no hit ratio"
bytes=$(metric bpfprof_symbolizer_cache_bytes <<< "$m") || fail "no cache bytes"
cpu=$(metric process_cpu_seconds_total <<< "$m") || fail "no CPU seconds"
rss=$(metric process_resident_memory_bytes <<< "$m") || fail "no RSS"
awk -v h="$hits" -v mi="$misses" -v r="$ratio" -v b="$bytes" -v c="$cpu" -v rss="$rss" 'BEGIN {
  want = (h + mi) ? h / (h + mi) : 0
  exit !(mi > 0 && b > 0 && r >= want - 1e-9 && r <= want + 1e-9 && c > 0 && c < 60 &&
         rss > 1e6 && rss < 1e9) }' ||
  fail "implausible: hits $hits misses $misses ratio $ratio bytes $bytes cpu $cpu rss $rss"

# 4
awk '/^# HELP / { help[$3] = 1 } /^# TYPE / { type[$3] = 1 }
  /^[a-z]/ { n = $1; sub(/\{.*/, "", n); if (!(n in help) || !(n in type)) { print "orphan: " $0; bad = 1 } }
  END { exit bad }' <<< "$m" || fail "samples without # HELP/# TYPE"
for reason in counts_map_full snapshot_ring_full stack_table_full; do
  metric bpfprof_samples_lost_total "reason=\"$reason\"" <<< "$m" > /dev/null ||
    fail "no samples lost for reason $reason"
done

# 5
[ "$status404" = 404 ] || fail "GET /nope: $status404, want 404"
pass "agent metrics: $s1 then $s2 samples, $written profiles, hit ratio $ratio, RSS $rss"
