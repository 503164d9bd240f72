/* stack_table.c - see stack_table.h.
 *
 * The entries, each allocated with its pcs inline, sit in an array in the
 * order they came; proto/htab.h's index finds an entry by the hash of its
 * identity.
 */
#include "stack_table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "htab.h"

struct stack_table {
	struct unwound_stack **entries;
	size_t n, cap, max;
	struct pp_htab index;
};

/* The identity of a stack: the sample key, the pcs and which are exact,
 * and whether it was cut short. */
struct ident {
	const struct sample_key *key;
	const uint64_t *pcs;
	const uint64_t *exact; /* STACK_TABLE_EXACT_WORDS */
	uint32_t depth;
	bool truncated;
};

static uint32_t hash_stack(const struct ident *id)
{
	uint64_t h = pp_fnv1a(PP_FNV_INIT ^ id->truncated, id->key, sizeof(*id->key));

	h = pp_fnv1a(h, id->exact, STACK_TABLE_EXACT_WORDS * sizeof(*id->exact));
	return pp_hash32(pp_fnv1a(h, id->pcs, id->depth * sizeof(*id->pcs)));
}

static bool same_stack(const void *ctx, uint32_t idx, const void *key)
{
	const struct unwound_stack *s = ((const struct stack_table *)ctx)->entries[idx];
	const struct ident *id = key;

	return s->depth == id->depth && s->truncated == id->truncated &&
	       !memcmp(&s->key, id->key, sizeof(*id->key)) &&
	       !memcmp(s->exact, id->exact, sizeof(s->exact)) &&
	       !memcmp(s->pcs, id->pcs, id->depth * sizeof(*id->pcs));
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
	for (size_t i = 0; i < t->n; i++)
		free(t->entries[i]);
	free(t->entries);
	pp_htab_free(&t->index);
	*t = (struct stack_table){ .max = t->max };
}

void stack_table_free(struct stack_table *t)
{
	if (!t)
		return;
	stack_table_clear(t);
	free(t);
}

int stack_table_add(struct stack_table *t, const struct sample_key *key,
		    const uint64_t *pcs, const bool *exact, uint32_t depth, bool truncated)
{
	uint64_t mask[STACK_TABLE_EXACT_WORDS] = { 0 };
	struct ident id = { key, pcs, mask, depth, truncated };
	struct unwound_stack *s;
	uint32_t h;
	int64_t i;

	if (depth > STACK_TABLE_MAX_DEPTH)
		id.depth = depth = STACK_TABLE_MAX_DEPTH;
	for (uint32_t k = 0; k < depth; k++)
		mask[k / 64] |= (uint64_t)exact[k] << (k % 64);
	h = hash_stack(&id);
	i = pp_htab_find(&t->index, h, same_stack, t, &id);
	if (i >= 0) {
		t->entries[i]->count++;
		return 0;
	}
	if (t->n >= t->max)
		return -ENOSPC;
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 1024;
		struct unwound_stack **p = realloc(t->entries, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		t->entries = p;
		t->cap = cap;
	}
	s = malloc(sizeof(*s) + depth * sizeof(*pcs));
	if (!s || pp_htab_insert(&t->index, h, (uint32_t)t->n)) {
		free(s);
		return -ENOMEM;
	}
	s->key = *key;
	memcpy(s->exact, mask, sizeof(mask));
	s->count = 1;
	s->depth = depth;
	s->truncated = truncated;
	memcpy(s->pcs, pcs, depth * sizeof(*pcs));
	t->entries[t->n++] = s;
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
