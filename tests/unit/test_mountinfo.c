/* test_mountinfo.c - /proc/PID/mountinfo (symbolizer/mountinfo.h), and the
 * symbolizer's refusal of files a user's FUSE daemon may serve.
 *
 *  - the real /proc/self/mountinfo, checked against util-linux's findmnt
 *    (libmount: a reader of its own) mount by mount: ids, parents,
 *    devices, types and mount points;
 *  - crafted lines: optional fields before " - ", \ooo escapes in mount
 *    points, an empty source, super options with spaces; malformed lines
 *    (and a few thousand mutated ones) give -EINVAL and an empty table;
 *  - which mounts are a user's FUSE (user_id=N, N != 0, or none), by
 *    device and by the mount points above a path;
 *  - the reader: a table over its cap is -EFBIG, a FIFO is never opened;
 *  - the symbolizer on fake /proc trees: a file on a user's FUSE device, or
 *    on a device its mount table does not know, or found by a path under a
 *    user's FUSE mount point, is not opened (counted in files_refused,
 *    each cause logged once, its frames keep their mapping); root's FUSE
 *    and memfd's device are opened; a
 *    perf map under a user's FUSE /tmp, or behind a symlinked /tmp, is
 *    refused (perf_maps_refused) and a plain one is read.
 *
 * Needs no root and no FUSE: the system test tests/system/hostile_fuse.sh
 * runs the real thing.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "check.h"
#include "mountinfo.h"
#include "symbolizer.h"

static int parse_str(const char *text, struct mountinfo *m)
{
	return mountinfo_parse(text, strlen(text), m);
}

/* ---- the real table ------------------------------------------------------ */

static void test_real(void)
{
	struct mountinfo m;
	char cmd[128], line[8192];
	size_t seen = 0, same = 0, root = 0;
	FILE *f;
	int rc;

	rc = mountinfo_read(AT_FDCWD, "/proc/self/mountinfo", 4u << 20, &m);
	CHECK(rc == 0 && m.n > 0, "read /proc/self/mountinfo: %d, %zu mounts", rc, m.n);
	for (size_t i = 0; i < m.n; i++)
		root += !strcmp(m.entries[i].mount_point, "/");
	CHECK(root >= 1, "a mount at /");

	/* findmnt -r prints one mount a line, fields separated by spaces,
	 * with spaces and other specials as \x20 in the mount point. */
	snprintf(cmd, sizeof(cmd),
		 "findmnt --task %d -rn -o ID,PARENT,MAJ:MIN,FSTYPE,TARGET 2>/dev/null",
		 (int)getpid());
	f = popen(cmd, "r");
	if (!f) {
		CHECK(false, "popen findmnt");
		mountinfo_free(&m);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		uint64_t id, parent;
		unsigned major, minor;
		char type[256], target[4096];

		if (sscanf(line, "%" SCNu64 " %" SCNu64 " %u:%u %255s %4095s", &id, &parent,
			   &major, &minor, type, target) != 6)
			continue;
		seen++;
		for (size_t i = 0; i < m.n; i++) {
			const struct mountinfo_entry *e = &m.entries[i];

			if (e->mount_id != id)
				continue;
			/* mounts may come and go between the two reads: only
			 * the same mount (id) is compared */
			CHECK(e->parent_id == parent && e->dev_major == major &&
				      e->dev_minor == minor && !strcmp(e->fstype, type) &&
				      (strstr(target, "\\x") || !strcmp(e->mount_point, target)),
			      "mount %" PRIu64 ": ours %" PRIu64 " %u:%u %s %s, findmnt's %s", id,
			      e->parent_id, e->dev_major, e->dev_minor, e->fstype, e->mount_point,
			      line);
			same++;
		}
	}
	pclose(f);
	printf("real table: %zu mounts, findmnt %zu, %zu compared\n", m.n, seen, same);
	CHECK(seen == 0 || same * 10 >= seen * 9, "findmnt's mounts found: %zu of %zu", same,
	      seen);
	mountinfo_free(&m);
}

/* ---- crafted lines ------------------------------------------------------- */

