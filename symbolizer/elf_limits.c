/* elf_limits.c - see elf_limits.h.
 *
 * Reads, with pread: the ELF header, the program headers (PT_NOTE sizes),
 * the section headers and the section-name table (itself capped), then
 * adds up what the symbolizer's readers would ask libelf/libdw for: symbol
 * and string tables, notes, CFI, and DWARF at its uncompressed size (from
 * the Elf_Chdr of SHF_COMPRESSED sections, or the "ZLIB" header of GNU
 * .zdebug_* ones). Little-endian only (x86-64), both ELF classes.
 */
#include "elf_limits.h"

#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SHSTRTAB_BYTES (1u << 20)

struct hdr {
	bool is64;
	uint64_t size;           /* of the file */
	uint64_t phoff, shoff;
	unsigned phentsize, phnum, shentsize, shnum, shstrndx;
};

static uint64_t le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static int read_at(int fd, void *buf, size_t len, uint64_t off, uint64_t size)
{
	if (off > size || len > size - off)
		return -EINVAL;
	return pread(fd, buf, len, (off_t)off) == (ssize_t)len ? 0 : -EINVAL;
}

static int too_big(char *why, size_t whysz, const char *what, uint64_t have, uint64_t cap)
{
	if (why && whysz)
		snprintf(why, whysz, "%s: %llu, over the cap of %llu", what,
			 (unsigned long long)have, (unsigned long long)cap);
	return -E2BIG;
}

static int read_header(int fd, uint64_t size, struct hdr *h, char *why, size_t whysz)
{
	uint8_t e[64];

	if (size < EI_NIDENT || pread(fd, e, sizeof(e), 0) < (ssize_t)EI_NIDENT ||
	    memcmp(e, ELFMAG, SELFMAG))
		return -ENOEXEC;
	if ((e[EI_CLASS] != ELFCLASS32 && e[EI_CLASS] != ELFCLASS64) ||
	    e[EI_DATA] != ELFDATA2LSB)
		return -ENOEXEC;
	h->is64 = e[EI_CLASS] == ELFCLASS64;
	if (size < (h->is64 ? 64u : 52u))
		return -EINVAL;
	h->size = size;
	if (h->is64) {
		h->phoff = le(e + 32, 8);
		h->shoff = le(e + 40, 8);
		h->phentsize = (unsigned)le(e + 54, 2);
		h->phnum = (unsigned)le(e + 56, 2);
		h->shentsize = (unsigned)le(e + 58, 2);
		h->shnum = (unsigned)le(e + 60, 2);
		h->shstrndx = (unsigned)le(e + 62, 2);
	} else {
		h->phoff = le(e + 28, 4);
		h->shoff = le(e + 32, 4);
		h->phentsize = (unsigned)le(e + 42, 2);
		h->phnum = (unsigned)le(e + 44, 2);
		h->shentsize = (unsigned)le(e + 46, 2);
		h->shnum = (unsigned)le(e + 48, 2);
		h->shstrndx = (unsigned)le(e + 50, 2);
	}
	/* Extended numbering (counts kept in section 0) is only needed past
	 * 65,279 sections: far over the cap either way. */
	if ((h->shnum == 0 && h->shoff) || h->shnum > ELF_MAX_SECTIONS)
		return too_big(why, whysz, "sections", h->shnum ? h->shnum : 65536,
			       ELF_MAX_SECTIONS);
	if (h->phnum == PN_XNUM || h->phnum > ELF_MAX_SEGMENTS)
		return too_big(why, whysz, "program headers", h->phnum, ELF_MAX_SEGMENTS);
	if ((h->phnum && h->phentsize != (h->is64 ? 56u : 32u)) ||
	    (h->shnum && h->shentsize != (h->is64 ? 64u : 40u)))
		return -EINVAL;
	return 0;
}

static int check_notes(int fd, const struct hdr *h, char *why, size_t whysz)
{
	uint8_t ph[56];

	for (unsigned i = 0; i < h->phnum; i++) {
		uint64_t filesz;

		if (read_at(fd, ph, h->phentsize, h->phoff + (uint64_t)i * h->phentsize, h->size))
			return -EINVAL;
		if (le(ph, 4) != PT_NOTE)
			continue;
		filesz = h->is64 ? le(ph + 32, 8) : le(ph + 16, 4);
		if (filesz > ELF_MAX_NOTE_BYTES)
			return too_big(why, whysz, "PT_NOTE bytes", filesz, ELF_MAX_NOTE_BYTES);
	}
	return 0;
}

struct shdr {
	uint64_t type, flags, offset, size;
	uint32_t name, link;
};

static void get_shdr(const struct hdr *h, const uint8_t *p, struct shdr *s)
{
	if (h->is64)
		*s = (struct shdr){ .name = (uint32_t)le(p, 4), .type = le(p + 4, 4),
				    .flags = le(p + 8, 8), .offset = le(p + 24, 8),
				    .size = le(p + 32, 8), .link = (uint32_t)le(p + 40, 4) };
	else
		*s = (struct shdr){ .name = (uint32_t)le(p, 4), .type = le(p + 4, 4),
				    .flags = le(p + 8, 4), .offset = le(p + 16, 4),
				    .size = le(p + 20, 4), .link = (uint32_t)le(p + 24, 4) };
}

