/* cfi_program.c - see cfi_program.h.
 *
 * One loop over the opcodes. The state is small (struct cfi_state); a
 * remembered state is a copy on a fixed stack. Rows: the current row
 * started at row_pc; an advance to a loc beyond row_pc hands out the row
 * (row_pc, state) and starts the next at loc. Offsets are reduced the way
 * the old libdw-based builder reduced dwarf_frame_register's answer, so the
 * tables are the same: a saved-register offset that does not fit 16 bits,
 * a CFA offset that does not fit 32, val_offset, register and val_expression
 * rules are "unsupported".
 */
#include "cfi_program.h"

#include <dwarf.h>
#include <errno.h>
#include <string.h>

#define REG_RBP 6
#define REG_RSP 7
#define REG_RA 16 /* x86-64's return-address column */

/* remember_state nesting kept. Compilers nest a level or two (a function
 * with several epilogues); 64 is far beyond that and keeps the stack of
 * saved states at 3 KiB, on the C stack. Deeper nesting ends the FDE
 * (unsupported). */
#define STATE_STACK 64

/* Register numbers from this on are malformed: libdw, which the tables used
 * to come from, rejects them (it sizes an array by them). */
#define REG_LIMIT (INT32_MAX / 8)

/* The longest CFA expression recognized: binutils' lazy-PLT one, 9 ops. */
#define MAX_OPS 9

enum { CFA_UNDEFINED, CFA_REG_OFF, CFA_EXPR, CFA_INVALID };

bool cfi_read_uleb(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	unsigned shift = 0;

	*v = 0;
	while (*p < end) {
		uint8_t b = *(*p)++;

		if (shift < 64)
			*v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80))
			return true;
	}
	return false;
}

static bool read_sleb(const uint8_t **p, const uint8_t *end, int64_t *v)
{
	uint64_t x = 0;
	unsigned shift = 0;

	while (*p < end) {
		uint8_t b = *(*p)++;

		if (shift < 64)
			x |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80)) {
			if (shift < 64 && (b & 0x40))
				x |= ~(uint64_t)0 << shift;
			*v = (int64_t)x;
			return true;
		}
	}
	return false;
}

static bool read_fixed(const uint8_t **p, const uint8_t *end, size_t n,
		       uint64_t *v)
{
	uint64_t x = 0;

	if ((size_t)(end - *p) < n)
		return false;
	for (size_t i = 0; i < n; i++)   /* x86-64: little endian */
		x |= (uint64_t)(*p)[i] << (8 * i);
	*p += n;
	*v = x;
	return true;
}

bool cfi_read_encoded(const uint8_t **p, const uint8_t *end, int enc,
		      uint64_t here, uint64_t *v)
{
	uint64_t x = 0;
	bool ok;

	switch (enc & 0x0f) {
	case DW_EH_PE_absptr:
	case DW_EH_PE_udata8:
	case DW_EH_PE_sdata8:
		ok = read_fixed(p, end, 8, &x);
		break;
	case DW_EH_PE_udata4:
		ok = read_fixed(p, end, 4, &x);
		break;
	case DW_EH_PE_sdata4:
		ok = read_fixed(p, end, 4, &x);
		x = (uint64_t)(int64_t)(int32_t)x;
		break;
	case DW_EH_PE_udata2:
		ok = read_fixed(p, end, 2, &x);
		break;
	case DW_EH_PE_sdata2:
		ok = read_fixed(p, end, 2, &x);
		x = (uint64_t)(int64_t)(int16_t)x;
		break;
	case DW_EH_PE_uleb128:
		ok = cfi_read_uleb(p, end, &x);
		break;
	default:
		return false;
	}
	if (!ok)
		return false;
	switch (enc & 0x70) {
	case 0:
		break;
	case DW_EH_PE_pcrel:
		x += here;
		break;
	default:
		return false;
	}
	*v = x;
	return true;
}

/* ---- expressions -------------------------------------------------------- */

struct op {
	uint8_t atom;
	uint64_t number, number2;
};

/* Decodes the ops of a DWARF expression that can be one of the recognized
 * shapes: at most MAX_OPS of the atoms they use. Returns the count, or -1
 * for anything else (another atom, more ops, a cut operand). */
