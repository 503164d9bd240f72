/* debug_find.c - see debug_find.h.
 *
 * Every candidate, wherever it comes from, goes through try_file(): open
 * without blocking (a FIFO planted where a debug file is expected must not
 * hang the profiler), insist on a regular file, then read with libelf only
 * the section headers and the build-id note (ELF_C_READ: pread, no mmap,
 * so a file truncated under us is an error, not SIGBUS). The CRC32 of
 * .gnu_debuglink (zlib's crc32 is the same CRC) is computed last, and only
 * for objects without a build-id, since it reads the whole file.
 *
 * debuginfod: one libdebuginfod client, made on the first query. Its
 * progress callback is our clock: it is called about once a second while a
 * query runs (retries included) and aborts the query at the deadline. The
 * state of the servers is "up", or "down until retry_at". Build-ids the
 * servers answered "not found" for are kept in a sorted array. The
 * descriptor libdebuginfod returns is closed and the cached file reopened
 * by try_file(), so it is read-only, close-on-exec and checked like any
 * other candidate.
 */
#include "debug_find.h"

#include <elfutils/debuginfod.h>
#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "elf_limits.h"
#include "elf_object.h"
#include "grow.h"
#include "opts.h"
#include "safe_open.h"
#include "sym_clock.h"
#include "sym_log.h"

#define DEFAULT_DEBUG_ROOT "/usr/lib/debug"
#define DEFAULT_TIMEOUT_S 10
#define DEFAULT_RETRY_S 60
/* Longer build-ids are not asked for: real ones are 16 to 32 bytes, and
 * libdebuginfod answers -EINVAL past 256, which must not pass for a server
 * problem. */
#define MAX_ASK_BUILD_ID 64

struct build_id {
	uint8_t *id;
	size_t len;
};

struct debug_finder {
	char *debug_root;
	char *urls;                  /* NULL: no debuginfod */
	unsigned int timeout_s;
	unsigned int retry_s;
	debuginfod_client *client;   /* made on the first query */
	uint64_t deadline_ms;        /* of the query running */
	bool timed_out;              /* the query running hit its deadline */
	bool down;                   /* servers unreachable ... */
	uint64_t retry_at_ms;        /* ... until then */
	bool down_reported;          /* said so since they last answered */
	struct build_id *missing;    /* not on the servers; sorted */
	size_t nmissing, cap_missing;
};

/* What makes a candidate the debug file of the object. */
struct want {
	const uint8_t *build_id;     /* compared when not NULL ... */
	size_t build_id_len;
	uint32_t crc;                /* ... else the .gnu_debuglink CRC */
};

/* ---- options --------------------------------------------------------- */

/* libdebuginfod reads its servers from $DEBUGINFOD_URLS at each query and
 * has no other way to be told: set it once, here, while the caller is
 * still single-threaded (setenv() races with any getenv() in another
 * thread, libcurl's included). */
static int use_urls(const char *urls)
{
	const char *cur = getenv(DEBUGINFOD_URLS_ENV_VAR);

	if (cur && !strcmp(cur, urls))
		return 0;
	return setenv(DEBUGINFOD_URLS_ENV_VAR, urls, 1) ? -ENOMEM : 0;
}

int debug_finder_new(const struct debug_finder_opts *opts, struct debug_finder **out)
{
	const char *urls;
	struct debug_finder *f;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!OPTS_VALID(opts))
		return -EINVAL;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	urls = OPT(opts, debuginfod_urls, getenv(DEBUGINFOD_URLS_ENV_VAR));

	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->debug_root = strdup(OPT(opts, debug_root, DEFAULT_DEBUG_ROOT));
	if (urls && *urls)
		f->urls = strdup(urls);
	f->timeout_s = OPT(opts, debuginfod_timeout_s, DEFAULT_TIMEOUT_S);
	f->retry_s = OPT(opts, debuginfod_retry_s, DEFAULT_RETRY_S);
	if (!f->debug_root || (urls && *urls && !f->urls) ||
	    (f->urls && use_urls(f->urls))) {
		debug_finder_free(f);
		return -ENOMEM;
	}
	*out = f;
	return 0;
}

void debug_finder_free(struct debug_finder *f)
{
	if (!f)
		return;
	debuginfod_end(f->client);
	for (size_t i = 0; i < f->nmissing; i++)
		free(f->missing[i].id);
	free(f->missing);
	free(f->urls);
	free(f->debug_root);
	free(f);
}

/* ---- checking a candidate -------------------------------------------- */

/* Whether the CRC32 of the whole file is crc; false if it cannot be read. */
static bool crc_matches(int fd, uint32_t crc)
{
	enum { CHUNK = 64 * 1024 };
	unsigned char *buf = malloc(CHUNK);
	uLong c = crc32(0L, Z_NULL, 0);
	off_t off = 0;
	ssize_t n;

	if (!buf)
		return false;
	while ((n = pread(fd, buf, CHUNK, off)) > 0) {
		c = crc32(c, buf, (uInt)n);
		off += n;
	}
	free(buf);
	return n == 0 && (uint32_t)c == crc;
}

