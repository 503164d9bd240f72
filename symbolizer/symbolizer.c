/* symbolizer.c - processes, their mappings, and the kernel; see symbolizer.h.
 *
 * Layout of the state:
 *  - processes: a chained hash table by pid. A process holds an array of
 *    pointers to its executable mappings, sorted by start address, searched
 *    by bisection. A pid that could not be tracked gets an entry with the
 *    error, so resolving its addresses does not hit /proc each time.
 *  - mappings: allocated one by one (path inline) and never moved, because
 *    callers keep `const struct sym_mapping *` and its strings. A refresh
 *    (symbolizer_track_process on a known pid) reuses the unchanged ones,
 *    opening only new mappings, and retires the rest to the process's
 *    retired list, freed when the process is forgotten: a process that does
 *    not change costs no memory. Each mapping holds a reference on its
 *    object.
 *  - objects: object_cache.c, shared by all processes, keyed by the file's
 *    (st_dev, st_ino); each with its ELF symbols (elf_object.c) and, when
 *    it has DWARF, its line/inline index (dwarf_index.c). Objects no process
 *    uses stay cached, least recently used first out, under the byte cap.
 *  - the kernel: kallsyms.c, loaded on the first kernel address.
 *
 * Opening a mapped file, in order:
 *  1. <proc>/PID/map_files/<start>-<end>: the very file the process maps,
 *     even deleted or in another mount namespace; needs CAP_SYS_ADMIN.
 *  2. <proc>/PID/root/<path>: the path in the process's root (containers);
 *  3. <path> as we see it.
 * 2 and 3 are tried only for a path that exists ("(deleted)" ones cannot be
 * found by name) and only accepted if the inode matches /proc/PID/maps, so
 * a file replaced since (an upgrade) is not used for the old mapping.
 * Each directory access goes through one O_DIRECTORY fd of <proc>/PID, so
 * a pid reused by a new process mid-snapshot is noticed as ESRCH, not mixed.
 *
 * Not thread-safe: one thread uses a struct symbolizer at a time.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* asprintf, pipe2 (the top level defines it too) */
#endif
#include "symbolizer.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "debug_find.h"
#include "kallsyms.h"
#include "object_cache.h"
#include "opts.h"
#include "perf_map.h"
#include "proc_maps.h"
#include "read_file.h"
#include "unwind.h"

#define KALLSYMS_MAX_SIZE (256u << 20)
#define VDSO_MAX_SIZE (1u << 20)
#define PERF_MAP_MAX_SIZE (256u << 20)
#define KERNEL_NOTES "/sys/kernel/notes"

struct mapping {
	struct sym_mapping pub;  /* what callers get a pointer to */
	struct mapping *retired; /* link in process.retired */
	struct object *obj;      /* NULL: no object (anonymous, special, unopenable) */
	uint64_t dev;            /* major << 32 | minor, from maps */
	uint64_t ino;
	bool deleted;
	char path[];
};

struct process {
	struct process *hnext;
	pid_t pid;
	pid_t nspid;             /* the pid in its own pid namespace */
	int err;                 /* nonzero: never tracked; returned by resolve */
	struct mapping **maps;   /* sorted by start */
	size_t nmaps;
	struct perf_map *jit;    /* /tmp/perf-PID.map, read on the first miss */
	bool jit_loaded;
	struct mapping *retired; /* replaced by refreshes, freed on forget */
};

struct symbolizer {
	char *proc_dir;
	char *kallsyms_path;
	bool kallsyms_default;   /* read the build-id from /sys/kernel/notes */

	struct object_cache *objects;
	struct debug_finder *debug;
	struct process **procs;  /* hash buckets, power of two */
	size_t nprocs_buckets, nprocs;

	bool kernel_loaded;
	int kernel_err;
	struct kallsyms *ksyms;
	struct sym_mapping kmap;
	char kbuild_id[129];
};

/* ---- options --------------------------------------------------------- */

