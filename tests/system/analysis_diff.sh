#!/usr/bin/env bash
# `bpfprof diff` on profiles with a known tree: one run a side (a share
# raised from 20% to 40% is a regression named first, exit 1; the same
# profile twice is no change, exit 0; a shrink is an improvement, exit 0);
# the text, Markdown and JSON outputs; the differential flame graph's data;
# several runs a side (a change beyond the runs' spread is called, with its
# p-value and interval; the same change inside a wide spread is
# inconclusive; no change is no change); usage errors exit 2.
source "$(dirname "$0")/lib.sh"
[ -x "${FOLDED_TO_PPROF:-}" ] || fail "FOLDED_TO_PPROF is not set to the test tool"

mk() { # mk NAME A_SHARE: main;a and main;b with a at A_SHARE of 1000 samples
  printf 'main;a %d\nmain;b %d\n' $(($2 * 10)) $((1000 - $2 * 10)) > "$WORK/$1.folded"
  "$FOLDED_TO_PPROF" "$WORK/$1.folded" "$WORK/$1.pb.gz" || fail "folded_to_pprof $1"
}
mk base 20; mk new 40; mk small 18

"$BPFPROF" diff "$WORK/base.pb.gz" "$WORK/new.pb.gz" > "$WORK/out" 2> "$WORK/err"
rc=$?
[ $rc = 1 ] || fail "20% -> 40%: exit $rc, want 1: $(cat "$WORK/out" "$WORK/err")"
head -1 "$WORK/out" | grep -q '^Verdict: regression: 1 function grew by more than 5.00 points' ||
  fail "verdict line: $(head -1 "$WORK/out")"
first=$(awk '/function$/ { t = 1; next } t { print $NF == "regression" ? $(NF - 1) : $NF; exit }' "$WORK/out")
[ "$first" = a ] || fail "the first function is '$first', not a: $(cat "$WORK/out")"
grep -q '^  20.00   40.00  +20.00   20.00   40.00  +20.00  a  regression$' "$WORK/out" ||
  fail "a's row: $(cat "$WORK/out")"

"$BPFPROF" diff "$WORK/base.pb.gz" "$WORK/base.pb.gz" > "$WORK/out" 2>&1
rc=$?
[ $rc = 0 ] || fail "the same profile twice: exit $rc, want 0: $(cat "$WORK/out")"
grep -q '^Verdict: no change' "$WORK/out" || fail "same profile: $(head -1 "$WORK/out")"
# Shares are relative: what one function saves, the others gain. a from 40%
# to 20%, spread over four others (15% -> 20% each, not past 5 points):
# an improvement.
printf 'main;a 40\nmain;b 15\nmain;c 15\nmain;d 15\nmain;e 15\n' > "$WORK/slow.folded"
printf 'main;a 20\nmain;b 20\nmain;c 20\nmain;d 20\nmain;e 20\n' > "$WORK/fast.folded"
"$FOLDED_TO_PPROF" "$WORK/slow.folded" "$WORK/slow.pb.gz" && "$FOLDED_TO_PPROF" "$WORK/fast.folded" "$WORK/fast.pb.gz" ||
  fail "folded_to_pprof slow/fast"
"$BPFPROF" diff "$WORK/slow.pb.gz" "$WORK/fast.pb.gz" > "$WORK/out" 2>&1
rc=$?
[ $rc = 0 ] && grep -q '^Verdict: improvement: 1 function shrank' "$WORK/out" ||
  fail "a 40% -> 20%: exit $rc: $(cat "$WORK/out")"
# Under the threshold: 20% -> 18% is no change at 5 points, an improvement at 1.
"$BPFPROF" diff "$WORK/base.pb.gz" "$WORK/small.pb.gz" | grep -q '^Verdict: no change' || fail "2 points at threshold 5"
"$BPFPROF" diff --threshold 1 "$WORK/small.pb.gz" "$WORK/base.pb.gz" > /dev/null
[ $? = 1 ] || fail "2 points at threshold 1 must be a regression"

# Markdown: a heading with the verdict and a table, a for CI summaries.
"$BPFPROF" diff --format markdown "$WORK/base.pb.gz" "$WORK/new.pb.gz" > "$WORK/md"
grep -q '^### bpfprof diff: regression$' "$WORK/md" || fail "markdown heading: $(cat "$WORK/md")"
grep -q '^| `a` | 20.00 | 40.00 | +20.00 | 20.00 | 40.00 | +20.00 | \*\*regression\*\* |$' "$WORK/md" ||
  fail "markdown row: $(cat "$WORK/md")"