static bool is_the_one(int fd, Elf *elf, const struct want *w)
{
	const void *id;
	ssize_t len;

	if (w->build_id) {
		len = dwelf_elf_gnu_build_id(elf, &id);
		return len > 0 && (size_t)len == w->build_id_len &&
		       !memcmp(id, w->build_id, w->build_id_len);
	}
	return crc_matches(fd, w->crc);
}

/* Where candidates are opened: a process's root (resolved inside it, so
 * an absolute symlink or ".." planted in a container cannot reach the
 * host's files), or ours. */
struct place {
	int dirfd;
	unsigned flags;         /* safe_open() flags */
	const char *prefix;     /* for found_path: the root, or "" */
};

/* Opens path (the file's absolute path under the place's root; malloc'ed,
 * owned: freed here; NULL means out of memory) through safe_open(), so a
 * FIFO, device or oversized file is never read, and returns its
 * descriptor if it is the debug file wanted, else -ENOENT. */
static int try_file(const struct place *pl, char *path, const struct want *w,
		    char **found_path)
{
	bool ok = false;
	Elf *elf;
	int fd;

	if (!path)
		return -ENOMEM;
	fd = safe_open(pl->dirfd, path, pl->flags, ELF_MAX_FILE_BYTES, NULL);
	if (fd >= 0 && !fcntl(fd, F_SETFL, 0)) {
		elf = elf_begin(fd, ELF_C_READ, NULL);
		ok = elf && elf_kind(elf) == ELF_K_ELF && elf_has_debug_info(elf) &&
		     is_the_one(fd, elf, w);
		elf_end(elf);
	}
	if (!ok) {
		if (fd >= 0)
			close(fd);
		free(path);
		return -ENOENT;
	}
	if (found_path && asprintf(found_path, "%s%s", pl->prefix, path) < 0)
		*found_path = NULL;
	free(path);
	return fd;
}

/* ---- local files ----------------------------------------------------- */

static char *hex(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);

	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++)
		snprintf(s + 2 * i, 3, "%02x", p[i]);
	s[2 * n] = '\0';
	return s;
}

static char *build_id_path(const char *debug_root, const uint8_t *id, size_t len)
{
	char *rest = hex(id + 1, len - 1), *path;

	if (!rest || asprintf(&path, "%s/.build-id/%02x/%s.debug", debug_root, id[0],
			      rest) < 0)
		path = NULL;
	free(rest);
	return path;
}

static const struct place host = { AT_FDCWD, 0, "" };

static int find_by_build_id(struct debug_finder *f, const struct place *root,
			    const struct want *w, char **found_path)
{
	int fd = -ENOENT;

	if (root != &host)
		fd = try_file(root, build_id_path(f->debug_root, w->build_id, w->build_id_len),
			      w, found_path);
	if (fd == -ENOENT)
		fd = try_file(&host, build_id_path(f->debug_root, w->build_id, w->build_id_len),
			      w, found_path);
	return fd;
}

/* A .gnu_debuglink names a file, never a path: "../../etc/x" or "a/b"
 * would leave the directories it is looked up in. */
static bool debuglink_name_ok(const char *name)
{
	return name[0] && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..");
}

static int find_by_debuglink(struct debug_finder *f, const struct place *root,
			     const char *obj_path, const char *name,
			     const struct want *w, char **found_path)
{
	int dirlen = (int)(strrchr(obj_path, '/') - obj_path);
	char *path;
	int fd;

	if (!debuglink_name_ok(name))
		return -ENOENT;
	if (asprintf(&path, "%.*s/%s", dirlen, obj_path, name) < 0)
		path = NULL;
	fd = try_file(root, path, w, found_path);
	if (fd != -ENOENT)
		return fd;
	if (asprintf(&path, "%.*s/.debug/%s", dirlen, obj_path, name) < 0)
		path = NULL;
	fd = try_file(root, path, w, found_path);
	if (fd != -ENOENT)
		return fd;
	if (asprintf(&path, "%s%.*s/%s", f->debug_root, dirlen, obj_path, name) < 0)
		path = NULL;
	return try_file(root, path, w, found_path);
}

/* ---- debuginfod ------------------------------------------------------ */

static int cmp_build_id(const struct build_id *a, const uint8_t *id, size_t len)
{
	if (a->len != len)
		return a->len < len ? -1 : 1;
	return memcmp(a->id, id, len);
}

