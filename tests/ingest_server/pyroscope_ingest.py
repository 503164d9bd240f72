#!/usr/bin/env python3
"""pyroscope_ingest.py - a strict fake of Grafana Pyroscope's POST /ingest.

No real Pyroscope can run in the test environment, so the upload tests talk
to this server instead. It answers like Pyroscope's /ingest handler as
described in shared/reference/pyroscope.md (§1, §2, "Server defaults that
bite") and shared/reference/pprof-pyroscope-detail.md (§1.2, §1.4, §2.1-2.9),
and keeps every accepted upload so that tests can assert on it.

What it enforces, in the order a request meets it:
  - /ingest and /pyroscope/ingest only (404), POST only (405)        [§2.1]
  - an authenticating proxy when asked: --basic-auth USER:PASS or
    --bearer TOKEN, else 401; --require-tenant: X-Scope-OrgID or 401  [§2.6]
  - body limit (--body-limit, default 256 MiB) -> 413                [§2.7]
  - name=app{k=v,...} parsed like labelset.Parse: app [A-Za-z0-9_.-/]
    and non-empty, keys [A-Za-z0-9_.] and non-empty, no escaping, the
    last pair is dropped without '}' -> 400                            [§2.3]
  - from/until like attime.Parse: digits by length (8 = YYYYMMDD,
    13 ms, 16 us, 19 ns, else seconds), now[+-]N[smhdw]; absent = now.
    STRICTER than Pyroscope: anything else is a 400.                   [§2.2]
  - body form like readInputRawDataFromRequest: format=pprof -> raw
    body, Content-Type ignored; no format + multipart/form-data ->
    multipart whose `profile` part must be a file part (with filename=,
    else a 200 that stores nothing), `prev_profile` -> 422. The other
    formats (folded text, jfr, ...) are not emulated: 422.             [§2.4]
  - the pprof: gunzipped when it starts with 1f 8b, at most 4 MiB
    uncompressed, decoded from the protobuf wire format with the Go
    decoder's wire-type rules, then ValidateProfile: sample types
    present and without '-', string_table[0] == "", every string index
    in range, valid UTF-8, location/function id != 0, one value per
    sample type, at most 16000 samples and 100 labels per sample ->
    422                                                           [§1.4, §2.5, §2.8]
  - time_nanos (or `from` when it is 0 or in 1970) within
    (now - 1h, now + 10m) (--window-past/--window-future) -> 422        [§2.5, §2.8]
  - series labels (__name__, __delta__, pyroscope_spy, service_name,
    the name's labels, string sample labels) at most 30, names <= 1024
    and values <= 2048 bytes, valid UTF-8 -> 422                        [§2.8, §2.9]
  - uncompressed size + label bytes above the 2 MiB burst -> 429       [§2.8]
Answers: 200 with an empty body, else a one-line plain-text error
(pyroscope.md §2.5; pprof-pyroscope-detail.md §2.7 says JSON - clients must
take either). What Pyroscope would silently drop during normalization
(locations with neither address nor lines, samples that reference them or a
missing location, all-zero or negative values, numeric labels) is accepted
and listed under "warnings" in the stored JSON.

Usage: pyroscope_ingest.py --store DIR [--port 0] [--basic-auth U:P]
         [--bearer TOKEN] [--require-tenant] [--fail N --fail-status 503]
         [--fail-mode MODE] [--fail-retry-after VALUE]
         [--tls-cert PEM --tls-key PEM] [--window-past S] [--window-future S]
The first line on stdout is the port it listens on (127.0.0.1). Each accepted
upload is stored as DIR/NNNNNN.pprof (the pprof bytes as received) and then
DIR/NNNNNN.json (query, headers, parsed name, times, profile summary), N
counting arrivals from 1 and continuing over what DIR holds. Every request to
/ingest adds a line "UNIX-TIME ANSWER" to DIR/requests.log (ANSWER: the
status sent, or the fault mode).

Failures can be injected: --fail N answers the next N requests to /ingest
with --fail-mode (default status), and POST /-/fail?count=N&mode=M
[&status=S][&retry_after=V] does the same at run time. Modes:
  status          a plain answer with --fail-status (503, 429, 413, ...);
                  429 and 5xx carry Retry-After: --fail-retry-after (1)
  hang            read the request, never answer (until the client leaves)
  not_http        an SSH banner instead of HTTP, then close
  bad_status      "HTTP/1.1 OK 200" (a malformed status line), then close
  endless_header  "HTTP/1.1 200 OK" and header lines without end
  huge_body       store the upload, then 200 with a body without end
The endless ones stop when the client goes away, or after a minute.
"""

