#!/usr/bin/env bash
# `bpfprof report` and `bpfprof diff` read a CPU profile that Go's own
# runtime/pprof wrote (tests/system/fixtures/go_cpu, built here with
# Debian's Go: ten leaves with clearly different shares, one inlined into
# its caller, one under a recursion, two goroutines labeled worker=alpha
# and worker=beta) and say what `go tool pprof -top` says of the same file:
#   - the same top 10 functions, in the same order where flat values differ
#     (equal flat values may come in either order), with the same flat and
#     cum values and flat% and cum% within 0.1 of go's, the same total, for
#     each sample type, sorted by cum, by line (--lines), over a directory
#     of two copies, and the whole table (--top 1000);
#   - --focus, --ignore and --tag keep the samples go's -focus, -ignore and
#     -tagfocus keep (totals and tables against go's, with
#     -relative_percentages: of the samples kept), and --focus leafA keeps
#     exactly leafA's cum;
#   - the text output names go's first function first; --format folded
#     sums to the profile's total (from `go tool pprof -raw`), callers
#     before callees, each leaf's lines summing to its flat value;
#   - invalid input (missing, not a profile, truncated) exits 2 with one
#     line on stderr;
#   - diff of a profile with itself exits 0; against one where leafC runs
#     4 times as much (-shift), exits 1 and names main.leafC, unless
#     --threshold is above that growth.
# go's tables are taken with -nodefraction=0 (no node dropped for a cum
# under 0.5% of the total: bpfprof drops none) and -unit=ns (exact values).
# Loads no BPF: needs neither root nor BTF, only go.
source "$(dirname "$0")/lib.sh"
command -v go > /dev/null || skip_or_fail "go (golang-go) is missing: run scripts/setup"
command -v python3 > /dev/null || fail "python3 is missing: run scripts/setup"
[ -x "${BPFPROF:-}" ] || fail "BPFPROF is not set to the built binary"

# Built in $WORK, from a copy: nothing is written into the source tree.
cp -r "$(dirname "$0")/fixtures/go_cpu" "$WORK/go_cpu"
export GOCACHE=$WORK/gocache GOPATH=$WORK/gopath GOFLAGS="-mod=mod -buildvcs=false" \
  GO111MODULE=on GOPROXY=off GOTOOLCHAIN=local
(cd "$WORK/go_cpu" && go build -o "$WORK/gocpu" .) > "$WORK/build.log" 2>&1 ||
  fail "go build of fixtures/go_cpu failed: $(cat "$WORK/build.log")"
A=$WORK/cpu.pb.gz B=$WORK/shifted.pb.gz
"$WORK/gocpu" -o "$A" -d 3s || fail "gocpu -o $A failed"
"$WORK/gocpu" -o "$B" -d 3s -shift || fail "gocpu -shift -o $B failed"

# The checks, in Python: go's tables parsed, bpfprof's JSON read.
cat > "$WORK/check.py" << 'EOF'
import json, re, sys

ROW = re.compile(r'^\s*(\S+)\s+(\S+)%\s+(\S+)%\s+(\S+)\s+(\S+)%\s+(.+?)\s*$')

def num(v):  # "2440000000ns", "597", "0"
    return int(re.sub(r'[a-z]+$', '', v))

def go_table(path, lines):
    """go tool pprof -top's rows (dicts) and its total ("of N total")."""
    rows, total, body = [], None, False
    for l in open(path):
        m = re.search(r' of (\d+)[a-z]* total', l)
        if m:
            total = int(m.group(1))
        if re.match(r'^\s*flat\s+flat%', l):
            body = True
            continue
        m = ROW.match(l) if body else None
        if not m:
            continue
        name = re.sub(r' \(inline\)$', '', m.group(6))
        e = dict(flat=num(m.group(1)), flat_pct=float(m.group(2)),
                 cum=num(m.group(4)), cum_pct=float(m.group(5)), name=name)
        if lines:  # "main.leafA /x/main.go:44"
            e['name'], _, where = name.rpartition(' ')
            e['file'], _, line = where.rpartition(':')
            e['line'] = int(line)
        rows.append(e)
    return rows, total

def key(e, lines):
    return (e.get('name'), e.get('line')) if lines else e.get('name')

