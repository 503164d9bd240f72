/* test_safe_open.c - symbolizer/safe_open.c against what a local user can
 * plant where bpfprof, as root, opens a file: a symlink to a root-only
 * file, a FIFO (with a writer waiting: it must stay waiting, the FIFO is
 * never opened), a device, a file over the size cap, and, inside a
 * process's root, absolute symlinks and ".." that try to leave it. Then
 * the plain reader of trusted paths (read_file.h): the same caps, only
 * regular files, a FIFO never waited on, /proc files (st_size 0) read
 * whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "read_file.h"
#include "safe_open.h"

static char tmp[] = "/tmp/test_safe_open.XXXXXX";

static char *path_of(const char *name)
{
	static char buf[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", tmp, name);
	return buf[i];
}

static void put(const char *name, const char *text)
{
	FILE *f = fopen(path_of(name), "w");

	if (!f || fputs(text, f) < 0 || fclose(f))
		abort();
}

/* A reader's result as text: what it read, or "" on error (err). */
static const char *text_of(int err, char *buf, size_t len)
{
	static char text[64];

	text[0] = '\0';
	if (!err) {
		snprintf(text, sizeof(text), "%s", buf);
		CHECK(len == strlen(buf), "the length is the file's: %zu", len);
		free(buf);
	} else {
		CHECK(!buf && !len, "a failure leaves no buffer");
	}
	return text;
}

/* Reads what safe_read_file gives for path under dirfd. */
static const char *read_under(int dirfd, const char *path, unsigned flags, int *err)
{
	size_t len;
	char *buf;

	*err = safe_read_file(dirfd, path, flags, 1024, &buf, &len, NULL);
	return text_of(*err, buf, len);
}

/* What sym_read_file_at gives for path. */
static const char *read_plain(const char *path, size_t max, int *err)
{
	size_t len;
	char *buf;

	*err = sym_read_file_at(AT_FDCWD, path, max, &buf, &len);
	return text_of(*err, buf, len);
}

static void test_plain_reader(void)
{
	int err;

	CHECK(!strcmp(read_plain(path_of("plain"), 6, &err), "plain\n") && !err,
	      "a file of exactly the cap is read: %d", err);
	read_plain(path_of("plain"), 5, &err);
	CHECK(err == -EFBIG, "over the cap: %d, want -EFBIG", err);
	read_plain("/dev/null", 1024, &err);
	CHECK(err == -EINVAL, "a device is refused: %d, want -EINVAL", err);
	/* no writer: a blocking open would wait forever */
	read_plain(path_of("fifo"), 1024, &err);
	CHECK(err == -EINVAL, "a FIFO is refused, not waited on: %d, want -EINVAL", err);
	read_plain(path_of("missing"), 1024, &err);
	CHECK(err == -ENOENT, "a missing file: %d", err);
	CHECK(atoi(read_plain("/proc/self/stat", 4096, &err)) == (int)getpid() && !err,
	      "a /proc file (st_size 0) is read whole: %d", err);
	read_plain("/proc/self/maps", 16, &err);
	CHECK(err == -EFBIG, "a /proc file over the cap: %d, want -EFBIG", err);
}

int main(void)
{
	int err, fd, root;
	pid_t writer;
	struct stat st;
	char big[2048];

	if (!mkdtemp(tmp))
		return 1;
	put("plain", "plain\n");
	put("secret", "secret\n");
	chmod(path_of("secret"), 0600);
	if (symlink(path_of("secret"), path_of("link")) || mkfifo(path_of("fifo"), 0600) ||
	    mkdir(path_of("root"), 0755) || mkdir(path_of("root/tmp"), 0755))
		abort();
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	put("big", big);

	CHECK(!strcmp(read_under(AT_FDCWD, path_of("plain"), 0, &err), "plain\n") && !err,
	      "a regular file is read: %d", err);
	read_under(AT_FDCWD, path_of("link"), SAFE_OPEN_NOFOLLOW, &err);
	CHECK(err == -ELOOP, "a symlink where none may be: %d, want -ELOOP", err);
	read_under(AT_FDCWD, path_of("big"), 0, &err);
	CHECK(err == -EFBIG, "over the size cap: %d, want -EFBIG", err);
	read_under(AT_FDCWD, "/dev/null", 0, &err);
	CHECK(err == -EINVAL, "a device is refused: %d, want -EINVAL", err);

	/* A writer blocks in open() until a reader opens the FIFO. */
	writer = fork();
	if (writer == 0) {
		int w = open(path_of("fifo"), O_WRONLY);

		_exit(w >= 0 ? 3 : 4);
	}
	usleep(100 * 1000);
	fd = safe_open(AT_FDCWD, path_of("fifo"), 0, 0, &st);
	CHECK(fd == -EINVAL && S_ISFIFO(st.st_mode), "a FIFO is refused: %d, want -EINVAL", fd);
	usleep(200 * 1000);
	CHECK(waitpid(writer, NULL, WNOHANG) == 0, "the FIFO was never opened: its writer waits");
	kill(writer, SIGKILL);
	waitpid(writer, NULL, 0);

	/* In a root: "/tmp/x" is <root>/tmp/x; links and ".." stay inside. */
	root = open(path_of("root"), O_PATH | O_DIRECTORY);
	put("root/tmp/map", "inside\n");
	if (symlink(path_of("secret"), path_of("root/tmp/abs")) ||
	    symlink("../../../../../../../../..", path_of("root/tmp/up")) ||
	    symlink("/tmp/map", path_of("root/tmp/alias")))
		abort();
	CHECK(!strcmp(read_under(root, "/tmp/map", SAFE_OPEN_IN_ROOT, &err), "inside\n"),
	      "an absolute path is resolved in the root: %d", err);
	CHECK(!strcmp(read_under(root, "/tmp/alias", SAFE_OPEN_IN_ROOT, &err), "inside\n"),
	      "an absolute symlink points into the root: %d", err);
	read_under(root, "/tmp/abs", SAFE_OPEN_IN_ROOT, &err);
	CHECK(err == -ENOENT, "a symlink to the host's file is not followed out: %d", err);
	read_under(root, "/tmp/up/secret", SAFE_OPEN_IN_ROOT, &err);
	CHECK(err == -ENOENT, "\"..\" stops at the root: %d", err);
	read_under(root, "../secret", SAFE_OPEN_IN_ROOT, &err);
	CHECK(err == -ENOENT, "a path with \"..\" stops at the root: %d", err);
	read_under(AT_FDCWD, "/proc/self/root/etc/hostname", 0, &err);
	CHECK(err == -EXDEV || err == -ELOOP, "no /proc magic link without SAFE_OPEN_MAGIC_OK: %d",
	      err);
	close(root);
	test_plain_reader();

	snprintf(big, sizeof(big), "rm -rf '%s'", tmp);
	if (system(big) != 0)
		perror("rm");
	return check_summary();
}
