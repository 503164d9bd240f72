/* dwarf_index.c - see dwarf_index.h.
 *
 * Building, per compile unit (through a Dwarf handle reopened now and then, see build()):
 *  1. the line table: every row becomes a raw row (address, file, line,
 *     order read); end-of-sequence rows are gaps (file NONE, line 0);
 *  2. the DIE tree, descending only into what can hold code (subprograms,
 *     inlined subroutines, lexical blocks, namespaces, modules): each
 *     function DIE with code becomes a node, each of its address ranges a
 *     raw range (lo, hi, node, DIE depth).
 * File indexes of a CU (line rows, DW_AT_call_file) are interned once per
 * CU through a small cache. Then:
 *  - each CU's raw rows are sorted by (address, end-of-sequence first,
 *    order read) and collapsed: at one address the last row wins (as in
 *    llvm's line lookup), and a row repeating its predecessor's file:line
 *    is dropped; at the end all CUs' rows are sorted and collapsed again
 *    (only collapsed rows are kept while reading: a big object's line
 *    tables do not sit in memory whole);
 *  - raw ranges are sorted by (lo, hi descending, depth) and swept with a
 *    stack of open ranges, emitting for each stretch of addresses the
 *    innermost open range's node: the segments. Adjacent segments with the
 *    same node merge; stretches covered by nothing get NONE.
 * Lookups bisect the segments and the rows (see dwarf_index_lookup).
 */
#include "dwarf_index.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "elf_object.h"
#include "grow.h"
#include "strtab.h"

#define NONE UINT32_MAX
#define MAX_DIE_DEPTH 256

struct node {
	uint32_t name;      /* strtab offset */
	uint32_t parent;    /* node it is inlined into; NONE: out-of-line */
	uint32_t call_file; /* strtab offset of the call site's file, or NONE */
	uint32_t call_line;
	uint32_t decl_line;
};

struct row {
	uint64_t addr;      /* first address of the row */
	uint32_t file;      /* strtab offset; NONE with line 0: a gap */
	uint32_t line;
};

struct dwarf_index {
	uint64_t *seg_start; /* segment i is [seg_start[i], seg_start[i+1]) */
	uint32_t *seg_node;  /* innermost node of segment i, or NONE */
	size_t nsegs;
	struct node *nodes;
	size_t nnodes;
	struct row *rows;    /* sorted by addr, addresses distinct */
	size_t nrows;
	struct strtab str;
	unsigned flags;
};

/* ---- building ---------------------------------------------------------- */

struct raw_range {
	uint64_t lo, hi;
	uint32_t node, depth;
};

struct raw_row {             /* a row of the CU being read */
	uint64_t addr;
	uint32_t file, line;
	uint32_t order;     /* position read, for a stable sort */
	bool end;
};

struct build {
	struct dwarf_index *ix;
	size_t nodes_cap, segs_cap;
	struct raw_range *ranges;
	size_t nranges, ranges_cap;
	struct raw_row *cu_rows;  /* the current CU's line table */
	size_t ncu_rows, cu_rows_cap;
	struct row *rows;         /* every CU's, each CU's sorted and collapsed */
	size_t nrows, rows_cap;
	size_t rows_read;         /* over all CUs, before collapsing */
	/* the current CU's file table and its interned names (NONE: not yet) */
	Dwarf_Files *files;
	size_t nfiles;
	uint32_t *file_off;
	size_t file_off_cap;
};

/* Shrinks an array to its used size (keeping it if realloc fails). */
static void *trim(void *p, size_t n, size_t elem)
{
	void *q;

	if (!n) {
		free(p);
		return NULL;
	}
	q = realloc(p, n * elem);
	return q ? q : p;
}

static int raw_row_cmp(const void *pa, const void *pb)
{
	const struct raw_row *a = pa, *b = pb;

	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	if (a->end != b->end)
		return a->end ? -1 : 1;
	return (a->order > b->order) - (a->order < b->order);
}

/* Between CUs: by address, a gap before a line at the same address. */
static int row_cmp(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;
	bool a_gap = a->file == NONE && !a->line, b_gap = b->file == NONE && !b->line;

	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	return (int)b_gap - (int)a_gap;
}

/* Collapses the sorted rows[start, n) in place: at one address the last
 * row wins (as in llvm's line lookup), and a row repeating its
 * predecessor's file:line is dropped. Returns the new end. */