static void test_crafted(void)
{
	static const char text[] =
		"36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n"
		"37 36 0:44 / /home/u/with\\040space\\011tab\\134back rw shared:7 master:2 propagate_from:3 - fuse.sshfs host:/ rw,user_id=1000,group_id=1000\n"
		"38 36 0:45 /sub /srv rw - tmpfs  rw,size=4k\n"
		"39 36 0:46 / /odd\\012nl ro,nosuid - fuse.lxcfs lxcfs rw,user_id=0,group_id=0\n"
		"40 36 0:47 / /opts\\040here rw - ext4 /dev/x rw,weird opt with spaces";
	struct mountinfo m;
	int rc = parse_str(text, &m);

	CHECK(rc == 0 && m.n == 5, "crafted: rc %d, %zu mounts", rc, m.n);
	if (rc || m.n != 5)
		return;
	CHECK(m.entries[0].mount_id == 36 && m.entries[0].parent_id == 35 &&
		      m.entries[0].dev_major == 98 && m.entries[0].dev_minor == 0,
	      "numbers");
	CHECK(!strcmp(m.entries[0].root, "/mnt1") &&
		      !strcmp(m.entries[0].mount_point, "/mnt/parent") &&
		      !strcmp(m.entries[0].fstype, "ext3") &&
		      !strcmp(m.entries[0].super_opts, "rw,errors=continue"),
	      "strings: %s %s %s %s", m.entries[0].root, m.entries[0].mount_point,
	      m.entries[0].fstype, m.entries[0].super_opts);
	CHECK(!strcmp(m.entries[1].mount_point, "/home/u/with space\ttab\\back"),
	      "escapes: '%s'", m.entries[1].mount_point);
	CHECK(!strcmp(m.entries[1].fstype, "fuse.sshfs") &&
		      !strcmp(m.entries[1].super_opts, "rw,user_id=1000,group_id=1000"),
	      "after three optional fields: %s %s", m.entries[1].fstype, m.entries[1].super_opts);
	CHECK(!strcmp(m.entries[2].root, "/sub") && !strcmp(m.entries[2].fstype, "tmpfs") &&
		      !strcmp(m.entries[2].super_opts, "rw,size=4k"),
	      "empty source: %s '%s'", m.entries[2].fstype, m.entries[2].super_opts);
	CHECK(!strcmp(m.entries[3].mount_point, "/odd\nnl"), "escaped newline");
	CHECK(!strcmp(m.entries[4].super_opts, "rw,weird opt with spaces"),
	      "super options to the end of the line without '\\n': '%s'",
	      m.entries[4].super_opts);
	CHECK(m.bytes >= 5 * sizeof(*m.entries), "memory accounted: %zu", m.bytes);

	CHECK(!mountinfo_user_fuse(&m.entries[0]), "ext3 is not FUSE");
	CHECK(mountinfo_user_fuse(&m.entries[1]), "a user's sshfs");
	CHECK(!mountinfo_user_fuse(&m.entries[3]), "root's lxcfs");
	CHECK(mountinfo_by_dev(&m, 0, 44) == &m.entries[1], "by device");
	CHECK(mountinfo_by_dev(&m, 0, 45) == &m.entries[2], "by device, not FUSE");
	CHECK(!mountinfo_by_dev(&m, 0, 99), "an unknown device");
	CHECK(mountinfo_user_fuse_above(&m, "/home/u/with space\ttab\\back/bin/x") ==
		      &m.entries[1],
	      "a path under the user's mount point");
	CHECK(mountinfo_user_fuse_above(&m, "/home/u/with space\ttab\\back") == &m.entries[1],
	      "the mount point itself");
	CHECK(!mountinfo_user_fuse_above(&m, "/home/u/with space\ttab\\backup/x"),
	      "a sibling with the mount point as a prefix of its name");
	CHECK(!mountinfo_user_fuse_above(&m, "/odd\nnl/x"), "under root's FUSE");
	mountinfo_free(&m);
	CHECK(!m.entries && !m.n && !m.arena, "freed");

	CHECK(parse_str("", &m) == 0 && m.n == 0, "empty input");
	CHECK(parse_str("1 0 0:1 / / rw - rootfs rootfs rw\n", &m) == 0 && m.n == 1,
	      "one line");
	mountinfo_free(&m);
}

