#!/usr/bin/env bash
# `bpfprof report` on profiles with a known tree (made by folded_to_pprof):
# the table and JSON agree with sums worked out here from the tree and
# with `go tool pprof -top`; `--format folded`, read by an awk reader
# written from the format's definition (not from our writer), gives back
# the same stacks and totals; --tag, --focus, --ignore, --lines,
# --sample-type; a directory of agent files merged, with --service,
# --from and --until.
source "$(dirname "$0")/lib.sh"
[ -x "${FOLDED_TO_PPROF:-}" ] || fail "FOLDED_TO_PPROF is not set to the test tool"
command -v go > /dev/null || skip_or_fail "go (golang-go) is missing: run scripts/setup"

# The known tree: x is a leaf in two places, a recursion (r;r) counts once
# in cum; two processes (labels) and a kernel frame.
cat > "$WORK/tree.folded" << 'TREE'
#labels pid=100 comm=web
main;a;x 30
main;a;y 10
main;b 40
#labels pid=200 comm=db
main;b;x 20
main;r;r;sys_k_[k] 5
TREE
"$FOLDED_TO_PPROF" "$WORK/tree.folded" "$WORK/tree.pb.gz" || fail "folded_to_pprof"
pprof_check "$WORK/tree.pb.gz"

# flat/cum per function from the tree itself: flat = leaf, cum = once per stack.
awk '
  /^#/ || NF == 0 { next }
  { n = $NF; s = $0; sub(/ [0-9]+$/, "", s); k = split(s, f, ";")
    sub(/_\[k\]$/, "", f[k]); flat[f[k]] += n; total += n
    delete seen
    for (i = 1; i <= k; i++) { g = f[i]; sub(/_\[k\]$/, "", g)
      if (!(g in seen)) { seen[g] = 1; cum[g] += n } } }
  END { for (g in cum) printf "%s %d %d %.4f %.4f\n", g, flat[g], cum[g],
          100 * flat[g] / total, 100 * cum[g] / total }' "$WORK/tree.folded" | sort > "$WORK/expected"

"$BPFPROF" report --sample-type samples --format json -n 0 "$WORK/tree.pb.gz" > "$WORK/report.json" ||
  fail "report --format json"
python3 - "$WORK/report.json" > "$WORK/got" << 'PY' || fail "report json does not parse"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["sample_type"] == "samples" and r["unit"] == "count" and r["total"] == 105, r
for f in r["functions"]:
    print(f["name"], f["flat"], f["cum"], "%.4f" % f["flat_pct"], "%.4f" % f["cum_pct"])
PY
sort -o "$WORK/got" "$WORK/got"
diff "$WORK/expected" "$WORK/got" > "$WORK/d" || fail "report json differs from the tree: $(cat "$WORK/d")"
# ... and the order is pprof's: flat descending, then name.
names=$(python3 -c 'import json,sys; print(" ".join(f["name"] for f in json.load(open(sys.argv[1]))["functions"]))' "$WORK/report.json")
[ "$names" = "x b y sys_k a main r" ] || fail "report order: $names"

# The text table against go tool pprof -top (same rows, same flat%/cum%).
"$BPFPROF" report --sample-type samples "$WORK/tree.pb.gz" > "$WORK/report.txt" || fail "report"
go tool pprof -top -sample_index=samples -nodefraction=0 "$WORK/tree.pb.gz" 2> /dev/null |
  awk '/flat%/ { t = 1; next } t { print $2, $5, $6 }' > "$WORK/pprof.top"
awk '/flat%/ { t = 1; next } t { print $2, $5, $6 }' "$WORK/report.txt" > "$WORK/ours.top"
diff "$WORK/pprof.top" "$WORK/ours.top" > "$WORK/d" ||
  fail "report text differs from go tool pprof -top: $(cat "$WORK/d")"
