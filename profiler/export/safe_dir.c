/* safe_dir.c - see safe_dir.h. */
#include "safe_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_CLOEXEC)

#define MAX_LINKS 40 /* links followed in one path, as the kernel's MAXSYMLINKS */

/* Opens the directory name in dir, never following a link (-ELOOP),
 * creating it with mode when missing (a parent: opened O_PATH, so a
 * search-only parent, 0711, is passed without read access). */
static int open_component(int dir, const char *name, unsigned mode, bool parent, int *out)
{
	int fd = openat(dir, name, (parent ? O_PATH | O_DIRECTORY | O_CLOEXEC : DIR_FLAGS) | O_NOFOLLOW),
	    err;

	if (fd < 0 && errno == ENOENT) {
		bool created = !mkdirat(dir, name, mode);

		/* EEXIST: it appeared meanwhile: not something to follow */
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

static int report(int err, const char *what, const char *path)
{
	if (err == -ELOOP)
		log_error("%s %s is a symbolic link, which bpfprof does not follow there: "
			  "give the directory itself", what, path);
	else
		log_error("%s %s: %s", what, path, strerror(-err));
	return err;
}

/* The last component must be ours alone. */
static int check_owner(int fd, const char *what, const char *path)
{
	struct stat st;

	if (fstat(fd, &st))
		return report(-errno, what, path);
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
		return report(err, what, path);
	err = check_owner(*fd, what, path);
	if (err) {
		close(*fd);
		*fd = -1;
	}
	return err;
}

/* A path walked a component at a time: buf holds what is left to walk
 * from next on, where the directory reached (links resolved), for
 * messages. */
struct walk {
	char *buf, *next;
	int links;
	char where[PATH_MAX];
};

/* path, absolute: relative to the working directory, whose ancestors are
 * then walked too. */
static int walk_start(struct walk *w, const char *path)
{
	char cwd[PATH_MAX] = "";
	size_t size;

	if (path[0] != '/' && !getcwd(cwd, sizeof(cwd)))
		return -errno;
	size = strlen(cwd) + 1 + strlen(path) + 1;
	w->buf = w->next = malloc(size);
	if (!w->buf)
		return -ENOMEM;
	snprintf(w->buf, size, "%s/%s", cwd, path);
	return 0;
}

/* The next component, NUL-terminated in place; NULL at the end. *last:
 * none follows it. */
static char *next_name(struct walk *w, bool *last)
{
	char *name = w->next + strspn(w->next, "/");
	size_t len = strcspn(name, "/");

	if (!len)
		return NULL;
	w->next = name + len;
	if (*w->next)
		*w->next++ = '\0';
	*last = !w->next[strspn(w->next, "/")];
	return name;
}

/* where, after going into name: ".." goes up (from "/" too, to "/"). */
static int where_enter(struct walk *w, const char *name)
{
	size_t len = strlen(w->where);

	if (!strcmp(name, "..")) {
		char *slash = strrchr(w->where, '/');

		slash[slash == w->where] = '\0'; /* "/a/b" -> "/a", "/a" -> "/" */
	} else if (strcmp(name, ".") &&
		 snprintf(w->where + len, sizeof(w->where) - len, "%s%s", len > 1 ? "/" : "",
			  name) >= (int)(sizeof(w->where) - len))
		return -ENAMETOOLONG;
	return 0;
}

/* The link name in dir (a directory already checked, so nobody else can
 * change the link) gives way to its target: the walk goes on with the
 * target, then what followed the link. */
static int follow_link(struct walk *w, int dir, const char *name)
{
	char target[PATH_MAX], *buf;
	ssize_t n = readlinkat(dir, name, target, sizeof(target));
	size_t size;

	if (n < 0)
		return -errno;
	if ((size_t)n == sizeof(target))
		return -ENAMETOOLONG;
	target[n] = '\0';
	size = (size_t)n + 1 + strlen(w->next) + 1;
	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	snprintf(buf, size, "%s/%s", target, w->next);
	free(w->buf);
	w->buf = w->next = buf;
	return 0;
}

/* An ancestor, a directory a name is looked up in: whoever may rename or
 * replace what is in it can swap in a directory of their own, between two
 * runs or during one. So, as OpenSSH's StrictModes, it must be root's or
 * bpfprof's user's, and not writable by group or others unless it is
 * sticky (/tmp: there nobody may rename what is not theirs). */
static int check_ancestor(int fd, const char *what, const char *path, const char *where)
{
	struct stat st;

	if (fstat(fd, &st))
		return report(-errno, what, where);
	if (st.st_uid && st.st_uid != geteuid()) {
		log_error("%s %s: its ancestor %s is owned by uid %u (mode %04o), who could "
			  "rename what is in it and put their own directory in its place; run "
			  "chown %u %s, or use another directory", what, path, where,
			  (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777), (unsigned)geteuid(),
			  where);
		return -EPERM;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
		log_error("%s %s: its ancestor %s is writable by group or others without the "
			  "sticky bit (uid %u, mode %04o): they could rename what is in it and put "
			  "their own directory in its place; run chmod go-w %s (or chmod +t), or use "
			  "another directory", what, path, where, (unsigned)st.st_uid,
			  (unsigned)(st.st_mode & 07777), where);
		return -EPERM;
	}
	return 0;
}

/* The walk (re)starts at "/", an ancestor like any other. */
static int enter_root(struct walk *w, int *dir, const char *what, const char *path)
{
	if (*dir >= 0)
		close(*dir);
	strcpy(w->where, "/");
	*dir = open("/", DIR_FLAGS);
	return *dir < 0 ? report(-errno, what, "/") : check_ancestor(*dir, what, path, "/");
}

/* Every component but the last, from *dir on: each existing one opened
 * without following links, each link resolved here, a component at a time,
 * so that every directory a name is looked up in is checked. Returns the
 * last component (NULL for "/"), *err 0, *dir the directory it is in. */
static char *walk_parents(struct walk *w, int *dir, unsigned mode, const char *what,
			  const char *path, int *err)
{
	bool last = false;
	char *name = NULL;
	int sub;

	while (!*err && (name = next_name(w, &last)) && !last) {
		*err = open_component(*dir, name, mode, true, &sub);
		if (*err == -ELOOP) {
			if (++w->links > MAX_LINKS) {
				*err = -ELOOP;
				log_error("%s %s: %s", what, path, strerror(ELOOP));
			} else if ((*err = follow_link(w, *dir, name))) {
				report(*err, what, path);
			} else if (w->buf[0] == '/') {
				*err = enter_root(w, dir, what, path);
			}
			continue;
		}
		if (*err) {
			log_error("%s %s: %s%s%s: %s", what, path, w->where,
				  strcmp(w->where, "/") ? "/" : "", name, strerror(-*err));
			return NULL;
		}
		close(*dir);
		*dir = sub;
		*err = where_enter(w, name);
		if (*err)
			report(*err, what, path);
		else
			*err = check_ancestor(*dir, what, path, w->where);
	}
	return *err ? NULL : name;
}

int safe_dir_open(const char *path, unsigned mode, const char *what, int *fd)
{
	struct walk w = { 0 };
	char *name;
	int dir = -1, err = *path ? walk_start(&w, path) : -ENOENT;

	*fd = -1;
	if (err) {
		free(w.buf);
		return report(err, what, path);
	}
	err = enter_root(&w, &dir, what, path);
	name = walk_parents(&w, &dir, mode, what, path, &err);
	if (!err && name) {
		err = safe_dir_openat(dir, name, path, mode, what, fd);
	} else if (!err && !(err = check_owner(dir, what, path))) { /* "/" itself */
		*fd = dir;
		dir = -1;
	}
	if (dir >= 0)
		close(dir);
	free(w.buf);
	return err;
}
