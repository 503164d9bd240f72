/* test_atomic_file.c - profiler/export/atomic_file.c in a temp directory:
 * the content and exact mode whatever the umask, a replacement that is a
 * rename (new inode), nothing left behind by any failure (missing
 * directory, a directory or a device as target, a discard), the caller's
 * directory fd used and left open, a planted link replaced and its target
 * untouched, names claimed without replacing, standard output, and the
 * shape of temporary files that atomic_file_temp_of() recognizes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "check.h"

static char dir[] = "/tmp/test_atomic_file.XXXXXX";

static char *path_of(const char *name)
{
	static char buf[4][PATH_MAX];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static bool file_is(const char *path, const char *want)
{
	char buf[256];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n == (ssize_t)strlen(want) && memcmp(buf, want, (size_t)n) == 0;
}

/* Entries of d (without . and ..); the last one not in skip into *last. */
static size_t entries(const char *d, const char *skip, char *last, size_t size)
{
	DIR *dd = opendir(d);
	struct dirent *e;
	size_t n = 0;

	if (!dd)
		return (size_t)-1;
	while ((e = readdir(dd))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		n++;
		if (last && (!skip || strcmp(e->d_name, skip)))
			snprintf(last, size, "%s", e->d_name);
	}
	closedir(dd);
	return n;
}

static unsigned mode_of(const char *path)
{
	struct stat st;

	return lstat(path, &st) ? 0 : st.st_mode & 07777;
}

static void test_write_replace(int dfd)
{
	struct stat st1, st2;
	int err;

	/* 0600 is what open() gives under umask 022: no fchmod; 0666 is not */
	err = atomic_file_write(dfd, "p", 0600, "first", 5);
	CHECK(err == 0 && file_is(path_of("p"), "first"), "write: %d", err);
	CHECK(mode_of(path_of("p")) == 0600, "mode %o, want 0600", mode_of(path_of("p")));
	CHECK(entries(dir, NULL, NULL, 0) == 1, "temporary file left behind");
	CHECK(fcntl(dfd, F_GETFD) >= 0, "the caller's directory fd was closed");
	CHECK(stat(path_of("p"), &st1) == 0, "stat");

	err = atomic_file_write(dfd, "p", 0666, "second, longer", 14);
	CHECK(err == 0 && file_is(path_of("p"), "second, longer"), "overwrite: %d", err);
	CHECK(mode_of(path_of("p")) == 0666, "mode %o, want 0666 whatever the umask",
	      mode_of(path_of("p")));
	CHECK(stat(path_of("p"), &st2) == 0 && st2.st_ino != st1.st_ino,
	      "overwrite was not a rename");
	CHECK(entries(dir, NULL, NULL, 0) == 1, "temporary file left behind");

	err = atomic_file_write(AT_FDCWD, path_of("p"), 0644, "", 0);
	CHECK(err == 0 && file_is(path_of("p"), ""), "empty write by path: %d", err);

	/* a link planted at the target is replaced, never followed */
	CHECK(symlink(path_of("p"), path_of("link")) == 0, "symlink");
	err = atomic_file_write(dfd, "link", 0600, "new", 3);
	CHECK(err == 0 && mode_of(path_of("link")) == 0600 && file_is(path_of("link"), "new") &&
		      file_is(path_of("p"), ""),
	      "a planted link: %d", err);
	unlink(path_of("link"));
	unlink(path_of("p"));
}

