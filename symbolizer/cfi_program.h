/* cfi_program.h - runs the DWARF call frame instructions of one CIE/FDE.
 *
 * An FDE's unwind rules are a program (DWARF 5 section 6.4.2): the CIE's
 * initial instructions, then the FDE's, each moving the pc ("advance") or
 * changing a register's rule. Asking libdw for the rule at a pc re-runs the
 * program from its start, so a table of all rows built that way costs
 * O(rows^2) per FDE. This interpreter runs the program once and hands out
 * each row (pc, struct cfi_rule) as the pc advances: O(instructions).
 *
 * It tracks only what a struct cfi_rule says: the CFA, rbp (DWARF 6) and the
 * CIE's return-address column, reduced as they are set (an expression is
 * decoded when its instruction runs, not per row). Other registers' rules
 * are parsed and ignored. The rows are the ones libdw's dwarf_cfi_addrframe
 * gives when queried row after row from the FDE's start (the old builder):
 * a row ends at the first advance past its start; an advance that does not
 * move past it (DW_CFA_set_loc backwards) starts no row; registers start
 * from libdw's x86-64 ABI defaults (rbp and the return address "same
 * value", the rest undefined).
 *
 * Every read is bounds-checked against the buffer given. Malformed input
 * (a truncated operand, an unknown opcode, restore_state with nothing
 * remembered, an advance inside a CIE) ends the program; so does input that
 * is well-formed but beyond this model (remember_state nested too deep,
 * a DW_CFA_set_loc encoding it cannot read). Each instruction costs one unit
 * of a budget the caller gives, so a whole object's programs are bounded in
 * time.
 */
#ifndef BPFPROF_SYM_CFI_PROGRAM_H
#define BPFPROF_SYM_CFI_PROGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfi_table.h"

/* One register's rule, already reduced (enum cfi_reg_kind, offset). */
struct cfi_reg_rule {
	uint8_t kind;
	int16_t off;
};

/* The rule state between two rows; internal to cfi_program.c, here only so
 * a struct cfi_cie can hold the state its initial instructions leave. */
struct cfi_state {
	uint8_t cfa_how;         /* CFA undefined, reg + off, expression, invalid */
	uint64_t cfa_reg;        /* reg + off: the register and offset */
	uint64_t cfa_off;
	struct cfi_rule cfa_expr; /* expression: cfa, cfa_off, plt_ge reduced */
	struct cfi_reg_rule rbp, ra;
};

/* What an FDE's program starts from: its CIE's parameters and the state
 * the CIE's initial instructions leave (filled by cfi_cie_run). */
struct cfi_cie {
	uint64_t code_align;
	int64_t data_align;
	uint64_t ra_reg;         /* the return-address column */
	int ptr_enc;             /* DW_EH_PE_* of DW_CFA_set_loc; -1: unknown */
	bool signal;             /* augmentation 'S' */
	struct cfi_state init;
};

/* Called per row, pcs ascending: rule r holds from pc until the next row's
 * pc (or the FDE's end). Returns 0 or a negative errno, which stops the
 * program and is returned by cfi_fde_run. */
typedef int (*cfi_row_fn)(void *ctx, uint64_t pc, const struct cfi_rule *r);

/* Runs the CIE's initial instructions [insns, insns + len) into cie->init;
 * the other fields of *cie must be set. Returns 0, -EINVAL (malformed),
 * -ENOTSUP (beyond the model) or -E2BIG (*budget ran out). */
int cfi_cie_run(struct cfi_cie *cie, const uint8_t *insns, size_t len,
		uint64_t *budget);

/* Runs an FDE's instructions [insns, insns + len), whose first byte is at
 * vaddr (for pc-relative DW_CFA_set_loc), over its pc range [lo, hi), from
 * the state cie->init. Calls row() for each row. Returns 0 with *stop = hi
 * (the last row extends to hi); -EINVAL or -ENOTSUP with *stop the pc from
 * which the FDE has no rule (rows before it were handed out); -E2BIG when
 * *budget ran out; or what row() returned. */
int cfi_fde_run(const struct cfi_cie *cie, const uint8_t *insns, size_t len,
		uint64_t vaddr, uint64_t lo, uint64_t hi, uint64_t *budget,
		cfi_row_fn row, void *ctx, uint64_t *stop);

/* The readers of CFI operands, shared with cfi_table.c. Each advances *p
 * and returns false, reading nothing past end, when the value is cut. */
bool cfi_read_uleb(const uint8_t **p, const uint8_t *end, uint64_t *v);

/* A pointer encoded as enc (DW_EH_PE_*; absolute or pc-relative, where here
 * is the vaddr of *p). */
bool cfi_read_encoded(const uint8_t **p, const uint8_t *end, int enc,
		      uint64_t here, uint64_t *v);

#endif
