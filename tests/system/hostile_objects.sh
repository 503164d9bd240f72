#!/usr/bin/env bash
# A local user's binaries cannot crash, fool or bloat bpfprof (issue 11,
# items 1, 5 and 8). User nobody:
#  1. runs a binary, lets it exit and be forgotten, touches it (same
#     build-id, new mtime) and runs it again, under the agent: the cached
#     object used to be aliased to itself, freed, then used (ASan saw it);
#  8. runs a copy of the call-tree fixture with its function names edited
#     (build-id kept), then the original runs: the original's samples keep
#     their own names (objects used to be shared by build-id alone);
#  5. runs a copy whose .symtab claims 2 GiB (a sparse file): bpfprof skips
#     its symbols, says so, and its RSS stays put (it used to reach 2 GiB).
source "$(dirname "$0")/lib.sh"
require_bpf
nobody_dir

# 1. Touched between two runs, under the agent (1 s intervals).
cp "$FIXTURES/calltree_fp" "$UDIR/again" && chown nobody: "$UDIR/again"
mkdir "$WORK/out"
"$BPFPROF" agent --interval 1s --output-dir "$WORK/out" 2> "$WORK/agent.log" &
agent=$!
CHILDREN+=("$agent")
sleep 1.5
"${AS_NOBODY[@]}" "$UDIR/again" 1 > /dev/null
sleep 2.5 # an interval ends: the exited process is forgotten
"${AS_NOBODY[@]}" touch "$UDIR/again"
"${AS_NOBODY[@]}" "$UDIR/again" 1 > "$WORK/again.pid"
sleep 2.5
kill -INT "$agent"
wait "$agent"
rc=$?
grep -q "AddressSanitizer\|runtime error" "$WORK/agent.log" && fail "touched binary: $(cat "$WORK/agent.log")"
[ "$rc" = 0 ] || fail "touched binary: the agent exited with $rc: $(tail -5 "$WORK/agent.log")"
second=$(cat "$WORK/again.pid")
named=0
for f in "$WORK"/out/*.pb.gz; do
  pprof_traces "$f" > "$WORK/t"
  named=$((named + $(pid_samples "$WORK/t" "$second" '^(a|b);work;main')))
done
echo "touched binary: the agent lived on; its second run has $named samples in a or b"
[ "$named" -ge 20 ] || fail "touched binary: the second run was not symbolized ($named samples)"

# 8. Same build-id, edited names, another owner, run first.
python3 - "$FIXTURES/calltree_fp" "$UDIR/evil" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
# every "work" symbol and DWARF name; the build-id note is untouched
edited = data.replace(b"\0work\0", b"\0pwnd\0")
assert edited != data
open(sys.argv[2], "wb").write(edited)
PY
chown nobody: "$UDIR/evil" && chmod 0755 "$UDIR/evil"
[ "$(readelf -n "$UDIR/evil" | grep 'Build ID')" = "$(readelf -n "$FIXTURES/calltree_fp" | grep 'Build ID')" ] ||
  fail "the edited copy lost the build-id"
"${AS_NOBODY[@]}" "$UDIR/evil" 6 > "$WORK/evil.pid" &
CHILDREN+=("$!")
"$BPFPROF" record -d 5 -o "$WORK/both.pb.gz" 2> "$WORK/both.log" &
rec=$!
sleep 1.5 # the edited copy is tracked first
"$FIXTURES/calltree_fp" 3 > "$WORK/orig.pid"
wait "$rec" || fail "record failed: $(cat "$WORK/both.log")"
pprof_check "$WORK/both.pb.gz"
pprof_traces "$WORK/both.pb.gz" > "$WORK/both.traces"
evil=$(cat "$WORK/evil.pid") orig=$(cat "$WORK/orig.pid")
evil_pwnd=$(pid_samples "$WORK/both.traces" "$evil" ';pwnd;')
orig_all=$(pid_samples "$WORK/both.traces" "$orig")
orig_work=$(pid_samples "$WORK/both.traces" "$orig" ';work;main')
orig_pwnd=$(pid_samples "$WORK/both.traces" "$orig" 'pwnd')
echo "same build-id: the edited copy has $evil_pwnd samples in pwnd; the original $orig_work of $orig_all in work, $orig_pwnd in pwnd"
[ "$evil_pwnd" -ge 20 ] || fail "the edited copy's own names are not used ($evil_pwnd)"
[ "$orig_pwnd" = 0 ] || fail "another user's copy named the original's functions ($orig_pwnd samples)"
[ "$orig_all" -ge 20 ] && [ $((orig_work * 10)) -ge $((orig_all * 9)) ] ||
  fail "the original is not symbolized ($orig_work of $orig_all)"

# 5. A .symtab of 2 GiB, in a sparse file.
python3 - "$FIXTURES/calltree_fp" "$UDIR/bigsym" <<'PY'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
shoff, = struct.unpack_from("<Q", data, 0x28)
shentsize, shnum = struct.unpack_from("<HH", data, 0x3a)
end = (len(data) + 4095) & ~4095
for i in range(shnum):
    at = shoff + i * shentsize
    if struct.unpack_from("<I", data, at + 4)[0] == 2:  # SHT_SYMTAB
        struct.pack_into("<QQ", data, at + 0x18, end, 2 << 30)  # offset, size
with open(sys.argv[2], "wb") as f:
    f.write(data)
    f.truncate(end + (2 << 30))
PY
chown nobody: "$UDIR/bigsym" && chmod 0755 "$UDIR/bigsym"
"$FIXTURES/calltree_fp" 3 > /dev/null &
CHILDREN+=("$!")
max_rss "$WORK/base.log" "$BPFPROF" record -d 2 -p "$!" -o "$WORK/base.pb.gz"
base_kb=$PEAK_KB
"${AS_NOBODY[@]}" "$UDIR/bigsym" 3 > "$WORK/big.pid" &
CHILDREN+=("$!")
max_rss "$WORK/big.log" "$BPFPROF" record -d 2 -p "$!" -o "$WORK/big.pb.gz"
[ "$RC" = 0 ] || fail "2 GiB .symtab: record failed: $(cat "$WORK/big.log")"
echo "2 GiB .symtab: peak RSS $((PEAK_KB / 1024)) MiB (the original binary: $((base_kb / 1024)) MiB)"
grep -q "bigsym not read: symbol table bytes" "$WORK/big.log" ||
  fail "2 GiB .symtab: no line says why: $(cat "$WORK/big.log")"
[ "$PEAK_KB" -lt $((base_kb + 64 * 1024)) ] ||
  fail "a 2 GiB .symtab cost $(((PEAK_KB - base_kb) / 1024)) MiB"
pprof_check "$WORK/big.pb.gz"
pass "hostile binaries: touched, same build-id of another owner, 2 GiB .symtab"
