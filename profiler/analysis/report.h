/* report.h - the top functions of a profile, as `go tool pprof -top`.
 *
 * Rows are frames (functions, or lines when the frame table is by line)
 * with their flat and cumulative values and shares of the total, sorted
 * by flat (then name, then cum: pprof's order) or by cum (then name).
 * Text is pprof's table; JSON is one object with every number a consumer
 * needs to check or plot it (docs/usage.md gives its fields).
 */
#ifndef BPFPROF_REPORT_H
#define BPFPROF_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "frame_table.h"
#include "stack_list.h"

enum report_format { REPORT_TEXT, REPORT_JSON, REPORT_FOLDED };

struct report_opts {
	size_t sz;
	enum report_format format;
	size_t top;    /* rows; 0: all */
	bool by_cum;   /* sort by cumulative value */
	const char *type, *unit; /* the sample type shown */
};

/* Writes the report of list l (frames of t) to out: 0, -ENOMEM or -EIO. */
int report_write(FILE *out, const struct frame_table *t, const struct stack_list *l,
		 const struct report_opts *o);

/* Brendan Gregg's collapsed stacks: one line per distinct stack, "root;...;leaf
 * VALUE", in order of the stacks' names (so equal inputs give equal bytes).
 * A ';' in a name becomes ':' and a control character ' ', the only two
 * things the format cannot carry. 0, -ENOMEM or -EIO. */
int folded_write(FILE *out, const struct frame_table *t, const struct stack_list *l);

#endif
