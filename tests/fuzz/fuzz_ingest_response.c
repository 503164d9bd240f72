/* fuzz_ingest_response.c - what the uploader makes of a server's answer
 * (profiler/upload/ingest_reply.h): header lines, body, Retry-After.
 *
 * The input is an answer as it comes off the socket. Standing in for
 * libcurl, the harness takes the status from the first line ("HTTP/1.1
 * 503 ...": 503; anything else: no HTTP answer), hands every line up to
 * the first empty one to ingest_reply_header and the rest to
 * ingest_reply_body in pieces of up to 1000 bytes, then asks for the
 * result. The whole input also goes to ingest_parse_retry_after. Checks:
 * the feeding functions answer 0 or -E2BIG, and nothing is read past a
 * cap; Retry-After is 0 or -EINVAL, and a delay within [0, the cap]; the
 * result's status class follows the HTTP status, its message is one
 * NUL-terminated printable line.
 */
#include <errno.h>
#include <string.h>

#include "fuzz_util.h"
#include "ingest_reply.h"

#define NOW_S 1700000000 /* a fixed clock: the same input, the same result */

static long status_of(const char *p, size_t len)
{
	if (len < 12 || memcmp(p, "HTTP/1.", 7) || p[8] != ' ')
		return 0;
	for (int i = 9; i < 12; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
}

static void check_result(const struct ingest_reply *r, const struct ingest_result *res,
			 long status)
{
	size_t n = strnlen(res->message, sizeof(res->message));

	FUZZ_CHECK(n < sizeof(res->message));
	FUZZ_CHECK(n > 0 || res->status == INGEST_OK);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK((unsigned char)res->message[i] >= 0x20 && res->message[i] != 0x7f);
	FUZZ_CHECK(res->retry_after_s >= 0 && res->retry_after_s <= INGEST_RETRY_AFTER_MAX_S);
	FUZZ_CHECK(!res->retry_after_s || res->status == INGEST_RETRY);
	if (r->header_cut || !status) {
		FUZZ_CHECK(res->status == INGEST_RETRY && !res->http_status);
		return;
	}
	FUZZ_CHECK(res->http_status == status);
	FUZZ_CHECK((res->status == INGEST_OK) == (status >= 200 && status < 300));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl;
	struct ingest_result res;
	struct ingest_reply r;
	long delay = -1, status = status_of(p, size);
	int err;

	err = ingest_parse_retry_after(p, size, NOW_S, &delay);
	FUZZ_CHECK(err == 0 || err == -EINVAL);
	FUZZ_CHECK(err || (delay >= 0 && delay <= INGEST_RETRY_AFTER_MAX_S));

	ingest_reply_reset(&r);
	while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
		bool empty = nl == p || (nl == p + 1 && *p == '\r');

		err = ingest_reply_header(&r, p, (size_t)(nl + 1 - p));
		FUZZ_CHECK(err == 0 || err == -E2BIG);
		FUZZ_CHECK(r.header_bytes <= INGEST_REPLY_HEADER_MAX);
		p = nl + 1;
		if (empty)
			break;
	}
	while (p < end) {
		size_t n = (size_t)(end - p) < 1000 ? (size_t)(end - p) : 1000;

		err = ingest_reply_body(&r, p, n);
		FUZZ_CHECK(err == 0 || err == -E2BIG);
		FUZZ_CHECK(r.body_bytes <= INGEST_REPLY_BODY_MAX && r.body_len < sizeof(r.body));
		p += n;
	}
	ingest_reply_result(&r, status, NULL, NOW_S, &res);
	check_result(&r, &res, status);
	return 0;
}
