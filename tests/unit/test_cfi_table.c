/* test_cfi_table.c - symbolizer/cfi_table.c and symbolizer/cfi_program.c.
 *
 * 1. Real objects (libc.so.6, ld-linux, python3.11 and libLLVM when
 *    installed, the unwind fixtures): every row of the table is checked
 *    against libdw. Inside a row, the rule libdw's dwarf_cfi_addrframe gives
 *    at each of its own rows, reduced the way the builder before this one
 *    reduced it (the oracle, kept here only), must be the row's, bytewise;
 *    a row libdw has no frame for must be one of the synthesized PLT rows;
 *    in a gap libdw must have no frame either.
 * 2. Synthetic objects (an ELF file with one .eh_frame written here): one
 *    FDE of 100,000 rows, built in linear time and sampled against libdw;
 *    the row and instruction caps (-E2BIG, no table); CFA and register
 *    expressions; remember/restore_state; malformed programs and CIEs,
 *    which end the FDE with "no CFI" where their rules stop; every prefix
 *    of a program and random bytes (no crash, sanitizers watching).
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cfi_table.h"
#include "check.h"

#ifndef FIXTURE_DIR
#error FIXTURE_DIR must name the directory of the unwind fixtures
#endif

#define REG_RBP 6

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the oracle: libdw's frame at a pc, reduced as before ---------------- */

static bool fits16(int64_t v)
{
	return v >= INT16_MIN && v <= INT16_MAX;
}

static uint8_t oracle_reg(Dwarf_Frame *f, int regno, int16_t *off)
{
	Dwarf_Op mem[3], *ops = NULL;
	size_t nops = 0;
	int64_t v;
	int rc = dwarf_frame_register(f, regno, mem, &ops, &nops);

	if (rc < 0)
		return CFI_REG_UNSUPPORTED;
	if (nops == 0)
		return ops ? CFI_REG_UNDEFINED : CFI_REG_SAME;
	if (rc != 0 || ops[0].atom != DW_OP_call_frame_cfa)
		return CFI_REG_UNSUPPORTED;
	if (nops == 1) {
		*off = 0;
		return CFI_REG_AT_CFA;
	}
	if (nops != 2)
		return CFI_REG_UNSUPPORTED;
	v = (int64_t)ops[1].number;
	if (ops[1].atom == DW_OP_plus_uconst && fits16(v)) {
		*off = (int16_t)v;
		return CFI_REG_AT_CFA;
	}
	if (ops[1].atom == DW_OP_breg7 && fits16(v)) {
		*off = (int16_t)v;
		return CFI_REG_AT_RSP;
	}
	return CFI_REG_UNSUPPORTED;
}

static bool oracle_lit(const Dwarf_Op *op, uint64_t *v)
{
	if (op->atom >= DW_OP_lit0 && op->atom <= DW_OP_lit31) {
		*v = op->atom - DW_OP_lit0;
		return true;
	}
	if (op->atom == DW_OP_const1u || op->atom == DW_OP_constu) {
		*v = op->number;
		return true;
	}
	return false;
}

static void oracle_cfa(Dwarf_Frame *f, struct cfi_rule *r)
{
	Dwarf_Op *ops;
	size_t nops;
	int64_t v;
	uint64_t mask, k, shift;

	r->cfa = CFI_CFA_UNSUPPORTED;
	if (dwarf_frame_cfa(f, &ops, &nops) != 0 || nops == 0)
		return;
	v = (int64_t)(nops == 1 && ops[0].atom == DW_OP_bregx ?
		      ops[0].number2 : ops[0].number);
	if (v < INT32_MIN || v > INT32_MAX)
		return;
	if (nops == 1 && ops[0].atom == DW_OP_bregx) {
		if (ops[0].number == 7)
			r->cfa = CFI_CFA_RSP;
		else if (ops[0].number == REG_RBP)
			r->cfa = CFI_CFA_RBP;
		r->cfa_off = (int32_t)v;
	} else if (nops == 2 && ops[0].atom == DW_OP_breg7 &&
		   ops[1].atom == DW_OP_deref) {
		r->cfa = CFI_CFA_DEREF_RSP;
		r->cfa_off = (int32_t)v;
	} else if (nops == 9 && ops[0].atom == DW_OP_breg7 &&
		   ops[1].atom == DW_OP_breg16 && ops[1].number == 0 &&
		   oracle_lit(&ops[2], &mask) && mask == 15 &&
		   ops[3].atom == DW_OP_and && oracle_lit(&ops[4], &k) &&
		   k <= 15 && ops[5].atom == DW_OP_ge &&
		   oracle_lit(&ops[6], &shift) && shift == 3 &&
		   ops[7].atom == DW_OP_shl && ops[8].atom == DW_OP_plus) {
		r->cfa = CFI_CFA_PLT;
		r->cfa_off = (int32_t)ops[0].number;
		r->plt_ge = (uint8_t)k;
	}
}

