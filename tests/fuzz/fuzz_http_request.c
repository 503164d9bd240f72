/* fuzz_http_request.c - the metrics server's HTTP request parser
 * (http_parse_request, profiler/agent/metrics_server.h).
 *
 * The server parses again after every recv, so the parser sees each
 * prefix of what a client sends. The input is parsed whole and then as a
 * prefix (its length from the first byte), each from a buffer of exactly
 * that size. Checks: the answer is 0, -EAGAIN or -EINVAL; with 0 the method
 * and path are NUL-terminated, the path starts with '/' (or is "*") and has
 * no query; a prefix never answers something the whole would not (it is
 * -EAGAIN, or the whole's answer).
 */
#include <errno.h>
#include <string.h>

#include "fuzz_util.h"
#include "metrics_server.h"

static int parse(const uint8_t *data, size_t len)
{
	struct http_request req;
	char *copy = malloc(len ? len : 1);
	int err;

	FUZZ_CHECK(copy);
	memcpy(copy, data, len);
	memset(&req, 'x', sizeof(req));
	err = http_parse_request(copy, len, &req);
	free(copy);
	FUZZ_CHECK(err == 0 || err == -EAGAIN || err == -EINVAL);
	if (!err) {
		FUZZ_CHECK(memchr(req.method, '\0', sizeof(req.method)) && req.method[0]);
		FUZZ_CHECK(memchr(req.path, '\0', sizeof(req.path)));
		FUZZ_CHECK(req.path[0] == '/' || !strcmp(req.path, "*"));
		FUZZ_CHECK(!strchr(req.path, '?'));
	}
	return err;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int whole = parse(data, size), part;

	if (!size)
		return 0;
	part = parse(data, size * data[0] / 256);
	FUZZ_CHECK(part == -EAGAIN || part == whole);
	return 0;
}
