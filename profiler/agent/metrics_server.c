/* metrics_server.c - see metrics_server.h.
 *
 * The published text is a refcounted snapshot: publish installs a new one
 * and drops its reference to the old; a scrape holds a reference while it
 * sends, so the old text lives until that send ends and the thread never
 * allocates or copies. Refcounts change only under the mutex.
 *
 * Each connection is a slot of a fixed table: reading the request (into
 * its own REQUEST_MAX buffer, parsed again after every recv until the
 * parser has a whole header block or finds it wrong), then sending the
 * status line and headers (formatted into the slot) and the body (a
 * constant string or the snapshot), as far as the socket takes each time
 * poll() says it is writable, then closed. Deadlines from the accept:
 * REQUEST_TIMEOUT_MS for the whole request, CONNECTION_TIMEOUT_MS for
 * everything; the poll timeout is the nearest one, so an idle client costs
 * nothing but its slot. metrics_server_stop wakes the poll through the
 * eventfd and never waits for a client. A request body, if any, is not
 * read.
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
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#define REQUEST_MAX 8192
#define REQUEST_TIMEOUT_MS 2000    /* a scraper sends its request at once */
#define CONNECTION_TIMEOUT_MS 5000 /* a 1 MB text leaves in milliseconds */
/* Connections waiting to be accepted: a burst of them is taken (or
 * refused) in one round instead of overflowing a short queue. */
#define LISTEN_BACKLOG 128
#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define TEXT_TYPE "text/plain; charset=utf-8"

struct snapshot {
	unsigned int refs; /* under metrics_server.lock */
	size_t len;
	char text[];
};

/* One connection; the thread's. */
struct conn {
	int fd;                         /* -1: a free slot */
	bool replying;                  /* the request is done with */
	bool timed_out;                 /* counted already */
	int64_t request_end_ms, end_ms; /* deadlines, monotonic */
	size_t req_len;
	char req[REQUEST_MAX];
	char head[256];                 /* status line and headers */
	const char *body;
	size_t head_len, body_len, sent; /* sent: of head, then body */
	struct snapshot *snap;          /* a reference while body is its text */
};