/* libdw's rule at pc and the end of its row; false when it has none. */
static bool oracle_at(Dwarf_CFI *cfi, uint64_t pc, struct cfi_rule *r,
		      uint64_t *end)
{
	Dwarf_Frame *f;
	Dwarf_Addr start, e;
	bool signal;
	int ra;

	if (dwarf_cfi_addrframe(cfi, pc, &f) != 0)
		return false;
	ra = dwarf_frame_info(f, &start, &e, &signal);
	memset(r, 0, sizeof(*r));
	oracle_cfa(f, r);
	r->ra = oracle_reg(f, ra, &r->ra_off);
	r->rbp = oracle_reg(f, REG_RBP, &r->rbp_off);
	r->flags = signal ? CFI_SIGNAL_FRAME : 0;
	free(f);
	*end = e;
	return true;
}

static const char *rule_str(const struct cfi_rule *r, char *buf, size_t n)
{
	snprintf(buf, n, "cfa %u%+d ra %u%+d rbp %u%+d flags %u plt %u",
		 r->cfa, r->cfa_off, r->ra, r->ra_off, r->rbp, r->rbp_off,
		 r->flags, r->plt_ge);
	return buf;
}

/* ---- 1. real objects ------------------------------------------------------- */

struct plt_ranges {
	uint64_t lo[3], hi[3];
	int n;
};

static void plt_sections(Elf *e, struct plt_ranges *p)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	p->n = 0;
	if (elf_getshdrstrndx(e, &shstrndx))
		return;
	while ((scn = elf_nextscn(e, scn)) && p->n < 3) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(e, shstrndx, sh.sh_name);
		if (name && (!strcmp(name, ".plt") || !strcmp(name, ".plt.sec") ||
			     !strcmp(name, ".plt.got"))) {
			p->lo[p->n] = sh.sh_addr;
			p->hi[p->n++] = sh.sh_addr + sh.sh_size;
		}
	}
}

static bool in_plt(const struct plt_ranges *p, uint64_t lo, uint64_t hi)
{
	for (int i = 0; i < p->n; i++)
		if (p->lo[i] <= lo && hi <= p->hi[i])
			return true;
	return false;
}

/* Compares the table of path with libdw, row by row. */
static void check_object(const char *path, bool required)
{
	struct cfi_table *t = NULL;
	struct plt_ranges plt;
	size_t rows, libdw_rows = 0, plt_rows = 0, gap_probes = 0, bad = 0;
	double t0, t1, t2;
	Dwarf_CFI *cfi;
	Elf *e;
	int fd = open(path, O_RDONLY), err;

	if (fd < 0) {
		CHECK(!required, "open %s: %s", path, strerror(errno));
		if (!required)
			printf("  %-44s not installed: skipped\n", path);
		return;
	}
	t0 = now();
	err = cfi_table_build(fd, &t);
	t1 = now();
	CHECK(err == 0 && t, "cfi_table_build(%s): %s", path, strerror(-err));
	e = elf_begin(fd, ELF_C_READ, NULL);
	cfi = e ? dwarf_getcfi_elf(e) : NULL;
	CHECK(cfi != NULL, "%s: libdw has no CFI", path);
	if (!t || !cfi)
		goto out;
	plt_sections(e, &plt);
	rows = cfi_table_rows(t);
	for (size_t i = 0; i + 1 < rows && bad < 5; i++) {
		struct cfi_row row;
		struct cfi_rule want;
		uint64_t pc, end;
		char a[96], b[96];

		err = cfi_table_row(t, i, &row);
		if (err == -ENOENT) {
			/* a gap: libdw has no frame (bytewise up to 64, else at
			 * 64 points spread over it) */
			uint64_t len = row.end - row.start;
			uint64_t step = len <= 64 ? 1 : len / 64;

			for (pc = row.start; pc < row.end; pc += step) {
				gap_probes++;
				if (oracle_at(cfi, pc, &want, &end)) {
					CHECK(false, "%s: gap [%#" PRIx64 ", %#" PRIx64
					      ") but libdw has %s at %#" PRIx64, path,
					      row.start, row.end,
					      rule_str(&want, a, sizeof(a)), pc);
					bad++;
					break;
				}
			}
			continue;
		}
		CHECK(err == 0, "cfi_table_row(%zu): %d", i, err);
		for (pc = row.start; pc < row.end; pc = end) {
			if (!oracle_at(cfi, pc, &want, &end)) {
				bool ok = pc == row.start && in_plt(&plt, row.start, row.end);

				CHECK(ok, "%s: row [%#" PRIx64 ", %#" PRIx64 ") %s, libdw none",
				      path, row.start, row.end,
				      rule_str(&row.rule, a, sizeof(a)));
				bad += !ok;
				plt_rows += ok;
				break;
			}
			libdw_rows++;
			if (memcmp(&want, &row.rule, sizeof(want))) {
				CHECK(false, "%s: at %#" PRIx64 " (row [%#" PRIx64 ", %#"
				      PRIx64 ")) table %s, libdw %s", path, pc,
				      row.start, row.end,
				      rule_str(&row.rule, a, sizeof(a)),
				      rule_str(&want, b, sizeof(b)));
				bad++;
				break;
			}
			if (end <= pc)
				break;
		}
	}
	t2 = now();
	CHECK(bad == 0, "%s: %zu mismatches (first 5 shown)", path, bad);
	printf("  %-44s %8zu rows, %8zu libdw rows agree, %zu PLT rows, "
	       "%zu gap probes; build %.3f s, libdw walk %.3f s\n",
	       path, rows, libdw_rows, plt_rows, gap_probes, t1 - t0, t2 - t1);
out:
	dwarf_cfi_end(cfi);
	if (e)
		elf_end(e);
	cfi_table_free(t);
	close(fd);
}

