/* test_spool.c - unit test of profiler/upload/spool.c (the on-disk upload queue).
 *
 * Each case works in a fresh directory under /tmp: FIFO order through
 * push/peek/remove; a restart (close + open) that finds the pending entries
 * in order and continues the numbering; one process per spool (-EBUSY); the
 * byte cap dropping the oldest and counting; an entry larger than the cap;
 * leftover temp files (only the names atomic_file and older spools make) and corrupt or
 * truncated entries cleaned up while unrelated files are left alone; set-aside into rejected/ with its reason
 * and its own cap; files planted by a hostile user - a .lock or a .tmp-*
 * that is a symlink to a root-only file (never written, truncated or
 * created through), a spool dir that is a symlink, another user's or
 * writable by others (refused), an entry that is a symlink or a FIFO
 * (skipped and deleted without being read or blocking); and a fuzz loop over
 * spool_entry_parse with mutated entries (with and without a fixed-up CRC)
 * that must never crash, and must return either 0 with sane contents or
 * -EBADMSG.
 */
#include "check.h"
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define FROM0 1700000000

static const struct ingest_label labels[] = {
	{ "host", "web-1" },
	{ "env", "prod" },
};

static struct ingest_meta meta(int i)
{
	return (struct ingest_meta){
		.service = "svc",
		.labels = labels,
		.nlabels = 2,
		.from = FROM0 + 10 * i,
		.until = FROM0 + 10 * i + 10,
		.sample_rate = 99,
	};
}

static int push(struct spool *s, int i)
{
	char body[64];
	struct ingest_meta m = meta(i);

	snprintf(body, sizeof(body), "gzipped-pprof-%d", i);
	return spool_push(s, &m, body, strlen(body));
}

/* Peek must give entry i (as pushed by push()). Returns its seq, 0 if not. */
static uint64_t expect_oldest(struct spool *s, int i)
{
	struct spool_entry e;
	char body[64];
	int ret = spool_peek_oldest(s, &e);
	uint64_t seq;

	CHECK(ret == 0, "peek for entry %d: %d", i, ret);
	if (ret)
		return 0;
	snprintf(body, sizeof(body), "gzipped-pprof-%d", i);
	CHECK(e.body_len == strlen(body) && !memcmp(e.body, body, e.body_len),
	      "entry %d: body %.*s", i, (int)e.body_len, (const char *)e.body);
	CHECK(e.meta.from == FROM0 + 10 * i && e.meta.until == FROM0 + 10 * i + 10,
	      "entry %d: from %lld", i, (long long)e.meta.from);
	CHECK(!strcmp(e.meta.service, "svc") && e.meta.nlabels == 2 &&
		      !strcmp(e.meta.labels[1].key, "env") &&
		      !strcmp(e.meta.labels[1].value, "prod") &&
		      e.meta.sample_rate == 99,
	      "entry %d: metadata", i);
	seq = e.seq;
	spool_entry_free(&e);
	return seq;
}

static void make_dir(char *dir)
{
	strcpy(dir, "/tmp/test_spool.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(1);
	}
}

static void remove_tree(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", dir);
}

static void write_file(const char *dir, const char *name, const void *buf, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	CHECK(f && fwrite(buf, 1, len, f) == len, "write %s", path);
	if (f)
		fclose(f);
}

