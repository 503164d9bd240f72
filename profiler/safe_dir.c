/* safe_dir.c - see safe_dir.h. */
#include "safe_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_CLOEXEC)

/* Opens the directory name in dir, creating it with mode when missing; an
 * existing link is followed only when follow is set (a parent: opened
 * O_PATH, so a search-only parent, 0711, is passed without read access). */
static int open_component(int dir, const char *name, unsigned mode, bool follow, int *out)
{
	int fd = openat(dir, name, follow ? O_PATH | O_DIRECTORY | O_CLOEXEC : DIR_FLAGS | O_NOFOLLOW),
	    err;

	if (fd < 0 && errno == ENOENT) {
		bool created = !mkdirat(dir, name, mode);

		/* EEXIST: it appeared meanwhile, or is a dangling link: either
		 * way not something to follow */
		if (!created && errno != EEXIST)
			return -errno;
		fd = openat(dir, name, DIR_FLAGS | O_NOFOLLOW);
		if (fd >= 0 && created && fchmod(fd, mode)) { /* the umask may have cut it */
			err = -errno;
			close(fd);
			return err;
		}
	}
	if (fd < 0) {
		struct stat st;

		/* O_DIRECTORY | O_NOFOLLOW says ENOTDIR for a link */
		err = -errno;
		if ((err == -ENOTDIR || err == -ELOOP) &&
		    !fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) && S_ISLNK(st.st_mode))
			err = -ELOOP;
		return err;
	}
	*out = fd;
	return 0;
}

static int report(int err, const char *what, const char *path, int path_len)
{
	if (err == -ELOOP)
		log_error("%s %.*s is a symbolic link, which bpfprof does not follow there: "
			  "give the directory itself", what, path_len, path);
	else
		log_error("%s %.*s: %s", what, path_len, path, strerror(-err));
	return err;
}

/* The last component must be ours alone. */
static int check_owner(int fd, const char *what, const char *path)
{
	struct stat st;

	if (fstat(fd, &st))
		return report(-errno, what, path, (int)strlen(path));
	if (st.st_uid != geteuid()) {
		log_error("%s %s is owned by uid %u, not by bpfprof's uid %u: other users could "
			  "plant links in it; run chown %u %s, or use another directory", what, path,
			  (unsigned)st.st_uid, (unsigned)geteuid(), (unsigned)geteuid(), path);
		return -EPERM;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		log_error("%s %s is writable by group or others (mode %04o): other users could "
			  "plant links in it; run chmod go-w %s, or use another directory", what, path,
			  (unsigned)(st.st_mode & 07777), path);
		return -EPERM;
	}
	return 0;
}

int safe_dir_openat(int parent, const char *name, const char *path, unsigned mode,
		    const char *what, int *fd)
{
	int err = open_component(parent, name, mode, false, fd);

	if (err)
		return report(err, what, path, (int)strlen(path));
	err = check_owner(*fd, what, path);
	if (err) {
		close(*fd);
		*fd = -1;
	}
	return err;
}

int safe_dir_open(const char *path, unsigned mode, const char *what, int *fd)
{
	char *copy = strdup(path), *save = NULL, *name, *next;
	int dir = path[0] == '/' ? open("/", DIR_FLAGS) : AT_FDCWD, err = 0;

	*fd = -1;
	if (!*path || !copy || dir == -1) {
		err = !*path ? -ENOENT : copy ? -errno : -ENOMEM;
		if (dir >= 0)
			close(dir);
		free(copy);
		return report(err, what, path, (int)strlen(path));
	}
	/* every component but the last: followed if it exists */
	for (name = strtok_r(copy, "/", &save); name; name = next) {
		int sub;

		next = strtok_r(NULL, "/", &save);
		if (!next)
			break;
		err = open_component(dir, name, mode, true, &sub);
		if (err) {
			report(err, what, path, (int)(name - copy + strlen(name)));
			break;
		}
		if (dir != AT_FDCWD)
			close(dir);
		dir = sub;
	}
	if (!err && name) {
		err = safe_dir_openat(dir, name, path, mode, what, fd);
	} else if (!err && !(err = check_owner(dir, what, path))) { /* "/" itself */
		*fd = dir;
		dir = AT_FDCWD;
	}
	if (dir != AT_FDCWD)
		close(dir);
	free(copy);
	return err;
}
