/* frame_table.h - the frames of every profile an analysis reads, interned.
 *
 * A frame is what one line of a pprof location names: a function, the
 * file and line when the analysis is by line, and its kind (kernel,
 * native, JIT, ...), which only colours the flame graph. Every profile of
 * one analysis (several files merged, or the two sides of a diff) interns
 * its frames in one table, so a frame id means the same function in all
 * of them and comparing profiles is comparing ids.
 *
 * By function (by_line false, as `go tool pprof` by default), frames are
 * equal when their names are, and the file kept is the first one seen (it
 * is only shown); by line, name, file and line must all be equal. Strings
 * are copied into the table (the decoded profiles are freed file by
 * file); ids are dense, 0 .. count - 1.
 */
#ifndef BPFPROF_FRAME_TABLE_H
#define BPFPROF_FRAME_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "id_index.h"

enum frame_kind {
	FRAME_NATIVE,
	FRAME_KERNEL,
	FRAME_JIT,
	FRAME_INTERPRETER,
	FRAME_UNSYMBOLIZED,
	FRAME_KINDS
};

extern const char *const frame_kind_names[FRAME_KINDS]; /* "native", ... */

struct frame {
	const char *name;
	const char *file; /* "" when unknown */
	int64_t line;     /* 0 unless by line */
	enum frame_kind kind;
};

struct frame_table {
	bool by_line; /* set before the first frame */
	struct frame *frames;
	size_t nframes, cap;
	struct id_index index;
	char **blocks; /* string storage, freed with the table */
	size_t nblocks, blocks_cap, block_left;
	char *block_next;
};

/* The id of frame f (its strings copied at first sight): >= 0, or -ENOMEM.
 * The first kind seen wins. */
int64_t frame_table_intern(struct frame_table *t, const struct frame *f);

void frame_table_free(struct frame_table *t);

#endif
