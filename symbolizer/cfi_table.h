/* cfi_table.h - the unwind rules of one x86-64 ELF object, as a flat table.
 *
 * Unwinding a stack snapshot needs, per frame, "where is the caller's stack
 * pointer (the CFA), its return address and its rbp". Asking libdw per pc
 * (dwarf_cfi_addrframe) re-runs the FDE's CFA program every time. So the
 * CFI is read once into one sorted table: one row per pc range over which
 * the rule for those three registers is constant. A lookup is a binary
 * search over 32-bit pc offsets.
 *
 * Building: every CIE and FDE of .eh_frame (else .debug_frame) is
 * enumerated with libdw's dwarf_next_cfi (an FDE's pc range decoded with
 * the CIE's pointer encoding); each CIE's initial instructions and then
 * each FDE's are run once by cfi_program.c, which hands out a cfi_rule per
 * row as the pc advances: linear in the instructions, with caps below.
 * Adjacent rows with the same rule merge; distinct rules are stored once
 * (a table holds a uint32 pc offset and a uint16 rule index per row).
 *
 * What a rule can say (anything else is marked unsupported, and the unwinder
 * stops there):
 *  - CFA = rsp + off, rbp + off, or *(rsp + off) (signal frames: glibc's
 *    __restore_rt finds the interrupted rsp in the ucontext);
 *  - CFA of a lazy PLT entry: binutils describes .plt with the expression
 *    rsp + off + ((rip & 15) >= K ? 8 : 0) (the entry's push of the
 *    relocation index happens at offset K); that exact expression is kept;
 *  - return address and rbp: undefined, unchanged, saved at CFA + off, or
 *    saved at rsp + off (signal frames).
 * .plt, .plt.sec and .plt.got sections no FDE covers (lld, or
 * --ld-generated-unwind-info=no) get the rules of binutils' x86-64 stubs.
 *
 * Addresses are ELF virtual addresses of the object (what .eh_frame says);
 * the caller subtracts the load bias. The table holds no descriptor, no
 * libelf or libdw memory.
 */
#ifndef BPFPROF_SYM_CFI_TABLE_H
#define BPFPROF_SYM_CFI_TABLE_H

#include <stddef.h>
#include <stdint.h>

struct cfi_table;

enum cfi_cfa_kind {
	CFI_CFA_RSP,         /* rsp + cfa_off */
	CFI_CFA_RBP,         /* rbp + cfa_off */
	CFI_CFA_DEREF_RSP,   /* *(uint64_t *)(rsp + cfa_off) */
	CFI_CFA_PLT,         /* rsp + cfa_off + ((pc & 15) >= plt_ge ? 8 : 0) */
	CFI_CFA_UNSUPPORTED, /* another expression */
};

enum cfi_reg_kind {
	CFI_REG_UNDEFINED,   /* lost; for the return address: outermost frame */
	CFI_REG_SAME,        /* the caller's value is this frame's */
	CFI_REG_AT_CFA,      /* saved at CFA + off */
	CFI_REG_AT_RSP,      /* saved at rsp + off (rsp of this frame) */
	CFI_REG_UNSUPPORTED, /* another rule */
};

enum {
	CFI_SIGNAL_FRAME = 1 << 0, /* FDE of a signal trampoline ('S'): the
				      caller's pc is not a return address */
};

struct cfi_rule {
	int32_t cfa_off;
	int16_t ra_off;      /* CFI_REG_AT_CFA / _AT_RSP */
	int16_t rbp_off;
	uint8_t cfa;         /* enum cfi_cfa_kind */
	uint8_t ra;          /* enum cfi_reg_kind */
	uint8_t rbp;         /* enum cfi_reg_kind */
	uint8_t flags;       /* CFI_SIGNAL_FRAME */
	uint8_t plt_ge;      /* CFI_CFA_PLT only */
	/* Rules are hashed and compared bytewise: no implicit padding, whose
	 * bytes a struct copy need not keep (gcc -O3 does not). Always 0. */
	uint8_t pad[3];
};

struct cfi_row {
	uint64_t start, end; /* the rule holds for ELF vaddrs [start, end) */
	struct cfi_rule rule;
};

/* Caps of one object's table: its CFI is input from whoever can run the
 * file, and one FDE can describe millions of rows in a few MB.
 *
 * Rows (pc ranges) per object. The largest objects on a Debian 12 machine
 * have far fewer: libLLVM-15.so.1 979,120, python3.11 64,575, libc.so.6
 * 28,275. At 4 Mi rows the table is 24 MiB (6 bytes a row), and building
 * it needs 10 bytes a row more until it is done (about 0.25 s). */
#define CFI_TABLE_MAX_ROWS (1u << 22)

/* CFI instructions interpreted per object, each CIE and FDE counting as
 * one too: a time cap, since rows that merge with the one before cost time
 * but no memory. libLLVM-15.so.1 runs 2.4 M, python3.11 163 k, libc.so.6
 * 64 k; 16 Mi (7x libLLVM's) take about 0.5 s on 2 vCPUs, 2 s under ASan. */
#define CFI_TABLE_MAX_INSNS (UINT64_C(1) << 24)

/* Reads the CFI of the x86-64 ELF file open on fd (fd stays the caller's;
 * its position is not used). Returns 0, -ENODATA when the file has neither
 * .eh_frame nor .debug_frame, -ENOTSUP when it is not x86-64 ELF64,
 * -EINVAL when libelf cannot read it, -E2BIG (and no table) when its code
 * spans more than 4 GiB, it has more than 65535 distinct rules, more than
 * CFI_TABLE_MAX_ROWS rows or more than CFI_TABLE_MAX_INSNS instructions,
 * or -ENOMEM. An FDE whose program is malformed has rules up to where it
 * breaks and no CFI after; entries past one dwarf_next_cfi cannot read are
 * skipped. Does not log. */
int cfi_table_build(int fd, struct cfi_table **out);

void cfi_table_free(struct cfi_table *t);

/* Fills *out with the row covering ELF vaddr. Returns 0, or -ENOENT when no
 * CFI covers vaddr. */
int cfi_table_find(const struct cfi_table *t, uint64_t vaddr,
		   struct cfi_row *out);

/* Fills *out with row i, in pc order. Returns 0, -ENOENT for a row without
 * CFI (a gap: out->start and out->end are set, out->rule is not a rule), or
 * -ERANGE when i >= cfi_table_rows() - 1 (the last row only ends the one
 * before it). */
int cfi_table_row(const struct cfi_table *t, size_t i, struct cfi_row *out);

/* Number of rows (pc ranges, including gaps without CFI). */
size_t cfi_table_rows(const struct cfi_table *t);

/* Bytes the table holds, for a memory cap. */
size_t cfi_table_memory(const struct cfi_table *t);

#endif
