/* read_file.h - read a whole file into memory, /proc files included.
 *
 * Files under /proc report st_size 0, so the reader does not trust the size:
 * it reads until EOF into a buffer it grows, up to a caller-given cap. The
 * buffer is NUL-terminated (not counted in the length) so text parsers may
 * use it as a string, and is freed by the caller with free().
 */
#ifndef BPFPROF_SYM_READ_FILE_H
#define BPFPROF_SYM_READ_FILE_H

#include <stddef.h>

/* Reads fd from its current position to EOF. Returns 0, -EFBIG when the
 * contents exceed max bytes, or another negative errno. Does not log. */
int sym_read_file_fd(int fd, size_t max, char **buf, size_t *len);

/* Opens path (O_RDONLY | O_CLOEXEC) and reads it whole. dirfd and path are
 * as for openat(): pass AT_FDCWD for a plain path. Does not log. */
int sym_read_file_at(int dirfd, const char *path, size_t max, char **buf, size_t *len);

#endif