/* ---- 2. synthetic objects ---------------------------------------------------- */

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *d, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->len + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (!b->p)
			abort();
		b->cap = cap;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void u8(struct buf *b, uint8_t v) { put(b, &v, 1); }

static void uint_le(struct buf *b, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		u8(b, (uint8_t)(v >> (8 * i)));
}

static void uleb(struct buf *b, uint64_t v)
{
	do {
		uint8_t c = v & 0x7f;

		v >>= 7;
		u8(b, c | (v ? 0x80 : 0));
	} while (v);
}

static void sleb(struct buf *b, int64_t v)
{
	for (;;) {
		uint8_t c = v & 0x7f;

		v >>= 7;
		if ((v == 0 && !(c & 0x40)) || (v == -1 && (c & 0x40))) {
			u8(b, c);
			return;
		}
		u8(b, c | 0x80);
	}
}

static void bytes(struct buf *b, const char *s, size_t n) { put(b, s, n); }

/* A DW_FORM_block: the expression's length, then the expression (one or
 * two ops; an operand of -1 means none). */
static void expr(struct buf *b, int op1, int64_t arg1, int op2, int64_t arg2)
{
	struct buf e = { 0 };

	u8(&e, (uint8_t)op1);
	if (arg1 != -1)
		sleb(&e, arg1);
	if (op2 >= 0) {
		u8(&e, (uint8_t)op2);
		if (arg2 != -1)
			sleb(&e, arg2);
	}
	uleb(b, e.len);
	put(b, e.p, e.len);
	free(e.p);
}

#define TEXT 0x10000  /* where the synthetic FDEs' code "is" */
#define EH_ADDR 0x400000

struct fde {
	uint64_t lo, len;
	const struct buf *insns;
	int cie;          /* index of the CIE */
};

struct cie {
	const struct buf *insns;
	const char *aug;  /* "zR" and the like */
};

/* The default CIE: CFA = rsp + 8, return address at CFA - 8. */
static const struct buf *default_cie_insns(void)
{
	static struct buf b;

	if (!b.len) {
		u8(&b, DW_CFA_def_cfa); uleb(&b, 7); uleb(&b, 8);
		u8(&b, DW_CFA_offset + 16); uleb(&b, 1);
	}
	return &b;
}

/* An .eh_frame: the CIEs (augmentation "zR", pc ranges as absolute 8-byte
 * pointers, code alignment 1, data alignment -8, return address column 16),
 * then the FDEs. Entries are not padded. */
static void eh_frame(struct buf *out, const struct cie *cies, int ncies,
		     const struct fde *fdes, int nfdes)
{
	size_t cie_off[8];

	for (int i = 0; i < ncies; i++) {
		struct buf e = { 0 };
		const char *aug = cies[i].aug ? cies[i].aug : "zR";

		cie_off[i] = out->len;
		uint_le(&e, 0, 4);              /* CIE id */
		u8(&e, 1);                      /* version */
		put(&e, aug, strlen(aug) + 1);
		uleb(&e, 1);
		sleb(&e, -8);
		u8(&e, 16);
		if (aug[0] == 'z') {
			uleb(&e, 1);            /* augmentation data: R */
			u8(&e, DW_EH_PE_absptr);
		}
		put(&e, cies[i].insns->p, cies[i].insns->len);
		uint_le(out, e.len, 4);
		put(out, e.p, e.len);
		free(e.p);
	}
	for (int i = 0; i < nfdes; i++) {
		struct buf e = { 0 };
		const char *aug = cies[fdes[i].cie].aug;

		uint_le(&e, out->len + 4 - cie_off[fdes[i].cie], 4);
		uint_le(&e, fdes[i].lo, 8);
		uint_le(&e, fdes[i].len, 8);
		if (!aug || aug[0] == 'z')
			uleb(&e, 0);
		put(&e, fdes[i].insns->p, fdes[i].insns->len);
		uint_le(out, e.len, 4);
		put(out, e.p, e.len);
		free(e.p);
	}
	uint_le(out, 0, 4);                     /* terminator */
}

/* Writes an x86-64 ELF file holding eh (as .eh_frame) to a temporary file
 * and returns its fd (the file itself is already unlinked). */