struct metrics_server {
	int listen_fd, wake_fd, port;
	pthread_t thread;
	pthread_mutex_t lock;
	struct snapshot *snap; /* NULL before the first publish; under lock */
	_Atomic uint64_t accepted, refused, timed_out, open;
	/* the thread's: */
	int64_t accept_paused_until; /* 0, or when out of fds: retry then */
	bool warned_cap;             /* the first refusal is logged */
	struct conn conns[METRICS_SERVER_MAX_CONNECTIONS];
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

static void close_conn(struct metrics_server *s, struct conn *c)
{
	close(c->fd);
	c->fd = -1;
	snapshot_put(s, c->snap);
	c->snap = NULL;
	atomic_fetch_sub(&s->open, 1);
}

/* Sends what the socket takes now; closes the connection once all is sent
 * or the client is gone. */
static void flush(struct metrics_server *s, struct conn *c)
{
	while (c->sent < c->head_len + c->body_len) {
		struct iovec iov[2];
		struct msghdr msg = { .msg_iov = iov };
		ssize_t n;

		/* head and body in one call: one segment, not two with a
		 * delayed ACK between */
		if (c->sent < c->head_len) {
			iov[msg.msg_iovlen++] = (struct iovec){ c->head + c->sent,
								c->head_len - c->sent };
			iov[msg.msg_iovlen++] = (struct iovec){ (char *)c->body, c->body_len };
		} else {
			iov[msg.msg_iovlen++] = (struct iovec){
				(char *)c->body + (c->sent - c->head_len),
				c->body_len - (c->sent - c->head_len) };
		}
		n = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return; /* poll() says when it takes more */
		if (n < 0) {
			if (errno != EPIPE && errno != ECONNRESET)
				log_debug("metrics: send to a client: %s", strerror(errno));
			break;
		}
		c->sent += (size_t)n;
	}
	close_conn(s, c);
}

/* headers: "" or more header lines, each ending with CRLF. snap: the
 * snapshot body points into, whose reference the connection takes over. */
static void reply(struct metrics_server *s, struct conn *c, const char *status,
		  const char *headers, const char *type, const char *body, size_t len,
		  bool head, struct snapshot *snap)
{
	int n = snprintf(c->head, sizeof(c->head),
			 "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
			 "Connection: close\r\n\r\n",
			 status, type, len, headers);

	c->replying = true;
	c->head_len = (size_t)n < sizeof(c->head) ? (size_t)n : sizeof(c->head) - 1;
	c->body = body;
	c->body_len = head ? 0 : len;
	c->sent = 0;
	c->snap = snap;
	flush(s, c);
}

static void reply_text(struct metrics_server *s, struct conn *c, const char *status,
		       const char *headers, const char *body, bool head)
{
	reply(s, c, status, headers, TEXT_TYPE, body, strlen(body), head, NULL);
}

static void answer(struct metrics_server *s, struct conn *c, const struct http_request *req)
{
	bool head = !strcmp(req->method, "HEAD");
	bool metrics = !strcmp(req->path, "/metrics");
	struct snapshot *snap;

	if (!metrics && strcmp(req->path, "/"))
		return reply_text(s, c, "404 Not Found", "",
				  "not found: the metrics are at /metrics\n", head);
	if (!head && strcmp(req->method, "GET"))
		return reply_text(s, c, "405 Method Not Allowed", "Allow: GET, HEAD\r\n",
				  "method not allowed: use GET or HEAD\n", false);
	if (!metrics)
		return reply_text(s, c, "200 OK", "",
				  "bpfprof agent: Prometheus metrics are at /metrics\n", head);

	pthread_mutex_lock(&s->lock);
	snap = s->snap;
	if (snap)
		snap->refs++;
	pthread_mutex_unlock(&s->lock);
	if (!snap)
		return reply_text(s, c, "503 Service Unavailable", "",
				  "no metrics yet: the agent is starting\n", head);
	reply(s, c, "200 OK", "", METRICS_TYPE, snap->text, snap->len, head, snap);
}

/* Reads what has come and answers once the request is whole or wrong. */
static void on_readable(struct metrics_server *s, struct conn *c)
{
	struct http_request req;
	ssize_t n = recv(c->fd, c->req + c->req_len, sizeof(c->req) - c->req_len, 0);
	int err;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) { /* the client closed first, or reset */
		close_conn(s, c);
		return;
	}
	c->req_len += (size_t)n;
	err = http_parse_request(c->req, c->req_len, &req);
	if (!err)
		answer(s, c, &req);
	else if (err == -EINVAL)
		reply_text(s, c, "400 Bad Request", "", "malformed request\n", false);
	else if (c->req_len == sizeof(c->req))
		reply_text(s, c, "431 Request Header Fields Too Large", "",
			   "request header block over 8 KiB\n", false);
}

/* Applies c's deadlines at now; the time of its next one, or 0 once it is
 * closed. */
static int64_t expire(struct metrics_server *s, struct conn *c, int64_t now)
{
	if (now >= c->end_ms) {
		if (!c->timed_out)
			atomic_fetch_add(&s->timed_out, 1);
		close_conn(s, c);
		return 0;
	}
	if (!c->replying && now >= c->request_end_ms) {
		c->timed_out = true;
		atomic_fetch_add(&s->timed_out, 1);
		reply_text(s, c, "408 Request Timeout", "", "no complete request within 2 s\n",
			   false);
		if (c->fd < 0)
			return 0;
	}
	return c->replying ? c->end_ms : c->request_end_ms;
}

/* Takes every pending connection: into a free slot, or closed at once when
 * there is none. */
