/* test_metrics.c - the Prometheus text builder, metrics addresses, the HTTP
 * request parser (every prefix of a request, malformed lines, a fuzz loop
 * over exact-size buffers so ASan/valgrind see any read past the end) and
 * the metrics server end to end over 127.0.0.1: 503 before the first
 * publish, 200/HEAD/404/405/400/431/408, a silent client, a client that
 * goes away mid-body, a large text, replacing the text, stopping; many
 * idle clients at once, the connection cap, a client that never reads its
 * answer, the counters; bound exactly where asked (127.0.0.1, [::1], [::]
 * IPv6 only, all IPv4 addresses). */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "metrics_server.h"
#include "metrics_text.h"

#define CONTENT_TYPE "Content-Type: text/plain; version=0.0.4; charset=utf-8"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- metrics_text ---- */

static void expect_sample(const char *label, const char *value, double v, const char *want)
{
	struct metrics_text t;

	metrics_text_init(&t);
	metrics_text_sample(&t, "m", label, value, v);
	CHECK(!t.err && t.buf && !strcmp(t.buf, want) && t.len == strlen(want),
	      "%.17g: got '%s', want '%s'", v, t.buf ? t.buf : "(null)", want);
	metrics_text_free(&t);
}

static void test_text(void)
{
	struct metrics_text t;
	char want[64];

	metrics_text_init(&t);
	CHECK(!t.buf && !t.len && !t.err, "init: empty");
	metrics_text_family(&t, "bpfprof_x_total", "counter", "Line one\nwith \\ and \"quotes\".");
	CHECK(t.buf && !strcmp(t.buf, "# HELP bpfprof_x_total Line one\\nwith \\\\ and \"quotes\".\n"
					"# TYPE bpfprof_x_total counter\n"),
	      "family: got '%s'", t.buf);
	metrics_text_free(&t);
	CHECK(!t.buf && !t.len && !t.cap, "free resets");

	expect_sample(NULL, NULL, 0, "m 0\n");
	expect_sample("dir", "/var/spool", 3, "m{dir=\"/var/spool\"} 3\n");
	expect_sample("v", "a\"b\\c\nd", 1, "m{v=\"a\\\"b\\\\c\\nd\"} 1\n");
	expect_sample("v", "", 1, "m{v=\"\"} 1\n");
	expect_sample(NULL, NULL, 12345678901.0, "m 12345678901\n");
	expect_sample(NULL, NULL, 9007199254740993.0, "m 9007199254740992\n"); /* 2^53+1 rounds */
	expect_sample(NULL, NULL, 1e18, "m 1000000000000000000\n");
	expect_sample(NULL, NULL, 1e20, "m 1e+20\n");
	expect_sample(NULL, NULL, -42, "m -42\n");
	expect_sample(NULL, NULL, -0.0, "m 0\n");
	expect_sample(NULL, NULL, 0.5, "m 0.5\n");
	expect_sample(NULL, NULL, 0.1, "m 0.1\n");
	expect_sample(NULL, NULL, 1.5e-7, "m 1.5e-07\n");
	expect_sample(NULL, NULL, NAN, "m NaN\n");
	expect_sample(NULL, NULL, INFINITY, "m +Inf\n");
	expect_sample(NULL, NULL, -INFINITY, "m -Inf\n");

	/* values that need 17 digits read back exactly */
	metrics_text_init(&t);
	metrics_text_sample(&t, "m", NULL, NULL, 1.0 / 3);
	CHECK(!t.err && strtod(t.buf + 2, NULL) == 1.0 / 3, "1/3: got '%s'", t.buf);
	metrics_text_free(&t);

	/* growth past the first allocation keeps every line */
	metrics_text_init(&t);
	for (int i = 0; i < 1000; i++)
		metrics_text_sample(&t, "bpfprof_series", "n", "x", i);
	snprintf(want, sizeof(want), "bpfprof_series{n=\"x\"} 999\n");
	CHECK(!t.err && t.len == strlen(t.buf) && t.len > 1000 * 20 &&
	      !strcmp(t.buf + t.len - strlen(want), want), "1000 samples: len %zu", t.len);
	metrics_text_free(&t);

	/* an error is sticky: nothing more is written */
	metrics_text_init(&t);
	metrics_text_sample(&t, "a", NULL, NULL, 1);
	t.err = -ENOMEM;
	metrics_text_family(&t, "b", "gauge", "B.");
	metrics_text_sample(&t, "b", NULL, NULL, 2);
	CHECK(t.err == -ENOMEM && !strcmp(t.buf, "a 1\n"), "sticky error: got '%s'", t.buf);
	metrics_text_free(&t);
}

