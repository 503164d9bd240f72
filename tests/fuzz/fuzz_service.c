/* fuzz_service.c - /proc/PID/cgroup text to a service name
 * (profiler/agent/service.h).
 *
 * Feeds the input to service_from_cgroup with a predicate that trusts a
 * candidate when the first byte of its last component is odd (so the
 * fuzzer decides, name by name, and the seeds stay plain cgroup text).
 * Checks that it answers 0 or -ENOENT, and with 0 a NUL-terminated name
 * that fits SERVICE_NAME_MAX (the callers sanitize its bytes: file_safe,
 * ingest_check_meta) and is part of a candidate the predicate trusted;
 * that every question points inside the input and ends at a component's
 * end.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <errno.h>
#include <string.h>

#include "fuzz_util.h"
#include "service.h"

#define MAX_TRUSTED 64

struct asked {
	const char *buf, *end;
	const char *trusted[MAX_TRUSTED]; /* last components said yes to */
	size_t trusted_len[MAX_TRUSTED], ntrusted;
};

static bool odd_first_byte(const char *hier, size_t hlen, const char *path, size_t len,
			   void *ctx)
{
	struct asked *a = ctx;
	const char *c = path + len;

	FUZZ_CHECK(hier >= a->buf && hlen <= (size_t)(a->end - hier));
	FUZZ_CHECK(path >= a->buf && len && len <= (size_t)(a->end - path));
	FUZZ_CHECK(path + len == a->end || path[len] == '\n' || path[len] == '/');
	while (c > path && c[-1] != '/')
		c--;
	FUZZ_CHECK(c < path + len);
	if (!(*c & 1))
		return false;
	if (a->ntrusted < MAX_TRUSTED) {
		a->trusted[a->ntrusted] = c;
		a->trusted_len[a->ntrusted++] = (size_t)(path + len - c);
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct asked a = { (const char *)data, (const char *)data + size, { 0 }, { 0 }, 0 };
	char out[SERVICE_NAME_MAX];
	bool found = false;
	int err;

	memset(out, 'x', sizeof(out));
	err = service_from_cgroup((const char *)data, size, odd_first_byte, &a, out);
	FUZZ_CHECK(err == 0 || err == -ENOENT);
	if (err)
		return 0;
	FUZZ_CHECK(memchr(out, '\0', sizeof(out)));
	for (size_t i = 0; i < a.ntrusted && !found; i++)
		found = memmem(a.trusted[i], a.trusted_len[i], out, strlen(out)) != NULL;
	FUZZ_CHECK(found || a.ntrusted == MAX_TRUSTED);
	return 0;
}
