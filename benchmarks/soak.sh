#!/usr/bin/env bash
# soak.sh - the agent under churn for MINUTES (issue 11, the long soak).
#
# The same workload, readings and checks as the CI test
# tests/system/agent_soak.sh (which it runs, with its workload from
# tests/system/fixtures/soak.py), scaled up: SOAK_PROGRAMS (default 300)
# distinct generated binaries started as short-lived processes (tens of ms,
# pids reused within seconds), a process dlopening and dlclosing
# SOAK_LIBS (default 32) generated libraries in a loop, the agent at
# --interval 2s with a 32 MiB symbolizer cache, read every SOAK_PERIOD s
# (default 10). Prints a markdown table: duration, processes started,
# distinct binaries, peak RSS, RSS at start/middle/end, fds start/end,
# samples taken/lost, BPF map entries start/end, misattributed samples;
# then the test's verdict (PASS, or the first check that failed).
#
# Usage: benchmarks/soak.sh [BUILD_DIR] [MINUTES]   (root; defaults build, 10)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
minutes=${2:-10}
[ -x "$build/bpfprof" ] || { echo "missing $build/bpfprof: run scripts/build first" >&2; exit 1; }
[[ $minutes =~ ^[0-9]+$ ]] && [ "$minutes" -ge 1 ] || { echo "MINUTES: a whole number >= 1" >&2; exit 2; }
echo "soak: $minutes min on $(nproc) CPUs, kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg) at the start"
BPFPROF=$(realpath "$build/bpfprof") SOAK_TABLE=1 SOAK_SECONDS=$((minutes * 60)) \
  SOAK_PROGRAMS=${SOAK_PROGRAMS:-300} SOAK_LIBS=${SOAK_LIBS:-32} SOAK_PERIOD=${SOAK_PERIOD:-10} \
  exec bash tests/system/agent_soak.sh
