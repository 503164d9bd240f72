/* function_totals.h - flat and cumulative value of every function.
 *
 * As `go tool pprof` counts them: a stack's value is the flat value of its
 * leaf frame (the innermost inlined one) and the cumulative value of every
 * distinct frame on it (a recursive function counts once per stack). By
 * function or by line is the frame table's choice: a frame id is the key.
 */
#ifndef BPFPROF_FUNCTION_TOTALS_H
#define BPFPROF_FUNCTION_TOTALS_H

#include <stddef.h>
#include <stdint.h>

#include "stack_list.h"

struct function_totals {
	int64_t *flat, *cum; /* indexed by frame id */
	size_t nframes;
};

/* Totals of list l, whose frames are ids < nframes: 0 or -ENOMEM. */
int function_totals_compute(const struct stack_list *l, size_t nframes,
			    struct function_totals *out);
void function_totals_free(struct function_totals *t);

#endif
