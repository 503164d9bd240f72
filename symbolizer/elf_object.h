/* elf_object.h - what the symbolizer needs from one ELF file, read once.
 *
 * Opening an object reads, with libelf, everything v1 needs and then lets
 * go of the file: no descriptor or Elf handle is kept.
 *  - the GNU build-id (NT_GNU_BUILD_ID note), as lowercase hex;
 *  - the PT_LOAD program headers, to turn file offsets into ELF virtual
 *    addresses (elf_object_file_to_vaddr);
 *  - one function symbol table: .symtab when it has functions, else
 *    .dynsym (all a stripped file has). Only STT_FUNC and STT_GNU_IFUNC
 *    symbols defined in a section with a nonzero value are kept, sorted by
 *    address, one per address (see below), names in one string arena.
 *
 * Aliases: when several symbols share an address, one is kept by a fixed
 * preference: global/unique over weak over local, then a symbol with a size
 * over one without, then fewer leading underscores, then the smallest name
 * (strcmp). The result is deterministic whatever the table order.
 *
 * Extent of a symbol: [value, value + size) when it has a size. A size-0
 * symbol extends to the next symbol, but never past the end of its section.
 * elf_object_lookup() finds the symbol with the greatest value <= vaddr and
 * answers it only if vaddr is within that extent: in a stripped file with
 * only .dynsym, an address in a local function (absent from .dynsym) is
 * unknown rather than charged to the exported function before it.
 */
#ifndef BPFPROF_SYM_ELF_OBJECT_H
#define BPFPROF_SYM_ELF_OBJECT_H

#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum elf_symtab_kind {
	ELF_SYMTAB_NONE = 0,
	ELF_SYMTAB_DYNSYM,
	ELF_SYMTAB_SYMTAB,
};

struct elf_segment {     /* one PT_LOAD */
	uint64_t offset;     /* p_offset */
	uint64_t vaddr;      /* p_vaddr */
	uint64_t filesz;     /* p_filesz */
	uint64_t memsz;      /* p_memsz */
	uint32_t flags;      /* p_flags (PF_X, PF_W, PF_R) */
};

struct elf_symbol {
	uint64_t addr;       /* st_value */
	uint64_t end;        /* one past the last address it covers */
	uint32_t name;       /* offset in the object's string arena */
};

struct elf_object {
	const char *build_id;        /* lowercase hex, "" when none */
	struct elf_segment *segs;
	size_t nsegs;
	struct elf_symbol *syms;     /* sorted by addr, addresses distinct */
	size_t nsyms;
	enum elf_symtab_kind symtab; /* which table syms came from */
	char *strings;               /* arena: build-id and symbol names */
	size_t bytes;                /* memory held, for the cache's cap */
};

/* Parses the ELF file open on fd (read with pread; the fd position is not
 * used and fd stays open, owned by the caller). Returns 0, -ENOEXEC when it
 * is not an ELF executable or shared object, -EINVAL when libelf cannot
 * read it, or -ENOMEM. Does not log. */
int elf_object_open_fd(int fd, struct elf_object **out);

/* Reads only what identifies the file's contents, cheaply (notes and
 * section headers): the build-id as lowercase hex into hex (hexsz >= 2 *
 * 64 + 1; "" when none) and whether it has a full .symtab. 0, -ENOEXEC,
 * -EINVAL or -ENOMEM. */
int elf_object_peek_fd(int fd, char *hex, size_t hexsz, bool *has_symtab);

/* Same, from an image in memory (e.g. the [vdso] read from a process). The
 * image is not referenced after the call returns. */
int elf_object_open_mem(const void *image, size_t size, struct elf_object **out);

void elf_object_free(struct elf_object *o);

/* ELF virtual address of a file offset, through the PT_LOAD segment whose
 * file bytes contain it (an executable one if several do). Returns 0 or
 * -ENOENT when no segment maps that offset. */
int elf_object_file_to_vaddr(const struct elf_object *o, uint64_t file_off,
			     uint64_t *vaddr);

/* The function containing vaddr, or NULL (see the extent rules above). */
const struct elf_symbol *elf_object_lookup(const struct elf_object *o, uint64_t vaddr);

static inline const char *elf_object_name(const struct elf_object *o,
					  const struct elf_symbol *s)
{
	return o->strings + s->name;
}

/* The next section after scn (NULL: the first) with contents in the file
 * (not SHT_NOBITS) and a name; its header in *sh. NULL at the end. */
Elf_Scn *elf_next_section(Elf *elf, Elf_Scn *scn, GElf_Shdr *sh, const char **name);

/* Whether the ELF file has DWARF (.debug_info, or the old compressed
 * .zdebug_info) with contents: what a separate debug file must have. */
bool elf_has_debug_info(Elf *elf);

#endif