/* ---- metrics_server_parse_addr ---- */

#define INVALID -1 /* expect_addr: want -EINVAL */

static void expect_addr(const char *addr, int family, const char *ip, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	char got[INET6_ADDRSTRLEN] = "";
	int err = metrics_server_parse_addr(addr, &ss, &len), got_port = -1;

	if (!err && ss.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &in->sin_addr, got, sizeof(got));
		got_port = ntohs(in->sin_port);
		CHECK(len == sizeof(*in), "%s: len %u", addr, (unsigned)len);
	} else if (!err && ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, got, sizeof(got));
		got_port = ntohs(in6->sin6_port);
		CHECK(len == sizeof(*in6), "%s: len %u", addr, (unsigned)len);
	}
	if (family == INVALID) {
		CHECK(err == -EINVAL, "%s: got %d, want -EINVAL", addr, err);
		return;
	}
	CHECK(!err && got_port == port && (family == AF_UNSPEC || ss.ss_family == family) &&
	      (!ip || !strcmp(got, ip)),
	      "%s: got %d family %d %s port %d", addr, err, ss.ss_family, got, got_port);
}

static void test_addr(void)
{
	expect_addr("127.0.0.1:9091", AF_INET, "127.0.0.1", 9091);
	expect_addr("0.0.0.0:9091", AF_INET, "0.0.0.0", 9091);
	expect_addr(":9091", AF_INET, "0.0.0.0", 9091);
	expect_addr("127.0.0.1:0", AF_INET, "127.0.0.1", 0);
	expect_addr("127.0.0.1:65535", AF_INET, "127.0.0.1", 65535);
	expect_addr("[::1]:9091", AF_INET6, "::1", 9091);
	expect_addr("[::]:80", AF_INET6, "::", 80);
	expect_addr("localhost:9091", AF_UNSPEC, NULL, 9091);

	expect_addr("", INVALID, NULL, 0);
	expect_addr("junk", INVALID, NULL, 0);
	expect_addr("127.0.0.1", INVALID, NULL, 0);
	expect_addr("127.0.0.1:", INVALID, NULL, 0);
	expect_addr("127.0.0.1:65536", INVALID, NULL, 0);
	expect_addr("127.0.0.1:99999999999", INVALID, NULL, 0);
	expect_addr("127.0.0.1:-1", INVALID, NULL, 0);
	expect_addr("127.0.0.1:+80", INVALID, NULL, 0);
	expect_addr("127.0.0.1:9x", INVALID, NULL, 0);
	expect_addr("127.0.0.1: 80", INVALID, NULL, 0);
	expect_addr("127.0.0.1:80:80", INVALID, NULL, 0);
	expect_addr("::1:9091", INVALID, NULL, 0);
	expect_addr("[::1]9091", INVALID, NULL, 0);
	expect_addr("[::1]", INVALID, NULL, 0);
	expect_addr("[::1:9091", INVALID, NULL, 0);
	expect_addr("[]:9091", INVALID, NULL, 0);
	expect_addr("[127.0.0.1]:9091", INVALID, NULL, 0);
	expect_addr("[::1]:http", INVALID, NULL, 0);
}

/* ---- http_parse_request ---- */

/* Parses a private copy of exactly len bytes, so a read past the end is
 * caught by ASan and valgrind. */
