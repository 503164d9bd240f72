/* elf_limits.c - see elf_limits.h.
 *
 * Reads, with pread: the ELF header, the program headers (PT_NOTE sizes),
 * the section headers and the section-name table (itself capped), then
 * adds up what the symbolizer's readers would ask libelf/libdw for: symbol
 * and string tables, notes, CFI, and DWARF at its uncompressed size (from
 * the Elf_Chdr of SHF_COMPRESSED sections, or the "ZLIB" header of GNU
 * .zdebug_* ones). Little-endian only (x86-64), both ELF classes: one
 * code path reads either, through a table of where each field lies in the
 * class's structures, taken from <elf.h> with offsetof and sizeof.
 */
#include "elf_limits.h"

#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SHSTRTAB_BYTES (1u << 20)

/* Where a field lies in a structure: offset and size in bytes. */
struct field {
	uint8_t off, len;
};

/* One ELF class's structures. */
struct layout {
	unsigned ehdr, phdr, shdr, chdr; /* sizes */
	struct field phoff, shoff, phentsize, phnum, shentsize, shnum, shstrndx;
	struct field p_type, p_filesz;
	struct field sh_name, sh_type, sh_flags, sh_offset, sh_size, sh_link;
	struct field ch_size;
};

#define FIELD(type, member) { offsetof(type, member), sizeof(((type *)0)->member) }
#define LAYOUT(bits)                                                                   \
	{                                                                              \
		.ehdr = sizeof(Elf##bits##_Ehdr), .phdr = sizeof(Elf##bits##_Phdr),      \
		.shdr = sizeof(Elf##bits##_Shdr), .chdr = sizeof(Elf##bits##_Chdr),      \
		.phoff = FIELD(Elf##bits##_Ehdr, e_phoff),                             \
		.shoff = FIELD(Elf##bits##_Ehdr, e_shoff),                             \
		.phentsize = FIELD(Elf##bits##_Ehdr, e_phentsize),                     \
		.phnum = FIELD(Elf##bits##_Ehdr, e_phnum),                             \
		.shentsize = FIELD(Elf##bits##_Ehdr, e_shentsize),                     \
		.shnum = FIELD(Elf##bits##_Ehdr, e_shnum),                             \
		.shstrndx = FIELD(Elf##bits##_Ehdr, e_shstrndx),                       \
		.p_type = FIELD(Elf##bits##_Phdr, p_type),                             \
		.p_filesz = FIELD(Elf##bits##_Phdr, p_filesz),                         \
		.sh_name = FIELD(Elf##bits##_Shdr, sh_name),                           \
		.sh_type = FIELD(Elf##bits##_Shdr, sh_type),                           \
		.sh_flags = FIELD(Elf##bits##_Shdr, sh_flags),                         \
		.sh_offset = FIELD(Elf##bits##_Shdr, sh_offset),                       \
		.sh_size = FIELD(Elf##bits##_Shdr, sh_size),                           \
		.sh_link = FIELD(Elf##bits##_Shdr, sh_link),                           \
		.ch_size = FIELD(Elf##bits##_Chdr, ch_size),                           \
	}

static const struct layout elf32 = LAYOUT(32), elf64 = LAYOUT(64);

struct hdr {
	const struct layout *l;  /* the file's class */
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

/* Field f of the structure at p. */
static uint64_t get(const uint8_t *p, struct field f)
{
	return le(p + f.off, f.len);
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
	uint8_t e[sizeof(Elf64_Ehdr)];
	const struct layout *l;

	if (size < EI_NIDENT || pread(fd, e, sizeof(e), 0) < (ssize_t)EI_NIDENT ||
	    memcmp(e, ELFMAG, SELFMAG))
		return -ENOEXEC;
	if ((e[EI_CLASS] != ELFCLASS32 && e[EI_CLASS] != ELFCLASS64) ||
	    e[EI_DATA] != ELFDATA2LSB)
		return -ENOEXEC;
	h->l = l = e[EI_CLASS] == ELFCLASS64 ? &elf64 : &elf32;
	if (size < l->ehdr)
		return -EINVAL;
	h->size = size;
	h->phoff = get(e, l->phoff);
	h->shoff = get(e, l->shoff);
	h->phentsize = (unsigned)get(e, l->phentsize);
	h->phnum = (unsigned)get(e, l->phnum);
	h->shentsize = (unsigned)get(e, l->shentsize);
	h->shnum = (unsigned)get(e, l->shnum);
	h->shstrndx = (unsigned)get(e, l->shstrndx);
	/* Extended numbering (counts kept in section 0) is only needed past
	 * 65,279 sections: far over the cap either way. */
	if ((h->shnum == 0 && h->shoff) || h->shnum > ELF_MAX_SECTIONS)
		return too_big(why, whysz, "sections", h->shnum ? h->shnum : 65536,
			       ELF_MAX_SECTIONS);
	if (h->phnum == PN_XNUM || h->phnum > ELF_MAX_SEGMENTS)
		return too_big(why, whysz, "program headers", h->phnum, ELF_MAX_SEGMENTS);
	if ((h->phnum && h->phentsize != l->phdr) || (h->shnum && h->shentsize != l->shdr))
		return -EINVAL;
	return 0;
}

static int check_notes(int fd, const struct hdr *h, char *why, size_t whysz)
{
	uint8_t ph[sizeof(Elf64_Phdr)];

	for (unsigned i = 0; i < h->phnum; i++) {
		uint64_t filesz;

		if (read_at(fd, ph, h->phentsize, h->phoff + (uint64_t)i * h->phentsize, h->size))
			return -EINVAL;
		if (get(ph, h->l->p_type) != PT_NOTE)
			continue;
		filesz = get(ph, h->l->p_filesz);
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
	const struct layout *l = h->l;

	*s = (struct shdr){ .name = (uint32_t)get(p, l->sh_name), .type = get(p, l->sh_type),
			    .flags = get(p, l->sh_flags), .offset = get(p, l->sh_offset),
			    .size = get(p, l->sh_size), .link = (uint32_t)get(p, l->sh_link) };
}

/* The size a reader gets after decompression: the Elf_Chdr's, or the
 * 8-byte big-endian size after "ZLIB" in a GNU .zdebug_* section. */
static int inflated_size(int fd, const struct hdr *h, const struct shdr *s, bool gnu,
			 uint64_t *out)
{
	uint8_t c[sizeof(Elf64_Chdr)];

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
	if (read_at(fd, c, h->l->chdr, s->offset, h->size))
		return -EINVAL;
	*out = get(c, h->l->ch_size);
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
