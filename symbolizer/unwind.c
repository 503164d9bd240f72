/* unwind.c - see unwind.h. */
#include "unwind.h"

#include <stdbool.h>
#include <string.h>

/* What the helpers below return when they succeed; otherwise a status. */
#define STEP_OK (-1)

/* One step's outcome: the caller's registers, or why there is none. */
struct step {
	uint64_t pc, sp, fp;
	bool fp_ok;             /* fp holds the caller's rbp */
	bool exact;             /* pc is not a return address */
};

/* Loads 8 bytes at user address addr from the snapshot. STEP_OK, or the status
 * a load outside it means: truncated above, garbage below. */
static int load(const struct unwind_stack *s, uint64_t addr, uint64_t *v)
{
	if (addr < s->base)
		return UNWIND_BAD_FRAME;
	if (s->len < 8 || addr - s->base > s->len - 8)
		return UNWIND_TRUNCATED;
	memcpy(v, s->data + (addr - s->base), 8);
	return STEP_OK;
}

/* The caller's rsp (CFA), or a status. */
static int cfa_of(const struct cfi_rule *r, const struct step *cur,
		  const struct unwind_stack *s, uint64_t *cfa)
{
	uint64_t off = (uint64_t)(int64_t)r->cfa_off;

	switch (r->cfa) {
	case CFI_CFA_RSP:
		*cfa = cur->sp + off;
		return STEP_OK;
	case CFI_CFA_RBP:
		if (!cur->fp_ok)
			return UNWIND_UNSUPPORTED;
		*cfa = cur->fp + off;
		return STEP_OK;
	case CFI_CFA_PLT:
		*cfa = cur->sp + off + ((cur->pc & 15) >= r->plt_ge ? 8 : 0);
		return STEP_OK;
	case CFI_CFA_DEREF_RSP:
		return load(s, cur->sp + off, cfa);
	default:
		return UNWIND_UNSUPPORTED;
	}
}

/* Where the rule says a register is saved, or false. */
static bool saved_at(uint8_t kind, int16_t off, uint64_t cfa, uint64_t sp,
		     uint64_t *addr)
{
	if (kind == CFI_REG_AT_CFA)
		*addr = cfa + (uint64_t)(int64_t)off;
	else if (kind == CFI_REG_AT_RSP)
		*addr = sp + (uint64_t)(int64_t)off;
	else
		return false;
	return true;
}

static int cfi_step(const struct cfi_rule *r, const struct step *cur,
		    const struct unwind_stack *s, struct step *next)
{
	uint64_t cfa, addr;
	int st;

	if (r->ra == CFI_REG_UNDEFINED)
		return UNWIND_END;
	st = cfa_of(r, cur, s, &cfa);
	if (st != STEP_OK)
		return st;
	if (cfa <= cur->sp)
		return UNWIND_BAD_FRAME;
	if (!saved_at(r->ra, r->ra_off, cfa, cur->sp, &addr))
		return UNWIND_UNSUPPORTED;
	st = load(s, addr, &next->pc);
	if (st != STEP_OK)
		return st;
	next->sp = cfa;
	next->fp = cur->fp;
	next->fp_ok = cur->fp_ok && r->rbp == CFI_REG_SAME;
	if (saved_at(r->rbp, r->rbp_off, cfa, cur->sp, &addr))
		next->fp_ok = load(s, addr, &next->fp) == STEP_OK;
	next->exact = r->flags & CFI_SIGNAL_FRAME;
	return STEP_OK;
}

static int fp_step(const struct step *cur, const struct unwind_stack *s,
		   struct step *next)
{
	if (!cur->fp_ok || cur->fp < cur->sp || cur->fp > UINT64_MAX - 16 ||
	    load(s, cur->fp + 8, &next->pc) != STEP_OK ||
	    load(s, cur->fp, &next->fp) != STEP_OK)
		return UNWIND_NO_CFI;
	next->sp = cur->fp + 16;
	next->fp_ok = true;
	next->exact = false;
	return STEP_OK;
}

int unwind_snapshot(const struct unwind_regs *regs,
		    const struct unwind_stack *stack, unwind_find_fn find,
		    void *ctx, uint64_t *pcs, bool *exact, int max,
		    enum unwind_status *status)
{
	struct step cur = { regs->rip, regs->rsp, regs->rbp, true, true };
	int n = 0, st;

	for (;;) {
		const struct cfi_table *t;
		struct cfi_row row;
		struct step next;
		uint64_t at, bias;

		if (cur.pc == 0) {
			st = UNWIND_END;
			break;
		}
		if (n >= max) {
			st = UNWIND_MAX_FRAMES;
			break;
		}
		if (exact)
			exact[n] = cur.exact;
		pcs[n++] = cur.pc;
		at = cur.exact ? cur.pc : cur.pc - 1;
		t = find(ctx, at, &bias);
		if (t && cfi_table_find(t, at - bias, &row) == 0)
			st = cfi_step(&row.rule, &cur, stack, &next);
		else
			st = fp_step(&cur, stack, &next);
		if (st != STEP_OK)
			break;
		cur = next;
	}
	*status = (enum unwind_status)st;
	return n;
}

const char *unwind_status_name(enum unwind_status s)
{
	static const char *const names[] = {
		[UNWIND_END] = "end",
		[UNWIND_TRUNCATED] = "truncated",
		[UNWIND_NO_CFI] = "no CFI",
		[UNWIND_UNSUPPORTED] = "unsupported CFI",
		[UNWIND_BAD_FRAME] = "bad frame",
		[UNWIND_MAX_FRAMES] = "max frames",
	};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}
