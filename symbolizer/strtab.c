/* strtab.c - see strtab.h. FNV-1a hash, linear probing, table kept at most
 * half full and doubled when it reaches that. */
#include "strtab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

static size_t find_slot(const struct strtab *t, const char *s, uint64_t h)
{
	size_t mask = t->nslots - 1, i = (size_t)h & mask;

	while (t->slots[i] != STRTAB_NONE && strcmp(t->arena + t->slots[i], s))
		i = (i + 1) & mask;
	return i;
}

static int grow_slots(struct strtab *t)
{
	size_t n = t->nslots ? 2 * t->nslots : 1024;
	uint32_t *old = t->slots;
	size_t nold = t->nslots;

	t->slots = malloc(n * sizeof(*t->slots));
	if (!t->slots) {
		t->slots = old;
		return -ENOMEM;
	}
	memset(t->slots, 0xff, n * sizeof(*t->slots)); /* STRTAB_NONE */
	t->nslots = n;
	for (size_t i = 0; i < nold; i++) {
		const char *s;

		if (old[i] == STRTAB_NONE)
			continue;
		s = t->arena + old[i];
		t->slots[find_slot(t, s, hash_str(s))] = old[i];
	}
	free(old);
	return 0;
}

int strtab_intern(struct strtab *t, const char *s, uint32_t *off)
{
	size_t len = strlen(s) + 1, slot;
	uint64_t h = hash_str(s);

	if (2 * (t->count + 1) > t->nslots && grow_slots(t))
		return -ENOMEM;
	slot = find_slot(t, s, h);
	if (t->slots[slot] != STRTAB_NONE) {
		*off = t->slots[slot];
		return 0;
	}
	if (t->len + len > STRTAB_NONE)
		return -ENOMEM;
	if (t->len + len > t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 4096;
		char *p;

		while (cap < t->len + len)
			cap *= 2;
		p = realloc(t->arena, cap);
		if (!p)
			return -ENOMEM;
		t->arena = p;
		t->cap = cap;
	}
	memcpy(t->arena + t->len, s, len);
	*off = (uint32_t)t->len;
	t->slots[slot] = *off;
	t->len += len;
	t->count++;
	return 0;
}

void strtab_seal(struct strtab *t)
{
	free(t->slots);
	t->slots = NULL;
	t->nslots = 0;
	if (t->len && t->len < t->cap) {
		char *p = realloc(t->arena, t->len);

		if (p) {
			t->arena = p;
			t->cap = t->len;
		}
	}
}

void strtab_free(struct strtab *t)
{
	free(t->arena);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

size_t strtab_memory(const struct strtab *t)
{
	return t->cap + t->nslots * sizeof(*t->slots);
}
