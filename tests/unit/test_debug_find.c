/* test_debug_find.c - unit tests of symbolizer/debug_find.c.
 *
 * The subjects are the split fixtures of debug_find.cmake (dfix with a
 * build-id, dfix_other of another build, dfix_nobid without a build-id,
 * each as NAME.debug + NAME_stripped). Each case lays out the files it
 * needs in a new directory under one temporary directory, as a
 * distribution or a container would, and asks a finder. A descriptor it
 * returns is checked on its own: build-id (libdwelf), a .debug_info with
 * contents, flags (read-only, close-on-exec, blocking), and the path it
 * says it came from.
 *
 *   test_debug_find                 build-id, debuglink (three places,
 *                                   their order), another build, no DWARF,
 *                                   CRC, a FIFO, a container root,
 *                                   arguments; the libc we run on with the
 *                                   real /usr/lib/debug (libc6-dbg)
 *   test_debug_find --debuginfod S  a real debuginfod server S started
 *                                   here on 127.0.0.1: download, negative
 *                                   cache, server gone, server back, a
 *                                   server that never answers. The server
 *                                   is stopped on every path, and
 *                                   PR_SET_PDEATHSIG kills it if this
 *                                   program dies.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* asprintf, dladdr (the top level defines it too) */
#endif
#include <arpa/inet.h>
#include <dlfcn.h>
#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <gelf.h>
#include <gnu/libc-version.h>
#include <libelf.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "debug_find.h"

#define FIX(name) DFIX_DIR "/" name

static char tmpdir[] = "/tmp/test_debug_find.XXXXXX";

/* ---- helpers ---------------------------------------------------------- */

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0) {
		perror("vasprintf");
		exit(2);
	}
	va_end(ap);
	return s;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* mkdir -p of the directory part of path. */
static void mkparents(const char *path)
{
	char *p = strdup(path);

	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(p, 0755) && errno != EEXIST)
			fprintf(stderr, "mkdir %s: %s\n", p, strerror(errno));
		*s = '/';
	}
	free(p);
}

