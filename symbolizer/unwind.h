/* unwind.h - x86-64 user stacks from a register and stack snapshot.
 *
 * A sample carries the user rip, rsp and rbp and a copy of the user stack
 * taken from rsp - 128 (the red zone) upward. unwind_snapshot() walks it
 * with the CFI tables of the objects the pcs fall in (cfi_table.h): per
 * frame one lookup of the pc's object (the caller's callback), one binary
 * search in its table and a few bounds-checked loads from the snapshot.
 * Nothing is allocated; memory outside the snapshot is never read, whatever
 * the registers and bytes say, so garbage input only ends the walk early.
 *
 * A frame's rule is looked up at its pc for the innermost frame and for the
 * frame interrupted by a signal (the caller of a CFI_SIGNAL_FRAME frame),
 * at pc - 1 otherwise (the call instruction: a call may be the last
 * instruction of a function). Where no table covers the pc (JIT code,
 * objects without CFI), one frame-pointer step is taken if rbp points into
 * the snapshot above rsp: caller's rbp at [rbp], return address at
 * [rbp + 8], caller's rsp rbp + 16.
 *
 * Each step must raise rsp, so the walk ends on any input.
 */
#ifndef BPFPROF_SYM_UNWIND_H
#define BPFPROF_SYM_UNWIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfi_table.h"

struct unwind_regs {
	uint64_t rip, rsp, rbp;
};

struct unwind_stack {
	uint64_t base;          /* user address of data[0]: rsp - 128 */
	const uint8_t *data;
	size_t len;
};

enum unwind_status {
	UNWIND_END,             /* pc 0, or the CFI says the return address is
				   undefined (_start, clone3): a whole stack */
	UNWIND_TRUNCATED,       /* the next frame lies beyond the snapshot */
	UNWIND_NO_CFI,          /* no CFI for the pc, no frame pointer to use */
	UNWIND_UNSUPPORTED,     /* a CFI rule this unwinder does not follow */
	UNWIND_BAD_FRAME,       /* a step that does not go up the stack, or
				   reads below the snapshot: garbage */
	UNWIND_MAX_FRAMES,      /* pcs[] is full */
};

/* Maps a process address to the CFI table of the object mapped there
 * (NULL: none) and that mapping's load bias (ELF vaddr = pc - *bias). */
typedef const struct cfi_table *(*unwind_find_fn)(void *ctx, uint64_t pc,
						   uint64_t *bias);

/* Fills pcs[0..n) innermost first and returns n (<= max): pcs[0] is rip,
 * the others return addresses as read (subtract 1 to symbolize a call
 * site) except where exact[i] (when exact is not NULL) says the pc is not
 * a return address: rip, and the pc a signal interrupted. *status says
 * why the walk stopped. */
int unwind_snapshot(const struct unwind_regs *regs,
		    const struct unwind_stack *stack, unwind_find_fn find,
		    void *ctx, uint64_t *pcs, bool *exact, int max,
		    enum unwind_status *status);

/* "end", "truncated", ... for logs and tests. */
const char *unwind_status_name(enum unwind_status s);

#endif
