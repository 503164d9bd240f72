/* fuzz_service.c - /proc/PID/cgroup text to a service name
 * (profiler/service.h).
 *
 * Feeds the input to service_from_cgroup. Checks that it answers 0 or
 * -ENOENT, and with 0 a NUL-terminated name that fits SERVICE_NAME_MAX
 * (the callers sanitize its bytes: file_safe, ingest_check_meta).
 */
#include <errno.h>
#include <string.h>

#include "fuzz_util.h"
#include "service.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[SERVICE_NAME_MAX];
	int err;

	memset(out, 'x', sizeof(out));
	err = service_from_cgroup((const char *)data, size, out);
	FUZZ_CHECK(err == 0 || err == -ENOENT);
	if (err)
		return 0;
	FUZZ_CHECK(memchr(out, '\0', sizeof(out)));
	return 0;
}
