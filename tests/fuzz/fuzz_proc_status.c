/* fuzz_proc_status.c - /proc/PID/status and /proc/PID/stat text
 * (symbolizer/proc_status.h).
 *
 * Feeds the input to proc_status_parse and proc_stat_start_time, in an
 * exact-size buffer so ASan sees any read past it. Checks the results are
 * what the contract says: an error leaves no euid, a pid is positive.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "proc_status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	struct proc_status ps;
	uint64_t start = 0;
	int err;

	memcpy(buf, data, size);
	err = proc_status_parse(buf, size, &ps);
	FUZZ_CHECK(err == 0 || err == -EINVAL);
	FUZZ_CHECK(err ? !ps.has_euid : ps.has_euid);
	FUZZ_CHECK(ps.nspid >= 0);
	err = proc_stat_start_time(buf, size, &start);
	FUZZ_CHECK(err == 0 || err == -EINVAL);
	free(buf);
	return 0;
}
