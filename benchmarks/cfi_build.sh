#!/usr/bin/env bash
# cfi_build.sh - time to build one object's CFI table (cfi_table_build).
#
# Objects: static programs made by tests/system/fixtures/hostile_cfi.py with
# one FDE of 20k, 40k, 80k and 1M rows (a new rule at every byte, as a
# local user can write), then libc.so.6 and, when installed, libLLVM-15.
# Each is built REPS times (default 3) with the library of BUILD_DIR; the
# best time is shown. With OLD_BUILD_DIR (a build of another tree, e.g. of
# 983c67d from a git worktree), its library is timed too, once, each object
# under a time limit of OLD_LIMIT seconds (default 60).
#
# Usage: benchmarks/cfi_build.sh [BUILD_DIR] [OLD_BUILD_DIR]
#        (default build; REPS, OLD_LIMIT, KEEP in the environment)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
old=${2:-}
reps=${REPS:-3}
limit=${OLD_LIMIT:-60}
for d in "$build" ${old:+"$old"}; do
  [ -f "$d/symbolizer/libbpfprof_symbolizer.a" ] ||
    { echo "missing $d/symbolizer/libbpfprof_symbolizer.a: run scripts/build first" >&2; exit 1; }
done
for c in cc python3 pkg-config timeout; do
  command -v "$c" > /dev/null || { echo "$c missing: run scripts/setup" >&2; exit 1; }
done

work=$(mktemp -d /tmp/cfi-build.XXXXXX)
cleanup() { if [ -n "${KEEP:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi; }
trap cleanup EXIT

# The timer: cfi_table_build of each file REPS times; prints
# "ROWS BEST_SECONDS ERRNO" per file. The API it uses is the same in older
# trees, so one source serves both libraries.
cat > "$work/timer.c" <<'EOF'
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "cfi_table.h"
static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
int main(int argc, char **argv)
{
	int reps = atoi(argv[1]);
	for (int i = 2; i < argc; i++) {
		double best = 1e9;
		size_t rows = 0;
		int err = 0;
		for (int r = 0; r < reps; r++) {
			struct cfi_table *t = NULL;
			int fd = open(argv[i], O_RDONLY);
			double t0 = now();
			err = fd < 0 ? -1 : cfi_table_build(fd, &t);
			double dt = now() - t0;
			if (dt < best)
				best = dt;
			rows = t ? cfi_table_rows(t) : 0;
			cfi_table_free(t);
			if (fd >= 0)
				close(fd);
		}
		printf("%zu %.4f %d\n", rows, best, -err);
		fflush(stdout);
	}
	return 0;
}
EOF
libs=$(pkg-config --libs libdw libelf libdebuginfod zlib)
# shellcheck disable=SC2086
cc -O2 -I symbolizer -o "$work/timer" "$work/timer.c" "$build/symbolizer/libbpfprof_symbolizer.a" $libs
if [ -n "$old" ]; then
  # shellcheck disable=SC2086
  cc -O2 -I symbolizer -o "$work/timer_old" "$work/timer.c" "$old/symbolizer/libbpfprof_symbolizer.a" $libs
fi

objects=()
for rows in 20000 40000 80000 1000000; do
  python3 tests/system/fixtures/hostile_cfi.py "$work/fde$rows" 1 "$rows"
  cc -nostdlib -static -o "$work/fde$rows" "$work/fde$rows.s"
  objects+=("$work/fde$rows")
done
objects+=(/lib/x86_64-linux-gnu/libc.so.6)
[ -e /usr/lib/x86_64-linux-gnu/libLLVM-15.so.1 ] && objects+=(/usr/lib/x86_64-linux-gnu/libLLVM-15.so.1)

eh_kib() {
  readelf -SW "$1" | awk '{ for (i = 1; i < NF; i++) if ($i == ".eh_frame") print $(i + 4) }' |
    { read -r h; echo $(( 16#$h / 1024 )); }
}

echo "CFI table build (cfi_table_build), best of $reps, $(nproc) CPUs, $(uname -r), libdw $(pkg-config --modversion libdw)"
echo
if [ -n "$old" ]; then
  echo "| object | .eh_frame KiB | rows | build s | µs/row | old build s ($old) |"
  echo "|---|---:|---:|---:|---:|---:|"
else
  echo "| object | .eh_frame KiB | rows | build s | µs/row |"
  echo "|---|---:|---:|---:|---:|"
fi
for o in "${objects[@]}"; do
  read -r rows secs err < <("$work/timer" "$reps" "$o")
  name=$(basename "$o")
  case $name in fde*) name="one FDE of ${name#fde} rows" ;; esac
  [ "$err" = 0 ] || secs="$secs (error $err)"
  per=$(awk -v s="$secs" -v r="$rows" 'BEGIN { printf "%.3f", r ? s * 1e6 / r : 0 }')
  line="| $name | $(eh_kib "$o") | $rows | $secs | $per |"
  if [ -n "$old" ]; then
    if res=$(timeout -k 5 "$limit" "$work/timer_old" 1 "$o"); then
      line+=" $(echo "$res" | awk '{ print $2 }') |"
    else
      line+=" > $limit (stopped) |"
    fi
  fi
  echo "$line"
done
