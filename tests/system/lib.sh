# lib.sh - helpers shared by the system tests (sourced, not run).
#
# Each test: `source lib.sh`, `require_bpf`, then works in $WORK (removed at
# exit) and calls fail/pass. Profiles are read with the real consumer,
# `go tool pprof`.
set -u

WORK=$(mktemp -d /tmp/bpfprof-test.XXXXXX)
export PPROF_TMPDIR=$WORK HOME=${HOME:-$WORK}
CHILDREN=()
cleanup() {
  for p in "${CHILDREN[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "PASS: $*"; }

# Skips (exit 77) when this machine cannot load BPF; under CI that is a
# failure, because CI runs as root and the tests must run there.
skip_or_fail() {
  if [ "${CI:-}" = true ]; then fail "cannot run under CI: $*"; fi
  echo "SKIP: $*"; exit 77
}
require_bpf() {
  [ "$(id -u)" -eq 0 ] || skip_or_fail "system tests need root"
  [ -r /sys/kernel/btf/vmlinux ] || skip_or_fail "kernel has no BTF"
  command -v go >/dev/null || skip_or_fail "go (golang-go) is missing: run scripts/setup"
  [ -x "${BPFPROF:-}" ] || fail "BPFPROF is not set to the built binary"
}

# pprof_check FILE: `go tool pprof -raw` must read it.
pprof_check() {
  go tool pprof -raw "$1" > "$WORK/raw.txt" 2> "$WORK/raw.err" ||
    fail "go tool pprof -raw $1: $(cat "$WORK/raw.err")"
}

# pprof_traces FILE [pprof flags...]: one line per sample, with the names
# bpfprof gave (-symbolize=none: pprof, as root, would otherwise name what
# bpfprof left unnamed from the binaries on disk and hide its failures),
# "COUNT<TAB>pid=P<TAB>leaf;caller;...;root<TAB>comm=C" (counts from
# samples/count).
pprof_traces() {
  local f=$1; shift
  go tool pprof -traces -symbolize=none -sample_index=samples "$@" "$f" 2>/dev/null | awk '
    function flush() {
      if (n != "") print n "\t" "pid=" pid "\t" st "\t" "comm=" comm
      n = ""; st = ""
    }
    /^-+\+-+/ { flush(); pid = ""; comm = ""; next }
    /^ *pid: / { pid = $2; next }
    /^ *comm: / { comm = $2; next }
    /^ *[a-z_]+: / { next }
    /^ +[0-9]+ +[^ ]/ { flush(); n = $1; fn = $2; st = fn; next }
    /^ +[^ ]/ && n != "" { fn = $1; st = st ";" fn; next }
    END { flush() }'
}

# user_traces < TRACES: TRACES with each stack's leading kernel frames (the
# names in /proc/kallsyms) removed, for assertions on the user leaf that
# must also hold for samples taken in a syscall or an interrupt (a Go
# program's asynchronous preemption signals, say).
user_traces() {
  awk -F'\t' -v OFS='\t' '
    FNR == NR { split($0, sym, " "); kernel[sym[3]] = 1; next }
    {
      n = split($3, f, ";"); i = 1
      while (i < n && (f[i] in kernel)) i++
      s = f[i]; for (j = i + 1; j <= n; j++) s = s ";" f[j]
      $3 = s; print
    }' /proc/kallsyms -
}

# metrics_port AGENT_LOG: the port of the agent's --metrics-addr, from its
# log; fails when the log has none.
metrics_port() {
  sed -n 's/.*metrics served on .*, port \([0-9]*\),.*/\1/p' "$1" | grep .
}

# start_agent LOG CMD...: runs CMD, a `bpfprof agent` command line (maybe
# behind setpriv or prlimit, which exec it, so that $! is the agent), in
# the background with its stderr in LOG; sets AGENT_PID and waits until the
# agent says it is profiling (it has then logged its metrics port). With
# --metrics-addr in CMD, sets METRICS_PORT from LOG too. Fails, naming LOG
# and printing its tail, when the agent exits first, is not profiling
# within 10 s, or logs no metrics port.
start_agent() {
  local log=$1 arg _
  shift
  "$@" 2> "$log" &
  AGENT_PID=$!
  CHILDREN+=("$AGENT_PID")
  for _ in $(seq 500); do
    grep -q 'profiling every' "$log" && break
    if ! kill -0 "$AGENT_PID" 2> /dev/null; then
      wait "$AGENT_PID"
      fail "the agent exited with $? before profiling; $log ends: $(tail -n 20 "$log")"
    fi
    sleep 0.02
  done
  grep -q 'profiling every' "$log" ||
    fail "the agent is not profiling after 10 s; $log ends: $(tail -n 20 "$log")"
  METRICS_PORT=
  for arg; do
    if [[ $arg == --metrics-addr* ]]; then
      METRICS_PORT=$(metrics_port "$log") ||
        fail "no metrics port in $log: $(tail -n 20 "$log")"
    fi
  done
}

# scrape PORT PATH: prints "STATUS CONTENT-TYPE" then the body.
scrape() {
  python3 - "$1" "$2" <<'EOF'
import sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}{sys.argv[2]}", timeout=5)
    print(r.status, r.headers["Content-Type"]); sys.stdout.write(r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.headers["Content-Type"])
EOF
}
# metric NAME [LABELS] < TEXT: the value of the sample NAME{LABELS}.
metric() {
  local k=$1
  [ -z "${2:-}" ] || k="$1{$2}"
  awk -v k="$k" '$1 == k { print $2; f = 1 } END { exit !f }'
}

