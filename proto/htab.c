/* htab.c - open-addressing hash index for the pprof builder; see htab.h.
 *
 * Slots hold (hash, index + 1). Lookup starts at hash & (cap - 1) and walks
 * forward until it finds an equal entry or an empty slot. Entries are never
 * removed, so no tombstones are needed.
 */
#include "htab.h"

#include <errno.h>
#include <stdlib.h>

#define PP_HTAB_MIN_CAP 64

int64_t pp_htab_find(const struct pp_htab *t, uint32_t hash, pp_htab_eq_fn eq,
		     const void *ctx, const void *key)
{
	if (!t->cap)
		return -1;
	size_t mask = t->cap - 1;
	for (size_t i = hash & mask;; i = (i + 1) & mask) {
		const struct pp_htab_slot *s = &t->slots[i];

		if (!s->idx1)
			return -1;
		if (s->hash == hash && eq(ctx, s->idx1 - 1, key))
			return s->idx1 - 1;
	}
}

static void place(struct pp_htab_slot *slots, size_t cap, uint32_t hash,
		  uint32_t idx1)
{
	size_t mask = cap - 1;
	size_t i = hash & mask;

	while (slots[i].idx1)
		i = (i + 1) & mask;
	slots[i].hash = hash;
	slots[i].idx1 = idx1;
}

static int grow(struct pp_htab *t)
{
	size_t cap = t->cap ? t->cap * 2 : PP_HTAB_MIN_CAP;
	struct pp_htab_slot *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].idx1)
			place(slots, cap, t->slots[i].hash, t->slots[i].idx1);
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
	return 0;
}

int pp_htab_insert(struct pp_htab *t, uint32_t hash, uint32_t idx)
{
	if (idx >= UINT32_MAX - 1)
		return -E2BIG;
	/* keep the load factor at or below 1/2 */
	if ((t->len + 1) * 2 > t->cap) {
		int err = grow(t);

		if (err)
			return err;
	}
	place(t->slots, t->cap, hash, idx + 1);
	t->len++;
	return 0;
}

void pp_htab_free(struct pp_htab *t)
{
	free(t->slots);
	t->slots = NULL;
	t->cap = t->len = 0;
}