static size_t collapse_rows(struct row *rows, size_t start, size_t n)
{
	size_t out = start;

	for (size_t i = start; i < n; i++) {
		struct row w = rows[i];

		if (out > start && rows[out - 1].addr == w.addr)
			out--; /* the last row at an address wins */
		if (out > start && rows[out - 1].file == w.file && rows[out - 1].line == w.line)
			continue;
		rows[out++] = w;
	}
	return out;
}

/* Sorts the current CU's rows (end-of-sequence first at an address, else
 * in the order read) and appends them, collapsed, to b->rows: what is kept
 * of a big object's line tables is the collapsed rows, not every row read. */
static int add_cu_rows(struct build *b)
{
	size_t start = b->nrows;

	if (!b->ncu_rows)
		return 0;
	qsort(b->cu_rows, b->ncu_rows, sizeof(*b->cu_rows), raw_row_cmp);
	for (size_t i = 0; i < b->ncu_rows; i++) {
		const struct raw_row *r = &b->cu_rows[i];

		if (array_reserve(&b->rows, &b->rows_cap, b->nrows + 1, sizeof(*b->rows)))
			return -ENOMEM;
		b->rows[b->nrows++] = r->end ? (struct row){ r->addr, NONE, 0 }
					     : (struct row){ r->addr, r->file, r->line };
	}
	b->nrows = collapse_rows(b->rows, start, b->nrows);
	return 0;
}

/* Sorts every CU's rows together, collapses them into ix->rows. */
static void finish_rows(struct build *b)
{
	struct dwarf_index *ix = b->ix;

	if (b->nrows)
		qsort(b->rows, b->nrows, sizeof(*b->rows), row_cmp);
	b->nrows = collapse_rows(b->rows, 0, b->nrows);
	for (size_t i = 0; i < b->nrows && !(ix->flags & DWARF_INDEX_LINES); i++)
		if (b->rows[i].file != NONE || b->rows[i].line)
			ix->flags |= DWARF_INDEX_LINES;
	ix->rows = trim(b->rows, b->nrows, sizeof(*b->rows));
	ix->nrows = b->nrows;
	b->rows = NULL;
}

/* Interned name of file idx of the current CU, NONE when unknown. */
static int cu_file(struct build *b, uint64_t idx, uint32_t *off)
{
	const char *name;
	int err;

	*off = NONE;
	if (idx >= b->nfiles)
		return 0;
	if (b->file_off[idx] != NONE) {
		*off = b->file_off[idx];
		return 0;
	}
	name = dwarf_filesrc(b->files, idx, NULL, NULL);
	if (!name)
		return 0;
	err = strtab_intern(&b->ix->str, name, off);
	if (!err)
		b->file_off[idx] = *off;
	return err;
}

static int begin_cu(struct build *b, Dwarf_Die *cu)
{
	Dwarf_Lines *lines;
	size_t nlines;

	b->files = NULL;
	b->nfiles = 0;
	b->ncu_rows = 0;
	if (dwarf_getsrclines(cu, &lines, &nlines) || dwarf_getsrcfiles(cu, &b->files, &b->nfiles))
		return 0; /* no line table: no files either */
	if (array_reserve(&b->file_off, &b->file_off_cap, b->nfiles, sizeof(*b->file_off)))
		return -ENOMEM;
	memset(b->file_off, 0xff, b->nfiles * sizeof(*b->file_off)); /* NONE */
	for (size_t i = 0; i < nlines; i++) {
		Dwarf_Line *l = dwarf_onesrcline(lines, i);
		struct raw_row r = { .file = NONE, .order = (uint32_t)b->ncu_rows };
		Dwarf_Files *files;
		Dwarf_Addr addr;
		size_t idx;
		int lineno, err;

		if (!l || dwarf_lineaddr(l, &addr) || dwarf_lineendsequence(l, &r.end))
			continue;
		r.addr = addr;
		if (!r.end) {
			if (!dwarf_lineno(l, &lineno) && lineno > 0)
				r.line = (uint32_t)lineno;
			if (!dwarf_line_file(l, &files, &idx) && files == b->files) {
				err = cu_file(b, idx, &r.file);
				if (err)
					return err;
			}
		}
		if (b->ncu_rows == UINT32_MAX ||
		    array_reserve(&b->cu_rows, &b->cu_rows_cap, b->ncu_rows + 1, sizeof(*b->cu_rows)))
			return -ENOMEM;
		b->cu_rows[b->ncu_rows++] = r;
	}
	b->rows_read += b->ncu_rows;
	return add_cu_rows(b);
}