int symbolizer_new(const struct symbolizer_opts *opts, struct symbolizer **out)
{
	const char *proc_dir, *kallsyms;
	struct debug_finder_opts dopts = { .sz = sizeof(dopts) };
	size_t cache_bytes;
	struct symbolizer *s;
	int err;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!SYM_OPTS_VALID(opts))
		return -EINVAL;
	proc_dir = SYM_OPT(opts, proc_dir, "/proc");
	kallsyms = SYM_OPT(opts, kallsyms_path, NULL);
	dopts.debug_root = SYM_OPT(opts, debug_root, NULL);
	dopts.debuginfod_urls = SYM_OPT(opts, debuginfod_urls, NULL);

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->proc_dir = strdup(proc_dir);
	s->kallsyms_default = !kallsyms;
	if (kallsyms)
		s->kallsyms_path = strdup(kallsyms);
	else if (asprintf(&s->kallsyms_path, "%s/kallsyms", proc_dir) < 0)
		s->kallsyms_path = NULL;
	s->nprocs_buckets = 256;
	s->procs = calloc(s->nprocs_buckets, sizeof(*s->procs));
	cache_bytes = SYM_OPT(opts, cache_bytes, SYMBOLIZER_DEFAULT_CACHE_BYTES);
	err = object_cache_new(cache_bytes, SYM_OPT(opts, unwind_tables, 0), &s->objects);
	if (!err)
		err = debug_finder_new(&dopts, &s->debug);
	if (err || !s->proc_dir || !s->kallsyms_path || !s->procs) {
		symbolizer_free(s);
		return err ? err : -ENOMEM;
	}
	*out = s;
	return 0;
}

static void free_mapping(struct symbolizer *s, struct mapping *m)
{
	object_cache_release(s->objects, m->obj);
	free(m);
}

static void free_process(struct symbolizer *s, struct process *p)
{
	struct mapping *m, *next;

	for (size_t i = 0; i < p->nmaps; i++)
		free_mapping(s, p->maps[i]);
	free(p->maps);
	for (m = p->retired; m; m = next) {
		next = m->retired;
		free_mapping(s, m);
	}
	perf_map_free(p->jit);
	free(p);
}

void symbolizer_free(struct symbolizer *s)
{
	if (!s)
		return;
	for (size_t i = 0; s->procs && i < s->nprocs_buckets; i++) {
		struct process *p = s->procs[i], *next;

		for (; p; p = next) {
			next = p->hnext;
			free_process(s, p);
		}
	}
	free(s->procs);
	object_cache_free(s->objects);
	debug_finder_free(s->debug);
	kallsyms_free(s->ksyms);
	free(s->proc_dir);
	free(s->kallsyms_path);
	free(s);
}

/* ---- process table --------------------------------------------------- */

static size_t pid_hash(pid_t pid, size_t nbuckets)
{
	return (size_t)((uint32_t)pid * 2654435761u) & (nbuckets - 1);
}

static struct process *find_process(const struct symbolizer *s, pid_t pid)
{
	struct process *p = s->procs[pid_hash(pid, s->nprocs_buckets)];

	while (p && p->pid != pid)
		p = p->hnext;
	return p;
}

static void grow_procs(struct symbolizer *s)
{
	size_t n = s->nprocs_buckets * 2;
	struct process **nb;

	if (n > SIZE_MAX / sizeof(*nb))
		return;
	nb = calloc(n, sizeof(*nb));
	if (!nb)
		return; /* longer chains, still correct */
	for (size_t i = 0; i < s->nprocs_buckets; i++) {
		struct process *p = s->procs[i], *next;

		for (; p; p = next) {
			size_t h = pid_hash(p->pid, n);

			next = p->hnext;
			p->hnext = nb[h];
			nb[h] = p;
		}
	}
	free(s->procs);
	s->procs = nb;
	s->nprocs_buckets = n;
}

static struct process *add_process(struct symbolizer *s, pid_t pid)
{
	struct process *p = calloc(1, sizeof(*p));
	size_t h;

	if (!p)
		return NULL;
	p->pid = pid;
	h = pid_hash(pid, s->nprocs_buckets);
	p->hnext = s->procs[h];
	s->procs[h] = p;
	if (++s->nprocs > s->nprocs_buckets)
		grow_procs(s);
	return p;
}

/* ---- opening the object behind a mapping ----------------------------- */

/* Opens a path fallback and accepts it only if it is the mapped inode. */
static int open_checked(int dirfd, const char *path, uint64_t ino)
{
	struct stat st;
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || (ino && (uint64_t)st.st_ino != ino)) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

