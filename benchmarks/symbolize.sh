#!/usr/bin/env bash
# symbolize.sh - symbolization throughput, cold and warm, and memory: the
# bpfprof symbolizer vs llvm-symbolizer and eu-addr2line on the same batch.
#
# The batch: N addresses, half drawn uniformly from the executable mapping
# of a large library with DWARF (default libasan.so.8 from Debian's libasan8:
# 0.9 MB of C++ code, 3 MB of DWARF, deep inlining) and half from libc's
# (its DWARF comes from libc6-dbg, found by build-id), both mapped in a live
# process (`sleep` with the libraries preloaded). symbolize_bench draws them,
# measures our symbolizer in a fresh process (cold: tables built from
# nothing, then one pass; warm: the same addresses again) and writes them as
# ELF virtual addresses, which this script replays to
#   llvm-symbolizer --obj=LIB    (its defaults: inline frames, demangling)
#   eu-addr2line -f -i -e LIB    (on a sample: it takes 0.1-2 ms an address)
# one run per library, wall times summed, peak RSS the larger of the two.
# Each figure is the best of REPS runs, all after the files were read once
# (warm page cache). Then SPOT addresses are checked against llvm-symbolizer:
# innermost function name and line. Prints a markdown table.
#
# Usage: benchmarks/symbolize.sh [BUILD_DIR] [N] [LIBRARY]
#   defaults: build, 100000, /usr/lib/x86_64-linux-gnu/libasan.so.8
#   environment: REPS (3), EU_N (10000), SPOT (1000), SEED (1), KEEP=1 keeps
#   the work directory (batch, outputs, mismatches) and prints its name
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
n=${2:-100000}
lib=$(realpath "${3:-/usr/lib/x86_64-linux-gnu/libasan.so.8}")
reps=${REPS:-3} eu_n=${EU_N:-10000} spot=${SPOT:-1000} seed=${SEED:-1}
bench=$build/benchmarks/symbolize_bench

[ -x "$bench" ] || { echo "missing $bench: run scripts/build first" >&2; exit 1; }
for tool in llvm-symbolizer eu-addr2line python3 readelf; do
  command -v "$tool" > /dev/null || { echo "$tool missing: run scripts/setup" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "/usr/bin/time missing (package time): run scripts/setup" >&2; exit 1; }
libc=$(realpath "$(ldd /bin/sleep | awk '$1 ~ /^libc\.so/ {print $3}')")
# The library first: a sanitizer runtime must be the first preloaded object.
objs=("$lib" "$libc")

work=$(mktemp -d)
cleanup() { if [ "${KEEP:-0}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi; }
trap cleanup EXIT

# Warm the page cache: each object and its separate debug file, if any.
for o in "${objs[@]}"; do
  id=$(readelf -n "$o" | awk '/Build ID:/ {print $3}')
  cat "$o" ${id:+$(ls /usr/lib/debug/.build-id/"${id:0:2}"/"${id:2}".debug 2>/dev/null)} > /dev/null
done

# timed OUT_PREFIX CMD...: runs CMD (stdin/stdout as redirected by the
# caller); sets $wall (seconds) and $rss_kb (peak RSS).
timed() {
  local t0 t1
  t0=$EPOCHREALTIME
  /usr/bin/time -f '%M' -o "$work/time" "$@"
  t1=$EPOCHREALTIME
  wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
  rss_kb=$(tail -n1 "$work/time")
}
# min A B: the smaller number.
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b ? a : b) }'; }

# --- ours: a fresh process each time; the first run also writes the batch.
ours=
for ((r = 0; r < reps; r++)); do
  write=(); [ "$r" = 0 ] && write=(-o "$work")
  out=$("$bench" -n "$n" -s "$seed" "${write[@]}" "${objs[@]}")
  cold=$(sed -n 's/^cold_s=//p' <<< "$out")
  if [ -z "$ours" ] || [ "$(min "$cold" "$best_cold")" = "$cold" ]; then
    ours=$out best_cold=$cold
  fi
done
get() { sed -n "s/^$1=//p" <<< "$ours"; }

# --- llvm-symbolizer and eu-addr2line: one run per object on its addresses.
# run_tool NAME LINES CMD...: CMD gets the object path appended; best of
# REPS (1 for eu-addr2line) of the summed wall time; sets tool_wall, tool_rss.
run_tool() {
  local name=$1 lines=$2 runs=$reps r k sum max
  shift 2
  [ "$name" = eu ] && runs=1
  tool_wall=
  for ((r = 0; r < runs; r++)); do
    sum=0 max=0
    for k in "${!objs[@]}"; do
      head -n "$lines" "$work/addrs.$k" > "$work/in.$k"
      timed "$@" "${objs[$k]}" < "$work/in.$k" > "$work/$name.out.$k"
      sum=$(awk -v a="$sum" -v b="$wall" 'BEGIN { print a + b }')
      max=$((rss_kb > max ? rss_kb : max))
    done
    if [ -z "$tool_wall" ] || [ "$(min "$sum" "$tool_wall")" = "$sum" ]; then
      tool_wall=$sum tool_rss=$max
    fi
  done
}
per_obj=$(((n + 1) / 2))
run_tool llvm "$per_obj" llvm-symbolizer --obj
llvm_wall=$tool_wall llvm_rss=$tool_rss
eu_per_obj=$(((eu_n < n ? eu_n : n) / 2))
run_tool eu "$eu_per_obj" eu-addr2line -f -i -e
eu_wall=$tool_wall eu_rss=$tool_rss

