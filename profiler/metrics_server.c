/* metrics_server.c - see metrics_server.h.
 *
 * The published text is a refcounted snapshot: publish installs a new one
 * and drops its reference to the old; a scrape holds a reference while it
 * sends, so the old text lives until that send ends and the thread never
 * allocates or copies. Refcounts change only under the mutex.
 *
 * A connection is served start to end before the next accept: read until
 * the parser has a whole header block (at most REQUEST_MAX bytes, within
 * REQUEST_TIMEOUT_MS of the accept), answer within RESPONSE_TIMEOUT_MS,
 * close. Sockets are non-blocking and every wait is a poll() that also
 * watches the wake eventfd, so metrics_server_stop never waits for a
 * client. A request body, if any, is not read.
 */
#include "metrics_server.h"

#include "clock.h"
#include "log.h"
#include "signals.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define REQUEST_MAX 8192
#define REQUEST_TIMEOUT_MS 2000
#define RESPONSE_TIMEOUT_MS 5000
#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define TEXT_TYPE "text/plain; charset=utf-8"

struct snapshot {
	unsigned int refs; /* under metrics_server.lock */
	size_t len;
	char text[];
};

struct metrics_server {
	int listen_fd, wake_fd, port;
	pthread_t thread;
	pthread_mutex_t lock;
	struct snapshot *snap; /* NULL before the first publish; under lock */
	char req[REQUEST_MAX]; /* the thread's */
};

/* ---- request parser ---- */

static bool tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* "METHOD SP target SP HTTP/1.x", p[0..n) without the end of line. */
static int parse_request_line(const char *p, size_t n, struct http_request *req)
{
	const char *end = p + n, *target, *sp, *query, *version;
	size_t method_len, target_len, path_len;

	sp = memchr(p, ' ', n);
	if (!sp)
		return -EINVAL;
	method_len = (size_t)(sp - p);
	if (!method_len || method_len >= sizeof(req->method))
		return -EINVAL;
	for (size_t i = 0; i < method_len; i++)
		if (!tchar((unsigned char)p[i]))
			return -EINVAL;

	target = sp + 1;
	sp = memchr(target, ' ', (size_t)(end - target));
	if (!sp)
		return -EINVAL;
	target_len = (size_t)(sp - target);
	for (size_t i = 0; i < target_len; i++)
		if ((unsigned char)target[i] <= ' ' || (unsigned char)target[i] >= 0x7f)
			return -EINVAL;
	if (!target_len || (target[0] != '/' && (target_len != 1 || target[0] != '*')))
		return -EINVAL;
	query = memchr(target, '?', target_len);
	path_len = query ? (size_t)(query - target) : target_len;
	if (path_len >= sizeof(req->path))
		return -EINVAL;

	version = sp + 1;
	if (end - version != 8 || memcmp(version, "HTTP/1.", 7) ||
	    version[7] < '0' || version[7] > '9')
		return -EINVAL;

	memcpy(req->method, p, method_len);
	req->method[method_len] = '\0';
	memcpy(req->path, target, path_len);
	req->path[path_len] = '\0';
	return 0;
}

/* "name: value": name a non-empty token, value without control characters
 * but tabs (bytes >= 0x80 are allowed: obs-text). */
static int check_header_line(const char *p, size_t n)
{
	const char *colon = memchr(p, ':', n);

	if (!colon || colon == p)
		return -EINVAL;
	for (const char *c = p; c < colon; c++)
		if (!tchar((unsigned char)*c))
			return -EINVAL;
	for (const char *c = colon + 1; c < p + n; c++)
		if (((unsigned char)*c < ' ' && *c != '\t') || *c == 0x7f)
			return -EINVAL;
	return 0;
}

int http_parse_request(const char *buf, size_t len, struct http_request *req)
{
	const char *line = buf, *end = buf + len, *nl;
	bool first = true;

	while ((nl = memchr(line, '\n', (size_t)(end - line)))) {
		size_t n = (size_t)(nl - line);
		int err;

		if (n && line[n - 1] == '\r')
			n--;
		if (first)
			err = parse_request_line(line, n, req);
		else if (!n)
			return 0;
		else
			err = check_header_line(line, n);
		if (err)
			return err;
		first = false;
		line = nl + 1;
	}
	return -EAGAIN;
}

/* ---- address ---- */

