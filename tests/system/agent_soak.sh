#!/usr/bin/env bash
# The agent under churn (issue 11, soak): `bpfprof agent --interval 2s`
# with a 32 MiB symbolizer cache while fixtures/soak.py runs, for
# SOAK_SECONDS (default 75): a few thousand short-lived processes of
# SOAK_PROGRAMS (default 120) distinct generated binaries, their pids
# reused within seconds (ns_last_pid), and a process that dlopens and
# dlcloses SOAK_LIBS (default 16) generated libraries in a loop, each
# mapped where the last one was. Every SOAK_PERIOD s (default 3) soak.py
# reads the agent's RSS, fds, BPF map entries and metrics. Asserted:
#  1. the agent lives through it, logs no sanitizer report, exits 0 on
#     SIGINT;
#  2. fds at the end within 3 of those at the start (after the first
#     interval: the output dir, the metrics socket, the maps are open);
#  3. RSS flat: over the second half of the churn its least-squares slope
#     is under 2 MiB a minute (growth of 1 KiB per process started would be
#     ~2 MiB a minute here), and its highest reading there is at most the
#     first half's highest + 8 MiB (not checked under ASan, whose
#     quarantine holds freed blocks); the symbolizer cache at most its cap
#     + 16 MiB (the cap
#     bounds all but the one object being parsed: libc's tables with
#     libc6-dbg's DWARF are the largest here);
#  4. BPF maps bounded: seen_pids (and pids) hold at most the processes
#     alive at the time (+8 for races), never more than a tenth of the
#     processes started: an exiting process leaves them; the counts and
#     stacks maps never full;
#  5. no sample attributed to another process's symbols, over every
#     profile written: soak_fn_K only in samples of comm soak_K, and
#     soak_lib_fn_* only in those of the dlopen loop. The loop names itself
#     after the library it runs (soak_dl_J), and at most 1% of its samples
#     name another of its libraries, mapped at the same address before or
#     after (the sample's file mapping decides the leaf frame and every
#     frame in the same vma: a caller in the library of a leaf in libc or
#     the vdso is named with the mapping at the interval's end; 983c67d:
#     ~50% of the loop's samples), and at least a quarter name the one it
#     ran (each library is mapped for 10 ms; one the agent could not read
#     in that time leaves its frames as addresses: ~half here);
#  6. the soak's samples symbolized: >= 90% of those with a frame in a soak
#     object name its function (so 5 cannot pass empty, and the cache keeps
#     parsing new binaries: only the programs of the last interval or two
#     are in use, a fraction of the cap; the others must make room).
# benchmarks/soak.sh runs this script for the long soak and prints the
# same figures (SOAK_TABLE=1: as a markdown table).
source "$(dirname "$0")/lib.sh"
require_bpf
[ -w /proc/sys/kernel/ns_last_pid ] || skip_or_fail "cannot write /proc/sys/kernel/ns_last_pid"
command -v cc > /dev/null || skip_or_fail "no C compiler (cc) to generate the soak's binaries"
soak="python3 $(dirname "$0")/fixtures/soak.py"
secs=${SOAK_SECONDS:-75}
programs=${SOAK_PROGRAMS:-120}
libs=${SOAK_LIBS:-16}
period=${SOAK_PERIOD:-3}
cache_mb=32
asan=0
asan_build && asan=1

$soak build "$WORK/bin" "$programs" "$libs" || fail "could not build the soak's binaries"
out=$WORK/profiles
"$BPFPROF" agent --interval 2s --output-dir "$out" --service-name soak \
  --metrics-addr 127.0.0.1:0 --symbolizer-cache-mb "$cache_mb" 2> "$WORK/agent.log" &
agent=$!
CHILDREN+=("$agent")
for _ in $(seq 1000); do grep -q 'profiling every' "$WORK/agent.log" && break; sleep 0.01; done
port=$(metrics_port "$WORK/agent.log") || fail "no metrics port in the log: $(cat "$WORK/agent.log")"
$soak watch "$agent" "$port" "$WORK/readings" "$period" &
watcher=$!
CHILDREN+=("$watcher")
sleep 3 # the first interval written: its files and buffers are the baseline
$soak churn "$WORK/bin" "$secs" > "$WORK/churn" || fail "the workload failed"
sleep 5 # processes gone; two intervals for the maps and the cache to settle
alive=$(ls -d /proc/[0-9]* | wc -l)
sleep "$period"
kill -0 "$agent" 2> /dev/null || fail "the agent died: $(tail -20 "$WORK/agent.log")"
kill -TERM "$watcher"; wait "$watcher"
kill -INT "$agent"; wait "$agent"; rc=$?
tail -5 "$WORK/agent.log"
[ "$rc" -eq 0 ] || fail "the agent exited $rc after SIGINT, want 0"
! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$WORK/agent.log" ||
  fail "sanitizer report: $(grep -A20 -E 'Sanitizer|runtime error' "$WORK/agent.log" | head -40)"

