/* object_cache.c - see object_cache.h.
 *
 * One uthash table holds file objects and "could not open" markers, keyed
 * by (dev, ino, kind); the [vdso] is one object of its own. An
 * object replaced in the table because its file changed leaves the table
 * at once (before anything else looks at the table, so nothing can alias
 * it on the way out) and is freed when its last reference goes.
 * Unreferenced objects in the table are on a doubly linked LRU list, most
 * recently released first. The build-id index, a second uthash table, is
 * keyed by (owner uid, build-id). An entry that uthash has no memory to add
 * is left out: an object not in the table is freed by its last release, one
 * not in the build-id index is not shared.
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

#define KEY_LEN (offsetof(struct object, kind) + sizeof(int) - offsetof(struct object, dev))

struct object_cache {
	struct object *table;
	struct object *vdso;      /* ours, parsed on first use */
	bool vdso_tried;
	const void *vdso_image;   /* our own [vdso] in memory */
	size_t vdso_size;
	struct object *lru_head, *lru_tail; /* unreferenced, in the table */
	struct object *by_build_id;
	size_t cap;        /* 0: none */
	bool cfi;          /* build unwind tables */
	struct object_cache_stats stats;
};

int object_cache_new(size_t cap_bytes, bool cfi, struct object_cache **out)
{
	struct object_cache *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->cap = cap_bytes;
	c->cfi = cfi;
	c->stats.cap = cap_bytes;
	*out = c;
	return 0;
}

/* Writes the build-id index's key of (uid, hex) to key; its length, or 0
 * when hex is too long to be shared. */
static size_t build_key(char key[sizeof(((struct object *)0)->build_key)], uint32_t uid,
			const char *hex)
{
	size_t len = strlen(hex);

	if (len > 2 * OBJECT_BUILD_ID_MAX)
		return 0;
	memcpy(key, &uid, sizeof(uid));
	memcpy(key + sizeof(uid), hex, len);
	return sizeof(uid) + len;
}

/* A build-id is the same build only as far as its owner says so: anyone
 * can copy a binary and edit its strings without touching the note. So a
 * file is shared with a cached object only when both belong to the same
 * user: root's libc with root's libc in every container, never one user's
 * copy with another's (or root's) original. */
static struct object *find_by_build_id(struct object_cache *c, const char *hex, uint32_t uid)
{
	char key[sizeof(((struct object *)0)->build_key)];
	size_t len = build_key(key, uid, hex);
	struct object *o = NULL;

	if (len)
		HASH_FIND(bhh, c->by_build_id, key, len, o);
	return o;
}

/* Indexes a parsed file object by its build-id, unless one is there. */
static void index_build_id(struct object_cache *c, struct object *o)
{
	size_t len;

	if (!o->elf || !o->elf->build_id[0] || find_by_build_id(c, o->elf->build_id, o->uid))
		return;
	len = build_key(o->build_key, o->uid, o->elf->build_id);
	if (!len)
		return;
	HASH_ADD_KEYPTR(bhh, c->by_build_id, o->build_key, len, o);
	o->in_build_ids = o->bhh.tbl != NULL; /* NULL: no memory, not shared */
}

static void unindex_build_id(struct object_cache *c, struct object *o)
{
	if (o->in_build_ids)
		HASH_DELETE(bhh, c->by_build_id, o);
	o->in_build_ids = false;
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
	 * object (which would take them out of the table being walked). */
	HASH_ITER(hh, c->table, o, next)
		o->aliases = NULL;
	HASH_ITER(hh, c->table, o, next) {
		HASH_DELETE(hh, c->table, o);
		if (o->alias_of)
			free(o);
		else
			free_object(c, o);
	}
	if (c->vdso)
		free_object(c, c->vdso);
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

/* The table's entry for (kind, dev, ino), or NULL. */
static struct object *find(struct object_cache *c, int kind, uint64_t dev, uint64_t ino)
{
	struct object key = { .dev = dev, .ino = ino, .kind = kind }, *o;

	HASH_FIND(hh, c->table, &key.dev, KEY_LEN, o);
	return o;
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
	if (o->in_table)
		HASH_DELETE(hh, c->table, o);
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

/* Takes old, an older version of the file, out of the table: an alias is
 * freed, an object freed now if unused, else by its last release. */
static void drop_stale(struct object_cache *c, struct object *old)
{
	unlink_from_table(c, old);
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

/* Puts o in the table, which must have no entry of its key (see
 * drop_stale). False when uthash had no memory for it: o is not in it. */
static bool insert(struct object_cache *c, struct object *o)
{
	HASH_ADD(hh, c->table, dev, KEY_LEN, o);
	o->in_table = o->hh.tbl != NULL;
	return o->in_table;
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
			     struct object **out)
{
	char hex[2 * OBJECT_BUILD_ID_MAX + 1];
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
	if (!insert(c, alias)) {
		c->stats.bytes -= alias->bytes;
		c->stats.objects--;
		free(alias);
		return -ENOMEM;
	}
	alias->alias_of = same;
	alias->alias_next = same->aliases;
	same->aliases = alias;
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
	struct object *o;
	struct stat st;
	char why[128];
	int err, limits;

	*out = NULL;
	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode)) /* a device or FIFO: never read it */
		return 0;
	o = find(c, OBJ_FILE, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
	if (o && same_version(o, &st)) {
		c->stats.hits++;
		o = o->alias_of ? o->alias_of : o;
		take_ref(c, o);
		*out = o;
		return 0;
	}
	if (o) /* out of the table before the build-id index is asked */
		drop_stale(c, o);
	limits = elf_limits_check(fd, (uint64_t)st.st_size, why, sizeof(why));
	if (!limits) {
		err = share_by_build_id(c, fd, &st, out);
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
	take_ref(c, o); /* before insert: a new object is in no LRU list */
	insert(c, o); /* without memory, not cached: freed by its last release */
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
	struct object *o;

	if (find(c, OBJ_UNOPENABLE, dev, ino))
		return 0;
	o = new_object(c, OBJ_UNOPENABLE);
	if (!o)
		return 1;
	o->dev = dev;
	o->ino = ino;
	if (!insert(c, o)) {
		free_object(c, o);
		return 1;
	}
	lru_push_head(c, o); /* unreferenced from the start */
	trim(c);
	return 1;
}

void object_cache_stats(const struct object_cache *c, struct object_cache_stats *out)
{
	*out = c->stats;
}
