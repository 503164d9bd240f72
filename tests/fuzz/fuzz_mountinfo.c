/* fuzz_mountinfo.c - /proc/PID/mountinfo text (symbolizer/mountinfo.h).
 *
 * Feeds the input to mountinfo_parse in an exact-size buffer (ASan sees
 * any read past it). (mountinfo_read is not fed a memfd: its safe reader
 * refuses /proc/self/fd magic links by design; unit.test_mountinfo tests
 * it.) Checks that a failed parse leaves the table empty, that every
 * string ends inside the arena, and that the queries agree with the
 * entries: a mount's device finds a mount of that device (a user's FUSE
 * one if it is one), and a user's FUSE mount is above its own mount point.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "mountinfo.h"

static void check_table(const struct mountinfo *m)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct mountinfo_entry *e = &m->entries[i];
		const struct mountinfo_entry *d = mountinfo_by_dev(m, e->dev_major, e->dev_minor);

		(void)(strlen(e->root) + strlen(e->super_opts)); /* ASan: in the arena */
		FUZZ_CHECK(e->root[0] && e->mount_point[0] && e->fstype[0]);
		FUZZ_CHECK(d && d->dev_major == e->dev_major && d->dev_minor == e->dev_minor);
		if (mountinfo_user_fuse(e)) {
			FUZZ_CHECK(mountinfo_user_fuse(d));
			FUZZ_CHECK(mountinfo_user_fuse_above(m, e->mount_point));
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	struct mountinfo parsed;
	int err;

	memcpy(buf, data, size);
	err = mountinfo_parse(buf, size, &parsed);
	FUZZ_CHECK(err == 0 || err == -EINVAL);
	if (err)
		FUZZ_CHECK(parsed.n == 0 && !parsed.entries && !parsed.arena);
	check_table(&parsed);
	mountinfo_free(&parsed);
	free(buf);
	return 0;
}
