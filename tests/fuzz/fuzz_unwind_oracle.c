/* fuzz_unwind_oracle.c - symbolizer/unwind.c against libunwind
 * (unwind_libunwind.h) on stacks made from the input.
 *
 * The objects are fixed and real: this process's own (the target, libc,
 * ld.so, ... as dl_iterate_phdr lists them), each with its CFI table and
 * its libunwind sections, built once. So is a base snapshot: the stack of
 * LLVMFuzzerInitialize (libFuzzer's driver, main, libc, _start above it),
 * copied once with rep movsb (nothing instrumented reads it). An input
 * edits it, integers little-endian, missing bytes 0:
 *   i32 added to rip | i16 added to rsp, in words | u64 xored into rbp |
 *   u16 stack length (0: all) | (u16 offset, u8 byte) writes...
 * so the empty input is the base snapshot. The stack is copied into a
 * buffer of its exact size (ASan sees any read past it) and unwound by
 * both. Neither may crash; each fills at most what it was given, starts at
 * rip and ends with a status that exists; where both call the stack
 * complete, their pcs are the same.
 */
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <unistd.h>

#include "cfi_table.h"
#include "fuzz_util.h"
#include "unwind.h"
#include "unwind_libunwind.h"

#define MAX_FRAMES 64
#define MAX_OBJECTS 64
#define MAX_RANGES 4
#define SNAP_MAX (1u << 20)

extern void *__libc_stack_end; /* ld.so's: the stack pointer _start got */

struct object {
	struct cfi_table *cfi;
	struct ulw_object *ulw;
	uint64_t bias;
	uint64_t lo[MAX_RANGES], hi[MAX_RANGES]; /* executable segments */
	int nranges;
};

static struct object objects[MAX_OBJECTS];
static int nobjects;
static struct ulw *lu;
static uint8_t base_stack[SNAP_MAX];
static struct unwind_regs base_regs;
static uint64_t base_addr, base_len;

static const struct object *object_of(uint64_t pc)
{
	for (int i = 0; i < nobjects; i++)
		for (int j = 0; j < objects[i].nranges; j++)
			if (pc >= objects[i].lo[j] && pc < objects[i].hi[j])
				return &objects[i];
	return NULL;
}

static const struct cfi_table *find_cfi(void *ctx, uint64_t pc, uint64_t *bias)
{
	const struct object *o = object_of(pc);

	if (!o)
		return NULL;
	*bias = o->bias;
	return o->cfi;
}

static const struct ulw_object *find_ulw(void *ctx, uint64_t pc, uint64_t *bias)
{
	const struct object *o = object_of(pc);

	if (!o)
		return NULL;
	*bias = o->bias;
	return o->ulw;
}

static int add_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	const char *path = info->dlpi_name[0] ? info->dlpi_name : "/proc/self/exe";
	struct object *o = &objects[nobjects];
	int fd;

	if (nobjects == MAX_OBJECTS)
		return 1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0; /* the vdso: no file */
	if (!cfi_table_build(fd, &o->cfi) && !ulw_object_build(fd, SIZE_MAX, &o->ulw)) {
		o->bias = info->dlpi_addr;
		for (int i = 0; i < info->dlpi_phnum && o->nranges < MAX_RANGES; i++) {
			const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

			if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
				o->lo[o->nranges] = o->bias + ph->p_vaddr;
				o->hi[o->nranges++] = o->bias + ph->p_vaddr + ph->p_memsz;
			}
		}
		nobjects++;
	} else {
		cfi_table_free(o->cfi);
		ulw_object_free(o->ulw);
		*o = (struct object){ 0 };
	}
	close(fd);
	return 0;
}

/* The registers here and the stack from rsp - 128 up to a little above
 * where _start began. */
__attribute__((noinline)) static void capture(void)
{
	uint64_t rip, rsp, rbp, len;
	void *dst = base_stack;
	const void *src;

	__asm__ volatile("mov %%rbp, %2\n\t"
			 "mov %%rsp, %1\n\t"
			 "lea 0(%%rip), %0"
			 : "=r"(rip), "=r"(rsp), "=r"(rbp));
	len = (uint64_t)(uintptr_t)__libc_stack_end + 64 - (rsp - 128);
	if (len > SNAP_MAX)
		len = SNAP_MAX;
	src = (const void *)(uintptr_t)(rsp - 128);
	base_len = len;
	__asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(len) : : "memory");
	base_regs = (struct unwind_regs){ rip, rsp, rbp };
	base_addr = rsp - 128;
}

static uint64_t le(const uint8_t *data, size_t size, size_t at, int bytes)
{
	uint64_t v = 0;

	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | (at + (size_t)i < size ? data[at + (size_t)i] : 0);
	return v;
}

/* Both walks of one snapshot, and the properties. */
static void both(const struct unwind_regs *regs, const struct unwind_stack *s, int verbose)
{
	uint64_t pcs[MAX_FRAMES], lu_pcs[MAX_FRAMES];
	enum unwind_status st, lst;
	int n = unwind_snapshot(regs, s, find_cfi, NULL, pcs, NULL, MAX_FRAMES, &st);
	int m = ulw_unwind(lu, regs, s, find_ulw, NULL, lu_pcs, NULL, MAX_FRAMES, &lst);

	if (verbose)
		fprintf(stderr, "fuzz_unwind_oracle: base snapshot of %zu bytes, %d objects: "
			"ours %d frames (%s), libunwind %d (%s)\n", s->len, nobjects, n,
			unwind_status_name(st), m, unwind_status_name(lst));
	FUZZ_CHECK(n >= 0 && n <= MAX_FRAMES && st <= UNWIND_MAX_FRAMES);
	FUZZ_CHECK(m >= 0 && m <= MAX_FRAMES && lst <= UNWIND_MAX_FRAMES);
	FUZZ_CHECK(lst != UNWIND_MAX_FRAMES || m == MAX_FRAMES);
	FUZZ_CHECK(regs->rip == 0 ? m == 0 : m >= 1 && lu_pcs[0] == regs->rip);
	if (st == UNWIND_END && lst == UNWIND_END)
		FUZZ_CHECK(n == m && !memcmp(pcs, lu_pcs, (size_t)n * sizeof(*pcs)));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	FUZZ_CHECK(ulw_new(0, &lu) == 0);
	dl_iterate_phdr(add_object, NULL);
	capture();
	both(&base_regs, &(struct unwind_stack){ base_addr, base_stack, base_len }, 1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct unwind_regs regs = base_regs;
	size_t len = base_len, cut = le(data, size, 14, 2);
	uint8_t *copy;

	regs.rip += (uint64_t)(int64_t)(int32_t)le(data, size, 0, 4);
	regs.rsp += (uint64_t)(int64_t)(int16_t)le(data, size, 4, 2) * 8;
	regs.rbp ^= le(data, size, 6, 8);
	if (cut && cut < len)
		len = cut;
	copy = malloc(len);
	FUZZ_CHECK(copy);
	memcpy(copy, base_stack, len);
	for (size_t at = 16; at + 3 <= size; at += 3)
		copy[le(data, size, at, 2) % len] = data[at + 2];
	both(&regs, &(struct unwind_stack){ base_addr, copy, len }, 0);
	free(copy);
	return 0;
}
