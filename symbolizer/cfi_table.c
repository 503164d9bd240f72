/* cfi_table.c - see cfi_table.h.
 *
 * Building:
 *  1. the CFI section's entries are read with dwarf_next_cfi: a CIE gives
 *     the pointer encoding of its FDEs (augmentation 'R'; .debug_frame uses
 *     plain 8-byte addresses) and its initial instructions are run once
 *     (cfi_program.c) into the state its FDEs start from; an FDE gives its
 *     pc range [lo, hi) and where its instructions are;
 *  2. the ranges are sorted; a range overlapping the one before is dropped;
 *     uncovered PLT sections get ranges with fixed rules;
 *  3. each FDE's instructions are run once, from its CIE's state: each
 *     advance of the pc hands out the row that ends there. Every range ends
 *     with a "no CFI" row, overwritten when the next range starts at the
 *     same pc; a malformed program ends with it where its rules stop.
 * Rows are emitted in pc order into growing arrays; a row with the same rule
 * as the one before is dropped; rules are interned through a uthash table.
 * The whole build is O(CFI entries + instructions + rows), and capped in
 * both (cfi_table.h): a file is input from whoever can run it.
 */
#include "cfi_table.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#include "cfi_program.h"
#include "grow.h"

#define MAX_RULES 65535 /* rule index 0 is "no CFI" */

struct cfi_table {
	uint64_t base;          /* pc of row i: base + pc_off[i] */
	uint32_t *pc_off;       /* sorted, distinct; the last row is "no CFI" */
	uint16_t *rule_of;      /* index into rules; 0: no CFI */
	size_t nrows;
	struct cfi_rule *rules;
	size_t nrules;
};

/* ---- reading CIEs and FDEs -------------------------------------------- */

struct cie {
	uint64_t off;           /* section offset */
	int enc;                /* DW_EH_PE_* of FDE pc ranges; -1: unknown */
	bool sized;             /* 'z': FDEs have sized augmentation data */
	bool aug_unknown;       /* FDEs have augmentation data of unknown size */
	int err;                /* of its initial instructions: 0, or no CFI */
	struct cfi_cie prog;
};

struct span {
	uint64_t lo, hi;
	int plt;                /* 0: an FDE; else enum plt_kind */
	size_t cie;             /* an FDE's: index into build.cies */
	const uint8_t *insns;   /* an FDE's instructions; NULL: unreadable */
	const uint8_t *insns_end;
};

enum plt_kind { PLT_LAZY = 1, PLT_LAZY_IBT, PLT_JMP };

/* A rule in the index (the rules array moves as it grows). */
struct rule_node {
	UT_hash_handle hh;
	struct cfi_rule rule;
	uint32_t idx;
};

struct build {
	Elf *elf;
	Elf_Data *data;         /* raw CFI section */
	uint64_t sec_addr;
	bool eh_frame;
	uint64_t budget;        /* CFI instructions left to interpret */
	struct cie *cies;
	size_t ncies, cies_cap;
	struct span *spans;
	size_t nspans, spans_cap;
	uint64_t *row_pc;       /* rows emitted so far */
	uint16_t *row_rule;
	size_t nrows, rows_cap;
	struct cfi_rule *rules;
	size_t nrules, rules_cap;
	struct rule_node *rule_index; /* uthash: the rules, interned */
};

/* The vaddr of a byte of the CFI section. */
static uint64_t vaddr_of(const struct build *b, const uint8_t *p)
{
	return b->sec_addr + (uint64_t)(p - (const uint8_t *)b->data->d_buf);
}

/* Reads a pointer encoded as enc (DW_EH_PE_*); pc-relative ones relative to
 * the vaddr of the pointer itself. Other applications are not supported. */
static bool read_encoded(const struct build *b, const uint8_t **p,
			 const uint8_t *end, int enc, uint64_t *v)
{
	return cfi_read_encoded(p, end, enc, vaddr_of(b, *p), v);
}