static void accept_all(struct metrics_server *s, int64_t now)
{
	for (;;) {
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c = NULL;

		if (fd < 0) {
			/* out of fds or memory: stop accepting for a second,
			 * or the listening socket stays readable and the loop
			 * spins */
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				log_warn("metrics: accept: %s; retrying in 1 s", strerror(errno));
				s->accept_paused_until = now + 1000;
			}
			return; /* EAGAIN, ECONNABORTED, network errors */
		}
		for (size_t i = 0; i < METRICS_SERVER_MAX_CONNECTIONS && !c; i++)
			if (s->conns[i].fd < 0)
				c = &s->conns[i];
		if (!c) {
			close(fd);
			atomic_fetch_add(&s->refused, 1);
			if (!s->warned_cap)
				log_warn("metrics: %d connections open: closing new ones until some end (counted in bpfprof_metrics_connections_refused_total)",
					 METRICS_SERVER_MAX_CONNECTIONS);
			s->warned_cap = true;
			continue;
		}
		*c = (struct conn){
			.fd = fd,
			.request_end_ms = now + REQUEST_TIMEOUT_MS,
			.end_ms = now + CONNECTION_TIMEOUT_MS,
		};
		atomic_fetch_add(&s->accepted, 1);
		atomic_fetch_add(&s->open, 1);
	}
}

static void *run(void *arg)
{
	struct metrics_server *s = arg;
	struct pollfd pfd[2 + METRICS_SERVER_MAX_CONNECTIONS];
	struct conn *polled[METRICS_SERVER_MAX_CONNECTIONS];

	for (;;) {
		int64_t now = monotonic_ms(), next = s->accept_paused_until;
		nfds_t n = 2, npolled = 0;
		int timeout;

		if (next && next <= now)
			next = s->accept_paused_until = 0;
		pfd[0] = (struct pollfd){ .fd = next ? -1 : s->listen_fd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = s->wake_fd, .events = POLLIN };
		for (size_t i = 0; i < METRICS_SERVER_MAX_CONNECTIONS; i++) {
			struct conn *c = &s->conns[i];
			int64_t at = c->fd >= 0 ? expire(s, c, now) : 0;

			if (!at)
				continue;
			next = next && next < at ? next : at;
			polled[npolled++] = c;
			pfd[n++] = (struct pollfd){ .fd = c->fd,
						    .events = c->replying ? POLLOUT : POLLIN };
		}
		timeout = next ? (int)(next > now ? next - now : 0) : -1;
		if (poll(pfd, n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			log_error("metrics: poll: %s; no longer serving", strerror(errno));
			break;
		}
		if (pfd[1].revents)
			break;
		for (nfds_t i = 0; i < npolled; i++) {
			if (!pfd[2 + i].revents)
				continue;
			if (polled[i]->replying)
				flush(s, polled[i]);
			else
				on_readable(s, polled[i]);
		}
		if (pfd[0].revents)
			accept_all(s, monotonic_ms());
	}
	for (size_t i = 0; i < METRICS_SERVER_MAX_CONNECTIONS; i++)
		if (s->conns[i].fd >= 0)
			close_conn(s, &s->conns[i]);
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
	for (size_t i = 0; i < METRICS_SERVER_MAX_CONNECTIONS; i++)
		s->conns[i].fd = -1;
	s->listen_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	what = "socket";
	if (s->listen_fd < 0)
		goto sys_fail;
	what = "set SO_REUSEADDR on";
	if (setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		goto sys_fail;
	/* exactly where the operator said: [::] is not IPv4 too */
	what = "set IPV6_V6ONLY on";
	if (ss.ss_family == AF_INET6 &&
	    setsockopt(s->listen_fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)))
		goto sys_fail;
	what = "bind";
	if (bind(s->listen_fd, (struct sockaddr *)&ss, len))
		goto sys_fail;
	what = "listen on";
	if (listen(s->listen_fd, LISTEN_BACKLOG))
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

void metrics_server_get_stats(struct metrics_server *s, struct metrics_server_stats *out)
{
	out->accepted = atomic_load(&s->accepted);
	out->refused = atomic_load(&s->refused);
	out->timed_out = atomic_load(&s->timed_out);
	out->open = atomic_load(&s->open);
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