static int open_mapped_file(int dirfd, const struct proc_maps_entry *e)
{
	char name[PATH_MAX + 8];
	int fd, err;

	snprintf(name, sizeof(name), "map_files/%" PRIx64 "-%" PRIx64, e->start, e->end);
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd >= 0)
		return fd;
	err = -errno;
	if (e->deleted || e->path[0] != '/')
		return err;
	if (snprintf(name, sizeof(name), "root%s", e->path) < (int)sizeof(name)) {
		fd = open_checked(dirfd, name, e->inode);
		if (fd >= 0)
			return fd;
		err = fd;
	}
	fd = open_checked(AT_FDCWD, e->path, e->inode);
	return fd >= 0 ? fd : (err == -ESTALE ? err : fd);
}

/* The [vdso] is an ELF image in the process's memory: read it from
 * <proc>/PID/mem (needs ptrace access; silently no symbols without). */
static int read_vdso(struct symbolizer *s, int dirfd, const struct proc_maps_entry *e,
		     struct object **obj)
{
	size_t size = (size_t)(e->end - e->start);
	char *image;
	ssize_t r;
	int fd, err = 0;

	*obj = NULL;
	if (e->end - e->start > VDSO_MAX_SIZE || e->start > INT64_MAX)
		return 0;
	fd = openat(dirfd, "mem", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	image = malloc(size);
	if (!image) {
		close(fd);
		return -ENOMEM;
	}
	r = pread(fd, image, size, (off_t)e->start);
	if (r == (ssize_t)size)
		err = object_cache_get_image(s->objects, image, size, obj);
	free(image);
	close(fd);
	return err;
}

static int hex_to_bytes(const char *hex, uint8_t *out, size_t max)
{
	size_t n = 0;

	for (; hex[0] && hex[1] && n < max; hex += 2) {
		unsigned byte;

		if (sscanf(hex, "%2x", &byte) != 1)
			break;
		out[n++] = (uint8_t)byte;
	}
	return (int)n;
}

/* Gives obj the DWARF of its separate debug file when its own file has
 * none (stripped distribution binaries); searched once per object. */
static int attach_debug_file(struct symbolizer *s, pid_t pid, const char *path,
			     int obj_fd, struct object *obj)
{
	uint8_t build_id[64];
	char root[PATH_MAX];
	Elf *elf;
	int fd, n, err;

	if (obj->debug_searched || obj->dwarf || !obj->elf)
		return 0;
	obj->debug_searched = true;
	n = hex_to_bytes(obj->elf->build_id, build_id, sizeof(build_id));
	snprintf(root, sizeof(root), "%s/%d/root", s->proc_dir, (int)pid);
	elf = elf_begin(obj_fd, ELF_C_READ_MMAP, NULL);
	fd = debug_finder_find(s->debug, elf, n ? build_id : NULL, (size_t)n, root,
			       path[0] == '/' ? path : NULL, NULL);
	elf_end(elf);
	if (fd == -ENOMEM)
		return fd;
	if (fd < 0)
		return 0;
	err = object_cache_attach_dwarf(s->objects, obj, fd, path);
	close(fd);
	return err;
}

static int open_object(struct symbolizer *s, int dirfd, pid_t pid,
		       const struct proc_maps_entry *e, struct object **obj)
{
	int fd, err;

	*obj = NULL;
	if (e->path[0] == '[')
		return strcmp(e->path, "[vdso]") ? 0 : read_vdso(s, dirfd, e, obj);
	if (!e->inode && !e->path[0])
		return 0; /* anonymous executable memory: JIT code */
	fd = open_mapped_file(dirfd, e);
	if (fd < 0) {
		uint64_t dev = (uint64_t)e->dev_major << 32 | e->dev_minor;

		if (fd == -ENOENT && faccessat(dirfd, "maps", F_OK, 0))
			return -ESRCH; /* the process is gone */
		if (object_cache_note_unopenable(s->objects, dev, e->inode))
			fprintf(stderr, "symbolizer: open %s%s (pid %d): %s\n", e->path,
				e->deleted ? " (deleted)" : "", (int)pid, strerror(-fd));
		return 0;
	}
	err = object_cache_get_fd(s->objects, fd, e->path, obj);
	if (!err && *obj)
		err = attach_debug_file(s, pid, e->path, fd, *obj);
	close(fd);
	return err;
}

/* ---- snapshots -------------------------------------------------------- */

static bool same_mapping(const struct mapping *m, const struct proc_maps_entry *e)
{
	return m->pub.start == e->start && m->pub.limit == e->end &&
	       m->pub.file_offset == e->offset && m->ino == e->inode &&
	       m->dev == ((uint64_t)e->dev_major << 32 | e->dev_minor) &&
	       m->deleted == e->deleted && !strcmp(m->path, e->path);
}

/* Index of the mapping with the greatest start <= addr, or n if none. */
static size_t bisect(struct mapping *const *maps, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (maps[mid]->pub.start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? lo - 1 : n;
}

static int new_mapping(struct symbolizer *s, int dirfd, pid_t pid,
		       const struct proc_maps_entry *e, struct mapping **out)
{
	size_t len = strlen(e->path);
	struct mapping *m;
	struct object *obj;
	unsigned flags;
	int err;

	*out = NULL;
	err = open_object(s, dirfd, pid, e, &obj);
	if (err)
		return err;
	m = calloc(1, sizeof(*m) + len + 1);
	if (!m)
		return -ENOMEM;
	memcpy(m->path, e->path, len + 1);
	m->obj = obj;
	m->dev = (uint64_t)e->dev_major << 32 | e->dev_minor;
	m->ino = e->inode;
	m->deleted = e->deleted;
	flags = obj ? dwarf_index_flags(obj->dwarf) : 0;
	m->pub = (struct sym_mapping){
		.start = e->start,
		.limit = e->end,
		.file_offset = e->offset,
		.path = m->path,
		.build_id = object_build_id(obj),
		.has_functions = (obj && obj->elf && obj->elf->nsyms > 0) ||
				 (flags & DWARF_INDEX_FUNCTIONS),
		.has_filenames = !!(flags & DWARF_INDEX_LINES),
		.has_line_numbers = !!(flags & DWARF_INDEX_LINES),
		.has_inline_frames = !!(flags & DWARF_INDEX_FUNCTIONS),
	};
	*out = m;
	return 0;
}

static int cmp_mapping(const void *a, const void *b)
{
	const struct mapping *x = *(struct mapping *const *)a;
	const struct mapping *y = *(struct mapping *const *)b;

	return (x->pub.start > y->pub.start) - (x->pub.start < y->pub.start);
}

static void retire(struct process *p, struct mapping *m)
{
	m->retired = p->retired;
	p->retired = m;
}

/* Builds p's new mapping array from pm, reusing unchanged mappings. On
 * error p is left as it was. */
static int snapshot(struct symbolizer *s, struct process *p, int dirfd,
		    const struct proc_maps *pm)
{
	struct mapping **maps = NULL;
	bool *taken = NULL;
	size_t n = 0, nx = 0;
	int err = 0;

	for (size_t i = 0; i < pm->n; i++)
		nx += pm->entries[i].perms[2] == 'x';
	if (nx) {
		maps = calloc(nx, sizeof(*maps));
		if (!maps)
			return -ENOMEM;
	}
	if (p->nmaps) {
		taken = calloc(p->nmaps, sizeof(*taken));
		if (!taken) {
			free(maps);
			return -ENOMEM;
		}
	}
	for (size_t i = 0; i < pm->n; i++) {
		const struct proc_maps_entry *e = &pm->entries[i];
		size_t j = bisect(p->maps, p->nmaps, e->start);

		if (e->perms[2] != 'x')
			continue;
		if (j < p->nmaps && !taken[j] && same_mapping(p->maps[j], e)) {
			taken[j] = true;
			maps[n++] = p->maps[j];
			continue;
		}
		err = new_mapping(s, dirfd, p->pid, e, &maps[n]);
		if (err)
			break;
		n++;
	}
	if (err) { /* undo: drop only what this call created */
		for (size_t i = 0; i < n; i++) {
			size_t j = bisect(p->maps, p->nmaps, maps[i]->pub.start);

			if (!(j < p->nmaps && p->maps[j] == maps[i]))
				free_mapping(s, maps[i]);
		}
		free(maps);
		free(taken);
		return err;
	}
	for (size_t j = 0; j < p->nmaps; j++)
		if (!taken[j])
			retire(p, p->maps[j]);
	free(taken);
	free(p->maps);
	if (n)
		qsort(maps, n, sizeof(*maps), cmp_mapping);
	p->maps = maps;
	p->nmaps = n;
	p->err = 0;
	return 0;
}

/* The innermost pid of the last "NSpid:" line of /proc/PID/status: the
 * pid a process in a container knows itself by (and names its perf map
 * with). pid itself when the line is missing or malformed. */
static pid_t parse_nspid(const char *status, size_t len, pid_t pid)
{
	const char *p = status, *end = status + len, *line;
	long last = pid;

	while (p < end && (line = memmem(p, (size_t)(end - p), "NSpid:", 6))) {
		const char *eol = memchr(line, '\n', (size_t)(end - line));

		for (p = line + 6; p < (eol ? eol : end);) {
			char *num_end;
			long v = strtol(p, &num_end, 10);

			if (num_end == p)
				break;
			if (v > 0)
				last = v;
			p = num_end;
		}
		p = eol ? eol + 1 : end;
	}
	return (pid_t)last;
}

static pid_t read_nspid(int dirfd, pid_t pid)
{
	char *buf;
	size_t len;
	pid_t nspid;

	if (sym_read_file_at(dirfd, "status", 1 << 16, &buf, &len))
		return pid;
	nspid = parse_nspid(buf, len, pid);
	free(buf);
	return nspid;
}

int symbolizer_track_process(struct symbolizer *s, pid_t pid)
{
	struct proc_maps pm;
	struct process *p;
	char dir[PATH_MAX];
	int dirfd, err;

	if (!s || pid <= 0)
		return -EINVAL;
	p = find_process(s, pid);
	if (!p) {
		p = add_process(s, pid);
		if (!p)
			return -ENOMEM;
		p->err = -ESRCH; /* until a snapshot succeeds */
	}
	if (snprintf(dir, sizeof(dir), "%s/%d", s->proc_dir, (int)pid) >= (int)sizeof(dir)) {
		err = -ENAMETOOLONG;
		goto out;
	}

	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		err = errno == ENOENT ? -ESRCH : -errno;
		if (err != -ESRCH)
			fprintf(stderr, "symbolizer: open %s: %s\n", dir, strerror(-err));
		goto out;
	}
	err = proc_maps_read(dirfd, "maps", &pm);
	if (err == -ENOENT)
		err = -ESRCH;
	if (err) {
		if (err != -ESRCH)
			fprintf(stderr, "symbolizer: read %s/maps: %s\n", dir, strerror(-err));
		close(dirfd);
		goto out;
	}
	/* A process that had mappings and now has none is exiting (a zombie
	 * shows an empty maps): keep what we have. */
	if (p->nmaps) {
		size_t nx = 0;

		for (size_t i = 0; i < pm.n; i++)
			nx += pm.entries[i].perms[2] == 'x';
		if (!nx) {
			proc_maps_free(&pm);
			close(dirfd);
			return -ESRCH;
		}
	}
	err = snapshot(s, p, dirfd, &pm);
	proc_maps_free(&pm);
	if (!err)
		p->nspid = read_nspid(dirfd, pid);
	close(dirfd);
out:
	/* A known process keeps its last snapshot; an unknown one remembers
	 * the error so resolving does not retry on every address. */
	if (err && p->err)
		p->err = err;
	return err;
}

/* ---- resolving -------------------------------------------------------- */

/* Reads the process's perf map: under its root first (a container's
 * /tmp), then the host's /tmp. Missing files are normal (no JIT). */
static void load_jit_map(struct symbolizer *s, struct process *p)
{
	char path[PATH_MAX];
	char *buf = NULL;
	size_t len;

	p->jit_loaded = true;
	snprintf(path, sizeof(path), "%s/%d/root/tmp/perf-%d.map", s->proc_dir,
		 (int)p->pid, (int)(p->nspid ? p->nspid : p->pid));
	if (sym_read_file_at(AT_FDCWD, path, PERF_MAP_MAX_SIZE, &buf, &len)) {
		snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)p->pid);
		if (sym_read_file_at(AT_FDCWD, path, PERF_MAP_MAX_SIZE, &buf, &len))
			return;
	}
	if (perf_map_parse(buf, len, &p->jit, NULL))
		p->jit = NULL;
	free(buf);
}