static int write_elf(const struct buf *eh)
{
	static const char shstr[] = "\0.eh_frame\0.shstrtab";
	char path[] = "/tmp/test_cfi_table.XXXXXX";
	Elf64_Ehdr h;
	Elf64_Shdr sh[3];
	size_t eh_off = sizeof(h), str_off = eh_off + eh->len;
	size_t sh_off = (str_off + sizeof(shstr) + 7) & ~(size_t)7;
	int fd = mkstemp(path);

	if (fd < 0)
		abort();
	unlink(path);
	memset(&h, 0, sizeof(h));
	memcpy(h.e_ident, ELFMAG, SELFMAG);
	h.e_ident[EI_CLASS] = ELFCLASS64;
	h.e_ident[EI_DATA] = ELFDATA2LSB;
	h.e_ident[EI_VERSION] = EV_CURRENT;
	h.e_type = ET_DYN;
	h.e_machine = EM_X86_64;
	h.e_version = EV_CURRENT;
	h.e_ehsize = sizeof(h);
	h.e_shoff = sh_off;
	h.e_shentsize = sizeof(Elf64_Shdr);
	h.e_shnum = 3;
	h.e_shstrndx = 2;
	memset(sh, 0, sizeof(sh));
	sh[1].sh_name = 1;
	sh[1].sh_type = SHT_PROGBITS;
	sh[1].sh_flags = SHF_ALLOC;
	sh[1].sh_addr = EH_ADDR;
	sh[1].sh_offset = eh_off;
	sh[1].sh_size = eh->len;
	sh[1].sh_addralign = 8;
	sh[2].sh_name = 11;
	sh[2].sh_type = SHT_STRTAB;
	sh[2].sh_offset = str_off;
	sh[2].sh_size = sizeof(shstr);
	sh[2].sh_addralign = 1;
	if (pwrite(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    pwrite(fd, eh->p, eh->len, (off_t)eh_off) != (ssize_t)eh->len ||
	    pwrite(fd, shstr, sizeof(shstr), (off_t)str_off) != (ssize_t)sizeof(shstr) ||
	    pwrite(fd, sh, sizeof(sh), (off_t)sh_off) != (ssize_t)sizeof(sh))
		abort();
	return fd;
}

/* An object of one FDE over [TEXT, TEXT + len) with the default CIE. */
static int one_fde(const struct buf *insns, uint64_t len, int *fd,
		   struct cfi_table **t)
{
	struct cie c = { default_cie_insns(), NULL };
	struct fde f = { TEXT, len, insns, 0 };
	struct buf eh = { 0 };
	int err;

	eh_frame(&eh, &c, 1, &f, 1);
	*fd = write_elf(&eh);
	free(eh.p);
	err = cfi_table_build(*fd, t);
	return err;
}

static struct cfi_rule rsp_rule(int32_t off)
{
	struct cfi_rule r;

	memset(&r, 0, sizeof(r));
	r.cfa = CFI_CFA_RSP;
	r.cfa_off = off;
	r.ra = CFI_REG_AT_CFA;
	r.ra_off = -8;
	r.rbp = CFI_REG_SAME;
	return r;
}

/* The rule of t at pc is want (and its row starts at start). */
static bool rule_is(const struct cfi_table *t, uint64_t pc,
		    const struct cfi_rule *want, uint64_t start)
{
	struct cfi_row row;

	return !cfi_table_find(t, pc, &row) && row.start == start &&
	       !memcmp(&row.rule, want, sizeof(*want));
}

/* One FDE of n rows: CFA = rsp + 16 / + 24 alternately, a row a byte. */
static void many_rows(struct buf *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		u8(b, DW_CFA_advance_loc + 1);
		u8(b, DW_CFA_def_cfa_offset);
		u8(b, i % 2 ? 24 : 16);
	}
}

static void test_big_fde(void)
{
	const size_t n = 100000;
	struct buf insns = { 0 };
	struct cfi_table *t = NULL;
	struct cfi_rule want, got16 = rsp_rule(16), got24 = rsp_rule(24);
	double t0, t1, t2;
	size_t checked = 0, bad = 0;
	Dwarf_CFI *cfi;
	Elf *e;
	int fd, err;

	many_rows(&insns, n);
	t0 = now();
	err = one_fde(&insns, n + 1, &fd, &t);
	t1 = now();
	CHECK(err == 0 && t, "100k-row FDE: %s", strerror(-err));
	if (!t)
		goto out;
	CHECK(cfi_table_rows(t) == n + 2, "rows %zu, want %zu",
	      cfi_table_rows(t), n + 2);
	/* linear: the old per-row libdw walk took 6.5 s for 80k rows */
	CHECK(t1 - t0 < 2.0, "100k rows built in %.3f s", t1 - t0);
	e = elf_begin(fd, ELF_C_READ, NULL);
	cfi = dwarf_getcfi_elf(e);
	CHECK(cfi != NULL, "libdw reads the synthetic object");
	/* libdw's answer costs O(row index): sample the first and last rows
	 * and a spread between */
	for (size_t i = 0; cfi && i <= n && bad < 5; i++) {
		struct cfi_row row;
		uint64_t end;

		if (!(i < 200 || i > n - 200 || i % 997 == 0))
			continue;
		checked++;
		if (cfi_table_find(t, TEXT + i, &row) ||
		    !oracle_at(cfi, TEXT + i, &want, &end) ||
		    memcmp(&want, &row.rule, sizeof(want)) || row.start != TEXT + i ||
		    row.end != end) {
			CHECK(false, "row %zu differs from libdw's", i);
			bad++;
		}
	}
	t2 = now();
	CHECK(rule_is(t, TEXT + 1, &got16, TEXT + 1) &&
	      rule_is(t, TEXT + n, &got24, TEXT + n), "first and last rows");
	printf("  one FDE, %zu rows: built in %.3f s; %zu rows agree with libdw "
	       "(%.3f s)\n", n, t1 - t0, checked, t2 - t1);
	dwarf_cfi_end(cfi);
	elf_end(e);
out:
	cfi_table_free(t);
	close(fd);
	free(insns.p);
}

