/* stack_table.c - see stack_table.h.
 *
 * The entries, each allocated with its pcs inline, sit in an array in the
 * order they came; a uthash table (the project's one hash table) finds an
 * entry by its identity's bytes, the entry's node holding the hash handle.
 */
#include "stack_table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#include "grow.h"

/* An entry; s.frames[] ends it (s is the last member). */
struct node {
	UT_hash_handle hh;
	struct unwound_stack s;
};

struct stack_table {
	struct unwound_stack **entries;
	size_t n, cap, max;
	struct node *index;
};

#define IDENT_OFF offsetof(struct unwound_stack, key)

/* The bytes of s's identity (see stack_table.h). */
static size_t ident_len(uint32_t depth)
{
	return offsetof(struct unwound_stack, frames) - IDENT_OFF +
	       depth * sizeof(struct unwound_frame);
}

int stack_table_new(size_t max_entries, struct stack_table **out)
{
	struct stack_table *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->max = max_entries;
	*out = t;
	return 0;
}

void stack_table_clear(struct stack_table *t)
{
	HASH_CLEAR(hh, t->index); /* the table; the entries are freed here: */
	for (size_t i = 0; i < t->n; i++)
		free((char *)t->entries[i] - offsetof(struct node, s));
	free(t->entries);
	*t = (struct stack_table){ .max = t->max };
}

void stack_table_free(struct stack_table *t)
{
	if (!t)
		return;
	stack_table_clear(t);
	free(t);
}

int stack_table_add(struct stack_table *t, const struct sample_key *key, const uint64_t *pcs,
		    const bool *exact, const struct sym_mapping *const *maps,
		    const struct interp_function *const *interp, uint32_t depth, bool truncated)
{
	union {
		struct unwound_stack s;
		unsigned char room[sizeof(struct unwound_stack) +
				   STACK_TABLE_MAX_DEPTH * sizeof(struct unwound_frame)];
	} probe;
	struct node *n;
	unsigned hash; /* once, for the lookup and the add after it */
	size_t len;

	if (depth > STACK_TABLE_MAX_DEPTH)
		depth = STACK_TABLE_MAX_DEPTH;
	len = ident_len(depth);
	memset(&probe, 0, offsetof(struct unwound_stack, frames)); /* padding too */
	memcpy(&probe.s.key, key, sizeof(*key));
	probe.s.depth = depth;
	probe.s.truncated = truncated;
	for (uint32_t k = 0; k < depth; k++)
		probe.s.exact[k / 64] |= (uint64_t)exact[k] << (k % 64);
	for (uint32_t k = 0; k < depth; k++)
		probe.s.frames[k] = (struct unwound_frame){ pcs[k], maps[k],
							    interp ? interp[k] : NULL };

	HASH_VALUE(&probe.s.key, len, hash);
	HASH_FIND_BYHASHVALUE(hh, t->index, &probe.s.key, len, hash, n);
	if (n) {
		n->s.count++;
		return 0;
	}
	if (t->n >= t->max)
		return -ENOSPC;
	if (array_reserve(&t->entries, &t->cap, t->n + 1, sizeof(*t->entries)))
		return -ENOMEM;
	n = malloc(sizeof(*n) + depth * sizeof(n->s.frames[0]));
	if (!n)
		return -ENOMEM;
	memcpy(&n->s, &probe.s, IDENT_OFF + len);
	n->s.count = 1;
	HASH_ADD_KEYPTR_BYHASHVALUE(hh, t->index, &n->s.key, len, hash, n);
	if (!n->hh.tbl) { /* out of memory inside uthash: not added */
		free(n);
		return -ENOMEM;
	}
	t->entries[t->n++] = &n->s;
	return 0;
}

int stack_table_for_each(const struct stack_table *t, stack_table_cb cb, void *ctx)
{
	for (size_t i = 0; i < t->n; i++) {
		int err = cb(t->entries[i], ctx);

		if (err)
			return err;
	}
	return 0;
}
