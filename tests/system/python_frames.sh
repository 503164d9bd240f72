#!/usr/bin/env bash
# Python frames, with each CPython 3.11+ this machine has (Debian's
# python3.11; pyenv's 3.11.7, 3.12.1, 3.13.0 under ~/.pyenv/versions, each
# skipped, and said so, only when absent):
#  - py_driver calls py_leaf_a (twice the work) and py_leaf_b: go tool
#    pprof -top gives them 2/3 and 1/3 of the samples (+-6 points), >= 95%
#    of the samples are under py_driver (and <module>, also when go tool
#    pprof demangles names), >= 95% of those rooted in the
#    native start-up path (not with --unwind fp: Debian's python3.11 has
#    no frame pointers); -lines names the script and the lines of the
#    loops and of the calls, and no other line of those functions; bpfprof
#    report gives them (and <module>) the kind "interpreter", and the file;
#  - two threads at once, one in bytecode, one in zlib.compress with the
#    GIL released: >= 90% of each one's samples show its own function,
#    <= 2% the other's;
#  - a generator's and a coroutine's frames (in their objects, not on the
#    data stack, entered from C): >= 90% of each leaf's samples show its
#    driver and <module> above it;
#  - code objects compiled and dropped, each at the last one's address
#    (Debian's only): each phase's function and file, not the first's;
# in the default (auto) mode and, for Debian's, in the fp and dwarf modes
# too.
# Unsupported interpreters (pyenv's 3.10 and 2.7, when present) are named
# in one log line, and their stacks keep their native frames.
source "$(dirname "$0")/lib.sh"
require_bpf
fixtures=$(dirname "$0")/fixtures
leaves=$WORK/py_leaves.py threads=$WORK/py_threads.py generators=$WORK/py_generators.py
reuse=$WORK/py_reuse.py
for f in "$leaves" "$threads" "$generators" "$reuse"; do
  cp "$fixtures/${f##*/}" "$f" || fail "copy the fixture ${f##*/}"
done
[ -x /usr/bin/python3.11 ] || skip_or_fail "Debian's python3.11 is missing: run scripts/setup"

# cum_share TOP FUNCTION: FUNCTION's cum% in `go tool pprof -top` output.
cum_share() { awk -v f="$2" '$6 == f { sub(/%/, "", $5); print $5; found = 1 } END { if (!found) print 0 }' "$1"; }
# within VALUE LOW HIGH
within() { awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }'; }
marked_lines() { grep -n "# line: $1\$" "$leaves" | cut -d: -f1 | sort -n | tr '\n' ' '; }