static void test_caps(void)
{
	struct buf insns = { 0 };
	struct cfi_table *t = (struct cfi_table *)1;
	double t0;
	int fd, err;

	/* rows: one over the cap. many_rows(n) makes n + 2: the CIE's row
	 * at the FDE's start and the "no CFI" row at its end */
	many_rows(&insns, CFI_TABLE_MAX_ROWS - 1);
	t0 = now();
	err = one_fde(&insns, CFI_TABLE_MAX_ROWS, &fd, &t);
	CHECK(err == -E2BIG && !t, "%u rows: %d, want -E2BIG and no table",
	      CFI_TABLE_MAX_ROWS + 1, err);
	printf("  %u rows: -E2BIG in %.3f s\n", CFI_TABLE_MAX_ROWS + 1, now() - t0);
	close(fd);

	/* exactly the cap fits */
	insns.len -= 3;
	t0 = now();
	err = one_fde(&insns, CFI_TABLE_MAX_ROWS - 1, &fd, &t);
	CHECK(err == 0 && t && cfi_table_rows(t) == CFI_TABLE_MAX_ROWS,
	      "%u rows: %d", CFI_TABLE_MAX_ROWS, err);
	printf("  %u rows: built in %.3f s\n", CFI_TABLE_MAX_ROWS, now() - t0);
	cfi_table_free(t);
	close(fd);

	/* instructions: rows that all merge (the rule never changes) cost no
	 * memory but time; the budget counts the CIE, the FDE and the CIE's
	 * two instructions */
	insns.len = 0;
	for (uint64_t i = 0; i + 4 < CFI_TABLE_MAX_INSNS; i++)
		u8(&insns, DW_CFA_advance_loc + 1);
	t0 = now();
	err = one_fde(&insns, CFI_TABLE_MAX_INSNS, &fd, &t);
	CHECK(err == 0 && t && cfi_table_rows(t) == 2, "%zu advances: %d",
	      insns.len, err);
	cfi_table_free(t);
	close(fd);
	u8(&insns, DW_CFA_nop);
	err = one_fde(&insns, CFI_TABLE_MAX_INSNS, &fd, &t);
	CHECK(err == -E2BIG && !t, "%zu instructions: %d, want -E2BIG",
	      insns.len + 2, err);
	printf("  %" PRIu64 " instructions: -E2BIG; one fewer built (%.3f s both)\n",
	       CFI_TABLE_MAX_INSNS + 1, now() - t0);
	close(fd);
	free(insns.p);
}