def show(e, lines):
    return '%s:%s' % key(e, True) if lines else str(e.get('name'))

def fmt_rows(rows, lines):
    return '\n'.join('  %14s %7.2f%% %14s %7.2f%%  %s' % (
        e.get('flat'), e.get('flat_pct', 0), e.get('cum'), e.get('cum_pct', 0),
        show(e, lines)) for e in rows)

def compare(label, sort, pct, lines, go_top, go_full, bpf_json, n):
    """bpfprof's top n (JSON) against go's: see the header of report_go.sh."""
    lines, pct, n = lines == '1', pct == '1', int(n)
    top, _ = go_table(go_top, lines)
    full, total = go_table(go_full, lines)
    j = json.load(open(bpf_json))
    fns = j.get('functions', [])
    bad = []
    if total is None:
        bad.append('no total in go\'s table')
    elif j.get('total') != total:
        bad.append('total: bpfprof %s, go %s' % (j.get('total'), total))
    want = min(n, len(full))
    if len(top) != want:
        bad.append('go printed %d rows, want %d (parse error?)' % (len(top), want))
    if len(fns) != want:
        bad.append('bpfprof printed %d functions, want %d' % (len(fns), want))
    by_key = {key(e, lines): e for e in full}
    if len({key(b, lines) for b in fns}) != len(fns):
        bad.append('bpfprof lists a function twice')
    for i, (b, g) in enumerate(zip(fns, top)):
        where = '#%d %s (go: %s)' % (i + 1, show(b, lines), show(g, lines))
        if b.get(sort) != g[sort]:
            bad.append('%s: %s %s, go\'s #%d has %s' % (where, sort, b.get(sort), i + 1, g[sort]))
            continue
        # Equal sort values: any order (ties), the same set.
        tied = {key(e, lines) for e in full if e[sort] == g[sort]}
        if key(b, lines) not in tied:
            bad.append('%s: go has no %s with %s %s at this place' % (where, show(b, lines), sort, g[sort]))
            continue
        f = by_key[key(b, lines)]
        for k in ('flat', 'cum'):
            if b.get(k) != f[k]:
                bad.append('%s: %s %s, go %s' % (where, k, b.get(k), f[k]))
        for k in ('flat_pct', 'cum_pct'):
            v = b.get(k)
            if not isinstance(v, (int, float)):
                bad.append('%s: no %s' % (where, k))
                continue
            if pct and abs(v - f[k]) > 0.1:
                bad.append('%s: %s %.2f, go %.2f' % (where, k, v, f[k]))
            if j.get('total') and abs(v - 100.0 * b.get(k[:-4], 0) / j['total']) > 0.01:
                bad.append('%s: %s %.4f is not 100*%s/total %.4f' % (
                    where, k, v, k[:-4], 100.0 * b.get(k[:-4], 0) / j['total']))
        if lines and b.get('file') != f['file']:
            bad.append('%s: file %s, go %s' % (where, b.get('file'), f['file']))
    if bad:
        print('%s: bpfprof report and go tool pprof -top differ:\n  %s' % (label, '\n  '.join(bad)), file=sys.stderr)
        print('go tool pprof (%s):\n%s' % (go_top, fmt_rows(top, lines)), file=sys.stderr)
        print('bpfprof report (%s), total %s:\n%s' % (bpf_json, j.get('total'), fmt_rows(fns, lines)), file=sys.stderr)
        sys.exit(1)

def raw_totals(raw, label=None):
    """Sums of each sample value in go tool pprof -raw's Samples (of the
    samples with LABEL "key:[value]", when given)."""
    sums, cur, on = None, None, False
    def add():
        nonlocal sums
        if cur is not None and (label is None or label in ' '.join(cur[1])):
            sums = [a + b for a, b in zip(sums or [0] * len(cur[0]), cur[0])]
    for l in open(raw):
        if l.startswith('Samples:'):
            on = True
            continue
        if on and re.match(r'^\S', l) and not re.match(r'^[\w/]+/\w+', l):
            break  # Locations, Mappings
        m = re.match(r'^\s+((?:-?\d+\s+)*-?\d+):(.*)$', l)
        if on and m:
            add()
            cur = ([int(v) for v in m.group(1).split()], [])
        elif on and cur is not None and l.strip():
            cur[1].append(l.strip())
    add()
    print(' '.join(str(v) for v in sums or [0]))