static int resolve_jit(struct symbolizer *s, struct process *p, uint64_t addr,
		       struct sym_location *out)
{
	const char *name;

	if (!p->jit_loaded)
		load_jit_map(s, p);
	name = p->jit ? perf_map_lookup(p->jit, addr) : NULL;
	if (name) {
		out->frames[0].function = name;
		out->nframes = 1;
	}
	return 0;
}

int symbolizer_resolve_user(struct symbolizer *s, pid_t pid, uint64_t addr,
			    struct sym_location *out)
{
	const struct elf_object *elf;
	const struct elf_symbol *sym;
	struct process *p;
	struct mapping *m;
	uint64_t vaddr;
	size_t i;
	int n;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!s)
		return -EINVAL;
	p = find_process(s, pid);
	if (!p) {
		int err = symbolizer_track_process(s, pid);

		p = find_process(s, pid);
		if (!p)
			return err ? err : -ESRCH;
	}
	if (p->err)
		return p->err;

	i = bisect(p->maps, p->nmaps, addr);
	m = i < p->nmaps && addr < p->maps[i]->pub.limit ? p->maps[i] : NULL;
	if (m)
		out->mapping = &m->pub;
	if (!m || (!m->obj && !m->pub.path[0])) /* anonymous: JIT code? */
		return resolve_jit(s, p, addr, out);
	if (!m->obj || !m->obj->elf)
		return 0;
	elf = m->obj->elf;
	if (elf_object_file_to_vaddr(elf, addr - m->pub.start + m->pub.file_offset, &vaddr))
		return 0;
	sym = elf_object_lookup(elf, vaddr);
	n = m->obj->dwarf ? dwarf_index_lookup(m->obj->dwarf, vaddr, out->frames, SYM_MAX_FRAMES)
			  : 0;
	if (!n && sym)
		n = 1;
	if (n && sym) /* the out-of-line function: the ELF name, as without DWARF */
		out->frames[n - 1].function = elf_object_name(elf, sym);
	if (n && !out->frames[n - 1].function) /* lines, but no function */
		n = 0;
	if (!n)
		memset(out->frames, 0, sizeof(out->frames[0]));
	out->nframes = n;
	return 0;
}

