/* test_ingest.c - unit test of profiler/upload/ingest.c and profiler/upload/backoff.c.
 *
 * The uploads go to tests/ingest_server/pyroscope_ingest.py, a strict fake
 * of Pyroscope's POST /ingest started on 127.0.0.1 (python3 from PATH) for
 * each case, which stores what it accepts. Checked:
 *  - a real gzipped pprof (proto/ builder) with Basic auth (password from a
 *    file, then from the environment) and a tenant: stored byte for byte,
 *    with name/labels (escaping of + & % # = / and blanks), from/until in
 *    seconds, format, spyName, sampleRate, headers; a /pyroscope prefix;
 *  - Bearer auth from a token file; wrong credentials, a missing tenant, a
 *    non-pprof body and a profile outside the ingestion window: REJECTED;
 *  - 503, 429, 408, 500 (injected) and a stopped server: RETRY; 400/413:
 *    REJECTED;
 *  - names and options that are refused before anything is sent;
 *  - HTTPS: a self-signed certificate is refused unless its CA is given
 *    (when openssl is found);
 *  - the fake server's own multipart rules (filename required,
 *    prev_profile, no format=pprof with multipart);
 *  - backoff: deterministic per seed, within base * 2^n and the cap; a
 *    server's longer wait honoured up to the cap;
 *  - Retry-After (ingest_reply.h): seconds, saturated however many digits;
 *    the three HTTP-date forms, past and future, checked against gmtime;
 *    signs, fractions, impossible dates and trailing bytes refused;
 *  - the answer: only the final response's Retry-After, caps on an endless
 *    header block and body, the message flattened to one line, every
 *    status from 100 to 599 classified;
 *  - URLs with credentials redacted for the logs;
 *  - server faults through the client (the fake's fault modes): a 429 with
 *    Retry-After 99999999999 (capped), a date, a past date, -1; not HTTP, a
 *    malformed status line, an endless header, no answer: RETRY without
 *    waiting for the request timeout; an endless body after a 200: OK.
 */
#include "backoff.h"
#include "check.h"
#include "ingest.h"
#include "ingest_reply.h"
#include "pprof.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct server {
	pid_t pid;
	int port;
	char store[96];
};

static char work[64]; /* scratch directory of this run */