/* Which super options and types make a user's FUSE. */
static void test_user_fuse(void)
{
	static const struct {
		const char *type, *opts;
		bool user;
	} cases[] = {
		{ "fuse", "rw,user_id=1000,group_id=1000", true },
		{ "fuseblk", "rw,user_id=65534,group_id=65534", true },
		{ "fuse.portal", "rw,user_id=0,group_id=0", false },
		{ "fuse", "rw,user_id=0", false },
		{ "fuse", "rw", true },                   /* no user_id: not known to be root's */
		{ "fuse", "rw,user_id=", true },
		{ "fuse", "rw,user_id=0x", true },
		{ "fuse", "rw,user_id=0,user_id=5", true },
		{ "fuse", "rw,xuser_id=0", true },
		{ "fuse", "user_id=00", false },
		{ "fuse", "rw,user_id=99999999999999999999999", true },
		{ "fusectl", "rw", false },               /* the control fs */
		{ "fuse2", "rw", false },
		{ "ext4", "rw,user_id=1000", false },
		{ "virtiofs", "rw", false },               /* a host daemon */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mountinfo_entry e = { .fstype = cases[i].type, .super_opts = cases[i].opts };

		CHECK(mountinfo_user_fuse(&e) == cases[i].user, "%s %s: %d", cases[i].type,
		      cases[i].opts, !cases[i].user);
	}
}

static void test_malformed(void)
{
	static const char *const bad[] = {
		"36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 ext3 /dev/root rw\n", /* no " - " */
		"36 35 98:0 /mnt1 /mnt/parent - ext3 /dev/root rw\n",  /* no options */
		"36 35 98:0 /mnt1 /mnt/parent rw -\n",
		"36 35 98:0 /mnt1 /mnt/parent rw - ext3\n",
		"36 35 98:0 /mnt1 /mnt/parent rw - ext3 /dev/root\n",   /* no super options field */
		"36 35 98:0 /mnt1\n",
		"36 35 98 /mnt1 /m rw - ext3 x rw\n",
		"x 35 98:0 /mnt1 /m rw - ext3 x rw\n",
		"36 35 4294967296:0 / /m rw - ext3 x rw\n",
		"36 35 0:4294967296 / /m rw - ext3 x rw\n",
		"99999999999999999999 35 0:1 / /m rw - ext3 x rw\n",
		"36 35 0:1  /m rw - ext3 x rw\n",                      /* empty root */
		"36 35 0:1 / /m rw -  x rw\n",                         /* empty type */
		"36 35 0:1 / /a\\000b rw - ext3 x rw\n",               /* a NUL */
		"36 35 0:1 / /m rw - ext3 x rw\n\n",                   /* an empty line */
		"36 35 0:1 / /m rw - ext3 x rw\n37 36 0:2 / /n rw - ext3\n",
	};
	struct mountinfo m;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse_str(bad[i], &m);

		CHECK(rc == -EINVAL && m.n == 0 && !m.entries && !m.arena, "bad %zu: rc %d n %zu",
		      i, rc, m.n);
		mountinfo_free(&m);
	}
	CHECK(mountinfo_parse("1 0 0:1 / / rw - x y rw\0", 24, &m) == -EINVAL, "a NUL byte");
	CHECK(mountinfo_parse(NULL, 3, &m) == -EINVAL, "NULL buffer");
}

/* Mutations of a real line: 0 or -EINVAL, never a crash (ASan), and every
 * string of a parsed entry ends inside its arena. */
static void test_mutated(void)
{
	static const char seed[] = "37 36 0:44 / /home/u/with\\040space rw,nosuid shared:7 - "
				   "fuse.sshfs host:/ rw,user_id=1000,group_id=1000\n"
				   "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard\n";
	static const char alphabet[] = " -:\\\n0123457/abfuse.";
	char buf[sizeof(seed) + 8];
	int ok = 0, bad = 0;

	srand(11);
	for (int round = 0; round < 5000; round++) {
		size_t len = sizeof(seed) - 1 - (size_t)(rand() % 8);
		struct mountinfo m;
		int rc;

		memcpy(buf, seed, sizeof(seed));
		for (int k = rand() % 4; k >= 0; k--)
			buf[rand() % (int)len] = alphabet[rand() % (int)(sizeof(alphabet) - 1)];
		rc = mountinfo_parse(buf, len, &m);
		CHECK(rc == 0 || (rc == -EINVAL && m.n == 0), "mutated %d: rc %d", round, rc);
		for (size_t i = 0; i < m.n; i++) {
			const struct mountinfo_entry *e = &m.entries[i];

			(void)(strlen(e->root) + strlen(e->mount_point) + strlen(e->fstype) +
			       strlen(e->super_opts));
			(void)mountinfo_user_fuse(e);
		}
		(void)mountinfo_user_fuse_above(&m, "/home/u/with space/x");
		ok += rc == 0;
		bad += rc != 0;
		mountinfo_free(&m);
	}
	printf("mutated: %d parsed, %d refused\n", ok, bad);
	CHECK(ok > 0 && bad > 0, "both outcomes seen");
}

