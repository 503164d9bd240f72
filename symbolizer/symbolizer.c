/* symbolizer.c - processes, their mappings, and the kernel; see symbolizer.h.
 *
 * Layout of the state:
 *  - processes: a uthash table by pid. A process holds an array of
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
 * Opening a mapped file, in order, each through safe_open() (a regular
 * file only, never a FIFO or device, no symlink out of the process's root):
 *  1. <proc>/PID/map_files/<start>-<end>: the very file the process maps,
 *     even deleted or in another mount namespace; needs CAP_SYS_ADMIN.
 *  2. <path> resolved inside <proc>/PID/root (containers), tried only for a
 *     path that exists ("(deleted)" ones cannot be found by name) and only
 *     accepted if the inode matches /proc/PID/maps, so a file replaced
 *     since (an upgrade) is not used for the old mapping; no symlink on
 *     the way (a maps path has none).
 * Neither is done for a file a user's FUSE daemon may serve (it could
 * make us wait for good), known from the process's mountinfo without
 * touching the file: by device for major 0, by the mount points on the way
 * for a path (mount_refusal). The table is read at most once per snapshot.
 * Each directory access goes through one O_DIRECTORY fd of <proc>/PID, so
 * a pid reused by a new process mid-snapshot is noticed as ESRCH, not mixed.
 *
 * A process is (pid, start time): a pid reused by a new process is seen
 * when it is tracked again (the BPF side announces it anew) and starts
 * over, its old mappings retired. Retired mappings (replaced by a refresh:
 * dlclose, exec, reuse) stay valid for one more generation, then go
 * (symbolizer_forget_exited() ends a generation), so a process that
 * dlopens in a loop holds only its live mappings and the last interval's.
 *
 * JIT maps: /tmp/perf-<nspid>.map resolved inside the process's root, no
 * symlink on the way, under no user's FUSE mount (the root's mountinfo,
 * read then), owned by the process's euid or root, at most
 * PERF_MAP_MAX_BYTES, charged to the object cache's cap. When the process
 * is gone before its first JIT address is resolved, a process that ran in
 * our root has its map read from our /tmp; one in a container, from
 * nowhere (its /tmp is not ours).
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
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <uthash.h>

#include "debug_find.h"
#include "elf_limits.h"
#include "kallsyms.h"
#include "mountinfo.h"
#include "object_cache.h"
#include "opts.h"
#include "perf_map.h"
#include "proc_maps.h"
#include "proc_status.h"
#include "read_file.h"
#include "safe_open.h"
#include "sym_clock.h"
#include "sym_log.h"
#include "unwind.h"
#include "unwind_libunwind.h"

#define KALLSYMS_MAX_SIZE (256u << 20)
#define VDSO_MAX_SIZE (1u << 20)
/* ~200,000 JIT functions at 80 bytes a line; parsing one costs at most
 * this again (perf_map.h), and the map is then charged to the cache. */
#define PERF_MAP_MAX_BYTES (16u << 20)
#define KERNEL_NOTES "/sys/kernel/notes"
/* An address outside every mapping of a live process: it mapped code since
 * its maps were read (a dlopen, a Python extension, JIT code; or the maps
 * were read while ld.so was still mapping the libraries), or the address is
 * garbage. Its maps are read again, REFRESH_MIN_MS after the last read at
 * the earliest; each read that finds nothing new doubles that wait, up to
 * REFRESH_MAX_MS, so a process whose stacks hold garbage costs at most one
 * read a second, and one that just started is seen whole within ms. */
#define REFRESH_MIN_MS 10
#define REFRESH_MAX_MS 1000
/* A host's mount table with thousands of containers' mounts (overlay lines
 * of a few KiB each) stays under it; past it, the files that needed it are
 * not opened (see mount_refusal). */
#define MOUNTINFO_MAX_BYTES (4u << 20)

struct mapping {
	struct sym_mapping pub;  /* what callers get a pointer to */
	struct mapping *retired; /* link in process.retired */
	uint64_t retired_gen;    /* generation it was retired in */
	struct object *obj;      /* NULL: no object (anonymous, special, unopenable) */
	uint64_t dev;            /* major << 32 | minor, from maps */
	uint64_t ino;
	bool deleted;
	char path[];
};

struct process {
	UT_hash_handle hh;       /* in the table by pid (older ones: unused) */
	pid_t pid;
	pid_t nspid;             /* the pid in its own pid namespace */
	uid_t euid;              /* who may own its perf map (or root) */
	bool in_our_root;        /* its / is ours: its /tmp is our /tmp */
	uint64_t start_time;     /* with pid, who it is (clock ticks since boot,
	                            as /proc/PID/stat); 0: unknown */
	struct process *older;   /* earlier owners of the pid, newest first */
	uint64_t snapshot_ms;    /* when maps were last read (sym_now_ms) */
	uint64_t miss_wait_ms;   /* before a miss may read them again (0: min) */
	uint64_t maps_changes;   /* reads that opened or retired a mapping */
	uint64_t ended_gen;      /* of an older one: generation it was replaced */
	struct process *next_ended; /* in symbolizer.ended, once it exited */
	int err;                 /* nonzero: never tracked; returned by resolve */
	struct mapping **maps;   /* sorted by start */
	size_t nmaps;
	struct perf_map *jit;    /* /tmp/perf-PID.map, read on the first miss */
	size_t jit_bytes;        /* charged to the object cache */
	bool jit_loaded;
	struct mapping *retired; /* replaced by refreshes, newest first */
};

/* The mount table of one snapshot of one process, for its files that need
 * it (mount_table): read on the first, kept until another process's is
 * needed, its memory charged to the object cache. */
