/* object_cache.c - see object_cache.h.
 *
 * One chained hash table holds file objects and "could not open" markers,
 * keyed by (kind, dev, ino); the [vdso] is one object of its own. An
 * object replaced in the table because its file changed leaves the table
 * at once (before anything else looks at the table, so nothing can alias
 * it on the way out) and is freed when its last reference goes.
 * Unreferenced objects in the table are on a doubly linked LRU list, most
 * recently released first. The build-id index is keyed by (build-id, owner
 * uid).
 */
#include "object_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf_limits.h"
#include "proc_maps.h"
#include "sym_log.h"

enum { OBJ_FILE, OBJ_IMAGE, OBJ_UNOPENABLE };

#define VDSO_MAX_SIZE (1u << 20)

#define BUILD_ID_BUCKETS 1024 /* chains stay short: objects are capped */

struct object_cache {
	struct object **buckets;
	size_t nbuckets;   /* power of two */
	size_t count;      /* entries in the table */
	struct object *vdso;      /* ours, parsed on first use */
	bool vdso_tried;
	const void *vdso_image;   /* our own [vdso] in memory */
	size_t vdso_size;
	struct object *lru_head, *lru_tail; /* unreferenced, in the table */
	struct object *by_build_id[BUILD_ID_BUCKETS];
	size_t cap;        /* 0: none */
	bool cfi;          /* build unwind tables */
	struct object_cache_stats stats;
};

static size_t hash_key(int kind, uint64_t dev, uint64_t ino, size_t nbuckets)
{
	uint64_t h = dev * 0x9e3779b97f4a7c15ull ^ ino ^ ((uint64_t)kind << 56);

	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 29;
	return (size_t)h & (nbuckets - 1);
}

int object_cache_new(size_t cap_bytes, bool cfi, struct object_cache **out)
{
	struct object_cache *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->cap = cap_bytes;
	c->cfi = cfi;
	c->stats.cap = cap_bytes;
	c->nbuckets = 256;
	c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
	if (!c->buckets) {
		free(c);
		return -ENOMEM;
	}
	*out = c;
	return 0;
}

static size_t build_id_hash(const char *hex)
{
	uint64_t h = 1469598103934665603ull;

	for (; *hex; hex++)
		h = (h ^ (unsigned char)*hex) * 1099511628211ull;
	return (size_t)h & (BUILD_ID_BUCKETS - 1);
}

/* A build-id is the same build only as far as its owner says so: anyone
 * can copy a binary and edit its strings without touching the note. So a
 * file is shared with a cached object only when both belong to the same
 * user: root's libc with root's libc in every container, never one user's
 * copy with another's (or root's) original. */
static struct object *find_by_build_id(struct object_cache *c, const char *hex, uint32_t uid)
{
	struct object *o = c->by_build_id[build_id_hash(hex)];

	while (o && (o->uid != uid || strcmp(o->elf->build_id, hex)))
		o = o->bnext;
	return o;
}

/* Indexes a parsed file object by its build-id, unless one is there. */
static void index_build_id(struct object_cache *c, struct object *o)
{
	size_t h;

	if (!o->elf || !o->elf->build_id[0] || find_by_build_id(c, o->elf->build_id, o->uid))
		return;
	h = build_id_hash(o->elf->build_id);
	o->bnext = c->by_build_id[h];
	c->by_build_id[h] = o;
}

static void unindex_build_id(struct object_cache *c, struct object *o)
{
	struct object **pp;

	if (!o->elf || !o->elf->build_id[0])
		return;
	for (pp = &c->by_build_id[build_id_hash(o->elf->build_id)]; *pp; pp = &(*pp)->bnext) {
		if (*pp == o) {
			*pp = o->bnext;
			return;
		}
	}
}

static void unlink_from_table(struct object_cache *c, struct object *o);

/* An alias leaving the table is unhooked from its object's list. */
static void unhook_alias(struct object *alias)
{
	struct object **pp = &alias->alias_of->aliases;

	while (*pp != alias)
		pp = &(*pp)->alias_next;
	*pp = alias->alias_next;
}

static void free_object(struct object_cache *c, struct object *o)
{
	while (o->aliases) { /* they name contents about to go */
		struct object *a = o->aliases;

		o->aliases = a->alias_next;
		unlink_from_table(c, a);
		c->stats.bytes -= a->bytes;
		c->stats.objects--;
		free(a);
	}
	unindex_build_id(c, o);
	c->stats.bytes -= o->bytes;
	c->stats.objects--;
	elf_object_free(o->elf);
	dwarf_index_free(o->dwarf);
	cfi_table_free(o->cfi);
	free(o);
}

/* Frees everything still cached: objects in the table (referenced or not)
 * and images. Objects replaced in the table were freed by their last
 * release, which the symbolizer does before calling this. */
