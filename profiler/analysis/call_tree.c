/* call_tree.c - see call_tree.h. */
#include "call_tree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

struct child_key {
	const struct call_tree *t;
	uint32_t parent, frame;
};

static bool child_equal(const void *ctx, uint32_t id)
{
	const struct child_key *k = ctx;
	const struct call_node *n = &k->t->nodes[id];

	return n->parent == k->parent && n->frame == k->frame;
}

static uint32_t child_hash(uint32_t parent, uint32_t frame)
{
	uint32_t key[2] = { parent, frame };

	return id_hash(ID_HASH_SEED, key, sizeof(key));
}

static uint32_t find_child(const struct call_tree *t, uint32_t parent, uint32_t frame)
{
	struct child_key k = { t, parent, frame };

	return id_index_find(&t->index, child_hash(parent, frame), child_equal, &k);
}

int call_tree_build(struct call_tree *t, const struct stack_list *l)
{
	*t = (struct call_tree){ 0 };
	if (array_reserve(&t->nodes, &t->cap, 1, sizeof(*t->nodes)))
		return -ENOMEM;
	t->nodes[0] = (struct call_node){ .frame = UINT32_MAX, .value = l->total };
	t->nnodes = 1;
	for (size_t i = 0; i < l->nstacks; i++) {
		const struct stack *s = &l->stacks[i];
		uint32_t node = CALL_TREE_ROOT;

		for (uint32_t d = 0; d < s->depth; d++) {
			uint32_t frame = l->frames[s->first + d], child = find_child(t, node, frame);

			if (child == ID_NONE) {
				if (t->nnodes >= ID_NONE - 1 ||
				    array_reserve(&t->nodes, &t->cap, t->nnodes + 1, sizeof(*t->nodes)) ||
				    id_index_add(&t->index, child_hash(node, frame), (uint32_t)t->nnodes)) {
					call_tree_free(t);
					return -ENOMEM;
				}
				child = (uint32_t)t->nnodes++;
				t->nodes[child] = (struct call_node){ .frame = frame, .parent = node };
			}
			t->nodes[child].value += s->value;
			node = child;
		}
	}
	return 0;
}

int call_tree_add_base(struct call_tree *t, const struct stack_list *base)
{
	double scale = base->total ? (double)t->nodes[0].value / (double)base->total : 0;

	t->diff = 1;
	t->nodes[0].base = (double)t->nodes[0].value;
	for (size_t i = 0; i < base->nstacks; i++) {
		const struct stack *s = &base->stacks[i];
		uint32_t node = CALL_TREE_ROOT;

		for (uint32_t d = 0; d < s->depth; d++) {
			node = find_child(t, node, base->frames[s->first + d]);
			if (node == ID_NONE)
				break;
			t->nodes[node].base += (double)s->value * scale;
		}
	}
	return 0;
}

void call_tree_free(struct call_tree *t)
{
	free(t->nodes);
	id_index_free(&t->index);
	*t = (struct call_tree){ 0 };
}

struct sort_ctx {
	const struct call_tree *t;
	const struct frame_table *frames;
};

static int by_frame(const void *pa, const void *pb, void *ctx)
{
	const struct sort_ctx *c = ctx;
	const struct frame *a = &c->frames->frames[c->t->nodes[*(const uint32_t *)pa].frame];
	const struct frame *b = &c->frames->frames[c->t->nodes[*(const uint32_t *)pb].frame];
	int r = strcmp(a->name, b->name);

	if (!r && !(r = strcmp(a->file, b->file)))
		r = (a->line > b->line) - (a->line < b->line);
	return r;
}

int call_tree_children(const struct call_tree *t, const struct frame_table *frames,
		       uint32_t **first_out, uint32_t **order_out)
{
	uint32_t *first = calloc(t->nnodes + 1, sizeof(*first));
	uint32_t *order = malloc(t->nnodes * sizeof(*order));
	uint32_t *fill = malloc((t->nnodes + 1) * sizeof(*fill));
	struct sort_ctx ctx = { t, frames };

	if (!first || !order || !fill) {
		free(first);
		free(order);
		free(fill);
		return -ENOMEM;
	}
	/* Counting sort by parent, then each family by name. */
	for (size_t i = 1; i < t->nnodes; i++)
		first[t->nodes[i].parent + 1]++;
	for (size_t i = 0; i < t->nnodes; i++)
		first[i + 1] += first[i];
	memcpy(fill, first, (t->nnodes + 1) * sizeof(*fill));
	for (size_t i = 1; i < t->nnodes; i++)
		order[fill[t->nodes[i].parent]++] = (uint32_t)i;
	for (size_t i = 0; i < t->nnodes; i++)
		if (first[i + 1] - first[i] > 1)
			qsort_r(order + first[i], first[i + 1] - first[i], sizeof(*order), by_frame, &ctx);
	free(fill);
	*first_out = first;
	*order_out = order;
	return 0;
}