/* Index of the first entry not below (id, len) in f->missing. */
static size_t missing_pos(const struct debug_finder *f, const uint8_t *id, size_t len)
{
	size_t lo = 0, hi = f->nmissing;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cmp_build_id(&f->missing[mid], id, len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool is_missing(const struct debug_finder *f, const uint8_t *id, size_t len)
{
	size_t i = missing_pos(f, id, len);

	return i < f->nmissing && !cmp_build_id(&f->missing[i], id, len);
}

/* Remembers a build-id not to ask for again; out of memory, forgets it. */
static void add_missing(struct debug_finder *f, const uint8_t *id, size_t len)
{
	size_t i = missing_pos(f, id, len);
	uint8_t *copy;

	if (array_reserve(&f->missing, &f->cap_missing, f->nmissing + 1, sizeof(*f->missing)))
		return;
	copy = malloc(len);
	if (!copy)
		return;
	memcpy(copy, id, len);
	memmove(&f->missing[i + 1], &f->missing[i],
		(f->nmissing - i) * sizeof(*f->missing));
	f->missing[i] = (struct build_id){ copy, len };
	f->nmissing++;
}

static int on_progress(debuginfod_client *c, long a, long b)
{
	struct debug_finder *f = debuginfod_get_user_data(c);

	if (sym_now_ms() < f->deadline_ms)
		return 0;
	f->timed_out = true;
	return 1;
}

static int query(struct debug_finder *f, const struct want *w, char **cache_path)
{
	f->deadline_ms = sym_now_ms() + (uint64_t)f->timeout_s * 1000;
	f->timed_out = false;
	return debuginfod_find_debuginfo(f->client, w->build_id, (int)w->build_id_len,
					 cache_path);
}

static int ask_debuginfod(struct debug_finder *f, const struct want *w,
			  char **found_path)
{
	char *cache_path = NULL;
	int rc;

	if (!f->urls || w->build_id_len > MAX_ASK_BUILD_ID ||
	    (f->down && sym_now_ms() < f->retry_at_ms) ||
	    is_missing(f, w->build_id, w->build_id_len))
		return -ENOENT;
	if (!f->client) {
		f->client = debuginfod_begin();
		if (!f->client)
			return -ENOMEM;
		debuginfod_set_user_data(f->client, f);
		/* Both replace what $DEBUGINFOD_PROGRESS and $DEBUGINFOD_VERBOSE
		 * would have written on stderr, outside the program's log. */
		debuginfod_set_progressfn(f->client, on_progress);
		debuginfod_set_verbose_fd(f->client, -1);
	}

	rc = query(f, w, &cache_path);
	if (rc >= 0) {
		close(rc);
		f->down = f->down_reported = false;
		rc = try_file(&host, cache_path, w, found_path);
		if (rc == -ENOENT)
			add_missing(f, w->build_id, w->build_id_len);
		return rc;
	}
	free(cache_path);
	if (rc == -ENOMEM)
		return rc;
	if (!f->timed_out && (rc == -ENOENT || rc == -EFBIG)) {
		/* They answered: not there (or bigger than $DEBUGINFOD_MAXSIZE). */
		f->down = f->down_reported = false;
		add_missing(f, w->build_id, w->build_id_len);
		return -ENOENT;
	}
	if (!f->down_reported) {
		char reason[64];

		if (f->timed_out)
			snprintf(reason, sizeof(reason), "no file within %u s",
				 f->timeout_s);
		else
			snprintf(reason, sizeof(reason), "%s", strerror(-rc));
		sym_log(SYM_LOG_WARN, "debuginfod %s unreachable: %s; "
			"continuing without it", f->urls, reason);
		f->down_reported = true;
	}
	f->down = true;
	f->retry_at_ms = sym_now_ms() + (uint64_t)f->retry_s * 1000;
	return -ENOENT;
}

/* ---- the search ------------------------------------------------------ */

int debug_finder_find(struct debug_finder *f, Elf *elf, const uint8_t *build_id,
		      size_t build_id_len, const char *root, const char *obj_path,
		      char **found_path)
{
	struct place in_root = { -1, SAFE_OPEN_IN_ROOT, root };
	const struct place *pl = &host;
	struct want w = { 0 };
	const char *link = NULL;
	int fd = -ENOENT;

	if (found_path)
		*found_path = NULL;
	if (!f || (obj_path && obj_path[0] != '/'))
		return -EINVAL;
	if (root && strcmp(root, "/") && root[0]) {
		in_root.dirfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (in_root.dirfd < 0)
			return -ENOENT; /* the process is gone */
		pl = &in_root;
	}
	if (build_id && build_id_len) {
		w.build_id = build_id;
		w.build_id_len = build_id_len;
		fd = find_by_build_id(f, pl, &w, found_path);
	}
	if (fd == -ENOENT && elf && obj_path)
		link = dwelf_elf_gnu_debuglink(elf, &w.crc);
	if (link)
		fd = find_by_debuglink(f, pl, obj_path, link, &w, found_path);
	if (fd == -ENOENT && w.build_id)
		fd = ask_debuginfod(f, &w, found_path);
	if (in_root.dirfd >= 0)
		close(in_root.dirfd);
	return fd;
}