def folded(path, total, go_full):
    """Folded stacks: they sum to TOTAL, callers come first, and the lines
    ending in each of go's functions sum to its flat value."""
    rows, _ = go_table(go_full, False)
    s, leaf, stacks, bad = 0, {}, [], []
    for l in open(path):
        st, _, v = l.rstrip('\n').rpartition(' ')
        if not st or not re.fullmatch(r'\d+', v):
            bad.append('not "frame;frame;... VALUE": %r' % l)
            continue
        s += int(v)
        fr = st.split(';')
        leaf[fr[-1]] = leaf.get(fr[-1], 0) + int(v)
        stacks.append(st)
    if s != int(total):
        bad.append('the values sum to %d, the profile\'s total is %s' % (s, total))
    for e in rows:
        if e['flat'] and leaf.get(e['name'], 0) != e['flat']:
            bad.append('the stacks ending in %s sum to %d, its flat value is %d' % (e['name'], leaf.get(e['name'], 0), e['flat']))
    for want in ('main.stageOne;main.leafA', 'main.leafD;main.mixStep', 'main.round;main.recurse;main.recurse'):
        if not any(st.endswith(want) or (want + ';') in st for st in stacks):
            bad.append('no stack has %s (root first, the inlined frame under its caller)' % want)
    if bad:
        print('%s:\n  %s\nfirst lines:' % (path, '\n  '.join(bad[:20])), file=sys.stderr)
        sys.stderr.writelines(open(path).readlines()[:10])
        sys.exit(1)

def field(path, *keys):
    v = json.load(open(path))
    for k in keys:
        v = v[int(k)] if isinstance(v, list) else v.get(k)
    print(v)

def cum_of(go_full, name):
    rows, _ = go_table(go_full, False)
    print(next((e['cum'] for e in rows if e['name'] == name), 'none'))

def names(go_full):
    for e in go_table(go_full, False)[0]:
        print(e['name'])

{'compare': compare, 'raw': raw_totals, 'folded': folded, 'field': field,
 'cum': cum_of, 'names': names}[sys.argv[1]](*sys.argv[2:])
EOF
check() { python3 "$WORK/check.py" "$@"; }

# go_table OUT PPROF_ARGS...: go tool pprof -top, no node dropped, values in ns.
go_table() {
  local out=$1
  shift
  go tool pprof -top -nodefraction=0 -edgefraction=0 -unit=ns "$@" > "$out" 2> "$out.err" ||
    fail "go tool pprof -top $*: $(cat "$out.err")"
}
# report OUT ARGS...: bpfprof report ARGS > OUT; fails unless it exits 0.
report() {
  local out=$1
  shift
  "$BPFPROF" report "$@" > "$out" 2> "$out.err" ||
    fail "bpfprof report $* exited $?: $(cat "$out.err")"
}
# compare NAME SORT PCT LINES N BPFPROF_ARGS... -- PPROF_ARGS...: bpfprof
# report --format json --top N against go tool pprof -top -nodecount=N (and
# its whole table, for ties) on the same input; SORT: the column both sort
# by (flat, cum); PCT=1: percentages against go's too.
compare() {
  local name=$1 sort=$2 pct=$3 lines=$4 n=$5 b=() g=()
  shift 5
  while [ "$1" != -- ]; do b+=("$1"); shift; done
  shift
  g=("$@")
  report "$WORK/$name.json" --format json --top "$n" "${b[@]}"
  go_table "$WORK/$name.top" -nodecount="$n" "${g[@]}"
  go_table "$WORK/$name.full" "${g[@]}"
  check compare "$name" "$sort" "$pct" "$lines" "$WORK/$name.top" "$WORK/$name.full" "$WORK/$name.json" "$n" ||
    fail "$name: 'bpfprof report ${b[*]}' is not 'go tool pprof -top ${g[*]}' (tables above)"
}

