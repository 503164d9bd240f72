/* ingest.c - see ingest.h.
 *
 * One curl easy handle per client, configured once (auth, TLS, timeouts,
 * headers) and reused, so consecutive uploads share a keep-alive connection.
 * Per upload only the URL and the body change. The server's answer goes
 * through ingest_reply.h as it arrives: libcurl's header and write
 * callbacks feed it and stop the transfer when it says the answer is too
 * big; it then classifies the outcome.
 *
 * libcurl prints nothing of its own (the log is bpfprof's, log.h): not
 * verbose (CURLOPT_VERBOSE is off by default and never set), its progress
 * meter replaced by our transfer callback, the body and headers handed to
 * our callbacks rather than stdout, and its errors written into errbuf
 * (CURLOPT_ERRORBUFFER) for the line the caller logs.
 */
#include "ingest.h"

#include "clock.h"
#include "ingest_reply.h"
#include "log.h"
#include "opts.h"
#include "read_file.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SECRET_MAX 4096

struct ingest_client {
	CURL *curl;
	struct curl_slist *headers;
	char *url; /* <base>/ingest */
	char *password, *token;
	char errbuf[CURL_ERROR_SIZE];
	struct ingest_reply reply;
	_Atomic int64_t abort_at_ms; /* 0: never */
};

/* ---- name rules ---- */

static bool service_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-' ||
	       c == '/';
}

static bool key_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.';
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF. */
static bool valid_utf8(const unsigned char *s)
{
	while (*s) {
		unsigned char c = *s;
		unsigned int n, cp;

		if (c < 0x80) {
			s++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return false;
		for (unsigned int i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i] & 0x3f);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		s += n + 1;
	}
	return true;
}

static int check_label(const struct ingest_meta *m, size_t i, char *err,
		       size_t err_len)
{
	const char *k = m->labels[i].key, *v = m->labels[i].value;
	size_t vlen;

	if (!k || !*k || !v || !*v) {
		snprintf(err, err_len, "label %zu: empty key or value", i + 1);
		return -EINVAL;
	}
	if (strlen(k) > INGEST_MAX_NAME_LEN || strlen(v) > INGEST_MAX_VALUE_LEN) {
		snprintf(err, err_len, "label %s: longer than %d (key) or %d (value) bytes",
			 k, INGEST_MAX_NAME_LEN, INGEST_MAX_VALUE_LEN);
		return -EINVAL;
	}
	for (const char *p = k; *p; p++) {
		if (!key_char((unsigned char)*p)) {
			snprintf(err, err_len,
				 "label key %s: character '%c' is not allowed (only A-Z a-z 0-9 _ .)",
				 k, *p);
			return -EINVAL;
		}
	}
	if (!strncmp(k, "__", 2) || !strcmp(k, "service_name")) {
		snprintf(err, err_len,
			 "label key %s is reserved (Pyroscope drops __* keys; the service is the name)",
			 k);
		return -EINVAL;
	}
	for (size_t j = 0; j < i; j++) {
		if (!strcmp(m->labels[j].key, k)) {
			snprintf(err, err_len, "label key %s given twice", k);
			return -EINVAL;
		}
	}
	if (!valid_utf8((const unsigned char *)v)) {
		snprintf(err, err_len, "label %s: value is not valid UTF-8", k);
		return -EINVAL;
	}
	vlen = strlen(v);
	if (v[0] == ' ' || v[0] == '\t' || v[vlen - 1] == ' ' || v[vlen - 1] == '\t') {
		snprintf(err, err_len,
			 "label %s=%s: leading or trailing blanks (Pyroscope trims them)", k, v);
		return -EINVAL;
	}
	for (const char *p = v; *p; p++) {
		if (*p == ',' || *p == '}' || (unsigned char)*p < 0x20 || *p == 0x7f) {
			snprintf(err, err_len,
				 "label %s: the value may not contain ',', '}' or control characters (Pyroscope's name syntax cannot escape them)",
				 k);
			return -EINVAL;
		}
	}
	return 0;
}