/* The expression shapes kept, against libdw. */
static void test_expressions(void)
{
	struct buf b = { 0 };
	struct cfi_table *t = NULL;
	struct cfi_rule want;
	Dwarf_CFI *cfi;
	Elf *e;
	uint64_t end;
	int fd, err, n = 0;

	/* 0: CFA = *(rsp + 160); rbp at rsp + 120; ra at rsp + 168 */
	u8(&b, DW_CFA_def_cfa_expression);
	expr(&b, DW_OP_breg7, 160, DW_OP_deref, -1);
	u8(&b, DW_CFA_expression); uleb(&b, 6);
	expr(&b, DW_OP_breg7, 120, -1, -1);
	u8(&b, DW_CFA_expression); uleb(&b, 16);
	expr(&b, DW_OP_breg7, 168, -1, -1);
	u8(&b, DW_CFA_advance_loc + 4);
	/* 4: the lazy PLT expression, K = 11 */
	u8(&b, DW_CFA_def_cfa_expression); uleb(&b, 11);
	u8(&b, DW_OP_breg7); sleb(&b, 8);
	u8(&b, DW_OP_breg16); sleb(&b, 0);
	u8(&b, DW_OP_lit15); u8(&b, DW_OP_and); u8(&b, DW_OP_lit11);
	u8(&b, DW_OP_ge); u8(&b, DW_OP_lit3); u8(&b, DW_OP_shl);
	u8(&b, DW_OP_plus);
	/* rbp at CFA + 16 by an expression; ra: val_expression */
	u8(&b, DW_CFA_expression); uleb(&b, 6);
	expr(&b, DW_OP_plus_uconst, 16, -1, -1);  /* 16: sleb = uleb */
	u8(&b, DW_CFA_val_expression); uleb(&b, 16);
	expr(&b, DW_OP_breg7, 0, -1, -1);
	u8(&b, DW_CFA_advance_loc + 4);
	/* 8: CFA = bregx rbp 16 as an expression; rbp: register rule */
	u8(&b, DW_CFA_def_cfa_expression); uleb(&b, 3);
	u8(&b, DW_OP_bregx); uleb(&b, 6); sleb(&b, 16);
	u8(&b, DW_CFA_register); uleb(&b, 6); uleb(&b, 3);
	u8(&b, DW_CFA_advance_loc + 4);
	/* 12: another expression (unsupported); rbp undefined, ra val_offset */
	u8(&b, DW_CFA_def_cfa_expression);
	expr(&b, DW_OP_breg6, 8, -1, -1);
	u8(&b, DW_CFA_undefined); uleb(&b, 6);
	u8(&b, DW_CFA_val_offset); uleb(&b, 16); uleb(&b, 1);
	u8(&b, DW_CFA_advance_loc + 4);
	/* 16: CFA = r10 + 8 (unsupported), then def_cfa_offset keeps r10 */
	u8(&b, DW_CFA_def_cfa); uleb(&b, 10); uleb(&b, 8);
	u8(&b, DW_CFA_def_cfa_offset); uleb(&b, 24);
	u8(&b, DW_CFA_same_value); uleb(&b, 6);
	u8(&b, DW_CFA_offset_extended_sf); uleb(&b, 16); sleb(&b, 2);
	u8(&b, DW_CFA_advance_loc + 4);
	/* 20: def_cfa_register after an expression: invalid CFA */
	u8(&b, DW_CFA_def_cfa_expression);
	expr(&b, DW_OP_breg7, 8, -1, -1);
	u8(&b, DW_CFA_def_cfa_register); uleb(&b, 7);
	u8(&b, DW_CFA_advance_loc + 4);
	/* 24: def_cfa_sf, offsets that do not fit, negative offset */
	u8(&b, DW_CFA_def_cfa_sf); uleb(&b, 7); sleb(&b, -2);
	u8(&b, DW_CFA_offset + 6); uleb(&b, 5000);
	u8(&b, DW_CFA_GNU_negative_offset_extended); uleb(&b, 16); uleb(&b, 1);
	u8(&b, DW_CFA_advance_loc + 4);
	/* 28: remember, change, restore; restore (extended) to the CIE's */
	u8(&b, DW_CFA_def_cfa); uleb(&b, 7); uleb(&b, 32);
	u8(&b, DW_CFA_remember_state);
	u8(&b, DW_CFA_def_cfa_offset); uleb(&b, 48);
	u8(&b, DW_CFA_offset + 6); uleb(&b, 3);
	u8(&b, DW_CFA_advance_loc + 4);
	/* 32 */
	u8(&b, DW_CFA_restore_state);
	u8(&b, DW_CFA_restore + 16);
	u8(&b, DW_CFA_GNU_args_size); uleb(&b, 16);
	u8(&b, DW_CFA_nop);
	u8(&b, DW_CFA_advance_loc1); u8(&b, 4);
	/* 36: advance_loc2/4, set_loc */
	u8(&b, DW_CFA_restore_extended); uleb(&b, 6);
	u8(&b, DW_CFA_def_cfa_offset_sf); sleb(&b, -3);
	u8(&b, DW_CFA_advance_loc2); uint_le(&b, 4, 2);
	/* 40 */
	u8(&b, DW_CFA_val_offset_sf); uleb(&b, 6); sleb(&b, 1);
	u8(&b, DW_CFA_advance_loc4); uint_le(&b, 4, 4);
	/* 44 */
	u8(&b, DW_CFA_offset_extended); uleb(&b, 6); uleb(&b, 2);
	u8(&b, DW_CFA_set_loc); uint_le(&b, TEXT + 48, 8);
	/* 48: set_loc backwards starts no row; the state goes on */
	u8(&b, DW_CFA_def_cfa_offset); uleb(&b, 56);
	u8(&b, DW_CFA_set_loc); uint_le(&b, TEXT + 40, 8);
	u8(&b, DW_CFA_def_cfa_offset); uleb(&b, 64);
	u8(&b, DW_CFA_advance_loc + 12);  /* to 52: past 48, ends its row */
	/* 52 */
	u8(&b, DW_CFA_undefined); uleb(&b, 16);
	err = one_fde(&b, 56, &fd, &t);
	CHECK(err == 0 && t, "expressions: %s", strerror(-err));
	e = elf_begin(fd, ELF_C_READ, NULL);
	cfi = e ? dwarf_getcfi_elf(e) : NULL;
	for (uint64_t pc = TEXT; t && cfi && pc < TEXT + 56; pc += 4, n++) {
		struct cfi_row row;
		char a[96], c[96];

		CHECK(!cfi_table_find(t, pc, &row) && oracle_at(cfi, pc, &want, &end) &&
		      !memcmp(&row.rule, &want, sizeof(want)),
		      "expressions at +%" PRIu64 ": table %s, libdw %s", pc - TEXT,
		      rule_str(&row.rule, a, sizeof(a)), rule_str(&want, c, sizeof(c)));
	}
	CHECK(n == 14, "%d rows compared", n);
	dwarf_cfi_end(cfi);
	if (t) {
		struct cfi_row row;

		CHECK(!cfi_table_find(t, TEXT, &row) && row.rule.cfa == CFI_CFA_DEREF_RSP &&
		      row.rule.cfa_off == 160 && row.rule.rbp == CFI_REG_AT_RSP &&
		      row.rule.rbp_off == 120 && row.rule.ra == CFI_REG_AT_RSP,
		      "signal-frame shapes");
		CHECK(!cfi_table_find(t, TEXT + 4, &row) && row.rule.cfa == CFI_CFA_PLT &&
		      row.rule.plt_ge == 11 && row.rule.cfa_off == 8 &&
		      row.rule.rbp == CFI_REG_AT_CFA && row.rule.rbp_off == 16,
		      "PLT shape");
	}
	if (e)
		elf_end(e);
	cfi_table_free(t);
	close(fd);
	free(b.p);
}

