/* pprof_write.c - pprof_write_file_atomic(): put a finished profile on disk
 * so that readers see either the old file or the complete new one.
 *
 * The bytes go to a temporary file created with mkostemp() next to the
 * target (".NAME.XXXXXX" in the same directory, so rename() cannot cross a
 * file system), which is written completely, fsync()ed, closed and renamed
 * over the target; then the directory is fsync()ed so the rename survives a
 * crash. On any error the temporary file is unlinked. The new file keeps the
 * permission bits of the file it replaces, or gets 0666 & ~umask like a file
 * made by open(O_CREAT). Path "-" writes to standard output instead.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* asprintf, mkostemp */
#endif
#include "pprof.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG(fmt, ...) fprintf(stderr, "pprof: " fmt "\n", ##__VA_ARGS__)

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
	const char *slash, *base;
	char *tmp = NULL, *dir = NULL;
	struct stat st;
	mode_t mode;
	bool created = false; /* tmp exists and must go on failure */
	int fd = -1, dfd, err;

	if (!path || !*path || (len && !buf)) {
		LOG("write: path and buffer are required");
		return -EINVAL;
	}
	if (strcmp(path, "-") == 0) {
		fflush(stdout);
		err = write_all(STDOUT_FILENO, buf, len);
		if (err)
			LOG("write standard output: %s", strerror(-err));
		return err;
	}

	slash = strrchr(path, '/');
	base = slash ? slash + 1 : path;
	if (!*base) {
		LOG("write %s: %s", path, strerror(EISDIR));
		return -EISDIR;
	}
	/* "dir/.base.XXXXXX" next to the target, so rename() stays atomic */
	if (asprintf(&tmp, "%.*s.%s.XXXXXX", (int)(base - path), path, base) < 0 ||
	    asprintf(&dir, "%.*s", slash ? (int)(slash - path) + 1 : 1,
		     slash ? path : ".") < 0) {
		tmp = dir = NULL; /* contents undefined after a failure */
		err = -ENOMEM;
		LOG("write %s: %s", path, strerror(ENOMEM));
		goto out;
	}

	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		LOG("create temporary file %s: %s", tmp, strerror(-err));
		goto out;
	}
	created = true;
	/* mkostemp makes 0600 files: give the file the mode of the one it
	 * replaces, or what open(O_CREAT, 0666) would */
	mode = stat(path, &st) == 0 ? st.st_mode & 07777 : 0666 & ~current_umask();
	if (fchmod(fd, mode) < 0) {
		err = -errno;
		LOG("chmod %s: %s", tmp, strerror(-err));
		goto out;
	}
	err = write_all(fd, buf, len);
	if (err) {
		LOG("write %s: %s", tmp, strerror(-err));
		goto out;
	}
	if (fsync(fd) < 0) {
		err = -errno;
		LOG("fsync %s: %s", tmp, strerror(-err));
		goto out;
	}
	err = close(fd);
	fd = -1;
	if (err < 0) {
		err = -errno;
		LOG("close %s: %s", tmp, strerror(-err));
		goto out;
	}
	if (rename(tmp, path) < 0) {
		err = -errno;
		LOG("rename %s to %s: %s", tmp, path, strerror(-err));
		goto out;
	}
	created = false; /* renamed: nothing to clean up */

	/* make the rename itself durable; the file is in place either way */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
out:
	if (fd >= 0)
		close(fd);
	if (created)
		unlink(tmp);
	free(tmp);
	free(dir);
	return err;
}