eval "$(cat "$WORK/churn")"
# Readings from the start of the churn on (the first after 3 s).
eval "$($soak summary "$WORK/readings" 3)" || fail "no readings: $(cat "$WORK/readings")"
files=("$out"/*.pb.gz)
[ -e "${files[0]}" ] || fail "no profile written"
pprof_traces "${files[0]}" "${files[@]:1}" > "$WORK/traces"
eval "$($soak attribution < "$WORK/traces" 2> "$WORK/misattributed")"

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
bmib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
table() {
  echo "| measure | figure |"
  echo "|---|---|"
  echo "| churn | ${secs} s; agent watched for ${duration_s} s, $rows readings |"
  echo "| processes started | $started ($pids distinct pids, $reused starts on a reused pid) |"
  echo "| distinct binaries run | $binaries (+ $libs libraries dlopened and dlclosed $dl_loads times) |"
  echo "| RSS start / middle / end (VmRSS) | $(mib "$rss_kb_start") / $(mib "$rss_kb_mid") / $(mib "$rss_kb_end") MiB |"
  echo "| RSS slope, second half | $(mib "$rss_slope_kb_per_min") MiB/min |"
  echo "| peak RSS (VmHWM; metrics) | $(mib "$hwm_kb_end") MiB; $(bmib "$m_peak_end") MiB |"
  echo "| symbolizer cache, max (cap) | $(bmib "$cache_bytes_max") MiB ($(bmib "$cache_cap_end") MiB), $cache_objects_max objects max, $evictions_end evictions, $over_budget_end mappings over budget |"
  echo "| processes tracked, start / max / end | $tracked_start / $tracked_max / $tracked_end |"
  echo "| open fds start / max / end | $fds_start / $fds_max / $fds_end |"
  echo "| samples taken / lost (metrics) | $samples_end / $lost_end (new-process events lost: $new_pids_lost_end) |"
  echo "| BPF map seen_pids, start / max / end (processes alive at the end: $alive) | $map_seen_pids_start / $map_seen_pids_max / $map_seen_pids_end |"
  echo "| BPF map pids, start / max / end | $map_pids_start / $map_pids_max / $map_pids_end |"
  echo "| BPF maps counts + counts_alt, max | $map_counts_max + $map_counts_alt_max (of 65536 each) |"
  echo "| BPF maps stacks + stacks_alt, max | $map_stacks_max + $map_stacks_alt_max (of 32768 each) |"
  echo "| profiles, samples in them | ${#files[@]}, $samples ($soak_samples of the soak's processes; in their objects, $named with their function, $unnamed without) |"
  echo "| samples with another process's symbols | $misattributed |"
  echo "| dlopen loop's samples: with the function of the library it ran / of another one (mapped at the same address) | $loop_named / $stale_library of $loop_samples |"
}
if [ -n "${SOAK_TABLE:-}" ]; then table; else table | sed 's/^| //; s/ |$//; s/ | /: /; /^measure\|^---/d'; fi
[ -s "$WORK/misattributed" ] && head -5 "$WORK/misattributed"

# 2
[ $((fds_end - fds_start)) -le 3 ] && [ $((fds_start - fds_end)) -le 3 ] ||
  fail "fds: $fds_start at the start, $fds_end at the end"
# 3 (not under ASan: its quarantine keeps up to 256 MiB of freed blocks
# resident, so the RSS there measures ASan, not bpfprof)
if [ "$asan" = 0 ]; then
  awk -v s="$rss_slope_kb_per_min" 'BEGIN { exit !(s < 2048) }' ||
    fail "RSS grows $(mib "$rss_slope_kb_per_min") MiB a minute in the second half"
  [ "$second_half_rss_max" -le $((first_half_rss_max + 8192)) ] ||
    fail "RSS $(mib "$second_half_rss_max") MiB in the second half, $(mib "$first_half_rss_max") in the first"
fi
[ "$cache_bytes_max" -le $(((cache_mb + 16) << 20)) ] ||
  fail "symbolizer cache $(bmib "$cache_bytes_max") MiB over its cap of $cache_mb MiB"
# 4
[ "$map_seen_pids_end" -le $((alive + 8)) ] && [ $((map_seen_pids_max * 10)) -le "$started" ] ||
  fail "seen_pids: $map_seen_pids_max at most, $map_seen_pids_end at the end, $alive processes alive, $started started"
[ "$map_pids_max" -le $((alive + 8)) ] || fail "pids: $map_pids_max entries"
[ "$map_counts_max" -lt 65536 ] && [ "$map_counts_alt_max" -lt 65536 ] &&
  [ "$map_stacks_max" -lt 32768 ] && [ "$map_stacks_alt_max" -lt 32768 ] || fail "a counts or stacks map filled up"
# 5
[ "$started" -ge 1000 ] && [ $((reused * 2)) -ge "$started" ] ||
  fail "churn too small: $started processes, $reused on a reused pid"
[ "$misattributed" = 0 ] || fail "$misattributed samples attributed to another process's symbols"
[ "$loop_samples" -ge 200 ] && [ $((stale_library * 100)) -le "$loop_samples" ] ||
  fail "$stale_library of the dlopen loop's $loop_samples samples named after another of its libraries"
[ $((loop_named * 4)) -ge "$loop_samples" ] ||
  fail "only $loop_named of the dlopen loop's $loop_samples samples name the library it ran"
# 6
[ "$named" -ge 200 ] && [ $((named * 10)) -ge $(((named + unnamed) * 9)) ] ||
  fail "only $named of $((named + unnamed)) samples in the soak's objects name their function ($over_budget_end mappings over the cache's budget)"
pass "soak: $started processes of $binaries binaries, RSS $(mib "$rss_kb_start") -> $(mib "$rss_kb_end") MiB, fds $fds_start -> $fds_end, seen_pids $map_seen_pids_end, 0 misattributed; dlopen loop: $loop_named of $loop_samples samples on its library, $stale_library on another"
