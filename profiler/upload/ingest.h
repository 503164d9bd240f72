/* ingest.h - upload one gzipped pprof to Grafana Pyroscope's POST /ingest.
 *
 * The request (shared/reference/pyroscope.md §2, pprof-pyroscope-detail.md
 * §2.2-2.7):
 *   POST <url>/ingest?name=<service>{k=v,...}&from=<s>&until=<s>
 *        &format=pprof&spyName=bpfprof[&sampleRate=<hz>]
 *   Content-Type: application/octet-stream, body = the gzipped pprof as is
 * name is percent-encoded as a whole; from/until are Unix seconds (10
 * digits: Pyroscope reads 13/16/19 digits as ms/us/ns). Pyroscope ignores
 * sampleRate for pprof (the profile's own period counts); it is sent only as
 * a hint for humans reading logs. The app name becomes `service_name`
 * verbatim, so no ".cpu" suffix is added.
 *
 * Names are REFUSED, not sanitized: ingest_check_meta() and ingest_upload()
 * return -EINVAL with a message naming the offending character. The service
 * name and labels come from the user's flags; silently rewriting them would
 * store the data under a name nobody searches for, and Pyroscope has no
 * escaping, so a value with ',' or '}' cannot be sent faithfully. The rules
 * (labelset.Parse / ValidateServiceName / ValidateLabelName and the
 * distributor's limits):
 *   - service: non-empty, [A-Za-z0-9_.\-/]
 *   - label key: non-empty, [A-Za-z0-9_.], not starting with "__" (the server
 *     drops those), not "service_name" (use the service), no duplicates,
 *     at most INGEST_MAX_NAME_LEN bytes
 *   - label value: non-empty, valid UTF-8, no ',' '}' or control characters,
 *     no leading/trailing blanks (the server trims them), at most
 *     INGEST_MAX_VALUE_LEN bytes
 *   - at most INGEST_MAX_LABELS labels (the server's 30 per series minus
 *     __name__, __delta__, pyroscope_spy and service_name).
 *
 * Authentication: HTTP Basic (user + password read from a file or from an
 * environment variable, never from argv), Bearer (token read from a file),
 * and the tenant header X-Scope-OrgID. Secrets are read once, by
 * ingest_client_new. TLS peer and host verification is always on; ca_file
 * adds a CA bundle. Redirects are not followed (the Authorization header
 * would leak), only http:// and https:// URLs are accepted. Credentials in
 * the URL itself (http://user:password@host) work - libcurl sends them as
 * Basic auth - but are never logged: ingest_redact_url() is what every log
 * line shows instead.
 *
 * ingest_upload() classifies the outcome for the retry loop:
 *   INGEST_OK        2xx
 *   INGEST_RETRY     no HTTP answer (connect, TLS, timeout, reset), 1xx/3xx,
 *                    408, 429 and 5xx - try again later with backoff
 *   INGEST_REJECTED  any other 4xx (400 bad name, 401/403 auth, 413 too big,
 *                    422 bad pprof / outside the ingestion window / limits):
 *                    sending the same bytes again cannot succeed.
 * An answer that is not HTTP, or whose header block is endless, is a RETRY
 * with no status; a body is read up to a cap and the rest ignored
 * (ingest_reply.h, which also parses Retry-After).
 * A client is not thread-safe (one curl handle, reused for keep-alive).
 */
#ifndef BPFPROF_INGEST_H
#define BPFPROF_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Pyroscope's default per-tenant limits (pprof-pyroscope-detail.md §2.8):
 * whoever builds the profile keeps under them. A profile above the 2 MiB
 * ingestion burst is answered 429 forever, so split before that. */
#define INGEST_BURST_BYTES (2u << 20)       /* uncompressed + label bytes */
#define INGEST_MAX_SAMPLES 16000            /* Sample messages per profile */
#define INGEST_MAX_LABELS 26
#define INGEST_MAX_NAME_LEN 1024
#define INGEST_MAX_VALUE_LEN 2048
/* The ingestion window around the server's clock (reject-older-than /
 * reject-newer-than): a profile outside it gets a 422. */
#define INGEST_WINDOW_PAST_S 3600
#define INGEST_WINDOW_FUTURE_S 600

struct ingest_label {
	const char *key, *value;
};

/* What one upload says about its profile. */
struct ingest_meta {
	const char *service;
	const struct ingest_label *labels;
	size_t nlabels;
	int64_t from, until;  /* Unix seconds */
	uint32_t sample_rate; /* Hz; 0: not sent */
};

struct ingest_opts {
	size_t sz;                       /* sizeof(struct ingest_opts) */
	const char *url;                 /* base, e.g. https://host:4040 */
	const char *basic_user;          /* NULL: no Basic auth */
	const char *basic_password_file; /* exactly one of these two */
	const char *basic_password_env;  /* when basic_user is set */
	const char *bearer_token_file;   /* NULL: none; not with basic_user */
	const char *tenant_id;           /* NULL: no X-Scope-OrgID */
	const char *ca_file;             /* NULL: the system's CAs */
	long connect_timeout_ms;         /* 0: 10 s */
	long timeout_ms;                 /* whole request; 0: 60 s */
};

enum ingest_status { INGEST_OK, INGEST_RETRY, INGEST_REJECTED };

struct ingest_result {
	enum ingest_status status;
	long http_status;     /* 0 when no HTTP answer came */
	long retry_after_s;   /* the server's Retry-After, as seconds from now,
			       * at most INGEST_RETRY_AFTER_MAX_S; 0 if none,
			       * invalid or not a RETRY */
	char message[256];    /* one line: the server's text or curl's error */
};

struct ingest_client;

/* Checks the options, reads the secrets and prepares a curl handle.
 * -EINVAL (bad URL or option combination), a file's -errno, -ENOMEM; each
 * logs one line naming the cause. */
int ingest_client_new(const struct ingest_opts *opts,
		      struct ingest_client **out);
void ingest_client_free(struct ingest_client *c);

/* 0 when the name rules above hold and 1e9 <= from <= until < 1e10 (Unix
 * seconds, 10 digits), else -EINVAL with the reason in err. */
int ingest_check_meta(const struct ingest_meta *m, char *err, size_t err_len);

/* From monotonic_ms() deadline_ms on (clock.h), a request in flight is
 * aborted within about a second (as a failure to retry) and none starts.
 * May be called from another thread than the one uploading. */
void ingest_client_abort_at(struct ingest_client *c, int64_t deadline_ms);

/* One POST. Returns 0 when a request was attempted (*res says how it went,
 * and RETRY/REJECTED are logged as one warning line), -EINVAL when the name
 * breaks the rules (logged; nothing sent), -ENOMEM. */
int ingest_upload(struct ingest_client *c, const struct ingest_meta *m,
		  const void *body, size_t len, struct ingest_result *res);

/* url with its userinfo (whatever stands between "://" and the last '@')
 * replaced by "***", into buf[0..size) (cut to fit): the form to log.
 * Whether there was any. */
bool ingest_redact_url(const char *url, char *buf, size_t size);

/* Whether a profile that starts at time_s (Unix seconds) would be refused
 * by a server whose clock says now_s: older than the window or too far in
 * the future. Such a profile can only be set aside. */
bool ingest_outside_window(int64_t time_s, int64_t now_s);

#endif