/* The encoding of FDE pc ranges named by a CIE, or -1. */
static int cie_fde_encoding(const struct build *b, const Dwarf_CIE *cie)
{
	const char *aug = cie->augmentation;
	const uint8_t *p = cie->augmentation_data;
	const uint8_t *end = p + cie->augmentation_data_size;
	int enc = DW_EH_PE_absptr;
	uint64_t skip;

	if (!b->eh_frame || aug[0] == '\0')
		return DW_EH_PE_absptr;
	if (aug[0] != 'z' || !p)
		return -1;
	for (aug++; *aug; aug++) {
		switch (*aug) {
		case 'L':
			if (p >= end)
				return -1;
			p++;
			break;
		case 'P':
			if (p >= end)
				return -1;
			if (!read_encoded(b, &p, end, *p++ & 0x0f, &skip))
				return -1;
			break;
		case 'R':
			if (p >= end)
				return -1;
			enc = *p++;
			break;
		case 'S':
		case 'B':
			break;
		default:
			return -1;
		}
	}
	return enc;
}

/* The rest of a CIE, read from its augmentation string as libdw reads it
 * (up to the first letter it does not know, unless 'z' came first), then
 * its initial instructions run. */
static int add_cie(struct build *b, uint64_t off, const Dwarf_CIE *e)
{
	struct cie *c;

	if (array_reserve(&b->cies, &b->cies_cap, b->ncies + 1, sizeof(*b->cies)))
		return -ENOMEM;
	c = &b->cies[b->ncies++];
	memset(c, 0, sizeof(*c));
	c->off = off;
	c->enc = cie_fde_encoding(b, e);
	for (const char *a = e->augmentation; *a; a++) {
		if (*a == 'z')
			c->sized = true;
		else if (*a == 'S')
			c->prog.signal = true;
		else if (*a == 'L' && !c->sized)
			c->aug_unknown = true;  /* a size this file does not keep */
		else if (!c->sized && *a != 'R' && *a != 'P')
			break;
	}
	c->prog.code_align = e->code_alignment_factor;
	c->prog.data_align = e->data_alignment_factor;
	c->prog.ra_reg = e->return_address_register;
	c->prog.ptr_enc = c->enc;
	c->err = e->initial_instructions_end < e->initial_instructions ? -EINVAL :
		 cfi_cie_run(&c->prog, e->initial_instructions,
			     (size_t)(e->initial_instructions_end -
				      e->initial_instructions), &b->budget);
	return c->err == -E2BIG ? -E2BIG : 0;
}

static int add_span(struct build *b, uint64_t lo, uint64_t hi, int plt)
{
	if (hi <= lo || lo == 0)  /* empty, or code the linker discarded */
		return 0;
	if (array_reserve(&b->spans, &b->spans_cap, b->nspans + 1,
		 sizeof(*b->spans)))
		return -ENOMEM;
	b->spans[b->nspans++] = (struct span){ .lo = lo, .hi = hi, .plt = plt };
	return 0;
}