check_leaves() { # NAME PYTHON [record flags...]
  local name=$1 py=$2 out=$WORK/$1.leaves.pb.gz
  shift 2
  "$BPFPROF" record "$@" -o "$out" -- "$py" "$leaves" 6 2> "$WORK/$name.log" ||
    fail "$name: record failed: $(tail -n 5 "$WORK/$name.log")"
  pprof_check "$out"
  go tool pprof -top -nodecount=1000 -symbolize=none "$out" 2> /dev/null > "$WORK/$name.top"
  local a b d m
  a=$(cum_share "$WORK/$name.top" py_leaf_a)
  b=$(cum_share "$WORK/$name.top" py_leaf_b)
  d=$(cum_share "$WORK/$name.top" py_driver)
  echo "$name: py_leaf_a $a%, py_leaf_b $b%, py_driver $d% ($(grep -o '[0-9]* samples with Python frames' "$WORK/$name.log"))"
  within "$a" 60.67 72.67 || fail "$name: py_leaf_a has $a% of the samples, not 2/3 +-6"
  within "$b" 27.33 39.33 || fail "$name: py_leaf_b has $b% of the samples, not 1/3 +-6"
  within "$d" 95 100 || fail "$name: only $d% of the samples under py_driver"
  # Without -symbolize=none go tool pprof demangles: "<module>" must survive
  go tool pprof -top -nodecount=1000 "$out" 2> /dev/null > "$WORK/$name.demangled"
  m=$(cum_share "$WORK/$name.demangled" "<module>")
  within "$m" 95 100 || fail "$name: <module> at $m% once go tool pprof demangles"

  pprof_traces "$out" > "$WORK/$name.traces"
  local under rooted
  under=$(sum_traces '$3 ~ /(^|;)py_driver;/' "$WORK/$name.traces")
  rooted=$(sum_traces '$3 ~ /(^|;)py_driver;/ && $3 ~ /;(_start|__libc_start_main|main)$/' "$WORK/$name.traces")
  echo "$name: $rooted of $under samples under py_driver rooted in the start-up path"
  # Debian's python3.11 has no frame pointers: with them, no native root
  [[ " $* " == *" --unwind fp "* ]] || [ $((rooted * 100)) -ge $((under * 95)) ] ||
    fail "$name: only $rooted of $under rooted"

  go tool pprof -top -lines -nodecount=1000 -symbolize=none "$out" 2> /dev/null > "$WORK/$name.lines"
  local fn want got
  for fn in leaf_a leaf_b driver; do
    want=$(marked_lines "$fn")
    got=$(awk -v f="py_$fn" -v file="$leaves" '$6 == f && index($7, file ":") == 1 {
             sub(/.*:/, "", $7); print $7 }' "$WORK/$name.lines" | sort -un | tr '\n' ' ')
    echo "$name: py_$fn at lines $got(expected $want)"
    [ -n "$got" ] || fail "$name: no line of py_$fn in $leaves: $(head -n 30 "$WORK/$name.lines")"
    for l in $got; do
      [[ " $want" == *" $l "* ]] || fail "$name: py_$fn at line $l, not one of $want"
    done
    [ "$fn" != driver ] || [ "$got" = "$want" ] || fail "$name: py_driver's calls at $got, not $want"
  done

  # bpfprof's own analysis (report, flame graph) sees them as Python's
  "$BPFPROF" report --format json -n 0 "$out" > "$WORK/$name.json" 2> "$WORK/$name.report.log" ||
    fail "$name: report failed: $(cat "$WORK/$name.report.log")"
  python3 - "$WORK/$name.json" "$leaves" <<'EOF' || fail "$name: Python frames are not interpreter frames in bpfprof report"
import json, sys
functions = {f["name"]: f for f in json.load(open(sys.argv[1]))["functions"]}
for name in ("py_leaf_a", "py_leaf_b", "py_driver", "<module>"):
    f = functions.get(name)  # by name, as pprof -top: every file's <module>
    assert f and f["kind"] == "interpreter", (name, f)
    assert name == "<module>" or f["file"] == sys.argv[2], (name, f)
assert any(f["kind"] == "native" for f in functions.values()), "no native frame"
EOF
}

check_threads() { # NAME PYTHON
  local name=$1 py=$2 out=$WORK/$1.threads.pb.gz own other total mine theirs
  "$BPFPROF" record -o "$out" -- "$py" "$threads" 4 2> "$WORK/$name.threads.log" ||
    fail "$name: record failed: $(tail -n 5 "$WORK/$name.threads.log")"
  for t in pyspin:py_spin:py_compress_loop pyzlib:py_compress_loop:py_spin; do
    IFS=: read -r thread own other <<< "$t"
    pprof_traces "$out" -tagfocus="thread_name=$thread" > "$WORK/$name.$thread"
    total=$(sum_traces 1 "$WORK/$name.$thread")
    mine=$(sum_traces "\$3 ~ /(^|;)$own(;|\$)/" "$WORK/$name.$thread")
    theirs=$(sum_traces "\$3 ~ /(^|;)$other(;|\$)/" "$WORK/$name.$thread")
    echo "$name: thread $thread: $mine of $total samples in $own, $theirs in $other"
    [ "$total" -ge 150 ] || fail "$name: only $total samples of thread $thread"
    [ $((mine * 100)) -ge $((total * 90)) ] || fail "$name: thread $thread: $own in only $mine of $total"
    [ $((theirs * 100)) -le $((total * 2)) ] || fail "$name: thread $thread shows $other in $theirs of $total"
  done
}

check_generators() { # NAME PYTHON
  local name=$1 py=$2 out=$WORK/$1.generators.pb.gz leaf driver all under
  "$BPFPROF" record -o "$out" -- "$py" "$generators" 4 2> "$WORK/$name.generators.log" ||
    fail "$name: record failed: $(tail -n 5 "$WORK/$name.generators.log")"
  pprof_traces "$out" > "$WORK/$name.generators"
  for pair in gen_leaf:gen_driver coro_leaf:coro_driver; do
    IFS=: read -r leaf driver <<< "$pair"
    all=$(sum_traces "\$3 ~ /(^|;)$leaf(;|\$)/" "$WORK/$name.generators")
    under=$(sum_traces "\$3 ~ /(^|;)$leaf;(.*;)?$driver;(.*;)?<module>(;|\$)/" "$WORK/$name.generators")
    echo "$name: $leaf in $all samples, $under of them under $driver and <module>"
    [ "$all" -ge 100 ] || fail "$name: only $all samples in $leaf"
    [ $((under * 100)) -ge $((all * 90)) ] || fail "$name: $leaf under $driver in only $under of $all"
  done
}