# The fixture did what it should: enough samples, leafA first.
go tool pprof -raw "$A" > "$WORK/raw" 2> "$WORK/raw.err" || fail "go tool pprof -raw $A: $(cat "$WORK/raw.err")"
read -r nsamples total <<< "$(check raw "$WORK/raw")"
echo "go_cpu profile: $nsamples samples, $total ns"
[ "$nsamples" -ge 300 ] || fail "only $nsamples samples in 3 s of two busy goroutines (the machine is too busy?)"
go tool pprof -top -nodecount=10 "$A" 2> /dev/null | tail -n 11
go_table "$WORK/all.full" "$A"
[ "$(check names "$WORK/all.full" | head -1)" = main.leafA ] ||
  fail "the fixture's first function is not main.leafA: $(cat "$WORK/all.full")"

# --- the top 10, against go's, every way.
compare cpu flat 1 0 10 "$A" -- "$A"
[ "$(check field "$WORK/cpu.json" sample_type)/$(check field "$WORK/cpu.json" unit)" = cpu/nanoseconds ] ||
  fail "sample_type/unit: $(head -c 200 "$WORK/cpu.json")"
[ "$(check field "$WORK/cpu.json" files)" = 1 ] || fail "files: $(check field "$WORK/cpu.json" files), want 1"
[ "$(check field "$WORK/cpu.json" total)" = "$total" ] ||
  fail "total $(check field "$WORK/cpu.json" total), go tool pprof -raw sums the cpu values to $total"
pass "report --top 10 of a Go CPU profile is go tool pprof -top's"
compare all flat 1 0 1000 "$A" -- "$A"
compare samples flat 1 0 10 --sample-type samples "$A" -- -sample_index=samples "$A"
[ "$(check field "$WORK/samples.json" total)" = "$nsamples" ] ||
  fail "--sample-type samples: total $(check field "$WORK/samples.json" total), the profile has $nsamples samples"
compare cum cum 1 0 10 --sort cum "$A" -- -cum "$A"
compare lines flat 1 1 10 --lines "$A" -- -lines "$A"
mkdir "$WORK/dir" && cp "$A" "$WORK/dir/a.pb.gz" && cp "$A" "$WORK/dir/b.pb.gz"
compare dir flat 1 0 10 "$WORK/dir" -- "$WORK/dir/a.pb.gz" "$WORK/dir/b.pb.gz"
[ "$(check field "$WORK/dir.json" files)" = 2 ] || fail "a directory of 2 profiles: files $(check field "$WORK/dir.json" files)"
pass "the whole table, --sample-type, --sort cum, --lines and a directory as go tool pprof"

# --- filters: of the samples kept (go: -relative_percentages).
compare focus flat 1 0 10 --focus leafA "$A" -- -focus=leafA -relative_percentages "$A"
cum=$(check cum "$WORK/all.full" main.leafA)
[ "$(check field "$WORK/focus.json" total)" = "$cum" ] ||
  fail "--focus leafA: total $(check field "$WORK/focus.json" total), main.leafA's cum is $cum"
compare focus_inl flat 1 0 10 --focus leafD "$A" -- -focus=leafD -relative_percentages "$A"
compare focus_rec flat 1 0 10 --focus 'recurse|stageTwo' "$A" -- '-focus=recurse|stageTwo' -relative_percentages "$A"
compare ignore flat 1 0 10 --ignore mixStep "$A" -- -ignore=mixStep -relative_percentages "$A"
compare tag flat 1 0 10 --tag worker=alpha "$A" -- -tagfocus=worker=alpha -relative_percentages "$A"
read -r _ alpha <<< "$(check raw "$WORK/raw" 'worker:[alpha]')"
[ "$(check field "$WORK/tag.json" total)" = "$alpha" ] ||
  fail "--tag worker=alpha: total $(check field "$WORK/tag.json" total), go tool pprof -raw sums the worker:[alpha] samples to $alpha"
compare tag_focus flat 1 0 10 --tag worker=beta --focus stageOne "$A" -- \
  -tagfocus=worker=beta -focus=stageOne -relative_percentages "$A"
pass "--focus, --ignore, --tag keep what go tool pprof's -focus, -ignore, -tagfocus keep"

# --- the text output: the first of go's functions it names is go's first.
report "$WORK/text" "$A"
check names "$WORK/all.full" > "$WORK/names"
first=$(awk 'NR == FNR { n[$0] = 1; next } { for (i = 1; i <= NF; i++) if ($i in n) { print $i; exit } }' \
  "$WORK/names" "$WORK/text")