import argparse
import base64
import datetime
import http.server
import json
import os
import re
import select
import ssl
import sys
import threading
import time
import urllib.parse
import zlib

MAX_PROFILE = 4 << 20
BURST = 2 << 20
MAX_SAMPLES = 16000
MAX_SAMPLE_LABELS = 100
MAX_SERIES_LABELS = 30
MAX_LABEL_NAME, MAX_LABEL_VALUE = 1024, 2048
SERVICE_RE = re.compile(r"[A-Za-z0-9_.\-/]+")
LABEL_RE = re.compile(r"[A-Za-z0-9_.]+")
OTHER_FORMATS = ("trie", "tree", "lines", "jfr", "speedscope")


class Reject(Exception):
    """An answer other than 200: status and one-line message."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


# ---- query parameters ----

def parse_name(name):
    """labelset.Parse: (app, {key: value}); Reject(400) when invalid."""
    app, brace, rest = name.partition("{")
    app = app.strip()
    if not app:
        raise Reject(400, "name: service name is required")
    if not SERVICE_RE.fullmatch(app):
        bad = next(c for c in app if not SERVICE_RE.fullmatch(c))
        raise Reject(400, f"name: invalid service name: {app}: character is not allowed: '{bad}'")
    labels = {}
    while brace and rest:
        key, eq, rest = rest.partition("=")
        if not eq:
            break  # no '=': the pair is never committed
        key = key.strip()
        if key != "__name__" and not LABEL_RE.fullmatch(key or "-"):
            raise Reject(400, f"name: invalid label name: '{key}'")
        end = min((i for i in (rest.find(","), rest.find("}")) if i >= 0), default=-1)
        if end < 0:
            break  # no '}': the last pair is not committed
        labels[key] = rest[:end].strip()
        closing = rest[end] == "}"
        rest = rest[end + 1:]
        if closing:
            break
    return app, labels


def parse_time(raw, now):
    """attime.Parse: (seconds as float, unit name); Reject(400) when it is
    not a time (Pyroscope would fall back to now: stricter on purpose)."""
    if raw is None:
        return now, "absent"
    s = re.sub(r"[_, ]", "", raw)
    if s.isdigit():
        if len(s) == 8:
            try:
                d = datetime.datetime.strptime(s, "%Y%m%d").replace(tzinfo=datetime.timezone.utc)
                return d.timestamp(), "date"
            except ValueError:
                pass
        scale = {13: ("ms", 1e3), 16: ("us", 1e6), 19: ("ns", 1e9)}.get(len(s), ("seconds", 1))
        return int(s) / scale[1], scale[0]
    m = re.fullmatch(r"now(?:([+-])(\d+)([smhdw]))?", s)
    if not m:
        raise Reject(400, f"cannot parse time '{raw}'")
    if not m.group(1):
        return now, "now"
    mult = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[m.group(3)]
    off = int(m.group(2)) * mult
    return (now + off if m.group(1) == "+" else now - off), "relative"


# ---- multipart/form-data (Go's ReadForm: parts with a filename are files) ----

def parse_multipart(body, content_type):
    m = re.search(r'boundary="?([^";]+)"?', content_type)
    if not m:
        raise Reject(422, "malformed multipart content type header")
    delim = b"--" + m.group(1).encode()
    files, values = {}, {}
    chunks = body.split(delim)
    if len(chunks) < 3 or not chunks[-1].startswith(b"--"):
        raise Reject(422, "multipart: NextPart: EOF")
    for chunk in chunks[1:-1]:
        if not chunk.startswith(b"\r\n") or not chunk.endswith(b"\r\n"):
            raise Reject(422, "multipart: malformed part")
        head, sep, data = chunk[2:-2].partition(b"\r\n\r\n")
        if not sep:
            raise Reject(422, "multipart: malformed part header")
        disp = next((h for h in head.decode("latin-1").split("\r\n")
                     if h.lower().startswith("content-disposition:")), "")
        name = re.search(r'\bname="([^"]*)"', disp)
        filename = re.search(r'\bfilename="([^"]*)"', disp)
        if not name:
            continue
        (files if filename and filename.group(1) else values)[name.group(1)] = data
    return files, values


# ---- pprof wire format ----

def varint(buf, pos):
    shift = value = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise Reject(422, "failed to parse profile: bad varint")
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value & ((1 << 64) - 1), pos
        shift += 7


def fields(buf):
    """Yield (field number, wire type, value) of one message."""
    pos = 0
    while pos < len(buf):
        key, pos = varint(buf, pos)
        num, wt = key >> 3, key & 7
        if num == 0:
            raise Reject(422, "failed to parse profile: field number 0")
        if wt == 0:
            val, pos = varint(buf, pos)
        elif wt == 2:
            n, pos = varint(buf, pos)
            if n > len(buf) - pos:
                raise Reject(422, "failed to parse profile: length past the end")
            val, pos = buf[pos:pos + n], pos + n
        elif wt in (1, 5):
            n = 8 if wt == 1 else 4
            if n > len(buf) - pos:
                raise Reject(422, "failed to parse profile: truncated fixed field")
            val, pos = buf[pos:pos + n], pos + n
        else:
            raise Reject(422, f"failed to parse profile: wire type {wt}")
        yield num, wt, val


def signed(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def decode(buf, schema):
    """A message as {field: [values]}; schema maps field -> 'int', 'ints'
    (packed or not), 'bytes' or a nested schema (dict). Other fields are
    skipped, as the Go decoder does."""
    out = {}
    for num, wt, val in fields(buf):
        kind = schema.get(num)
        if kind is None:
            continue
        if kind == "ints" and wt == 2:
            pos, vals = 0, []
            while pos < len(val):
                v, pos = varint(val, pos)
                vals.append(signed(v))
            out.setdefault(num, []).extend(vals)
            continue
        want = 0 if kind in ("int", "ints") else 2
        if wt != want:
            raise Reject(422, f"failed to parse profile: type mismatch in field {num}")
        if isinstance(kind, dict):
            val = decode(val, kind)
        elif want == 0:
            val = signed(val)
        out.setdefault(num, []).append(val)
    return out


VALUE_TYPE = {1: "int", 2: "int"}
PROFILE = {
    1: VALUE_TYPE,
    2: {1: "ints", 2: "ints", 3: {1: "int", 2: "int", 3: "int", 4: "int"}},
    3: {i: "int" for i in range(1, 11)},
    4: {1: "int", 2: "int", 3: "int", 4: {1: "int", 2: "int", 3: "int"}, 5: "int"},
    5: {i: "int" for i in range(1, 6)},
    6: "bytes", 7: "int", 8: "int", 9: "int", 10: "int", 11: VALUE_TYPE,
    12: "int", 13: "ints", 14: "int", 15: "int",
}


def one(msg, num, default=0):
    return msg.get(num, [default])[-1]


def check_profile(raw):
    """Decode and validate a pprof (gzipped or not). Returns (profile dict,
    string table, uncompressed size, warnings); Reject(422) when invalid."""
    if raw[:2] == b"\x1f\x8b":
        try:
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            data = d.decompress(raw, MAX_PROFILE + 1)
        except zlib.error as e:
            raise Reject(422, f"failed to decompress profile: {e}")
        if len(data) > MAX_PROFILE:
            raise Reject(422, f"decompressed size exceeds maximum allowed size of {MAX_PROFILE} bytes")
        if not d.eof:
            raise Reject(422, "failed to decompress profile: unexpected EOF")
    else:
        data = raw
        if len(data) > MAX_PROFILE:
            raise Reject(422, f"decompressed size exceeds maximum allowed size of {MAX_PROFILE} bytes")
    times = [v for num, wt, v in fields(data) if num == 9 and wt == 0]
    if len(times) > 1 and times[0]:
        raise Reject(422, "failed to parse profile: concatenated profiles detected")
    p = decode(data, PROFILE)
    strings = []
    for s in p.get(6, []):
        try:
            strings.append(s.decode("utf-8"))
        except UnicodeDecodeError:
            raise Reject(422, f"invalid utf8 string hex: {s.hex()}")
    if not strings:
        raise Reject(422, "empty string table")
    if strings[0] != "":
        raise Reject(422, "string 0 should be empty string")

    def s_at(idx, what):
        if not 0 <= idx < len(strings):
            raise Reject(422, f"{what} string index out of range")
        return strings[idx]

    types = p.get(1, [])
    if not types:
        raise Reject(422, "empty profile: no sample types")
    for vt in types:
        for f in (1, 2):
            if "-" in s_at(one(vt, f), "sample type"):
                raise Reject(422, "sample type contains -")
    for f in (7, 8, 14, 15):
        s_at(one(p, f), "profile")
    for vt in p.get(11, []):
        s_at(one(vt, 1), "period type")
        s_at(one(vt, 2), "period type")
    for c in p.get(13, []):
        s_at(c, "comment")
    for m in p.get(3, []):
        s_at(one(m, 5), "mapping file")
        s_at(one(m, 6), "mapping build id")
    for f in p.get(5, []):
        if one(f, 1) == 0:
            raise Reject(422, "function id is 0")
        for k in (2, 3, 4):
            s_at(one(f, k), "function")
    functions = {one(f, 1) for f in p.get(5, [])}
    mappings = {one(m, 1) for m in p.get(3, [])}
    warnings = []
    live_locations = set()
    for loc in p.get(4, []):
        lid = one(loc, 1)
        if lid == 0:
            raise Reject(422, "location id is 0")
        lines = loc.get(4, [])
        if one(loc, 3) == 0 and not lines:
            warnings.append(f"location {lid} has neither address nor lines: dropped")
        elif one(loc, 2) and one(loc, 2) not in mappings:
            warnings.append(f"location {lid} refers to missing mapping {one(loc, 2)}: dropped")
        elif any(one(ln, 1) not in functions for ln in lines):
            warnings.append(f"location {lid} refers to a missing function: dropped")
        else:
            live_locations.add(lid)
    samples = p.get(2, [])
    if len(samples) > MAX_SAMPLES:
        raise Reject(422, f"the profile exceeds the samples count limit: {len(samples)} > {MAX_SAMPLES}")
    for i, smp in enumerate(samples):
        values = smp.get(2, [])
        if len(values) != len(types):
            raise Reject(422, "sample value length mismatch")
        labels = smp.get(3, [])
        if len(labels) > MAX_SAMPLE_LABELS:
            raise Reject(422, f"sample has {len(labels)} labels; limit {MAX_SAMPLE_LABELS}")
        for lb in labels:
            s_at(one(lb, 1), "label key")
            s_at(one(lb, 2), "label str")
            s_at(one(lb, 4), "label num unit")
            if not one(lb, 2):
                warnings.append(f"sample {i}: numeric or empty label {strings[one(lb, 1)]!r} removed")
        if any(v < 0 for v in values):
            warnings.append(f"sample {i} has a negative value: dropped")
        elif not any(values):
            warnings.append(f"sample {i} has only zero values: dropped")
        if any(lid not in live_locations for lid in smp.get(1, [])):
            warnings.append(f"sample {i} refers to a missing or dropped location: dropped")
    return p, strings, len(data), warnings


def metric_name(types, strings):
    """createLabels' __name__ (pprof-pyroscope-detail.md §2.5)."""
    names = [strings[one(vt, 1)] for vt in types]
    if "wall" in names:
        return "wall"
    for n in names:
        if "cpu" in n:
            return "process_cpu"
        if n.startswith(("alloc_", "inuse_")) or n in ("space", "objects"):
            return "memory"
        for prefix, name in (("mutex_", "mutex"), ("block_", "block"), ("goroutines", "goroutines")):
            if n.startswith(prefix):
                return name
    return names[-1]


