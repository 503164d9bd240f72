/* pprof_write.c - pprof_file_open/commit/discard and pprof_write_file_atomic:
 * put a finished profile on disk so that readers see either the old file or
 * the complete new one.
 *
 * The temporary file is made next to the target (".NAME.XXXXXX" in the same
 * directory, so the rename cannot cross a file system) with openat(O_CREAT |
 * O_EXCL | O_NOFOLLOW): whatever someone put under a name, it is never
 * opened, so no link is followed and no file truncated. The mode is set
 * with fchmod, so it is exactly the one asked for. The directory is opened
 * once and kept, so the rename and its fsync go where the file was made
 * even if the path changes meanwhile. Path "-" writes to standard output.
 * pprof_file_commit_noreplace claims its name with renameat2(RENAME_NOREPLACE)
 * instead, so an existing file is never replaced and no name is checked
 * before it is taken.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* asprintf, renameat2 */
#endif
#include "pprof.h"
#include "pprof_log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TEMP_TRIES 100

struct pprof_file {
	int dir_fd, fd; /* -1 and -1: standard output */
	char *name;     /* the target's name in dir_fd */
	char *tmp;      /* the temporary file's */
};

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Six random letters or digits at *x (mkostemp's pattern, which has no
 * openat form). */
static void random_suffix(char *x)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	unsigned char r[6];

	if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
		unsigned long v = (unsigned long)time(NULL) ^ ((unsigned long)getpid() << 16) ^
				  (unsigned long)(uintptr_t)x ^ (unsigned long)rand();

		for (size_t i = 0; i < sizeof(r); i++, v >>= 5)
			r[i] = (unsigned char)v;
	}
	for (size_t i = 0; i < sizeof(r); i++)
		x[i] = chars[r[i] % (sizeof(chars) - 1)];
}

static void free_file(struct pprof_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->dir_fd >= 0)
		close(f->dir_fd);
	free(f->name);
	free(f->tmp);
	free(f);
}

/* Opens path's directory into f->dir_fd and sets f->name. */
static int open_dir(struct pprof_file *f, int dir_fd, const char *path)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	char *dir;

	if (!*base)
		return -EISDIR;
	if (!slash)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	f->name = strdup(base);
	if (!dir || !f->name) {
		free(dir);
		return -ENOMEM;
	}
	f->dir_fd = openat(dir_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	return f->dir_fd < 0 ? -errno : 0;
}

int pprof_file_open(int dir_fd, const char *path, unsigned mode, struct pprof_file **out)
{
	struct pprof_file *f;
	struct stat st;
	int err;

	*out = NULL;
	if (!path || !*path || mode > 07777)
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->dir_fd = f->fd = -1;
	if (!strcmp(path, "-")) {
		*out = f;
		return 0;
	}
	err = open_dir(f, dir_fd, path);
	/* a directory: the rename would fail, but only at the end; a device
	 * or a FIFO (-o /dev/null): the rename would replace it */
	if (!err && !fstatat(f->dir_fd, f->name, &st, AT_SYMLINK_NOFOLLOW) &&
	    !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
		err = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	if (!err && asprintf(&f->tmp, ".%s.XXXXXX", f->name) < 0) {
		f->tmp = NULL; /* contents undefined after a failure */
		err = -ENOMEM;
	}
	for (int i = 0; !err && i < TEMP_TRIES; i++) {
		random_suffix(f->tmp + strlen(f->tmp) - 6);
		f->fd = openat(f->dir_fd, f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			       mode);
		if (f->fd >= 0 || errno != EEXIST)
			break;
	}
	if (!err && f->fd < 0)
		err = -errno;
	if (!err && fchmod(f->fd, mode)) { /* what the umask took away */
		err = -errno;
		unlinkat(f->dir_fd, f->tmp, 0);
	}
	if (err) {
		free_file(f);
		return err;
	}
	*out = f;
	return 0;
}

/* Writes buf to the temporary file, fsyncs and closes it. */
static int finish(struct pprof_file *f, const void *buf, size_t len)
{
	int err = write_all(f->fd, buf, len);

	if (!err && fsync(f->fd))
		err = -errno;
	if (close(f->fd) && !err)
		err = -errno;
	f->fd = -1;
	return err;
}

/* After the rename: on failure the temporary file goes, on success the
 * rename is made durable; frees f. */
static int done(struct pprof_file *f, int err)
{
	if (err)
		unlinkat(f->dir_fd, f->tmp, 0);
	else
		fsync(f->dir_fd); /* the rename itself durable; the file is in place either way */
	free_file(f);
	return err;
}

int pprof_file_commit(struct pprof_file *f, const void *buf, size_t len)
{
	int err;

	if (len && !buf) {
		pprof_file_discard(f);
		return -EINVAL;
	}
	if (f->fd < 0) { /* standard output */
		fflush(stdout);
		err = write_all(STDOUT_FILENO, buf, len);
		free_file(f);
		return err;
	}
	err = finish(f, buf, len);
	if (!err && renameat(f->dir_fd, f->tmp, f->dir_fd, f->name))
		err = -errno;
	return done(f, err);
}

/* renameat2(RENAME_NOREPLACE); where the file system has no such flag
 * (EINVAL) or the system no renameat2 (ENOSYS), link + unlink, which fail
 * the same way on an existing name. */
static int move_noreplace(int dir_fd, const char *from, const char *to)
{
	if (!renameat2(dir_fd, from, dir_fd, to, RENAME_NOREPLACE))
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	if (linkat(dir_fd, from, dir_fd, to, 0))
		return -errno;
	unlinkat(dir_fd, from, 0);
	return 0;
}

int pprof_file_commit_noreplace(struct pprof_file *f, const void *buf, size_t len,
				pprof_name_fn name, void *ctx)
{
	char target[NAME_MAX + 1];
	int err;

	if (f->dir_fd < 0 || (len && !buf)) {
		pprof_file_discard(f);
		return -EINVAL;
	}
	err = finish(f, buf, len);
	for (unsigned i = 0; !err; i++) {
		if ((err = name(ctx, i, target, sizeof(target))))
			break;
		err = move_noreplace(f->dir_fd, f->tmp, target);
		if (err != -EEXIST)
			break;
		err = 0; /* taken: the next name */
	}
	return done(f, err);
}

void pprof_file_discard(struct pprof_file *f)
{
	if (!f)
		return;
	if (f->fd >= 0)
		unlinkat(f->dir_fd, f->tmp, 0);
	free_file(f);
}

/* The process umask, read without changing it (umask(2) would race with
 * other threads); 022 when /proc is unavailable. */
static mode_t current_umask(void)
{
	unsigned int mask = 022;
	char line[128];
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return 022;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Umask: %o", &mask) == 1)
			break;
	fclose(f);
	return (mode_t)(mask & 0777);
}

int pprof_write_file_atomic(const char *path, const void *buf, size_t len)
{
	struct pprof_file *f;
	struct stat st;
	int err;

	if (!path || !*path || (len && !buf)) {
		pprof_log("write: path and buffer are required");
		return -EINVAL;
	}
	err = pprof_file_open(AT_FDCWD, path,
			      stat(path, &st) == 0 ? st.st_mode & 07777 : 0666 & ~current_umask(), &f);
	if (!err)
		err = pprof_file_commit(f, buf, len);
	if (err)
		pprof_log("write %s: %s", strcmp(path, "-") ? path : "standard output", strerror(-err));
	return err;
}
