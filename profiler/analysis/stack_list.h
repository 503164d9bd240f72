/* stack_list.h - one profile (or several merged) as its distinct stacks.
 *
 * What every analysis needs of a profile is its stacks and their values:
 * the functions table, the folded lines, the call tree and the diff are
 * all sums over them. Identical stacks (the same frame ids, of one
 * frame_table) are added up as they come, so a profile of a million
 * samples that repeat is held as its thousands of distinct stacks.
 * Stacks are root first; values are of one sample type, >= 0.
 */
#ifndef BPFPROF_STACK_LIST_H
#define BPFPROF_STACK_LIST_H

#include <stddef.h>
#include <stdint.h>

#include "id_index.h"

struct stack {
	size_t first;   /* frames[first .. first + depth) of the list */
	uint32_t depth; /* 0: a sample with no frames */
	int64_t value;
};

struct stack_list {
	uint32_t *frames;
	size_t nframes, frames_cap;
	struct stack *stacks;
	size_t nstacks, stacks_cap;
	struct id_index index;
	int64_t total;   /* sum of the values */
	size_t nprofiles; /* files merged into it */
};

/* Adds value to the stack frames[0 .. depth) (root first): 0, -EOVERFLOW
 * (the total would not fit in int64) or -ENOMEM. */
int stack_list_add(struct stack_list *l, const uint32_t *frames, uint32_t depth, int64_t value);

/* Adds every stack of src (frames of the same table) to dst, and its
 * profile count: 0, -EOVERFLOW or -ENOMEM. */
int stack_list_merge(struct stack_list *dst, const struct stack_list *src);

void stack_list_free(struct stack_list *l);

#endif
