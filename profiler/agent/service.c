/* service.c - see service.h.
 *
 * A path is read from its end: the deepest trusted component that names a
 * container (64 hex digits, alone or as "<runtime>-<id>.scope") wins, then
 * the deepest trusted "<unit>.service". Container ids are shortened to 12
 * digits, as `docker ps` shows them.
 *
 * service_of_pid's predicate stats, under an O_PATH descriptor of the
 * hierarchy's mount, every prefix of the candidate's path with fstatat
 * (AT_SYMLINK_NOFOLLOW; cgroup file systems have no links anyway): a few
 * stats per candidate, once per process and interval.
 */
#include "service.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "read_file.h"

#define ID_LEN 64
#define SHORT_ID_LEN 12
/* /proc/PID/cgroup: a line per v1 hierarchy, each path at most PATH_MAX */
#define CGROUP_FILE_MAX (64u << 10)

static bool is_hex_id(const char *p, size_t len)
{
	if (len != ID_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	return true;
}

/* A container id in one path component: "<id>", or "<prefix>-<id>" with an
 * optional ".scope" ("docker-", "cri-containerd-", "crio-", "libpod-"). */
static const char *container_id(const char *c, size_t len)
{
	const char *dash;

	if (len > 6 && !memcmp(c + len - 6, ".scope", 6))
		len -= 6;
	if (is_hex_id(c, len))
		return c;
	dash = len > ID_LEN ? c + len - ID_LEN - 1 : NULL;
	return dash && *dash == '-' && is_hex_id(dash + 1, ID_LEN) ? dash + 1 : NULL;
}

/* One line's hierarchy and the predicate to ask about it. */
struct trust {
	const char *hier;
	size_t hlen;
	service_trusted_fn *fn;
	void *ctx;
};

/* The service of one cgroup path [p, end); the path up to a candidate's
 * end is what t is asked about. */
static int service_of_path(const char *p, const char *end, const struct trust *t, char *out)
{
	const char *unit = NULL;
	size_t unit_len = 0;

	while (end > p) {
		const char *c = end;
		const char *id;
		size_t len;

		while (c > p && c[-1] != '/')
			c--;
		len = (size_t)(end - c);
		id = container_id(c, len);
		if ((id || (!unit && len > 8 && !memcmp(end - 8, ".service", 8))) &&
		    t->fn(t->hier, t->hlen, p, (size_t)(end - p), t->ctx)) {
			if (id) {
				snprintf(out, SERVICE_NAME_MAX, "%.*s", SHORT_ID_LEN, id);
				return 0;
			}
			unit = c;
			unit_len = len - 8;
		}
		end = c > p ? c - 1 : p;
	}
	if (!unit || !unit_len)
		return -ENOENT;
	snprintf(out, SERVICE_NAME_MAX, "%.*s", (int)(unit_len < SERVICE_NAME_MAX - 1 ?
						     unit_len : SERVICE_NAME_MAX - 1), unit);
	return 0;
}

/* Rank of a /proc/PID/cgroup line: unified first, systemd's named
 * hierarchy next, the rest last. */
static int rank(const char *line, const char *path)
{
	if (!strncmp(line, "0::", 3))
		return 0;
	if ((size_t)(path - line) >= 13 && !memcmp(path - 13, "name=systemd:", 13))
		return 1;
	return 2;
}

int service_from_cgroup(const char *buf, size_t len, service_trusted_fn *trusted, void *ctx,
			char *out)
{
	const char *p = buf, *end = buf + len;
	int best = 3, err = -ENOENT;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *colon1, *path;
		char found[SERVICE_NAME_MAX];
		int r;

		if (!eol)
			eol = end;
		colon1 = memchr(p, ':', (size_t)(eol - p));
		path = colon1 ? memchr(colon1 + 1, ':', (size_t)(eol - colon1 - 1)) : NULL;
		if (path) {
			struct trust t = { colon1 + 1, (size_t)(path - colon1 - 1), trusted, ctx };

			path++;
			r = rank(p, path);
			if (r < best && !service_of_path(path, eol, &t, found)) {
				memcpy(out, found, sizeof(found));
				best = r;
				err = 0;
			}
		}
		p = eol + 1;
	}
	return err;
}