static const struct cie *find_cie(const struct build *b, uint64_t off)
{
	size_t lo = 0, hi = b->ncies;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (b->cies[mid].off == off)
			return &b->cies[mid];
		if (b->cies[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* An FDE's pc range and where its instructions are. */
static int add_fde(struct build *b, const Dwarf_FDE *e)
{
	const struct cie *c = find_cie(b, e->CIE_pointer);
	const uint8_t *p = e->start;
	uint64_t lo, len, aug;
	struct span *s;
	size_t n = b->nspans;
	int err;

	if (!c || c->enc < 0 || e->end < e->start ||
	    !read_encoded(b, &p, e->end, c->enc, &lo) ||
	    !read_encoded(b, &p, e->end, c->enc & 0x0f, &len))
		return 0;
	err = add_span(b, lo, lo + len, 0);
	if (err || b->nspans == n)
		return err;
	s = &b->spans[n];
	s->cie = (size_t)(c - b->cies);
	if (c->aug_unknown)
		return 0;
	if (c->sized && (!cfi_read_uleb(&p, e->end, &aug) ||
			 aug > (uint64_t)(e->end - p)))
		return 0;
	s->insns = c->sized ? p + aug : p;
	s->insns_end = e->end;
	return 0;
}

static int read_entries(struct build *b)
{
	const unsigned char *ident =
		(const unsigned char *)elf_getident(b->elf, NULL);
	Dwarf_Off off = 0, next;
	Dwarf_CFI_Entry e;
	int err;

	while (dwarf_next_cfi(ident, b->data, b->eh_frame, off, &next, &e) == 0) {
		/* each entry costs a unit too: an object of empty FDEs is
		 * bounded as well */
		if (!b->budget)
			return -E2BIG;
		b->budget--;
		err = dwarf_cfi_cie_p(&e) ? add_cie(b, off, &e.cie) :
					    add_fde(b, &e.fde);
		if (err)
			return err;
		if (next == (Dwarf_Off)-1 || next <= off)
			break;
		off = next;
	}
	return 0;
}

/* ---- rules -------------------------------------------------------------- */

/* The index of rule r, interned. Rules are compared bytewise: callers build
 * them from a zeroed struct, so padding is zero too. */
static int intern_rule(struct build *b, const struct cfi_rule *r)
{
	struct rule_node *n;

	HASH_FIND(hh, b->rule_index, r, sizeof(*r), n);
	if (n)
		return (int)n->idx;
	if (b->nrules > MAX_RULES)
		return -E2BIG;
	if (array_reserve(&b->rules, &b->rules_cap, b->nrules + 1, sizeof(*b->rules)))
		return -ENOMEM;
	n = malloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->rule = *r;
	n->idx = (uint32_t)b->nrules;
	HASH_ADD(hh, b->rule_index, rule, sizeof(*r), n);
	if (!n->hh.tbl) { /* out of memory inside uthash: not added */
		free(n);
		return -ENOMEM;
	}
	b->rules[b->nrules] = *r;
	return (int)b->nrules++;
}

/* Appends row (pc, rule index): replaces a row at the same pc, and is
 * dropped when the row before has the same rule. pcs arrive ascending. */
static int emit(struct build *b, uint64_t pc, int rule)
{
	if (b->nrows && b->row_pc[b->nrows - 1] == pc)
		b->nrows--;
	if (b->nrows && b->row_rule[b->nrows - 1] == rule)
		return 0;
	if (b->nrows == CFI_TABLE_MAX_ROWS)
		return -E2BIG;
	if (b->nrows == b->rows_cap) { /* one capacity, two arrays */
		size_t pc_cap = b->rows_cap, rule_cap = b->rows_cap;

		if (array_reserve(&b->row_pc, &pc_cap, b->nrows + 1, sizeof(*b->row_pc)) ||
		    array_reserve(&b->row_rule, &rule_cap, b->nrows + 1, sizeof(*b->row_rule)))
			return -ENOMEM;
		b->rows_cap = pc_cap;
	}
	b->row_pc[b->nrows] = pc;
	b->row_rule[b->nrows] = (uint16_t)rule;
	b->nrows++;
	return 0;
}

static int emit_rule(struct build *b, uint64_t pc, const struct cfi_rule *r)
{
	int i = intern_rule(b, r);

	return i < 0 ? i : emit(b, pc, i);
}

static int fde_row(void *ctx, uint64_t pc, const struct cfi_rule *r)
{
	return emit_rule(ctx, pc, r);
}

/* Runs the FDE's program once, a row per advance; a program that is
 * malformed (or its CIE's) ends with "no CFI" where its rules stop. */
static int walk_fde(struct build *b, const struct span *s)
{
	const struct cie *c = &b->cies[s->cie];
	uint64_t stop = s->lo;
	int err = -EINVAL;

	if (!c->err && s->insns)
		err = cfi_fde_run(&c->prog, s->insns,
				  (size_t)(s->insns_end - s->insns),
				  vaddr_of(b, s->insns), s->lo, s->hi,
				  &b->budget, fde_row, b, &stop);
	if (err && err != -EINVAL && err != -ENOTSUP)
		return err;
	return emit(b, stop, 0);
}

static int rule_rsp(struct build *b, uint64_t pc, int32_t off, int ge)
{
	struct cfi_rule r;

	memset(&r, 0, sizeof(r));
	r.cfa = ge ? CFI_CFA_PLT : CFI_CFA_RSP;
	r.cfa_off = off;
	r.plt_ge = (uint8_t)ge;
	r.ra = CFI_REG_AT_CFA;
	r.ra_off = -8;
	r.rbp = CFI_REG_SAME;
	return emit_rule(b, pc, &r);
}

/* binutils' x86-64 stubs. Lazy .plt: PLT0 (push GOT+8; jmp *GOT+16) is
 * entered with the relocation index pushed, then 16-byte entries whose push
 * ends at offset 11 (9 with IBT: endbr64 first). .plt.sec, .plt.got: a jmp. */
static int walk_plt(struct build *b, const struct span *s)
{
	int err = 0;

	if (s->plt == PLT_JMP) {
		err = rule_rsp(b, s->lo, 8, 0);
	} else {
		err = rule_rsp(b, s->lo, 16, 0);
		if (!err && s->hi - s->lo > 16)
			err = rule_rsp(b, s->lo + 6, 24, 0);
		if (!err && s->hi - s->lo > 16)
			err = rule_rsp(b, s->lo + 16, 8,
				       s->plt == PLT_LAZY_IBT ? 9 : 11);
	}
	return err ? err : emit(b, s->hi, 0);
}

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->plt - y->plt;
}

static bool covered(const struct build *b, uint64_t addr)
{
	for (size_t i = 0; i < b->nspans; i++)
		if (!b->spans[i].plt && b->spans[i].lo <= addr &&
		    addr < b->spans[i].hi)
			return true;
	return false;
}

/* Finds the CFI section and the PLT sections. */
static int find_sections(struct build *b, Elf_Scn **cfi_scn, bool *eh)
{
	Elf_Scn *scn = NULL, *debug_frame = NULL, *plt_sec = NULL;
	Elf_Scn *plt = NULL, *plt_got = NULL;
	size_t shstrndx;

	*cfi_scn = NULL;
	if (elf_getshdrstrndx(b->elf, &shstrndx))
		return -EINVAL;
	while ((scn = elf_nextscn(b->elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS ||
		    !sh.sh_size)
			continue;
		name = elf_strptr(b->elf, shstrndx, sh.sh_name);
		if (!name)
			continue;
		if (!strcmp(name, ".eh_frame"))
			*cfi_scn = scn;
		else if (!strcmp(name, ".debug_frame"))
			debug_frame = scn;
		else if (!strcmp(name, ".plt"))
			plt = scn;
		else if (!strcmp(name, ".plt.sec"))
			plt_sec = scn;
		else if (!strcmp(name, ".plt.got"))
			plt_got = scn;
	}
	*eh = *cfi_scn != NULL;
	if (!*cfi_scn)
		*cfi_scn = debug_frame;
	if (!*cfi_scn)
		return -ENODATA;
	{
		Elf_Scn *plts[3] = { plt, plt_sec, plt_got };
		int kinds[3] = { plt_sec ? PLT_LAZY_IBT : PLT_LAZY, PLT_JMP,
				 PLT_JMP };

		for (int i = 0; i < 3; i++) {
			GElf_Shdr sh;
			int err;

			if (!plts[i] || !gelf_getshdr(plts[i], &sh))
				continue;
			err = add_span(b, sh.sh_addr, sh.sh_addr + sh.sh_size,
				       kinds[i]);
			if (err)
				return err;
		}
	}
	return 0;
}

/* The CFI section's raw (uncompressed) data. */
static int open_cfi(struct build *b, Elf_Scn *scn, bool eh)
{
	GElf_Shdr sh;

	if (!gelf_getshdr(scn, &sh))
		return -EINVAL;
	if ((sh.sh_flags & SHF_COMPRESSED) && elf_compress(scn, 0, 0) < 0)
		return -EINVAL;
	b->data = elf_getdata(scn, NULL);
	b->sec_addr = sh.sh_addr;
	b->eh_frame = eh;
	return b->data && b->data->d_buf ? 0 : -EINVAL;
}

static int build_rows(struct build *b)
{
	size_t nplt = b->nspans;   /* PLT spans come first */
	uint64_t end = 0;
	int err = read_entries(b);

	/* keep a PLT span only where no FDE covers it */
	for (size_t i = 0; !err && i < nplt; i++)
		if (covered(b, b->spans[i].lo))
			b->spans[i].hi = b->spans[i].lo;
	if (err)
		return err;
	if (b->nspans) /* qsort wants a non-NULL array even for none */
		qsort(b->spans, b->nspans, sizeof(*b->spans), span_cmp);
	for (size_t i = 0; i < b->nspans; i++) {
		const struct span *s = &b->spans[i];

		if (s->hi <= s->lo || s->lo < end)
			continue;              /* dropped, or overlapping */
		err = s->plt ? walk_plt(b, s) : walk_fde(b, s);
		if (err)
			return err;
		end = s->hi;
	}
	return 0;
}

static int finish(struct build *b, struct cfi_table **out)
{
	struct cfi_table *t;
	uint64_t base = b->nrows ? b->row_pc[0] : 0;

	if (b->nrows && b->row_pc[b->nrows - 1] - base > UINT32_MAX)
		return -E2BIG;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->pc_off = malloc((b->nrows ? b->nrows : 1) * sizeof(*t->pc_off));
	if (!t->pc_off) {
		free(t);
		return -ENOMEM;
	}
	for (size_t i = 0; i < b->nrows; i++)
		t->pc_off[i] = (uint32_t)(b->row_pc[i] - base);
	t->base = base;
	t->nrows = b->nrows;
	t->rule_of = b->row_rule;
	t->rules = b->rules;
	t->nrules = b->nrules;
	b->row_rule = NULL;
	b->rules = NULL;
	*out = t;
	return 0;
}

int cfi_table_build(int fd, struct cfi_table **out)
{
	struct build b;
	struct cfi_rule none;
	struct rule_node *rn, *rn_next;
	Elf_Scn *scn;
	GElf_Ehdr eh;
	bool is_eh = false;
	int err;

	memset(&b, 0, sizeof(b));
	memset(&none, 0, sizeof(none));
	b.budget = CFI_TABLE_MAX_INSNS;
	*out = NULL;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	b.elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!b.elf || elf_kind(b.elf) != ELF_K_ELF || !gelf_getehdr(b.elf, &eh)) {
		err = -EINVAL;
		goto out;
	}
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64) {
		err = -ENOTSUP;
		goto out;
	}
	none.flags = 0xff;  /* rule 0: no CFI, unlike any real rule */
	err = find_sections(&b, &scn, &is_eh);
	if (!err)
		err = open_cfi(&b, scn, is_eh);
	if (!err && intern_rule(&b, &none) < 0)
		err = -ENOMEM;
	if (!err)
		err = build_rows(&b);
	if (!err)
		err = finish(&b, out);
out:
	elf_end(b.elf);
	free(b.cies);
	free(b.spans);
	free(b.row_pc);
	free(b.row_rule);
	free(b.rules);
	HASH_ITER(hh, b.rule_index, rn, rn_next) {
		HASH_DEL(b.rule_index, rn);
		free(rn);
	}
	return err;
}

/* ---- lookups ------------------------------------------------------------ */

int cfi_table_find(const struct cfi_table *t, uint64_t vaddr,
		   struct cfi_row *out)
{
	uint64_t off = vaddr - t->base;
	size_t lo = 0, hi = t->nrows;

	if (vaddr < t->base || off > UINT32_MAX || !t->nrows)
		return -ENOENT;
	while (hi - lo > 1) {          /* last row with pc_off <= off */
		size_t mid = lo + (hi - lo) / 2;

		if (t->pc_off[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	/* the last row is "no CFI", so a row with a rule has a successor */
	if (t->pc_off[lo] > off || !t->rule_of[lo])
		return -ENOENT;
	out->start = t->base + t->pc_off[lo];
	out->end = t->base + t->pc_off[lo + 1];
	out->rule = t->rules[t->rule_of[lo]];
	return 0;
}

int cfi_table_row(const struct cfi_table *t, size_t i, struct cfi_row *out)
{
	if (i + 1 >= t->nrows)
		return -ERANGE;
	out->start = t->base + t->pc_off[i];
	out->end = t->base + t->pc_off[i + 1];
	out->rule = t->rules[t->rule_of[i]];
	return t->rule_of[i] ? 0 : -ENOENT;
}

size_t cfi_table_rows(const struct cfi_table *t)
{
	return t->nrows;
}

size_t cfi_table_memory(const struct cfi_table *t)
{
	return sizeof(*t) + t->nrows * (sizeof(*t->pc_off) + sizeof(*t->rule_of)) +
	       t->nrules * sizeof(*t->rules);
}

void cfi_table_free(struct cfi_table *t)
{
	if (!t)
		return;
	free(t->pc_off);
	free(t->rule_of);
	free(t->rules);
	free(t);
}