static int decode_ops(const uint8_t *p, const uint8_t *end, struct op *ops)
{
	int n = 0;

	while (p < end) {
		struct op *o = &ops[n];
		int64_t s = 0;
		bool ok = true;

		if (n == MAX_OPS)
			return -1;
		memset(o, 0, sizeof(*o));
		o->atom = *p++;
		if (o->atom >= DW_OP_breg0 && o->atom <= DW_OP_breg31) {
			ok = read_sleb(&p, end, &s);
			o->number = (uint64_t)s;
		} else if (o->atom == DW_OP_bregx) {
			ok = cfi_read_uleb(&p, end, &o->number) &&
			     read_sleb(&p, end, &s);
			o->number2 = (uint64_t)s;
		} else if (o->atom == DW_OP_const1u) {
			ok = read_fixed(&p, end, 1, &o->number);
		} else if (o->atom == DW_OP_constu ||
			   o->atom == DW_OP_plus_uconst) {
			ok = cfi_read_uleb(&p, end, &o->number);
		} else if (!(o->atom >= DW_OP_lit0 && o->atom <= DW_OP_lit31) &&
			   o->atom != DW_OP_deref && o->atom != DW_OP_and &&
			   o->atom != DW_OP_ge && o->atom != DW_OP_shl &&
			   o->atom != DW_OP_plus) {
			return -1;
		}
		if (!ok)
			return -1;
		n++;
	}
	return n;
}

static bool fits16(int64_t v)
{
	return v >= INT16_MIN && v <= INT16_MAX;
}

static bool fits32(int64_t v)
{
	return v >= INT32_MIN && v <= INT32_MAX;
}

static bool lit(const struct op *op, uint64_t *v)
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

/* The CFA as rsp/rbp + off: other registers are unsupported (the offset is
 * kept, as the old builder did, so the tables compare equal). */
static void cfa_reg_off(uint64_t reg, uint64_t off, struct cfi_rule *r)
{
	int64_t v = (int64_t)off;

	r->cfa = CFI_CFA_UNSUPPORTED;
	r->cfa_off = 0;
	r->plt_ge = 0;
	if (!fits32(v))
		return;
	if (reg == REG_RSP)
		r->cfa = CFI_CFA_RSP;
	else if (reg == REG_RBP)
		r->cfa = CFI_CFA_RBP;
	r->cfa_off = (int32_t)v;
}

/* DW_CFA_def_cfa_expression: the shapes kept are
 *   DW_OP_bregx R N                 (as DW_CFA_def_cfa R N)
 *   DW_OP_breg7 N; DW_OP_deref      (signal frames: glibc's __restore_rt)
 *   DW_OP_breg7 N; DW_OP_breg16 0; DW_OP_lit15; DW_OP_and; DW_OP_litK;
 *   DW_OP_ge; DW_OP_lit3; DW_OP_shl; DW_OP_plus   (binutils' lazy PLT)
 * anything else is unsupported. */
static void cfa_expr(const uint8_t *p, const uint8_t *end, struct cfi_rule *r)
{
	struct op ops[MAX_OPS];
	int n = decode_ops(p, end, ops);
	uint64_t mask, k, shift;

	r->cfa = CFI_CFA_UNSUPPORTED;
	r->cfa_off = 0;
	r->plt_ge = 0;
	if (n == 1 && ops[0].atom == DW_OP_bregx) {
		cfa_reg_off(ops[0].number, ops[0].number2, r);
		return;
	}
	if (n < 2 || !fits32((int64_t)ops[0].number) ||
	    ops[0].atom != DW_OP_breg0 + REG_RSP)
		return;
	if (n == 2 && ops[1].atom == DW_OP_deref) {
		r->cfa = CFI_CFA_DEREF_RSP;
		r->cfa_off = (int32_t)ops[0].number;
	} else if (n == 9 && ops[1].atom == DW_OP_breg0 + REG_RA &&
		   ops[1].number == 0 && lit(&ops[2], &mask) && mask == 15 &&
		   ops[3].atom == DW_OP_and && lit(&ops[4], &k) && k <= 15 &&
		   ops[5].atom == DW_OP_ge && lit(&ops[6], &shift) &&
		   shift == 3 && ops[7].atom == DW_OP_shl &&
		   ops[8].atom == DW_OP_plus) {
		r->cfa = CFI_CFA_PLT;
		r->cfa_off = (int32_t)ops[0].number;
		r->plt_ge = (uint8_t)k;
	}
}

/* DW_CFA_expression: the register is saved at the address the expression
 * computes with the CFA pushed first. Kept: DW_OP_breg7 N (at rsp + N,
 * signal frames) and DW_OP_plus_uconst N (at CFA + N). */