/* ---- the reader -------------------------------------------------------- */

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f))
		abort();
}

static void test_reader(const char *tmp)
{
	char path[PATH_MAX], big[4096];
	struct mountinfo m;
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/big", tmp);
	f = fopen(path, "w");
	if (!f)
		abort();
	for (int i = 0; i < 64; i++) {
		snprintf(big, sizeof(big), "%d 1 0:%d / /m%d rw - tmpfs x rw\n", i + 2, i, i);
		fputs(big, f);
	}
	fclose(f);
	rc = mountinfo_read(AT_FDCWD, path, 1 << 20, &m);
	CHECK(rc == 0 && m.n == 64, "under the cap: rc %d n %zu", rc, m.n);
	mountinfo_free(&m);
	rc = mountinfo_read(AT_FDCWD, path, 512, &m);
	CHECK(rc == -EFBIG && m.n == 0, "over the cap: rc %d", rc);

	snprintf(path, sizeof(path), "%s/fifo", tmp);
	if (mkfifo(path, 0600))
		abort();
	rc = mountinfo_read(AT_FDCWD, path, 1 << 20, &m); /* would block if opened */
	CHECK(rc == -EINVAL, "a FIFO is not read: rc %d", rc);
	CHECK(mountinfo_read(AT_FDCWD, "/nonexistent/mountinfo", 1 << 20, &m) == -ENOENT,
	      "missing");
}

/* ---- the symbolizer on fake /proc trees --------------------------------- */

static int warnings;
static char last_warning[1024];

static void count_print(enum sym_log_level level, const char *msg)
{
	if (level == SYM_LOG_WARN) {
		warnings++;
		snprintf(last_warning, sizeof(last_warning), "%s", msg);
	}
}

struct fake {
	char proc[PATH_MAX];
	char exe[PATH_MAX]; /* an ELF file with symbols: this test */
	struct stat exe_st;
	pid_t next_pid;
};

/* A fake /proc/PID: maps (one line), mountinfo (NULL: none), status, and
 * root -> root_target. Returns the pid. */
static pid_t fake_process(struct fake *f, const char *maps, const char *mountinfo,
			  const char *root_target)
{
	char path[PATH_MAX + 64], status[128];
	pid_t pid = f->next_pid++;

	snprintf(path, sizeof(path), "%s/%d", f->proc, (int)pid);
	if (mkdir(path, 0755))
		abort();
	snprintf(path, sizeof(path), "%s/%d/maps", f->proc, (int)pid);
	write_file(path, maps);
	if (mountinfo) {
		snprintf(path, sizeof(path), "%s/%d/mountinfo", f->proc, (int)pid);
		write_file(path, mountinfo);
	}
	snprintf(path, sizeof(path), "%s/%d/status", f->proc, (int)pid);
	snprintf(status, sizeof(status), "Uid:\t%d\t%d\t%d\t%d\nNSpid:\t%d\n", (int)getuid(),
		 (int)getuid(), (int)getuid(), (int)getuid(), (int)pid);
	write_file(path, status);
	snprintf(path, sizeof(path), "%s/%d/root", f->proc, (int)pid);
	if (symlink(root_target, path))
		abort();
	return pid;
}

#define EXE_BASE UINT64_C(0x500000000000)

/* A maps line mapping all of f->exe executable, as device dev. */
static void exe_line(const struct fake *f, const char *dev, char *out, size_t size)
{
	uint64_t len = ((uint64_t)f->exe_st.st_size + 0xfff) & ~UINT64_C(0xfff);

	snprintf(out, size, "%" PRIx64 "-%" PRIx64 " r-xp 00000000 %s %lu   %s\n", EXE_BASE,
		 EXE_BASE + len, dev, (unsigned long)f->exe_st.st_ino, f->exe);
}

static struct symbolizer_stats stats_of(struct symbolizer *s)
{
	struct symbolizer_stats st = { .sz = sizeof(st) };

	if (symbolizer_get_stats(s, &st))
		abort();
	return st;
}

/* Tracks pid and resolves an address of its file: whether it has symbols. */
static bool exe_named(struct symbolizer *s, pid_t pid)
{
	struct sym_location loc;
	int rc = symbolizer_track_process(s, pid);

	CHECK(rc == 0, "track fake %d: %d", (int)pid, rc);
	rc = symbolizer_resolve_user(s, pid, EXE_BASE + 0x10, &loc);
	CHECK(rc == 0 && loc.mapping, "fake %d: rc %d, no mapping: frames lose it", (int)pid, rc);
	return rc == 0 && loc.mapping && loc.mapping->has_functions;
}