grep -q '^Type: samples$' "$WORK/report.txt" || fail "no Type line: $(head -3 "$WORK/report.txt")"
# The default sample type is the last (cpu): values are times.
"$BPFPROF" report "$WORK/tree.pb.gz" | grep -q '^Type: cpu$' || fail "default type is not cpu"
"$BPFPROF" report -n 2 --sort cum --sample-type samples "$WORK/tree.pb.gz" | tail -2 |
  awk '{ print $NF }' | tr '\n' ' ' | grep -qx 'main b ' || fail "--sort cum -n 2"

# folded, read as the format defines it: each line is frames joined by ';',
# one space, a decimal count; frames may hold spaces; lines of one stack add.
"$BPFPROF" report --format folded --sample-type samples "$WORK/tree.pb.gz" > "$WORK/out.folded" ||
  fail "report --format folded"
read_folded() {
  awk '
    /^#/ && FILENAME ~ /tree/ { next }
    NF == 0 { next }
    { if (!match($0, / [0-9]+$/)) { print "BAD " FNR ": " $0; bad = 1; next }
      stack = substr($0, 1, RSTART - 1); n = substr($0, RSTART + 1) + 0
      if (stack == "" || stack ~ /^;|;;|;$/) { print "BAD " FNR ": " $0; bad = 1; next }
      gsub(/_\[k\]/, "", stack); sum[stack] += n; total += n }
    END { for (s in sum) print s, sum[s]; print "TOTAL", total; exit bad }' "$1" | sort
}
read_folded "$WORK/tree.folded" > "$WORK/want.stacks"
read_folded "$WORK/out.folded" > "$WORK/got.stacks" || fail "folded output is malformed: $(grep BAD "$WORK/got.stacks")"
diff "$WORK/want.stacks" "$WORK/got.stacks" > "$WORK/d" || fail "folded stacks differ: $(cat "$WORK/d")"
# The same bytes twice (sorted, deterministic).
"$BPFPROF" report --format folded --sample-type samples "$WORK/tree.pb.gz" | cmp -s - "$WORK/out.folded" ||
  fail "folded output is not deterministic"

# Selection: tags (number and string labels; one key's values are
# alternatives), focus, ignore.
total() { python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])' 2> /dev/null; }
t=$("$BPFPROF" report --format json --sample-type samples --tag pid=200 "$WORK/tree.pb.gz" | total)
[ "$t" = 25 ] || fail "--tag pid=200: total $t, want 25"
t=$("$BPFPROF" report --format json --sample-type samples --tag comm=web --tag comm=db "$WORK/tree.pb.gz" | total)
[ "$t" = 105 ] || fail "--tag comm=web --tag comm=db: total $t, want 105"
t=$("$BPFPROF" report --format json --sample-type samples --tag comm=web --tag pid=200 "$WORK/tree.pb.gz" 2> /dev/null | total)
[ -z "$t" ] || fail "--tag comm=web --tag pid=200 matches nothing, got total $t"
t=$("$BPFPROF" report --format json --sample-type samples --focus '^x$' "$WORK/tree.pb.gz" | total)
[ "$t" = 50 ] || fail "--focus ^x$: total $t, want 50"
t=$("$BPFPROF" report --format json --sample-type samples --ignore '^(a|r)$' "$WORK/tree.pb.gz" | total)
[ "$t" = 60 ] || fail "--ignore ^(a|r)$: total $t, want 60"
"$BPFPROF" report --sample-type samples --focus nothing_matches "$WORK/tree.pb.gz" > /dev/null 2> "$WORK/err"
[ $? = 2 ] && grep -q "no samples" "$WORK/err" || fail "--focus matching nothing: $(cat "$WORK/err")"
"$BPFPROF" report --sample-type nosuch "$WORK/tree.pb.gz" > /dev/null 2> "$WORK/err"
[ $? = 2 ] && grep -q "no sample type 'nosuch' (it has: samples, cpu)" "$WORK/err" ||
  fail "--sample-type nosuch: $(cat "$WORK/err")"

