/* test_elf_limits.c - elf_limits_check() on headers built here, in both
 * ELF classes: a plain object passes; each cap, one over it, is refused
 * with its name; inconsistent headers are -EINVAL, non-ELF -ENOEXEC.
 *
 * Every image is described once with the 64-bit structures of <elf.h> and
 * written in the class under test by plain struct assignment, so the
 * compiler's layout of Elf32_* is the reference the checker's field table
 * is held to. Images live in a memfd: nothing is written to disk.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create */
#endif
#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "elf_limits.h"

#define PH_OFF 64
#define NAMES_OFF 1024
#define CHDR_OFF 2048
#define ZLIB_OFF 3072
#define SH_OFF 4096
#define NSECT 9

enum { S_NAMES = 1, S_SYMTAB, S_STRTAB, S_NOTE, S_EH_FRAME, S_DEBUG, S_ZDEBUG, S_BSS };

static const char names[] = "\0.shstrtab\0.symtab\0.strtab\0.note.gnu.build-id\0.eh_frame\0"
			    ".debug_info\0.zdebug_line\0.bss\0.debug_frame";

/* An image: its headers in 64-bit form and what the sections hold. */
struct image {
	unsigned char ident_class, ident_data;
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	Elf64_Shdr sh[NSECT];
	Elf64_Chdr chdr;   /* at CHDR_OFF, for .debug_info */
	uint64_t zlib_len; /* after "ZLIB" at ZLIB_OFF, for .zdebug_line */
	uint64_t file_size; /* given to the check; 0: the real size */
};

static uint32_t name_off(const char *name)
{
	for (size_t i = 1; i < sizeof(names); i += strlen(names + i) + 1)
		if (!strcmp(names + i, name))
			return (uint32_t)i;
	return 0;
}

static void section(struct image *im, int i, const char *name, uint32_t type, uint64_t off,
		    uint64_t size)
{
	im->sh[i] = (Elf64_Shdr){ .sh_name = name_off(name), .sh_type = type, .sh_offset = off,
				  .sh_size = size };
}

/* A small object that passes every cap. */
static void plain(struct image *im)
{
	memset(im, 0, sizeof(*im));
	im->ident_data = ELFDATA2LSB;
	im->eh = (Elf64_Ehdr){ .e_type = ET_DYN, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
			       .e_phoff = PH_OFF, .e_shoff = SH_OFF, .e_phnum = 1,
			       .e_shnum = NSECT, .e_shstrndx = S_NAMES };
	im->ph = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = 512, .p_filesz = 36 };
	section(im, S_NAMES, ".shstrtab", SHT_STRTAB, NAMES_OFF, sizeof(names));
	section(im, S_SYMTAB, ".symtab", SHT_SYMTAB, 512, 4 * 24);
	im->sh[S_SYMTAB].sh_link = S_STRTAB;
	section(im, S_STRTAB, ".strtab", SHT_STRTAB, 512, 64);
	section(im, S_NOTE, ".note.gnu.build-id", SHT_NOTE, 512, 36);
	section(im, S_EH_FRAME, ".eh_frame", SHT_PROGBITS, 512, 256);
	section(im, S_DEBUG, ".debug_info", SHT_PROGBITS, CHDR_OFF, 100);
	section(im, S_ZDEBUG, ".zdebug_line", SHT_PROGBITS, ZLIB_OFF, 100);
	section(im, S_BSS, ".bss", SHT_NOBITS, 0, 1ull << 31); /* no bytes in the file */
	im->chdr = (Elf64_Chdr){ .ch_type = ELFCOMPRESS_ZLIB, .ch_size = 1000 };
	im->zlib_len = 1000;
}

