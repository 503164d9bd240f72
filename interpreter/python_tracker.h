/* python_tracker.h - the Python processes being sampled, and their code.
 *
 * When a process is announced (or runs a new file: ld.so maps libpython
 * after the executable), the tracker looks for its interpreter
 * (python_detect.h) and, for a supported version, gives the caller what
 * the BPF walk needs (struct bpfprof_python_proc); an unsupported one is
 * logged once per interpreter file and the process keeps its native
 * frames. Frames the walk recorded are resolved here: each code object is
 * read from the process once (python_code.h; it may exit soon after) and
 * kept, its name, file and location table, as an interp_function per code
 * object, its memory charged to the symbolizer's cap (when the cap is
 * reached, new code objects read as "<python code>"); the line of a frame
 * comes from the table and the frame's instruction offset. An entry used
 * again after a while is checked against the object at its address (one
 * read), and read anew when another code object has taken it.
 *
 * Lifetime: everything handed out for a process (interp_function
 * pointers) stays valid until the second python_tracker_forget_exited()
 * after the process exited or the entry was replaced, like the
 * symbolizer's mappings, so the stacks of the interval under way may keep
 * them. Not thread-safe.
 */
#ifndef BPFPROF_PYTHON_TRACKER_H
#define BPFPROF_PYTHON_TRACKER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "profile.h"
#include "stack_merge.h"
#include "symbolizer.h"

struct python_tracker;
struct python_process;

struct python_tracker_stats {
	uint64_t processes;     /* Python processes tracked now */
	uint64_t unsupported;   /* processes with an interpreter not supported */
	uint64_t code_objects;  /* code objects held */
	uint64_t code_bytes;    /* their memory */
	uint64_t code_failed;   /* code objects that could not be read */
	uint64_t code_over_cap; /* ... not read: the cap was reached */
	uint64_t code_replaced; /* ... found replaced by another at its address */
};

/* sym: whose mappings detection reads and whose cap the code objects
 * are charged to; it must outlive the tracker. */
int python_tracker_new(struct symbolizer *sym, struct python_tracker **out);
void python_tracker_free(struct python_tracker *t);

/* Looks at process pid (started at start_time, ns since boot). 1: a
 * supported CPython, *proc filled for the BPF side (once per process:
 * later calls return 0); 0: nothing to do (not Python, not yet, already
 * known, or not supported: logged once). Negative: an error. */
int python_tracker_detect(struct python_tracker *t, pid_t pid, uint64_t start_time,
			  struct bpfprof_python_proc *proc);

/* The tracked incarnation of pid, NULL when it does not run Python. */
struct python_process *python_tracker_find(struct python_tracker *t, pid_t pid,
					   uint64_t start_time);

/* Whether pc is in the eval loop of p (_PyEval_EvalFrameDefault). */
bool python_process_in_eval(const struct python_process *p, uint64_t pc);

/* Resolves the frames the walk recorded for a thread of p into out (room
 * for BPFPROF_PY_MAX_FRAMES), youngest first: each frame's function and
 * line, and which frames are the oldest of an eval-loop run (3.11: the
 * is_entry marker; 3.12+: the frame younger than a shim, which is not
 * kept, nor is a frame whose object is not code). Returns how many. */
size_t python_tracker_resolve(struct python_tracker *t, struct python_process *p,
			      const struct bpfprof_py_stack *py, struct interp_frame *out);

/* Forgets the processes that exited and the code objects replaced
 * (freed at the next call). */
void python_tracker_forget_exited(struct python_tracker *t);

void python_tracker_get_stats(const struct python_tracker *t, struct python_tracker_stats *out);

#endif