/* The root of the line's hierarchy under /sys/fs/cgroup (sys), an O_PATH
 * descriptor; -ENOENT when it is not mounted where service.h says. */
static int hierarchy_root(int sys, const char *hier, size_t hlen)
{
	char name[NAME_MAX + 1];
	struct statfs fs;
	int fd;

	if (!hlen) { /* unified: the mount itself, or "unified" on hybrid systems */
		for (int i = 0; i < 2; i++) {
			fd = openat(sys, i ? "unified" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (fd >= 0 && !fstatfs(fd, &fs) && fs.f_type == CGROUP2_SUPER_MAGIC)
				return fd;
			if (fd >= 0)
				close(fd);
		}
		return -ENOENT;
	}
	if (hlen > 5 && !memcmp(hier, "name=", 5)) {
		hier += 5;
		hlen -= 5;
	}
	if (hlen >= sizeof(name) || memchr(hier, '/', hlen) || hier[0] == '.')
		return -ENOENT;
	memcpy(name, hier, hlen);
	name[hlen] = '\0';
	fd = openat(sys, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0 && !fstatfs(fd, &fs) && fs.f_type == CGROUP_SUPER_MAGIC)
		return fd;
	if (fd >= 0)
		close(fd);
	return -ENOENT;
}

/* Root owns it and no one else may write it (create cgroups in it). */
static bool root_only(const struct stat *st)
{
	return S_ISDIR(st->st_mode) && st->st_uid == 0 && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

/* Whether path (of the hierarchy rooted at fd) exists as a directory
 * whose ancestors are all root_only. */
static bool made_by_root(int fd, const char *path, size_t len)
{
	char rel[PATH_MAX];
	struct stat st;
	size_t n = 0;

	if (fstat(fd, &st) || !root_only(&st) || !len || path[0] != '/' || len >= sizeof(rel) ||
	    memchr(path, '\0', len))
		return false;
	memcpy(rel, path + 1, len - 1);
	rel[len - 1] = '\0';
	while (n < len - 1) { /* rel[0, n) is checked; stat up to the next '/' */
		char *slash = strchr(rel + n, '/');
		size_t clen = (slash ? (size_t)(slash - rel) : len - 1) - n;

		if (!clen || (rel[n] == '.' && (clen == 1 || (clen == 2 && rel[n + 1] == '.'))))
			return false; /* "//", "/./" or "/../": not a plain path below fd */
		if (slash)
			*slash = '\0';
		if (fstatat(fd, rel, &st, AT_SYMLINK_NOFOLLOW) ||
		    !(slash ? root_only(&st) : S_ISDIR(st.st_mode)))
			return false;
		if (slash)
			*slash = '/';
		n += clen + 1;
	}
	return true;
}

/* service_trusted_fn of service_of_pid: ctx is the O_PATH fd of
 * /sys/fs/cgroup (-1 when there is none). */
static bool cgroup_trusted(const char *hier, size_t hlen, const char *path, size_t len,
			   void *ctx)
{
	int sys = *(int *)ctx, fd = sys >= 0 ? hierarchy_root(sys, hier, hlen) : -ENOENT;
	bool ok;

	if (fd < 0)
		return hlen > 0; /* v1 without its mount: as before; unified: no */
	ok = made_by_root(fd, path, len);
	close(fd);
	return ok;
}

int service_of_pid(pid_t pid, char *out)
{
	char path[64], *buf;
	size_t n;
	int sys, err;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if (sym_read_file_at(AT_FDCWD, path, CGROUP_FILE_MAX, &buf, &n) || !n) {
		free(buf);
		return -ENOENT;
	}
	sys = open("/sys/fs/cgroup", O_PATH | O_DIRECTORY | O_CLOEXEC);
	err = service_from_cgroup(buf, n, cgroup_trusted, &sys, out);
	if (sys >= 0)
		close(sys);
	free(buf);
	return err;
}