static void load_kernel(struct symbolizer *s)
{
	char *buf;
	size_t len;
	int err;

	s->kernel_loaded = true;
	err = sym_read_file_at(AT_FDCWD, s->kallsyms_path, KALLSYMS_MAX_SIZE, &buf, &len);
	if (err) {
		fprintf(stderr, "symbolizer: open %s: %s\n", s->kallsyms_path, strerror(-err));
		s->kernel_err = err;
		return;
	}
	err = kallsyms_parse(buf, len, &s->ksyms);
	free(buf);
	if (err) {
		fprintf(stderr, "symbolizer: parse %s: %s\n", s->kallsyms_path, strerror(-err));
		s->kernel_err = err;
		return;
	}
	if (s->ksyms->hidden) {
		fprintf(stderr, "symbolizer: %s: kernel addresses are hidden; run as root "
				"or set sysctl kernel.kptr_restrict=0\n", s->kallsyms_path);
		s->kernel_err = -EPERM;
		return;
	}
	if (s->kallsyms_default &&
	    !sym_read_file_at(AT_FDCWD, KERNEL_NOTES, 1u << 16, &buf, &len)) {
		kernel_notes_build_id(buf, len, s->kbuild_id, sizeof(s->kbuild_id));
		free(buf);
	}
	s->kmap = (struct sym_mapping){
		.start = s->ksyms->start,
		.limit = s->ksyms->limit,
		.file_offset = 0,
		.path = "[kernel.kallsyms]",
		.build_id = s->kbuild_id,
		.has_functions = s->ksyms->n > 0,
	};
}

