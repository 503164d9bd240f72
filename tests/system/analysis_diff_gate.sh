#!/usr/bin/env bash
# The diff as a CI gate on recorded runs of a real program (diff_work: two
# threads, leaf_a taking a set share of the work), with `bpfprof record`:
#  - one run a side: leaf_a raised from 20% to 40% is a regression, exit 1,
#    leaf_a named first; two runs of the unchanged program: exit 0;
#  - five runs a side: over 20 repetitions of the gate, each on another
#    draw of 5 + 5 from 12 runs of the unchanged program, no regression is
#    called; 5 runs of the program with leaf_a at 25% (a 5-point change)
#    against 5 unchanged ones: a regression, leaf_a first.
# Runs are recorded interleaved, so a drift of the machine falls on both.
# Each run is 3 s: with 1.5 s the spread of a run (two threads sharing two
# CPUs) left the 5-point change at p = 0.018, short of the gate, in CI once.
# One run also writes its flame graph (record --flamegraph): the page's
# tree has what the profile has.
source "$(dirname "$0")/lib.sh"
require_bpf
prog=$FIXTURES/diff_work
[ -x "$prog" ] || fail "fixture $prog is missing"

record() { # record OUT PERCENT
  "$BPFPROF" record -F 999 -o "$1" -- "$prog" "$2" 3 > /dev/null 2> "$WORK/rec.err" ||
    fail "record $2%: $(cat "$WORK/rec.err")"
}
for i in $(seq 0 11); do
  record "$WORK/u$i.pb.gz" 20
  [ "$i" -lt 5 ] && record "$WORK/c$i.pb.gz" 25
  [ "$i" = 5 ] && record "$WORK/big.pb.gz" 40
done
"$BPFPROF" record -F 999 -o "$WORK/fg.pb.gz" --flamegraph "$WORK/fg.html" -- "$prog" 20 1 \
  > /dev/null 2> "$WORK/rec.err" || fail "record --flamegraph: $(cat "$WORK/rec.err")"
grep -q "wrote the flame graph $WORK/fg.html" "$WORK/rec.err" || fail "record --flamegraph said: $(cat "$WORK/rec.err")"
[ "$(stat -c %a "$WORK/fg.html")" = 600 ] || fail "the page is not 0600"
"$BPFPROF" report --format json --sort cum -n 0 "$WORK/fg.pb.gz" > "$WORK/fg.json" || fail "report fg"
python3 - "$WORK/fg.html" "$WORK/fg.json" << 'PY' || fail "record --flamegraph's page does not match its profile"
import json, re, sys
page = open(sys.argv[1]).read()
data = json.loads(re.search(r"const DATA = (\{.*?\});\n", page, re.S).group(1))
report = json.load(open(sys.argv[2]))
n = data["nodes"]
assert n["value"][0] == report["total"], (n["value"][0], report["total"])
width = {}
for i, v in enumerate(n["value"]):
    width.setdefault(data["names"][n["name"][i]], []).append(v)
cum = {f["name"]: f["cum"] for f in report["functions"]}
# leaf_a is never its own caller: its frames add up to its cum
assert sum(width["leaf_a"]) == cum["leaf_a"] > 0, (width["leaf_a"], cum["leaf_a"])
PY
"$BPFPROF" report --sort cum --top 12 "$WORK/u0.pb.gz" > "$WORK/u0.top" || fail "report u0"
grep -q ' leaf_a$' "$WORK/u0.top" || fail "no leaf_a in the profile: $(cat "$WORK/u0.top")"
echo "an unchanged run:"; cat "$WORK/u0.top"

"$BPFPROF" diff "$WORK/u0.pb.gz" "$WORK/big.pb.gz" > "$WORK/out" 2>&1
rc=$?
[ $rc = 1 ] || fail "20% -> 40%: exit $rc, want 1: $(cat "$WORK/out")"
first=$(awk '/function$/ { t = 1; next } t { print $(NF - 1); exit }' "$WORK/out")
[ "$first" = leaf_a ] || fail "20% -> 40%: first is '$first', not leaf_a: $(cat "$WORK/out")"
"$BPFPROF" diff "$WORK/u0.pb.gz" "$WORK/u1.pb.gz" > "$WORK/out" 2>&1
rc=$?
[ $rc = 0 ] || fail "two unchanged runs: exit $rc, want 0: $(cat "$WORK/out")"

# 20 draws of 5 + 5 of the 12 unchanged runs (a fixed seed: the same draws
# every time, the noise is the runs').
python3 - "$WORK" > "$WORK/draws" << 'PY'
import random, sys
rng = random.Random(13)
for _ in range(20):
    runs = rng.sample(range(12), 10)
    print(" ".join(f"{sys.argv[1]}/u{i}.pb.gz" for i in runs[:5]), "|",
          " ".join(f"{sys.argv[1]}/u{i}.pb.gz" for i in runs[5:]))
PY
called=0
while IFS='|' read -r base new; do
  # shellcheck disable=SC2086
  "$BPFPROF" diff --base $base --new $new > "$WORK/out" 2>&1
  rc=$?
  [ $rc = 2 ] && fail "diff: $(cat "$WORK/out")"
  if [ $rc = 1 ]; then called=$((called + 1)); cat "$WORK/out"; fi
done < "$WORK/draws"
[ "$called" = 0 ] || fail "$called of 20 gates on unchanged runs called a regression"

"$BPFPROF" diff --base "$WORK"/u[0-4].pb.gz --new "$WORK"/c[0-4].pb.gz > "$WORK/out" 2>&1
rc=$?
cat "$WORK/out"
[ $rc = 1 ] || fail "a 5-point change over 5 runs a side: exit $rc, want 1"
first=$(awk '/function$/ { t = 1; next } t { print $(NF - 1); exit }' "$WORK/out")
[ "$first" = leaf_a ] || fail "5-point change: first is '$first', not leaf_a"
pass "record --flamegraph; the gate: 20% -> 40% called, unchanged not (1 run; 20 draws of 5 runs), +5 points over 5 runs called"
