/* stack_list.c - see stack_list.h. */
#include "stack_list.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

struct lookup {
	const struct stack_list *l;
	const uint32_t *frames;
	uint32_t depth;
};

static bool stack_equal(const void *ctx, uint32_t id)
{
	const struct lookup *k = ctx;
	const struct stack *s = &k->l->stacks[id];

	/* No frames: both arrays may be NULL, which memcmp must not see. */
	return s->depth == k->depth &&
	       (!k->depth ||
		!memcmp(&k->l->frames[s->first], k->frames, k->depth * sizeof(*k->frames)));
}

int stack_list_add(struct stack_list *l, const uint32_t *frames, uint32_t depth, int64_t value)
{
	struct lookup k = { l, frames, depth };
	uint32_t h = id_hash(ID_HASH_SEED, frames, depth * sizeof(*frames));
	uint32_t id;
	int64_t total;

	if (__builtin_add_overflow(l->total, value, &total))
		return -EOVERFLOW;
	id = id_index_find(&l->index, h, stack_equal, &k);
	if (id != ID_NONE) {
		l->stacks[id].value += value; /* <= total: cannot overflow */
		l->total = total;
		return 0;
	}
	if (l->nstacks >= ID_NONE - 1 ||
	    array_reserve(&l->stacks, &l->stacks_cap, l->nstacks + 1, sizeof(*l->stacks)) ||
	    array_reserve(&l->frames, &l->frames_cap, l->nframes + depth, sizeof(*l->frames)) ||
	    id_index_add(&l->index, h, (uint32_t)l->nstacks))
		return -ENOMEM;
	if (depth) /* frames and l->frames may be NULL when there are none */
		memcpy(&l->frames[l->nframes], frames, depth * sizeof(*frames));
	l->stacks[l->nstacks++] = (struct stack){ l->nframes, depth, value };
	l->nframes += depth;
	l->total = total;
	return 0;
}

int stack_list_merge(struct stack_list *dst, const struct stack_list *src)
{
	for (size_t i = 0; i < src->nstacks; i++) {
		const struct stack *s = &src->stacks[i];
		int ret = stack_list_add(dst, s->depth ? &src->frames[s->first] : NULL, s->depth,
					 s->value);

		if (ret)
			return ret;
	}
	dst->nprofiles += src->nprofiles;
	return 0;
}

void stack_list_free(struct stack_list *l)
{
	free(l->frames);
	free(l->stacks);
	id_index_free(&l->index);
	*l = (struct stack_list){ 0 };
}
