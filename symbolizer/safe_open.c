/* safe_open.c - see safe_open.h. */
#include "safe_open.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "read_file.h"

static int resolve(int dirfd, const char *path, unsigned flags)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC | (flags & SAFE_OPEN_NOFOLLOW ? O_NOFOLLOW : 0),
		.resolve = (flags & SAFE_OPEN_MAGIC_OK ? 0 : RESOLVE_NO_MAGICLINKS) |
			   (flags & SAFE_OPEN_IN_ROOT ? RESOLVE_IN_ROOT : 0),
	};
	long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));

	return fd < 0 ? -errno : (int)fd;
}

int safe_open(int dirfd, const char *path, unsigned flags, uint64_t max_size,
	      struct stat *st)
{
	char self[32];
	struct stat tmp;
	int pfd, fd;

	if (!st)
		st = &tmp;
	pfd = resolve(dirfd, path, flags);
	if (pfd < 0)
		return pfd;
	if (fstat(pfd, st)) {
		fd = -errno;
	} else if (S_ISLNK(st->st_mode)) {
		fd = -ELOOP; /* O_NOFOLLOW | O_PATH gives the link itself */
	} else if (!S_ISREG(st->st_mode)) {
		fd = -EINVAL;
	} else if (max_size && (uint64_t)st->st_size > max_size) {
		fd = -EFBIG;
	} else {
		snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
		fd = open(self, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			fd = -errno;
	}
	close(pfd);
	return fd;
}

int safe_read_file(int dirfd, const char *path, unsigned flags, uint64_t max_size,
		   char **buf, size_t *len, struct stat *st)
{
	int fd = safe_open(dirfd, path, flags, max_size, st), err;

	*buf = NULL;
	*len = 0;
	if (fd < 0)
		return fd;
	err = sym_read_file_fd(fd, max_size ? (size_t)max_size : SIZE_MAX, buf, len);
	close(fd);
	return err;
}