static struct cfi_reg_rule reg_expr(const uint8_t *p, const uint8_t *end)
{
	struct cfi_reg_rule r = { CFI_REG_UNSUPPORTED, 0 };
	struct op ops[MAX_OPS];
	int64_t v;

	if (decode_ops(p, end, ops) != 1)
		return r;
	v = (int64_t)ops[0].number;
	if (!fits16(v))
		return r;
	if (ops[0].atom == DW_OP_breg0 + REG_RSP)
		r.kind = CFI_REG_AT_RSP;
	else if (ops[0].atom == DW_OP_plus_uconst)
		r.kind = CFI_REG_AT_CFA;
	else
		return r;
	r.off = (int16_t)v;
	return r;
}

static struct cfi_reg_rule reg_at_cfa(int64_t off)
{
	struct cfi_reg_rule r = { CFI_REG_UNSUPPORTED, 0 };

	if (fits16(off)) {
		r.kind = CFI_REG_AT_CFA;
		r.off = (int16_t)off;
	}
	return r;
}

/* ---- the interpreter ------------------------------------------------------ */

struct run {
	const struct cfi_cie *cie;
	struct cfi_state st;
	struct cfi_state stack[STATE_STACK];
	int depth;
	const uint8_t *base;    /* the buffer, for set_loc's vaddr */
	uint64_t vaddr;
	bool in_cie;
};

static void set_reg(struct run *r, uint64_t regno, struct cfi_reg_rule rule)
{
	if (regno == REG_RBP)
		r->st.rbp = rule;
	if (regno == r->cie->ra_reg)
		r->st.ra = rule;
}

/* The CIE's rule for regno (DW_CFA_restore). */
static int restore_reg(struct run *r, uint64_t regno)
{
	if (r->in_cie || regno >= REG_LIMIT)
		return -EINVAL;
	if (regno == REG_RBP)
		r->st.rbp = r->cie->init.rbp;
	if (regno == r->cie->ra_reg)
		r->st.ra = r->cie->init.ra;
	return 0;
}

/* Reads the ULEB register number that a register rule sets. */
static int reg_operand(const uint8_t **p, const uint8_t *end, uint64_t *regno)
{
	if (!cfi_read_uleb(p, end, regno) || *regno >= REG_LIMIT)
		return -EINVAL;
	return 0;
}

/* Reads a DW_FORM_block (ULEB length, bytes); *blk points at the bytes. */
static int block(const uint8_t **p, const uint8_t *end, const uint8_t **blk,
		 const uint8_t **blk_end)
{
	uint64_t len;

	if (!cfi_read_uleb(p, end, &len) || len > (uint64_t)(end - *p))
		return -EINVAL;
	*blk = *p;
	*blk_end = *p + len;
	*p += len;
	return 0;
}

/* Offsets factored by the CIE's data alignment: an unsigned (ULEB) or a
 * signed (SLEB) operand. Products wrap as libdw's do. */
static bool read_ufactored(const uint8_t **p, const uint8_t *end,
			   const struct cfi_cie *c, uint64_t *v)
{
	if (!cfi_read_uleb(p, end, v))
		return false;
	*v *= (uint64_t)c->data_align;
	return true;
}

static bool read_sfactored(const uint8_t **p, const uint8_t *end,
			   const struct cfi_cie *c, uint64_t *v)
{
	int64_t s;

	if (!read_sleb(p, end, &s))
		return false;
	*v = (uint64_t)s * (uint64_t)c->data_align;
	return true;
}