/* Malformed programs: the FDE keeps its rows up to the one the damage is
 * in, and has no CFI from that row's start. */
static void test_malformed(void)
{
	static const struct {
		const char *what;
		const char *tail;
		size_t len;
	} cases[] = {
		{ "uleb without its end", "\x0e\x80", 2 },
		{ "operand missing", "\x0e", 1 },
		{ "second operand missing", "\x0c\x07", 2 },
		{ "offset_extended offset missing", "\x05\x06", 2 },
		{ "register target missing", "\x09\x06", 2 },
		{ "unknown opcode", "\x17", 1 },
		{ "user opcode", "\x3f", 1 },
		{ "GNU_window_save (not x86-64)", "\x2d", 1 },
		{ "restore_state with nothing remembered", "\x0b", 1 },
		{ "expression longer than the FDE", "\x10\x06\x7f\x77", 4 },
		{ "CFA expression longer than the FDE", "\x0f\x10\x77", 3 },
		{ "advance_loc2 cut", "\x03\x01", 2 },
		{ "advance_loc4 cut", "\x04\x01\x02\x03", 4 },
		{ "set_loc cut", "\x01\x01\x02", 3 },
		{ "register number too large", "\x07\x80\x80\x80\x80\x04", 6 },
		{ "restore_extended register too large", "\x06\x80\x80\x80\x80\x04", 6 },
		{ "sleb without its end", "\x13\xff", 2 },
	};
	struct cfi_rule r16 = rsp_rule(16), r24 = rsp_rule(24);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = { 0 };
		struct cfi_table *t = NULL;
		struct cfi_row row;
		int fd, err;

		/* rows: +0 rsp+8, +1 rsp+16, +2 rsp+24 then the damage */
		many_rows(&b, 2);
		bytes(&b, cases[i].tail, cases[i].len);  /* last: cut operands */
		err = one_fde(&b, 8, &fd, &t);
		CHECK(err == 0 && t, "%s: build %d", cases[i].what, err);
		CHECK(t && rule_is(t, TEXT + 1, &r16, TEXT + 1) &&
		      !cfi_table_find(t, TEXT + 1, &row) && row.end == TEXT + 2,
		      "%s: the row before the damage", cases[i].what);
		CHECK(t && cfi_table_find(t, TEXT + 2, &row) == -ENOENT &&
		      cfi_table_find(t, TEXT + 5, &row) == -ENOENT,
		      "%s: no CFI from the damaged row on", cases[i].what);
		cfi_table_free(t);
		close(fd);
		free(b.p);
	}

	/* remember_state nested deeper than the stack kept: unsupported from
	 * that row on */
	{
		struct buf b = { 0 };
		struct cfi_table *t = NULL;
		struct cfi_row row;
		int fd, err;

		many_rows(&b, 2);
		for (int i = 0; i < 1000; i++)
			u8(&b, DW_CFA_remember_state);
		err = one_fde(&b, 8, &fd, &t);
		CHECK(err == 0 && t && rule_is(t, TEXT + 1, &r16, TEXT + 1) &&
		      cfi_table_find(t, TEXT + 2, &row) == -ENOENT,
		      "1000 remember_states: %d", err);
		cfi_table_free(t);
		close(fd);
		free(b.p);
	}

	/* CIEs that advance or restore: none of their FDEs has CFI (libdw
	 * rejects them too); an FDE of another CIE is unharmed; an FDE whose
	 * augmentation length runs past its end has none either */
	{
		struct buf bad_adv = { 0 }, bad_restore = { 0 }, ok = { 0 };
		struct buf eh = { 0 };
		struct cfi_table *t = NULL;
		struct cfi_row row;
		struct cfi_rule r8 = rsp_rule(8);
		int fd, err;

		put(&bad_adv, default_cie_insns()->p, default_cie_insns()->len);
		u8(&bad_adv, DW_CFA_advance_loc + 1);
		put(&bad_restore, default_cie_insns()->p, default_cie_insns()->len);
		u8(&bad_restore, DW_CFA_restore + 6);
		many_rows(&ok, 2);
		{
			struct cie cies[3] = { { &bad_adv, NULL }, { &bad_restore, NULL },
					       { default_cie_insns(), NULL } };
			struct fde fdes[3] = { { TEXT, 8, &ok, 0 }, { TEXT + 16, 8, &ok, 1 },
					       { TEXT + 32, 8, &ok, 2 } };

			eh_frame(&eh, cies, 3, fdes, 3);
		}
		fd = write_elf(&eh);
		err = cfi_table_build(fd, &t);
		CHECK(err == 0 && t, "bad CIEs: build %d", err);
		CHECK(t && cfi_table_find(t, TEXT, &row) == -ENOENT &&
		      cfi_table_find(t, TEXT + 17, &row) == -ENOENT &&
		      rule_is(t, TEXT + 32, &r8, TEXT + 32) &&
		      rule_is(t, TEXT + 34, &r24, TEXT + 34),
		      "an advance or a restore in a CIE: its FDEs have no CFI");
		cfi_table_free(t);
		close(fd);
		free(eh.p);
		free(bad_adv.p);
		free(bad_restore.p);
		free(ok.p);
	}
}

