/* fuzz_util.h - what the libFuzzer targets of tests/fuzz share.
 *
 * FUZZ_CHECK states a property the parser promises (its header says so):
 * when it does not hold, the target aborts, and libFuzzer saves the input
 * as a crash like any sanitizer report.
 *
 * fuzz_memfd gives a parser that only takes a descriptor (libelf, libdw,
 * the CFI table) the input as a file: one memfd per process, rewritten for
 * every input, so a target never writes to the filesystem.
 */
#ifndef BPFPROF_FUZZ_UTIL_H
#define BPFPROF_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define FUZZ_CHECK(cond)                                                        \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "%s:%d: property violated: %s\n",       \
				__FILE__, __LINE__, #cond);                     \
			abort();                                                \
		}                                                               \
	} while (0)

/* A descriptor whose file holds exactly data[0..size); it stays open for
 * the next input. Aborts when the memfd cannot be written: that is the
 * harness failing, not the code under test. */
static inline int fuzz_memfd(const uint8_t *data, size_t size)
{
	static int fd = -1;
	size_t off = 0;

	if (fd < 0)
		fd = memfd_create("fuzz-input", MFD_CLOEXEC);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(ftruncate(fd, 0) == 0);
	while (off < size) {
		ssize_t n = pwrite(fd, data + off, size - off, (off_t)off);

		FUZZ_CHECK(n > 0);
		off += (size_t)n;
	}
	return fd;
}

#endif
