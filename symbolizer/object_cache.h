/* object_cache.h - parsed objects shared by every process that maps them.
 *
 * An object is one file as identified by fstat(): (st_dev, st_ino), checked
 * against st_size and st_mtime so a file rewritten in place, or an inode
 * number reused after a delete, is parsed again rather than answered from a
 * stale table. Lookups hash the key (uthash, the project's one hash table).
 * Files with the same GNU build-id and the same owner are the same build,
 * so a new file whose build-id is already cached for its owner (root's
 * libc in two containers, or a copy) becomes an alias of that object and
 * is not parsed again: objects are shared by (build-id, owner uid), else
 * by (dev, ino). The build-id alone proves nothing: a user can copy
 * another's binary, edit its strings and keep the note, so one owner's
 * file never supplies symbols or CFI for another's. The cached object
 * must be at least as good (a full .symtab, or the new file has none), so
 * a stripped copy never stands in for an unstripped one. A version of a
 * file is (size, owner, mtime, ctime): a user can set mtime back, nobody
 * can set ctime.
 *
 * A file that is not ELF, or that libelf cannot read, is cached too, with
 * no symbols (elf == NULL), so it is not reopened for every process.
 * The DWARF index of an object is built when the object is parsed, from
 * the object's own DWARF, or later from a separate debug file
 * (object_cache_attach_dwarf()). Files over the caps of elf_limits.h are
 * cached without symbols (counted in files_refused). The [vdso] is parsed
 * from bpfprof's own memory, the kernel's image, and given only to
 * processes whose [vdso] has the very same bytes: a process may rewrite
 * its own.
 *
 * Memory is bounded. Each object knows the bytes it holds; mappings hold a
 * reference (object_cache_get_*() takes one, object_cache_release() drops
 * it). An object nobody references goes to the head of an LRU list and
 * stays cached for the next process that maps it; whenever the cached bytes
 * exceed the cap, the least recently used of those is freed (evictions are
 * counted). Objects still referenced are never freed; instead, while the
 * objects in use (and what callers charged: JIT maps) fill the cap, no new
 * object is parsed (over_budget counts those mappings, logged once): the
 * cap bounds everything but the one object being parsed, whose size the
 * caps of elf_limits.h bound. "Could not open" markers live in the LRU too.
 */
#ifndef BPFPROF_SYM_OBJECT_CACHE_H
#define BPFPROF_SYM_OBJECT_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uthash.h>

#include "cfi_table.h"
#include "dwarf_index.h"
#include "elf_object.h"

/* Longer build-ids are not shared (elf_object_peek_fd() reads at most this). */
#define OBJECT_BUILD_ID_MAX 64

struct object {
	struct elf_object *elf;  /* NULL: no symbols */
	struct dwarf_index *dwarf; /* NULL: no DWARF */
	struct cfi_table *cfi;   /* NULL: no unwind tables, or not asked for */
	bool debug_searched;     /* separate debug file looked for already */
	/* cache bookkeeping, private to object_cache.c */
	UT_hash_handle hh;       /* the table, by (dev, ino, kind) */
	UT_hash_handle bhh;      /* the build-id index, by build_key */
	struct object *lru_prev, *lru_next; /* while refs == 0 */
	struct object *alias_of; /* an alias: another file, same contents */
	struct object *aliases;  /* the aliases of this object, via alias_next */
	struct object *alias_next;
	unsigned refs;           /* mappings using it */
	uint32_t uid;            /* owner of the file */
	bool in_table;           /* false once replaced by a newer version */
	bool in_build_ids;       /* in the build-id index */
	size_t bytes;            /* memory held */
	uint64_t dev, ino;       /* the table's key: dev, ino, kind, adjacent */
	int kind;                /* file, image, or unopenable marker */
	int64_t size, mtime_sec, mtime_nsec, ctime_sec, ctime_nsec;
	/* the build-id index's key: uid, then the build-id's hex (no NUL) */
	char build_key[sizeof(uint32_t) + 2 * OBJECT_BUILD_ID_MAX];
};

struct object_cache_stats {
	uint64_t bytes;     /* held by all objects */
	uint64_t cap;       /* the cap on it */
	uint64_t objects;   /* objects and markers held */
	uint64_t hits;      /* lookups answered from the cache */
	uint64_t misses;    /* lookups that parsed a file */
	uint64_t build_id_hits; /* new files shared by build-id, not parsed */
	uint64_t evictions; /* objects freed to stay under the cap */
	uint64_t files_refused; /* over a cap of elf_limits.h (no symbols) or
	                           cfi_table.h (no CFI) */
	uint64_t over_budget;   /* mappings left without symbols: cache full */
};

struct object_cache;

/* cap_bytes: the cap on cached bytes (0: no cap). With cfi, each parsed
 * file also gets its unwind table (cfi_table.h), for DWARF unwinding. */
int object_cache_new(size_t cap_bytes, bool cfi, struct object_cache **out);
void object_cache_free(struct object_cache *c);

/* The object for the regular file open on fd (parsed on a miss; fd stays
 * the caller's), with a reference taken for the caller. `name` is only for
 * the log line written when an ELF file cannot be parsed. Returns 0, or a
 * negative errno when fd cannot be fstat'ed or memory runs out; a file
 * without symbols is not an error, and neither is a full cache (*out
 * NULL). */
int object_cache_get_fd(struct object_cache *c, int fd, const char *name,
			struct object **out);

/* The object for a process's [vdso], whose bytes (size of them) the
 * caller read: our own vdso's object when the bytes are the same, else
 * *out NULL (not an error). It is never freed before the cache, so it
 * needs no release. Returns 0 or -ENOMEM. */
int object_cache_get_vdso(struct object_cache *c, const void *image, size_t size,
			  struct object **out);

/* Whether a new object may be parsed: after freeing unused objects, the
 * cache holds less than its cap. */
bool object_cache_room(struct object_cache *c);

/* Counts memory the caller holds for its processes (JIT maps) against the
 * cap: charged bytes make room as objects do, by evicting unused ones. */
void object_cache_charge(struct object_cache *c, size_t bytes);
void object_cache_uncharge(struct object_cache *c, size_t bytes);

/* Indexes the DWARF of the ELF file open on fd (the object's own file or
 * its separate debug file) into o->dwarf, unless o already has an index:
 * so a caller can offer the object's own file first, then a debug file.
 * A file without DWARF is not an error; a DWARF that cannot be read is
 * logged (naming `name`) and leaves o without one. Call it before mappings
 * of o are made: they copy its flags (has_line_numbers, ...). Returns 0 or
 * -ENOMEM. */
int object_cache_attach_dwarf(struct object_cache *c, struct object *o, int fd,
			      const char *name);

/* Drops a reference taken by object_cache_get_fd(); o may be NULL. */
void object_cache_release(struct object_cache *c, struct object *o);

void object_cache_stats(const struct object_cache *c, struct object_cache_stats *out);

/* Records a file that could not be opened; returns 1 the first time for a
 * given (dev, ino) from /proc/PID/maps, 0 after, so the caller logs once. */
int object_cache_note_unopenable(struct object_cache *c, uint64_t dev, uint64_t ino);

static inline const char *object_build_id(const struct object *o)
{
	return o && o->elf ? o->elf->build_id : "";
}

#endif