static bool exists(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

/* A root-only file with known bytes: what a planted link points at. */
struct target {
	char path[128];
	struct stat st;
};

static void make_target(struct target *t, const char *dir, const char *name)
{
	snprintf(t->path, sizeof(t->path), "%s/%s", dir, name);
	write_file(dir, name, "root only\n", 10);
	CHECK(chmod(t->path, 0600) == 0 && stat(t->path, &t->st) == 0, "target %s", t->path);
}

/* The target has the same inode, size, mode, contents and times. */
static void check_target(const struct target *t, const char *what)
{
	struct stat st;
	char buf[64] = { 0 };
	int fd = open(t->path, O_RDONLY);

	CHECK(fd >= 0 && read(fd, buf, sizeof(buf)) == 10 && !memcmp(buf, "root only\n", 10),
	      "%s: target's contents changed: '%s'", what, buf);
	if (fd >= 0)
		close(fd);
	CHECK(stat(t->path, &st) == 0 && st.st_ino == t->st.st_ino && st.st_size == 10 &&
		      st.st_mode == t->st.st_mode &&
		      st.st_mtim.tv_sec == t->st.st_mtim.tv_sec &&
		      st.st_mtim.tv_nsec == t->st.st_mtim.tv_nsec,
	      "%s: target modified", what);
}

static void plant_link(const char *target, const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	CHECK(symlink(target, path) == 0, "symlink %s", path);
}

static void on_alarm(int sig)
{
	(void)sig;
	fprintf(stderr, "FAIL: the spool blocked on a FIFO\n");
	_exit(1);
}

static void test_hostile_files(void)
{
	char top[64], dir[96], other[96], aside[96], name[160];
	struct target t;
	struct spool *s;
	struct spool_entry e;
	struct spool_stats st;
	struct stat sb;
	int ret;

	make_dir(top);
	snprintf(dir, sizeof(dir), "%s/spool", top);
	make_target(&t, top, "secret");
	fprintf(stderr, "--- hostile files: the error lines below are expected ---\n");

	/* .lock a link to the root-only file, or to where a file would be
	 * created: refused, nothing written or created through it */
	CHECK(mkdir(dir, 0700) == 0, "mkdir %s", dir);
	plant_link(t.path, dir, ".lock");
	ret = spool_open(dir, 1 << 20, &s);
	CHECK(ret < 0, ".lock symlink to a file accepted: %d", ret);
	if (!ret)
		spool_close(s);
	check_target(&t, ".lock symlink");
	snprintf(name, sizeof(name), "%s/created", top);
	plant_link(name, dir, ".lock");
	ret = spool_open(dir, 1 << 20, &s);
	CHECK(ret < 0 && access(name, F_OK) != 0, "dangling .lock symlink followed: %d", ret);
	if (!ret)
		spool_close(s);
	unlinkat(AT_FDCWD, name, 0);
	snprintf(name, sizeof(name), "%s/.lock", dir);
	unlink(name);

	/* a .tmp-* link planted while the spool is open (a crash's leftovers
	 * are removed at open): the push goes around it */
	CHECK(spool_open(dir, 1 << 20, &s) == 0, "open %s", dir);
	plant_link(t.path, dir, ".tmp-00000000000000000001.spool");
	CHECK(push(s, 0) == 0, "push past a planted .tmp-* link");
	check_target(&t, ".tmp-* symlink");
	snprintf(name, sizeof(name), "%s/00000000000000000001.spool", dir);
	CHECK(lstat(name, &sb) == 0 && S_ISREG(sb.st_mode), "the entry is a file of its own");

	/* an entry swapped for a link to a copy of a valid entry in a root-only
	 * file, or for a FIFO: neither is read, both go as corrupt */
	snprintf(other, sizeof(other), "%s/copy", top);
	CHECK(rename(name, other) == 0 && chmod(other, 0600) == 0, "move entry");
	CHECK(symlink(other, name) == 0, "entry symlink");
	CHECK(push(s, 1) == 0, "push 1");
	CHECK(spool_peek_oldest(s, &e) == 0 && e.meta.from == FROM0 + 10,
	      "a linked entry was read: from %lld", (long long)e.meta.from);
	CHECK(spool_remove(s, e.seq) == 0, "remove");
	spool_entry_free(&e);
	CHECK(access(other, F_OK) == 0, "the link's target was deleted");
	CHECK(push(s, 2) == 0, "push 2");
	snprintf(name, sizeof(name), "%s/00000000000000000003.spool", dir);
	CHECK(unlink(name) == 0 && mkfifo(name, 0600) == 0, "entry FIFO");
	signal(SIGALRM, on_alarm);
	alarm(5);
	CHECK(spool_peek_oldest(s, &e) == -ENOENT, "FIFO entry not skipped");
	alarm(0);
	spool_get_stats(s, &st);
	CHECK(st.corrupt == 2 && access(name, F_OK) != 0, "corrupt %llu",
	      (unsigned long long)st.corrupt);
	spool_close(s);

	/* entries that are links or FIFOs at open are not even indexed */
	plant_link(other, dir, "00000000000000000007.spool");
	snprintf(name, sizeof(name), "%s/00000000000000000008.spool", dir);
	CHECK(mkfifo(name, 0600) == 0, "FIFO");
	CHECK(spool_open(dir, 1 << 20, &s) == 0, "reopen");
	alarm(5);
	CHECK(spool_peek_oldest(s, &e) == -ENOENT, "planted entries indexed");
	alarm(0);
	spool_close(s);

	/* the spool dir or rejected/ a link, world-writable, another user's */
	snprintf(name, sizeof(name), "%s/link", top);
	CHECK(symlink(dir, name) == 0, "symlink");
	CHECK(spool_open(name, 1 << 20, &s) == -ELOOP, "spool dir symlink accepted");
	snprintf(name, sizeof(name), "%s/rejected", dir);
	snprintf(aside, sizeof(aside), "%s/rejected.real", top);
	CHECK(rename(name, aside) == 0 && symlink(top, name) == 0, "rejected/ symlink");
	CHECK(spool_open(dir, 1 << 20, &s) == -ELOOP, "rejected/ symlink accepted");
	CHECK(unlink(name) == 0 && rename(aside, name) == 0, "rejected/ back");
	CHECK(chmod(dir, 0777) == 0, "chmod");
	CHECK(spool_open(dir, 1 << 20, &s) == -EPERM, "world-writable spool accepted");
	CHECK(chmod(dir, 0770) == 0, "chmod");
	CHECK(spool_open(dir, 1 << 20, &s) == -EPERM, "group-writable spool accepted");
	CHECK(chmod(dir, 0700) == 0, "chmod");
	if (geteuid() == 0) {
		CHECK(chown(dir, 65534, 65534) == 0, "chown nobody");
		CHECK(spool_open(dir, 1 << 20, &s) == -EPERM, "nobody's spool accepted");
		CHECK(chown(dir, 0, 0) == 0, "chown back");
	} else {
		printf("not root: the spool owned by another user is not tried\n");
	}
	CHECK(spool_open(dir, 1 << 20, &s) == 0, "the spool is fine again");
	spool_close(s);
	fprintf(stderr, "--- end of expected errors ---\n");
	check_target(&t, "the end");
	remove_tree(top);
}

static void test_fifo_and_restart(void)
{
	char dir[64];
	struct spool *s, *other;
	struct spool_stats st;
	uint64_t seq;

	make_dir(dir);
	CHECK(spool_open(dir, 1 << 20, &s) == 0, "open %s", dir);
	CHECK(spool_peek_oldest(s, &(struct spool_entry){ 0 }) == -ENOENT,
	      "empty spool peek");
	for (int i = 0; i < 3; i++)
		CHECK(push(s, i) == 0, "push %d", i);
	CHECK(exists(dir, "00000000000000000001.spool"), "first entry's name");
	seq = expect_oldest(s, 0);
	CHECK(expect_oldest(s, 0) == seq, "peek without remove gives the same entry");
	CHECK(spool_remove(s, seq) == 0, "remove %llu", (unsigned long long)seq);
	CHECK(spool_remove(s, seq) == -ENOENT, "second remove");
	CHECK(spool_open(dir, 1 << 20, &other) == -EBUSY, "a second open must fail");

	/* restart: entries 1 and 2 wait; numbering continues */
	spool_close(s);
	CHECK(spool_open(dir, 1 << 20, &s) == 0, "reopen");
	spool_get_stats(s, &st);
	CHECK(st.entries == 2 && st.bytes > 0, "after restart: %llu entries",
	      (unsigned long long)st.entries);
	CHECK(push(s, 3) == 0, "push after restart");
	CHECK(exists(dir, "00000000000000000004.spool"), "numbering continued");
	for (int i = 1; i <= 3; i++)
		CHECK(spool_remove(s, expect_oldest(s, i)) == 0, "remove %d", i);
	spool_get_stats(s, &st);
	CHECK(st.entries == 0 && st.bytes == 0, "empty again: %llu bytes",
	      (unsigned long long)st.bytes);
	spool_close(s);

	/* missing parents are created */
	strcat(dir, "/a/b");
	CHECK(spool_open(dir, 1 << 20, &s) == 0 && push(s, 0) == 0, "open %s", dir);
	spool_close(s);
	dir[strlen(dir) - 4] = '\0';
	remove_tree(dir);
}

static void test_cap(void)
{
	char dir[64];
	struct spool *s;
	struct spool_stats st;
	uint64_t one;
	char big[4096] = { 0 };
	struct ingest_meta m = meta(0);

	make_dir(dir);
	CHECK(spool_open(dir, 1 << 20, &s) == 0, "open");
	push(s, 0);
	spool_get_stats(s, &st);
	one = st.bytes;
	spool_close(s);

	/* room for three entries of this size */
	CHECK(spool_open(dir, 3 * one + one / 2, &s) == 0, "reopen with a cap");
	for (int i = 1; i < 6; i++)
		CHECK(push(s, i) == 0, "push %d", i);
	spool_get_stats(s, &st);
	CHECK(st.entries == 3 && st.dropped == 3 && st.dropped_bytes == 3 * one &&
		      st.bytes <= 3 * one + one / 2,
	      "cap: %llu entries, %llu dropped", (unsigned long long)st.entries,
	      (unsigned long long)st.dropped);
	CHECK(spool_remove(s, expect_oldest(s, 3)) == 0, "oldest kept is 3");
	CHECK(spool_push(s, &m, big, sizeof(big)) == -EFBIG, "larger than the cap");
	spool_get_stats(s, &st);
	CHECK(st.dropped == 4 && st.entries == 2, "too big counted as dropped");
	spool_close(s);
	remove_tree(dir);
}

static void test_leftovers_and_corruption(void)
{
	char dir[64], name[128];
	struct spool *s;
	struct spool_stats st;
	void *copy;
	size_t len;
	int fd;

	make_dir(dir);
	CHECK(spool_open(dir, 1 << 20, &s) == 0, "open");
	for (int i = 0; i < 4; i++)
		push(s, i);
	spool_close(s);

	/* entry 1 (seq 2) truncated, entry 2 (seq 3) with a changed byte, a
	 * temp file left by a crash, and a file that is not ours */
	snprintf(name, sizeof(name), "%s/00000000000000000002.spool", dir);
	CHECK(truncate(name, 20) == 0, "truncate");
	snprintf(name, sizeof(name), "%s/00000000000000000003.spool", dir);
	fd = open(name, O_RDWR);
	CHECK(fd >= 0 && pwrite(fd, "X", 1, 40) == 1, "corrupt");
	close(fd);
	copy = malloc(64);
	len = 64;
	memset(copy, 'x', len);
	write_file(dir, ".tmp-00000000000000000009.spool", copy, len);
	write_file(dir, "notes.txt", copy, len);
	write_file(dir, ".tmp-notes", copy, len); /* not a name of ours */
	write_file(dir, ".tmp-0000000000000000009.spool", copy, len);
	write_file(dir, ".00000000000000000008.spool.AbC123", copy, len); /* atomic_file's */
	write_file(dir, ".00000000000000000008.notes.AbC123", copy, len);
	free(copy);

	CHECK(spool_open(dir, 1 << 20, &s) == 0, "reopen");
	CHECK(!exists(dir, ".tmp-00000000000000000009.spool"), "temp file removed");
	CHECK(!exists(dir, ".00000000000000000008.spool.AbC123"), "atomic_file's temp file removed");
	CHECK(exists(dir, ".00000000000000000008.notes.AbC123"), "another temp file removed");
	CHECK(exists(dir, "notes.txt") && exists(dir, ".tmp-notes") &&
		      exists(dir, ".tmp-0000000000000000009.spool"),
	      "unrelated file deleted");
	CHECK(spool_remove(s, expect_oldest(s, 0)) == 0, "entry 0");
	CHECK(spool_remove(s, expect_oldest(s, 3)) == 0, "1 and 2 skipped");
	spool_get_stats(s, &st);
	CHECK(st.corrupt == 2 && st.entries == 0, "corrupt %llu",
	      (unsigned long long)st.corrupt);
	CHECK(!exists(dir, "00000000000000000002.spool") &&
		      !exists(dir, "00000000000000000003.spool"),
	      "corrupt entries deleted");
	spool_close(s);
	remove_tree(dir);
}

static void test_set_aside(void)
{
	char dir[64], rej[96];
	struct spool *s;
	struct spool_stats st;
	uint64_t seq, one;

	make_dir(dir);
	snprintf(rej, sizeof(rej), "%s/rejected", dir);
	CHECK(spool_open(dir, 1 << 20, &s) == 0, "open");
	push(s, 0);
	push(s, 1);
	seq = expect_oldest(s, 0);
	CHECK(spool_set_aside(s, seq, "HTTP 422: bad profile") == 0, "set aside");
	CHECK(spool_set_aside(s, seq, "again") == -ENOENT, "set aside twice");
	CHECK(exists(rej, "00000000000000000001.spool") &&
		      exists(rej, "00000000000000000001.reason") &&
		      !exists(dir, "00000000000000000001.spool"),
	      "moved to rejected/");
	spool_get_stats(s, &st);
	one = st.rejected_bytes;
	CHECK(st.set_aside == 1 && st.rejected_entries == 1 && st.entries == 1,
	      "counters after set-aside");
	CHECK(spool_remove(s, expect_oldest(s, 1)) == 0, "next entry");
	spool_close(s);

	/* rejected/ holds max_bytes / 4: with room for 2, setting aside 4
	 * more keeps the 2 newest. Numbering starts after rejected/'s seq 1. */
	CHECK(spool_open(dir, 8 * one + 4, &s) == 0, "reopen");
	spool_get_stats(s, &st);
	CHECK(st.rejected_entries == 1, "rejected/ indexed at open");
	for (int i = 0; i < 4; i++) {
		push(s, i);
		CHECK(spool_set_aside(s, expect_oldest(s, i), "no") == 0, "set aside %d", i);
	}
	spool_get_stats(s, &st);
	CHECK(st.rejected_entries == 2 && st.rejected_dropped == 3 &&
		      st.rejected_bytes <= 2 * one + 1,
	      "rejected cap: %llu entries, %llu dropped",
	      (unsigned long long)st.rejected_entries,
	      (unsigned long long)st.rejected_dropped);
	CHECK(exists(rej, "00000000000000000004.spool") &&
		      exists(rej, "00000000000000000005.spool") &&
		      exists(rej, "00000000000000000005.reason") &&
		      !exists(rej, "00000000000000000001.reason"),
	      "the newest rejected entries stay");
	spool_close(s);
	remove_tree(dir);
}

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Mutate a copy of a valid entry many ways; the parser may only say 0 (and
 * then everything it points at is readable) or -EBADMSG. */
static void test_fuzz_parser(void)
{
	char dir[64], path[128];
	struct spool *s;
	struct spool_entry e;
	uint8_t *seed, *buf;
	size_t len;
	uint64_t x = 88172645463325252ull;
	int ok = 0, bad = 0, other = 0;
	FILE *f;

	make_dir(dir);
	CHECK(spool_open(dir, 1 << 20, &s) == 0, "open");
	push(s, 7);
	spool_close(s);
	snprintf(path, sizeof(path), "%s/00000000000000000001.spool", dir);
	f = fopen(path, "r");
	seed = malloc(4096);
	len = f ? fread(seed, 1, 4096, f) : 0;
	if (f)
		fclose(f);
	CHECK(len > 40 && spool_entry_parse(seed, len, &e) == 0 && e.body_len == 15,
	      "seed parses (%zu bytes)", len);
	spool_entry_free(&e);
	CHECK(spool_entry_parse(seed, 0, &e) == -EBADMSG &&
		      spool_entry_parse(seed, 11, &e) == -EBADMSG,
	      "short buffers");

	for (int iter = 0; iter < 200000; iter++) {
		size_t n = len, r = rnd(&x);

		switch (r % 4) {
		case 0: /* truncate */
			n = rnd(&x) % (len + 1);
			break;
		case 1: /* extend with junk */
			n = len + rnd(&x) % 64;
			break;
		}
		buf = malloc(n ? n : 1);
		memcpy(buf, seed, n < len ? n : len);
		for (size_t i = len; i < n; i++)
			buf[i] = (uint8_t)rnd(&x);
		for (int k = (int)(rnd(&x) % 4); k >= 0 && n; k--)
			buf[rnd(&x) % n] = (uint8_t)rnd(&x);
		if (r & 8 && n >= 12) { /* make the CRC right to go deeper */
			uint32_t crc = (uint32_t)crc32_z(0, buf, n - 4);

			for (int i = 0; i < 4; i++)
				buf[n - 4 + i] = (uint8_t)(crc >> (8 * i));
		}
		switch (spool_entry_parse(buf, n, &e)) {
		case 0:
			ok++;
			CHECK(e.body >= buf && e.body + e.body_len <= buf + n &&
				      strlen(e.meta.service) < n,
			      "iteration %d: entry out of bounds", iter);
			for (size_t i = 0; i < e.meta.nlabels; i++)
				CHECK(strlen(e.meta.labels[i].key) +
						      strlen(e.meta.labels[i].value) < n,
				      "iteration %d: label", iter);
			spool_entry_free(&e);
			break;
		case -EBADMSG:
			bad++;
			break;
		default:
			other++;
		}
		free(buf);
	}
	CHECK(other == 0 && ok > 100 && bad > 100, "fuzz: %d ok, %d bad, %d other",
	      ok, bad, other);
	printf("fuzz: %d parsed, %d rejected\n", ok, bad);
	free(seed);
	remove_tree(dir);
}

int main(void)
{
	test_fifo_and_restart();
	test_cap();
	test_leftovers_and_corruption();
	test_set_aside();
	test_hostile_files();
	test_fuzz_parser();
	return check_summary();
}