/* Writes im in its class into fd; returns the file's size. */
static uint64_t write_image(int fd, const struct image *im)
{
	static unsigned char buf[SH_OFF + NSECT * sizeof(Elf64_Shdr)];
	bool is64 = im->ident_class == ELFCLASS64;
	const Elf64_Ehdr *e = &im->eh;
	size_t shsize = is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);

	memset(buf, 0, sizeof(buf));
	if (is64) {
		memcpy(buf, e, sizeof(*e));
		memcpy(buf + PH_OFF, &im->ph, sizeof(im->ph));
		memcpy(buf + CHDR_OFF, &im->chdr, sizeof(im->chdr));
		memcpy(buf + SH_OFF, im->sh, sizeof(im->sh));
	} else {
		Elf32_Ehdr e32 = { .e_type = e->e_type, .e_machine = e->e_machine,
				   .e_version = e->e_version, .e_phoff = (Elf32_Off)e->e_phoff,
				   .e_shoff = (Elf32_Off)e->e_shoff, .e_ehsize = sizeof(e32),
				   .e_phentsize = sizeof(Elf32_Phdr), .e_phnum = e->e_phnum,
				   .e_shentsize = sizeof(Elf32_Shdr), .e_shnum = e->e_shnum,
				   .e_shstrndx = e->e_shstrndx };
		Elf32_Phdr p32 = { .p_type = im->ph.p_type, .p_offset = (Elf32_Off)im->ph.p_offset,
				   .p_filesz = (Elf32_Word)im->ph.p_filesz };
		Elf32_Chdr c32 = { .ch_type = im->chdr.ch_type,
				   .ch_size = (Elf32_Word)im->chdr.ch_size };

		if (e->e_phentsize)
			e32.e_phentsize = e->e_phentsize;
		if (e->e_shentsize)
			e32.e_shentsize = e->e_shentsize;
		memcpy(buf, &e32, sizeof(e32));
		memcpy(buf + PH_OFF, &p32, sizeof(p32));
		memcpy(buf + CHDR_OFF, &c32, sizeof(c32));
		for (int i = 0; i < NSECT; i++) {
			const Elf64_Shdr *s = &im->sh[i];
			Elf32_Shdr s32 = { .sh_name = s->sh_name, .sh_type = s->sh_type,
					   .sh_flags = (Elf32_Word)s->sh_flags,
					   .sh_offset = (Elf32_Off)s->sh_offset,
					   .sh_size = (Elf32_Word)s->sh_size, .sh_link = s->sh_link };

			memcpy(buf + SH_OFF + i * sizeof(s32), &s32, sizeof(s32));
		}
	}
	if (is64) { /* the 64-bit sizes, unless the case set them */
		Elf64_Ehdr *out = (Elf64_Ehdr *)buf;

		out->e_ehsize = sizeof(Elf64_Ehdr);
		out->e_phentsize = e->e_phentsize ? e->e_phentsize : sizeof(Elf64_Phdr);
		out->e_shentsize = e->e_shentsize ? e->e_shentsize : sizeof(Elf64_Shdr);
	}
	memcpy(buf, ELFMAG, SELFMAG);
	buf[EI_CLASS] = im->ident_class;
	buf[EI_DATA] = im->ident_data;
	buf[EI_VERSION] = EV_CURRENT;
	memcpy(buf + NAMES_OFF, names, sizeof(names));
	memcpy(buf + ZLIB_OFF, "ZLIB", 4);
	for (int i = 0; i < 8; i++)
		buf[ZLIB_OFF + 4 + i] = (unsigned char)(im->zlib_len >> (56 - 8 * i));
	size_t len = SH_OFF + NSECT * shsize;

	if (ftruncate(fd, 0) || pwrite(fd, buf, len, 0) != (ssize_t)len)
		return 0;
	return len;
}

static void expect(int fd, const char *what, const struct image *im, int want, const char *why)
{
	char got[160];
	uint64_t len = write_image(fd, im);
	int err = elf_limits_check(fd, im->file_size ? im->file_size : len, got, sizeof(got));
	const char *cls = im->ident_class == ELFCLASS64 ? "64" : "32";

	CHECK(len && err == want && (why ? strstr(got, why) != NULL : !got[0]),
	      "ELF%s %s: %d '%s', want %d '%s'", cls, what, err, got, want, why ? why : "");
}

