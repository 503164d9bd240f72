/* safe_open.c - see safe_open.h. */
#include "safe_open.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>


/* Without openat2 (valgrind, a seccomp filter, Linux < 5.6), a path in a
 * root is walked a component at a time, O_PATH | O_NOFOLLOW: any symlink
 * or ".." fails it, which is stricter than openat2 (a path through a link
 * is not found) but never leaves the root. */
static int walk_in_root(int dirfd, const char *path)
{
	int cur = -1, fd;

	for (const char *p = path; *p;) {
		const char *end = strchrnul(p, '/');
		char name[NAME_MAX + 1];
		size_t len = (size_t)(end - p);
		struct stat st;

		if (len == 0 || (len == 1 && p[0] == '.')) {
			p = *end ? end + 1 : end;
			continue;
		}
		if (len > NAME_MAX || (len == 2 && p[0] == '.' && p[1] == '.')) {
			if (cur >= 0)
				close(cur);
			return len > NAME_MAX ? -ENAMETOOLONG : -EXDEV;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		fd = openat(cur >= 0 ? cur : dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (cur >= 0)
			close(cur);
		if (fd < 0)
			return -errno;
		p = *end ? end + 1 : end;
		if (*p && (fstat(fd, &st) || !S_ISDIR(st.st_mode))) {
			close(fd);
			return S_ISLNK(st.st_mode) ? -ELOOP : -ENOTDIR;
		}
		cur = fd;
	}
	return cur >= 0 ? cur : -EINVAL;
}

static int resolve(int dirfd, const char *path, unsigned flags)
{
	static bool no_openat2;
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC | (flags & SAFE_OPEN_NOFOLLOW ? O_NOFOLLOW : 0),
		.resolve = (flags & SAFE_OPEN_MAGIC_OK ? 0 : RESOLVE_NO_MAGICLINKS) |
			   (flags & SAFE_OPEN_IN_ROOT ? RESOLVE_IN_ROOT : 0) |
			   (flags & SAFE_OPEN_NO_SYMLINKS ? RESOLVE_NO_SYMLINKS : 0),
	};
	long fd = -1;

	if (!no_openat2) {
		fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
		if (fd >= 0 || errno != ENOSYS)
			return fd < 0 ? -errno : (int)fd;
		no_openat2 = true;
	}
	if (flags & SAFE_OPEN_IN_ROOT)
		return walk_in_root(dirfd, path);
	/* outside a root: links are followed as openat2 would (but for /proc
	 * magic links, which only the file checks after this guard against) */
	fd = openat(dirfd, path, (int)how.flags);
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