static int parse(const char *buf, size_t len, struct http_request *req)
{
	char *copy = malloc(len ? len : 1);
	int err;

	memcpy(copy, buf, len);
	err = http_parse_request(copy, len, req);
	free(copy);
	return err;
}

static void expect_request(const char *text, const char *method, const char *path)
{
	struct http_request req;
	int err = parse(text, strlen(text), &req);

	CHECK(!err && !strcmp(req.method, method) && !strcmp(req.path, path),
	      "'%s': got %d '%s' '%s'", text, err, err ? "" : req.method, err ? "" : req.path);
}

static void expect_bad(const char *text, size_t len, int want)
{
	struct http_request req;
	int err = parse(text, len, &req);

	CHECK(err == want, "'%.*s': got %d, want %d", (int)len, text, err, want);
}

#define BAD(s) expect_bad(s, sizeof(s) - 1, -EINVAL)

/* What any answer of the parser must satisfy. */
static void check_parsed(int err, const struct http_request *req)
{
	if (err) {
		CHECK(err == -EAGAIN || err == -EINVAL, "fuzz: got %d", err);
		return;
	}
	CHECK(memchr(req->method, 0, sizeof(req->method)) && req->method[0] &&
	      memchr(req->path, 0, sizeof(req->path)) &&
	      (req->path[0] == '/' || !strcmp(req->path, "*")) && !strchr(req->path, '?'),
	      "fuzz: accepted a bad request");
}

