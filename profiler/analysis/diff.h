/* diff.h - what changed between a base and a new profile, and a verdict.
 *
 * Both sides are normalised: a function's flat and cumulative values are
 * shares of its side's total, in percentage points, so a longer or busier
 * run is not a regression. Each side is one or more runs (stack lists of
 * one frame table, so a frame id is the same function on both sides).
 *
 * One run a side: a function regressed when its cumulative share grew by
 * more than the threshold (points); improved when it shrank by more.
 *
 * Several runs a side (at least 2 each): a share is a mean over the runs,
 * and a change is called only when it is beyond the runs' spread: per
 * function whose mean cumulative share is at least DIFF_MIN_TESTED_SHARE
 * on a side, Welch's t-test of its shares (welch.h), the p-values adjusted
 * for testing many functions at once (Holm's step-down method, so the
 * chance that any unchanged function is called stays under alpha). A
 * function regressed when it grew by more than the threshold with an
 * adjusted p under alpha, improved likewise, and is inconclusive when it
 * moved by more than the threshold with a p that says the runs cannot
 * tell. docs/usage.md explains the method.
 *
 * The verdict of the whole: regression if a function regressed, else
 * inconclusive if one is, else improvement if one improved, else none.
 */
#ifndef BPFPROF_DIFF_H
#define BPFPROF_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "frame_table.h"
#include "stack_list.h"

#define DIFF_MIN_TESTED_SHARE 1.0 /* points */

enum diff_verdict { DIFF_NONE, DIFF_IMPROVEMENT, DIFF_INCONCLUSIVE, DIFF_REGRESSION };

extern const char *const diff_verdict_names[]; /* "no change", "improvement", ... */

struct diff_opts {
	size_t sz;
	double threshold; /* points, > 0 */
	double alpha;     /* several runs: the family-wise error rate */
};

struct diff_row {
	uint32_t frame;
	double base_flat, new_flat, base_cum, new_cum; /* shares, points (means) */
	double d_flat, d_cum;                          /* new - base */
	bool tested;     /* several runs, share high enough */
	double p;        /* adjusted for the functions tested; 1 when untested */
	double lo, hi;   /* (1 - alpha) interval of d_cum, when tested */
	enum diff_verdict verdict;
};

struct diff_result {
	struct diff_row *rows; /* regressions (by growth), the other called, the rest;
				* then by size of change */
	size_t nrows;
	size_t ntested;
	bool several; /* several runs a side */
	enum diff_verdict verdict;
	size_t ncalled; /* functions with the verdict */
	struct diff_opts opts;
};

/* Compares base[0 .. nbase) with new[0 .. nnew) (runs; several a side
 * when both have 2 or more): 0, -EINVAL (a side is empty) or -ENOMEM. */
int diff_compute(const struct frame_table *t, const struct stack_list *base, size_t nbase,
		 const struct stack_list *new_runs, size_t nnew, const struct diff_opts *o,
		 struct diff_result *out);
void diff_result_free(struct diff_result *r);

enum diff_format { DIFF_TEXT, DIFF_MARKDOWN, DIFF_JSON };

struct diff_write_opts {
	size_t sz;
	enum diff_format format;
	size_t top;          /* rows; 0: all that changed */
	const char *type;    /* the sample type compared */
	size_t nbase, nnew;  /* profiles read a side */
};

/* Writes r (frames of t): 0 or -EIO. */
int diff_write(FILE *out, const struct frame_table *t, const struct diff_result *r,
	       const struct diff_write_opts *o);

#endif