# JSON: every number.
"$BPFPROF" diff --format json "$WORK/base.pb.gz" "$WORK/new.pb.gz" > "$WORK/json"
python3 - "$WORK/json" << 'PY' || fail "diff json: $(cat "$WORK/json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["verdict"] == "regression" and d["threshold"] == 5, d
a = d["functions"][0]
assert a["name"] == "a" and a["delta_cum"] == 20 and a["base_flat"] == 20 and a["verdict"] == "regression", a
PY

# The differential flame graph: NEW's tree, with BASE's values scaled.
"$BPFPROF" diff --flamegraph "$WORK/diff.html" "$WORK/base.pb.gz" "$WORK/new.pb.gz" > /dev/null
[ $? = 1 ] || fail "diff --flamegraph must still exit 1"
python3 - "$WORK/diff.html" << 'PY' || fail "the diff page's data"
import json, re, sys
page = open(sys.argv[1]).read()
data = json.loads(re.search(r"const DATA = (\{.*?\});\n", page, re.S).group(1))
assert data["diff"] is True, data["diff"]
n = data["nodes"]; names = data["names"]
rows = {names[n["name"][i]]: (n["value"][i], n["base"][i]) for i in range(len(n["value"]))}
total = rows["all"][0]
assert abs(rows["a"][0] / total - 0.40) < 1e-9 and abs(rows["a"][1] / total - 0.20) < 1e-3, rows
assert abs(rows["b"][0] / total - 0.60) < 1e-9 and abs(rows["b"][1] / total - 0.80) < 1e-3, rows
PY

# Several runs a side: base ~20% with a little spread; new ~25%: called.
i=0
for s in 19 21 20 20 22; do mk b$i $s; i=$((i + 1)); done
i=0
for s in 25 26 24 25 26; do mk n$i $s; i=$((i + 1)); done
i=0
for s in 20 21 19 21 20; do mk u$i $s; i=$((i + 1)); done
base=("$WORK"/b[0-4].pb.gz)
"$BPFPROF" diff --base "${base[@]}" --new "$WORK"/n[0-4].pb.gz > "$WORK/out"
rc=$?
[ $rc = 1 ] || fail "5 runs, +5 points: exit $rc: $(cat "$WORK/out")"
grep -q "^Verdict: regression: 1 function grew by more than 2.00 points of cpu, beyond the runs' spread" "$WORK/out" ||
  fail "5 runs, +5 points: $(cat "$WORK/out")"
grep -q "^Tested: 3 functions (Welch's t-test, Holm-adjusted p, 99% interval)" "$WORK/out" ||
  fail "the method line: $(cat "$WORK/out")"
grep -Eq '^ +20.40 +25.20 +\+4.80 +20.40 +25.20 +\+4.80 +[0-9.e-]+ +\[\+[0-9.]+, \+[0-9.]+\]  a  regression$' "$WORK/out" ||
  fail "a's row with p and interval: $(cat "$WORK/out")"
"$BPFPROF" diff --base "${base[@]}" --new "$WORK"/u[0-4].pb.gz > "$WORK/out"
rc=$?
[ $rc = 0 ] && grep -q '^Verdict: no change' "$WORK/out" || fail "5 runs, no change: exit $rc: $(cat "$WORK/out")"
# The same +5 points inside a wide spread: inconclusive, exit 0.
i=0
for s in 10 30 15 25 20; do mk w$i $s; i=$((i + 1)); done
i=0
for s in 12 38 20 30 25; do mk x$i $s; i=$((i + 1)); done
"$BPFPROF" diff --format json --base "$WORK"/w[0-4].pb.gz --new "$WORK"/x[0-4].pb.gz > "$WORK/json"
rc=$?
python3 - "$WORK/json" << 'PY' || fail "wide spread: exit $rc: $(cat "$WORK/json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["verdict"] == "inconclusive" and d["several_runs"] and d["threshold"] == 2, d
a = [f for f in d["functions"] if f["name"] == "a"][0]
assert a["verdict"] == "inconclusive" and a["p"] > 0.01 and a["interval"][0] < 0 < a["interval"][1], a
PY
[ $rc = 0 ] || fail "inconclusive must exit 0, got $rc"

# Usage errors: exit 2.
for bad in "--threshold 0" "--threshold x" "--alpha 0.7" "--format html" "--base $WORK/b0.pb.gz" \
           "$WORK/b0.pb.gz" "--base --new $WORK/b0.pb.gz"; do
  # shellcheck disable=SC2086
  "$BPFPROF" diff $bad > /dev/null 2> "$WORK/err"
  rc=$?
  [ $rc = 2 ] || fail "diff $bad: exit $rc, want 2: $(cat "$WORK/err")"
done
"$BPFPROF" diff --help | grep -q -- '--threshold' || fail "--help does not explain --threshold"
pass "diff: verdicts, formats, the differential flame graph, several runs"
