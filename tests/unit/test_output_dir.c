/* test_output_dir.c - unit test of the agent's --output-dir
 * (profiler/export/output_dir.c, retention.c, safe_dir.c), in fresh directories
 * under /tmp:
 *  - profiles of one service that start in the same second get their own
 *    names, SERVICE-STAMP.pb.gz then -1, -2: none replaces another, and no
 *    temporary file stays;
 *  - retention counts those names and deletes the oldest first, by start
 *    and then in the order written (-2 before -10), and leaves names it
 *    does not make (-01, a bare "-", a digit glued to the stamp) alone;
 *  - opening removes the temporary files a killed agent left - regular
 *    files of ours named ".<profile>.XXXXXX" - and nothing else: other
 *    names, a link, another user's file;
 *  - an ancestor of the directory another user owns, or group/world-
 *    writable without the sticky bit, reached directly, through a link or
 *    as the working directory of a relative path: refused (-EPERM) and
 *    nothing created; sticky (as /tmp) or root's 0755: accepted.
 * Cases that need another user (chown) run only as root.
 */
#include "check.h"
#include "output_dir.h"
#include "retention.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define START 1700000000 /* 2023-11-14T22:13:20Z */
#define STAMP "20231114T221320Z"
#define NOBODY 65534

static void put(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	CHECK(f && fputs(text, f) >= 0, "write %s", path);
	if (f)
		fclose(f);
}

/* The contents of dir/name ("" when missing). */
static const char *contents(const char *dir, const char *name)
{
	static char buf[64];
	char path[PATH_MAX];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_NOFOLLOW);
	n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : 0;
	buf[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
	return buf;
}

static bool exists(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return lstat(path, &st) == 0;
}

/* How many names in dir start with prefix. */
static int count(const char *dir, const char *prefix)
{
	char cmd[PATH_MAX + 64];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | grep -c '^%s'", dir, prefix);
	p = popen(cmd, "r");
	if (p && fscanf(p, "%d", &n) != 1)
		n = -1;
	if (p)
		pclose(p);
	return n;
}

static void test_names(void)
{
	char name[NAME_MAX + 1];

	CHECK(retention_name(name, sizeof(name), "svc", START, 0) == 0 &&
		      !strcmp(name, "svc-" STAMP ".pb.gz"), "first name %s", name);
	CHECK(retention_name(name, sizeof(name), "svc", START, 12) == 0 &&
		      !strcmp(name, "svc-" STAMP "-12.pb.gz"), "13th name %s", name);
	CHECK(retention_name(name, 20, "svc", START, 0) == -ENAMETOOLONG, "too long");
}

static void test_same_second(void)
{
	char top[64], dir[96];
	struct output_dir *o;

	check_temp_dir(top, sizeof(top), "test_output_dir");
	snprintf(dir, sizeof(dir), "%s/out", top);
	CHECK(output_dir_open(dir, 0600, 100, 1 << 30, &o) == 0, "open %s", dir);
	if (!o)
		return;
	CHECK(output_dir_write(o, "svc", START, "first", 5) == 0, "write 1");
	CHECK(output_dir_write(o, "svc", START, "second", 6) == 0, "write 2");
	CHECK(output_dir_write(o, "svc", START, "third", 5) == 0, "write 3");
	CHECK(output_dir_write(o, "other", START, "other", 5) == 0, "another service");
	CHECK(!strcmp(contents(dir, "svc-" STAMP ".pb.gz"), "first"), "the first replaced: '%s'",
	      contents(dir, "svc-" STAMP ".pb.gz"));
	CHECK(!strcmp(contents(dir, "svc-" STAMP "-1.pb.gz"), "second"), "-1: '%s'",
	      contents(dir, "svc-" STAMP "-1.pb.gz"));
	CHECK(!strcmp(contents(dir, "svc-" STAMP "-2.pb.gz"), "third"), "-2: '%s'",
	      contents(dir, "svc-" STAMP "-2.pb.gz"));
	CHECK(!strcmp(contents(dir, "other-" STAMP ".pb.gz"), "other"), "other service");
	CHECK(count(dir, "\\.") == 0, "%d temporary files left", count(dir, "\\."));
	CHECK(output_dir_trim(o) == 0, "4 profiles within retention");
	output_dir_close(o);
	check_remove_tree(top);
}