static void test_failures(int dfd)
{
	struct atomic_file *f = (struct atomic_file *)&dfd; /* must be reset */
	char tmp[NAME_MAX + 1], name[NAME_MAX + 8];
	const char *target;
	size_t len;
	int err;

	err = atomic_file_open(dfd, "no/such/dir/p", 0600, 0, &f);
	CHECK(err == -ENOENT && !f, "missing directory: %d, want -ENOENT", err);
	CHECK(mkdir(path_of("sub"), 0700) == 0, "mkdir");
	err = atomic_file_open(dfd, "sub", 0600, ATOMIC_FILE_CHECK_TARGET, &f);
	CHECK(err == -EISDIR, "a directory, checked: %d, want -EISDIR", err);
	/* unchecked: the rename fails at the end, and the temporary file goes */
	err = atomic_file_write(dfd, "sub", 0600, "x", 1);
	CHECK(err == -EISDIR, "writing over a directory: %d", err);
	err = atomic_file_write(dfd, "sub/", 0600, "x", 1);
	CHECK(err == -EISDIR, "a path ending in /: %d", err);
	err = atomic_file_open(AT_FDCWD, "/dev/null", 0600, ATOMIC_FILE_CHECK_TARGET, &f);
	CHECK(err == -EINVAL, "a device, checked: %d, want -EINVAL", err);
	memset(name, 'n', sizeof(name) - 1);
	name[NAME_MAX - 7] = '\0'; /* "." + name + ".XXXXXX" is one byte too long */
	err = atomic_file_open(dfd, name, 0600, 0, &f);
	CHECK(err == -ENAMETOOLONG, "a name without room for the suffix: %d", err);
	err = atomic_file_open(dfd, "p", 010000, 0, &f);
	CHECK(err == -EINVAL, "a mode past 07777: %d", err);

	/* the temporary file: named as atomic_file_temp_of() knows, removed
	 * by a discard */
	err = atomic_file_open(dfd, "q.pb.gz", 0600, 0, &f);
	CHECK(err == 0 && entries(dir, "sub", tmp, sizeof(tmp)) == 2, "open: %d", err);
	CHECK(atomic_file_temp_of(tmp, &target, &len) && len == 7 &&
		      !strncmp(target, "q.pb.gz", len),
	      "temporary file %s not recognized", tmp);
	atomic_file_discard(f);
	atomic_file_discard(NULL);
	CHECK(entries(dir, NULL, NULL, 0) == 1, "failures left files behind");
	CHECK(entries(path_of("sub"), NULL, NULL, 0) == 0, "failures left files behind");
	rmdir(path_of("sub"));
}

static int names(void *ctx, unsigned i, char *out, size_t size)
{
	(void)ctx;
	if (i >= 3)
		return -EEXIST;
	snprintf(out, size, i ? "n-%u" : "n", i);
	return 0;
}

static void test_noreplace(int dfd)
{
	struct atomic_file *f;
	int err = 0;

	for (int i = 0; i < 4 && !err; i++) {
		err = atomic_file_open(dfd, "n", 0600, 0, &f);
		if (!err)
			err = atomic_file_commit_noreplace(f, &"abc"[i], 1, names, NULL);
		CHECK(i < 3 ? !err : err == -EEXIST, "noreplace %d: %d", i, err);
	}
	CHECK(file_is(path_of("n"), "a") && file_is(path_of("n-1"), "b") &&
		      file_is(path_of("n-2"), "c"),
	      "each file took the next free name");
	CHECK(entries(dir, NULL, NULL, 0) == 3, "the refused one left its temporary file");
	CHECK(atomic_file_open(dfd, "-", 0600, 0, &f) == 0 &&
		      atomic_file_commit_noreplace(f, "x", 1, names, NULL) == -EINVAL,
	      "noreplace on standard output");
	unlink(path_of("n"));
	unlink(path_of("n-1"));
	unlink(path_of("n-2"));
}

static void test_stdout(void)
{
	int fd = open(path_of("stdout"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int saved = dup(STDOUT_FILENO), err = -1;

	CHECK(fd >= 0 && saved >= 0, "open");
	if (fd >= 0 && saved >= 0) {
		fflush(stdout);
		dup2(fd, STDOUT_FILENO);
		err = atomic_file_write(AT_FDCWD, "-", 0600, "to stdout", 9);
		dup2(saved, STDOUT_FILENO);
	}
	CHECK(err == 0 && file_is(path_of("stdout"), "to stdout"), "write to -: %d", err);
	if (fd >= 0)
		close(fd);
	if (saved >= 0)
		close(saved);
	unlink(path_of("stdout"));
}

static void test_temp_shapes(void)
{
	static const char *const yes[] = { ".a.AbC123", ".svc-1.pb.gz.x1Y2z3", "..b.000000" };
	static const char *const no[] = {
		"a.AbC123", ".a.AbC12", ".a.AbC12-", ".a-AbC123", "..AbC123", ".a.AbC1234", "",
	};
	const char *t;
	size_t len;

	for (size_t i = 0; i < sizeof(yes) / sizeof(*yes); i++)
		CHECK(atomic_file_temp_of(yes[i], &t, &len) && t == yes[i] + 1 &&
			      len == strlen(yes[i]) - 8,
		      "%s is a temporary file's name", yes[i]);
	for (size_t i = 0; i < sizeof(no) / sizeof(*no); i++)
		CHECK(!atomic_file_temp_of(no[i], &t, &len), "%s is not", no[i]);
}

int main(void)
{
	int dfd;

	umask(022); /* read once, at the first open */
	if (!mkdtemp(dir))
		return 1;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(dfd >= 0, "open %s", dir);
	test_write_replace(dfd);
	test_failures(dfd);
	test_noreplace(dfd);
	test_stdout();
	test_temp_shapes();
	close(dfd);
	CHECK(rmdir(dir) == 0, "rmdir %s: %s", dir, strerror(errno));
	return check_summary();
}