int ingest_check_meta(const struct ingest_meta *m, char *err, size_t err_len)
{
	const char *s = m->service;
	int ret;

	if (!s || !*s) {
		snprintf(err, err_len, "the service name is empty");
		return -EINVAL;
	}
	if (strlen(s) > INGEST_MAX_VALUE_LEN) {
		snprintf(err, err_len, "the service name is longer than %d bytes",
			 INGEST_MAX_VALUE_LEN);
		return -EINVAL;
	}
	for (const char *p = s; *p; p++) {
		if (!service_char((unsigned char)*p)) {
			snprintf(err, err_len,
				 "service name %s: character '%c' is not allowed (only A-Z a-z 0-9 _ . - /)",
				 s, *p);
			return -EINVAL;
		}
	}
	if (m->nlabels > INGEST_MAX_LABELS) {
		snprintf(err, err_len, "%zu labels, Pyroscope allows %d here",
			 m->nlabels, INGEST_MAX_LABELS);
		return -EINVAL;
	}
	for (size_t i = 0; i < m->nlabels; i++) {
		ret = check_label(m, i, err, err_len);
		if (ret)
			return ret;
	}
	if (m->from < 1000000000 || m->until < m->from || m->until >= 10000000000) {
		snprintf(err, err_len, "from %lld / until %lld are not Unix seconds with from <= until",
			 (long long)m->from, (long long)m->until);
		return -EINVAL;
	}
	return 0;
}

bool ingest_outside_window(int64_t time_s, int64_t now_s)
{
	return time_s <= now_s - INGEST_WINDOW_PAST_S ||
	       time_s >= now_s + INGEST_WINDOW_FUTURE_S;
}

/* ---- client setup ---- */

/* Reads a password or token: the file's content minus trailing CR/LF. */
static int read_secret(const char *path, const char *what, char **out)
{
	char *buf;
	size_t n;
	int ret = sym_read_file_at(AT_FDCWD, path, SECRET_MAX, &buf, &n);

	if (ret == -EFBIG)
		log_error("%s: %s is larger than %d bytes", what, path, SECRET_MAX);
	else if (ret == -EINVAL)
		log_error("%s: %s is not a regular file", what, path);
	else if (ret)
		log_error("%s: read %s: %s", what, path, strerror(-ret));
	if (ret)
		return ret == -EFBIG ? -EINVAL : ret;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	*out = strdup(buf);
	explicit_bzero(buf, n);
	free(buf);
	return *out ? 0 : -ENOMEM;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* dskit's tenant ids: 1-150 of A-Z a-z 0-9 ! - _ . * ' ( ), not "." or "..". */
static bool valid_tenant(const char *t)
{
	size_t len = strlen(t);

	if (!len || len > 150 || !strcmp(t, ".") || !strcmp(t, ".."))
		return false;
	for (; *t; t++)
		if (!key_char((unsigned char)*t) && !strchr("!-*'()", *t))
			return false;
	return true;
}

bool ingest_redact_url(const char *url, char *buf, size_t size)
{
	const char *scheme = strstr(url, "://");
	const char *authority = scheme ? scheme + 3 : url;
	const char *at = strrchr(authority, '@');

	if (!at) {
		snprintf(buf, size, "%s", url);
		return false;
	}
	snprintf(buf, size, "%.*s***%s", (int)(authority - url), url, at);
	return true;
}

static int build_url(const char *base, char **out)
{
	size_t len = strlen(base);
	char shown[512];

	ingest_redact_url(base, shown, sizeof(shown));
	if (strncasecmp(base, "http://", 7) && strncasecmp(base, "https://", 8)) {
		log_error("pyroscope url %s: only http:// and https:// are supported", shown);
		return -EINVAL;
	}
	if (strpbrk(base, "?# \t\r\n")) {
		log_error("pyroscope url %s: give the server's base URL, without query, fragment or blanks",
			  shown);
		return -EINVAL;
	}
	while (len && base[len - 1] == '/')
		len--;
	if (len >= 7 && !strncmp(base + len - 7, "/ingest", 7))
		len -= 7;
	if (asprintf(out, "%.*s/ingest", (int)len, base) < 0)
		return -ENOMEM;
	return 0;
}

static int check_auth_opts(const struct ingest_opts *o)
{
	if (o->basic_user && !!o->basic_password_file == !!o->basic_password_env) {
		log_error("basic auth user %s: give the password in exactly one of a file or an environment variable",
			  o->basic_user);
		return -EINVAL;
	}
	if (!o->basic_user && (o->basic_password_file || o->basic_password_env)) {
		log_error("a basic auth password was given without a user");
		return -EINVAL;
	}
	if (o->basic_user && (strchr(o->basic_user, ':') || !printable(o->basic_user))) {
		log_error("basic auth user %s: ':' and control characters are not allowed",
			  o->basic_user);
		return -EINVAL;
	}
	if (o->basic_user && o->bearer_token_file) {
		log_error("basic auth and a bearer token both set the Authorization header: choose one");
		return -EINVAL;
	}
	if (o->tenant_id && !valid_tenant(o->tenant_id)) {
		log_error("tenant id %s: 1-150 characters of A-Z a-z 0-9 ! - _ . * ' ( )",
			  o->tenant_id);
		return -EINVAL;
	}
	return 0;
}

static int load_secrets(struct ingest_client *c, const struct ingest_opts *o)
{
	const char *env;
	int ret;

	if (o->basic_password_env) {
		env = getenv(o->basic_password_env);
		if (!env || !*env) {
			log_error("basic auth password: environment variable %s is unset or empty",
				  o->basic_password_env);
			return -EINVAL;
		}
		c->password = strdup(env);
		if (!c->password)
			return -ENOMEM;
	} else if (o->basic_password_file) {
		ret = read_secret(o->basic_password_file, "basic auth password", &c->password);
		if (ret)
			return ret;
	}
	if (o->bearer_token_file) {
		ret = read_secret(o->bearer_token_file, "bearer token", &c->token);
		if (ret)
			return ret;
	}
	if ((c->password && !*c->password) ||
	    (c->token && (!*c->token || !printable(c->token)))) {
		log_error("%s: empty, or a token with control characters",
			  c->token ? o->bearer_token_file : o->basic_password_file);
		return -EINVAL;
	}
	return 0;
}

/* libcurl's write and header callbacks: a return other than the length
 * given stops the transfer (CURLE_WRITE_ERROR). */
static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct ingest_client *c = arg;

	return ingest_reply_body(&c->reply, data, size * n) ? 0 : size * n;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct ingest_client *c = arg;

	return ingest_reply_header(&c->reply, data, size * n) ? 0 : size * n;
}

