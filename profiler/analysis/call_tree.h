/* call_tree.h - a profile's stacks merged into one tree, for flame graphs.
 *
 * Every node is a call path: its frame, its parent, and the value of the
 * samples whose stacks pass through it (its children's and its own). The
 * root (node 0) is the whole profile. A differential tree adds, per node,
 * the value a base profile has on the same path, scaled to this profile's
 * total (base share x total), so the page compares shares, not counts; a
 * path only the base has is not drawn (its value stays in its ancestors').
 */
#ifndef BPFPROF_CALL_TREE_H
#define BPFPROF_CALL_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "frame_table.h"
#include "id_index.h"
#include "stack_list.h"

#define CALL_TREE_ROOT 0

struct call_node {
	uint32_t frame;  /* frame id; UINT32_MAX for the root */
	uint32_t parent; /* node id; the root's is its own */
	int64_t value;
	double base;     /* differential trees: the base's scaled value */
};

struct call_tree {
	struct call_node *nodes;
	size_t nnodes, cap;
	struct id_index index; /* (parent, frame) -> node */
	int diff;              /* a base was added */
};

/* The tree of list l: 0 or -ENOMEM. */
int call_tree_build(struct call_tree *t, const struct stack_list *l);

/* Adds base's values along the paths t has: 0 (base's total must be > 0). */
int call_tree_add_base(struct call_tree *t, const struct stack_list *base);

void call_tree_free(struct call_tree *t);

/* The children of every node, each node's sorted by frame name (then
 * file, line), so a flame graph's layout does not depend on input order:
 * children of node n are order[first[n] .. first[n + 1]). first has
 * nnodes + 1 entries. Both malloc'ed (the caller frees them): 0 or
 * -ENOMEM. */
int call_tree_children(const struct call_tree *t, const struct frame_table *frames,
		       uint32_t **first, uint32_t **order);

#endif
