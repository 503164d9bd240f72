/* strtab.c - see strtab.h. */
#include "strtab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#include "grow.h"

struct strtab_node {
	UT_hash_handle hh;
	uint32_t off;
	char s[];
};

static void free_index(struct strtab *t)
{
	struct strtab_node *n = t->index, *next;

	HASH_CLEAR(hh, t->index); /* the table; the nodes keep their links */
	for (; n; n = next) {
		next = n->hh.next;
		free(n);
	}
	t->index_bytes = 0;
}

int strtab_intern(struct strtab *t, const char *s, uint32_t *off)
{
	size_t len = strlen(s) + 1;
	struct strtab_node *n;

	if (len > STRTAB_NONE) /* nor could uthash's unsigned key length hold it */
		return -ENOMEM;
	HASH_FIND(hh, t->index, s, len - 1, n);
	if (n) {
		*off = n->off;
		return 0;
	}
	if (t->len + len > STRTAB_NONE)
		return -ENOMEM;
	if (array_reserve(&t->arena, &t->cap, t->len + len, 1))
		return -ENOMEM;
	n = malloc(sizeof(*n) + len);
	if (!n)
		return -ENOMEM;
	n->off = (uint32_t)t->len;
	memcpy(n->s, s, len);
	HASH_ADD_KEYPTR(hh, t->index, n->s, len - 1, n);
	if (!n->hh.tbl) { /* out of memory inside uthash: not added */
		free(n);
		return -ENOMEM;
	}
	t->index_bytes += sizeof(*n) + len;
	memcpy(t->arena + t->len, s, len);
	*off = n->off;
	t->len += len;
	return 0;
}

void strtab_seal(struct strtab *t)
{
	free_index(t);
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
	free_index(t);
	free(t->arena);
	memset(t, 0, sizeof(*t));
}

size_t strtab_memory(const struct strtab *t)
{
	return t->cap + t->index_bytes;
}