/* DW_AT_linkage_name, else DW_AT_name, through abstract origins and
 * specifications. */
static const char *die_name(Dwarf_Die *die)
{
	static const int names[] = { DW_AT_linkage_name, DW_AT_MIPS_linkage_name, DW_AT_name };
	Dwarf_Attribute a;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *s = dwarf_attr_integrate(die, names[i], &a) ? dwarf_formstring(&a) : NULL;

		if (s && *s)
			return s;
	}
	return NULL;
}

static uint32_t die_udata(Dwarf_Die *die, int name)
{
	Dwarf_Attribute a;
	Dwarf_Word v;

	if (!dwarf_attr(die, name, &a) || dwarf_formudata(&a, &v) || v > UINT32_MAX - 1)
		return 0;
	return (uint32_t)v;
}

/* Adds a node for a function DIE with code; *out is NONE when it has none. */
static int add_node(struct build *b, Dwarf_Die *die, uint32_t parent, uint32_t depth,
		    uint32_t *out)
{
	struct dwarf_index *ix = b->ix;
	uint32_t id = (uint32_t)ix->nnodes;
	size_t first = b->nranges;
	Dwarf_Addr base, lo, hi;
	ptrdiff_t off = 0;
	struct node *n;
	const char *name;
	int line = 0, err;

	*out = NONE;
	if (ix->nnodes >= NONE)
		return -ENOMEM;
	while ((off = dwarf_ranges(die, off, &base, &lo, &hi)) > 0) {
		if (!lo || lo >= hi)
			continue;
		if (array_reserve(&b->ranges, &b->ranges_cap, b->nranges + 1, sizeof(*b->ranges)))
			return -ENOMEM;
		b->ranges[b->nranges++] = (struct raw_range){ lo, hi, id, depth };
	}
	if (b->nranges == first)
		return 0;
	if (array_reserve(&ix->nodes, &b->nodes_cap, ix->nnodes + 1, sizeof(*ix->nodes)))
		return -ENOMEM;
	n = &ix->nodes[ix->nnodes];
	name = die_name(die);
	err = strtab_intern(&ix->str, name ? name : "??", &n->name);
	if (!err && parent != NONE)
		err = cu_file(b, die_udata(die, DW_AT_call_file), &n->call_file);
	else
		n->call_file = NONE;
	if (err)
		return err;
	n->parent = parent;
	n->call_line = parent != NONE ? die_udata(die, DW_AT_call_line) : 0;
	n->decl_line = !dwarf_decl_line(die, &line) && line > 0 ? (uint32_t)line : 0;
	ix->nnodes++;
	*out = id;
	return 0;
}

/* Indexes the children of die; `node` is the function they belong to. */
static int walk(struct build *b, Dwarf_Die *die, uint32_t node, uint32_t depth)
{
	Dwarf_Die child;
	int rc, err = 0;

	if (depth > MAX_DIE_DEPTH)
		return 0;
	for (rc = dwarf_child(die, &child); rc == 0 && !err; rc = dwarf_siblingof(&child, &child)) {
		int tag = dwarf_tag(&child);
		uint32_t id;

		switch (tag) {
		case DW_TAG_subprogram:
		case DW_TAG_inlined_subroutine:
			/* A nested subprogram is a function of its own. */
			err = add_node(b, &child, tag == DW_TAG_subprogram ? NONE : node, depth, &id);
			if (!err && id != NONE)
				err = walk(b, &child, id, depth + 1);
			break;
		case DW_TAG_lexical_block:
		case DW_TAG_namespace:
		case DW_TAG_module:
			err = walk(b, &child, node, depth + 1);
			break;
		default: /* types, variables, parameters: no code */
			break;
		}
	}
	return err; /* a DIE libdw cannot read ends this level, not the index */
}

static int range_cmp(const void *pa, const void *pb)
{
	const struct raw_range *a = pa, *b = pb;

	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	if (a->hi != b->hi)
		return a->hi > b->hi ? -1 : 1;
	return (a->depth > b->depth) - (a->depth < b->depth);
}

/* Appends segment [from, ...) -> node, unless empty or a continuation. */
static int emit(struct build *b, uint64_t from, uint64_t to, uint32_t node)
{
	struct dwarf_index *ix = b->ix;
	size_t cap;

	if (from >= to || (ix->nsegs && ix->seg_node[ix->nsegs - 1] == node))
		return 0;
	cap = b->segs_cap; /* one capacity, two arrays */
	if (array_reserve(&ix->seg_start, &cap, ix->nsegs + 1, sizeof(*ix->seg_start)))
		return -ENOMEM;
	cap = b->segs_cap;
	if (array_reserve(&ix->seg_node, &cap, ix->nsegs + 1, sizeof(*ix->seg_node)))
		return -ENOMEM;
	b->segs_cap = cap;
	ix->seg_start[ix->nsegs] = from;
	ix->seg_node[ix->nsegs++] = node;
	return 0;
}