void object_cache_free(struct object_cache *c)
{
	struct object *o, *next;

	if (!c)
		return;
	/* Aliases are freed as table entries of their own, not by their
	 * object (which would unlink them from the chains being walked). */
	for (size_t i = 0; i < c->nbuckets; i++)
		for (o = c->buckets[i]; o; o = o->hnext)
			o->aliases = NULL;
	for (size_t i = 0; i < c->nbuckets; i++) {
		for (o = c->buckets[i]; o; o = next) {
			next = o->hnext;
			if (o->alias_of)
				free(o);
			else
				free_object(c, o);
		}
	}
	if (c->vdso)
		free_object(c, c->vdso);
	free(c->buckets);
	free(c);
}

static void lru_unlink(struct object_cache *c, struct object *o)
{
	*(o->lru_prev ? &o->lru_prev->lru_next : &c->lru_head) = o->lru_next;
	*(o->lru_next ? &o->lru_next->lru_prev : &c->lru_tail) = o->lru_prev;
	o->lru_prev = o->lru_next = NULL;
}

static void lru_push_head(struct object_cache *c, struct object *o)
{
	o->lru_prev = NULL;
	o->lru_next = c->lru_head;
	*(c->lru_head ? &c->lru_head->lru_prev : &c->lru_tail) = o;
	c->lru_head = o;
}

static struct object **find_slot(struct object_cache *c, int kind, uint64_t dev,
				 uint64_t ino)
{
	struct object **pp = &c->buckets[hash_key(kind, dev, ino, c->nbuckets)];

	for (; *pp; pp = &(*pp)->hnext)
		if ((*pp)->kind == kind && (*pp)->dev == dev && (*pp)->ino == ino)
			break;
	return pp;
}

/* Doubles the table when it holds more entries than buckets. Failing to
 * grow is harmless: chains just get longer. */
static void maybe_grow(struct object_cache *c)
{
	size_t n = c->nbuckets * 2;
	struct object **nb;

	if (c->count < c->nbuckets || n > SIZE_MAX / sizeof(*nb))
		return;
	nb = calloc(n, sizeof(*nb));
	if (!nb)
		return;
	for (size_t i = 0; i < c->nbuckets; i++) {
		struct object *o = c->buckets[i], *next;

		for (; o; o = next) {
			size_t h = hash_key(o->kind, o->dev, o->ino, n);

			next = o->hnext;
			o->hnext = nb[h];
			nb[h] = o;
		}
	}
	free(c->buckets);
	c->buckets = nb;
	c->nbuckets = n;
}

static struct object *new_object(struct object_cache *c, int kind)
{
	struct object *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->kind = kind;
	o->bytes = sizeof(*o);
	c->stats.bytes += o->bytes;
	c->stats.objects++;
	return o;
}

static void add_bytes(struct object_cache *c, struct object *o, size_t bytes)
{
	o->bytes += bytes;
	c->stats.bytes += bytes;
}

static void unlink_from_table(struct object_cache *c, struct object *o)
{
	struct object **pp = find_slot(c, o->kind, o->dev, o->ino);

	if (*pp == o) {
		*pp = o->hnext;
		c->count--;
	}
	o->in_table = false;
}

/* Frees least recently used unreferenced objects while over the cap. */
static void trim(struct object_cache *c)
{
	while (c->cap && c->stats.bytes > c->cap && c->lru_tail) {
		struct object *o = c->lru_tail;

		lru_unlink(c, o);
		unlink_from_table(c, o);
		free_object(c, o);
		c->stats.evictions++;
	}
}

static void take_ref(struct object_cache *c, struct object *o)
{
	if (o->refs++ == 0 && o->in_table)
		lru_unlink(c, o);
}

void object_cache_release(struct object_cache *c, struct object *o)
{
	if (!o || o->kind == OBJ_IMAGE || o->refs == 0 || --o->refs)
		return;
	if (!o->in_table) {
		free_object(c, o);
		return;
	}
	lru_push_head(c, o);
	trim(c);
}

/* Takes the entry at *slot, an older version of the file, out of the
 * table: an alias is freed, an object freed now if unused, else by its
 * last release. */
static void drop_stale(struct object_cache *c, struct object **slot)
{
	struct object *old = *slot;

	*slot = old->hnext;
	c->count--;
	old->in_table = false;
	if (old->alias_of) {
		unhook_alias(old);
		c->stats.bytes -= old->bytes;
		c->stats.objects--;
		free(old);
	} else if (old->refs == 0) {
		lru_unlink(c, old);
		free_object(c, old);
	}
}

/* Puts o in the table at slot, which must be empty (see drop_stale). */
static void insert(struct object_cache *c, struct object **slot, struct object *o)
{
	o->in_table = true;
	o->hnext = *slot;
	*slot = o;
	c->count++;
	maybe_grow(c);
}