# Code objects at one address, one after the other (py_reuse.py): each
# phase's samples (4 s; an entry is checked again after 2 s) mostly name
# its own function and file.
check_reuse() { # NAME PYTHON
  local name=$1 py=$2 out=$WORK/$1.reuse.pb.gz i mine total
  "$BPFPROF" record -o "$out" -- "$py" "$reuse" 3 4 > "$WORK/$name.reuse.ids" \
    2> "$WORK/$name.reuse.log" || fail "$name: record failed: $(tail -n 5 "$WORK/$name.reuse.log")"
  [ "$(sort -u "$WORK/$name.reuse.ids" | wc -l)" -eq 1 ] ||
    fail "$name: the fixture's code objects are not at one address: $(cat "$WORK/$name.reuse.ids")"
  grep -o '[0-9]* replaced at their address' "$WORK/$name.reuse.log"
  pprof_traces "$out" > "$WORK/$name.reuse"
  go tool pprof -top -lines -nodecount=1000 -symbolize=none "$out" 2> /dev/null > "$WORK/$name.reuse.lines"
  total=$(sum_traces '$3 ~ /(^|;)f_[0-9](;|$)/' "$WORK/$name.reuse")
  for i in 0 1 2; do
    mine=$(sum_traces "\$3 ~ /(^|;)f_$i(;|\$)/" "$WORK/$name.reuse")
    echo "$name: f_$i in $mine of $total samples of the phases"
    [ $((mine * 100)) -ge $((total * 20)) ] || fail "$name: f_$i in only $mine of $total"
    awk -v f="f_$i" -v file="gen$i.py:" '$6 == f && index($7, file) == 1 { found = 1 }
      END { exit !found }' "$WORK/$name.reuse.lines" || fail "$name: f_$i not in gen$i.py"
  done
}

check_leaves debian-3.11 /usr/bin/python3.11
check_leaves debian-3.11-fp /usr/bin/python3.11 --unwind fp
check_leaves debian-3.11-dwarf /usr/bin/python3.11 --unwind dwarf
check_threads debian-3.11 /usr/bin/python3.11
check_generators debian-3.11 /usr/bin/python3.11
check_reuse debian-3.11 /usr/bin/python3.11
versions=$HOME/.pyenv/versions
for v in 3.11.7 3.12.1 3.13.0; do
  if [ ! -x "$versions/$v/bin/python3" ]; then
    echo "SKIP: pyenv's Python $v is not installed ($versions/$v)"
    continue
  fi
  check_leaves "pyenv-$v" "$versions/$v/bin/python3"
  check_threads "pyenv-$v" "$versions/$v/bin/python3"
  check_generators "pyenv-$v" "$versions/$v/bin/python3"
done

for v in 3.10.13 2.7.18; do
  py=$versions/$v/bin/python
  if [ ! -x "$py" ]; then
    echo "SKIP: pyenv's Python $v is not installed ($versions/$v)"
    continue
  fi
  out=$WORK/unsupported-$v.pb.gz
  "$BPFPROF" record -o "$out" -- "$py" "$leaves" 2 2> "$WORK/unsupported-$v.log" ||
    fail "Python $v: record failed: $(tail -n 5 "$WORK/unsupported-$v.log")"
  n=$(grep -c "not supported" "$WORK/unsupported-$v.log")
  [ "$n" -eq 1 ] || fail "Python $v: $n 'not supported' lines, not 1: $(cat "$WORK/unsupported-$v.log")"
  grep "not supported" "$WORK/unsupported-$v.log"
  pprof_traces "$out" > "$WORK/unsupported-$v.traces"
  total=$(sum_traces '$4 ~ /^comm=python/' "$WORK/unsupported-$v.traces")
  rooted=$(sum_traces '$4 ~ /^comm=python/ && $3 ~ /;(_start|__libc_start_main|main)$/' "$WORK/unsupported-$v.traces")
  echo "Python $v: $rooted of $total samples rooted in the start-up path"
  [ "$total" -ge 100 ] || fail "Python $v: only $total samples"
  [ $((rooted * 100)) -ge $((total * 90)) ] || fail "Python $v: only $rooted of $total rooted"
  ! grep -q py_leaf "$WORK/unsupported-$v.traces" || fail "Python $v has Python frames"
done
pass "Python frames merged into native stacks"