/* The sweep: ranges nest, so open ranges form a stack whose top is the
 * innermost function at the current address. */
static int finish_segments(struct build *b)
{
	struct raw_range *stack = NULL;
	size_t depth = 0, cap = 0;
	uint64_t cur = 0;
	int err = 0;

	if (b->nranges)
		qsort(b->ranges, b->nranges, sizeof(*b->ranges), range_cmp);
	for (size_t i = 0; i <= b->nranges && !err; i++) {
		struct raw_range r = i < b->nranges ? b->ranges[i]
						    : (struct raw_range){ UINT64_MAX, UINT64_MAX, NONE, 0 };

		while (depth && stack[depth - 1].hi <= r.lo && !err) {
			err = emit(b, cur, stack[depth - 1].hi, stack[depth - 1].node);
			cur = stack[--depth].hi;
		}
		if (err || i == b->nranges)
			break;
		if (depth && r.hi > stack[depth - 1].hi)
			r.hi = stack[depth - 1].hi; /* not nested: clip */
		err = emit(b, cur, r.lo, depth ? stack[depth - 1].node : NONE);
		cur = r.lo;
		if (!err)
			err = array_reserve(&stack, &cap, depth + 1, sizeof(*stack));
		if (!err)
			stack[depth++] = r;
	}
	free(stack);
	if (!err)
		err = emit(b, cur, UINT64_MAX, NONE); /* the end of the last one */
	if (err)
		return err;
	b->ix->seg_start = trim(b->ix->seg_start, b->ix->nsegs, sizeof(*b->ix->seg_start));
	b->ix->seg_node = trim(b->ix->seg_node, b->ix->nsegs, sizeof(*b->ix->seg_node));
	return 0;
}

/* libdw keeps every CU's line table and abbreviations until dwarf_end():
 * for libc's debug file that is 18 MB on top of the index being built. So
 * the units are read through a Dwarf handle reopened every ROWS_PER_HANDLE
 * line rows, which bounds that memory; the Elf, with the sections it has
 * read and decompressed, stays open, so reopening costs little. Nothing
 * from libdw is kept past a unit: names are interned into the index. */
#define ROWS_PER_HANDLE 65536

static int build(Elf *elf, struct dwarf_index *ix)
{
	struct build b = { .ix = ix };
	Dwarf *dw = NULL;
	Dwarf_Off off = 0, next;
	size_t header_size, rows_at_open = 0;
	int err = 0;

	while (!err) {
		Dwarf_Die cudie;
		uint8_t unit_type;

		if (!dw || b.rows_read - rows_at_open >= ROWS_PER_HANDLE) {
			if (dw)
				dwarf_end(dw);
			dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
			if (!dw) {
				err = -EINVAL;
				break;
			}
			rows_at_open = b.rows_read;
		}
		if (dwarf_next_unit(dw, off, &next, &header_size, NULL, NULL, NULL, NULL, NULL,
				    NULL))
			break;
		/* compile and partial units only: type units have no code, split
		 * units need their .dwo */
		if (dwarf_offdie(dw, off + header_size, &cudie) &&
		    !dwarf_cu_info(cudie.cu, NULL, &unit_type, NULL, NULL, NULL, NULL, NULL) &&
		    (unit_type == DW_UT_compile || unit_type == DW_UT_partial)) {
			err = begin_cu(&b, &cudie);
			if (!err)
				err = walk(&b, &cudie, NONE, 0);
		}
		off = next;
	}
	if (dw)
		dwarf_end(dw);
	if (!err) {
		finish_rows(&b);
		err = finish_segments(&b);
	}
	free(b.rows);
	free(b.cu_rows);
	free(b.ranges);
	free(b.file_off);
	if (err)
		return err;
	ix->nodes = trim(ix->nodes, ix->nnodes, sizeof(*ix->nodes));
	if (ix->nnodes)
		ix->flags |= DWARF_INDEX_FUNCTIONS;
	strtab_seal(&ix->str);
	return ix->flags ? 0 : -ENODATA;
}

