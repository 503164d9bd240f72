/* id_index.c - see id_index.h. */
#include "id_index.h"

#include <errno.h>
#include <stdlib.h>

uint32_t id_hash(uint32_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

uint32_t id_index_find(const struct id_index *x, uint32_t h, id_equal_fn eq, const void *ctx)
{
	if (!x->cap)
		return ID_NONE;
	for (size_t i = h & (x->cap - 1);; i = (i + 1) & (x->cap - 1)) {
		if (x->ids[i] == ID_NONE)
			return ID_NONE;
		if (x->hashes[i] == h && eq(ctx, x->ids[i]))
			return x->ids[i];
	}
}

static void place(uint32_t *ids, uint32_t *hashes, size_t cap, uint32_t h, uint32_t id)
{
	size_t i = h & (cap - 1);

	while (ids[i] != ID_NONE)
		i = (i + 1) & (cap - 1);
	ids[i] = id;
	hashes[i] = h;
}

static int grow(struct id_index *x)
{
	size_t cap = x->cap ? 2 * x->cap : 64;
	uint32_t *ids = malloc(cap * sizeof(*ids)), *hashes = malloc(cap * sizeof(*hashes));

	if (!ids || !hashes) {
		free(ids);
		free(hashes);
		return -ENOMEM;
	}
	for (size_t i = 0; i < cap; i++)
		ids[i] = ID_NONE;
	for (size_t i = 0; i < x->cap; i++)
		if (x->ids[i] != ID_NONE)
			place(ids, hashes, cap, x->hashes[i], x->ids[i]);
	free(x->ids);
	free(x->hashes);
	x->ids = ids;
	x->hashes = hashes;
	x->cap = cap;
	return 0;
}

int id_index_add(struct id_index *x, uint32_t h, uint32_t id)
{
	if (2 * (x->n + 1) > x->cap && grow(x))
		return -ENOMEM;
	place(x->ids, x->hashes, x->cap, h, id);
	x->n++;
	return 0;
}

void id_index_free(struct id_index *x)
{
	free(x->ids);
	free(x->hashes);
	*x = (struct id_index){ 0 };
}
