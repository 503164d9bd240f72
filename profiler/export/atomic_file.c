/* atomic_file.c - see atomic_file.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* renameat2 */
#endif
#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "read_file.h"

#define TEMP_TRIES 100
#define SUFFIX_LEN 6
/* "." NAME "." XXXXXX */
#define TEMP_EXTRA (1 + 1 + SUFFIX_LEN)

static const char suffix_chars[] =
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

struct atomic_file {
	int dir_fd;     /* -1: standard output */
	bool own_dir;   /* dir_fd was opened here (else the caller's) */
	int fd;
	char name[NAME_MAX + 1]; /* the target's name in dir_fd */
	char tmp[NAME_MAX + 1];  /* the temporary file's */
};

/* ---- once per process ---- */

static pthread_once_t once = PTHREAD_ONCE_INIT;
static _Atomic uint64_t random_state;
static int known_umask = -1; /* -1: unknown, fchmod every file */

/* The umask, read without changing it (umask(2) would race with other
 * threads); the "Umask:" line is there since Linux 4.7. */
static int read_umask(void)
{
	unsigned mask;
	char *buf, *line;
	size_t len;
	int ret = -1;

	if (sym_read_file_at(AT_FDCWD, "/proc/self/status", 1 << 16, &buf, &len))
		return -1;
	line = strstr(buf, "\nUmask:");
	if (line && sscanf(line + 7, "%o", &mask) == 1)
		ret = (int)(mask & 0777);
	free(buf);
	return ret;
}

static void init_once(void)
{
	uint64_t seed;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uint64_t)clock();
	atomic_store(&random_state, seed);
	known_umask = read_umask();
}

/* splitmix64 over a shared counter: distinct values across threads. */
static uint64_t next_random(void)
{
	uint64_t z = atomic_fetch_add(&random_state, 0x9e3779b97f4a7c15ull) + 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* ---- open ---- */

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

static void free_file(struct atomic_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->own_dir)
		close(f->dir_fd);
	free(f);
}

/* Sets f->dir_fd (the caller's, or path's directory opened) and f->name. */
static int open_dir(struct atomic_file *f, int dir_fd, const char *path)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	char dir[PATH_MAX];

	if (!*base)
		return -EISDIR;
	if (strlen(base) + TEMP_EXTRA > NAME_MAX)
		return -ENAMETOOLONG;
	strcpy(f->name, base);
	if (!slash && dir_fd != AT_FDCWD) {
		f->dir_fd = dir_fd;
		return 0;
	}
	if (!slash)
		strcpy(dir, ".");
	else if (slash == path)
		strcpy(dir, "/");
	else if ((size_t)(slash - path) < sizeof(dir))
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	else
		return -ENAMETOOLONG;
	f->dir_fd = openat(dir_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f->dir_fd < 0)
		return -errno;
	f->own_dir = true;
	return 0;
}

/* A directory, or another file than a regular one or a link to replace. */
static int check_target(const struct atomic_file *f)
{
	struct stat st;

	if (fstatat(f->dir_fd, f->name, &st, AT_SYMLINK_NOFOLLOW) || S_ISREG(st.st_mode) ||
	    S_ISLNK(st.st_mode))
		return 0;
	return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
}

static int create_temp(struct atomic_file *f, unsigned mode)
{
	const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	size_t n = (size_t)snprintf(f->tmp, sizeof(f->tmp), ".%s.", f->name);

	for (int i = 0; i < TEMP_TRIES; i++) {
		uint64_t r = next_random();

		for (size_t k = 0; k < SUFFIX_LEN; k++, r /= sizeof(suffix_chars) - 1)
			f->tmp[n + k] = suffix_chars[r % (sizeof(suffix_chars) - 1)];
		f->tmp[n + SUFFIX_LEN] = '\0';
		f->fd = openat(f->dir_fd, f->tmp, flags, mode);
		if (f->fd >= 0 || errno != EEXIST)
			break;
	}
	if (f->fd < 0)
		return -errno;
	/* what the umask took away */
	if ((known_umask < 0 || (mode & (unsigned)known_umask)) && fchmod(f->fd, mode)) {
		int err = -errno;

		unlinkat(f->dir_fd, f->tmp, 0);
		return err;
	}
	return 0;
}

int atomic_file_open(int dir_fd, const char *path, unsigned mode, unsigned flags,
		     struct atomic_file **out)
{
	struct atomic_file *f;
	int err;

	*out = NULL;
	if (!path || !*path || mode > 07777)
		return -EINVAL;
	pthread_once(&once, init_once);
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->dir_fd = f->fd = -1;
	if (!strcmp(path, "-")) {
		*out = f;
		return 0;
	}
	err = open_dir(f, dir_fd, path);
	if (!err && (flags & ATOMIC_FILE_CHECK_TARGET))
		err = check_target(f);
	if (!err)
		err = create_temp(f, mode);
	if (err) {
		free_file(f);
		return err;
	}
	*out = f;
	return 0;
}

/* ---- commit ---- */

/* Writes buf to the temporary file, fsyncs and closes it. */
static int finish(struct atomic_file *f, const void *buf, size_t len)
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
static int done(struct atomic_file *f, int err)
{
	if (err)
		unlinkat(f->dir_fd, f->tmp, 0);
	else
		fsync(f->dir_fd); /* the rename itself durable; the file is in place either way */
	free_file(f);
	return err;
}

int atomic_file_commit(struct atomic_file *f, const void *buf, size_t len)
{
	int err;

	if (len && !buf) {
		atomic_file_discard(f);
		return -EINVAL;
	}
	if (f->dir_fd < 0) { /* standard output */
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

int atomic_file_commit_noreplace(struct atomic_file *f, const void *buf, size_t len,
				 atomic_file_name_fn name, void *ctx)
{
	char target[NAME_MAX + 1];
	int err;

	if (f->dir_fd < 0 || (len && !buf)) {
		atomic_file_discard(f);
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

void atomic_file_discard(struct atomic_file *f)
{
	if (!f)
		return;
	if (f->fd >= 0)
		unlinkat(f->dir_fd, f->tmp, 0);
	free_file(f);
}

int atomic_file_write(int dir_fd, const char *path, unsigned mode, const void *buf, size_t len)
{
	struct atomic_file *f;
	int err = atomic_file_open(dir_fd, path, mode, 0, &f);

	return err ? err : atomic_file_commit(f, buf, len);
}

bool atomic_file_temp_of(const char *name, const char **target, size_t *target_len)
{
	size_t len = strlen(name);

	if (len < TEMP_EXTRA + 1 || name[0] != '.' || name[len - SUFFIX_LEN - 1] != '.')
		return false;
	for (size_t i = len - SUFFIX_LEN; i < len; i++)
		if (!memchr(suffix_chars, name[i], sizeof(suffix_chars) - 1))
			return false;
	*target = name + 1;
	*target_len = len - TEMP_EXTRA;
	return true;
}
