/* fuzz_elf_symbolize.c - an arbitrary file as an ELF object and its DWARF
 * (symbolizer/elf_object.h, dwarf_index.h).
 *
 * Feeds the input to elf_object_open_mem (how a [vdso] image is read) and,
 * as a file in a memfd, to elf_object_open_fd, elf_object_peek_fd and
 * dwarf_index_open; then looks up, in both, the first symbols' addresses,
 * the address before each and their ends, and the PT_LOAD offsets.
 * Checks the object's promises (symbols sorted by address, distinct; a
 * lookup answers the symbol covering the address, a symbol with an extent
 * is found at its own address; the build-id is lowercase hex), that peek
 * gives a NUL-terminated build-id, and that a DWARF lookup fills at most
 * what it was given with readable strings and lines >= 0.
 */
#include <errno.h>
#include <string.h>

#include "dwarf_index.h"
#include "elf_limits.h"
#include "elf_object.h"
#include "fuzz_util.h"

#define MAX_LOOKUPS 256 /* symbols looked up per object */

static void check_hex(const char *hex)
{
	FUZZ_CHECK(strspn(hex, "0123456789abcdef") == strlen(hex));
	FUZZ_CHECK(strlen(hex) % 2 == 0);
}

static void lookup(const struct elf_object *o, uint64_t vaddr)
{
	const struct elf_symbol *s = elf_object_lookup(o, vaddr);

	if (!s)
		return;
	FUZZ_CHECK(s >= o->syms && s < o->syms + o->nsyms);
	FUZZ_CHECK(s->addr <= vaddr && vaddr < s->end);
	(void)strlen(elf_object_name(o, s));
}

static void check_object(const struct elf_object *o)
{
	uint64_t vaddr;

	FUZZ_CHECK(o->build_id);
	check_hex(o->build_id);
	FUZZ_CHECK(o->nsyms == 0 || o->symtab != ELF_SYMTAB_NONE);
	for (size_t i = 0; i < o->nsyms; i++)
		FUZZ_CHECK(i == 0 || o->syms[i - 1].addr < o->syms[i].addr);
	for (size_t i = 0; i < o->nsyms && i < MAX_LOOKUPS; i++) {
		const struct elf_symbol *s = &o->syms[i];

		if (s->end > s->addr)
			FUZZ_CHECK(elf_object_lookup(o, s->addr) == s);
		lookup(o, s->addr);
		lookup(o, s->addr - 1);
		lookup(o, s->end);
	}
	lookup(o, 0);
	lookup(o, UINT64_MAX);
	for (size_t i = 0; i < o->nsegs; i++) {
		(void)elf_object_file_to_vaddr(o, o->segs[i].offset, &vaddr);
		(void)elf_object_file_to_vaddr(o, o->segs[i].offset + o->segs[i].filesz, &vaddr);
	}
}

static void dwarf_lookup(const struct dwarf_index *ix, uint64_t vaddr)
{
	struct sym_frame frames[SYM_MAX_FRAMES];
	int n = dwarf_index_lookup(ix, vaddr, frames, SYM_MAX_FRAMES);

	FUZZ_CHECK(n >= 0 && n <= SYM_MAX_FRAMES);
	for (int i = 0; i < n; i++) {
		/* Only a lone frame of lines without a function has none. */
		FUZZ_CHECK(frames[i].function || n == 1);
		if (frames[i].function)
			(void)strlen(frames[i].function);
		if (frames[i].file)
			(void)strlen(frames[i].file);
		FUZZ_CHECK(frames[i].line >= 0 && frames[i].start_line >= 0);
	}
}

static void check_dwarf(int fd, const struct elf_object *o)
{
	struct dwarf_index *ix;
	int err = dwarf_index_open(fd, &ix);

	FUZZ_CHECK(err == 0 || err == -ENODATA || err == -EINVAL || err == -ENOMEM);
	if (err)
		return;
	FUZZ_CHECK(dwarf_index_flags(ix) & (DWARF_INDEX_FUNCTIONS | DWARF_INDEX_LINES));
	FUZZ_CHECK(dwarf_index_memory(ix) > 0);
	for (size_t i = 0; o && i < o->nsyms && i < MAX_LOOKUPS; i++) {
		dwarf_lookup(ix, o->syms[i].addr);
		dwarf_lookup(ix, o->syms[i].end - 1);
	}
	dwarf_lookup(ix, 0);
	dwarf_lookup(ix, UINT64_MAX);
	dwarf_index_free(ix);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elf_object *o;
	char hex[2 * 64 + 1], why[128];
	bool has_symtab;
	int fd, err;

	if (!elf_object_open_mem(data, size, &o)) {
		check_object(o);
		elf_object_free(o);
	}

	fd = fuzz_memfd(data, size);
	/* the caps the symbolizer checks first (elf_limits.h): the readers
	 * below are fuzzed without them, so they must hold on their own */
	err = elf_limits_check(fd, size, why, sizeof(why));
	FUZZ_CHECK(err == 0 || err == -ENOEXEC || err == -EINVAL || err == -E2BIG ||
		   err == -ENOMEM);
	FUZZ_CHECK(err != -E2BIG || why[0]);
	err = elf_object_open_fd(fd, &o);
	FUZZ_CHECK(err == 0 || err == -ENOEXEC || err == -EINVAL || err == -ENOMEM);
	if (err)
		o = NULL;
	else
		check_object(o);
	if (!elf_object_peek_fd(fd, hex, sizeof(hex), &has_symtab)) {
		FUZZ_CHECK(memchr(hex, '\0', sizeof(hex)));
		check_hex(hex);
	}
	check_dwarf(fd, o);
	elf_object_free(o);
	return 0;
}
