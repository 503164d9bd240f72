#!/usr/bin/env bash
# analysis_cost.sh - what `bpfprof report` and `bpfprof diff` cost on a big
# profile, beside `go tool pprof` doing the same on the same files.
#
# benchmarks/big_profile (Go, stdlib only; built here into a temporary
# directory) writes two gzipped pprof profiles of the same shape: SAMPLES
# Sample messages (default 1,000,000, each with labels pid and comm),
# LOCATIONS locations (50,000, one line each) of FUNCTIONS functions
# (20,000) in four mappings, stacks 5..40 deep walked through a fixed call
# graph with Zipf-distributed branches and hot spots, sample types
# [samples/count, cpu/nanoseconds]; A, and B with a shifted distribution.
# Then, each REPS times in a row (after reading both files once: warm page
# cache), with /usr/bin/time (Debian package `time`) for wall time and peak
# RSS (of the largest process, the pprof that `go tool` starts):
#   bpfprof report --top 20 A
#   go tool pprof -top -nodecount=20 A
#   bpfprof diff A B                       (exit 0 or 1 both count as done)
#   go tool pprof -top -nodecount=20 -diff_base=A B
# Prints a markdown table (median wall s, max RSS MiB over the runs) and the
# two tools side by side, and whether both put the same function first.
#
# go tool pprof is slow on this input (about a minute and 6 GB for the
# report, 2.5 minutes and 10 GB for the diff on 2 cores): the default run
# takes about 12 minutes. SKIP_GO=1 times bpfprof only.
#
# Usage: benchmarks/analysis_cost.sh [BPFPROF]   (default build/bpfprof)
#   environment: REPS (3), SAMPLES (1000000), LOCATIONS (50000),
#   FUNCTIONS (20000), SEED (1), SKIP_GO=1, KEEP=1 keeps the work directory
#   (profiles, outputs) and prints its name
set -euo pipefail
cd "$(dirname "$0")/.."
bpfprof=${1:-build/bpfprof}
reps=${REPS:-3} samples=${SAMPLES:-1000000} locations=${LOCATIONS:-50000}
functions=${FUNCTIONS:-20000} seed=${SEED:-1} skip_go=${SKIP_GO:-0}