# start_ingest_server STORE [PORT]: the strict fake of Pyroscope's /ingest
# (tests/ingest_server) in the background, keeping what it receives in
# STORE; sets port and server.
start_ingest_server() {
  # Emptied here, not by the background job's redirection, which may
  # happen only after the wait below has read the previous port.
  : > "$WORK/port"
  python3 "$(dirname "${BASH_SOURCE[0]}")/../ingest_server/pyroscope_ingest.py" \
    --store "$1" --port "${2:-0}" --quiet >> "$WORK/port" 2>> "$WORK/server.log" &
  server=$!
  CHILDREN+=("$server")
  for _ in $(seq 200); do [ -s "$WORK/port" ] && break; sleep 0.1; done
  port=$(head -1 "$WORK/port")
  [ -n "$port" ] || fail "the ingest server did not start (port ${2:-0}): $(cat "$WORK/server.log")"
}

# sum_traces FILTER TRACES: sum of counts of the lines of TRACES matching
# the awk condition FILTER (on $1 count, $2 pid=, $3 stack, $4 comm=).
sum_traces() { awk -F'\t' "$1 { s += \$1 } END { print s + 0 }" "$2"; }

# pid_samples TRACES PID [STACK_RE [COMM]]: how many samples of TRACES are
# of pid PID (and of command COMM, when given: a pid can change hands) with
# a stack that matches the awk regex STACK_RE (any stack when empty or not
# given).
pid_samples() {
  local cond="\$2 == \"pid=$2\" && \$3 ~ ENVIRON[\"STACK_RE\"]"
  [ -z "${4:-}" ] || cond+=" && \$4 == \"comm=$4\""
  STACK_RE=${3:-} sum_traces "$cond" "$1"
}

# Starts the call-tree fixture for SECONDS in the background; sets FIXTURE_PID.
start_calltree() {
  "$FIXTURES/calltree_fp" "$1" > "$WORK/calltree.pid" &
  FIXTURE_PID=$!
  CHILDREN+=("$FIXTURE_PID")
}

# "${AS_NOBODY[@]}" CMD...: runs CMD as user nobody, a local user with no
# privilege: the one the hostile-input tests play. (A command, not a
# function, so that `... &` gives the pid of CMD itself.)
AS_NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)

# nobody_dir: a directory under $WORK that nobody owns (and can reach);
# sets UDIR.
nobody_dir() {
  command -v setpriv > /dev/null || fail "setpriv (util-linux) is missing"
  chmod 0711 "$WORK"
  UDIR=$WORK/nobody
  mkdir -p "$UDIR" && chown nobody:nogroup "$UDIR"
}

# require_cgroup2: CGROUP2 = the unified (v2) hierarchy's mount,
# /sys/fs/cgroup itself or /sys/fs/cgroup/unified (hybrid systems).
require_cgroup2() {
  CGROUP2=
  for d in /sys/fs/cgroup /sys/fs/cgroup/unified; do
    [ "$(stat -f -c %T "$d" 2>/dev/null)" = cgroup2fs ] && CGROUP2=$d && return
  done
  skip_or_fail "no cgroup v2 hierarchy mounted"
}
# asan_build: whether $BPFPROF is the ASan+UBSan build, whose RSS measures
# ASan (redzones, a quarantine of freed blocks) more than bpfprof.
asan_build() { ldd "$BPFPROF" | grep -q libasan; }

# max_rss LOG CMD...: runs CMD (stderr to LOG) and sets PEAK_KB to its peak
# RSS (getrusage of the child, exact) and RC to its exit status.
max_rss() {
  local log=$1 out
  shift
  out=$(python3 -c '
import resource, subprocess, sys
r = subprocess.run(sys.argv[2:], stderr=open(sys.argv[1], "w"))
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)' "$log" "$@")
  PEAK_KB=${out% *}
  RC=${out#* }
}