static void test_retention(void)
{
	static const char *const older[] = {
		"svc-20200101T000000Z.pb.gz", "svc-20200101T000000Z-1.pb.gz",
		"svc-20200101T000000Z-2.pb.gz",
	};
	static const char *const kept[] = {
		"svc-20200101T000000Z-10.pb.gz", "svc-20200101T000001Z.pb.gz",
		/* not names retention makes */
		"svc-20200101T000000Z-01.pb.gz", "svc-20200101T000000Z-.pb.gz",
		"svc-20200101T000000Z1.pb.gz", "svc-20200101T000000Z-1234567890.pb.gz",
		"-20200101T000000Z-1.pb.gz",
	};
	char dir[64];
	struct output_dir *o;

	check_temp_dir(dir, sizeof(dir), "test_output_dir");
	for (size_t i = 0; i < sizeof(older) / sizeof(*older); i++)
		put(dir, older[i], "x");
	for (size_t i = 0; i < sizeof(kept) / sizeof(*kept); i++)
		put(dir, kept[i], "x");
	CHECK(output_dir_open(dir, 0600, 2, 1 << 30, &o) == 0, "open %s", dir);
	if (!o)
		return;
	CHECK(output_dir_trim(o) == 3, "deleted %d, want the 3 oldest of 5",
	      output_dir_trim(o));
	for (size_t i = 0; i < sizeof(older) / sizeof(*older); i++)
		CHECK(!exists(dir, older[i]), "%s kept", older[i]);
	for (size_t i = 0; i < sizeof(kept) / sizeof(*kept); i++)
		CHECK(exists(dir, kept[i]), "%s deleted", kept[i]);
	output_dir_close(o);
	check_remove_tree(dir);
}

/* Retention scans the directory only when what it counted plus what was
 * written since could be over a limit, or after 64 trims without a scan:
 * a file planted meanwhile is counted then. */
static void test_trim_scans(void)
{
	char dir[64];
	struct output_dir *o;
	int deleted = 0, trims = 0;

	check_temp_dir(dir, sizeof(dir), "test_output_dir");
	CHECK(output_dir_open(dir, 0600, 2, 1 << 30, &o) == 0, "open %s", dir);
	if (!o)
		return;
	CHECK(output_dir_trim(o) == 0, "an empty directory trimmed");
	CHECK(!output_dir_write(o, "svc", 1700000000, "a", 1) &&
		      !output_dir_write(o, "svc", 1700000010, "b", 1),
	      "write two");
	put(dir, "svc-20200101T000000Z.pb.gz", "planted");
	CHECK(output_dir_trim(o) == 0 && exists(dir, "svc-20200101T000000Z.pb.gz"),
	      "two written of two: the directory was scanned");
	CHECK(!output_dir_write(o, "svc", 1700000020, "c", 1), "write a third");
	CHECK(output_dir_trim(o) == 2 && !exists(dir, "svc-20200101T000000Z.pb.gz") &&
		      count(dir, "svc-") == 2,
	      "three written of two: the planted and the oldest not deleted");
	put(dir, "svc-20200101T000001Z.pb.gz", "planted");
	while (!deleted && trims++ < 100)
		deleted = output_dir_trim(o);
	CHECK(deleted == 1 && trims > 1 && trims <= 65 && !exists(dir, "svc-20200101T000001Z.pb.gz"),
	      "the file planted while within the limits deleted at trim %d (%d)", trims, deleted);
	output_dir_close(o);
	check_remove_tree(dir);
}