int metrics_server_parse_addr(const char *addr, struct sockaddr_storage *ss,
			      socklen_t *len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res;
	const char *host = addr, *colon, *port;
	char name[NI_MAXHOST];
	size_t host_len;
	int err;

	if (addr[0] == '[') {
		const char *bracket = strchr(addr, ']');

		if (!bracket || bracket[1] != ':')
			goto bad;
		host = addr + 1;
		colon = bracket + 1;
		host_len = (size_t)(bracket - host);
		hints.ai_family = AF_INET6;
		hints.ai_flags |= AI_NUMERICHOST;
	} else {
		colon = strchr(addr, ':');
		if (!colon || strchr(colon + 1, ':'))
			goto bad; /* no port, or IPv6 without brackets */
		host_len = (size_t)(colon - host);
	}
	port = colon + 1;
	if (!*port || strlen(port) > 5 || port[strspn(port, "0123456789")] ||
	    atoi(port) > 65535 || host_len >= sizeof(name))
		goto bad;
	if (!host_len && addr[0] != '[') {
		strcpy(name, "0.0.0.0");
	} else {
		memcpy(name, host, host_len);
		name[host_len] = '\0';
	}

	err = getaddrinfo(name, port, &hints, &res);
	if (err) {
		log_error("metrics address '%s': %s", addr,
			  err == EAI_SYSTEM ? strerror(errno) : gai_strerror(err));
		return -EINVAL;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
bad:
	log_error("metrics address '%s': expected HOST:PORT, e.g. 127.0.0.1:9091 or [::1]:9091, PORT 0-65535",
		  addr);
	return -EINVAL;
}

/* ---- connections ---- */

/* 0 when fd has one of events (or an error), -ETIMEDOUT at the deadline,
 * -ECANCELED when the server is being stopped. */
static int wait_fd(struct metrics_server *s, int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = fd, .events = events },
			{ .fd = s->wake_fd, .events = POLLIN },
		};
		int64_t left = deadline - monotonic_ms();
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(pfd, 2, (int)left);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (pfd[1].revents)
			return -ECANCELED;
		if (n > 0)
			return 0;
	}
}

/* Into s->req until http_parse_request has an answer: 0, -EINVAL, -E2BIG
 * (REQUEST_MAX bytes and no end), -ETIMEDOUT, -ECONNRESET (the client
 * closed first), -ECANCELED or another recv error. */
static int read_request(struct metrics_server *s, int fd, struct http_request *req)
{
	int64_t deadline = monotonic_ms() + REQUEST_TIMEOUT_MS;
	size_t len = 0;

	for (;;) {
		int err = wait_fd(s, fd, POLLIN, deadline);
		ssize_t n;

		if (err)
			return err;
		n = recv(fd, s->req + len, sizeof(s->req) - len, 0);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -errno;
		}
		len += (size_t)n;
		err = http_parse_request(s->req, len, req);
		if (err != -EAGAIN)
			return err;
		if (len == sizeof(s->req))
			return -E2BIG;
	}
}

static int send_all(struct metrics_server *s, int fd, const char *p, size_t len,
		    int flags, int64_t deadline)
{
	while (len) {
		ssize_t n = send(fd, p, len, flags | MSG_NOSIGNAL);

		if (n < 0) {
			int err;

			if (errno != EAGAIN && errno != EINTR)
				return -errno;
			err = wait_fd(s, fd, POLLOUT, deadline);
			if (err)
				return err;
			continue;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* headers: "" or more header lines, each ending with CRLF. */
static int reply(struct metrics_server *s, int fd, const char *status,
		 const char *headers, const char *type, const char *body,
		 size_t len, bool head)
{
	int64_t deadline = monotonic_ms() + RESPONSE_TIMEOUT_MS;
	char hdr[256];
	int n, err;

	n = snprintf(hdr, sizeof(hdr),
		     "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
		     "Connection: close\r\n\r\n",
		     status, type, len, headers);
	if (head)
		len = 0;
	/* MSG_MORE: header and body leave in one segment, not two with a
	 * delayed ACK between */
	err = send_all(s, fd, hdr, (size_t)n, len ? MSG_MORE : 0, deadline);
	return err ? err : send_all(s, fd, body, len, 0, deadline);
}

static int reply_text(struct metrics_server *s, int fd, const char *status,
		      const char *headers, const char *body, bool head)
{
	return reply(s, fd, status, headers, TEXT_TYPE, body, strlen(body), head);
}

static void snapshot_put(struct metrics_server *s, struct snapshot *snap)
{
	bool last;

	if (!snap)
		return;
	pthread_mutex_lock(&s->lock);
	last = !--snap->refs;
	pthread_mutex_unlock(&s->lock);
	if (last)
		free(snap);
}

static int answer(struct metrics_server *s, int fd, const struct http_request *req)
{
	bool head = !strcmp(req->method, "HEAD");
	bool metrics = !strcmp(req->path, "/metrics");
	struct snapshot *snap;
	int err;

	if (!metrics && strcmp(req->path, "/"))
		return reply_text(s, fd, "404 Not Found", "",
				  "not found: the metrics are at /metrics\n", head);
	if (!head && strcmp(req->method, "GET"))
		return reply_text(s, fd, "405 Method Not Allowed", "Allow: GET, HEAD\r\n",
				  "method not allowed: use GET or HEAD\n", false);
	if (!metrics)
		return reply_text(s, fd, "200 OK", "",
				  "bpfprof agent: Prometheus metrics are at /metrics\n", head);

	pthread_mutex_lock(&s->lock);
	snap = s->snap;
	if (snap)
		snap->refs++;
	pthread_mutex_unlock(&s->lock);
	if (!snap)
		return reply_text(s, fd, "503 Service Unavailable", "",
				  "no metrics yet: the agent is starting\n", head);
	err = reply(s, fd, "200 OK", "", METRICS_TYPE, snap->text, snap->len, head);
	snapshot_put(s, snap);
	return err;
}

static void serve(struct metrics_server *s, int fd)
{
	struct http_request req;
	int err = read_request(s, fd, &req);

	switch (err) {
	case 0:
		err = answer(s, fd, &req);
		break;
	case -EINVAL:
		err = reply_text(s, fd, "400 Bad Request", "", "malformed request\n", false);
		break;
	case -E2BIG:
		err = reply_text(s, fd, "431 Request Header Fields Too Large", "",
				 "request header block over 8 KiB\n", false);
		break;
	case -ETIMEDOUT:
		err = reply_text(s, fd, "408 Request Timeout", "",
				 "no complete request within 2 s\n", false);
		break;
	}
	if (err && err != -ECANCELED && err != -ECONNRESET)
		log_debug("metrics: client: %s", strerror(-err));
}

static void *run(void *arg)
{
	struct metrics_server *s = arg;

	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = s->listen_fd, .events = POLLIN },
			{ .fd = s->wake_fd, .events = POLLIN },
		};
		int fd;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("metrics: poll: %s; no longer serving", strerror(errno));
			break;
		}
		if (pfd[1].revents)
			break;
		fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			/* out of fds or memory: wait a second, or the listening
			 * socket stays readable and this loop spins */
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				struct pollfd wake = { .fd = s->wake_fd, .events = POLLIN };

				log_warn("metrics: accept: %s; retrying in 1 s", strerror(errno));
				if (poll(&wake, 1, 1000) > 0)
					break;
			}
			continue; /* EAGAIN, ECONNABORTED, network errors */
		}
		serve(s, fd);
		close(fd);
	}
	return NULL;
}

