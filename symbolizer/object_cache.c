/* object_cache.c - see object_cache.h.
 *
 * One chained hash table holds file objects and "could not open" markers,
 * keyed by (kind, dev, ino); images from memory (a handful: one [vdso] per
 * ABI) sit on a short list keyed by build-id. Every object, including one
 * replaced in the table because its file changed, stays on the `all` list
 * until object_cache_free().
 */
#include "object_cache.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { OBJ_FILE, OBJ_IMAGE, OBJ_UNOPENABLE };

struct object_cache {
	struct object **buckets;
	size_t nbuckets;   /* power of two */
	size_t count;      /* entries in the table */
	struct object *images;
	struct object *all;
};

static size_t hash_key(int kind, uint64_t dev, uint64_t ino, size_t nbuckets)
{
	uint64_t h = dev * 0x9e3779b97f4a7c15ull ^ ino ^ ((uint64_t)kind << 56);

	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 29;
	return (size_t)h & (nbuckets - 1);
}

int object_cache_new(struct object_cache **out)
{
	struct object_cache *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->nbuckets = 256;
	c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
	if (!c->buckets) {
		free(c);
		return -ENOMEM;
	}
	*out = c;
	return 0;
}

void object_cache_free(struct object_cache *c)
{
	struct object *o, *next;

	if (!c)
		return;
	for (o = c->all; o; o = next) {
		next = o->next;
		elf_object_free(o->elf);
		dwarf_index_free(o->dwarf);
		free(o);
	}
	free(c->buckets);
	free(c);
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
	o->next = c->all;
	c->all = o;
	return o;
}

/* Puts o in the table, in place of *slot if that holds a stale entry. */
static void insert(struct object_cache *c, struct object **slot, struct object *o)
{
	if (*slot) { /* replace: the old one stays on the `all` list */
		o->hnext = (*slot)->hnext;
		*slot = o;
		return;
	}
	o->hnext = NULL;
	*slot = o;
	c->count++;
	maybe_grow(c);
}

int object_cache_get_fd(struct object_cache *c, int fd, const char *name,
			struct object **out)
{
	struct object **slot, *o;
	struct elf_object *elf = NULL;
	struct stat st;
	int err;

	*out = NULL;
	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode)) /* a device or FIFO: never read it */
		return 0;
	slot = find_slot(c, OBJ_FILE, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
	o = *slot;
	if (o && o->size == (int64_t)st.st_size && o->mtime_sec == (int64_t)st.st_mtim.tv_sec &&
	    o->mtime_nsec == (int64_t)st.st_mtim.tv_nsec) {
		*out = o;
		return 0;
	}

	err = elf_object_open_fd(fd, &elf);
	if (err == -ENOMEM)
		return err;
	if (err && err != -ENOEXEC)
		fprintf(stderr, "symbolizer: read ELF %s: %s\n", name, strerror(-err));
	o = new_object(c, OBJ_FILE);
	if (!o) {
		elf_object_free(elf);
		return -ENOMEM;
	}
	o->elf = elf;
	if (elf) {
		err = object_attach_dwarf(o, fd, name);
		if (err)
			return err; /* o stays on the `all` list, freed with the cache */
	}
	o->dev = (uint64_t)st.st_dev;
	o->ino = (uint64_t)st.st_ino;
	o->size = (int64_t)st.st_size;
	o->mtime_sec = (int64_t)st.st_mtim.tv_sec;
	o->mtime_nsec = (int64_t)st.st_mtim.tv_nsec;
	insert(c, slot, o);
	*out = o;
	return 0;
}

int object_cache_get_image(struct object_cache *c, const void *image, size_t size,
			   struct object **out)
{
	struct elf_object *elf;
	struct object *o;
	int err;

	*out = NULL;
	err = elf_object_open_mem(image, size, &elf);
	if (err)
		return err == -ENOMEM ? err : 0;
	for (o = c->images; o; o = o->hnext) {
		if (elf->build_id[0] && !strcmp(o->elf->build_id, elf->build_id)) {
			elf_object_free(elf);
			*out = o;
			return 0;
		}
	}
	o = new_object(c, OBJ_IMAGE);
	if (!o) {
		elf_object_free(elf);
		return -ENOMEM;
	}
	o->elf = elf;
	o->hnext = c->images;
	c->images = o;
	*out = o;
	return 0;
}

int object_attach_dwarf(struct object *o, int fd, const char *name)
{
	int err;

	if (o->dwarf)
		return 0;
	err = dwarf_index_open(fd, &o->dwarf);
	if (err == -ENOMEM)
		return err;
	if (err && err != -ENODATA)
		fprintf(stderr, "symbolizer: read DWARF of %s: %s\n", name, strerror(-err));
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
	return 1;
}