/* Counts a file (or its DWARF or CFI: what) left unread over a cap; the
 * first is logged, the rest only counted (a user can make thousands). */
static void note_refused(struct object_cache *c, const char *what, const char *name,
			 const char *why)
{
	if (!c->stats.files_refused++)
		sym_log(SYM_LOG_WARN, "%s%s not read: %s (logged once; counted)", what,
			name, why);
}

/* Builds the object's unwind table; an object without CFI is normal. */
static int attach_cfi(struct object_cache *c, struct object *o, int fd, const char *name)
{
	int err = cfi_table_build(fd, &o->cfi);

	if (err == -ENOMEM)
		return err;
	if (err == -E2BIG) /* over a cap of cfi_table.h: no CFI, like none */
		note_refused(c, "CFI of ", name, "over the caps of its rows");
	else if (err && err != -ENODATA)
		sym_log(SYM_LOG_WARN, "read CFI of %s: %s", name, strerror(-err));
	if (o->cfi)
		add_bytes(c, o, cfi_table_memory(o->cfi));
	return 0;
}

static void set_file_key(struct object *o, const struct stat *st)
{
	o->dev = (uint64_t)st->st_dev;
	o->ino = (uint64_t)st->st_ino;
	o->uid = (uint32_t)st->st_uid;
	o->size = (int64_t)st->st_size;
	o->mtime_sec = (int64_t)st->st_mtim.tv_sec;
	o->mtime_nsec = (int64_t)st->st_mtim.tv_nsec;
	o->ctime_sec = (int64_t)st->st_ctim.tv_sec;
	o->ctime_nsec = (int64_t)st->st_ctim.tv_nsec;
}

/* Whether o was made from the file as it is now. The change time too:
 * anyone may set a file's mtime back (touch -d), nobody its ctime. */
static bool same_version(const struct object *o, const struct stat *st)
{
	return o->size == (int64_t)st->st_size && o->uid == (uint32_t)st->st_uid &&
	       o->mtime_sec == (int64_t)st->st_mtim.tv_sec &&
	       o->mtime_nsec == (int64_t)st->st_mtim.tv_nsec &&
	       o->ctime_sec == (int64_t)st->st_ctim.tv_sec &&
	       o->ctime_nsec == (int64_t)st->st_ctim.tv_nsec;
}

/* When the file's build-id names a cached object of the same owner at
 * least as good, puts an alias for the file in the table and answers with
 * that object (*out). */
static int share_by_build_id(struct object_cache *c, int fd, const struct stat *st,
			     struct object **slot, struct object **out)
{
	char hex[2 * 64 + 1];
	struct object *same, *alias;
	bool has_symtab;

	if (elf_object_peek_fd(fd, hex, sizeof(hex), &has_symtab) || !hex[0])
		return 0;
	same = find_by_build_id(c, hex, (uint32_t)st->st_uid);
	if (!same || (has_symtab && same->elf->symtab != ELF_SYMTAB_SYMTAB))
		return 0;
	alias = new_object(c, OBJ_FILE);
	if (!alias)
		return -ENOMEM;
	set_file_key(alias, st);
	alias->alias_of = same;
	alias->alias_next = same->aliases;
	same->aliases = alias;
	insert(c, slot, alias);
	take_ref(c, same);
	c->stats.build_id_hits++;
	*out = same;
	return 0;
}

bool object_cache_room(struct object_cache *c)
{
	trim(c);
	return !c->cap || c->stats.bytes < c->cap;
}

void object_cache_charge(struct object_cache *c, size_t bytes)
{
	c->stats.bytes += bytes;
	trim(c);
}

void object_cache_uncharge(struct object_cache *c, size_t bytes)
{
	c->stats.bytes -= bytes;
}

/* Parses the file into a new object: no symbols when it is not ELF, or
 * over a cap of elf_limits.h (err, why: elf_limits_check's; logged,
 * counted). */
static int parse_file(struct object_cache *c, int fd, int err, const char *why,
		      const char *name, struct object **out)
{
	struct elf_object *elf = NULL;
	struct object *o;

	if (err == -E2BIG) {
		note_refused(c, "", name, why);
	} else if (!err) {
		err = elf_object_open_fd(fd, &elf);
	}
	if (err == -ENOMEM)
		return err;
	if (err && err != -ENOEXEC && err != -E2BIG)
		sym_log(SYM_LOG_WARN, "read ELF %s: %s", name, strerror(-err));
	o = new_object(c, OBJ_FILE);
	if (!o) {
		elf_object_free(elf);
		return -ENOMEM;
	}
	o->elf = elf;
	if (elf)
		add_bytes(c, o, elf->bytes);
	if (elf && (err = object_cache_attach_dwarf(c, o, fd, name))) {
		free_object(c, o);
		return err;
	}
	if (elf && c->cfi && (err = attach_cfi(c, o, fd, name))) {
		free_object(c, o);
		return err;
	}
	*out = o;
	return 0;
}