struct mount_view {
	bool valid;
	uint64_t pid_ino;     /* /proc/PID's inode: one process, not one pid */
	uint64_t snapshot_ms; /* the process's snapshot_ms: which snapshot */
	int err;              /* why it could not be read, or 0 */
	struct mountinfo table;
};

struct symbolizer {
	char *proc_dir;
	char *kallsyms_path;
	bool kallsyms_default;   /* read the build-id from /sys/kernel/notes */

	struct object_cache *objects;
	struct debug_finder *debug;
	struct process *procs;   /* uthash table, by pid */
	struct process *ended;   /* exited, out of procs: freed at the next
	                            symbolizer_forget_exited(), so that what was
	                            handed out of them (mappings a stack table
	                            keeps) outlives one more interval */

	uint64_t generation;     /* symbolizer_forget_exited() calls */
	dev_t root_dev;          /* our "/" */
	ino_t root_ino;
	uint64_t perf_maps_refused;
	struct mount_view mounts; /* of the process being snapshotted */
	uint64_t shm_dev;        /* memfd's internal tmpfs (see mount_refusal) */
	uint64_t files_refused_mounts; /* files not opened: see mount_refusal */
	unsigned mount_refusals_logged; /* a bit per enum mount_refusal */
	uint64_t frames_remapped, frames_stale; /* see symbolizer_stats */
	struct ulw *ulw;         /* the libunwind fallback; NULL: off */
	uint64_t ulw_completed;  /* stacks it completed */

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
	if (!OPTS_VALID(opts))
		return -EINVAL;
	proc_dir = OPT(opts, proc_dir, "/proc");
	kallsyms = OPT(opts, kallsyms_path, NULL);
	dopts.debug_root = OPT(opts, debug_root, NULL);
	dopts.debuginfod_urls = OPT(opts, debuginfod_urls, NULL);

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->proc_dir = strdup(proc_dir);
	s->kallsyms_default = !kallsyms;
	if (kallsyms)
		s->kallsyms_path = strdup(kallsyms);
	else if (asprintf(&s->kallsyms_path, "%s/kallsyms", proc_dir) < 0)
		s->kallsyms_path = NULL;
	{
		struct stat root;

		if (!stat("/", &root)) {
			s->root_dev = root.st_dev;
			s->root_ino = root.st_ino;
		}
	}
	cache_bytes = OPT(opts, cache_bytes, SYMBOLIZER_DEFAULT_CACHE_BYTES);
	err = object_cache_new(cache_bytes, OPT(opts, unwind_tables, 0), &s->objects);
	if (!err)
		err = debug_finder_new(&dopts, &s->debug);
	if (!err && OPT(opts, unwind_tables, 0) && !OPT(opts, no_libunwind, 0))
		err = ulw_new(ULW_DEFAULT_CACHE_BYTES, &s->ulw);
	if (err || !s->proc_dir || !s->kallsyms_path) {
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

/* Frees p's retired mappings from *pp on (the older ones: newest first). */
static void free_retired(struct symbolizer *s, struct mapping **pp)
{
	struct mapping *m = *pp, *next;

	*pp = NULL;
	for (; m; m = next) {
		next = m->retired;
		free_mapping(s, m);
	}
}

static void drop_jit(struct symbolizer *s, struct process *p)
{
	perf_map_free(p->jit);
	object_cache_uncharge(s->objects, p->jit_bytes);
	p->jit = NULL;
	p->jit_bytes = 0;
	p->jit_loaded = false;
}

static void free_process(struct symbolizer *s, struct process *p)
{
	while (p) {
		struct process *older = p->older;

		for (size_t i = 0; i < p->nmaps; i++)
			free_mapping(s, p->maps[i]);
		free(p->maps);
		free_retired(s, &p->retired);
		drop_jit(s, p);
		free(p);
		p = older;
	}
}

static void free_ended(struct symbolizer *s)
{
	while (s->ended) {
		struct process *p = s->ended;

		s->ended = p->next_ended;
		free_process(s, p);
	}
}

void symbolizer_free(struct symbolizer *s)
{
	if (!s)
		return;
	struct process *p, *next;

	HASH_ITER(hh, s->procs, p, next) {
		HASH_DELETE(hh, s->procs, p);
		free_process(s, p);
	}
	free_ended(s);
	mountinfo_free(&s->mounts.table);
	object_cache_free(s->objects);
	debug_finder_free(s->debug);
	ulw_free(s->ulw);
	kallsyms_free(s->ksyms);
	free(s->proc_dir);
	free(s->kallsyms_path);
	free(s);
}

/* ---- process table --------------------------------------------------- */

static struct process *find_process(const struct symbolizer *s, pid_t pid)
{
	struct process *p;

	HASH_FIND_INT(s->procs, &pid, p);
	return p;
}

/* A new, empty process in the table; NULL without memory. */
static struct process *add_process(struct symbolizer *s, pid_t pid)
{
	struct process *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->pid = pid;
	HASH_ADD_INT(s->procs, pid, p);
	if (!p->hh.tbl) { /* out of memory inside uthash: not added */
		free(p);
		return NULL;
	}
	return p;
}

/* ---- opening the object behind a mapping ----------------------------- */

/* fd, when it is the file the maps line named; else closed, -ESTALE: the
 * process mapped another file there since its maps were read (dlclose and
 * dlopen), or a path names another file now (an upgrade). Inode numbers
 * only: stat's device is not the one maps shows on btrfs. */
static int same_inode(int fd, const struct stat *st, const struct proc_maps_entry *e)
{
	if (fd >= 0 && e->inode && (uint64_t)st->st_ino != e->inode) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

/* The mount table for the files of the snapshot of pid in progress
 * (dirfd: its /proc/PID) in *out, read at most once per snapshot (see
 * struct mount_view). Returns 0, -ESRCH (the process is gone), or why it
 * cannot be read. A /proc without mountinfo (a test's tree) has no mounts. */
static int mount_table(struct symbolizer *s, int dirfd, pid_t pid,
		       const struct mountinfo **out)
{
	const struct process *p = find_process(s, pid);
	struct mount_view *v = &s->mounts;
	struct stat st;
	int err;

	*out = &v->table;
	if (fstat(dirfd, &st))
		return -errno;
	if (v->valid && v->pid_ino == st.st_ino && p && v->snapshot_ms == p->snapshot_ms)
		return v->err;
	object_cache_uncharge(s->objects, v->table.bytes);
	mountinfo_free(&v->table);
	err = mountinfo_read(dirfd, "mountinfo", MOUNTINFO_MAX_BYTES, &v->table);
	if (err == -ENOENT)
		err = faccessat(dirfd, "maps", F_OK, 0) ? -ESRCH : 0;
	object_cache_charge(s->objects, v->table.bytes);
	v->valid = p && err != -ESRCH;
	v->pid_ino = st.st_ino;
	v->snapshot_ms = p ? p->snapshot_ms : 0;
	v->err = err;
	return err;
}

/* The device of the kernel's internal tmpfs, which holds every memfd and
 * SysV shm segment (runc, for one, runs itself from a memfd): in no mount
 * table, and no FUSE. 0: unknown (no memfd_create). */
static uint64_t shm_dev(struct symbolizer *s)
{
	struct stat st;
	int fd;

	if (!s->shm_dev && (fd = memfd_create("bpfprof-shm-dev", MFD_CLOEXEC)) >= 0) {
		if (!fstat(fd, &st))
			s->shm_dev = (uint64_t)major(st.st_dev) << 32 | minor(st.st_dev);
		close(fd);
	}
	return s->shm_dev;
}

enum mount_refusal {
	MOUNT_OK,
	MOUNT_TABLE_TOO_BIG,
	MOUNT_TABLE_UNREADABLE,
	MOUNT_UNKNOWN_DEVICE,
	MOUNT_USER_FUSE,
	MOUNT_UNDER_USER_FUSE,
};

static const char *const mount_refusal_why[] = {
	[MOUNT_TABLE_TOO_BIG] = "its mount table is over 4 MiB",
	[MOUNT_TABLE_UNREADABLE] = "its mount table cannot be read",
	[MOUNT_UNKNOWN_DEVICE] = "its file system is not in its mount table",
	[MOUNT_USER_FUSE] = "served by a user's FUSE daemon",
	[MOUNT_UNDER_USER_FUSE] = "under a user's FUSE mount",
};

/* Whether a file of a process may be opened, from its mount table m (err:
 * why there is none): opening, even stat'ing, a file on FUSE waits for its
 * daemon, which a user who mounted it (with allow_other, or root could not
 * enter it at all) may never let answer. So a file of device major 0
 * (FUSE's: a user cannot mount fuseblk) must be on a mount the table knows
 * (not a detached one, say), or memfd's, and no user's FUSE mount
 * (mountinfo_user_fuse); a path (e NULL) must cross no user's FUSE mount
 * point, and is walked without symlinks, which could lead past that check.
 * Without the table, neither can be known: refused. */
static enum mount_refusal mount_refusal(struct symbolizer *s, const struct mountinfo *m, int err,
					const struct proc_maps_entry *e, const char *path)
{
	const struct mountinfo_entry *me;

	if (err == -EFBIG)
		return MOUNT_TABLE_TOO_BIG;
	if (err)
		return MOUNT_TABLE_UNREADABLE;
	if (e) {
		me = mountinfo_by_dev(m, e->dev_major, e->dev_minor);
		if (!me)
			return ((uint64_t)e->dev_major << 32 | e->dev_minor) == shm_dev(s) ?
				       MOUNT_OK : MOUNT_UNKNOWN_DEVICE;
		return mountinfo_user_fuse(me) ? MOUNT_USER_FUSE : MOUNT_OK;
	}
	return mountinfo_user_fuse_above(m, path) ? MOUNT_UNDER_USER_FUSE : MOUNT_OK;
}

/* 0 if pid's file e (by its device) or path (by the mount points on the
 * way) may be opened; else -EREMOTE with *why, or -ESRCH. */
static int mount_check(struct symbolizer *s, int dirfd, pid_t pid,
		       const struct proc_maps_entry *e, const char *path,
		       enum mount_refusal *why)
{
	const struct mountinfo *m;
	int err = mount_table(s, dirfd, pid, &m);

	if (err == -ESRCH)
		return err;
	*why = mount_refusal(s, m, err, e, path);
	return *why ? -EREMOTE : 0;
}

/* The file behind e, or -errno; -EREMOTE when *why (mount_refusal) says it
 * may not be opened. */
static int open_mapped_file(struct symbolizer *s, int dirfd, pid_t pid,
			    const struct proc_maps_entry *e, enum mount_refusal *why)
{
	char name[64];
	struct stat st;
	int fd, rootfd;

	*why = MOUNT_OK;
	/* Only major 0 can be FUSE; any file's path may cross a FUSE mount. */
	if (!e->dev_major && (fd = mount_check(s, dirfd, pid, e, NULL, why)))
		return fd;
	snprintf(name, sizeof(name), "map_files/%" PRIx64 "-%" PRIx64, e->start, e->end);
	fd = safe_open(dirfd, name, SAFE_OPEN_MAGIC_OK, ELF_MAX_FILE_BYTES, &st);
	if (fd >= 0 || fd == -EINVAL || fd == -EFBIG || e->deleted || e->path[0] != '/')
		return same_inode(fd, &st, e);
	if ((fd = mount_check(s, dirfd, pid, NULL, e->path, why)))
		return fd;
	rootfd = openat(dirfd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -errno;
	fd = safe_open(rootfd, e->path, SAFE_OPEN_IN_ROOT | SAFE_OPEN_NO_SYMLINKS,
		       ELF_MAX_FILE_BYTES, &st);
	close(rootfd);
	return same_inode(fd, &st, e);
}

/* The [vdso] is an ELF image in the process's memory: read it from
 * <proc>/PID/mem (needs ptrace access; silently no symbols without), and
 * symbolized with our own copy when it is the same (object_cache.h). */
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
		err = object_cache_get_vdso(s->objects, image, size, obj);
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
	elf = elf_begin(obj_fd, ELF_C_READ, NULL);
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
	enum mount_refusal why;
	int fd, err;

	*obj = NULL;
	if (e->path[0] == '[')
		return strcmp(e->path, "[vdso]") ? 0 : read_vdso(s, dirfd, e, obj);
	if (!e->inode && !e->path[0])
		return 0; /* anonymous executable memory: JIT code */
	fd = open_mapped_file(s, dirfd, pid, e, &why);
	if (fd < 0) {
		uint64_t dev = (uint64_t)e->dev_major << 32 | e->dev_minor;

		if (fd == -EREMOTE) { /* a user can make thousands: counted */
			s->files_refused_mounts++;
			if (!(s->mount_refusals_logged & 1u << why))
				sym_log(SYM_LOG_WARN, "%s (pid %d) not opened: %s "
					"(logged once; counted)", e->path, (int)pid,
					mount_refusal_why[why]);
			s->mount_refusals_logged |= 1u << why;
			return 0;
		}
		if (fd == -ESRCH || (fd == -ENOENT && faccessat(dirfd, "maps", F_OK, 0)))
			return -ESRCH; /* the process is gone */
		if (fd == -ESTALE)
			return 0; /* remapped since: the next refresh sees it */
		if (object_cache_note_unopenable(s->objects, dev, e->inode))
			sym_log(SYM_LOG_WARN, "open %s%s (pid %d): %s", e->path,
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

static void retire_now(struct symbolizer *s, struct process *p, struct mapping *m)
{
	m->retired_gen = s->generation;
	retire(p, m);
}

/* Builds p's new mapping array from pm, reusing unchanged mappings. On
 * error p is left as it was. */
static int snapshot(struct symbolizer *s, struct process *p, int dirfd,
		    const struct proc_maps *pm)
{
	struct mapping **maps = NULL;
	bool *taken = NULL;
	size_t n = 0, nx = 0, created = 0;
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
		created++;
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
			retire_now(s, p, p->maps[j]);
	p->maps_changes += created || n != p->nmaps; /* a new one, or one retired */
	free(taken);
	free(p->maps);
	if (n)
		qsort(maps, n, sizeof(*maps), cmp_mapping);
	p->maps = maps;
	p->nmaps = n;
	p->err = 0;
	return 0;
}

/* Who the process is: its start time (stat), the pid it knows itself by
 * and its euid (status), and whether its root is ours. The start time is
 * 0 when stat cannot be read. */
static void read_identity(struct symbolizer *s, int dirfd, pid_t pid, uint64_t *start_time,
			  struct proc_status *ps, bool *in_our_root)
{
	struct stat root;
	char *buf;
	size_t len;

	if (proc_read_start_time(dirfd, "stat", start_time))
		*start_time = 0;
	*ps = (struct proc_status){ .nspid = pid };
	if (!sym_read_file_at(dirfd, "status", 1 << 16, &buf, &len)) {
		if (proc_status_parse(buf, len, ps) || !ps->nspid)
			ps->nspid = pid;
		free(buf);
	}
	*in_our_root = !fstatat(dirfd, "root", &root, 0) && root.st_dev == s->root_dev &&
		       root.st_ino == s->root_ino;
}

/* A new process has the pid now: the old one's state moves to an older
 * incarnation, where its samples still find it until the next generation
 * ends; p starts empty. */
static int start_over(struct symbolizer *s, struct process *p)
{
	struct process *old = malloc(sizeof(*old));

	if (!old)
		return -ENOMEM;
	*old = *p; /* its hh is a copy: an older one is in no table */
	old->ended_gen = s->generation;
	*p = (struct process){ .hh = p->hh, .pid = p->pid, .err = -ESRCH, .older = old };
	return 0;
}

/* The incarnation of pid that started at start_time (ns since boot; 0:
 * the current one), tracking a newer one first seen now; NULL if unknown. */
static struct process *find_incarnation(struct symbolizer *s, pid_t pid, uint64_t start_time)
{
	struct process *p = find_process(s, pid);
	uint64_t ticks = start_time / proc_ns_per_tick();

	if (p && start_time && p->start_time && ticks > p->start_time) {
		symbolizer_track_process(s, pid); /* reused since it was tracked */
		p = find_process(s, pid);
	}
	if (!p || !start_time || !p->start_time || p->start_time == ticks)
		return p;
	for (p = p->older; p; p = p->older)
		if (p->start_time == ticks)
			return p;
	return NULL;
}

/* p's mapping holding addr, or NULL. */
static struct mapping *mapping_covering(const struct process *p, uint64_t addr)
{
	size_t i = bisect(p->maps, p->nmaps, addr);

	return i < p->nmaps && addr < p->maps[i]->pub.limit ? p->maps[i] : NULL;
}

/* Whether addr is in one of p's mappings. */
static bool mapped(const struct process *p, uint64_t addr)
{
	return mapping_covering(p, addr) != NULL;
}

/* p, the incarnation of its pid started at start_time, with its maps read
 * again if it is the pid's current owner and its miss wait has passed
 * (REFRESH_MIN_MS); NULL if it is gone from view. */
static struct process *refreshed(struct symbolizer *s, struct process *p, uint64_t start_time)
{
	uint64_t now = sym_now_ms(), wait = p->miss_wait_ms ? p->miss_wait_ms : REFRESH_MIN_MS;
	uint64_t changes = p->maps_changes;
	pid_t pid = p->pid;

	if (p != find_process(s, pid) || now - p->snapshot_ms < wait)
		return p;
	p->snapshot_ms = now; /* also when the process is gone */
	symbolizer_track_process(s, pid);
	if (p->maps_changes != changes)
		p->miss_wait_ms = REFRESH_MIN_MS;
	else
		p->miss_wait_ms = wait * 2 < REFRESH_MAX_MS ? wait * 2 : REFRESH_MAX_MS;
	return find_incarnation(s, pid, start_time);
}

/* p with maps that cover addr if the process mapped it since its last
 * snapshot (as refreshed()). */
static struct process *covering(struct symbolizer *s, struct process *p, uint64_t start_time,
				uint64_t addr)
{
	return mapped(p, addr) ? p : refreshed(s, p, start_time);
}

int symbolizer_track_process(struct symbolizer *s, pid_t pid)
{
	struct proc_status ps;
	struct proc_maps pm;
	struct process *p;
	char dir[PATH_MAX];
	uint64_t start_time;
	bool in_our_root;
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
			sym_log(SYM_LOG_WARN, "open %s: %s", dir, strerror(-err));
		goto out;
	}
	read_identity(s, dirfd, pid, &start_time, &ps, &in_our_root);
	if (p->start_time && start_time && start_time != p->start_time &&
	    (err = start_over(s, p))) {
		close(dirfd);
		goto out;
	}
	err = proc_maps_read(dirfd, "maps", &pm);
	if (err == -ENOENT)
		err = -ESRCH;
	if (err) {
		if (err != -ESRCH)
			sym_log(SYM_LOG_WARN, "read %s/maps: %s", dir, strerror(-err));
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
	if (!err) {
		p->snapshot_ms = sym_now_ms();
		p->start_time = start_time;
		p->nspid = ps.nspid;
		p->euid = ps.has_euid ? ps.euid : 0;
		p->in_our_root = in_our_root;
	}
	close(dirfd);
out:
	/* A known process keeps its last snapshot; an unknown one remembers
	 * the error so resolving does not retry on every address. */
	if (err && p->err)
		p->err = err;
	return err;
}

/* ---- resolving -------------------------------------------------------- */

/* The root to read p's perf map under, with that root's mount table in
 * *mounts (why there is none in *mounts_err; none at all in a /proc
 * without mountinfo, a test's tree): its own while it lives; ours after,
 * if it was ours. Read afresh: once per process. */
static int jit_root(struct symbolizer *s, const struct process *p, struct mountinfo *mounts,
		    int *mounts_err)
{
	char path[PATH_MAX];
	int fd = -1, dirfd;

	snprintf(path, sizeof(path), "%s/%d", s->proc_dir, (int)p->pid);
	dirfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd >= 0) {
		*mounts_err = mountinfo_read(dirfd, "mountinfo", MOUNTINFO_MAX_BYTES, mounts);
		fd = openat(dirfd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
		close(dirfd);
	}
	if (fd < 0 && errno == ENOENT && p->in_our_root) {
		mountinfo_free(mounts);
		snprintf(path, sizeof(path), "%s/self/mountinfo", s->proc_dir);
		*mounts_err = mountinfo_read(AT_FDCWD, path, MOUNTINFO_MAX_BYTES, mounts);
		fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	}
	if (*mounts_err == -ENOENT)
		*mounts_err = 0;
	return fd;
}

/* Reads the process's perf map (see the top of the file). Missing files
 * are normal (no JIT); refused ones are logged and counted. */
static void load_jit_map(struct symbolizer *s, struct process *p)
{
	struct mountinfo mounts = { 0 };
	const char *why = NULL;
	char name[64];
	struct stat st;
	char *buf = NULL;
	size_t len;
	int rootfd, err = 0;

	p->jit_loaded = true;
	rootfd = jit_root(s, p, &mounts, &err);
	if (rootfd < 0) {
		mountinfo_free(&mounts);
		return;
	}
	snprintf(name, sizeof(name), "/tmp/perf-%d.map", (int)(p->nspid ? p->nspid : p->pid));
	/* refused by its mounts: then not even looked up */
	why = mount_refusal_why[mount_refusal(s, &mounts, err, NULL, name)];
	mountinfo_free(&mounts);
	err = why ? -EREMOTE
		  : safe_read_file(rootfd, name,
				   SAFE_OPEN_IN_ROOT | SAFE_OPEN_NOFOLLOW | SAFE_OPEN_NO_SYMLINKS,
				   PERF_MAP_MAX_BYTES, &buf, &len, &st);
	close(rootfd);
	if (err == -ENOENT)
		return;
	if (!err && st.st_uid != p->euid && st.st_uid != 0)
		why = "owned by another user";
	else if (!err && !object_cache_room(s->objects))
		why = "the symbolizer's cache is full";
	else if (err == -EFBIG)
		why = "larger than 16 MiB";
	else if (err == -ELOOP)
		why = "a symbolic link";
	else if (err == -EINVAL)
		why = "not a regular file";
	else if (!err && perf_map_parse(buf, len, &p->jit, NULL))
		why = "out of memory";
	free(buf);
	if (why || err) {
		if (!s->perf_maps_refused++)
			sym_log(SYM_LOG_WARN, "perf map %s of pid %d ignored: %s "
				"(logged once; counted)", name, (int)p->pid,
				why ? why : strerror(-err));
		return;
	}
	p->jit_bytes = perf_map_memory(p->jit);
	object_cache_charge(s->objects, p->jit_bytes);
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
	return symbolizer_resolve_user_sampled(s, pid, 0, NULL, addr, out);
}

int symbolizer_resolve_user_at(struct symbolizer *s, pid_t pid, uint64_t start_time,
			       uint64_t addr, struct sym_location *out)
{
	return symbolizer_resolve_user_sampled(s, pid, start_time, NULL, addr, out);
}

static bool same_device(const struct mapping *m, const struct sym_vma *v)
{
	return m->dev == ((uint64_t)v->dev_major << 32 | v->dev_minor);
}

/* Whether m maps what the sample saw: the file, at the same base. */
static bool sampled_file(const struct mapping *m, const struct sym_vma *v)
{
	return m->ino == v->ino && m->pub.start - m->pub.file_offset == v->base &&
	       same_device(m, v);
}

/* Whether m (NULL: none) may name addr of a sample whose pc was in leaf:
 * addr is outside the leaf's vma, or m maps that file (or one on another
 * device: see struct sym_vma). */
static bool names_sample(const struct mapping *m, const struct sym_vma *leaf, uint64_t addr)
{
	return !leaf || !leaf->ino || addr < leaf->start || addr >= leaf->end ||
	       (m && (sampled_file(m, leaf) || !same_device(m, leaf)));
}

enum mapping_found { MAPPING_CURRENT, MAPPING_RETIRED, MAPPING_STALE };

/* The mapping of p at addr to name it with (see struct sym_vma): the
 * current one (or NULL: none), a retired one, or none because the one
 * there is of another file than the sample saw (MAPPING_STALE). */
static enum mapping_found mapping_for(const struct process *p, uint64_t addr,
				      const struct sym_vma *leaf, struct mapping **out)
{
	struct mapping *m = mapping_covering(p, addr);

	*out = m;
	if (names_sample(m, leaf, addr))
		return MAPPING_CURRENT;
	for (struct mapping *r = p->retired; r; r = r->retired) {
		if (addr >= r->pub.start && addr < r->pub.limit && sampled_file(r, leaf)) {
			*out = r;
			return MAPPING_RETIRED;
		}
	}
	*out = NULL;
	return MAPPING_STALE;
}

int symbolizer_track_mapping(struct symbolizer *s, pid_t pid, const struct sym_vma *v)
{
	struct process *p = s && v ? find_process(s, pid) : NULL;
	struct mapping *m;

	if (p && !p->err && mapping_for(p, v->start, v, &m) == MAPPING_CURRENT && m)
		return 0;
	return symbolizer_track_process(s, pid);
}

/* The ELF address of addr in m's object; false when m has none. */
static bool object_vaddr(const struct mapping *m, uint64_t addr, uint64_t *vaddr)
{
	return m->obj && m->obj->elf &&
	       !elf_object_file_to_vaddr(m->obj->elf, addr - m->pub.start + m->pub.file_offset,
					 vaddr);
}

int symbolizer_locate(struct symbolizer *s, pid_t pid, uint64_t start_time,
		      const struct sym_vma *leaf, const struct sym_mapping *mapping,
		      uint64_t addr, struct sym_location *out)
{
	struct process *p;
	enum mapping_found found;
	const struct mapping *given = (const struct mapping *)mapping; /* pub comes first */
	struct mapping *m;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!s)
		return -EINVAL;
	/* The unwinder's mapping names the address as it is, but for JIT code
	 * (the process's perf map) and a sample whose leaf file it is not. */
	if (given && (given->obj || given->pub.path[0]) && names_sample(given, leaf, addr)) {
		out->mapping = mapping;
		if (object_vaddr(given, addr, &out->vaddr))
			out->object = given->obj;
		return 0;
	}
	p = find_process(s, pid);
	if (!p) {
		int err = symbolizer_track_process(s, pid);

		p = find_process(s, pid);
		if (!p)
			return err ? err : -ESRCH;
	}
	p = find_incarnation(s, pid, start_time);
	if (p && !p->err)
		p = covering(s, p, start_time, addr);
	if (!p)
		return -ESRCH;
	if (p->err)
		return p->err;

	found = mapping_for(p, addr, leaf, &m);
	if (found == MAPPING_STALE && (p = refreshed(s, p, start_time)) && !p->err)
		found = mapping_for(p, addr, leaf, &m); /* still mapped? */
	if (found == MAPPING_STALE || !p || p->err) {
		s->frames_stale++;
		return 0;
	}
	s->frames_remapped += found == MAPPING_RETIRED;
	if (m)
		out->mapping = &m->pub;
	if (!m || (!m->obj && !m->pub.path[0])) /* anonymous: JIT code? */
		return resolve_jit(s, p, addr, out);
	if (object_vaddr(m, addr, &out->vaddr))
		out->object = m->obj;
	return 0;
}

void symbolizer_resolve_object(struct sym_location *out)
{
	const struct object *o = out->object;
	const struct elf_object *elf = o->elf;
	const struct elf_symbol *sym = elf_object_lookup(elf, out->vaddr);
	int n = o->dwarf ? dwarf_index_lookup(o->dwarf, out->vaddr, out->frames, SYM_MAX_FRAMES)
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
}

int symbolizer_resolve_user_sampled(struct symbolizer *s, pid_t pid, uint64_t start_time,
				    const struct sym_vma *leaf, uint64_t addr,
				    struct sym_location *out)
{
	int err = symbolizer_locate(s, pid, start_time, leaf, NULL, addr, out);

	if (!err && out->object)
		symbolizer_resolve_object(out);
	return err;
}

static void load_kernel(struct symbolizer *s)
{
	char *buf;
	size_t len;
	int err;

	s->kernel_loaded = true;
	err = sym_read_file_at(AT_FDCWD, s->kallsyms_path, KALLSYMS_MAX_SIZE, &buf, &len);
	if (err) {
		sym_log(SYM_LOG_WARN, "open %s: %s", s->kallsyms_path, strerror(-err));
		s->kernel_err = err;
		return;
	}
	err = kallsyms_parse(buf, len, &s->ksyms);
	free(buf);
	if (err) {
		sym_log(SYM_LOG_WARN, "parse %s: %s", s->kallsyms_path, strerror(-err));
		s->kernel_err = err;
		return;
	}
	if (s->ksyms->hidden) {
		sym_log(SYM_LOG_WARN, "%s: kernel addresses are hidden; run as root "
				"(CAP_SYSLOG) or set sysctl kernel.kptr_restrict=0",
				s->kallsyms_path);
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

int symbolizer_load_kernel(struct symbolizer *s)
{
	if (!s)
		return -EINVAL;
	if (!s->kernel_loaded)
		load_kernel(s);
	return s->kernel_err;
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
	if (symbolizer_load_kernel(s))
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
	struct process *p;

	if (!s)
		return -EINVAL;
	p = find_process(s, pid);
	if (!p)
		return -ESRCH;
	HASH_DELETE(hh, s->procs, p);
	free_process(s, p);
	return 0;
}

/* Whether the process p names is gone: no <proc>/PID, or another
 * process with its pid (a later start time). */
static bool exited(const struct symbolizer *s, const struct process *p)
{
	char path[PATH_MAX];
	uint64_t start_time;
	int err;

	snprintf(path, sizeof(path), "%s/%d/stat", s->proc_dir, (int)p->pid);
	err = proc_read_start_time(AT_FDCWD, path, &start_time);
	if (err == -ENOENT || err == -ESRCH)
		return true;
	return !err && p->start_time && start_time != p->start_time;
}

/* Frees what p's pid kept from before the generation that just ended:
 * retired mappings, and earlier owners of the pid. */
static void free_old_retired(struct symbolizer *s, struct process *p)
{
	struct mapping **pp = &p->retired;
	struct process **op = &p->older;

	while (*pp && (*pp)->retired_gen + 1 >= s->generation)
		pp = &(*pp)->retired;
	free_retired(s, pp);
	while (*op && (*op)->ended_gen + 1 >= s->generation)
		op = &(*op)->older;
	free_process(s, *op);
	*op = NULL;
}

int symbolizer_forget_exited(struct symbolizer *s)
{
	struct process *p, *next;
	int forgotten = 0;

	if (!s)
		return -EINVAL;
	s->generation++;
	free_ended(s); /* those of the call before */
	HASH_ITER(hh, s->procs, p, next) {
		if (exited(s, p)) {
			HASH_DELETE(hh, s->procs, p);
			p->next_ended = s->ended;
			s->ended = p;
			forgotten++;
		} else {
			free_old_retired(s, p);
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
		.processes = HASH_COUNT(s->procs),
		.files_refused = cs.files_refused + s->files_refused_mounts,
		.objects_over_budget = cs.over_budget,
		.perf_maps_refused = s->perf_maps_refused,
		.unwind_libunwind_completed = s->ulw_completed,
		.unwind_libunwind_bytes = ulw_cache_memory(s->ulw),
		.frames_remapped = s->frames_remapped,
		.frames_stale = s->frames_stale,
	};
	return 0;
}

/* ---- unwinding -------------------------------------------------------- */

/* m (NULL: none) when it has an object, with the load bias of pc in it. */
static const struct mapping *with_object(const struct mapping *m, uint64_t pc, uint64_t *bias)
{
	uint64_t vaddr;

	if (!m || !object_vaddr(m, pc, &vaddr))
		return NULL;
	*bias = pc - vaddr;
	return m;
}

/* One walk's view of a process: the unwinder asks find_cfi() once per
 * frame, in order, for the pc it symbolizes (the call site of a return
 * address), and the mapping found is noted for the caller. */
struct cfi_walk {
	const struct process *p;
	const struct sym_mapping **maps; /* maps[i] for pcs[i]; NULL: not wanted */
	int n, max;
};

/* unwind_find_fn over a process's mappings. */
static const struct cfi_table *find_cfi(void *ctx, uint64_t pc, uint64_t *bias)
{
	struct cfi_walk *w = ctx;
	const struct mapping *m = mapping_covering(w->p, pc);

	if (w->maps && w->n < w->max)
		w->maps[w->n++] = m ? &m->pub : NULL;
	m = with_object(m, pc, bias);
	return m ? m->obj->cfi : NULL;
}

/* The libunwind fallback's view of one process for one walk. An object's
 * .eh_frame_hdr and .eh_frame are read the first time a fallback needs
 * them, from the mapped file, and kept (unwind_libunwind.h) only when it
 * is the very file version the object was parsed from: a mapping of an
 * alias (another file, same contents) is not read, its owner could have
 * changed it since. */
struct lu_walk {
	struct symbolizer *s;
	const struct process *p;
	const struct mapping *m; /* the one lu_open() opens */
	int dirfd;               /* <proc>/PID, opened on the first miss; or -1 */
};

static int lu_open(void *ctx)
{
	struct lu_walk *w = ctx;
	struct proc_maps_entry e = {
		.start = w->m->pub.start,
		.end = w->m->pub.limit,
		.offset = w->m->pub.file_offset,
		.inode = w->m->ino,
		.dev_major = (uint32_t)(w->m->dev >> 32),
		.dev_minor = (uint32_t)w->m->dev,
		.deleted = w->m->deleted,
		.path = w->m->path,
	};
	char dir[PATH_MAX];
	enum mount_refusal why;

	if (w->dirfd < 0) {
		if (snprintf(dir, sizeof(dir), "%s/%d", w->s->proc_dir, (int)w->p->pid) >=
		    (int)sizeof(dir))
			return -ENAMETOOLONG;
		w->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (w->dirfd < 0)
			return -errno;
	}
	return open_mapped_file(w->s, w->dirfd, w->p->pid, &e, &why);
}

/* ulw_find_fn over a process's mappings of files. */
static const struct ulw_object *lu_find(void *ctx, uint64_t pc, uint64_t *bias)
{
	struct lu_walk *w = ctx;
	const struct mapping *m = with_object(mapping_covering(w->p, pc), pc, bias);
	const struct object *o;
	struct ulw_file_id id;

	if (!m || m->path[0] != '/')
		return NULL; /* the [vdso]: no file */
	o = m->obj;
	id = (struct ulw_file_id){ o->dev, o->ino, o->size, o->mtime_sec, o->mtime_nsec,
				   o->ctime_sec, o->ctime_nsec };
	w->m = m;
	return ulw_object_get(w->s->ulw, &id, lu_open, w);
}

/* Our walk (pcs[0..n)) stopped at a rule it does not follow: libunwind's
 * walk of the same snapshot replaces it when complete and when it starts
 * with ours (both read the same CFI; where they disagree one is wrong, and
 * ours is the one the tests hold to libdw). Returns the new depth, or 0. */
static int lu_complete(struct symbolizer *s, const struct process *p,
		       const struct unwind_regs *regs, const struct unwind_stack *stack,
		       uint64_t *pcs, bool *exact, int max, int n)
{
	struct lu_walk w = { .s = s, .p = p, .dirfd = -1 };
	enum unwind_status status;
	uint64_t *lu = malloc((size_t)max * (sizeof(*lu) + sizeof(*exact)));
	bool *lu_exact = (bool *)(lu + max);
	int m = 0;

	if (lu)
		m = ulw_unwind(s->ulw, regs, stack, lu_find, &w, lu, lu_exact, max, &status);
	if (w.dirfd >= 0)
		close(w.dirfd);
	if (m > n && status == UNWIND_END && !memcmp(lu, pcs, (size_t)n * sizeof(*pcs))) {
		memcpy(pcs, lu, (size_t)m * sizeof(*pcs));
		if (exact)
			memcpy(exact, lu_exact, (size_t)m * sizeof(*exact));
		s->ulw_completed++;
	} else {
		m = 0;
	}
	free(lu);
	return m;
}

/* One walk of snap over p's mappings, each frame's mapping in maps (NULL:
 * not wanted); libunwind completes it where our CFI has a rule we do not
 * follow. */
static int walk(struct symbolizer *s, const struct process *p,
		const struct sym_stack_snapshot *snap, uint64_t *pcs, bool *exact,
		const struct sym_mapping **maps, int max, enum unwind_status *status)
{
	struct unwind_regs regs = { .rip = snap->ip, .rsp = snap->sp, .rbp = snap->bp };
	struct unwind_stack stack = { .base = snap->base, .data = snap->data, .len = snap->len };
	struct cfi_walk w = { .p = p, .maps = maps, .max = max };
	int n = unwind_snapshot(&regs, &stack, find_cfi, &w, pcs, exact, max, status);
	int m;

	/* Only there: where no CFI covers a pc (JIT code) libunwind knows no
	 * more than we do, and trying it on each such sample would cost. */
	if (*status == UNWIND_UNSUPPORTED && s->ulw &&
	    (m = lu_complete(s, p, &regs, &stack, pcs, exact, max, n))) {
		n = m;
		*status = UNWIND_END;
		for (int i = 0; maps && i < n; i++) { /* its frames, looked up here */
			const struct mapping *at = mapping_covering(p, exact[i] ? pcs[i] : pcs[i] - 1);

			maps[i] = at ? &at->pub : NULL;
		}
	}
	return n;
}

/* Whether the walk went through a pc in none of p's mappings. */
static bool left_maps(const struct process *p, const uint64_t *pcs, int n)
{
	for (int i = 0; i < n; i++)
		if (!mapped(p, pcs[i]))
			return true;
	return false;
}

int symbolizer_unwind(struct symbolizer *s, pid_t pid,
		      const struct sym_stack_snapshot *snap, uint64_t *pcs, bool *exact,
		      const struct sym_mapping **maps, size_t max, size_t *depth,
		      enum sym_unwind_result *result)
{
	enum unwind_status status;
	struct process *p, *q;
	uint64_t changes;
	int n;

	if (!s || !snap || !pcs || !depth || !result || max > INT_MAX || (maps && !exact))
		return -EINVAL;
	*depth = 0;
	p = find_incarnation(s, pid, snap->start_time);
	if (p && !p->err)
		p = covering(s, p, snap->start_time, snap->ip);
	if (!p || p->err)
		return -ESRCH;
	n = walk(s, p, snap, pcs, exact, maps, (int)max, &status);
	/* A caller in code mapped since the maps were read: again, with the
	 * maps read again (a frame of a library ld.so had not mapped yet when
	 * the process was first sampled; one dlopened since). */
	changes = p->maps_changes;
	if (status != UNWIND_END && left_maps(p, pcs, n) &&
	    (q = refreshed(s, p, snap->start_time)) && !q->err &&
	    (q != p || q->maps_changes != changes)) {
		n = walk(s, q, snap, pcs, exact, maps, (int)max, &status);
	}
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

int symbolizer_open_mapping(struct symbolizer *s, pid_t pid, const struct proc_maps_entry *e)
{
	char dir[PATH_MAX];
	enum mount_refusal why;
	int dirfd, fd;

	if (snprintf(dir, sizeof(dir), "%s/%d", s->proc_dir, (int)pid) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	fd = open_mapped_file(s, dirfd, pid, e, &why);
	close(dirfd);
	return fd;
}

bool symbolizer_charge(struct symbolizer *s, size_t bytes)
{
	if (!object_cache_room(s->objects))
		return false;
	object_cache_charge(s->objects, bytes);
	return true;
}

void symbolizer_uncharge(struct symbolizer *s, size_t bytes)
{
	object_cache_uncharge(s->objects, bytes);
}
