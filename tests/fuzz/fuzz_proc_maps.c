/* fuzz_proc_maps.c - /proc/PID/maps text (symbolizer/proc_maps.h).
 *
 * Feeds the input to proc_maps_parse, and as a file (a memfd) to
 * proc_maps_read, which reads it with sym_read_file_at first. Checks that
 * a failed parse leaves the list empty, that every entry's perms and path
 * are NUL-terminated strings, and that both ways give the same list.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "fuzz_util.h"
#include "proc_maps.h"

static void check_entry(const struct proc_maps_entry *e)
{
	FUZZ_CHECK(memchr(e->perms, '\0', sizeof(e->perms)));
	FUZZ_CHECK(e->path);
	(void)strlen(e->path); /* ASan: the path ends inside the arena */
}

static bool same_entry(const struct proc_maps_entry *a, const struct proc_maps_entry *b)
{
	return a->start == b->start && a->end == b->end && a->offset == b->offset &&
	       a->inode == b->inode && a->dev_major == b->dev_major &&
	       a->dev_minor == b->dev_minor && !strcmp(a->perms, b->perms) &&
	       a->deleted == b->deleted && !strcmp(a->path, b->path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proc_maps parsed, read;
	char path[64];
	int err, read_err;

	err = proc_maps_parse((const char *)data, size, &parsed);
	if (err)
		FUZZ_CHECK(parsed.n == 0 && !parsed.entries);
	for (size_t i = 0; i < parsed.n; i++)
		check_entry(&parsed.entries[i]);

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fuzz_memfd(data, size));
	read_err = proc_maps_read(AT_FDCWD, path, &read);
	/* The reader caps the size it reads; within the cap it is the parser. */
	if (read_err != -EFBIG) {
		FUZZ_CHECK(read_err == err);
		FUZZ_CHECK(read.n == parsed.n);
		for (size_t i = 0; i < read.n; i++)
			FUZZ_CHECK(same_entry(&read.entries[i], &parsed.entries[i]));
	}
	proc_maps_free(&read);
	proc_maps_free(&parsed);
	return 0;
}