int object_cache_get_fd(struct object_cache *c, int fd, const char *name,
			struct object **out)
{
	struct object **slot, *o;
	struct stat st;
	char why[128];
	int err, limits;

	*out = NULL;
	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode)) /* a device or FIFO: never read it */
		return 0;
	slot = find_slot(c, OBJ_FILE, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
	o = *slot;
	if (o && same_version(o, &st)) {
		c->stats.hits++;
		o = o->alias_of ? o->alias_of : o;
		take_ref(c, o);
		*out = o;
		return 0;
	}
	if (o) /* out of the table before the build-id index is asked */
		drop_stale(c, slot);
	limits = elf_limits_check(fd, (uint64_t)st.st_size, why, sizeof(why));
	if (!limits) {
		err = share_by_build_id(c, fd, &st, slot, out);
		if (err || *out)
			return err;
	}
	if (!object_cache_room(c)) {
		if (!c->stats.over_budget++)
			sym_log(SYM_LOG_WARN, "the cache is full of objects in use "
				"(cap %zu MiB): new objects are not parsed (%s first; "
				"counted)", c->cap >> 20, name);
		return 0;
	}
	c->stats.misses++;
	err = parse_file(c, fd, limits, why, name, &o);
	if (err)
		return err;
	set_file_key(o, &st);
	slot = find_slot(c, OBJ_FILE, o->dev, o->ino); /* trim may have moved it */
	take_ref(c, o); /* before insert: a new object is in no LRU list */
	insert(c, slot, o);
	index_build_id(c, o);
	*out = o;
	trim(c);
	return 0;
}

/* Our own [vdso], found in /proc/self/maps: the kernel's image, which no
 * other process can change. */
static void find_own_vdso(struct object_cache *c)
{
	struct proc_maps pm;
	int dirfd = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	c->vdso_tried = true;
	if (dirfd < 0)
		return;
	if (!proc_maps_read(dirfd, "maps", &pm)) {
		for (size_t i = 0; i < pm.n; i++) {
			const struct proc_maps_entry *e = &pm.entries[i];

			if (!strcmp(e->path, "[vdso]") && e->end - e->start <= VDSO_MAX_SIZE) {
				c->vdso_image = (const void *)(uintptr_t)e->start;
				c->vdso_size = (size_t)(e->end - e->start);
			}
		}
		proc_maps_free(&pm);
	}
	close(dirfd);
}

int object_cache_get_vdso(struct object_cache *c, const void *image, size_t size,
			  struct object **out)
{
	struct elf_object *elf;
	int err;

	*out = NULL;
	if (!c->vdso_tried)
		find_own_vdso(c);
	if (!c->vdso_image || size != c->vdso_size || memcmp(image, c->vdso_image, size))
		return 0;
	if (!c->vdso) {
		err = elf_object_open_mem(c->vdso_image, c->vdso_size, &elf);
		if (err)
			return err == -ENOMEM ? err : 0;
		c->vdso = new_object(c, OBJ_IMAGE);
		if (!c->vdso) {
			elf_object_free(elf);
			return -ENOMEM;
		}
		c->vdso->elf = elf;
		add_bytes(c, c->vdso, elf->bytes);
	}
	*out = c->vdso;
	return 0;
}

int object_cache_attach_dwarf(struct object_cache *c, struct object *o, int fd,
			      const char *name)
{
	struct stat st;
	char why[128];
	int err;

	if (o->dwarf)
		return 0;
	if (fstat(fd, &st))
		return 0;
	err = elf_limits_check(fd, (uint64_t)st.st_size, why, sizeof(why));
	if (err == -E2BIG) {
		note_refused(c, "DWARF of ", name, why);
		return 0;
	}
	err = dwarf_index_open(fd, &o->dwarf);
	if (err == -ENOMEM)
		return err;
	if (err && err != -ENODATA)
		sym_log(SYM_LOG_WARN, "read DWARF of %s: %s", name, strerror(-err));
	if (o->dwarf)
		add_bytes(c, o, dwarf_index_memory(o->dwarf));
	return 0;
}

int object_cache_note_unopenable(struct object_cache *c, uint64_t dev, uint64_t ino)
{
	struct object **slot = find_slot(c, OBJ_UNOPENABLE, dev, ino);
	struct object *o;

	if (*slot)
		return 0;
	o = new_object(c, OBJ_UNOPENABLE);
	if (!o)
		return 1;
	o->dev = dev;
	o->ino = ino;
	insert(c, slot, o);
	lru_push_head(c, o); /* unreferenced from the start */
	trim(c);
	return 1;
}

void object_cache_stats(const struct object_cache *c, struct object_cache_stats *out)
{
	*out = c->stats;
}