int symbolizer_resolve_kernel(struct symbolizer *s, uint64_t addr,
			      struct sym_location *out)
{
	const struct ksym *sym;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!s)
		return -EINVAL;
	if (!s->kernel_loaded)
		load_kernel(s);
	if (s->kernel_err)
		return s->kernel_err;
	out->mapping = &s->kmap;
	sym = kallsyms_lookup(s->ksyms, addr);
	if (sym) {
		out->frames[0].function = kallsyms_name(s->ksyms, sym);
		out->nframes = 1;
	}
	return 0;
}

/* ---- forgetting ------------------------------------------------------- */

int symbolizer_forget_process(struct symbolizer *s, pid_t pid)
{
	struct process **pp;

	if (!s)
		return -EINVAL;
	pp = &s->procs[pid_hash(pid, s->nprocs_buckets)];
	while (*pp && (*pp)->pid != pid)
		pp = &(*pp)->hnext;
	if (!*pp)
		return -ESRCH;
	struct process *p = *pp;

	*pp = p->hnext;
	s->nprocs--;
	free_process(s, p);
	return 0;
}

int symbolizer_forget_exited(struct symbolizer *s)
{
	char dir[PATH_MAX];
	int forgotten = 0;

	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < s->nprocs_buckets; i++) {
		struct process *p = s->procs[i], *next;

		for (; p; p = next) {
			next = p->hnext;
			snprintf(dir, sizeof(dir), "%s/%d", s->proc_dir, (int)p->pid);
			if (!access(dir, F_OK) || errno != ENOENT)
				continue;
			symbolizer_forget_process(s, p->pid);
			forgotten++;
		}
	}
	return forgotten;
}