def series_labels(app, name_labels, spy, p, strings):
    """The label sets the distributor would validate: one per group of
    samples with the same string labels (pprof_split)."""
    base = {"__name__": metric_name(p.get(1, []), strings), "__delta__": "false",
            "pyroscope_spy": spy, "service_name": app}
    for k, v in name_labels.items():
        if not k.startswith("__") or k == "__session_id__":
            base[k] = v
    base["service_name"] = name_labels.get("service_name", app)
    groups = {}
    for smp in p.get(2, []) or [{}]:
        extra = {}
        for lb in smp.get(3, []):
            key, val = strings[one(lb, 1)], strings[one(lb, 2)]
            key = "span_id" if key == "profile_id" else key
            if val and key not in ("trace_id", "span_id"):
                extra[key] = val
        merged = dict(extra)
        merged.update(base)
        groups[tuple(sorted(merged.items()))] = merged
    for labels in groups.values():
        if len(labels) > MAX_SERIES_LABELS:
            raise Reject(422, f"profile series has {len(labels)} label names; limit {MAX_SERIES_LABELS}")
        for k, v in labels.items():
            if len(k.encode("utf-8", "surrogateescape")) > MAX_LABEL_NAME or \
                    len(v.encode("utf-8", "surrogateescape")) > MAX_LABEL_VALUE:
                raise Reject(422, f"label {k[:64]}: name or value too long")
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                raise Reject(422, f"invalid labels: value of {k} is not valid UTF-8")
    return base, list(groups.values())