/* libcurl's progress callback, called about once a second even while
 * nothing moves: nonzero aborts the transfer. */
static int past_abort_deadline(void *ctx, curl_off_t dltotal, curl_off_t dlnow,
			       curl_off_t ultotal, curl_off_t ulnow)
{
	struct ingest_client *c = ctx;
	int64_t at = atomic_load(&c->abort_at_ms);

	return at && monotonic_ms() >= at;
}

void ingest_client_abort_at(struct ingest_client *c, int64_t deadline_ms)
{
	atomic_store(&c->abort_at_ms, deadline_ms > 0 ? deadline_ms : 1);
}

static int setup_curl(struct ingest_client *c, const struct ingest_opts *o)
{
	char *tenant = NULL;
	CURLcode rc = CURLE_OK;
	struct curl_slist *h;

	c->headers = curl_slist_append(NULL, "Content-Type: application/octet-stream");
	h = c->headers ? curl_slist_append(c->headers, "Expect:") : NULL;
	if (h && o->tenant_id) {
		if (asprintf(&tenant, "X-Scope-OrgID: %s", o->tenant_id) < 0)
			return -ENOMEM;
		h = curl_slist_append(h, tenant);
		free(tenant);
	}
	c->curl = curl_easy_init();
	if (!h || !c->curl)
		return -ENOMEM;
#define SET(opt, val)                                          \
	do {                                                   \
		if (rc == CURLE_OK)                            \
			rc = curl_easy_setopt(c->curl, opt, val); \
	} while (0)
	SET(CURLOPT_HTTPHEADER, c->headers);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms ? o->connect_timeout_ms : 10000L);
	SET(CURLOPT_TIMEOUT_MS, o->timeout_ms ? o->timeout_ms : 60000L);
	SET(CURLOPT_USERAGENT, "bpfprof");
	SET(CURLOPT_ERRORBUFFER, c->errbuf);
	SET(CURLOPT_NOPROGRESS, 0L);
	SET(CURLOPT_XFERINFOFUNCTION, past_abort_deadline);
	SET(CURLOPT_XFERINFODATA, c);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, c);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, c);
	SET(CURLOPT_POST, 1L);
	if (o->ca_file)
		SET(CURLOPT_CAINFO, o->ca_file);
	if (c->password) {
		SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		SET(CURLOPT_USERNAME, o->basic_user);
		SET(CURLOPT_PASSWORD, c->password);
	}
	if (c->token) {
		SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
		SET(CURLOPT_XOAUTH2_BEARER, c->token);
	}
#undef SET
	if (rc != CURLE_OK) {
		log_error("libcurl setup: %s", curl_easy_strerror(rc));
		return -EINVAL;
	}
	return 0;
}

