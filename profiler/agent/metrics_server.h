/* metrics_server.h - serve the agent's self-metrics to Prometheus over HTTP.
 *
 *   GET|HEAD /metrics   200, the latest published text (query ignored),
 *                       Content-Type: text/plain; version=0.0.4; charset=utf-8
 *                       503 until the first metrics_server_publish
 *   GET|HEAD /          200, a line pointing to /metrics
 *   another path        404
 *   another method      405 with Allow: GET, HEAD
 *   malformed request   400; header block over 8 KiB 431; no complete
 *                       request within 2 s 408
 * Every answer is HTTP/1.1 with Content-Length and Connection: close.
 *
 * Why a thread: the agent's main loop blocks in the sampler's poll and in
 * uploads for up to seconds at a time, and a scrape must not wait for that
 * (nor an upload for a scrape), so the server runs on its own thread.
 *
 * Why one poll() loop over every connection: the port may be reachable by
 * any local user (or more), and a client that connects and sends nothing,
 * or never reads its answer, must not delay the others. Every socket is
 * non-blocking and the thread waits only in one poll() over the listening
 * socket, the wake-up eventfd and the open connections. Each connection
 * has deadlines counted from its accept - the whole request within 2 s
 * (else 408), everything done within 5 s (else dropped) - and at most
 * METRICS_SERVER_MAX_CONNECTIONS are open at once: one more is closed as
 * soon as it is accepted. Both are counted (metrics_server_get_stats).
 *
 * Why publish a snapshot: the thread never reads the agent's state. The
 * main loop renders the text (metrics_text.h) about once a second and hands
 * it over with metrics_server_publish, which copies it and swaps a pointer
 * under a mutex; a connection takes a reference to the latest copy under
 * that mutex and sends it without holding it. So a slow or stuck client
 * never delays the agent. The connection counters are atomics, written by
 * the thread and read by the agent.
 *
 * The thread blocks every signal, so SIGINT/SIGTERM still interrupt the
 * main loop's waits (signals.h). Functions return 0 or a negative errno and
 * log one line on failure.
 */
#ifndef BPFPROF_METRICS_SERVER_H
#define BPFPROF_METRICS_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Connections open at once. A Prometheus server scrapes with one at a
 * time; 64 leaves room for several scrapers, curl and health checks, while
 * bounding the memory (an 8 KiB request buffer each) and fds a flood of
 * connections can take. */
#define METRICS_SERVER_MAX_CONNECTIONS 64

struct metrics_server;

struct metrics_server_stats {
	uint64_t accepted;  /* connections taken in (not the refused ones) */
	uint64_t refused;   /* closed at once: the cap was reached */
	uint64_t timed_out; /* at a deadline: answered 408, or dropped */
	uint64_t open;      /* open now */
};

/* "HOST:PORT" to a socket address: 127.0.0.1:9091, [::1]:9091 (IPv6 in
 * brackets), localhost:9091 (the first address getaddrinfo gives), or
 * :9091 for 0.0.0.0. PORT is decimal, 0..65535; 0 binds an ephemeral port.
 * -EINVAL when malformed or HOST does not resolve. An IPv6 address is bound
 * IPv6-only: [::]:9091 is every IPv6 address, not IPv4 as well. */
int metrics_server_parse_addr(const char *addr, struct sockaddr_storage *ss,
			      socklen_t *len);

/* Binds addr (SO_REUSEADDR), listens and starts the thread. -EADDRINUSE,
 * -EACCES, ... from the socket calls. */
int metrics_server_start(const char *addr, struct metrics_server **out);

/* The port bound, the ephemeral one when addr asked for port 0. */
int metrics_server_port(const struct metrics_server *s);

/* Scrapes from now on get a copy of text[0..len). 0 or -ENOMEM (the
 * previous text stays). */
int metrics_server_publish(struct metrics_server *s, const char *text,
			   size_t len);

/* The connection counters since the start; any thread. */
void metrics_server_get_stats(struct metrics_server *s, struct metrics_server_stats *out);

/* Wakes the thread, waits for it and frees everything. NULL is a no-op. */
void metrics_server_stop(struct metrics_server *s);

/* ---- the request parser, exposed for tests ---- */

struct http_request {
	char method[16]; /* a token, e.g. "GET" */
	char path[1024]; /* the target up to '?', e.g. "/metrics", or "*" */
};

/* Parses buf[0..len), which need not be NUL-terminated and is never read
 * past len. 0 when it starts with a whole valid header block (request line
 * "METHOD SP target SP HTTP/1.x", header lines "name: value", an empty
 * line; lines end with CRLF or a bare LF); -EAGAIN when no line seen so far
 * is invalid but the block is incomplete; -EINVAL when malformed: a control
 * character, a missing part, a version other than HTTP/1.x, a target not
 * starting with '/' (and not "*"), a method or path too long for *req.
 * Headers are checked but not returned. */
int http_parse_request(const char *buf, size_t len, struct http_request *req);

#endif