/* Whether every DWARF string section ends in a NUL: libdw hands out
 * pointers into them and strlen()s them (so does strtab_intern), trusting
 * the file; a last string without its NUL would be read past the section.
 * Compressed sections are inflated for the check, once: libdw reads the
 * inflated data libelf then keeps. */
static bool strings_terminated(Elf *elf)
{
	static const char *const names[] = { ".debug_str", ".debug_line_str", ".zdebug_str",
					      ".zdebug_line_str" };
	Elf_Scn *scn = NULL;
	const char *name;
	GElf_Shdr sh;

	while ((scn = elf_next_section(elf, scn, &sh, &name))) {
		Elf_Data *d;
		size_t i;

		for (i = 0; i < sizeof(names) / sizeof(names[0]) && strcmp(name, names[i]); i++)
			;
		if (i == sizeof(names) / sizeof(names[0]))
			continue;
		if (((sh.sh_flags & SHF_COMPRESSED) && elf_compress(scn, 0, 0) < 0) ||
		    (i >= 2 && elf_compress_gnu(scn, 0, 0) < 0))
			return false;
		d = elf_getdata(scn, NULL);
		if (d && d->d_size && (!d->d_buf || ((const char *)d->d_buf)[d->d_size - 1]))
			return false;
	}
	return true;
}

int dwarf_index_open(int fd, struct dwarf_index **out)
{
	struct dwarf_index *ix = NULL;
	Elf *elf;
	int err;

	*out = NULL;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf)
		return -EINVAL;
	if (elf_kind(elf) != ELF_K_ELF || !elf_has_debug_info(elf)) {
		err = -ENODATA;
		goto out;
	}
	if (!strings_terminated(elf)) {
		err = -EINVAL;
		goto out;
	}
	ix = calloc(1, sizeof(*ix));
	err = ix ? build(elf, ix) : -ENOMEM;
out:
	elf_end(elf);
	if (err) {
		dwarf_index_free(ix);
		return err;
	}
	*out = ix;
	return 0;
}

void dwarf_index_free(struct dwarf_index *ix)
{
	if (!ix)
		return;
	free(ix->seg_start);
	free(ix->seg_node);
	free(ix->nodes);
	free(ix->rows);
	strtab_free(&ix->str);
	free(ix);
}

unsigned dwarf_index_flags(const struct dwarf_index *ix)
{
	return ix ? ix->flags : 0;
}

size_t dwarf_index_memory(const struct dwarf_index *ix)
{
	if (!ix)
		return 0;
	return sizeof(*ix) + ix->nsegs * (sizeof(*ix->seg_start) + sizeof(*ix->seg_node)) +
	       ix->nnodes * sizeof(*ix->nodes) + ix->nrows * sizeof(*ix->rows) +
	       strtab_memory(&ix->str);
}

/* ---- lookups ----------------------------------------------------------- */

static uint32_t find_node(const struct dwarf_index *ix, uint64_t vaddr)
{
	size_t lo = 0, hi = ix->nsegs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ix->seg_start[mid] <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? ix->seg_node[lo - 1] : NONE;
}

static const struct row *find_row(const struct dwarf_index *ix, uint64_t vaddr)
{
	size_t lo = 0, hi = ix->nrows;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ix->rows[mid].addr <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &ix->rows[lo - 1] : NULL;
}

int dwarf_index_lookup(const struct dwarf_index *ix, uint64_t vaddr,
		       struct sym_frame *frames, int max)
{
	const struct row *r = find_row(ix, vaddr);
	uint32_t node = find_node(ix, vaddr);
	uint32_t file = r ? r->file : NONE, line = r ? r->line : 0;
	int n = 0;

	if (max <= 0)
		return 0;
	if (node == NONE) {
		if (file == NONE && !line)
			return 0;
		frames[0] = (struct sym_frame){ .file = strtab_get(&ix->str, file),
						.line = (int)line };
		return 1;
	}
	while (node != NONE) {
		const struct node *nd = &ix->nodes[node];

		if (n == max - 1) { /* last slot: jump to the out-of-line function */
			while (nd->parent != NONE) {
				file = nd->call_file;
				line = nd->call_line;
				nd = &ix->nodes[nd->parent];
			}
		}
		frames[n++] = (struct sym_frame){
			.function = strtab_get(&ix->str, nd->name),
			.file = strtab_get(&ix->str, file),
			.line = (int)line,
			.start_line = (int)nd->decl_line,
		};
		file = nd->call_file;
		line = nd->call_line;
		node = nd->parent;
	}
	return n;
}
