/* elf_limits.h - caps on what one ELF file may make the symbolizer read.
 *
 * Every object any local user maps is parsed as root, and libelf/libdw
 * allocate what the headers say: a sparse 2 GiB file whose .symtab claims
 * 2 GiB drives RSS to 2 GiB, a header table of 60 million sections makes
 * elf_begin() allocate gigabytes, a compressed .debug_info can claim any
 * size. elf_limits_check() reads the ELF and section headers itself, with
 * pread and bounds checks, BEFORE libelf or libdw see the file, and
 * refuses a file over any cap. The caps are far above real binaries (on
 * the development machine the largest object, libLLVM-15, has 46,000
 * dynamic symbols and a 5 MiB .eh_frame) and low enough that one hostile
 * file costs a bounded, known amount of memory while it is parsed.
 */
#ifndef BPFPROF_SYM_ELF_LIMITS_H
#define BPFPROF_SYM_ELF_LIMITS_H

#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_FILE_BYTES (8ull << 30)    /* the file itself */
#define ELF_MAX_SECTIONS 4096              /* linked objects have < 100 */
#define ELF_MAX_SEGMENTS 1024              /* program headers */
#define ELF_MAX_SYMTAB_BYTES (96u << 20)   /* 4 M symbols of 24 bytes */
#define ELF_MAX_STRTAB_BYTES (256u << 20)  /* their names */
#define ELF_MAX_NOTE_BYTES (1u << 20)      /* a build-id note is 36 bytes */
#define ELF_MAX_CFI_BYTES (128u << 20)     /* .eh_frame / .debug_frame */
#define ELF_MAX_DWARF_BYTES (2ull << 30)   /* all .debug_*, uncompressed */

/* Checks the ELF file open on fd (size bytes long). Returns 0, -ENOEXEC
 * when it is not ELF, -EINVAL when its headers are inconsistent, or -E2BIG
 * with the cap it exceeds named in why (whysz bytes; may be NULL). Does
 * not log, keeps nothing. */
int elf_limits_check(int fd, uint64_t size, char *why, size_t whysz);

#endif
