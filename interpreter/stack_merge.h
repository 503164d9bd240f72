/* stack_merge.h - interpreter frames spliced into a native stack.
 *
 * A Python thread's native stack has one _PyEval_EvalFrameDefault frame
 * per activation of the eval loop, and each activation runs a run of
 * Python frames (calls from Python to Python stay in one activation); the
 * walk marks the oldest frame of each run (its entry). So, from the leaf:
 * each native frame in the eval loop is replaced by the next run of
 * Python frames, youngest first, through its entry frame; other native
 * frames stay (the C functions Python calls, and those leading into the
 * interpreter). Python frames left when the native frames run out (a
 * native stack cut short) go at the root end rather than being lost; an
 * eval frame left without a run (a Python stack cut short) stays native.
 */
#ifndef BPFPROF_STACK_MERGE_H
#define BPFPROF_STACK_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "symbolizer.h"

/* What an interpreter frame names, one per code object: a pprof Function. */
struct interp_function {
	const char *name;   /* qualified: Class.method */
	const char *system_name; /* name with the runtime's prefix
	                            ("python:<module>"): pprof's system name,
	                            which go tool pprof leaves alone when it
	                            differs from the name (else it strips a
	                            "<...>" from it as a C++ template) */
	const char *file;
	int first_line;
	const struct sym_mapping *mapping; /* the runtime's pseudo-mapping
	                                      ("[python]"): marks its frames */
};

/* One interpreter frame of a stack. */
struct interp_frame {
	const struct interp_function *function;
	int line;           /* 0: unknown */
	bool entry;         /* the oldest frame of its eval-loop run */
};

/* A frame of the merged stack: native[index] or interp[index]. */
struct merged_frame {
	bool interp;
	uint32_t index;
};

/* Merges nnative native frames (leaf first; in_eval[i]: frame i is in the
 * eval loop) with ninterp interpreter frames (youngest first) into out
 * (room for max); returns how many were written. */
size_t stack_merge(const bool *in_eval, size_t nnative, const struct interp_frame *interp,
		   size_t ninterp, struct merged_frame *out, size_t max);

#endif