int ingest_client_new(const struct ingest_opts *user_opts, struct ingest_client **out)
{
	/* the caller's options, each field through OPT() (opts.h) */
	const struct ingest_opts opts = {
		.sz = sizeof(opts),
		.url = OPT(user_opts, url, NULL),
		.basic_user = OPT(user_opts, basic_user, NULL),
		.basic_password_file = OPT(user_opts, basic_password_file, NULL),
		.basic_password_env = OPT(user_opts, basic_password_env, NULL),
		.bearer_token_file = OPT(user_opts, bearer_token_file, NULL),
		.tenant_id = OPT(user_opts, tenant_id, NULL),
		.ca_file = OPT(user_opts, ca_file, NULL),
		.connect_timeout_ms = OPT(user_opts, connect_timeout_ms, 0),
		.timeout_ms = OPT(user_opts, timeout_ms, 0),
	}, *o = &opts;
	struct ingest_client *c;
	int ret;

	*out = NULL;
	if (!user_opts || !OPTS_VALID(user_opts)) {
		log_error("pyroscope client: options of an unknown size");
		return -EINVAL;
	}
	ret = check_auth_opts(o);
	if (ret)
		return ret;
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		log_error("libcurl: global initialization failed");
		return -ENOMEM;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		curl_global_cleanup();
		return -ENOMEM;
	}
	ret = build_url(o->url, &c->url);
	if (!ret)
		ret = load_secrets(c, o);
	if (!ret)
		ret = setup_curl(c, o);
	if (ret) {
		if (ret == -ENOMEM)
			log_error("pyroscope client: %s", strerror(ENOMEM));
		ingest_client_free(c);
		return ret;
	}
	*out = c;
	return 0;
}

static void free_secret(char *s)
{
	if (s)
		explicit_bzero(s, strlen(s));
	free(s);
}

void ingest_client_free(struct ingest_client *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->curl);
	curl_slist_free_all(c->headers);
	free_secret(c->password);
	free_secret(c->token);
	free(c->url);
	free(c);
	curl_global_cleanup();
}

/* ---- one upload ---- */

/* name=<service>{k=v,...}, each piece percent-encoded, then the rest. */
static char *build_request_url(struct ingest_client *c, const struct ingest_meta *m)
{
	char *name = NULL, *esc = NULL, *url = NULL;
	size_t len;
	FILE *f = open_memstream(&name, &len);

	if (!f)
		return NULL;
	fprintf(f, "%s{", m->service);
	for (size_t i = 0; i < m->nlabels; i++)
		fprintf(f, "%s%s=%s", i ? "," : "", m->labels[i].key, m->labels[i].value);
	fputc('}', f);
	if (fclose(f))
		return NULL;
	esc = curl_easy_escape(c->curl, name, (int)len);
	if (esc && asprintf(&url, "%s?name=%s&from=%lld&until=%lld&format=pprof&spyName=bpfprof",
			    c->url, esc, (long long)m->from, (long long)m->until) < 0)
		url = NULL;
	if (url && m->sample_rate) {
		char *with_rate = NULL;

		if (asprintf(&with_rate, "%s&sampleRate=%u", url, m->sample_rate) < 0)
			with_rate = NULL;
		free(url);
		url = with_rate;
	}
	curl_free(esc);
	free(name);
	return url;
}

int ingest_upload(struct ingest_client *c, const struct ingest_meta *m,
		  const void *body, size_t len, struct ingest_result *res)
{
	char err[512], *url;
	long http_status = 0;
	CURLcode rc;

	memset(res, 0, sizeof(*res));
	if (ingest_check_meta(m, err, sizeof(err))) {
		log_error("pyroscope upload: %s", err);
		return -EINVAL;
	}
	url = build_request_url(c, m);
	if (!url) {
		log_error("pyroscope upload: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	ingest_reply_reset(&c->reply);
	c->errbuf[0] = '\0';
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	rc = curl_easy_perform(c->curl);
	free(url);
	/* a body cut short by its cap still came with its status */
	if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && c->reply.body_cut))
		curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &http_status);
	ingest_reply_result(&c->reply, http_status,
			    c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc), (int64_t)time(NULL),
			    res);
	if (res->status == INGEST_OK)
		return 0;
	if (res->http_status)
		snprintf(err, sizeof(err), "HTTP %ld", res->http_status);
	else
		snprintf(err, sizeof(err), "no answer");
	log_warn("pyroscope upload of %s from %lld: %s (%s): %s", m->service,
		 (long long)m->from, err,
		 res->status == INGEST_RETRY ? "will retry" : "rejected", res->message);
	return 0;
}