/* Copies src to dst (parents made), appending `extra` bytes of junk. */
static void copy_file(const char *src, const char *dst, size_t extra)
{
	char buf[65536];
	int in, out;
	ssize_t n;

	mkparents(dst);
	in = open(src, O_RDONLY);
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (in < 0 || out < 0) {
		fprintf(stderr, "copy %s -> %s: %s\n", src, dst, strerror(errno));
		exit(2);
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			break;
	memset(buf, 'x', sizeof(buf));
	if (extra && write(out, buf, extra) != (ssize_t)extra)
		fprintf(stderr, "write %s: %s\n", dst, strerror(errno));
	close(in);
	close(out);
}

static void link_file(const char *target, const char *path)
{
	mkparents(path);
	if (symlink(target, path))
		fprintf(stderr, "symlink %s: %s\n", path, strerror(errno));
}

/* Replaces the first occurrence of from in the file by to (same length). */
static bool patch_bytes(const char *path, const char *from, const char *to)
{
	size_t n = strlen(from), len;
	bool done = false;
	char *buf, *at;
	FILE *fp = fopen(path, "r+b");

	if (!fp || strlen(to) != n)
		return false;
	fseek(fp, 0, SEEK_END);
	len = (size_t)ftell(fp);
	rewind(fp);
	buf = malloc(len);
	if (buf && fread(buf, 1, len, fp) == len && (at = memmem(buf, len, from, n))) {
		fseek(fp, at - buf, SEEK_SET);
		done = fwrite(to, 1, n, fp) == n;
	}
	free(buf);
	return !fclose(fp) && done;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* A new directory T/name (names are not reused). */
static char *fresh_dir(const char *name)
{
	char *d = xasprintf("%s/%s", tmpdir, name);

	mkparents(d);
	mkdir(d, 0755);
	return d;
}

/* An object as the symbolizer would hand it over. */
struct obj {
	int fd;
	Elf *elf;
	uint8_t id[128];
	size_t id_len; /* 0: no build-id */
};

/* Reads the build-id of the ELF file open on fd into id (0 if none). */
static size_t fd_build_id(int fd, uint8_t *id, size_t size)
{
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	const void *p;
	ssize_t n = elf ? dwelf_elf_gnu_build_id(elf, &p) : -1;

	if (n > 0 && (size_t)n <= size)
		memcpy(id, p, n);
	else
		n = 0;
	elf_end(elf);
	return n;
}

static struct obj open_obj(const char *path)
{
	struct obj o = { .fd = open(path, O_RDONLY | O_CLOEXEC) };
	const void *p;
	ssize_t n;

	if (o.fd < 0 || !(o.elf = elf_begin(o.fd, ELF_C_READ, NULL))) {
		fprintf(stderr, "open %s: %s\n", path, strerror(errno));
		exit(2);
	}
	n = dwelf_elf_gnu_build_id(o.elf, &p);
	if (n > 0 && (size_t)n <= sizeof(o.id)) {
		memcpy(o.id, p, n);
		o.id_len = n;
	}
	return o;
}

static void close_obj(struct obj *o)
{
	elf_end(o->elf);
	close(o->fd);
}

static char *build_id_rel(const struct obj *o)
{
	char hex[2 * sizeof(o->id) + 1];

	for (size_t i = 0; i < o->id_len; i++)
		snprintf(hex + 2 * i, 3, "%02x", o->id[i]);
	return xasprintf(".build-id/%.2s/%s.debug", hex, hex + 2);
}

static bool has_debug_info(int fd)
{
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	bool found = false;

	if (elf && !elf_getshdrstrndx(elf, &shstrndx))
		while (!found && (scn = elf_nextscn(elf, scn))) {
			GElf_Shdr sh;
			const char *name;

			if (gelf_getshdr(scn, &sh) && sh.sh_type != SHT_NOBITS &&
			    (name = elf_strptr(elf, shstrndx, sh.sh_name)))
				found = !strcmp(name, ".debug_info");
		}
	elf_end(elf);
	return found;
}

/* Asks f for o, as found under root at obj_path, and checks the answer:
 * want NULL means -ENOENT is expected; else a descriptor of the debug file
 * of o, opened from the path want (or from a path starting with want
 * without its last character, when that is a '*'). */
static void expect(const char *what, struct debug_finder *f, const struct obj *o,
		   const char *root, const char *obj_path, const char *want)
{
	char *path = NULL;
	int fd = debug_finder_find(f, o->elf, o->id_len ? o->id : NULL, o->id_len,
				   root, obj_path, &path);

	if (!want) {
		CHECK(fd == -ENOENT, "%s: got %d (%s), want -ENOENT", what, fd,
		      path ? path : "-");
		CHECK(!path, "%s: found_path %s, want NULL", what, path);
	} else if (fd < 0) {
		CHECK(fd >= 0, "%s: got %d (%s), want %s", what, fd, strerror(-fd), want);
		CHECK(!path, "%s: found_path %s on failure", what, path);
	} else {
		size_t wlen = strlen(want);
		bool prefix = wlen && want[wlen - 1] == '*';
		uint8_t id[128];
		size_t n = fd_build_id(fd, id, sizeof(id));
		int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD);

		CHECK(path && (prefix ? !strncmp(path, want, wlen - 1) : !strcmp(path, want)),
		      "%s: found %s, want %s", what, path ? path : "(null)", want);
		if (o->id_len)
			CHECK(n == o->id_len && !memcmp(id, o->id, n),
			      "%s: build-id of the debug file differs", what);
		else
			CHECK(n == 0, "%s: the debug file has a build-id", what);
		CHECK(has_debug_info(fd), "%s: no .debug_info", what);
		CHECK((fl & O_ACCMODE) == O_RDONLY && !(fl & O_NONBLOCK) &&
		      (fdfl & FD_CLOEXEC), "%s: fd flags %#x / %#x", what, fl, fdfl);
		close(fd);
	}
	free(path);
}

static struct debug_finder *new_finder(const char *debug_root, const char *urls,
				       unsigned timeout_s, unsigned retry_s)
{
	struct debug_finder_opts opts = {
		.sz = sizeof(opts),
		.debug_root = debug_root,
		.debuginfod_urls = urls,
		.debuginfod_timeout_s = timeout_s,
		.debuginfod_retry_s = retry_s,
	};
	struct debug_finder *f = NULL;
	int err = debug_finder_new(&opts, &f);

	if (err || !f) {
		fprintf(stderr, "debug_finder_new: %s\n", strerror(-err));
		exit(2);
	}
	return f;
}

/* ---- local files ------------------------------------------------------ */

static void test_local(void)
{
	struct obj dfix = open_obj(FIX("dfix_stripped"));
	struct obj nobid = open_obj(FIX("dfix_nobid_stripped"));
	char *dr = fresh_dir("dr"); /* the debug root */
	struct debug_finder *f = new_finder(dr, "", 0, 0);
	char *rel = build_id_rel(&dfix);
	char *bid_path = xasprintf("%s/%s", dr, rel);
	char *d, *obj, *dbg, *dbg2, *ctr, *ctr_bid;

	CHECK(dfix.id_len == 20 && nobid.id_len == 0,
	      "fixtures: build-id lengths %zu and %zu", dfix.id_len, nobid.id_len);

	/* (e) nothing anywhere; the object next to nothing */
	d = fresh_dir("e/bin");
	obj = xasprintf("%s/dfix_stripped", d);
	copy_file(FIX("dfix_stripped"), obj, 0);
	expect("nothing", f, &dfix, NULL, obj, NULL);
	expect("nothing, no path", f, &dfix, NULL, NULL, NULL);
	free(obj);
	free(d);

	/* (f) a .gnu_debuglink naming a path, not a file: "../a.debug" (as
	 * long as "dfix.debug", patched into a copy) must not climb out of
	 * the object's directory, though the file there is the right one */
	d = fresh_dir("f/bin");
	obj = xasprintf("%s/evil", d);
	copy_file(FIX("dfix_stripped"), obj, 0);
	CHECK(patch_bytes(obj, "dfix.debug", "../a.debug"), "patch the debuglink of %s", obj);
	dbg = xasprintf("%s/../a.debug", d);
	copy_file(FIX("dfix.debug"), dbg, 0);
	{
		struct obj evil = open_obj(obj);

		expect("debuglink with ../", f, &(struct obj){ .fd = evil.fd, .elf = evil.elf },
		       NULL, obj, NULL);
		close_obj(&evil);
	}
	unlink(dbg);
	free(dbg);
	free(obj);
	free(d);

	/* (a) by build-id, a symlink as distributions make them */
	link_file(FIX("dfix.debug"), bid_path);
	expect("build-id", f, &dfix, NULL, NULL, bid_path);
	expect("build-id, root /", f, &dfix, "/", NULL, bid_path);
	unlink(bid_path);

	/* the right build-id but no DWARF: the stripped object itself */
	link_file(FIX("dfix_stripped"), bid_path);
	expect("build-id path without .debug_info", f, &dfix, NULL, NULL, NULL);
	unlink(bid_path);

	/* (b) a debug file of another build at the build-id path: never used,
	 * alone or when a good one follows */
	link_file(FIX("dfix_other.debug"), bid_path);
	expect("build-id path, other build", f, &dfix, NULL, NULL, NULL);
	d = fresh_dir("b/bin");
	obj = xasprintf("%s/dfix_stripped", d);
	dbg = xasprintf("%s/dfix.debug", d);
	copy_file(FIX("dfix.debug"), dbg, 0);
	expect("build-id path, other build, then debuglink", f, &dfix, NULL, obj, dbg);
	unlink(bid_path);
	free(dbg);
	free(obj);
	free(d);

	/* (c) debuglink next to the object, in .debug/, in <debug_root>/<dir>/,
	 * in that order */
	d = fresh_dir("c/bin");
	obj = xasprintf("%s/dfix_stripped", d);
	dbg = xasprintf("%s%s/dfix.debug", dr, d);
	copy_file(FIX("dfix.debug"), dbg, 0);
	expect("debuglink in <debug_root>/<dir>", f, &dfix, NULL, obj, dbg);
	dbg2 = xasprintf("%s/.debug/dfix.debug", d);
	copy_file(FIX("dfix.debug"), dbg2, 0);
	expect("debuglink in <dir>/.debug", f, &dfix, NULL, obj, dbg2);
	free(dbg);
	dbg = xasprintf("%s/dfix.debug", d);
	copy_file(FIX("dfix.debug"), dbg, 0);
	expect("debuglink in <dir>", f, &dfix, NULL, obj, dbg);
	expect("debuglink, no Elf", f, &(struct obj){ .id_len = 0 }, NULL, obj, NULL);
	free(dbg2);
	free(dbg);
	free(obj);
	free(d);

	/* (d) debuglink to a file of another build (same name, right place) */
	d = fresh_dir("d/bin");
	obj = xasprintf("%s/dfix_stripped", d);
	dbg = xasprintf("%s/dfix.debug", d);
	copy_file(FIX("dfix_other.debug"), dbg, 0);
	expect("debuglink, other build", f, &dfix, NULL, obj, NULL);
	free(dbg);
	free(obj);
	free(d);

	/* no build-id: the debuglink CRC decides */
	d = fresh_dir("n/bin");
	obj = xasprintf("%s/dfix_nobid_stripped", d);
	dbg = xasprintf("%s/dfix_nobid.debug", d);
	copy_file(FIX("dfix_nobid.debug"), dbg, 0);
	expect("no build-id, CRC right", f, &nobid, NULL, obj, dbg);
	copy_file(FIX("dfix_nobid.debug"), dbg, 1);
	expect("no build-id, CRC wrong", f, &nobid, NULL, obj, NULL);
	unlink(dbg);
	if (mkfifo(dbg, 0644))
		fprintf(stderr, "mkfifo %s: %s\n", dbg, strerror(errno));
	expect("no build-id, a FIFO in the way", f, &nobid, NULL, obj, NULL);
	free(dbg);
	free(obj);
	free(d);

	/* another root (a container): its debug root, then the host's, by
	 * build-id; debuglink under the root only */
	ctr = fresh_dir("ctr");
	ctr_bid = xasprintf("%s%s", ctr, bid_path);
	/* A symlink in the container resolves inside it: an absolute one to
	 * the host's debug file is not followed out. */
	link_file(FIX("dfix.debug"), ctr_bid);
	expect("root, build-id symlink out of the root", f, &dfix, ctr, "/usr/bin/dfix_stripped",
	       NULL);
	unlink(ctr_bid);
	copy_file(FIX("dfix.debug"), ctr_bid, 0);
	expect("root, build-id", f, &dfix, ctr, "/usr/bin/dfix_stripped", ctr_bid);
	link_file(FIX("dfix.debug"), bid_path);
	expect("root, build-id, both", f, &dfix, ctr, "/usr/bin/dfix_stripped", ctr_bid);
	unlink(ctr_bid);
	expect("root, build-id on the host", f, &dfix, ctr, NULL, bid_path);
	unlink(bid_path);
	dbg = xasprintf("%s%s/usr/bin/dfix.debug", ctr, dr);
	copy_file(FIX("dfix.debug"), dbg, 0);
	expect("root, debuglink in <debug_root>/<dir>", f, &dfix, ctr,
	       "/usr/bin/dfix_stripped", dbg);
	unlink(dbg);
	free(dbg);
	dbg = xasprintf("%s/usr/bin/dfix.debug", ctr);
	copy_file(FIX("dfix.debug"), dbg, 0);
	expect("root, debuglink in <dir>", f, &dfix, ctr, "/usr/bin/dfix_stripped", dbg);
	d = xasprintf("%s/usr/bin/dfix.debug", dr);
	copy_file(FIX("dfix.debug"), d, 0); /* the host's: not for debuglink */
	unlink(dbg);
	expect("root, debuglink only on the host", f, &dfix, ctr,
	       "/usr/bin/dfix_stripped", NULL);
	free(d);
	free(dbg);
	free(ctr_bid);
	free(ctr);

	/* arguments and options */
	{
		struct debug_finder_opts big[2] = { { .sz = sizeof(big) } };
		struct debug_finder *g = NULL;
		char *path = (char *)"junk";
		int fd;

		fd = debug_finder_find(f, dfix.elf, dfix.id, dfix.id_len, NULL,
				       "usr/bin/x", &path);
		CHECK(fd == -EINVAL && !path, "relative path: %d", fd);
		CHECK(debug_finder_find(NULL, dfix.elf, NULL, 0, NULL, NULL, NULL) == -EINVAL,
		      "NULL finder");
		link_file(FIX("dfix.debug"), bid_path);
		fd = debug_finder_find(f, NULL, dfix.id, dfix.id_len, NULL, NULL, NULL);
		CHECK(fd >= 0, "found_path NULL: %d", fd);
		if (fd >= 0)
			close(fd);
		unlink(bid_path);

		CHECK(debug_finder_new(&big[0], &g) == 0 && g, "longer opts, zero tail");
		debug_finder_free(g);
		big[1].sz = 1;
		CHECK(debug_finder_new(&big[0], &g) == -EINVAL && !g, "longer opts, tail set");
		CHECK(debug_finder_new(NULL, NULL) == -EINVAL, "out NULL");
		CHECK(debug_finder_new(NULL, &g) == 0 && g, "opts NULL");
		debug_finder_free(g);
		debug_finder_free(NULL);
	}

	debug_finder_free(f);
	free(bid_path);
	free(rel);
	free(dr);
	close_obj(&nobid);
	close_obj(&dfix);
}

/* The libc we run on, with the real /usr/lib/debug (libc6-dbg). */
static void test_libc(void)
{
	struct debug_finder *f = new_finder(NULL, "", 0, 0);
	Dl_info di;
	struct obj libc;
	char *rel, *want;

	if (!dladdr((void *)gnu_get_libc_version, &di) || !di.dli_fname) {
		CHECK(0, "dladdr(gnu_get_libc_version) failed");
		return;
	}
	libc = open_obj(di.dli_fname);
	rel = build_id_rel(&libc);
	want = xasprintf("/usr/lib/debug/%s", rel);
	CHECK(libc.id_len && access(want, R_OK) == 0,
	      "%s: no %s; install libc6-dbg (scripts/setup)", di.dli_fname, want);
	expect("libc", f, &libc, NULL, di.dli_fname, want);
	free(want);
	free(rel);
	close_obj(&libc);
	debug_finder_free(f);
}

/* ---- debuginfod ------------------------------------------------------- */

static pid_t start_server(const char *bin, int port, const char *scan_dir,
			  const char *db, const char *log)
{
	pid_t parent = getpid(), pid;
	char portstr[16];

	snprintf(portstr, sizeof(portstr), "%d", port);
	pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		/* dies with us, whatever happens to us */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent || fd < 0)
			_exit(127);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execl(bin, bin, "-F", "-p", portstr, "-d", db, scan_dir, (char *)NULL);
		_exit(127);
	}
	if (pid < 0)
		perror("fork");
	return pid;
}