[ "$first" = main.leafA ] || fail "the text report's first function is '$first', go's is main.leafA: $(head -20 "$WORK/text")"

# --- folded stacks.
report "$WORK/folded" --format folded "$A"
check folded "$WORK/folded" "$total" "$WORK/all.full" || fail "--format folded (above)"
report "$WORK/folded.samples" --format folded --sample-type samples "$A"
go_table "$WORK/samples.all" -sample_index=samples "$A"
check folded "$WORK/folded.samples" "$nsamples" "$WORK/samples.all" || fail "--format folded --sample-type samples (above)"
pass "text and folded outputs"

# --- invalid input: exit 2, one line on stderr.
# expect_2 WHAT ARGS...: bpfprof ARGS exits 2 with one line on stderr.
expect_2() {
  local what=$1 rc
  shift
  "$BPFPROF" "$@" > "$WORK/out" 2> "$WORK/err"
  rc=$?
  [ "$rc" -eq 2 ] || fail "$what: 'bpfprof $*' exited $rc, want 2; stderr: $(cat "$WORK/err")"
  [ "$(wc -l < "$WORK/err")" -eq 1 ] || fail "$what: 'bpfprof $*' wrote $(wc -l < "$WORK/err") lines on stderr, want 1: $(cat "$WORK/err")"
}
head -c 4096 /dev/urandom > "$WORK/random.pb.gz"
echo "not a profile" > "$WORK/text.pb"
head -c "$(($(stat -c %s "$A") / 2))" "$A" > "$WORK/truncated.pb.gz"
for f in "$WORK/missing.pb.gz" "$WORK/random.pb.gz" "$WORK/text.pb" "$WORK/truncated.pb.gz"; do
  expect_2 "report of ${f##*/}" report "$f"
  expect_2 "report --format json of ${f##*/}" report --format json "$f"
  expect_2 "diff against ${f##*/}" diff "$A" "$f"
done
expect_2 "report of a good file and a missing one" report "$A" "$WORK/missing.pb.gz"
pass "invalid input: exit 2, one line"

# --- diff: leafC's share grew by about 20 points in B.
"$BPFPROF" diff "$A" "$A" > "$WORK/diff.same" 2>&1 || fail "diff of a profile with itself exited $?: $(cat "$WORK/diff.same")"
"$BPFPROF" diff "$A" "$B" > "$WORK/diff.out" 2> "$WORK/diff.err"
rc=$?
go tool pprof -top -nodecount=5 -diff_base="$A" "$B" 2> /dev/null | tail -n 6 > "$WORK/diff.go"
[ "$rc" -eq 1 ] || fail "diff A B (leafC's share grew ~20 points) exited $rc, want 1: $(cat "$WORK/diff.out" "$WORK/diff.err"); go: $(cat "$WORK/diff.go")"
grep -q 'main\.leafC' "$WORK/diff.out" || fail "diff A B does not name main.leafC: $(cat "$WORK/diff.out")"
"$BPFPROF" diff --threshold 90 "$A" "$B" > "$WORK/diff.90" 2>&1 || fail "diff --threshold 90 A B exited $?: $(cat "$WORK/diff.90")"
"$BPFPROF" diff --format json "$A" "$B" > "$WORK/diff.json" 2> "$WORK/diff.err"
rc=$?
[ "$rc" -eq 1 ] || fail "diff --format json A B exited $rc, want 1: $(cat "$WORK/diff.err")"
python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$WORK/diff.json" ||
  fail "diff --format json is not JSON: $(head -c 300 "$WORK/diff.json")"
"$BPFPROF" diff --format markdown "$A" "$B" > "$WORK/diff.md" 2> "$WORK/diff.err"
rc=$?
[ "$rc" -eq 1 ] && grep -q '|.*main\.leafC' "$WORK/diff.md" ||
  fail "diff --format markdown A B exited $rc (want 1) or has no table row of main.leafC: $(cat "$WORK/diff.md" "$WORK/diff.err")"
pass "diff: 0 for the same profile, 1 when leafC grew, --threshold, json, markdown"