/* Runs one non-advancing instruction op (its opcode byte already read). */
static int step(struct run *r, uint8_t op, const uint8_t **p,
		const uint8_t *end)
{
	const struct cfi_cie *c = r->cie;
	struct cfi_state *st = &r->st;
	const uint8_t *blk, *blk_end;
	uint64_t regno, u;
	int64_t s;
	int err;

	switch (op & 0xc0) {
	case DW_CFA_offset:
		if (!read_ufactored(p, end, c, &u))
			return -EINVAL;
		set_reg(r, op & 0x3f, reg_at_cfa((int64_t)u));
		return 0;
	case DW_CFA_restore:
		return restore_reg(r, op & 0x3f);
	}
	switch (op) {
	case DW_CFA_nop:
		return 0;
	case DW_CFA_def_cfa:
	case DW_CFA_def_cfa_sf:
		if (!cfi_read_uleb(p, end, &regno) ||
		    !(op == DW_CFA_def_cfa ? cfi_read_uleb(p, end, &u) :
		      read_sfactored(p, end, c, &u)))
			return -EINVAL;
		st->cfa_how = CFA_REG_OFF;
		st->cfa_reg = regno;
		st->cfa_off = u;
		return 0;
	case DW_CFA_def_cfa_register:
		if (!cfi_read_uleb(p, end, &regno))
			return -EINVAL;
		if (st->cfa_how != CFA_REG_OFF)
			st->cfa_how = CFA_INVALID;  /* no offset to keep */
		st->cfa_reg = regno;
		return 0;
	case DW_CFA_def_cfa_offset:
	case DW_CFA_def_cfa_offset_sf:
		if (!(op == DW_CFA_def_cfa_offset ? cfi_read_uleb(p, end, &u) :
		      read_sfactored(p, end, c, &u)))
			return -EINVAL;
		if (st->cfa_how != CFA_REG_OFF)
			st->cfa_how = CFA_INVALID;  /* no register to add to */
		st->cfa_off = u;
		return 0;
	case DW_CFA_def_cfa_expression:
		if ((err = block(p, end, &blk, &blk_end)))
			return err;
		st->cfa_how = CFA_EXPR;
		cfa_expr(blk, blk_end, &st->cfa_expr);
		return 0;
	case DW_CFA_undefined:
	case DW_CFA_same_value:
		if ((err = reg_operand(p, end, &regno)))
			return err;
		set_reg(r, regno, (struct cfi_reg_rule){
			op == DW_CFA_undefined ? CFI_REG_UNDEFINED : CFI_REG_SAME, 0 });
		return 0;
	case DW_CFA_offset_extended:
	case DW_CFA_GNU_negative_offset_extended:
		if (reg_operand(p, end, &regno) || !read_ufactored(p, end, c, &u))
			return -EINVAL;
		if (op == DW_CFA_GNU_negative_offset_extended)
			u = -u;
		set_reg(r, regno, reg_at_cfa((int64_t)u));
		return 0;
	case DW_CFA_offset_extended_sf:
		if (reg_operand(p, end, &regno) || !read_sfactored(p, end, c, &u))
			return -EINVAL;
		set_reg(r, regno, reg_at_cfa((int64_t)u));
		return 0;
	case DW_CFA_val_offset:
	case DW_CFA_register:
		if (reg_operand(p, end, &regno) || !cfi_read_uleb(p, end, &u))
			return -EINVAL;
		set_reg(r, regno, (struct cfi_reg_rule){ CFI_REG_UNSUPPORTED, 0 });
		return 0;
	case DW_CFA_val_offset_sf:
		if (reg_operand(p, end, &regno) || !read_sleb(p, end, &s))
			return -EINVAL;
		set_reg(r, regno, (struct cfi_reg_rule){ CFI_REG_UNSUPPORTED, 0 });
		return 0;
	case DW_CFA_expression:
	case DW_CFA_val_expression:
		if ((err = reg_operand(p, end, &regno)) ||
		    (err = block(p, end, &blk, &blk_end)))
			return err;
		set_reg(r, regno, op == DW_CFA_expression ? reg_expr(blk, blk_end) :
			(struct cfi_reg_rule){ CFI_REG_UNSUPPORTED, 0 });
		return 0;
	case DW_CFA_restore_extended:
		if (!cfi_read_uleb(p, end, &regno))
			return -EINVAL;
		return restore_reg(r, regno);
	case DW_CFA_remember_state:
		if (r->depth == STATE_STACK)
			return -ENOTSUP;
		r->stack[r->depth++] = *st;
		return 0;
	case DW_CFA_restore_state:
		if (!r->depth)
			return -EINVAL;
		*st = r->stack[--r->depth];
		return 0;
	case DW_CFA_GNU_args_size:
		return cfi_read_uleb(p, end, &u) ? 0 : -EINVAL;
	default:
		return -EINVAL;
	}
}

/* When op moves the pc, reads its operand and sets *loc; returns 1.
 * Returns 0 for other ops, or a negative errno. */