/* The size a reader gets after decompression: the Elf_Chdr's, or the
 * 8-byte big-endian size after "ZLIB" in a GNU .zdebug_* section. */
static int inflated_size(int fd, const struct hdr *h, const struct shdr *s, bool gnu,
			 uint64_t *out)
{
	uint8_t c[24];

	*out = s->size;
	if (gnu) {
		if (s->size < 12 || read_at(fd, c, 12, s->offset, h->size) || memcmp(c, "ZLIB", 4))
			return 0; /* not compressed after all: libdw reads it as is */
		*out = 0;
		for (int i = 4; i < 12; i++)
			*out = *out << 8 | c[i];
		return 0;
	}
	if (!(s->flags & SHF_COMPRESSED))
		return 0;
	if (read_at(fd, c, h->is64 ? 24 : 12, s->offset, h->size))
		return -EINVAL;
	*out = h->is64 ? le(c + 8, 8) : le(c + 4, 4);
	return 0;
}

static const char *name_of(const char *names, uint64_t nlen, uint32_t off)
{
	if (!names || off >= nlen || !memchr(names + off, '\0', nlen - off))
		return "";
	return names + off;
}

static int check_sections(int fd, const struct hdr *h, const uint8_t *tab,
			  const char *names, uint64_t nlen, char *why, size_t whysz)
{
	uint64_t dwarf = 0;
	int err;

	for (unsigned i = 0; i < h->shnum; i++) {
		struct shdr s, l;
		const char *name;
		uint64_t size;
		bool gnu;

		get_shdr(h, tab + (size_t)i * h->shentsize, &s);
		if (s.type == SHT_NOBITS)
			continue;
		name = name_of(names, nlen, s.name);
		gnu = !strncmp(name, ".zdebug", 7);
		err = inflated_size(fd, h, &s, gnu, &size);
		if (err)
			return err;
		if ((s.type == SHT_SYMTAB || s.type == SHT_DYNSYM)) {
			if (size > ELF_MAX_SYMTAB_BYTES)
				return too_big(why, whysz, "symbol table bytes", size,
					       ELF_MAX_SYMTAB_BYTES);
			if (s.link < h->shnum) {
				get_shdr(h, tab + (size_t)s.link * h->shentsize, &l);
				if (l.size > ELF_MAX_STRTAB_BYTES)
					return too_big(why, whysz, "symbol name bytes", l.size,
						       ELF_MAX_STRTAB_BYTES);
			}
		}
		if (s.type == SHT_NOTE && size > ELF_MAX_NOTE_BYTES)
			return too_big(why, whysz, "note bytes", size, ELF_MAX_NOTE_BYTES);
		if ((!strcmp(name, ".eh_frame") || !strcmp(name, ".debug_frame")) &&
		    size > ELF_MAX_CFI_BYTES)
			return too_big(why, whysz, "CFI bytes", size, ELF_MAX_CFI_BYTES);
		if (!strncmp(name, ".debug_", 7) || gnu) {
			dwarf += size;
			if (dwarf < size || dwarf > ELF_MAX_DWARF_BYTES)
				return too_big(why, whysz, "DWARF bytes", dwarf < size ? UINT64_MAX : dwarf,
					       ELF_MAX_DWARF_BYTES);
		}
	}
	return 0;
}

int elf_limits_check(int fd, uint64_t size, char *why, size_t whysz)
{
	struct hdr h;
	struct shdr str;
	uint8_t *tab = NULL;
	char *names = NULL;
	uint64_t nlen = 0;
	int err;

	if (why && whysz)
		why[0] = '\0';
	if (size > ELF_MAX_FILE_BYTES)
		return too_big(why, whysz, "file bytes", size, ELF_MAX_FILE_BYTES);
	err = read_header(fd, size, &h, why, whysz);
	if (!err)
		err = check_notes(fd, &h, why, whysz);
	if (err || !h.shnum)
		return err;
	tab = malloc((size_t)h.shnum * h.shentsize);
	if (!tab)
		return -ENOMEM;
	err = read_at(fd, tab, (size_t)h.shnum * h.shentsize, h.shoff, size);
	if (!err && h.shstrndx < h.shnum) {
		get_shdr(&h, tab + (size_t)h.shstrndx * h.shentsize, &str);
		if (str.size > MAX_SHSTRTAB_BYTES) {
			err = too_big(why, whysz, "section name bytes", str.size,
				      MAX_SHSTRTAB_BYTES);
		} else if (str.type != SHT_NOBITS && str.size) {
			names = malloc(str.size);
			nlen = str.size;
			if (!names)
				err = -ENOMEM;
			else if (read_at(fd, names, str.size, str.offset, size))
				err = -EINVAL;
		}
	}
	if (!err)
		err = check_sections(fd, &h, tab, names, nlen, why, whysz);
	free(names);
	free(tab);
	return err;
}