/* Start the fake server with extra arguments (NULL-terminated); 0 or -1. */
static int server_start(struct server *srv, const char *store, ...)
{
	const char *argv[24] = { "python3", INGEST_SERVER, "--quiet", "--store" };
	int argc = 4, pipefd[2];
	char line[32] = { 0 };
	struct pollfd pfd;
	va_list ap;
	ssize_t n;

	snprintf(srv->store, sizeof(srv->store), "%s/%s", work, store);
	argv[argc++] = srv->store;
	va_start(ap, store);
	while (argc < 23 && (argv[argc] = va_arg(ap, const char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	if (pipe(pipefd))
		return -1;
	srv->pid = fork();
	if (srv->pid == 0) {
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		close(pipefd[1]);
		execvp("python3", (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	/* the first line on its stdout is the port */
	pfd = (struct pollfd){ .fd = pipefd[0], .events = POLLIN };
	for (size_t got = 0; got < sizeof(line) - 1 && !strchr(line, '\n'); got += (size_t)n) {
		n = poll(&pfd, 1, 20000) == 1 ? read(pipefd[0], line + got, sizeof(line) - 1 - got) : -1;
		if (n <= 0)
			break;
	}
	close(pipefd[0]);
	srv->port = strchr(line, '\n') ? atoi(line) : 0;
	CHECK(srv->port > 0, "the fake server did not start (%s)", line);
	return srv->port > 0 ? 0 : -1;
}

static void server_stop(struct server *srv)
{
	if (srv->pid > 0) {
		kill(srv->pid, SIGTERM);
		waitpid(srv->pid, NULL, 0);
	}
	srv->pid = 0;
}

/* Make the server answer the next requests as query says (/-/fail's
 * count, mode, status, retry_after). */
static void server_inject(const struct server *srv, const char *query)
{
	char url[256];
	CURL *c = curl_easy_init();
	long code = 0;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/-/fail?%s", srv->port, query);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
	curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	CHECK(code == 200, "control request %s: %ld", query, code);
}

/* Make the server answer the next count requests with status. */
static void server_fail(const struct server *srv, int status, int count)
{
	char query[64];

	snprintf(query, sizeof(query), "status=%d&count=%d", status, count);
	server_inject(srv, query);
}

static int stored_count(const struct server *srv)
{
	DIR *d = opendir(srv->store);
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)))
		n += strstr(de->d_name, ".json") != NULL;
	if (d)
		closedir(d);
	return n;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0;

	*len = 0;
	if (!f)
		return NULL;
	while (!feof(f)) {
		char *n = realloc(buf, cap + 65536 + 1);

		if (!n)
			break;
		buf = n;
		*len += fread(buf + *len, 1, 65536, f);
		cap += 65536;
		buf[*len] = '\0';
	}
	fclose(f);
	return buf;
}

/* The stored upload number seq: its JSON, "" when there is none (the
 * checks print it), and its pprof in *pprof. */
static char *stored(const struct server *srv, int seq, char **pprof, size_t *pprof_len)
{
	char path[160], *json;
	size_t len;

	snprintf(path, sizeof(path), "%s/%06d.pprof", srv->store, seq);
	*pprof = slurp(path, pprof_len);
	snprintf(path, sizeof(path), "%s/%06d.json", srv->store, seq);
	json = slurp(path, &len);
	return json ? json : strdup("");
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK(f && fputs(text, f) >= 0, "write %s", path);
	if (f)
		fclose(f);
}

/* A small CPU profile starting at time_s, gzipped. */
static uint8_t *make_profile(int64_t time_s, size_t *len)
{
	struct pprof_profile_info o = { .period_ns = 10101010,
					.time_nanos = time_s * 1000000000,
					.duration_nanos = 10000000000 };
	struct pprof_mapping_info m = { .start = 0x400000, .limit = 0x500000,
					.filename = "/usr/bin/app",
					.has_functions = true };
	struct pprof_line main_l = { .function = "main", .filename = "app.c", .line = 10 };
	struct pprof_line work_l = { .function = "work", .filename = "app.c", .line = 20 };
	struct pprof_label lb = { .key = "thread_name", .str = "worker" };
	struct pprof_builder *b;
	uint64_t locs[2];
	uint8_t *out = NULL;
	int64_t map;

	if (pprof_builder_new(&o, &b))
		return NULL;
	map = pprof_add_mapping(b, &m);
	locs[0] = (uint64_t)pprof_add_location(b, (uint64_t)map, 0x401010, &work_l, 1);
	locs[1] = (uint64_t)pprof_add_location(b, (uint64_t)map, 0x400823, &main_l, 1);
	if (pprof_add_sample(b, locs, 2, 3, &lb, 1) ||
	    pprof_builder_encode_gz(b, NULL, &out, len, NULL))
		out = NULL;
	pprof_builder_free(b);
	return out;
}

static bool has(const char *json, const char *needle)
{
	return strstr(json, needle) != NULL;
}

/* ---- cases ---- */

static const struct ingest_label labels[] = {
	{ "host", "web-1" },
	{ "env", "a+b&c%d#e=f/g h" },
};

static void test_basic_auth_and_tenant(int64_t now)
{
	struct ingest_meta m = { .service = "ns/bpfprof_test.x-y", .labels = labels,
				 .nlabels = 2, .from = now - 10, .until = now,
				 .sample_rate = 99 };
	struct ingest_opts o = { .sz = sizeof(o), .basic_user = "user", .tenant_id = "team-a" };
	char url[96], pwfile[96], needle[128], *json, *pprof;
	struct ingest_client *c;
	struct ingest_result res;
	struct server srv;
	size_t len, plen;
	uint8_t *body = make_profile(now - 10, &len);

	if (!body || server_start(&srv, "basic", "--basic-auth", "user:s3cret:x",
				  "--require-tenant", NULL)) {
		CHECK(0, "setup");
		return;
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", srv.port);
	snprintf(pwfile, sizeof(pwfile), "%s/password", work);
	write_text(pwfile, "s3cret:x\n");
	o.url = url;
	o.basic_password_file = pwfile;
	CHECK(ingest_client_new(&o, &c) == 0, "client with a password file");
	CHECK(ingest_upload(c, &m, body, len, &res) == 0 && res.status == INGEST_OK &&
		      res.http_status == 200,
	      "upload: status %d http %ld: %s", res.status, res.http_status, res.message);
	/* keep-alive connection reused for a second one */
	CHECK(ingest_upload(c, &m, body, len, &res) == 0 && res.status == INGEST_OK,
	      "second upload: %s", res.message);
	ingest_client_free(c);

	json = stored(&srv, 1, &pprof, &plen);
	CHECK(pprof && plen == len && !memcmp(pprof, body, len), "body stored as sent");
	CHECK(has(json, "\"service_name\": \"ns/bpfprof_test.x-y\"") &&
		      has(json, "\"host\": \"web-1\"") &&
		      has(json, "\"env\": \"a+b&c%d#e=f/g h\"") &&
		      has(json, "\"name\": \"ns/bpfprof_test.x-y{host=web-1,env=a+b&c%d#e=f/g h}\""),
	      "name and labels: %s", json);
	snprintf(needle, sizeof(needle), "\"from\": \"%lld\"", (long long)now - 10);
	CHECK(has(json, needle) && has(json, "\"from_unit\": \"seconds\"") &&
		      has(json, "\"until_unit\": \"seconds\""),
	      "from in seconds: %s", json);
	snprintf(needle, sizeof(needle), "\"until\": \"%lld\"", (long long)now);
	CHECK(has(json, needle), "until");
	CHECK(has(json, "\"format\": \"pprof\"") && has(json, "\"spyName\": \"bpfprof\"") &&
		      has(json, "\"sampleRate\": \"99\"") && has(json, "\"form\": \"raw\"") &&
		      has(json, "\"__name__\": \"process_cpu\"") &&
		      has(json, "\"warnings\": []") && has(json, "\"path\": \"/ingest\""),
	      "query and profile: %s", json);
	CHECK(has(json, "\"Authorization\": \"Basic dXNlcjpzM2NyZXQ6eA==\"") &&
		      has(json, "\"X-Scope-OrgID\": \"team-a\"") &&
		      has(json, "\"Content-Type\": \"application/octet-stream\""),
	      "headers: %s", json);
	free(json);
	free(pprof);

	/* password from the environment; a /pyroscope path prefix */
	setenv("TEST_INGEST_PASSWORD", "s3cret:x", 1);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/pyroscope/", srv.port);
	o.basic_password_file = NULL;
	o.basic_password_env = "TEST_INGEST_PASSWORD";
	CHECK(ingest_client_new(&o, &c) == 0, "client with a password variable");
	CHECK(ingest_upload(c, &m, body, len, &res) == 0 && res.status == INGEST_OK,
	      "upload with the env password: %s", res.message);
	ingest_client_free(c);
	json = stored(&srv, 3, &pprof, &plen);
	CHECK(has(json, "\"path\": \"/pyroscope/ingest\""), "prefix: %s", json);
	free(json);
	free(pprof);

	/* wrong password, then no tenant: 401, rejected */
	setenv("TEST_INGEST_PASSWORD", "wrong", 1);
	CHECK(ingest_client_new(&o, &c) == 0, "client");
	CHECK(ingest_upload(c, &m, body, len, &res) == 0 &&
		      res.status == INGEST_REJECTED && res.http_status == 401,
	      "wrong password: %d %ld", res.status, res.http_status);
	ingest_client_free(c);
	setenv("TEST_INGEST_PASSWORD", "s3cret:x", 1);
	o.tenant_id = NULL;
	CHECK(ingest_client_new(&o, &c) == 0, "client");
	CHECK(ingest_upload(c, &m, body, len, &res) == 0 &&
		      res.status == INGEST_REJECTED && res.http_status == 401,
	      "no tenant: %d %ld", res.status, res.http_status);
	ingest_client_free(c);
	CHECK(stored_count(&srv) == 3, "stored %d", stored_count(&srv));
	server_stop(&srv);
	free(body);
}

static void test_bearer_and_bad_bodies(int64_t now)
{
	struct ingest_meta m = { .service = "svc", .from = now - 10, .until = now };
	struct ingest_opts o = { .sz = sizeof(o) };
	char url[96], tokfile[96], *json, *pprof;
	struct ingest_client *c;
	struct ingest_result res;
	struct server srv;
	size_t len, plen, old_len;
	uint8_t *body = make_profile(now - 10, &len);
	uint8_t *old = make_profile(now - 2 * 3600, &old_len);

	if (!body || !old || server_start(&srv, "bearer", "--bearer", "tok123", NULL)) {
		CHECK(0, "setup");
		return;
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", srv.port);
	snprintf(tokfile, sizeof(tokfile), "%s/token", work);
	write_text(tokfile, "tok123\r\n");
	o.url = url;
	o.bearer_token_file = tokfile;
	CHECK(ingest_client_new(&o, &c) == 0, "client with a token file");
	CHECK(ingest_upload(c, &m, body, len, &res) == 0 && res.status == INGEST_OK,
	      "bearer upload: %s", res.message);
	json = stored(&srv, 1, &pprof, &plen);
	CHECK(has(json, "\"Authorization\": \"Bearer tok123\"") &&
		      has(json, "\"name\": \"svc{}\""),
	      "bearer header: %s", json);
	free(json);
	free(pprof);

	CHECK(ingest_upload(c, &m, "not a pprof at all", 18, &res) == 0 &&
		      res.status == INGEST_REJECTED && res.http_status == 422 &&
		      res.message[0],
	      "garbage body: %d %ld %s", res.status, res.http_status, res.message);
	CHECK(ingest_upload(c, &m, "\x1f\x8b\x08\x00garbage", 11, &res) == 0 &&
		      res.status == INGEST_REJECTED && res.http_status == 422,
	      "bad gzip: %ld %s", res.http_status, res.message);
	CHECK(ingest_outside_window(now - 2 * 3600, now) &&
		      !ingest_outside_window(now - 10, now) &&
		      ingest_outside_window(now + 3600, now),
	      "ingest_outside_window");
	m.from = now - 2 * 3600;
	m.until = m.from + 10;
	CHECK(ingest_upload(c, &m, old, old_len, &res) == 0 &&
		      res.status == INGEST_REJECTED && res.http_status == 422 &&
		      strstr(res.message, "ingestion window"),
	      "expired profile: %ld %s", res.http_status, res.message);
	m.from = now - 10;
	m.until = now;

	/* injected failures: retried or not */
	static const struct {
		int status;
		enum ingest_status want;
	} codes[] = {
		{ 503, INGEST_RETRY }, { 429, INGEST_RETRY }, { 408, INGEST_RETRY },
		{ 500, INGEST_RETRY }, { 400, INGEST_REJECTED }, { 413, INGEST_REJECTED },
	};
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		server_fail(&srv, codes[i].status, 1);
		CHECK(ingest_upload(c, &m, body, len, &res) == 0 &&
			      res.status == codes[i].want && res.http_status == codes[i].status,
		      "injected %d: status %d", codes[i].status, res.status);
		if (codes[i].status == 503)
			CHECK(res.retry_after_s == 1, "Retry-After %ld", res.retry_after_s);
	}
	CHECK(ingest_upload(c, &m, body, len, &res) == 0 && res.status == INGEST_OK,
	      "after the failures: %s", res.message);
	CHECK(stored_count(&srv) == 2, "stored %d", stored_count(&srv));

	/* the server goes away */
	server_stop(&srv);
	CHECK(ingest_upload(c, &m, body, len, &res) == 0 && res.status == INGEST_RETRY &&
		      res.http_status == 0 && res.message[0],
	      "stopped server: %d %ld", res.status, res.http_status);
	ingest_client_free(c);

	write_text(tokfile, "bad\ttoken\n");
	CHECK(ingest_client_new(&o, &c) == -EINVAL, "token with a tab");
	free(body);
	free(old);
}

static void test_refused(int64_t now)
{
	static const struct ingest_label bad_labels[][2] = {
		{ { "a-b", "v" } },     { { "", "v" } },        { { "k", "" } },
		{ { "__name__", "x" } }, { { "service_name", "x" } },
		{ { "k", "a,b" } },     { { "k", "a}" } },      { { "k", " v" } },
		{ { "k", "\xff" } },    { { "k", "a\nb" } },
		{ { "k", "1" }, { "k", "2" } },
	};
	static const char *const bad_services[] = { "", "my app", "svc{x=1}", "sv\xc3\xa9" };
	struct ingest_label many[INGEST_MAX_LABELS + 1];
	struct ingest_meta m = { .service = "svc", .from = now - 10, .until = now };
	struct ingest_opts o = { .sz = sizeof(o), .url = "http://127.0.0.1:1" };
	struct ingest_client *c;
	struct ingest_result res;
	char err[256], keys[INGEST_MAX_LABELS + 1][8];

	CHECK(ingest_check_meta(&m, err, sizeof(err)) == 0, "plain name: %s", err);
	for (size_t i = 0; i < sizeof(bad_services) / sizeof(bad_services[0]); i++) {
		m.service = bad_services[i];
		CHECK(ingest_check_meta(&m, err, sizeof(err)) == -EINVAL,
		      "service %s accepted", bad_services[i]);
	}
	m.service = "svc";
	for (size_t i = 0; i < sizeof(bad_labels) / sizeof(bad_labels[0]); i++) {
		m.labels = bad_labels[i];
		m.nlabels = bad_labels[i][1].key ? 2 : 1;
		CHECK(ingest_check_meta(&m, err, sizeof(err)) == -EINVAL,
		      "label %s=%s accepted", bad_labels[i][0].key, bad_labels[i][0].value);
	}
	for (int i = 0; i <= INGEST_MAX_LABELS; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
		many[i] = (struct ingest_label){ keys[i], "v" };
	}
	m.labels = many;
	m.nlabels = INGEST_MAX_LABELS;
	CHECK(ingest_check_meta(&m, err, sizeof(err)) == 0, "max labels: %s", err);
	m.nlabels++;
	CHECK(ingest_check_meta(&m, err, sizeof(err)) == -EINVAL, "too many labels");
	m.nlabels = 0;
	m.from = (now - 10) * 1000; /* milliseconds would be misread */
	CHECK(ingest_check_meta(&m, err, sizeof(err)) == -EINVAL, "from in ms");
	m.from = now;
	m.until = now - 1;
	CHECK(ingest_check_meta(&m, err, sizeof(err)) == -EINVAL, "until < from");

	/* refused names are never sent (port 1 would give RETRY) */
	m.service = "my app";
	m.until = now;
	CHECK(ingest_client_new(&o, &c) == 0, "client");
	CHECK(ingest_upload(c, &m, "x", 1, &res) == -EINVAL, "upload with a bad name");
	ingest_client_free(c);

	/* options, each a struct of this version's size */
#define BAD(...) { .sz = sizeof(struct ingest_opts), __VA_ARGS__ }
	static const struct ingest_opts bad_opts[] = {
		BAD(.url = "ftp://h"),
		BAD(.url = "http://h/?q=1"),
		BAD(.url = "http://h", .basic_user = "u"),
		BAD(.url = "http://h", .basic_user = "u", .basic_password_env = "HOME",
		    .basic_password_file = "/etc/hostname"),
		BAD(.url = "http://h", .basic_password_env = "HOME"),
		BAD(.url = "http://h", .basic_user = "u:v", .basic_password_env = "HOME"),
		BAD(.url = "http://h", .basic_user = "u", .basic_password_env = "HOME",
		    .bearer_token_file = "/etc/hostname"),
		BAD(.url = "http://h", .tenant_id = "a b"),
		BAD(.url = "http://h", .basic_user = "u",
		    .basic_password_env = "TEST_INGEST_UNSET_VARIABLE"),
	};
#undef BAD
	for (size_t i = 0; i < sizeof(bad_opts) / sizeof(bad_opts[0]); i++)
		CHECK(ingest_client_new(&bad_opts[i], &c) == -EINVAL && !c,
		      "bad options %zu accepted", i);
	{
		struct ingest_opts no_size = { .url = "http://h" };

		CHECK(ingest_client_new(&no_size, &c) == -EINVAL && !c, "options without sz accepted");
	}
	o.bearer_token_file = "/nonexistent/token";
	CHECK(ingest_client_new(&o, &c) == -ENOENT, "missing token file");
}

static void test_tls(int64_t now)
{
	struct ingest_meta m = { .service = "svc", .from = now - 10, .until = now };
	char cmd[512], cert[96], key[96], url[96];
	struct ingest_opts o = { .sz = sizeof(o) };
	struct ingest_client *c;
	struct ingest_result res;
	struct server srv;
	size_t len;
	uint8_t *body;

	if (!*OPENSSL) {
		printf("SKIP tls: openssl not found at configure time\n");
		return;
	}
	snprintf(cert, sizeof(cert), "%s/cert.pem", work);
	snprintf(key, sizeof(key), "%s/key.pem", work);
	snprintf(cmd, sizeof(cmd),
		 "'%s' req -x509 -newkey rsa:2048 -nodes -keyout %s -out %s -days 2 "
		 "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null",
		 OPENSSL, key, cert);
	body = make_profile(now - 10, &len);
	if (system(cmd) || !body ||
	    server_start(&srv, "tls", "--tls-cert", cert, "--tls-key", key, NULL)) {
		CHECK(0, "tls setup");
		free(body);
		return;
	}
	snprintf(url, sizeof(url), "https://127.0.0.1:%d", srv.port);
	o.url = url;
	CHECK(ingest_client_new(&o, &c) == 0, "https client");
	CHECK(ingest_upload(c, &m, body, len, &res) == 0 && res.status == INGEST_RETRY &&
		      res.http_status == 0,
	      "self-signed certificate accepted: %s", res.message);
	ingest_client_free(c);
	o.ca_file = cert;
	CHECK(ingest_client_new(&o, &c) == 0, "https client with its CA");
	CHECK(ingest_upload(c, &m, body, len, &res) == 0 && res.status == INGEST_OK,
	      "https with the CA: %s", res.message);
	ingest_client_free(c);
	CHECK(stored_count(&srv) == 1, "stored over https");
	server_stop(&srv);
	free(body);
}

static size_t discard(char *data, size_t size, size_t n, void *arg)
{
	return size * n;
}

/* POST a multipart form; returns the HTTP status. */
static long post_form(const struct server *srv, const char *query, const uint8_t *body,
		      size_t len, const char *part, const char *filename)
{
	char url[256];
	CURL *c = curl_easy_init();
	curl_mime *mime = curl_mime_init(c);
	curl_mimepart *p = curl_mime_addpart(mime);
	long code = 0;

	curl_mime_name(p, part);
	curl_mime_data(p, (const char *)body, len);
	if (filename)
		curl_mime_filename(p, filename);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/ingest?%s", srv->port, query);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_mime_free(mime);
	curl_easy_cleanup(c);
	return code;
}

static void test_fake_server_multipart(int64_t now)
{
	struct server srv;
	size_t len, plen;
	uint8_t *body = make_profile(now - 10, &len);
	char *json, *pprof;
	long code;

	if (!body || server_start(&srv, "multipart", NULL)) {
		CHECK(0, "setup");
		free(body);
		return;
	}
	code = post_form(&srv, "name=svc&spyName=bpfprof", body, len, "profile", "p.pprof");
	json = stored(&srv, 1, &pprof, &plen);
	CHECK(code == 200 && has(json, "\"form\": \"multipart\"") && plen == len,
	      "multipart with a filename: %ld", code);
	free(json);
	free(pprof);
	code = post_form(&srv, "name=svc", body, len, "profile", NULL);
	CHECK(code == 200 && stored_count(&srv) == 1,
	      "multipart without a filename: %ld, must store nothing", code);
	code = post_form(&srv, "name=svc", body, len, "prev_profile", "p.pprof");
	CHECK(code == 422, "prev_profile: %ld", code);
	code = post_form(&srv, "name=svc&format=pprof", body, len, "profile", "p.pprof");
	CHECK(code == 422, "format=pprof with multipart: %ld", code);
	code = post_form(&srv, "name=sv%20c", body, len, "profile", "p.pprof");
	CHECK(code == 400, "bad service name: %ld", code);
	server_stop(&srv);
	free(body);
}

/* ---- the answer: Retry-After, caps, faults ---- */

/* ingest_parse_retry_after on a private copy of exactly the bytes, so a
 * read past the end is caught by ASan. */
static int retry_after(const char *text, int64_t now, long *delay)
{
	size_t len = strlen(text);
	char *copy = malloc(len ? len : 1);
	int err;

	memcpy(copy, text, len);
	*delay = -1;
	err = ingest_parse_retry_after(copy, len, now, delay);
	free(copy);
	return err;
}

static void expect_delay(const char *text, int64_t now, long want)
{
	long got;
	int err = retry_after(text, now, &got);

	CHECK(!err && got == want, "Retry-After '%s': %d, %ld s, want %ld", text, err, got, want);
}

static void test_retry_after(void)
{
	static const char *const bad[] = {
		"", " ", "-5", "+5", "1.5", "5s", "5 6", "0x10", "soon", "\xff",
		"Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 29 Feb 1900 08:49:37 GMT",
		"Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:60:00 GMT",
		"Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Nov 1994 08:49:37",
		"Sun, 6 Nov 1994 08:49:37 GMT", "sun, 06 Nov 1994 08:49:37 GMT",
		"Sun, 06 nov 1994 08:49:37 GMT", "Sun, 06 Nov 94 08:49:37 GMT",
		"Sun, 06 Nov 1994 08:49:37 GMT x", "Sun,06 Nov 1994 08:49:37 GMT",
		"Sun, 00 Nov 1994 08:49:37 GMT", "Fun, 06 Nov 1994 08:49:37 GMT",
		"Sunday, 06-Nov-1994 08:49:37 GMT", "Sunday 06-Nov-94 08:49:37 GMT",
		"Sun Nov 6 08:49:37 1994", "Sun Nov  6 08:49:37 94", "Sun Nov 06 08:49:37 1994 GMT",
		"Sun Nov  6 8:49:37 1994",
	};
	const int64_t at = 784111777; /* Sun, 06 Nov 1994 08:49:37 GMT */
	long d;

	expect_delay("0", 0, 0);
	expect_delay("120", 0, 120);
	expect_delay(" \t120\t ", 0, 120);
	expect_delay("000000000000000000000000000000000000000042", 0, 42);
	expect_delay("3600", 0, INGEST_RETRY_AFTER_MAX_S);
	expect_delay("3601", 0, INGEST_RETRY_AFTER_MAX_S);
	/* huge: saturated, never overflowing (the old * 1000 did) */
	expect_delay("99999999999", 0, INGEST_RETRY_AFTER_MAX_S);
	expect_delay("9223372036854775807", 0, INGEST_RETRY_AFTER_MAX_S);
	expect_delay("18446744073709551617000000000000000000000000000000000000", 0,
		     INGEST_RETRY_AFTER_MAX_S);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(retry_after(bad[i], at, &d) == -EINVAL && d == -1,
		      "Retry-After '%s' accepted: %ld", bad[i], d);

	/* the three date forms: in the future, the past, too far */
	for (int form = 0; form < 3; form++) {
		static const char *const forms[] = { "Sun, 06 Nov 1994 08:49:37 GMT",
						     "Sunday, 06-Nov-94 08:49:37 GMT",
						     "Sun Nov  6 08:49:37 1994" };

		expect_delay(forms[form], at - 90, 90);
		expect_delay(forms[form], at, 0);
		expect_delay(forms[form], at + 86400, 0);
		expect_delay(forms[form], at - 100000, INGEST_RETRY_AFTER_MAX_S);
	}
	expect_delay("Tue, 29 Feb 2000 00:00:00 GMT", 951782400 - 5, 5);
	expect_delay("Fri, 31 Dec 9999 23:59:60 GMT", at, INGEST_RETRY_AFTER_MAX_S);
	expect_delay("Sat, 01 Jan 0000 00:00:00 GMT", at, 0);
	expect_delay("Thursday, 01-Jan-70 00:00:10 GMT", 0, 10);
	expect_delay("Mon, 01 Jan 2069 00:00:00 GMT", 3124224000 - 7, 7);
	expect_delay("Tuesday, 01-Jan-69 00:00:00 GMT", 3124224000 - 7, 7); /* 2069 */

	/* against gmtime for random times: every form, every month */
	srand(7);
	for (int i = 0; i < 3000; i++) {
		time_t t = (time_t)(((uint64_t)rand() << 16 ^ (uint64_t)rand()) % 253402300800ull);
		static const char *const fmt[] = { "%a, %d %b %Y %H:%M:%S GMT",
						   "%A, %d-%b-%y %H:%M:%S GMT",
						   "%a %b %e %H:%M:%S %Y" };
		char text[64];
		struct tm tm;
		int form = i % 3;

		gmtime_r(&t, &tm);
		if (form == 1 && (tm.tm_year < 70 || tm.tm_year >= 170))
			form = 0; /* two digits stand for 1970-2069 only */
		strftime(text, sizeof(text), fmt[form], &tm);
		CHECK(!retry_after(text, (int64_t)t - 77, &d) && d == 77, "'%s' (%lld): %ld",
		      text, (long long)t, d);
	}
}

/* Feeds a whole answer: header lines (each with its CRLF) until the empty
 * one, then the body; the result with status. */
static void feed(const char *answer, long status, struct ingest_result *res)
{
	struct ingest_reply r;
	const char *p = answer, *nl;

	ingest_reply_reset(&r);
	while ((nl = strchr(p, '\n'))) {
		bool empty = nl == p || (nl == p + 1 && *p == '\r');

		ingest_reply_header(&r, p, (size_t)(nl + 1 - p));
		p = nl + 1;
		if (empty)
			break;
	}
	ingest_reply_body(&r, p, strlen(p));
	ingest_reply_result(&r, status, NULL, 1000000000, res);
}

static void test_reply(void)
{
	struct ingest_result res;
	struct ingest_reply r;
	char line[128], *big;
	int err = 0, lines = 0;

	feed("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 120\r\n\r\nbusy\n", 503, &res);
	CHECK(res.status == INGEST_RETRY && res.http_status == 503 && res.retry_after_s == 120 &&
	      !strcmp(res.message, "busy"), "503: %d %ld %ld '%s'", res.status, res.http_status,
	      res.retry_after_s, res.message);
	feed("HTTP/1.1 429 Too Many\r\nretry-after:7\r\nRetry-After: 99\r\n\r\n", 429, &res);
	CHECK(res.status == INGEST_RETRY && res.retry_after_s == 7 &&
	      !strcmp(res.message, "(no message)"), "429: first, any case: %ld '%s'",
	      res.retry_after_s, res.message);
	/* libcurl hands over a 1xx's header block too, then the final one's */
	ingest_reply_reset(&r);
	for (size_t i = 0; i < 5; i++) {
		static const char *const block[] = { "HTTP/1.1 100 Continue\r\n",
						     "Retry-After: 5\r\n", "\r\n",
						     "HTTP/1.1 500 Oops\r\n", "\r\n" };

		ingest_reply_header(&r, block[i], strlen(block[i]));
	}
	ingest_reply_result(&r, 500, NULL, 0, &res);
	CHECK(res.retry_after_s == 0, "a 1xx's Retry-After: %ld", res.retry_after_s);
	feed("HTTP/1.1 429 X\r\nRetry-After: soon\r\n\r\n", 429, &res);
	CHECK(res.status == INGEST_RETRY && res.retry_after_s == 0, "garbage Retry-After: %ld",
	      res.retry_after_s);
	memset(line, ' ', sizeof(line));
	memcpy(line, "HTTP/1.1 429 X\r\nRetry-After:", 28);
	strcpy(line + sizeof(line) - 8, "5\r\n\r\n");
	feed(line, 429, &res);
	CHECK(res.retry_after_s == 0, "Retry-After longer than kept: %ld", res.retry_after_s);
	feed("HTTP/1.1 200 OK\r\nRetry-After: 50\r\n\r\n", 200, &res);
	CHECK(res.status == INGEST_OK && res.retry_after_s == 0 && !res.message[0],
	      "200: %d %ld '%s'", res.status, res.retry_after_s, res.message);
	feed("HTTP/1.1 413 Too Large\r\n\r\nline one\r\n\tline\x7f two\x01\n", 413, &res);
	CHECK(res.status == INGEST_REJECTED && !strcmp(res.message, "line one   line  two"),
	      "413: one printable line: '%s'", res.message);
	for (long st = 100; st < 600; st++) {
		feed("", st, &res);
		CHECK(res.status == (st >= 200 && st < 300 ? INGEST_OK
				     : st >= 400 && st < 500 && st != 408 && st != 429
					     ? INGEST_REJECTED : INGEST_RETRY),
		      "status %ld: %d", st, res.status);
	}
	ingest_reply_reset(&r);
	ingest_reply_result(&r, 0, "Connection refused", 0, &res);
	CHECK(res.status == INGEST_RETRY && !res.http_status &&
	      !strcmp(res.message, "Connection refused"), "no answer: '%s'", res.message);
	ingest_reply_result(&r, 0, NULL, 0, &res);
	CHECK(!strcmp(res.message, "no answer"), "no answer, no text: '%s'", res.message);

	/* an endless header block stops at the cap, whatever the status */
	ingest_reply_reset(&r);
	ingest_reply_header(&r, "HTTP/1.1 200 OK\r\n", 17);
	memset(line, 'a', sizeof(line));
	memcpy(line, "X-Pad: ", 7);
	memcpy(line + sizeof(line) - 2, "\r\n", 2);
	while (!err && lines < 10000) {
		err = ingest_reply_header(&r, line, sizeof(line));
		lines++;
	}
	ingest_reply_result(&r, 200, NULL, 0, &res);
	CHECK(err == -E2BIG && lines * sizeof(line) <= INGEST_REPLY_HEADER_MAX + sizeof(line) &&
	      res.status == INGEST_RETRY && !res.http_status,
	      "endless header: %d after %d lines, status %d", err, lines, res.status);

	/* a huge body stops at the cap; its status counts */
	big = malloc(1 << 20);
	memset(big, 'x', 1 << 20);
	ingest_reply_reset(&r);
	err = ingest_reply_body(&r, "accepted ", 9);
	CHECK(!err && !ingest_reply_body(&r, big, INGEST_REPLY_BODY_MAX - 9) &&
	      ingest_reply_body(&r, big, 1) == -E2BIG &&
	      ingest_reply_body(&r, big, 1 << 20) == -E2BIG, "body cap");
	ingest_reply_result(&r, 200, NULL, 0, &res);
	CHECK(res.status == INGEST_OK && !strncmp(res.message, "accepted xxx", 12) &&
	      strlen(res.message) == sizeof(res.message) - 1, "huge body: %d '%.20s'",
	      res.status, res.message);
	free(big);
}

static void test_redact(void)
{
	static const struct {
		const char *url, *shown;
		bool had;
	} cases[] = {
		{ "http://user:s3cr3t@host:4040/x", "http://***@host:4040/x", true },
		{ "https://tok@host", "https://***@host", true },
		{ "http://a:b@c@host/", "http://***@host/", true },
		{ "http://host:4040/pyroscope", "http://host:4040/pyroscope", false },
		{ "user:pw@host", "***@host", true },
	};
	char buf[64], small[12];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(ingest_redact_url(cases[i].url, buf, sizeof(buf)) == cases[i].had &&
		      !strcmp(buf, cases[i].shown), "%s shown as %s", cases[i].url, buf);
	CHECK(ingest_redact_url("http://user:s3cr3t@host", small, sizeof(small)) &&
	      !strstr(small, "s3") && !strcmp(small, "http://***@"), "cut to fit: %s", small);
}

/* Faults of the server, through the real client: what a 429 with an absurd
 * Retry-After, a date, or garbage on the socket gives. */
static void test_faults(int64_t now)
{
	struct ingest_meta m = { .service = "svc", .from = now - 10, .until = now };
	struct ingest_opts o = { .sz = sizeof(o), .timeout_ms = 1500 };
	static const char *const garbage[] = { "not_http", "bad_status", "endless_header",
					       "hang" };
	char url[96], query[160], date[64];
	struct ingest_client *c;
	struct ingest_result res;
	struct backoff b;
	struct server srv;
	time_t later;
	struct tm tm;
	size_t len;
	int64_t t0;
	uint8_t *body = make_profile(now - 10, &len);

	if (!body || server_start(&srv, "faults", NULL)) {
		CHECK(0, "setup");
		free(body);
		return;
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", srv.port);
	o.url = url;
	CHECK(ingest_client_new(&o, &c) == 0, "client");

	/* Retry-After: 99999999999 is capped, and the wait at the backoff's cap */
	server_inject(&srv, "mode=status&status=429&retry_after=99999999999");
	CHECK(ingest_upload(c, &m, body, len, &res) == 0 && res.status == INGEST_RETRY &&
	      res.http_status == 429 && res.retry_after_s == INGEST_RETRY_AFTER_MAX_S,
	      "429 with a huge Retry-After: %d %ld %ld", res.status, res.http_status,
	      res.retry_after_s);
	backoff_init(&b, 1000, 60000, 1);
	CHECK(backoff_next_after(&b, (uint64_t)res.retry_after_s * 1000) == 60000,
	      "the wait is the backoff's cap");
	later = time(NULL) + 30;
	gmtime_r(&later, &tm);
	strftime(date, sizeof(date), "%a,%%20%d%%20%b%%20%Y%%20%H:%M:%S%%20GMT", &tm);
	snprintf(query, sizeof(query), "mode=status&status=503&retry_after=%s", date);
	server_inject(&srv, query);
	CHECK(ingest_upload(c, &m, body, len, &res) == 0 && res.http_status == 503 &&
	      res.retry_after_s >= 28 && res.retry_after_s <= 30, "503 with a date: %ld",
	      res.retry_after_s);
	server_inject(&srv, "mode=status&status=503&retry_after=Thu,%2001%20Jan%201970%2000:00:00%20GMT");
	CHECK(ingest_upload(c, &m, body, len, &res) == 0 && res.retry_after_s == 0,
	      "503 with a past date: %ld", res.retry_after_s);
	server_inject(&srv, "mode=status&status=503&retry_after=-1");
	CHECK(ingest_upload(c, &m, body, len, &res) == 0 && res.retry_after_s == 0,
	      "503 with a negative Retry-After: %ld", res.retry_after_s);

	/* not HTTP, a bad status line, headers without end, no answer: retry */
	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		snprintf(query, sizeof(query), "mode=%s", garbage[i]);
		server_inject(&srv, query);
		t0 = (int64_t)time(NULL);
		CHECK(ingest_upload(c, &m, body, len, &res) == 0 && res.status == INGEST_RETRY &&
		      res.http_status == 0 && res.message[0] && (int64_t)time(NULL) - t0 <= 3,
		      "%s: %d %ld '%s'", garbage[i], res.status, res.http_status, res.message);
	}
	/* a body without end: stored, answered 200, not read to its end */
	server_inject(&srv, "mode=huge_body");
	t0 = (int64_t)time(NULL);
	CHECK(ingest_upload(c, &m, body, len, &res) == 0 && res.status == INGEST_OK &&
	      res.http_status == 200 && (int64_t)time(NULL) - t0 <= 1,
	      "huge body: %d %ld '%s'", res.status, res.http_status, res.message);
	CHECK(stored_count(&srv) == 1, "stored %d", stored_count(&srv));
	CHECK(ingest_upload(c, &m, body, len, &res) == 0 && res.status == INGEST_OK,
	      "then a plain upload: %s", res.message);
	ingest_client_free(c);
	server_stop(&srv);
	free(body);
}

static void test_backoff(void)
{
	struct backoff a, b;
	uint64_t d, max_seen = 0;
	bool same = true;

	backoff_init(&a, 100, 5000, 42);
	backoff_init(&b, 100, 5000, 42);
	for (unsigned n = 0; n < 20; n++) {
		uint64_t ceiling = 100ull << (n < 10 ? n : 10);

		d = backoff_next(&a);
		same &= d == backoff_next(&b);
		CHECK(d <= (ceiling < 5000 ? ceiling : 5000), "delay %u: %llu", n,
		      (unsigned long long)d);
	}
	CHECK(same, "same seed, same delays");
	for (int i = 0; i < 1000; i++) {
		d = backoff_next(&a);
		max_seen = d > max_seen ? d : max_seen;
		CHECK(d <= 5000, "capped: %llu", (unsigned long long)d);
	}
	CHECK(max_seen > 4000, "full jitter reaches near the cap: %llu",
	      (unsigned long long)max_seen);
	backoff_reset(&a);
	CHECK(backoff_next(&a) <= 100, "reset starts at the base");
	backoff_init(&b, 100, 5000, 43);
	backoff_init(&a, 100, 5000, 42);
	same = true;
	for (int i = 0; i < 8; i++)
		same &= backoff_next(&a) == backoff_next(&b);
	CHECK(!same, "another seed, other delays");

	/* a server's wait: longer than the backoff, never past its cap */
	backoff_init(&a, 100, 5000, 42);
	CHECK(backoff_next_after(&a, 3000) == 3000, "the server's longer wait");
	CHECK(backoff_next_after(&a, 0) <= 200, "no server wait: the backoff");
	CHECK(backoff_next_after(&a, UINT64_MAX) == 5000, "capped");
}

int main(void)
{
	int64_t now = (int64_t)time(NULL);
	char cmd[96];

	strcpy(work, "/tmp/test_ingest.XXXXXX");
	if (!mkdtemp(work)) {
		perror("mkdtemp");
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	test_basic_auth_and_tenant(now);
	test_bearer_and_bad_bodies(now);
	test_refused(now);
	test_tls(now);
	test_fake_server_multipart(now);
	test_backoff();
	test_retry_after();
	test_reply();
	test_redact();
	test_faults(now);
	curl_global_cleanup();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", work);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", work);
	return check_summary();
}