static void test_parser(void)
{
	static const char full[] = "GET /metrics?match=up HTTP/1.1\r\n"
				   "Host: 127.0.0.1:9091\r\n"
				   "User-Agent: Prometheus/2.53.0\r\n"
				   "Accept: application/openmetrics-text;version=1.0.0;q=0.5,*/*;q=0.1\r\n"
				   "X-Prometheus-Scrape-Timeout-Seconds: 10\r\n"
				   "\r\n";
	char big[sizeof(((struct http_request *)0)->path) + 32];
	struct http_request req;
	int bad_prefixes = 0;

	expect_request(full, "GET", "/metrics");
	expect_request("HEAD / HTTP/1.0\r\n\r\n", "HEAD", "/");
	expect_request("GET /metrics HTTP/1.1\nHost: a\n\n", "GET", "/metrics");
	expect_request("GET /metrics HTTP/1.1\r\nHost: a\n\r\n", "GET", "/metrics");
	expect_request("POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", "POST", "/x");
	expect_request("OPTIONS * HTTP/1.1\r\n\r\n", "OPTIONS", "*");
	expect_request("GET /? HTTP/1.1\r\nX-Empty:\r\nX-Tab: a\tb\r\n\r\n", "GET", "/");
	expect_request("GET /a%20b HTTP/1.1\r\nX: caf\xc3\xa9\r\n\r\n", "GET", "/a%20b");

	/* every proper prefix of a valid request is incomplete, not wrong */
	for (size_t n = 0; n < sizeof(full) - 1; n++)
		if (parse(full, n, &req) != -EAGAIN)
			bad_prefixes++;
	CHECK(!bad_prefixes, "%d prefixes of a valid request were not -EAGAIN", bad_prefixes);
	expect_bad("GET /metrics HTTP/1.1\r\n", 23, -EAGAIN);

	BAD("GET /metrics\r\n\r\n");
	BAD("GET\r\n\r\n");
	BAD(" /metrics HTTP/1.1\r\n\r\n");
	BAD("GET  /metrics HTTP/1.1\r\n\r\n");
	BAD("GET /metrics  HTTP/1.1\r\n\r\n");
	BAD("GET /metrics HTTP/1.1 \r\n\r\n");
	BAD("GET /metrics HTTP/2.0\r\n\r\n");
	BAD("GET /metrics HTTP/1.10\r\n\r\n");
	BAD("GET /metrics HTTP/1.x\r\n\r\n");
	BAD("GET /metrics http/1.1\r\n\r\n");
	BAD("GET /metrics HTTP/1.1\r\r\n\r\n");
	BAD("GET /met\x01rics HTTP/1.1\r\n\r\n");
	BAD("GET /met\x7frics HTTP/1.1\r\n\r\n");
	BAD("GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n");
	BAD("GE\tT / HTTP/1.1\r\n\r\n");
	BAD("G(T / HTTP/1.1\r\n\r\n");
	BAD("GET metrics HTTP/1.1\r\n\r\n");
	BAD("GET http://host/metrics HTTP/1.1\r\n\r\n");
	BAD("\r\nGET / HTTP/1.1\r\n\r\n");
	BAD("GET / HTTP/1.1\r\nHost x\r\n\r\n");
	BAD("GET / HTTP/1.1\r\n: x\r\n\r\n");
	BAD("GET / HTTP/1.1\r\nHo st: x\r\n\r\n");
	BAD("GET / HTTP/1.1\r\n Host: x\r\n\r\n");
	BAD("GET / HTTP/1.1\r\nHost: a\x01" "b\r\n\r\n");
	BAD("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n");
	BAD("GET / HTTP/1.1\r\nX: \0\r\n\r\n");
	BAD("GET /\0 HTTP/1.1\r\n\r\n");
	BAD("ABCDEFGHIJKLMNOP / HTTP/1.1\r\n\r\n"); /* 16 bytes: too long */
	expect_request("ABCDEFGHIJKLMNO / HTTP/1.1\r\n\r\n", "ABCDEFGHIJKLMNO", "/");
	/* a bad line is reported as soon as it is complete */
	expect_bad("GET /metrics HTTP/3\r\n", 21, -EINVAL);
	expect_bad("GET / HTTP/1.1\r\nbad\r\nHost:", 26, -EINVAL);

	/* the longest path that fits, one more, and a long query (ignored) */
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /", 5);
	{
		size_t fit = sizeof(req.path) - 1, at = 4 + fit;

		memcpy(big + at, " HTTP/1.1\r\n\r\n", 13);
		CHECK(!parse(big, at + 13, &req) && strlen(req.path) == fit, "longest path");
		memset(big, 'a', sizeof(big));
		memcpy(big, "GET /", 5);
		memcpy(big + at + 1, " HTTP/1.1\r\n\r\n", 13);
		expect_bad(big, at + 14, -EINVAL);
		big[12] = '?';
		CHECK(!parse(big, at + 14, &req) && !strcmp(req.path, "/aaaaaaa"),
		      "long query: got '%s'", req.path);
	}

	/* fuzz: random bytes, and mutations of the valid request */
	srand(20240611);
	for (int round = 0; round < 30000; round++) {
		static const char alphabet[] = "GETHEAD /?:\r\n\t HTTP/1.1 metrics\x01\x7f\x80\xff";
		char buf[sizeof(full) + 64];
		size_t len;

		if (round % 2) {
			len = (size_t)rand() % sizeof(buf);
			for (size_t i = 0; i < len; i++)
				buf[i] = round % 4 == 1 ? (char)rand()
						       : alphabet[rand() % (sizeof(alphabet) - 1)];
		} else {
			len = sizeof(full) - 1;
			memcpy(buf, full, len);
			for (int m = rand() % 4; m >= 0; m--) {
				size_t at = (size_t)rand() % len;

				switch (rand() % 3) {
				case 0: /* replace */
					buf[at] = round % 8 ? alphabet[rand() % (sizeof(alphabet) - 1)]
							    : (char)rand();
					break;
				case 1: /* delete */
					memmove(buf + at, buf + at + 1, len - at - 1);
					len--;
					break;
				default: /* truncate */
					len = at;
				}
				if (!len)
					break;
			}
		}
		check_parsed(parse(buf, len, &req), &req);
	}
}

/* ---- the server ---- */

struct response {
	char *raw; /* NUL-terminated */
	size_t len;
	int status;
	char *body;
	size_t body_len;
};