int main(void)
{
	int fd = memfd_create("elf_limits", MFD_CLOEXEC);
	struct image im;

	CHECK(fd >= 0, "memfd_create");
	for (int c = 0; c < 2 && fd >= 0; c++) {
		unsigned char cls = c ? ELFCLASS64 : ELFCLASS32;

#define CASE(what, change, want, why)                \
	do {                                         \
		plain(&im);                          \
		im.ident_class = cls;                \
		change;                              \
		expect(fd, what, &im, want, why);    \
	} while (0)
		CASE("plain object", (void)0, 0, NULL);
		CASE("no section headers", (im.eh.e_shnum = 0, im.eh.e_shoff = 0), 0, NULL);
		CASE("big-endian", im.ident_data = ELFDATA2MSB, -ENOEXEC, NULL);
		CASE("class 3", im.ident_class = 3, -ENOEXEC, NULL);
		CASE("file shorter than its header", im.file_size = 40, -EINVAL, NULL);
		CASE("file over 8 GiB", im.file_size = ELF_MAX_FILE_BYTES + 1, -E2BIG, "file bytes");
		CASE("4097 sections", im.eh.e_shnum = ELF_MAX_SECTIONS + 1, -E2BIG, "sections");
		CASE("extended section numbering", im.eh.e_shnum = 0, -E2BIG, "sections: 65536");
		CASE("1025 program headers", im.eh.e_phnum = ELF_MAX_SEGMENTS + 1, -E2BIG,
		     "program headers");
		CASE("PN_XNUM program headers", im.eh.e_phnum = PN_XNUM, -E2BIG, "program headers");
		CASE("odd program header size", im.eh.e_phentsize = 48, -EINVAL, NULL);
		CASE("odd section header size", im.eh.e_shentsize = 48, -EINVAL, NULL);
		CASE("program headers past the end", im.eh.e_phoff = 1u << 30, -EINVAL, NULL);
		CASE("section headers past the end", im.eh.e_shoff = 1u << 30, -EINVAL, NULL);
		CASE("PT_NOTE of 1 MiB + 1", im.ph.p_filesz = ELF_MAX_NOTE_BYTES + 1, -E2BIG,
		     "PT_NOTE bytes");
		CASE("section names of 1 MiB + 1", im.sh[S_NAMES].sh_size = (1u << 20) + 1, -E2BIG,
		     "section name bytes");
		CASE("section names past the end", im.sh[S_NAMES].sh_offset = 1u << 30, -EINVAL, NULL);
		CASE(".symtab over 96 MiB", im.sh[S_SYMTAB].sh_size = ELF_MAX_SYMTAB_BYTES + 1,
		     -E2BIG, "symbol table bytes");
		CASE(".dynsym over 96 MiB",
		     (im.sh[S_SYMTAB].sh_type = SHT_DYNSYM,
		      im.sh[S_SYMTAB].sh_size = ELF_MAX_SYMTAB_BYTES + 1),
		     -E2BIG, "symbol table bytes");
		CASE("its names over 256 MiB", im.sh[S_STRTAB].sh_size = ELF_MAX_STRTAB_BYTES + 1,
		     -E2BIG, "symbol name bytes");
		CASE("a note section over 1 MiB", im.sh[S_NOTE].sh_size = ELF_MAX_NOTE_BYTES + 1,
		     -E2BIG, "note bytes");
		CASE(".eh_frame over 128 MiB", im.sh[S_EH_FRAME].sh_size = ELF_MAX_CFI_BYTES + 1,
		     -E2BIG, "CFI bytes");
		CASE(".debug_frame over 128 MiB",
		     (im.sh[S_EH_FRAME].sh_name = name_off(".debug_frame"),
		      im.sh[S_EH_FRAME].sh_size = ELF_MAX_CFI_BYTES + 1),
		     -E2BIG, "CFI bytes");
		CASE("compressed .debug_info of 3 GiB",
		     (im.sh[S_DEBUG].sh_flags = SHF_COMPRESSED, im.chdr.ch_size = 3ull << 30), -E2BIG,
		     "DWARF bytes: 3221225472");
		CASE("compressed .debug_info of 1000 bytes", im.sh[S_DEBUG].sh_flags = SHF_COMPRESSED,
		     0, NULL);
		CASE("compression header past the end",
		     (im.sh[S_DEBUG].sh_flags = SHF_COMPRESSED, im.sh[S_DEBUG].sh_offset = 1u << 30),
		     -EINVAL, NULL);
		CASE(".zdebug_line of 3 GiB", im.zlib_len = 3ull << 30, -E2BIG,
		     "DWARF bytes: 3221225572"); /* + .debug_info's 100 */
		CASE(".debug_info + .zdebug_line over 2 GiB",
		     (im.sh[S_DEBUG].sh_size = 1ull << 30, im.zlib_len = (1ull << 30) + 1), -E2BIG,
		     "DWARF bytes: 2147483649");
		CASE(".bss of 2 GiB (no bytes)", im.sh[S_BSS].sh_size = 1ull << 31, 0, NULL);
#undef CASE
	}
	if (fd >= 0)
		close(fd);
	return check_summary();
}