static void test_symbolizer_files(struct fake *f)
{
	struct symbolizer_opts opts = { .sz = sizeof(opts), .proc_dir = f->proc };
	char maps[PATH_MAX + 128], mounts[PATH_MAX + 256], dir[PATH_MAX];
	struct symbolizer *s;
	uint64_t refused;
	pid_t pid;

	snprintf(dir, sizeof(dir), "%s", f->exe);
	*strrchr(dir, '/') = '\0';
	if (symbolizer_new(&opts, &s))
		abort();
	warnings = 0;

	/* 1. On a device its mount table calls a user's FUSE: not opened. */
	exe_line(f, "00:2a", maps, sizeof(maps));
	pid = fake_process(f, maps,
			   "20 1 254:0 / / rw - ext4 /dev/vda rw\n"
			   "21 20 0:42 / /home/u/mnt rw - fuse.evil evil rw,user_id=1000,group_id=1000\n",
			   "/");
	CHECK(!exe_named(s, pid), "a user's FUSE file was opened");
	refused = stats_of(s).files_refused;
	CHECK(refused == 1, "files_refused %" PRIu64 ", want 1", refused);
	CHECK(warnings == 1 && strstr(last_warning, "served by a user's FUSE daemon"),
	      "one warning: %d, '%s'", warnings, last_warning);
	pid = fake_process(f, maps,
			   "21 20 0:42 / /home/u/mnt rw - fuse.evil evil rw,user_id=1000,group_id=1000\n",
			   "/");
	CHECK(!exe_named(s, pid), "a user's FUSE file was opened, the second time");
	CHECK(warnings == 1, "a cause is logged once: %d warnings", warnings);

	/* 2. The same device, root's FUSE (lxcfs, an admin's sshfs): opened. */
	pid = fake_process(f, maps,
			   "21 20 0:42 / /var/lib/lxcfs rw - fuse.lxcfs lxcfs rw,user_id=0,group_id=0\n",
			   "/");
	CHECK(exe_named(s, pid), "root's FUSE file was not opened");

	/* 3. A major-0 device the table does not know (a detached mount)... */
	pid = fake_process(f, maps, "20 1 254:0 / / rw - ext4 /dev/vda rw\n", "/");
	CHECK(!exe_named(s, pid), "a file on an unknown major-0 device was opened");
	/* ... but for memfd's (and SysV shm's) internal tmpfs. */
	{
		int fd = memfd_create("test", MFD_CLOEXEC);
		struct stat st;
		char dev[32];

		if (fd < 0 || fstat(fd, &st))
			abort();
		close(fd);
		snprintf(dev, sizeof(dev), "%02x:%02x", major(st.st_dev), minor(st.st_dev));
		exe_line(f, dev, maps, sizeof(maps));
		pid = fake_process(f, maps, "20 1 254:0 / / rw - ext4 /dev/vda rw\n", "/");
		CHECK(exe_named(s, pid), "a file on memfd's device (%s) was not opened", dev);
	}

	/* 4. Found by its path (no map_files here) under a user's FUSE mount
	 * point, though its own device is not FUSE's (mounted over since). */
	exe_line(f, "fe:01", maps, sizeof(maps));
	snprintf(mounts, sizeof(mounts),
		 "20 1 254:0 / / rw - ext4 /dev/vda rw\n"
		 "22 20 0:43 / %s rw - fuse rw rw,user_id=65534,group_id=65534\n", dir);
	pid = fake_process(f, maps, mounts, "/");
	CHECK(!exe_named(s, pid), "a path under a user's FUSE mount point was opened");

	/* 5. Its table over the cap (4 MiB) or unreadable: not opened. A
	 * directory as mountinfo cannot be read. */
	pid = fake_process(f, maps, NULL, "/");
	{
		char path[PATH_MAX + 64];

		snprintf(path, sizeof(path), "%s/%d/mountinfo", f->proc, (int)pid);
		if (mkdir(path, 0755))
			abort();
	}
	CHECK(!exe_named(s, pid), "a path fallback without a mount table was opened");

	/* 6. The control: the same path, no FUSE above it. */
	pid = fake_process(f, maps, "20 1 254:0 / / rw - ext4 /dev/vda rw\n", "/");
	CHECK(exe_named(s, pid), "a plain file was not opened");

	refused = stats_of(s).files_refused;
	CHECK(refused == 5, "files_refused %" PRIu64 ", want 5", refused);
	CHECK(warnings == 4, "each of 4 causes logged once: %d warnings", warnings);
	symbolizer_free(s);
}