[ -x "$bpfprof" ] || { echo "missing $bpfprof: run scripts/build first" >&2; exit 1; }
"$bpfprof" report --help > /dev/null 2>&1 || { echo "$bpfprof has no report command" >&2; exit 1; }
command -v go > /dev/null || { echo "go missing (golang-go): run scripts/setup" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time missing (Debian package time): apt-get install time" >&2; exit 1; }
for v in "$reps" "$samples" "$locations" "$functions" "$seed"; do
  [[ $v =~ ^[0-9]+$ ]] && [ "$v" -ge 1 ] || { echo "REPS, SAMPLES, LOCATIONS, FUNCTIONS, SEED: whole numbers >= 1" >&2; exit 2; }
done

work=$(mktemp -d /tmp/analysis-cost.XXXXXX)
cleanup() { if [ "${KEEP:-0}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi; }
trap cleanup EXIT
export PPROF_TMPDIR=$work HOME=${HOME:-$work} GOCACHE=$work/gocache GOPATH=$work/gopath \
  GOFLAGS="-mod=mod -buildvcs=false" GO111MODULE=on GOPROXY=off GOTOOLCHAIN=local

# --- the inputs.
cp -r benchmarks/big_profile "$work/src"
(cd "$work/src" && go build -o "$work/big_profile" .)
A=$work/a.pb.gz B=$work/b.pb.gz
gen=(-samples "$samples" -locations "$locations" -functions "$functions" -seed "$seed")
"$work/big_profile" "${gen[@]}" -o "$A"
"$work/big_profile" "${gen[@]}" -shift -o "$B"
cat "$A" "$B" > /dev/null
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
echo "inputs: $samples samples, $locations locations, $functions functions;" \
  "A $(mib "$(stat -c %s "$A")") MiB, B $(mib "$(stat -c %s "$B")") MiB gzipped" >&2

# run NAME OK_RCS CMD...: CMD REPS times (stdout to $work/NAME.out, stderr
# to NAME.err); an exit status not in OK_RCS (a regex) stops the benchmark.
# Sets WALL[NAME] (median seconds) and RSS[NAME] (max MiB).
declare -A WALL RSS
run() {
  local name=$1 ok=$2 r rc walls=() rss=0
  shift 2
  for ((r = 0; r < reps; r++)); do
    rc=0
    /usr/bin/time -f '%e %M' -o "$work/time" "$@" > "$work/$name.out" 2> "$work/$name.err" || rc=$?
    if ! [[ $rc =~ ^($ok)$ ]]; then
      echo "$name: '$*' exited $rc: $(tail -n 5 "$work/$name.err")" >&2
      exit 1
    fi
    read -r w m < <(tail -n 1 "$work/time")
    walls+=("$w")
    [ "$m" -gt "$rss" ] && rss=$m
    echo "  $name run $((r + 1))/$reps: ${w} s, $((m / 1024)) MiB" >&2
  done
  WALL[$name]=$(printf '%s\n' "${walls[@]}" | sort -g | awk '{ v[NR] = $1 }
    END { printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
  RSS[$name]=$(awk -v k="$rss" 'BEGIN { printf "%.0f", k / 1024 }')
}

run bpf_report 0 "$bpfprof" report --top 20 "$A"
cp "$work/bpf_report.out" "$work/bpf_report.txt"
run bpf_diff '0|1' "$bpfprof" diff "$A" "$B"
if [ "$skip_go" != 1 ]; then
  run go_report 0 go tool pprof -top -nodecount=20 "$A"
  cp "$work/go_report.out" "$work/go_report.txt"
  run go_diff 0 go tool pprof -top -nodecount=20 -diff_base="$A" "$B"
fi

# --- the tables.
echo
echo "| command | median wall s | max RSS MiB |"
echo "|---|---:|---:|"
row() { [ -n "${WALL[$1]:-}" ] && echo "| \`$2\` | ${WALL[$1]} | ${RSS[$1]} |" || true; }
row bpf_report "bpfprof report --top 20 A"
row go_report "go tool pprof -top -nodecount=20 A"
row bpf_diff "bpfprof diff A B"
row go_diff "go tool pprof -top -nodecount=20 -diff_base=A B"
echo
echo "$samples samples, $locations locations, $functions functions; $reps runs each (wall: median; RSS: the largest)."
if [ "$skip_go" != 1 ]; then
  ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf (a > 0 ? "%.1fx" : "-"), b / a }'; }
  echo
  echo "| task | bpfprof s | go tool pprof s | speed-up | bpfprof MiB | go tool pprof MiB | memory ratio |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for t in report diff; do
    echo "| $t | ${WALL[bpf_$t]} | ${WALL[go_$t]} | $(ratio "${WALL[bpf_$t]}" "${WALL[go_$t]}")" \
      "| ${RSS[bpf_$t]} | ${RSS[go_$t]} | $(ratio "${RSS[bpf_$t]}" "${RSS[go_$t]}") |"
  done
  # Sanity: both tools name the same first function (go's table: the
  # first row under its header; bpfprof's text: the first line that names
  # one of go's top 20).
  go_first=$(awk '/^ *flat  *flat%/ { getline; print $NF; exit }' "$work/go_report.txt")
  awk '/^ *flat  *flat%/ { on = 1; next } on { print $NF }' "$work/go_report.txt" > "$work/go_names"
  bpf_first=$(awk 'NR == FNR { n[$0] = 1; next } { for (i = 1; i <= NF; i++) if ($i in n) { print $i; exit } }' \
    "$work/go_names" "$work/bpf_report.txt")
  echo
  if [ -n "$go_first" ] && [ "$go_first" = "$bpf_first" ]; then
    echo "first function: $go_first (both)"
  else
    echo "first function: go tool pprof '$go_first', bpfprof '${bpf_first:-none of go top 20}': DISAGREE"
  fi
fi