int symbolizer_get_stats(const struct symbolizer *s, struct symbolizer_stats *out)
{
	struct object_cache_stats cs;

	if (!s || !out || out->sz < sizeof(*out))
		return -EINVAL;
	object_cache_stats(s->objects, &cs);
	*out = (struct symbolizer_stats){
		.sz = sizeof(*out),
		.cache_bytes = cs.bytes,
		.cache_cap_bytes = cs.cap,
		.objects = cs.objects,
		.object_hits = cs.hits,
		.object_misses = cs.misses,
		.build_id_hits = cs.build_id_hits,
		.evictions = cs.evictions,
		.processes = s->nprocs,
	};
	return 0;
}

/* ---- unwinding -------------------------------------------------------- */

/* unwind_find_fn over a process's mappings. */
static const struct cfi_table *find_cfi(void *ctx, uint64_t pc, uint64_t *bias)
{
	const struct process *p = ctx;
	size_t i = bisect(p->maps, p->nmaps, pc);
	const struct mapping *m;
	uint64_t vaddr;

	if (i == p->nmaps || pc >= p->maps[i]->pub.limit)
		return NULL;
	m = p->maps[i];
	if (!m->obj || !m->obj->cfi || !m->obj->elf ||
	    elf_object_file_to_vaddr(m->obj->elf, pc - m->pub.start + m->pub.file_offset, &vaddr))
		return NULL;
	*bias = pc - vaddr;
	return m->obj->cfi;
}

int symbolizer_unwind(struct symbolizer *s, pid_t pid,
		      const struct sym_stack_snapshot *snap, uint64_t *pcs,
		      size_t max, size_t *depth, enum sym_unwind_result *result)
{
	struct unwind_regs regs;
	struct unwind_stack stack;
	enum unwind_status status;
	struct process *p;
	int n;

	if (!s || !snap || !pcs || !depth || !result || max > INT_MAX)
		return -EINVAL;
	*depth = 0;
	p = find_process(s, pid);
	if (!p || p->err)
		return -ESRCH;
	regs = (struct unwind_regs){ .rip = snap->ip, .rsp = snap->sp, .rbp = snap->bp };
	stack = (struct unwind_stack){ .base = snap->base, .data = snap->data, .len = snap->len };
	n = unwind_snapshot(&regs, &stack, find_cfi, p, pcs, (int)max, &status);
	*depth = n > 0 ? (size_t)n : 0;
	switch (status) {
	case UNWIND_END:
		*result = SYM_UNWIND_COMPLETE;
		break;
	case UNWIND_TRUNCATED:
	case UNWIND_MAX_FRAMES:
		*result = SYM_UNWIND_TRUNCATED;
		break;
	default:
		*result = SYM_UNWIND_STOPPED;
		break;
	}
	return 0;
}
