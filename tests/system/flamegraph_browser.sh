#!/usr/bin/env bash
# `bpfprof flamegraph` pages work in a real browser: headless Chromium opens
# them from file:// and flamegraph_browser.js drives them as a user would
# (frame widths, the tooltip, search, zoom by a click, Escape and Reset),
# with no request for anything but the page itself. A profile of known shape
# first, then one of ~100k call-tree nodes that must draw within seconds.
# Loads no BPF; needs Chromium and puppeteer-core (scripts/setup).
source "$(dirname "$0")/lib.sh"
command -v node > /dev/null || skip_or_fail "node is missing: run scripts/setup"
[ -x /usr/bin/chromium ] || skip_or_fail "chromium is missing: run scripts/setup"
export NODE_PATH=/opt/bpfprof-npm/node_modules
node -e 'require.resolve("puppeteer-core")' 2> /dev/null ||
  skip_or_fail "puppeteer-core is not in $NODE_PATH: run scripts/setup"
[ -x "${BPFPROF:-}" ] || fail "BPFPROF is not set to the built binary"
[ -x "${FOLDED_TO_PPROF:-}" ] || fail "FOLDED_TO_PPROF is not set to the test tool"
driver=$(dirname "$0")/flamegraph_browser.js
artifacts=${BPFPROF_ARTIFACTS:-$WORK}
mkdir -p "$artifacts" || fail "cannot make $artifacts"

# share NAME FOLDED: the width of NAME's frames over the root's, as a
# fraction: each stack counts once for every frame of it named NAME.
share() {
  awk -v name="$1" '{
    c = $NF; total += c; n = split(substr($0, 1, length($0) - length(c) - 1), f, ";")
    for (i = 1; i <= n; i++) if (f[i] == name) s += c
  } END { printf "%.6f", s / total }' "$2"
}
# search_pct TEXT FOLDED: the percentage of samples with a frame whose name
# contains TEXT (a frame inside a matching one adds nothing), 2 decimals.
search_pct() {
  awk -v text="$1" '{
    c = $NF; total += c; n = split(substr($0, 1, length($0) - length(c) - 1), f, ";")
    for (i = 1; i <= n; i++) if (index(f[i], text)) { s += c; break }
  } END { printf "%.2f", 100 * s / total }' "$2"
}
# page FOLDED NAME: the flame graph page of FOLDED, $WORK/NAME.html.
page() {
  "$FOLDED_TO_PPROF" "$1" "$WORK/$2.pb.gz" 2> "$WORK/f2p.err" ||
    fail "folded_to_pprof $1: $(cat "$WORK/f2p.err")"
  local t0=$SECONDS
  "$BPFPROF" flamegraph "$WORK/$2.pb.gz" -o "$WORK/$2.html" 2> "$WORK/fg.err" ||
    fail "bpfprof flamegraph $2.pb.gz: $(cat "$WORK/fg.err")"
  echo "$2.html: $(stat -c %s "$WORK/$2.html") bytes in $((SECONDS - t0)) s"
}
# browse NAME EXPECT_JSON: the driver on $WORK/NAME.html, screenshot in
# $artifacts/NAME.png.
browse() {
  local out
  out=$(timeout 120 node "$driver" --page "$WORK/$1.html" --expect "$2" \
    --screenshot "$artifacts/$1.png" 2>&1)
  echo "$out"
  echo "screenshot: $artifacts/$1.png"
  [[ $out == PASS:* ]] || fail "$1.html in Chromium: $out"
}

# A known tree: x is called from a and from b (search "x": 30 + 20 of 100).
cat > "$WORK/known.folded" <<'EOF'
main;a;x 30
main;a;y 10
main;b 40
main;b;x 20
EOF
page "$WORK/known.folded" flamegraph
f=$WORK/known.folded
expect="{\"frames\": {\"all\": 1, \"main\": $(share main "$f"), \"a\": $(share a "$f"),"
expect+=" \"b\": $(share b "$f"), \"x\": $(share x "$f"), \"y\": $(share y "$f")},"
expect+=" \"hover\": \"b\", \"search\": \"x\", \"search_pct\": $(search_pct x "$f"), \"zoom\": \"a\"}"
echo "expect: $expect"
browse flamegraph "$expect"

# A large random tree, the same every run: ~100k distinct call paths below
# main, names skewed towards small numbers so that some frames are wide.
awk 'BEGIN {
  srand(42)
  for (i = 0; i < 20000; i++) {
    d = 2 + int(rand() * 10); s = "main"
    for (j = 0; j < d; j++) s = s ";fn" int(3000 * rand() ^ 5)
    print s, 1 + int(rand() * 50)
  }
}' > "$WORK/large.folded"
nodes=$(awk '{ n = split($1, f, ";"); p = ""; for (i = 1; i <= n; i++) { p = p ";" f[i]; seen[p] = 1 } }
  END { print length(seen) + 1 }' "$WORK/large.folded")
echo "large tree: $nodes nodes"
[ "$nodes" -ge 90000 ] || fail "the large tree has only $nodes nodes"
page "$WORK/large.folded" flamegraph-large
f=$WORK/large.folded
browse flamegraph-large "{\"frames\": {\"all\": 1, \"main\": 1}, \"hover\": \"main\", \"ready_ms\": 5000,
  \"search\": \"fn1\", \"search_pct\": $(search_pct fn1 "$f"), \"zoom\": \"fn0\"}"

pass "flame graph pages draw, hover, search and zoom in Chromium, offline"
