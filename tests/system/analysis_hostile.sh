#!/usr/bin/env bash
# Hostile and broken inputs to the analysis commands: a truncated gzip,
# random bytes, a pprof naming locations and functions that do not exist,
# an empty file, a profile with no samples, a gzip bomb (1.2 GiB of zeros
# in 1.2 MB), a FIFO nobody writes, a huge count: each must end with exit
# status 2 and one line on stderr naming the file, never a crash, a hang
# or unbounded memory (the ASan build runs this too).
source "$(dirname "$0")/lib.sh"
[ -x "${FOLDED_TO_PPROF:-}" ] || fail "FOLDED_TO_PPROF is not set to the test tool"

printf 'main;a 3\nmain;b 1\n' > "$WORK/good.folded"
"$FOLDED_TO_PPROF" "$WORK/good.folded" "$WORK/good.pb.gz" || fail "folded_to_pprof"

head -c $(($(stat -c %s "$WORK/good.pb.gz") / 2)) "$WORK/good.pb.gz" > "$WORK/truncated.pb.gz"
head -c 4096 /dev/urandom > "$WORK/random.pb.gz"
: > "$WORK/empty.pb.gz"
head -c 1258291200 /dev/zero | gzip -9 > "$WORK/bomb.pb.gz"
mkfifo "$WORK/fifo.pb.gz"
python3 - "$WORK" << 'PY'
# Hand-encoded Profile messages (perftools.profiles, proto/profile.proto).
import sys
def varint(n):
    out = b""
    while True:
        b = n & 0x7f; n >>= 7
        if n: out += bytes([b | 0x80])
        else: return out + bytes([b])
def field(num, payload):            # length-delimited
    return varint(num << 3 | 2) + varint(len(payload)) + payload
def num(num_, v):                    # varint field
    return varint(num_ << 3) + varint(v)
def strings(*s):
    return b"".join(field(6, x.encode()) for x in ("",) + s)
vt = field(1, num(1, 1) + num(2, 2))                       # samples/count
def sample(locs, value):
    return field(2, b"".join(num(1, l) for l in locs) + num(2, value))
def location(id_, fn):
    return field(4, num(1, id_) + field(4, num(1, fn) + num(2, 7)))
def function(id_, name):
    return field(5, num(1, id_) + num(2, name))
w = sys.argv[1]
open(w + "/dangling_location.pb", "wb").write(
    vt + sample([1, 99], 5) + location(1, 1) + function(1, 3) + strings("samples", "count", "main"))
open(w + "/dangling_function.pb", "wb").write(
    vt + sample([1], 5) + location(1, 42) + strings("samples", "count"))
open(w + "/no_samples.pb", "wb").write(vt + strings("samples", "count"))
open(w + "/huge_counts.pb", "wb").write(
    vt + sample([1], 2**62) + sample([1], 2**62) + location(1, 1) + function(1, 3)
    + strings("samples", "count", "main"))
open(w + "/bad_string.pb", "wb").write(
    vt + sample([1], 5) + location(1, 1) + function(1, 77) + strings("samples", "count"))
PY

check() { # check CMD FILE WHAT: exit 2 and one line naming FILE
  local cmd=$1 file=$2 what=$3 rc lines
  timeout 60 "$BPFPROF" $cmd "$file" > "$WORK/out" 2> "$WORK/err"
  rc=$?
  lines=$(wc -l < "$WORK/err")
  [ $rc = 2 ] || fail "$cmd $what: exit $rc, want 2 (stderr: $(cat "$WORK/err"))"
  [ "$lines" = 1 ] || fail "$cmd $what: $lines lines on stderr, want 1: $(cat "$WORK/err")"
  grep -q "$(basename "$file")" "$WORK/err" || fail "$cmd $what: the line does not name the file: $(cat "$WORK/err")"
  echo "$cmd $what: $(cat "$WORK/err")"
}
for cmd in report "flamegraph -o $WORK/fg.html" "diff $WORK/good.pb.gz"; do
  check "$cmd" "$WORK/truncated.pb.gz" "truncated gzip"
  check "$cmd" "$WORK/random.pb.gz" "random bytes"
  check "$cmd" "$WORK/empty.pb.gz" "empty file"
  check "$cmd" "$WORK/dangling_location.pb" "dangling location id"
  check "$cmd" "$WORK/dangling_function.pb" "dangling function id"
  check "$cmd" "$WORK/no_samples.pb" "no samples"
  check "$cmd" "$WORK/huge_counts.pb" "counts that overflow"
  check "$cmd" "$WORK/bad_string.pb" "string index out of range"
  check "$cmd" "$WORK/bomb.pb.gz" "gzip bomb"
  check "$cmd" "$WORK/fifo.pb.gz" "FIFO"
  check "$cmd" "$WORK/nosuch.pb.gz" "missing file"
done
# The bomb is refused at 100 times its size, not after a GiB.
/usr/bin/time -f '%M' -o "$WORK/rss" "$BPFPROF" report "$WORK/bomb.pb.gz" 2> /dev/null
rss_kb=$(tail -1 "$WORK/rss")
[ "$rss_kb" -lt $((400 * 1024)) ] || fail "the gzip bomb took $((rss_kb / 1024)) MiB"
pass "every hostile input gave exit 2 and one line"
