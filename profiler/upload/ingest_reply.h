/* ingest_reply.h - what the server's answer to one upload says.
 *
 * libcurl reads the status line; this module takes the rest as it comes -
 * each header line (libcurl's header callback) and each piece of the body
 * (its write callback) - and turns it with the status into an
 * ingest_result: OK / RETRY / REJECTED (the rules in ingest.h), how long
 * the server asked us to wait (Retry-After) and a one-line message.
 *
 * Nothing of the answer is trusted: it may come from anything that listens
 * on the URL's port. The header block and the body are read up to
 * INGEST_REPLY_HEADER_MAX / INGEST_REPLY_BODY_MAX bytes, after which the
 * feeding functions return -E2BIG and the transfer is stopped: an endless
 * header or body costs neither memory nor the whole request timeout. Only
 * the first bytes of the body are kept, for the message. Retry-After is
 * parsed without overflow in both of its forms and capped.
 *
 * No libcurl in here, so the fuzz target and the tests feed it bytes.
 */
#ifndef BPFPROF_INGEST_REPLY_H
#define BPFPROF_INGEST_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ingest.h"

/* Pyroscope answers with a few short headers and at most a line of text
 * or JSON; 64 KiB of either is far beyond a real answer. */
#define INGEST_REPLY_HEADER_MAX (64u << 10)
#define INGEST_REPLY_BODY_MAX (64u << 10)

/* The longest wait a Retry-After can ask for. A profile older than the
 * ingestion window is refused, so waiting longer than it would only turn
 * spooled profiles into expired ones; the uploader waits at most its
 * backoff's cap anyway (uploader.h). Also keeps seconds * 1000 far from
 * any overflow. */
#define INGEST_RETRY_AFTER_MAX_S INGEST_WINDOW_PAST_S

struct ingest_reply {
	size_t header_bytes, body_bytes; /* seen, up to the caps */
	bool header_cut, body_cut;       /* a cap was reached */
	char retry_after[64];            /* the first Retry-After value */
	size_t retry_after_len;          /* as sent (0: none; more than kept:
					  * too long to be valid) */
	char body[sizeof(((struct ingest_result *)0)->message)]; /* the start */
	size_t body_len;
};

/* Before each request. */
void ingest_reply_reset(struct ingest_reply *r);

/* One header line as received, with or without its CRLF. A status line
 * ("HTTP/...") starts the header block of a new response (after a 1xx),
 * so only the final response's headers count. -E2BIG once the header
 * bytes pass INGEST_REPLY_HEADER_MAX: stop reading. */
int ingest_reply_header(struct ingest_reply *r, const char *line, size_t len);

/* A piece of the body. -E2BIG once the body passes INGEST_REPLY_BODY_MAX:
 * stop reading (the status still counts). */
int ingest_reply_body(struct ingest_reply *r, const char *data, size_t len);

/* The outcome into *res. http_status is the final response's status, 0
 * when no HTTP answer came, and then error (libcurl's text, may be NULL)
 * is the message. now_s: the wall clock, for a Retry-After date. */
void ingest_reply_result(const struct ingest_reply *r, long http_status, const char *error,
			 int64_t now_s, struct ingest_result *res);

/* A Retry-After value buf[0..len) (surrounding blanks allowed) as the
 * seconds to wait from now_s, in [0, INGEST_RETRY_AFTER_MAX_S]: either
 * delay-seconds (digits, any number of them) or an HTTP-date in any of the
 * three forms RFC 9110 §5.6.7 makes recipients accept ("Sun, 06 Nov 1994
 * 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37
 * 1994"); a date in the past is 0. -EINVAL for anything else (a sign, a
 * fraction, an impossible date, trailing bytes). */
int ingest_parse_retry_after(const char *buf, size_t len, int64_t now_s, long *delay_s);

#endif