# ---- the server ----

class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.fail_status, self.fail_left = args.fail_status, args.fail
        self.fail_mode, self.fail_retry_after = args.fail_mode, args.fail_retry_after
        names = [f for f in os.listdir(args.store) if re.fullmatch(r"\d{6}\.json", f)]
        self.seq = max((int(f[:6]) for f in names), default=0)

    def take_failure(self):
        """(mode, status, Retry-After) of the next injected failure, or None."""
        with self.lock:
            if self.fail_left > 0:
                self.fail_left -= 1
                return self.fail_mode, self.fail_status, self.fail_retry_after
        return None

    def log_request(self, answer):
        with self.lock, open(os.path.join(self.args.store, "requests.log"), "a") as f:
            f.write(f"{time.time():.3f} {answer}\n")

    def store(self, pprof, meta):
        with self.lock:
            self.seq += 1
            base = os.path.join(self.args.store, f"{self.seq:06d}")
            meta["seq"] = self.seq
            with open(base + ".pprof", "wb") as f:
                f.write(pprof)
            with open(base + ".json.tmp", "w") as f:
                json.dump(meta, f, indent=1, sort_keys=True)
            os.rename(base + ".json.tmp", base + ".json")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-pyroscope"

    def log_message(self, fmt, *args):
        if not self.server.state.args.quiet:
            sys.stderr.write("pyroscope_ingest: " + (fmt % args) + "\n")

    def reply(self, status, message="", retry_after="1"):
        body = (message + "\n").encode() if message else b""
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        if status == 429 or status >= 500:
            self.send_header("Retry-After", retry_after)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.read_body(0)
        self.reply(405, "method not allowed")

    do_PUT = do_DELETE = do_GET

    def read_body(self, limit):
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            raise Reject(411, "this fake server wants a Content-Length")
        n = int(self.headers.get("Content-Length") or 0)
        if limit and n > limit:
            self.close_connection = True
            raise Reject(413, "request body too large: http: request body too large")
        return self.rfile.read(n)

    def do_POST(self):
        state = self.server.state
        url = urllib.parse.urlsplit(self.path)
        try:
            if url.path == "/-/fail":
                self.read_body(0)
                q = urllib.parse.parse_qs(url.query)
                with state.lock:
                    state.fail_status = int(q.get("status", ["503"])[0])
                    state.fail_left = int(q.get("count", ["1"])[0])
                    state.fail_mode = q.get("mode", ["status"])[0]
                    state.fail_retry_after = q.get("retry_after", ["1"])[0]
                return self.reply(200)
            if url.path not in ("/ingest", "/pyroscope/ingest"):
                self.read_body(0)
                raise Reject(404, "404 page not found")
            failure = state.take_failure()
            if failure and failure[0] != "huge_body":
                self.read_body(0)
                state.log_request(failure[1] if failure[0] == "status" else failure[0])
                if failure[0] == "status":
                    return self.reply(failure[1], f"injected failure {failure[1]}", failure[2])
                return self.misbehave(failure[0])
            self.check_auth(state.args)
            body = self.read_body(state.args.body_limit)
            if failure:
                self.ingest(state, url.query, body, answer=lambda: self.misbehave("huge_body"))
            else:
                self.ingest(state, url.query, body)
        except Reject as e:
            state.log_request(e.status)
            self.reply(e.status, str(e))

    def misbehave(self, mode):
        """A fault that no HTTP library would send: raw bytes on the socket."""
        self.close_connection = True
        sock, until = self.connection, time.monotonic() + 60
        if mode == "not_http":
            return self.wfile.write(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
        if mode == "bad_status":
            return self.wfile.write(b"HTTP/1.1 OK 200\r\nContent-Length: 0\r\n\r\n")
        if mode == "endless_header":
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            chunk = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"a" * 100) for i in range(100))
        elif mode == "huge_body":
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1099511627776\r\n\r\n")
            chunk = b"x" * 65536
        else:  # hang: until the client goes away
            while time.monotonic() < until and not select.select([sock], [], [], 1)[0]:
                pass
            return
        try:
            while time.monotonic() < until:
                self.wfile.write(chunk)
        except OSError:
            pass  # the client stopped reading: what we wanted

    def check_auth(self, args):
        auth = self.headers.get("Authorization", "")
        want = None
        if args.basic_auth:
            want = "Basic " + base64.b64encode(args.basic_auth.encode()).decode()
        elif args.bearer:
            want = "Bearer " + args.bearer
        if want and auth != want:
            self.read_body(0)
            raise Reject(401, "unauthorized")
        if args.require_tenant and not self.headers.get("X-Scope-OrgID"):
            self.read_body(0)
            raise Reject(401, "no org id")

    def ingest(self, state, query, body, answer=None):
        now = time.time()
        q = urllib.parse.parse_qs(query, keep_blank_values=True, errors="surrogateescape")
        get = lambda k: q[k][-1] if k in q else None
        app, name_labels = parse_name(get("name") or "")
        t_from, from_unit = parse_time(get("from"), now)
        t_until, until_unit = parse_time(get("until"), now)
        fmt = get("format")
        ctype = self.headers.get("Content-Type", "")
        if fmt in OTHER_FORMATS or (fmt != "pprof" and "multipart/form-data" not in ctype):
            raise Reject(422, f"format {fmt or 'folded'}: only pprof is emulated by this fake server")
        if fmt == "pprof":
            form, pprof = "raw", body
        else:
            form = "multipart"
            files, _ = parse_multipart(body, ctype)
            if files.get("prev_profile"):
                raise Reject(422, "unsupported client version. Please update github.com/grafana/pyroscope-go to the latest version")
            if "sample_type_config" in files:
                try:
                    json.loads(files["sample_type_config"])
                except ValueError as e:
                    raise Reject(422, f"sample_type_config: {e}")
            pprof = files.get("profile", b"")
        if not pprof:
            self.log_message("accepted an upload without a profile: nothing stored")
            state.log_request(200)
            return self.reply(200)
        p, strings, size, warnings = check_profile(pprof)
        time_nanos = one(p, 9)
        if time_nanos == 0 or time_nanos < 365 * 86400 * 10**9:
            time_nanos = int(t_from * 1e9)
        args = state.args
        if not (now - args.window_past) * 1e9 < time_nanos < (now + args.window_future) * 1e9:
            raise Reject(422, f"profile at {time_nanos} ns is outside of ingestion window")
        spy = get("spyName") or "unknown"
        base, groups = series_labels(app, name_labels, spy, p, strings)
        label_bytes = sum(len(k) + len(v) for k, v in base.items())
        if size + label_bytes > BURST:
            raise Reject(429, f"push rate limit ({BURST} bytes burst) exceeded while adding {size + label_bytes} bytes")
        state.store(pprof, {
            "path": urllib.parse.urlsplit(self.path).path,
            "query": {k: v[-1] for k, v in q.items()},
            "headers": dict(self.headers.items()),
            "form": form,
            "service_name": base["service_name"],
            "labels": base,
            "series": len(groups),
            "from_seconds": t_from, "from_unit": from_unit,
            "until_seconds": t_until, "until_unit": until_unit,
            "time_nanos": time_nanos,
            "sample_types": [[strings[one(vt, 1)], strings[one(vt, 2)]] for vt in p.get(1, [])],
            "samples": len(p.get(2, [])),
            "uncompressed_bytes": size,
            "warnings": warnings,
        })
        state.log_request("huge_body" if answer else 200)
        if answer:
            answer()
        else:
            self.reply(200)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--store", required=True)
    ap.add_argument("--basic-auth", metavar="USER:PASS")
    ap.add_argument("--bearer", metavar="TOKEN")
    ap.add_argument("--require-tenant", action="store_true")
    ap.add_argument("--fail", type=int, default=0, metavar="N")
    ap.add_argument("--fail-status", type=int, default=503)
    ap.add_argument("--fail-mode", default="status",
                    choices=("status", "hang", "not_http", "bad_status", "endless_header",
                             "huge_body"))
    ap.add_argument("--fail-retry-after", default="1", metavar="VALUE")
    ap.add_argument("--body-limit", type=int, default=256 << 20)
    ap.add_argument("--window-past", type=int, default=3600)
    ap.add_argument("--window-future", type=int, default=600)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.store, exist_ok=True)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.state = State(args)
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    sys.stdout.write(f"{server.server_address[1]}\n")  # one write, even unbuffered
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
