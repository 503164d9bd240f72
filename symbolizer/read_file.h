/* read_file.h - the project's one small-file reader: /proc and /sys files,
 * cgroup files, secrets, spool entries, a process's perf map.
 *
 * Every small file is read whole into memory the same way: only a regular
 * file (a FIFO would block, a device has side effects), opened O_NONBLOCK
 * | O_CLOEXEC | O_NOCTTY, at most a caller-given cap of bytes. Files under
 * /proc report st_size 0, so the size is checked before reading and again
 * while reading: the reader reads until EOF into a buffer it grows, and a
 * file that passes the cap (or grows past it while read) is -EFBIG. The
 * buffer is NUL-terminated (not counted in the length) so text parsers may
 * use it as a string, and is freed by the caller with free(). A failure
 * leaves *buf NULL and *len 0. The readers do not log.
 *
 * Two ways to open, one way to read:
 *  - sym_read_file_at() for a path the kernel or root controls (/proc/PID/
 *    files, /sys, kallsyms, a file named on the command line): openat();
 *  - safe_read_file() for a path another user controls (their perf map,
 *    their mount table, a spool directory others could write): through
 *    safe_open() (safe_open.h), which resolves without following what it
 *    must not and checks the inode before opening it.
 */
#ifndef BPFPROF_SYM_READ_FILE_H
#define BPFPROF_SYM_READ_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* Reads path (as for openat(): AT_FDCWD for a plain path). Returns 0,
 * -EINVAL (not a regular file), -EFBIG (more than max bytes) or the
 * errno of open or read. */
int sym_read_file_at(int dirfd, const char *path, size_t max, char **buf, size_t *len);

/* safe_open(dirfd, path, flags, max_size, st) (max_size 0: no limit),
 * then the whole file read as above. */
int safe_read_file(int dirfd, const char *path, unsigned flags, uint64_t max_size,
		   char **buf, size_t *len, struct stat *st);

#endif