/* ---- lifetime ---- */

int metrics_server_start(const char *addr, struct metrics_server **out)
{
	struct sockaddr_storage ss;
	struct metrics_server *s;
	const char *what;
	socklen_t len;
	int one = 1, err;

	*out = NULL;
	err = metrics_server_parse_addr(addr, &ss, &len);
	if (err)
		return err;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	err = -pthread_mutex_init(&s->lock, NULL);
	if (err) {
		free(s);
		log_error("metrics: mutex: %s", strerror(-err));
		return err;
	}
	s->wake_fd = -1;
	s->listen_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	what = "socket";
	if (s->listen_fd < 0)
		goto sys_fail;
	what = "set SO_REUSEADDR on";
	if (setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		goto sys_fail;
	what = "bind";
	if (bind(s->listen_fd, (struct sockaddr *)&ss, len))
		goto sys_fail;
	what = "listen on";
	if (listen(s->listen_fd, 16))
		goto sys_fail;
	what = "getsockname of";
	len = sizeof(ss);
	if (getsockname(s->listen_fd, (struct sockaddr *)&ss, &len))
		goto sys_fail;
	s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						 : ((struct sockaddr_in *)&ss)->sin_port);
	what = "eventfd for";
	s->wake_fd = eventfd(0, EFD_CLOEXEC);
	if (s->wake_fd < 0)
		goto sys_fail;

	err = signals_blocked_thread(&s->thread, run, s);
	if (err) {
		log_error("metrics: start the server thread: %s", strerror(-err));
		goto fail;
	}
	*out = s;
	return 0;

sys_fail:
	err = -errno;
	log_error("metrics: %s %s: %s", what, addr, strerror(errno));
fail:
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return err;
}

int metrics_server_port(const struct metrics_server *s)
{
	return s->port;
}

int metrics_server_publish(struct metrics_server *s, const char *text, size_t len)
{
	struct snapshot *snap = malloc(sizeof(*snap) + len), *old;

	if (!snap) {
		log_error("metrics: copy %zu bytes of metrics: %s", len, strerror(ENOMEM));
		return -ENOMEM;
	}
	snap->refs = 1;
	snap->len = len;
	memcpy(snap->text, text, len);
	pthread_mutex_lock(&s->lock);
	old = s->snap;
	s->snap = snap;
	pthread_mutex_unlock(&s->lock);
	snapshot_put(s, old);
	return 0;
}

void metrics_server_stop(struct metrics_server *s)
{
	if (!s)
		return;
	/* the counter stays non-zero: every later poll sees the wake-up */
	if (eventfd_write(s->wake_fd, 1))
		log_error("metrics: wake the server thread: %s", strerror(errno));
	pthread_join(s->thread, NULL);
	close(s->listen_fd);
	close(s->wake_fd);
	free(s->snap);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
