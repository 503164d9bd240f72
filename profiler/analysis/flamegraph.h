/* flamegraph.h - a call tree as a self-contained HTML flame graph.
 *
 * The page (flamegraph_page.html, compiled into the binary) draws on a
 * canvas from the tree embedded in it as JSON: no script, font or image is
 * loaded from anywhere, so it opens from a file, offline, and sends
 * nothing. A tree of more than max_nodes call paths loses its narrowest
 * (a child is never wider than its parent, so what stays is a tree): the
 * page stays small enough for a browser; their value stays in their
 * parents'. docs/usage.md says what the page does.
 */
#ifndef BPFPROF_FLAMEGRAPH_H
#define BPFPROF_FLAMEGRAPH_H

#include <stdio.h>

#include "call_tree.h"
#include "frame_table.h"

#define FLAMEGRAPH_MAX_NODES 500000

struct flamegraph_opts {
	size_t sz;
	const char *title;       /* shown as the page's title and heading */
	const char *type, *unit; /* the sample type */
	size_t max_nodes;        /* 0: FLAMEGRAPH_MAX_NODES */
};

/* Writes the page of tree t (frames of f) to out: 0, -ENOMEM or -EIO. */
int flamegraph_write(FILE *out, const struct frame_table *f, const struct call_tree *t,
		     const struct flamegraph_opts *o);

#endif