static int advance(struct run *r, uint8_t op, const uint8_t **p,
		   const uint8_t *end, uint64_t *loc)
{
	uint64_t delta;

	if ((op & 0xc0) == DW_CFA_advance_loc) {
		delta = op & 0x3f;
	} else if (op == DW_CFA_advance_loc1 || op == DW_CFA_advance_loc2 ||
		   op == DW_CFA_advance_loc4) {
		size_t n = op == DW_CFA_advance_loc1 ? 1 :
			   op == DW_CFA_advance_loc2 ? 2 : 4;

		if (!read_fixed(p, end, n, &delta))
			return -EINVAL;
	} else if (op == DW_CFA_set_loc) {
		if (r->in_cie)
			return -EINVAL;
		if (r->cie->ptr_enc < 0 ||
		    !cfi_read_encoded(p, end, r->cie->ptr_enc,
				      r->vaddr + (uint64_t)(*p - r->base), loc))
			return -ENOTSUP;  /* an encoding not read, or cut */
		return 1;
	} else {
		return 0;
	}
	if (r->in_cie)  /* a CIE describes no pc */
		return -EINVAL;
	*loc += delta * r->cie->code_align;
	return 1;
}

static void rule_of(const struct run *r, struct cfi_rule *out)
{
	const struct cfi_state *st = &r->st;

	memset(out, 0, sizeof(*out));  /* rules compare bytewise */
	if (st->cfa_how == CFA_REG_OFF)
		cfa_reg_off(st->cfa_reg, st->cfa_off, out);
	else if (st->cfa_how == CFA_EXPR) {  /* fields: padding stays 0 */
		out->cfa = st->cfa_expr.cfa;
		out->cfa_off = st->cfa_expr.cfa_off;
		out->plt_ge = st->cfa_expr.plt_ge;
	} else
		out->cfa = CFI_CFA_UNSUPPORTED;
	out->ra = st->ra.kind;
	out->ra_off = st->ra.off;
	out->rbp = st->rbp.kind;
	out->rbp_off = st->rbp.off;
	out->flags = r->cie->signal ? CFI_SIGNAL_FRAME : 0;
}

/* Runs [p, end); for an FDE, hands out rows over [lo, hi). */
static int run(struct run *r, const uint8_t *p, const uint8_t *end,
	       uint64_t lo, uint64_t hi, uint64_t *budget, cfi_row_fn row,
	       void *ctx, uint64_t *stop)
{
	uint64_t row_pc = lo, loc = lo;
	struct cfi_rule rule;
	int err;

	*stop = row_pc;
	while (p < end) {
		uint8_t op;

		if (!*budget)
			return -E2BIG;
		--*budget;
		op = *p++;
		err = advance(r, op, &p, end, &loc);
		if (err < 0)
			return err;
		if (!err) {
			if ((err = step(r, op, &p, end)))
				return err;
			continue;
		}
		if (loc <= row_pc)  /* not past the row: libdw starts none */
			continue;
		rule_of(r, &rule);
		if ((err = row(ctx, row_pc, &rule)))
			return err;
		row_pc = loc;
		*stop = row_pc;
		if (row_pc >= hi) {
			*stop = hi;
			return 0;
		}
	}
	if (!r->in_cie) {
		rule_of(r, &rule);
		if ((err = row(ctx, row_pc, &rule)))
			return err;
	}
	*stop = hi;
	return 0;
}

/* libdw's x86-64 ABI defaults (elfutils' backends/x86_64_cfi.c): these
 * columns start "same value", every other one undefined. */
static uint8_t abi_default(uint64_t regno)
{
	switch (regno) {
	case 0: case REG_RBP: case 12: case 13: case 14: case 15: case REG_RA:
		return CFI_REG_SAME;
	default:
		return CFI_REG_UNDEFINED;
	}
}

int cfi_cie_run(struct cfi_cie *cie, const uint8_t *insns, size_t len,
		uint64_t *budget)
{
	struct run r;
	uint64_t stop;
	int err;

	memset(&r, 0, sizeof(r));
	r.cie = cie;
	r.in_cie = true;
	r.st.cfa_how = CFA_UNDEFINED;
	r.st.rbp = (struct cfi_reg_rule){ abi_default(REG_RBP), 0 };
	r.st.ra = (struct cfi_reg_rule){ abi_default(cie->ra_reg), 0 };
	err = run(&r, insns, insns + len, 0, 0, budget, NULL, NULL, &stop);
	cie->init = r.st;  /* what remember_state kept is dropped, as libdw does */
	return err;
}

int cfi_fde_run(const struct cfi_cie *cie, const uint8_t *insns, size_t len,
		uint64_t vaddr, uint64_t lo, uint64_t hi, uint64_t *budget,
		cfi_row_fn row, void *ctx, uint64_t *stop)
{
	struct run r;

	r.cie = cie;
	r.st = cie->init;
	r.depth = 0;
	r.base = insns;
	r.vaddr = vaddr;
	r.in_cie = false;
	return run(&r, insns, insns + len, lo, hi, budget, row, ctx, stop);
}
