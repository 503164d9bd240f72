/* stack_table.c - see stack_table.h.
 *
 * Open addressing with linear probing over an array of pointers to
 * entries; each entry is allocated with its pcs inline. The table doubles
 * when half full, up to the entry cap.
 */
#include "stack_table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct stack_table {
	struct unwound_stack **slots;
	size_t nslots; /* power of two */
	size_t n, max;
};

static uint64_t hash_bytes(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

/* The identity of a stack: the sample key, the pcs and which are exact,
 * and whether it was cut short. */
struct ident {
	const struct sample_key *key;
	const uint64_t *pcs;
	const uint64_t *exact; /* STACK_TABLE_EXACT_WORDS */
	uint32_t depth;
	bool truncated;
};

static uint64_t hash_stack(const struct ident *id)
{
	uint64_t h = hash_bytes(1469598103934665603ull ^ id->truncated, id->key,
				sizeof(*id->key));

	h = hash_bytes(h, id->exact, STACK_TABLE_EXACT_WORDS * sizeof(*id->exact));
	return hash_bytes(h, id->pcs, id->depth * sizeof(*id->pcs));
}

static bool same_stack(const struct unwound_stack *s, const struct ident *id)
{
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
	t->nslots = 1024;
	t->slots = calloc(t->nslots, sizeof(*t->slots));
	if (!t->slots) {
		free(t);
		return -ENOMEM;
	}
	*out = t;
	return 0;
}

void stack_table_clear(struct stack_table *t)
{
	for (size_t i = 0; i < t->nslots; i++) {
		free(t->slots[i]);
		t->slots[i] = NULL;
	}
	t->n = 0;
}

void stack_table_free(struct stack_table *t)
{
	if (!t)
		return;
	stack_table_clear(t);
	free(t->slots);
	free(t);
}

static size_t find_slot(struct unwound_stack **slots, size_t nslots, uint64_t h,
			const struct ident *id)
{
	size_t i = (size_t)h & (nslots - 1);

	while (slots[i] && !same_stack(slots[i], id))
		i = (i + 1) & (nslots - 1);
	return i;
}

static struct ident ident_of(const struct unwound_stack *s)
{
	return (struct ident){ &s->key, s->pcs, s->exact, s->depth, s->truncated };
}

static int grow(struct stack_table *t)
{
	size_t nslots = t->nslots * 2;
	struct unwound_stack **slots = calloc(nslots, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < t->nslots; i++) {
		struct unwound_stack *s = t->slots[i];
		struct ident id;

		if (!s)
			continue;
		id = ident_of(s);
		slots[find_slot(slots, nslots, hash_stack(&id), &id)] = s;
	}
	free(t->slots);
	t->slots = slots;
	t->nslots = nslots;
	return 0;
}

int stack_table_add(struct stack_table *t, const struct sample_key *key,
		    const uint64_t *pcs, const bool *exact, uint32_t depth, bool truncated)
{
	uint64_t mask[STACK_TABLE_EXACT_WORDS] = { 0 };
	struct ident id = { key, pcs, mask, depth, truncated };
	struct unwound_stack *s;
	uint64_t h;
	size_t i;

	if (depth > STACK_TABLE_MAX_DEPTH)
		id.depth = depth = STACK_TABLE_MAX_DEPTH;
	for (uint32_t k = 0; k < depth; k++)
		mask[k / 64] |= (uint64_t)exact[k] << (k % 64);
	h = hash_stack(&id);
	i = find_slot(t->slots, t->nslots, h, &id);
	if (t->slots[i]) {
		t->slots[i]->count++;
		return 0;
	}
	if (t->n >= t->max)
		return -ENOSPC;
	s = malloc(sizeof(*s) + depth * sizeof(*pcs));
	if (!s || ((t->n + 1) * 2 > t->nslots && grow(t))) {
		free(s);
		return -ENOMEM;
	}
	s->key = *key;
	memcpy(s->exact, mask, sizeof(mask));
	s->count = 1;
	s->depth = depth;
	s->truncated = truncated;
	memcpy(s->pcs, pcs, depth * sizeof(*pcs));
	t->slots[find_slot(t->slots, t->nslots, h, &id)] = s;
	t->n++;
	return 0;
}

int stack_table_for_each(const struct stack_table *t, stack_table_cb cb, void *ctx)
{
	for (size_t i = 0; i < t->nslots; i++) {
		int err = t->slots[i] ? cb(t->slots[i], ctx) : 0;

		if (err)
			return err;
	}
	return 0;
}