/* A connected socket to ip (IPv4 or IPv6) port, or -errno; rcvbuf: its
 * receive buffer, 0 for the default. */
static int try_connect(const char *ip, int port, int rcvbuf)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	struct timeval tv = { .tv_sec = 5 };
	bool v6 = strchr(ip, ':');
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), err;

	if (v6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, ip, &sin6->sin6_addr);
	} else {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, ip, &sin->sin_addr);
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (rcvbuf) /* before connect: it sets the window offered */
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (fd >= 0 && connect(fd, (struct sockaddr *)&ss,
			       v6 ? sizeof(*sin6) : sizeof(*sin))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int connect_to(int port)
{
	int fd = try_connect("127.0.0.1", port, 0);

	CHECK(fd >= 0, "connect to port %d: %d", port, fd);
	return fd;
}

static void send_text(int fd, const char *text, size_t len)
{
	while (len) {
		ssize_t n = send(fd, text, len, MSG_NOSIGNAL);

		if (n <= 0)
			break;
		text += n;
		len -= (size_t)n;
	}
	CHECK(!len, "send the request");
}

/* Everything until the server closes (or 5 s pass), split into status,
 * headers and body. */
static void receive(int fd, struct response *r)
{
	size_t cap = 4096;
	char *end;

	r->raw = malloc(cap);
	r->len = 0;
	for (;;) {
		ssize_t n;

		if (cap - r->len < 2)
			r->raw = realloc(r->raw, cap *= 2);
		n = recv(fd, r->raw + r->len, cap - r->len - 1, 0);
		if (n <= 0)
			break;
		r->len += (size_t)n;
	}
	r->raw[r->len] = '\0';
	r->status = 0;
	sscanf(r->raw, "HTTP/1.1 %d ", &r->status);
	end = strstr(r->raw, "\r\n\r\n");
	r->body = end ? end + 4 : r->raw + r->len;
	r->body_len = (size_t)(r->raw + r->len - r->body);
	if (end)
		end[2] = '\0'; /* headers end with their CRLF */
}

static void request(int port, const char *text, struct response *r)
{
	int fd = connect_to(port);

	if (fd < 0) {
		*r = (struct response){ .raw = NULL };
		return;
	}
	send_text(fd, text, strlen(text));
	receive(fd, r);
	close(fd);
}

/* line is "Name: value", without CRLF. */
static bool has_header(const struct response *r, const char *line)
{
	const char *p = r->raw ? strstr(r->raw, "\r\n") : NULL;
	size_t n = strlen(line);

	for (; p; p = strstr(p + 2, "\r\n"))
		if (!strncmp(p + 2, line, n) && !strncmp(p + 2 + n, "\r\n", 2))
			return true;
	return false;
}

static bool has_length(const struct response *r, size_t len)
{
	char line[64];

	snprintf(line, sizeof(line), "Content-Length: %zu", len);
	return has_header(r, line);
}

/* A GET or HEAD of /metrics answered 200 with exactly text. */
static void expect_metrics(int port, const char *method, const char *text)
{
	char req[128];
	struct response r;
	bool head = !strcmp(method, "HEAD");

	snprintf(req, sizeof(req), "%s /metrics HTTP/1.1\r\nHost: x\r\n\r\n", method);
	request(port, req, &r);
	CHECK(r.status == 200 && has_header(&r, CONTENT_TYPE) &&
	      has_header(&r, "Connection: close") && has_length(&r, strlen(text)) &&
	      r.body_len == (head ? 0 : strlen(text)) && (head || !memcmp(r.body, text, r.body_len)),
	      "%s /metrics: status %d, %zu body bytes, want %zu:\n%.300s", method, r.status,
	      r.body_len, strlen(text), r.raw ? r.raw : "");
	free(r.raw);
}

static void expect_status(int port, const char *text, int status, const char *header)
{
	struct response r;

	request(port, text, &r);
	CHECK(r.status == status && (!header || has_header(&r, header)) &&
	      has_header(&r, "Connection: close") && has_length(&r, r.body_len),
	      "'%.40s': status %d, want %d:\n%.300s", text, r.status, status, r.raw ? r.raw : "");
	free(r.raw);
}

#define BIG_TEXT (16 << 20)

/* Idle clients, the cap, a client that never reads: none holds the others,
 * each is counted. t: the large text published. */
static void test_concurrency(struct metrics_server *s, int port, const struct metrics_text *t)
{
	int idle[METRICS_SERVER_MAX_CONNECTIONS + 10], slow;
	char *big = calloc(1, BIG_TEXT);
	struct metrics_server_stats before, after;
	int64_t t0;
	size_t got = 0;
	char buf[4096];
	ssize_t n;

	metrics_server_get_stats(s, &before);
	CHECK(before.open == 0 && before.accepted > 0 && before.timed_out >= 1,
	      "stats: %llu open, %llu accepted, %llu timed out", (unsigned long long)before.open,
	      (unsigned long long)before.accepted, (unsigned long long)before.timed_out);

	/* a client that asks for the text and does not read it: the 16 MB
	 * are more than the socket buffers take */
	CHECK(!metrics_server_publish(s, big, BIG_TEXT), "publish 16 MB");
	slow = try_connect("127.0.0.1", port, 4096);
	CHECK(slow >= 0, "connect: %d", slow);
	send_text(slow, "GET /metrics HTTP/1.1\r\n\r\n", 25);
	t0 = now_ms();
	usleep(50 * 1000);
	CHECK(!metrics_server_publish(s, t->buf, t->len), "publish the text again");

	/* 30 idle clients, half with a partial request: a scrape is not held */
	for (int i = 0; i < 30; i++) {
		idle[i] = connect_to(port);
		if (i % 2 && idle[i] >= 0)
			send_text(idle[i], "GET /metrics HTTP/1.1\r\nHost:", 29);
	}
	usleep(50 * 1000);
	expect_metrics(port, "GET", t->buf);
	CHECK(now_ms() - t0 < 1000, "scrape beside 30 idle clients and a slow one: %lld ms",
	      (long long)(now_ms() - t0));
	for (int i = 0; i < 30; i++)
		if (idle[i] >= 0)
			close(idle[i]);
	usleep(50 * 1000);

	/* over the cap: closed at once; the slow client holds one slot */
	for (int i = 0; i < METRICS_SERVER_MAX_CONNECTIONS + 10; i++)
		idle[i] = connect_to(port);
	usleep(200 * 1000);
	metrics_server_get_stats(s, &after);
	CHECK(after.refused - before.refused == 11 &&
	      after.open == METRICS_SERVER_MAX_CONNECTIONS,
	      "cap: %llu refused, %llu open", (unsigned long long)(after.refused - before.refused),
	      (unsigned long long)after.open);
	{
		int closed = 0;

		for (int i = 0; i < METRICS_SERVER_MAX_CONNECTIONS + 10; i++) {
			char c;

			if (idle[i] >= 0 && recv(idle[i], &c, 1, MSG_DONTWAIT) == 0)
				closed++;
		}
		CHECK(closed == 11, "%d connections closed at once, want 11", closed);
	}
	for (int i = 0; i < METRICS_SERVER_MAX_CONNECTIONS + 10; i++)
		if (idle[i] >= 0)
			close(idle[i]);
	usleep(50 * 1000);
	expect_metrics(port, "HEAD", t->buf);

	/* the slow client is dropped at its 5 s deadline, short of the text */
	while (now_ms() - t0 < 5500)
		usleep(100 * 1000);
	metrics_server_get_stats(s, &after);
	CHECK(after.open == 0, "%llu open after the deadline", (unsigned long long)after.open);
	while ((n = recv(slow, buf, sizeof(buf), 0)) > 0)
		got += (size_t)n;
	CHECK(got < BIG_TEXT, "slow client: %zu of %d bytes", got, BIG_TEXT);
	close(slow);
	usleep(50 * 1000);
	metrics_server_get_stats(s, &after);
	CHECK(after.open == 0 && after.timed_out - before.timed_out >= 1 &&
	      after.accepted - before.accepted >= 30 + METRICS_SERVER_MAX_CONNECTIONS,
	      "after: %llu open, %llu more timed out, %llu more accepted",
	      (unsigned long long)after.open,
	      (unsigned long long)(after.timed_out - before.timed_out),
	      (unsigned long long)(after.accepted - before.accepted));
	free(big);
}

/* Bound where asked, nowhere else. */
static void test_bind(void)
{
	static const struct {
		const char *addr, *reach, *not_reach;
	} cases[] = {
		{ "127.0.0.1:0", "127.0.0.1", "127.0.0.2" },
		{ ":0", "127.0.0.2", "::1" },
		{ "[::1]:0", "::1", "127.0.0.1" },
		{ "[::]:0", "::1", "127.0.0.1" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct metrics_server *s;
		int err = metrics_server_start(cases[i].addr, &s), fd;

		CHECK(!err, "start on %s: %d", cases[i].addr, err);
		if (err)
			continue;
		fd = try_connect(cases[i].reach, metrics_server_port(s), 0);
		CHECK(fd >= 0, "%s: %s unreachable: %d", cases[i].addr, cases[i].reach, fd);
		if (fd >= 0)
			close(fd);
		fd = try_connect(cases[i].not_reach, metrics_server_port(s), 0);
		CHECK(fd == -ECONNREFUSED, "%s: %s: %d, want refused", cases[i].addr,
		      cases[i].not_reach, fd);
		if (fd >= 0)
			close(fd);
		metrics_server_stop(s);
	}
}

static void test_server(void)
{
	struct metrics_server *s, *s2 = (void *)1;
	struct metrics_text t;
	struct response r, r2;
	char addr[32], big_req[8192];
	int port, silent, err;
	int64_t t0;

	CHECK(metrics_server_start("127.0.0.1", &s2) == -EINVAL && !s2, "bad address");
	err = metrics_server_start("127.0.0.1:0", &s);
	CHECK(!err, "start: %d", err);
	if (err)
		return;
	port = metrics_server_port(s);
	CHECK(port > 0, "ephemeral port %d", port);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	CHECK(metrics_server_start(addr, &s2) == -EADDRINUSE && !s2, "port taken");

	expect_status(port, "GET /metrics HTTP/1.1\r\n\r\n", 503, NULL);
	request(port, "HEAD /metrics HTTP/1.1\r\n\r\n", &r);
	CHECK(r.status == 503 && !r.body_len, "HEAD before publish: %d", r.status);
	free(r.raw);

	metrics_text_init(&t);
	metrics_text_family(&t, "bpfprof_samples_total", "counter", "Samples read.");
	metrics_text_sample(&t, "bpfprof_samples_total", NULL, NULL, 12345678901.0);
	metrics_text_family(&t, "bpfprof_spool_bytes", "gauge", "Bytes in the spool.");
	metrics_text_sample(&t, "bpfprof_spool_bytes", "dir", "/var/lib/\"x\"", 42);
	CHECK(!t.err, "text");
	CHECK(!metrics_server_publish(s, t.buf, t.len), "publish");
	expect_metrics(port, "GET", t.buf);
	expect_metrics(port, "HEAD", t.buf);

	request(port, "GET /metrics?name[]=up HTTP/1.0\r\n\r\n", &r);
	CHECK(r.status == 200 && r.body_len == t.len && !memcmp(r.body, t.buf, t.len),
	      "query ignored: %d", r.status);
	free(r.raw);
	request(port, "GET / HTTP/1.1\r\n\r\n", &r);
	CHECK(r.status == 200 && strstr(r.body, "/metrics") && has_length(&r, r.body_len),
	      "GET /: %d", r.status);
	request(port, "HEAD / HTTP/1.1\r\n\r\n", &r2);
	CHECK(r2.status == 200 && !r2.body_len && has_length(&r2, r.body_len),
	      "HEAD /: %d", r2.status);
	free(r.raw);
	free(r2.raw);
	expect_status(port, "GET /nope HTTP/1.1\r\n\r\n", 404, NULL);
	expect_status(port, "GET /metrics/ HTTP/1.1\r\n\r\n", 404, NULL);
	expect_status(port, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405,
		      "Allow: GET, HEAD");
	expect_status(port, "DELETE / HTTP/1.1\r\n\r\n", 405, "Allow: GET, HEAD");
	expect_status(port, "BLAH\r\n\r\n", 400, NULL);
	expect_status(port, "GET /metrics HTTP/1.1\r\nHost\r\n\r\n", 400, NULL);

	/* exactly 8 KiB and no end of the header block */
	memset(big_req, 'a', sizeof(big_req));
	memcpy(big_req, "GET / HTTP/1.1\r\nX-Long: ", 24);
	{
		int fd = connect_to(port);

		if (fd >= 0) {
			send_text(fd, big_req, sizeof(big_req));
			receive(fd, &r);
			CHECK(r.status == 431, "8 KiB header: %d", r.status);
			free(r.raw);
			close(fd);
		}
	}

	/* a client that sends nothing holds no one; it gets a 408 at 2 s */
	silent = connect_to(port);
	usleep(100 * 1000);
	t0 = now_ms();
	expect_metrics(port, "GET", t.buf);
	CHECK(now_ms() - t0 < 500, "next client served after %lld ms",
	      (long long)(now_ms() - t0));
	if (silent >= 0) {
		receive(silent, &r);
		CHECK(r.status == 408 && now_ms() - t0 < 2500, "silent client: %d", r.status);
		free(r.raw);
		close(silent);
	}

	/* a second publish replaces the text; an empty text is served too */
	metrics_text_free(&t);
	metrics_text_init(&t);
	metrics_text_sample(&t, "bpfprof_up", NULL, NULL, 1);
	CHECK(!metrics_server_publish(s, t.buf, t.len), "publish again");
	expect_metrics(port, "GET", "bpfprof_up 1\n");
	CHECK(!metrics_server_publish(s, "", 0), "publish empty");
	expect_metrics(port, "GET", "");

	/* a large text, sent in many pieces; then a client that closes
	 * without reading it (MSG_NOSIGNAL: no SIGPIPE) */
	metrics_text_free(&t);
	metrics_text_init(&t);
	for (int i = 0; i < 40000; i++) {
		char v[16];

		snprintf(v, sizeof(v), "%d", i);
		metrics_text_sample(&t, "bpfprof_test_series", "n", v, i * 1000.5);
	}
	CHECK(!t.err && t.len > 1000000, "large text: %zu bytes", t.len);
	CHECK(!metrics_server_publish(s, t.buf, t.len), "publish large");
	expect_metrics(port, "GET", t.buf);
	for (int i = 0; i < 3; i++) {
		int fd = connect_to(port);

		if (fd >= 0) {
			send_text(fd, "GET /metrics HTTP/1.1\r\n\r\n", 25);
			usleep(20 * 1000);
			close(fd);
		}
	}
	expect_metrics(port, "HEAD", t.buf);
	expect_metrics(port, "GET", t.buf);

	test_concurrency(s, port, &t);

	/* stop does not wait for a client that sends nothing */
	silent = connect_to(port);
	usleep(100 * 1000);
	t0 = now_ms();
	metrics_server_stop(s);
	CHECK(now_ms() - t0 < 1000, "stop took %lld ms", (long long)(now_ms() - t0));
	if (silent >= 0)
		close(silent);
	metrics_server_stop(NULL);

	/* the port is free again */
	err = metrics_server_start(addr, &s);
	CHECK(!err, "restart on %s: %d", addr, err);
	metrics_server_stop(s);
	metrics_text_free(&t);
}

int main(void)
{
	test_text();
	test_addr();
	test_parser();
	test_server();
	test_bind();
	return check_summary();
}
