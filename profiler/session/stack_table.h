/* stack_table.h - counts of user-space unwound stacks.
 *
 * In DWARF mode the BPF side sends every sample's registers and stack
 * snapshot; user space unwinds each one and counts the result here, keyed
 * by the sample's whole identity (process, thread, names, kernel stack id)
 * plus its user frames (each pc with the mapping the unwinder found it in,
 * and which pcs are exact: not return addresses), so identical stacks are
 * drained once, however many samples they have.
 * The table is capped; the caller counts the samples that find it full.
 */
#ifndef BPFPROF_STACK_TABLE_H
#define BPFPROF_STACK_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profile.h"
#include "stack_merge.h"
#include "symbolizer.h"

/* native frames, and the Python frames merged into them */
#define STACK_TABLE_MAX_DEPTH (BPFPROF_MAX_STACK_DEPTH + BPFPROF_PY_MAX_FRAMES)
#define STACK_TABLE_EXACT_WORDS ((STACK_TABLE_MAX_DEPTH + 63) / 64)

struct stack_table;

/* A frame as the unwinder found it. */
struct unwound_frame {
	uint64_t pc;                       /* an interpreter frame's: its line */
	const struct sym_mapping *mapping; /* of pc's call site; NULL: none */
	const struct interp_function *interp; /* NULL: a native frame */
};

/* One distinct unwound stack and its count; frames innermost first. */
struct unwound_stack {
	uint64_t count;
	/* The identity, key to frames[depth - 1]: compared as bytes (padding 0). */
	struct sample_key key; /* user_stack_id unused */
	uint32_t depth;
	bool truncated;        /* the stack goes on past the snapshot */
	uint64_t exact[STACK_TABLE_EXACT_WORDS]; /* bit i: frames[i].pc is exact */
	struct unwound_frame frames[];
};

int stack_table_new(size_t max_entries, struct stack_table **out);
void stack_table_free(struct stack_table *t);

/* Counts one sample; exact[i]: pcs[i] is not a return address (the leaf,
 * or after a signal frame); maps[i] its mapping (symbolizer_unwind());
 * interp[i] (interp NULL: none) the function of an interpreter frame,
 * whose pcs[i] is its line. Returns 0, or -ENOSPC when the table is full,
 * or -ENOMEM. */
int stack_table_add(struct stack_table *t, const struct sample_key *key, const uint64_t *pcs,
		    const bool *exact, const struct sym_mapping *const *maps,
		    const struct interp_function *const *interp, uint32_t depth, bool truncated);

/* Forgets every stack. */
void stack_table_clear(struct stack_table *t);

typedef int (*stack_table_cb)(const struct unwound_stack *s, void *ctx);

/* Calls cb for each distinct stack; stops at the first nonzero return. */
int stack_table_for_each(const struct stack_table *t, stack_table_cb cb, void *ctx);

#endif