static void stop_server(pid_t *pid)
{
	if (*pid <= 0)
		return;
	kill(*pid, SIGTERM);
	waitpid(*pid, NULL, 0);
	*pid = -1;
}

/* A TCP port nothing listens on now. */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	if (s >= 0 && !bind(s, (struct sockaddr *)&a, sizeof(a)) &&
	    !getsockname(s, (struct sockaddr *)&a, &len))
		port = ntohs(a.sin_port);
	close(s);
	return port;
}

/* The HTTP status of GET target on 127.0.0.1:port, -1 when no answer. */
static int http_status(int port, const char *target)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), code = -1, len;
	char buf[256];
	size_t got = 0;
	ssize_t n;

	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a))) {
		close(s);
		return -1;
	}
	len = snprintf(buf, sizeof(buf), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n",
		       target);
	if (write(s, buf, len) == len)
		while (got < sizeof(buf) - 1 &&
		       (n = read(s, buf + got, sizeof(buf) - 1 - got)) > 0) {
			got += n;
			buf[got] = '\0';
			if (strstr(buf, "\r\n"))
				break;
		}
	buf[got] = '\0';
	if (sscanf(buf, "HTTP/%*s %d", &code) != 1)
		code = -1;
	close(s);
	return code;
}

/* Waits until the server serves target (it scans its directory first). */
static bool wait_served(pid_t pid, int port, const char *target)
{
	double end = now_s() + 90;

	while (now_s() < end) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return false;
		if (http_status(port, target) == 200)
			return true;
		usleep(200 * 1000);
	}
	return false;
}

