/* safe_open.h - open, as root, a file that another user controls.
 *
 * bpfprof runs as root and opens files named or planted by any local user:
 * the objects a process maps, its /tmp/perf-PID.map, debug files in its
 * root. A naive open() of such a path can follow a symlink to a root-only
 * file, block forever on a FIFO, have a device's side effects (a tape
 * rewinds, a tty becomes our controlling terminal), or climb out of a
 * container's root through an absolute symlink or "..". safe_open() does
 * it in two steps:
 *  1. resolve the path to an O_PATH descriptor, which opens nothing (no
 *     FIFO wait, no device open), with openat2(): never through a /proc
 *     magic link unless SAFE_OPEN_MAGIC_OK (the caller's own
 *     /proc/PID/map_files/ entries are magic links by design); with
 *     SAFE_OPEN_IN_ROOT absolute symlinks and ".." are resolved inside
 *     dirfd, as if it were "/" (a container's root stays its root); with
 *     SAFE_OPEN_NOFOLLOW the last component may not be a symlink;
 *  2. fstat that descriptor: only a regular file, no larger than max_size
 *     (0: no limit), is reopened, read-only and non-blocking, through
 *     /proc/self/fd — the very inode that was checked, so nothing can be
 *     swapped in between.
 * openat2 needs Linux 5.6 (bpfprof needs 5.8 for BTF anyway); where it is
 * missing (valgrind, a seccomp filter), a path in a root is walked a
 * component at a time, refusing every symlink and "..", and other paths
 * are opened O_PATH with openat.
 */
#ifndef BPFPROF_SYM_SAFE_OPEN_H
#define BPFPROF_SYM_SAFE_OPEN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

enum {
	SAFE_OPEN_IN_ROOT = 1 << 0,  /* dirfd is a root: "/" and ".." stay in it */
	SAFE_OPEN_NOFOLLOW = 1 << 1, /* the last component is not a symlink */
	SAFE_OPEN_MAGIC_OK = 1 << 2, /* may go through /proc magic links */
	SAFE_OPEN_NO_SYMLINKS = 1 << 3, /* with IN_ROOT: no symlink on the way at all */
};

/* Opens path (relative to dirfd, or absolute; AT_FDCWD allowed) read-only,
 * O_NONBLOCK | O_CLOEXEC | O_NOCTTY. Returns the descriptor, or -ENOENT
 * and friends from the resolution, -ELOOP (a symlink where none may be),
 * -EXDEV (a path leaving the root), -EINVAL (not a regular file), -EFBIG
 * (larger than max_size). st (may be NULL) gets the file's stat. */
int safe_open(int dirfd, const char *path, unsigned flags, uint64_t max_size,
	      struct stat *st);

/* To read such a file whole: safe_read_file() in read_file.h. */

#endif
