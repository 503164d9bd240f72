/* fuzz_cfi_unwind.c - an arbitrary file as an object's CFI, and an
 * arbitrary register and stack snapshot unwound with it
 * (symbolizer/cfi_table.h, unwind.h).
 *
 * Input layout, read from the end (integers little-endian):
 *   object bytes | stack bytes | rip rsp rbp base bias (u64 each) |
 *   u32 stack length
 * The object goes to cfi_table_build through a memfd; the stack is copied
 * into a buffer of its exact size (so ASan sees any read past it) and
 * unwound by unwind_snapshot from those registers, with the object mapped
 * at [bias, bias + 4 GiB) and nothing elsewhere. An input too short for
 * the tail is only an object. Checks that a row found covers the address
 * asked, with rule kinds that exist; that the walk fills at most what it
 * was given, starts at rip and ends with a status that exists (pcs[] full
 * when it says so).
 */
#include <errno.h>
#include <string.h>

#include "cfi_table.h"
#include "fuzz_util.h"
#include "unwind.h"

#define TAIL_LEN (5 * 8 + 4)
#define MAX_FRAMES 64

struct mapped {
	const struct cfi_table *table;
	uint64_t bias;
};

static const struct cfi_table *find(void *ctx, uint64_t pc, uint64_t *bias)
{
	const struct mapped *m = ctx;

	if (pc - m->bias >= (1ull << 32))
		return NULL;
	*bias = m->bias;
	return m->table;
}

static void check_row(const struct cfi_table *t, uint64_t vaddr)
{
	struct cfi_row row;

	if (!t || cfi_table_find(t, vaddr, &row))
		return;
	FUZZ_CHECK(row.start <= vaddr && vaddr < row.end);
	FUZZ_CHECK(row.rule.cfa <= CFI_CFA_UNSUPPORTED);
	FUZZ_CHECK(row.rule.ra <= CFI_REG_UNSUPPORTED && row.rule.rbp <= CFI_REG_UNSUPPORTED);
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mapped m = { 0 };
	struct cfi_table *t = NULL;
	struct unwind_regs regs;
	struct unwind_stack stack;
	enum unwind_status status;
	uint64_t pcs[MAX_FRAMES];
	const uint8_t *tail;
	size_t object_len = size, stack_len;
	uint8_t *copy;
	int n, err;

	if (size >= TAIL_LEN) {
		tail = data + size - TAIL_LEN;
		stack_len = (size_t)(tail[40] | tail[41] << 8 | tail[42] << 16 | (uint32_t)tail[43] << 24);
		if (stack_len > size - TAIL_LEN)
			stack_len = size - TAIL_LEN;
		object_len = size - TAIL_LEN - stack_len;
	}
	err = cfi_table_build(fuzz_memfd(data, object_len), &t);
	FUZZ_CHECK(err == 0 || err == -ENODATA || err == -ENOTSUP || err == -EINVAL ||
		   err == -E2BIG || err == -ENOMEM);
	if (err)
		t = NULL;
	else
		FUZZ_CHECK(cfi_table_memory(t) > 0);
	if (object_len == size) {
		cfi_table_free(t);
		return 0;
	}

	regs = (struct unwind_regs){ le64(tail), le64(tail + 8), le64(tail + 16) };
	m = (struct mapped){ t, le64(tail + 32) };
	copy = malloc(stack_len ? stack_len : 1);
	FUZZ_CHECK(copy);
	memcpy(copy, data + object_len, stack_len);
	stack = (struct unwind_stack){ le64(tail + 24), copy, stack_len };
	check_row(t, regs.rip - m.bias);

	n = unwind_snapshot(&regs, &stack, find, &m, pcs, NULL, MAX_FRAMES, &status);
	FUZZ_CHECK(n >= 0 && n <= MAX_FRAMES);
	FUZZ_CHECK(status <= UNWIND_MAX_FRAMES && unwind_status_name(status));
	FUZZ_CHECK(status != UNWIND_MAX_FRAMES || n == MAX_FRAMES);
	FUZZ_CHECK(n == 0 || pcs[0] == regs.rip);
	for (int i = 1; i < n; i++)
		check_row(t, pcs[i] - 1 - m.bias);
	free(copy);
	cfi_table_free(t);
	return 0;
}