static int saved_stderr = -1;

static void capture_stderr(const char *file)
{
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
}

/* Ends the capture; returns what was written (malloc'ed), also shown. */
static char *captured(const char *file)
{
	char *text = NULL;
	size_t len = 0;
	FILE *in;

	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	in = fopen(file, "r");
	if (!in || getdelim(&text, &len, '\0', in) < 0) {
		free(text);
		text = strdup("");
	}
	if (in)
		fclose(in);
	fputs(text, stderr);
	return text;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void show_log(const char *log)
{
	char *cmd = xasprintf("tail -n 20 '%s' >&2", log);

	if (system(cmd))
		fprintf(stderr, "(no server log)\n");
	free(cmd);
}

static void test_debuginfod(const char *server)
{
	struct obj dfix = open_obj(FIX("dfix_stripped"));
	struct obj unknown = dfix, huge = dfix;
	char *srv = fresh_dir("srv"), *empty = fresh_dir("empty");
	char *db = xasprintf("%s/db.sqlite", tmpdir);
	char *log = xasprintf("%s/server.log", tmpdir);
	char *out_file = xasprintf("%s/stderr", tmpdir);
	char *target, *url, *url2, *prefix, *out, *want_line, *p;
	struct debug_finder *f, *g;
	int port = free_port(), quiet = -1, quiet_port;
	double t0, t1, t2;
	pid_t pid;

	/* the files the server publishes; the object as the finder sees it */
	p = xasprintf("%s/dfix.debug", srv);
	copy_file(FIX("dfix.debug"), p, 0);
	free(p);
	p = xasprintf("%s/dfix_stripped", srv);
	copy_file(FIX("dfix_stripped"), p, 0);
	free(p);
	unknown.elf = huge.elf = NULL;
	unknown.id[0] ^= 0xff;
	huge.id_len = 65; /* not asked for (libdebuginfod takes up to 255) */
	p = build_id_rel(&dfix); /* ".build-id/xx/rest.debug" */
	target = xasprintf("/buildid/%.2s%.*s/debuginfo", p + 10,
			   (int)(2 * dfix.id_len - 2), p + 13);
	free(p);
	url = xasprintf("http://127.0.0.1:%d", port);

	/* our loopback server, whatever proxy the environment names;
	 * libdebuginfod's own output asked for, to see it stay off */
	setenv("no_proxy", "*", 1);
	unsetenv("DEBUGINFOD_URLS");
	setenv("DEBUGINFOD_PROGRESS", "1", 1);
	setenv("DEBUGINFOD_VERBOSE", "1", 1);

	pid = start_server(server, port, srv, db, log);
	if (pid < 0 || !wait_served(pid, port, target)) {
		CHECK(0, "debuginfod on port %d never served %s", port, target);
		show_log(log);
		stop_server(&pid);
		goto out;
	}

	/* (1) downloaded into the cache, checked, quietly */
	p = xasprintf("%s/cache1", tmpdir);
	setenv("DEBUGINFOD_CACHE_PATH", p, 1);
	prefix = xasprintf("%s/*", p);
	free(p);
	f = new_finder(empty, url, 0, 0);
	capture_stderr(out_file);
	expect("debuginfod", f, &dfix, NULL, NULL, prefix);
	expect("debuginfod, unknown build-id", f, &unknown, NULL, NULL, NULL);
	out = captured(out_file);
	CHECK(!*out, "debuginfod printed something");
	/* Set once, when the finder is made (single-threaded), never swapped
	 * around queries while other threads may read the environment. */
	CHECK(getenv("DEBUGINFOD_URLS") && !strcmp(getenv("DEBUGINFOD_URLS"), url),
	      "DEBUGINFOD_URLS is the finder's: %s", getenv("DEBUGINFOD_URLS"));
	free(out);
	free(prefix);

	/* (2) the servers of $DEBUGINFOD_URLS, when the options name none */
	p = xasprintf("%s/cache2", tmpdir);
	setenv("DEBUGINFOD_CACHE_PATH", p, 1);
	prefix = xasprintf("%s/*", p);
	free(p);
	setenv("DEBUGINFOD_URLS", url, 1);
	g = new_finder(empty, NULL, 0, 0);
	expect("debuginfod from $DEBUGINFOD_URLS", g, &dfix, NULL, NULL, prefix);
	CHECK(getenv("DEBUGINFOD_URLS") && !strcmp(getenv("DEBUGINFOD_URLS"), url),
	      "DEBUGINFOD_URLS changed");
	unsetenv("DEBUGINFOD_URLS");
	debug_finder_free(g);
	free(prefix);

	/* (3) the server gone. A build-id it said it lacks is not asked for
	 * again (a fresh cache: libdebuginfod's own memory is not in play). */
	stop_server(&pid);
	p = xasprintf("%s/cache3", tmpdir);
	setenv("DEBUGINFOD_CACHE_PATH", p, 1);
	free(p);
	capture_stderr(out_file);
	expect("unknown build-id, server gone", f, &unknown, NULL, NULL, NULL);
	out = captured(out_file);
	CHECK(!strstr(out, "unreachable"), "the unknown build-id was asked again");
	free(out);
	debug_finder_free(f);

	/* A new finder, a fresh cache: -ENOENT at once, said once. */
	p = xasprintf("%s/cache4", tmpdir);
	setenv("DEBUGINFOD_CACHE_PATH", p, 1);
	prefix = xasprintf("%s/*", p);
	free(p);
	f = new_finder(empty, url, 0, 2);
	capture_stderr(out_file);
	t0 = now_s();
	expect("server gone, 65-byte build-id", f, &huge, NULL, NULL, NULL);
	for (int i = 0; i < 4; i++)
		expect("server gone", f, &dfix, NULL, NULL, NULL);
	t1 = now_s() - t0;
	out = captured(out_file);
	want_line = xasprintf("symbolizer: debuginfod %s unreachable: %s; "
			      "continuing without it\n", url, strerror(ECONNREFUSED));
	CHECK(t1 < 5, "server gone: %.1f s", t1);
	CHECK(count(out, "unreachable") == 1, "said %d times", count(out, "unreachable"));
	CHECK(strstr(out, want_line), "want the line: %s", want_line);
	free(want_line);
	free(out);

	/* (4) back, on the same port, after the retry delay (2 s) */
	pid = start_server(server, port, srv, db, log);
	CHECK(pid > 0 && wait_served(pid, port, target), "debuginfod did not come back");
	t1 = t0 + 2.5 - now_s();
	if (t1 > 0)
		usleep((useconds_t)(t1 * 1e6));
	capture_stderr(out_file);
	expect("server back", f, &dfix, NULL, NULL, prefix);
	out = captured(out_file);
	CHECK(!strstr(out, "unreachable"), "said again");
	free(out);
	free(prefix);
	stop_server(&pid);
	debug_finder_free(f);

	/* (5) a server that never answers: a listening socket nobody reads */
	quiet = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	{
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t len = sizeof(a);

		if (quiet < 0 || bind(quiet, (struct sockaddr *)&a, sizeof(a)) ||
		    listen(quiet, 16) || getsockname(quiet, (struct sockaddr *)&a, &len)) {
			CHECK(0, "quiet server: %s", strerror(errno));
			goto out;
		}
		quiet_port = ntohs(a.sin_port);
	}
	url2 = xasprintf("http://127.0.0.1:%d", quiet_port);
	p = xasprintf("%s/cache5", tmpdir);
	setenv("DEBUGINFOD_CACHE_PATH", p, 1);
	free(p);
	f = new_finder(empty, url2, 1, 0);
	capture_stderr(out_file);
	t0 = now_s();
	expect("no answer", f, &dfix, NULL, NULL, NULL);
	t1 = now_s() - t0;
	expect("no answer, again", f, &dfix, NULL, NULL, NULL);
	t2 = now_s() - t0 - t1;
	out = captured(out_file);
	CHECK(t1 < 4, "no answer: %.1f s", t1);
	CHECK(t2 < 0.5, "no answer, again: %.1f s", t2);
	CHECK(count(out, "unreachable") == 1, "said %d times", count(out, "unreachable"));
	CHECK(strstr(out, "unreachable: no file within 1 s;"), "want the timeout line");
	free(out);
	free(url2);
	debug_finder_free(f);

out:
	if (quiet >= 0)
		close(quiet);
	free(url);
	free(target);
	free(out_file);
	free(log);
	free(db);
	free(empty);
	free(srv);
	close_obj(&dfix);
}

static int rm_tree(const char *dir)
{
	return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int main(int argc, char **argv)
{
	bool debuginfod = argc == 3 && !strcmp(argv[1], "--debuginfod");

	if (argc != 1 && !debuginfod) {
		fprintf(stderr, "usage: %s [--debuginfod SERVER]\n", argv[0]);
		return 2;
	}
	if (elf_version(EV_CURRENT) == EV_NONE || !mkdtemp(tmpdir)) {
		perror("setup");
		return 2;
	}
	unsetenv("DEBUGINFOD_URLS"); /* no servers unless a test names them */
	if (debuginfod) {
		test_debuginfod(argv[2]);
	} else {
		test_local();
		test_libc();
	}
	if (rm_tree(tmpdir))
		fprintf(stderr, "rm -r %s: %s\n", tmpdir, strerror(errno));
	return check_summary();
}