# --lines: file:line frames, as pprof -lines.
printf 'main@/src/m.c:3;f@/src/f.c:10 6\nmain@/src/m.c:3;f@/src/f.c:12 4\n' > "$WORK/lines.folded"
"$FOLDED_TO_PPROF" "$WORK/lines.folded" "$WORK/lines.pb.gz" || fail "folded_to_pprof lines"
"$BPFPROF" report --lines --sample-type samples "$WORK/lines.pb.gz" > "$WORK/lines.txt" || fail "report --lines"
grep -q ' 60.00% .*  f /src/f.c:10$' "$WORK/lines.txt" && grep -q ' 40.00% .*  f /src/f.c:12$' "$WORK/lines.txt" ||
  fail "--lines: $(cat "$WORK/lines.txt")"
go tool pprof -top -lines -sample_index=samples "$WORK/lines.pb.gz" 2> /dev/null | grep -q '60.00%.* f /src/f.c:10$' ||
  fail "go tool pprof -lines disagrees about the fixture"

# A directory of agent files: merged; --service; --from/--until on the
# profiles' start times (10:00, 10:01, 10:02 UTC on 2026-12-01).
mkdir "$WORK/dir"
t0=$(date -u -d 2026-12-01T10:00:00Z +%s)
for i in 0 1 2; do
  printf 'main;svc_work %d\n' $((i + 1)) > "$WORK/p$i.folded"
  "$FOLDED_TO_PPROF" --time $(((t0 + 60 * i) * 1000000000)) "$WORK/p$i.folded" \
    "$WORK/dir/web-20261201T10010${i}Z.pb.gz" || fail "folded_to_pprof $i"
done
cp "$WORK/tree.pb.gz" "$WORK/dir/db-20261201T100000Z-1.pb.gz"
ln -s "$WORK/tree.pb.gz" "$WORK/dir/link-20261201T100000Z.pb.gz"
: > "$WORK/dir/.web-20261201T100300Z.pb.gz.tmp" # an agent's temporary file: skipped
t=$("$BPFPROF" report --format json --sample-type samples "$WORK/dir" 2> "$WORK/err" | total)
[ "$t" = $((1 + 2 + 3 + 105)) ] || fail "directory: total $t, want 111"
grep -q "skipped 1 entry" "$WORK/err" || fail "the link was not reported as skipped: $(cat "$WORK/err")"
t=$("$BPFPROF" report --format json --sample-type samples --service web "$WORK/dir" | total)
[ "$t" = 6 ] || fail "--service web: total $t, want 6"
t=$("$BPFPROF" report --format json --sample-type samples --service web \
  --from 2026-12-01T10:01:00Z --until '2026-12-01 10:02' "$WORK/dir" | total)
[ "$t" = 2 ] || fail "--from 10:01 --until 10:02: total $t, want 2"
"$BPFPROF" report --service nosuch "$WORK/dir" > /dev/null 2> "$WORK/err"
[ $? = 2 ] && grep -q "matches --service" "$WORK/err" || fail "--service nosuch: $(cat "$WORK/err")"
# Several inputs: a directory and a file (which --service would leave out:
# its name is not an agent's).
t=$("$BPFPROF" report --format json --sample-type samples "$WORK/dir" "$WORK/tree.pb.gz" 2> /dev/null | total)
[ "$t" = 216 ] || fail "dir + file: total $t, want 216"

# Usage errors: exit 2, one line.
for bad in "--format xml" "--top -1" "--sort name" "--tag novalue" "--focus (" "--from yesterday"; do
  # shellcheck disable=SC2086
  "$BPFPROF" report $bad "$WORK/tree.pb.gz" > /dev/null 2> "$WORK/err"
  rc=$?
  [ $rc = 2 ] || fail "report $bad: exit $rc, want 2"
done
"$BPFPROF" report > /dev/null 2>&1; [ $? = 2 ] || fail "report without a file must exit 2"
"$BPFPROF" report --help | grep -q -- '--sample-type' || fail "--help does not explain --sample-type"
pass "report agrees with the known tree and with go tool pprof; folded round-trips"
