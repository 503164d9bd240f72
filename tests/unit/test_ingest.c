/* test_ingest.c - unit test of profiler/ingest.c and profiler/backoff.c.
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
 *  - backoff: deterministic per seed, within base * 2^n and the cap.
 */
#include "backoff.h"
#include "check.h"
#include "ingest.h"
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

/* Make the server answer the next count requests with status. */
static void server_fail(const struct server *srv, int status, int count)
{
	char url[128];
	CURL *c = curl_easy_init();
	long code = 0;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/-/fail?status=%d&count=%d",
		 srv->port, status, count);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
	curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	CHECK(code == 200, "control request: %ld", code);
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

/* The stored upload number seq: its JSON (and its pprof in *pprof). */
static char *stored(const struct server *srv, int seq, char **pprof, size_t *pprof_len)
{
	char path[160];
	size_t len;

	snprintf(path, sizeof(path), "%s/%06d.pprof", srv->store, seq);
	*pprof = slurp(path, pprof_len);
	snprintf(path, sizeof(path), "%s/%06d.json", srv->store, seq);
	return slurp(path, &len);
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
	struct pprof_builder_opts o = { .sz = sizeof(o), .period_ns = 10101010,
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
	    pprof_builder_encode_gz(b, &out, len, NULL))
		out = NULL;
	pprof_builder_free(b);
	return out;
}

static bool has(const char *json, const char *needle)
{
	return json && strstr(json, needle);
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
	struct ingest_opts o = { .basic_user = "user", .tenant_id = "team-a" };
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
	struct ingest_opts o = { 0 };
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
	struct ingest_opts o = { .url = "http://127.0.0.1:1" };
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

	/* options */
	static const struct ingest_opts bad_opts[] = {
		{ .url = "ftp://h" },
		{ .url = "http://h/?q=1" },
		{ .url = "http://h", .basic_user = "u" },
		{ .url = "http://h", .basic_user = "u", .basic_password_env = "HOME",
		  .basic_password_file = "/etc/hostname" },
		{ .url = "http://h", .basic_password_env = "HOME" },
		{ .url = "http://h", .basic_user = "u:v", .basic_password_env = "HOME" },
		{ .url = "http://h", .basic_user = "u", .basic_password_env = "HOME",
		  .bearer_token_file = "/etc/hostname" },
		{ .url = "http://h", .tenant_id = "a b" },
		{ .url = "http://h", .basic_user = "u",
		  .basic_password_env = "TEST_INGEST_UNSET_VARIABLE" },
	};
	for (size_t i = 0; i < sizeof(bad_opts) / sizeof(bad_opts[0]); i++)
		CHECK(ingest_client_new(&bad_opts[i], &c) == -EINVAL && !c,
		      "bad options %zu accepted", i);
	o.bearer_token_file = "/nonexistent/token";
	CHECK(ingest_client_new(&o, &c) == -ENOENT, "missing token file");
}

static void test_tls(int64_t now)
{
	struct ingest_meta m = { .service = "svc", .from = now - 10, .until = now };
	char cmd[512], cert[96], key[96], url[96];
	struct ingest_opts o = { 0 };
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
	curl_global_cleanup();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", work);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", work);
	return check_summary();
}