# --- spot check: SPOT addresses spread over the batch, innermost frame.
agreement=$(python3 - "$work" "$spot" "${objs[@]}" <<'EOF'
import json, subprocess, sys
work, spot, objs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
rows = [l.rstrip("\n").split("\t") for l in open(f"{work}/ours.tsv")]
picked = [rows[i * len(rows) // spot] for i in range(min(spot, len(rows)))]
theirs = {}
for k, obj in enumerate(objs):
    addrs = [r[1] for r in picked if int(r[0]) == k]
    out = subprocess.run(["llvm-symbolizer", "--no-demangle", "--output-style=JSON",
                          "--obj=" + obj], input="\n".join(addrs) + "\n",
                         capture_output=True, text=True, check=True).stdout
    for addr, line in zip(addrs, out.splitlines()):
        sym = json.loads(line)["Symbol"][0]
        fn = "" if sym["FunctionName"] in ("", "??") else sym["FunctionName"]
        theirs[(k, addr)] = (fn, sym["Line"])
fn_ok = line_ok = both = 0
with open(f"{work}/mismatches.tsv", "w") as mm:
    mm.write("object\tvaddr\tours\tllvm-symbolizer\n")
    for k, addr, fn, _file, line in picked:
        tfn, tline = theirs[(int(k), addr)]
        f_ok, l_ok = fn == tfn, int(line) == tline
        fn_ok += f_ok; line_ok += l_ok; both += f_ok and l_ok
        if not (f_ok and l_ok):
            mm.write(f"{objs[int(k)]}\t{addr}\t{fn}:{line}\t{tfn}:{tline}\n")
p = lambda x: f"{100 * x / len(picked):.1f}%"
print(f"{len(picked)} {p(fn_ok)} {p(line_ok)} {p(both)}")
EOF
)
read -r spot_n spot_fn spot_line spot_both <<< "$agreement"

# --- the table
llvm_ver=$(llvm-symbolizer --version | awk '/version/ {print $NF; exit}')
eu_ver=$(eu-addr2line --version | awk 'NR == 1 {print $NF}')
cold=$(get cold_s) warm=$(get warm_s)
awk -v n="$n" -v eun="$((eu_per_obj * 2))" -v cold="$cold" -v warm="$warm" \
    -v track="$(get track_s)" -v rss="$(get peak_rss_kb)" -v rss0="$(get rss_before_kb)" -v rss1="$(get rss_end_kb)" \
    -v lw="$llvm_wall" -v lr="$llvm_rss" -v ew="$eu_wall" -v er="$eu_rss" \
    -v cache="$(get cache_bytes)" -v cap="$(get cache_cap_bytes)" -v nobj="$(get cached_objects)" \
    -v lv="$llvm_ver" -v ev="$eu_ver" -v lib="$(basename "$lib")" -v libc="$(basename "$libc")" \
    -v reps="$reps" -v wf="$(get with_function)" -v wl="$(get with_line)" \
    -v sn="$spot_n" -v sf="$spot_fn" -v sl="$spot_line" -v sb="$spot_both" '
function us(t, k) { return sprintf("%.2f", t * 1e6 / k) }
function mb(kb) { return sprintf("%.1f", kb / 1024) }
function verdict(ok) { return ok ? "**met**" : "**not met**" }
BEGIN {
  printf "Batch: %d addresses, half in %s, half in %s (with DWARF), in a live process; best of %d runs, warm page cache.\n\n", n, lib, libc, reps
  print "| tool | addresses | wall s | µs/address | peak RSS MB |"
  print "|---|---:|---:|---:|---:|"
  printf "| bpfprof symbolizer, cold (new + track %.3f s + 1 pass) | %d | %.3f | %s | %s |\n", track, n, cold, us(cold, n), mb(rss)
  printf "| bpfprof symbolizer, warm (same addresses again, same process) | %d | %.3f | %s | (same process) |\n", n, warm, us(warm, n)
  printf "| llvm-symbolizer %s (`--obj`, one run per library) | %d | %.3f | %s | %s |\n", lv, n, lw, us(lw, n), mb(lr)
  printf "| eu-addr2line %s (`-f -i -e`, one run per library; sample) | %d | %.3f | %s | %s |\n", ev, eun, ew, us(ew, eun), mb(er)
  print ""
  printf "- Cold, tables built from nothing, no slower than llvm-symbolizer on the batch: %.3f s vs %.3f s (%.1fx): %s\n", cold, lw, lw / cold, verdict(cold <= lw)
  printf "- Warm >= 10x faster per address than llvm-symbolizer: %s vs %s µs (%.1fx): %s\n", us(warm, n), us(lw, n), lw / warm, verdict(lw / warm >= 10)
  printf "- Cache memory within its cap: %.1f MiB of %.0f MiB (%d objects): %s. Process RSS: %s MB before the symbolizer existed, %s MB at the peak, %s MB at the end.\n", cache / 1048576, cap / 1048576, nobj, verdict(cap == 0 || cache <= cap), mb(rss0), mb(rss), mb(rss1)
  printf "- Found a function for %.1f%% of the addresses, a line for %.1f%%.\n", 100 * wf / n, 100 * wl / n
  printf "- Agreement with llvm-symbolizer on %d addresses (innermost frame): function %s, line %s, both %s.\n", sn, sf, sl, sb
}'
