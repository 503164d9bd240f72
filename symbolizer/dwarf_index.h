/* dwarf_index.h - file:line and inline chains of one object, from its DWARF.
 *
 * Asking libdw for the scopes of each address (dwarf_getscopes) walks the
 * CU's DIE tree every time and is ~20x slower than llvm-symbolizer. So the
 * DWARF is read once, with libdw, into three flat sorted arrays, and each
 * lookup is two binary searches plus a walk up a parent chain:
 *  - nodes: one per DW_TAG_subprogram and DW_TAG_inlined_subroutine that
 *    has code, with its name (DW_AT_linkage_name, else DW_AT_name, followed
 *    through DW_AT_abstract_origin and DW_AT_specification), DW_AT_decl_line
 *    and, for an inlined one, its call site (DW_AT_call_file/_line) and the
 *    node it was inlined into;
 *  - segments: the address space cut into disjoint intervals, each naming
 *    the innermost node covering it (ranges from low/high pc or DW_AT_ranges,
 *    flattened by a sweep over the nested ranges);
 *  - rows: the line tables of every CU (dwarf_getsrclines) merged into one
 *    array of (address, file, line) changes, end-of-sequence rows as gaps.
 * File and function names are interned in one string arena (strtab.h). The
 * libdw and libelf handles are closed once the index is built: the index
 * holds no descriptor and no libdw memory.
 *
 * The DWARF may come from the object itself or from a separate debug file
 * (found by build-id or .gnu_debuglink): either way its addresses are the
 * ELF virtual addresses of the object, so the caller just passes whichever
 * file holds the DWARF.
 *
 * Deviations from a full DWARF consumer, by design: split DWARF (.dwo) and
 * type units are not read; ranges starting at address 0 (functions the
 * linker discarded) are dropped; a range that overlaps its enclosing one
 * without being nested in it (broken DWARF) is clipped to it.
 */
#ifndef BPFPROF_SYM_DWARF_INDEX_H
#define BPFPROF_SYM_DWARF_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "symbolizer.h"

struct dwarf_index;

enum {
	DWARF_INDEX_FUNCTIONS = 1 << 0, /* subprograms with code were indexed:
					   inline chains are complete */
	DWARF_INDEX_LINES = 1 << 1,     /* line tables with rows: files and lines */
};

/* Reads the DWARF of the ELF file open on fd (the object itself or its
 * separate debug file; fd stays the caller's, its position is not used).
 * Returns 0, -ENODATA when the file has no DWARF (neither functions nor
 * lines), -EINVAL when libelf/libdw cannot read it, or -ENOMEM. Does not
 * log. */
int dwarf_index_open(int fd, struct dwarf_index **out);

void dwarf_index_free(struct dwarf_index *ix);

/* DWARF_INDEX_* flags. */
unsigned dwarf_index_flags(const struct dwarf_index *ix);

/* Bytes the index holds, for a memory cap. */
size_t dwarf_index_memory(const struct dwarf_index *ix);

/* Fills frames[0..n) for ELF virtual address vaddr and returns n (<= max):
 * frames[0] is the innermost inlined function with the file:line of vaddr,
 * each next one the function it was inlined into with the file:line of the
 * call site, the last one the out-of-line function. A chain longer than max
 * keeps its innermost max-1 frames and the out-of-line one (whose line is
 * then that of the call site in it). With lines but no function at vaddr,
 * one frame with function NULL; nothing known gives 0. A function without
 * a name in the DWARF is "??". Strings live as long as the index. */
int dwarf_index_lookup(const struct dwarf_index *ix, uint64_t vaddr,
		       struct sym_frame *frames, int max);

#endif