static void test_leftovers(void)
{
	static const char *const temps[] = {
		".svc-20200101T000000Z.pb.gz.AbC123", ".svc-20200101T000001Z.pb.gz.x1Y2z3",
	};
	static const char *const others[] = {
		".svc-20200101T000000Z-3.pb.gz.x1Y2z3", /* temporary files have first names */
		".svc-20200101T000000Z.pb.gz.AbC12", ".svc-20200101T000000Z.pb.gz.AbC12-",
		".notes.AbC123", "notes", ".tmp-00000000000000000001.spool",
	};
	char dir[64], path[PATH_MAX];
	struct output_dir *o;

	check_temp_dir(dir, sizeof(dir), "test_output_dir");
	for (size_t i = 0; i < sizeof(temps) / sizeof(*temps); i++)
		put(dir, temps[i], "partial");
	for (size_t i = 0; i < sizeof(others) / sizeof(*others); i++)
		put(dir, others[i], "other");
	snprintf(path, sizeof(path), "%s/.svc-20200101T000000Z.pb.gz.LnK123", dir);
	CHECK(symlink("notes", path) == 0, "symlink");
	if (geteuid() == 0) {
		put(dir, ".svc-20200101T000000Z.pb.gz.NoB123", "nobody's");
		snprintf(path, sizeof(path), "%s/.svc-20200101T000000Z.pb.gz.NoB123", dir);
		CHECK(chown(path, NOBODY, NOBODY) == 0, "chown");
	}
	CHECK(output_dir_open(dir, 0600, 100, 1 << 30, &o) == 0, "open %s", dir);
	output_dir_close(o);
	for (size_t i = 0; i < sizeof(temps) / sizeof(*temps); i++)
		CHECK(!exists(dir, temps[i]), "leftover %s kept", temps[i]);
	for (size_t i = 0; i < sizeof(others) / sizeof(*others); i++)
		CHECK(exists(dir, others[i]), "%s deleted", others[i]);
	CHECK(exists(dir, ".svc-20200101T000000Z.pb.gz.LnK123") && exists(dir, "notes"),
	      "a link named as a temporary file deleted");
	CHECK(geteuid() || exists(dir, ".svc-20200101T000000Z.pb.gz.NoB123"),
	      "another user's file deleted");
	check_remove_tree(dir);
}

/* output_dir_open(path) returns want; with an error, path is not created. */
static void expect_open(const char *path, int want, const char *what)
{
	struct output_dir *o;
	int err = output_dir_open(path, 0600, 100, 1 << 30, &o);

	CHECK(err == want, "%s: %d, want %d", what, err, want);
	CHECK(!err || access(path, F_OK) != 0, "%s: created although refused", what);
	output_dir_close(o);
}

static void test_ancestors(void)
{
	char top[64], a[96], out[128], link[96], cwd[PATH_MAX];

	check_temp_dir(top, sizeof(top), "test_output_dir");
	CHECK(chmod(top, 0755) == 0, "chmod");
	snprintf(a, sizeof(a), "%s/a", top);
	snprintf(out, sizeof(out), "%s/sub/out", a);
	snprintf(link, sizeof(link), "%s/link", top);
	CHECK(mkdir(a, 0755) == 0 && symlink("a", link) == 0, "mkdir, symlink");
	fprintf(stderr, "--- ancestors: the error lines below are expected ---\n");
	CHECK(chmod(a, 0777) == 0, "chmod");
	expect_open(out, -EPERM, "a world-writable ancestor");
	CHECK(chmod(a, 0775) == 0, "chmod");
	expect_open(out, -EPERM, "a group-writable ancestor");
	if (geteuid() == 0) {
		CHECK(chmod(a, 0755) == 0 && chown(a, NOBODY, NOBODY) == 0, "chown nobody");
		expect_open(out, -EPERM, "an ancestor of nobody's");
		snprintf(out, sizeof(out), "%s/sub/out", link);
		expect_open(out, -EPERM, "an ancestor of nobody's behind a link");
		CHECK(getcwd(cwd, sizeof(cwd)) && chdir(a) == 0, "chdir");
		expect_open("sub/out", -EPERM, "the working directory nobody's");
		CHECK(chdir(cwd) == 0 && chown(a, 0, 0) == 0, "chdir, chown back");
	} else {
		printf("not root: ancestors of another user are not tried\n");
	}
	fprintf(stderr, "--- end of expected errors ---\n");
	CHECK(chmod(a, 01777) == 0, "chmod");
	expect_open(out, 0, "a sticky world-writable ancestor");
	CHECK(chmod(a, 0755) == 0, "chmod");
	snprintf(out, sizeof(out), "%s/sub/out2", link);
	expect_open(out, 0, "behind a link, an ancestor of ours");
	check_remove_tree(top);
}

int main(void)
{
	test_names();
	test_same_second();
	test_retention();
	test_trim_scans();
	test_leftovers();
	test_ancestors();
	return check_summary();
}