#define JIT_BASE UINT64_C(0x600000000000)

/* A process spinning in anonymous code at JIT_BASE, root root_target, its
 * perf map there saying "jitted_fn"; whether that name is used. */
static bool jit_named(struct fake *f, struct symbolizer *s, const char *mountinfo,
		      const char *root_target)
{
	char maps[128], path[PATH_MAX + 64];
	struct sym_location loc;
	pid_t pid = f->next_pid;
	int rc;

	snprintf(maps, sizeof(maps), "%" PRIx64 "-%" PRIx64 " r-xp 00000000 00:00 0\n",
		 JIT_BASE, JIT_BASE + 0x1000);
	snprintf(path, sizeof(path), "%s/tmp/perf-%d.map", root_target, (int)pid);
	{
		char line[64];

		snprintf(line, sizeof(line), "%" PRIx64 " 100 jitted_fn\n", JIT_BASE);
		write_file(path, line);
	}
	fake_process(f, maps, mountinfo, root_target);
	rc = symbolizer_track_process(s, pid);
	CHECK(rc == 0, "track fake %d: %d", (int)pid, rc);
	rc = symbolizer_resolve_user(s, pid, JIT_BASE + 0x10, &loc);
	return rc == 0 && loc.nframes == 1 && !strcmp(loc.frames[0].function, "jitted_fn");
}

static void test_symbolizer_perf_maps(struct fake *f, const char *tmp)
{
	struct symbolizer_opts opts = { .sz = sizeof(opts), .proc_dir = f->proc };
	char root[PATH_MAX], linked[PATH_MAX], path[PATH_MAX + 16];
	struct symbolizer *s;
	uint64_t refused;

	snprintf(root, sizeof(root), "%s/root", tmp);
	snprintf(linked, sizeof(linked), "%s/linked", tmp);
	snprintf(path, sizeof(path), "%s/tmp", root);
	if (mkdir(root, 0755) || mkdir(path, 0755) || mkdir(linked, 0755))
		abort();
	snprintf(path, sizeof(path), "%s/elsewhere", linked);
	if (mkdir(path, 0755))
		abort();
	snprintf(path, sizeof(path), "%s/tmp", linked);
	if (symlink("elsewhere", path))
		abort();
	if (symbolizer_new(&opts, &s))
		abort();

	CHECK(jit_named(f, s, "1 0 254:0 / / rw - ext4 x rw\n", root),
	      "the control: a plain perf map is read");
	CHECK(!jit_named(f, s,
			 "1 0 254:0 / / rw - ext4 x rw\n"
			 "2 1 0:50 / /tmp rw - fuse.x x rw,user_id=1000\n",
			 root),
	      "a perf map under a user's FUSE /tmp was read");
	CHECK(!jit_named(f, s, "1 0 254:0 / / rw - ext4 x rw\n"
			       "2 1 0:50 / /elsewhere rw - fuse.x x rw,user_id=1000\n", linked),
	      "a perf map behind a symlinked /tmp (into a FUSE mount) was read");
	CHECK(jit_named(f, s, "1 0 254:0 / / rw - ext4 x rw\n"
			      "2 1 0:50 / /tmp rw - fuse.x x rw,user_id=0\n", root),
	      "a perf map under root's FUSE /tmp was not read");
	refused = stats_of(s).perf_maps_refused;
	CHECK(refused == 2, "perf_maps_refused %" PRIu64 ", want 2", refused);
	symbolizer_free(s);
}

int main(void)
{
	char tmp[] = "/tmp/test_mountinfo.XXXXXX";
	struct fake f = { .next_pid = 4300 };
	char cmd[64];

	if (!mkdtemp(tmp))
		abort();
	symbolizer_set_print(count_print);
	test_real();
	test_crafted();
	test_user_fuse();
	test_malformed();
	test_mutated();
	test_reader(tmp);

	snprintf(f.proc, sizeof(f.proc), "%s/proc", tmp);
	if (mkdir(f.proc, 0755) || !realpath("/proc/self/exe", f.exe) || stat(f.exe, &f.exe_st))
		abort();
	test_symbolizer_files(&f);
	test_symbolizer_perf_maps(&f, tmp);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", tmp);
	return check_summary();
}