/* Every prefix of a program that uses most opcodes, and random programs:
 * the build succeeds (a table, rows ascending) and nothing is read out of
 * bounds (the ASan build watches). */
static void test_prefixes_and_noise(void)
{
	struct buf full = { 0 };
	unsigned seed = 12345;
	size_t built = 0;

	many_rows(&full, 3);
	u8(&full, DW_CFA_remember_state);
	u8(&full, DW_CFA_def_cfa_expression);
	expr(&full, DW_OP_breg7, 160, DW_OP_deref, -1);
	u8(&full, DW_CFA_expression); uleb(&full, 6);
	expr(&full, DW_OP_breg7, -120, -1, -1);
	u8(&full, DW_CFA_advance_loc2); uint_le(&full, 2, 2);
	u8(&full, DW_CFA_restore_state);
	u8(&full, DW_CFA_offset_extended_sf); uleb(&full, 16); sleb(&full, 1000);
	u8(&full, DW_CFA_set_loc); uint_le(&full, TEXT + 9, 8);
	u8(&full, DW_CFA_def_cfa_sf); uleb(&full, 6); sleb(&full, -2);
	u8(&full, DW_CFA_advance_loc4); uint_le(&full, 1, 4);
	for (size_t len = 0; len <= full.len; len++) {
		struct buf b = { full.p, len, len };
		struct cfi_table *t = NULL;
		int fd, err = one_fde(&b, 16, &fd, &t);

		CHECK(err == 0 && t, "prefix %zu: %d", len, err);
		built += t != NULL;
		cfi_table_free(t);
		close(fd);
	}
	for (int i = 0; i < 2000; i++) {
		struct buf b = { 0 };
		struct cfi_table *t = NULL;
		struct cfi_row row, prev = { 0, 0, { 0 } };
		size_t n = 1 + (rand_r(&seed) % 64);
		int fd, err;

		for (size_t j = 0; j < n; j++)
			u8(&b, (uint8_t)rand_r(&seed));
		err = one_fde(&b, 1 + rand_r(&seed) % 4096, &fd, &t);
		CHECK(err == 0 && t, "noise %d: %d", i, err);
		for (size_t r = 0; t && cfi_table_row(t, r, &row) != -ERANGE; r++) {
			CHECK(row.start < row.end && (r == 0 || prev.end == row.start),
			      "noise %d: row %zu out of order", i, r);
			prev = row;
		}
		built += t != NULL;
		cfi_table_free(t);
		close(fd);
		free(b.p);
	}
	printf("  %zu prefixes of a %zu-byte program and 2000 random ones: "
	       "%zu tables\n", full.len + 1, full.len, built);
	free(full.p);
}

int main(void)
{
	static const char *const optional[] = {
		"/usr/bin/python3.11",
		"/usr/lib/x86_64-linux-gnu/libLLVM-15.so.1",
		"/usr/lib/x86_64-linux-gnu/libLLVM-14.so.1",
	};

	elf_version(EV_CURRENT);
	printf("real objects against libdw:\n");
	check_object("/lib/x86_64-linux-gnu/libc.so.6", true);
	check_object("/lib64/ld-linux-x86-64.so.2", true);
	for (size_t i = 0; i < sizeof(optional) / sizeof(optional[0]); i++)
		check_object(optional[i], false);
	check_object(FIXTURE_DIR "/uwfix_nofp", true);
	check_object(FIXTURE_DIR "/uwfix_default", true);
	check_object(FIXTURE_DIR "/uwfix_noplt", true);
	printf("synthetic objects:\n");
	test_big_fde();
	test_expressions();
	test_malformed();
	test_prefixes_and_noise();
	test_caps();
	return check_summary();
}
