/* elf_object.c - see elf_object.h.
 *
 * Reading happens in three passes over one Elf handle: notes (build-id),
 * program headers (PT_LOAD), then one symbol table into a temporary array
 * of candidates that still point at libelf's string table. The candidates
 * are sorted (address, then alias preference), collapsed to one per
 * address, given their extent, and copied with their names into the final
 * compact arrays before elf_end(). The handle is opened with ELF_C_READ so
 * libelf reads with pread() instead of mapping the file: a file truncated
 * under us gives an error, not SIGBUS.
 */
#include "elf_object.h"

#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#ifndef NT_GNU_BUILD_ID
#define NT_GNU_BUILD_ID 3
#endif

struct cand {
	uint64_t addr;
	uint64_t size;
	uint64_t sec_end;   /* end of the symbol's section, 0 if unknown */
	const char *name;   /* libelf's, valid until elf_end() */
	int rank;           /* 0 global, 1 weak, 2 local */
};

struct build {
	const unsigned char *id; /* build-id bytes, libelf's */
	size_t id_len;
	struct elf_segment *segs;
	size_t nsegs;
	struct cand *cands;
	size_t ncands;
	enum elf_symtab_kind symtab;
};

static int libelf_init(void)
{
	static bool done;

	if (!done) {
		if (elf_version(EV_CURRENT) == EV_NONE)
			return -EINVAL;
		done = true;
	}
	return 0;
}

/* Looks for the GNU build-id note in one block of notes. */
static bool find_build_id(Elf_Data *d, struct build *b)
{
	size_t off = 0, next, name_off, desc_off;
	GElf_Nhdr nh;

	if (!d || !d->d_buf)
		return false;
	while (off < d->d_size &&
	       (next = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
		    nh.n_descsz > 0 &&
		    !memcmp((const char *)d->d_buf + name_off, "GNU", 4)) {
			b->id = (const unsigned char *)d->d_buf + desc_off;
			b->id_len = nh.n_descsz;
			return true;
		}
		off = next;
	}
	return false;
}

/* PT_NOTE segments first (all a loaded image is sure to have), then
 * SHT_NOTE sections. */
static void read_build_id(Elf *elf, struct build *b)
{
	size_t phnum = 0;
	Elf_Scn *scn = NULL;

	if (elf_getphdrnum(elf, &phnum) == 0) {
		for (size_t i = 0; i < phnum; i++) {
			GElf_Phdr ph;
			Elf_Data *d;

			if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_NOTE)
				continue;
			d = elf_getdata_rawchunk(elf, (int64_t)ph.p_offset, ph.p_filesz,
						 ph.p_align == 8 ? ELF_T_NHDR8 : ELF_T_NHDR);
			if (find_build_id(d, b))
				return;
		}
	}
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		if (find_build_id(elf_getdata(scn, NULL), b))
			return;
	}
}

static int read_segments(Elf *elf, struct build *b)
{
	size_t phnum;

	if (elf_getphdrnum(elf, &phnum) != 0)
		return -EINVAL;
	if (!phnum)
		return 0;
	b->segs = calloc(phnum, sizeof(*b->segs));
	if (!b->segs)
		return -ENOMEM;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD ||
		    ph.p_filesz == 0)
			continue;
		b->segs[b->nsegs++] = (struct elf_segment){
			.offset = ph.p_offset,
			.vaddr = ph.p_vaddr,
			.filesz = ph.p_filesz,
			.memsz = ph.p_memsz,
			.flags = ph.p_flags,
		};
	}
	return 0;
}

static uint64_t section_end(Elf *elf, size_t shndx)
{
	Elf_Scn *scn = elf_getscn(elf, shndx);
	GElf_Shdr sh;

	if (!scn || !gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_ALLOC))
		return 0;
	if (sh.sh_addr + sh.sh_size < sh.sh_addr)
		return UINT64_MAX;
	return sh.sh_addr + sh.sh_size;
}

/* Appends the function symbols of one SYMTAB/DYNSYM section to b->cands. */
static int read_symbols(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh, struct build *b)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t entsz = gelf_fsize(elf, ELF_T_SYM, 1, EV_CURRENT);
	size_t count;

	if (!d || !entsz)
		return 0;
	count = d->d_size / entsz;
	if (!count)
		return 0;
	b->cands = calloc(count, sizeof(*b->cands));
	if (!b->cands)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++) {
		GElf_Sym sym;
		const char *name;
		int type, bind;

		if (!gelf_getsym(d, (int)i, &sym))
			continue;
		type = GELF_ST_TYPE(sym.st_info);
		if (type != STT_FUNC && type != STT_GNU_IFUNC)
			continue;
		if (!sym.st_value || sym.st_shndx == SHN_UNDEF ||
		    (sym.st_shndx >= SHN_LORESERVE && sym.st_shndx != SHN_XINDEX))
			continue;
		name = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		bind = GELF_ST_BIND(sym.st_info);
		b->cands[b->ncands++] = (struct cand){
			.addr = sym.st_value,
			.size = sym.st_size,
			.sec_end = sym.st_shndx == SHN_XINDEX ? 0 : section_end(elf, sym.st_shndx),
			.name = name,
			.rank = bind == STB_GLOBAL || bind == STB_GNU_UNIQUE ? 0
				: bind == STB_WEAK			    ? 1
									    : 2,
		};
	}
	return 0;
}

/* .symtab when it has functions, else .dynsym. */
static int read_symtab(Elf *elf, struct build *b)
{
	Elf_Scn *scn = NULL, *symtab = NULL, *dynsym = NULL;
	GElf_Shdr sh_symtab, sh_dynsym, sh;
	int err;

	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB && !symtab) {
			symtab = scn;
			sh_symtab = sh;
		} else if (sh.sh_type == SHT_DYNSYM && !dynsym) {
			dynsym = scn;
			sh_dynsym = sh;
		}
	}
	if (symtab) {
		err = read_symbols(elf, symtab, &sh_symtab, b);
		if (err)
			return err;
		if (b->ncands) {
			b->symtab = ELF_SYMTAB_SYMTAB;
			return 0;
		}
		free(b->cands);
		b->cands = NULL;
	}
	if (dynsym) {
		err = read_symbols(elf, dynsym, &sh_dynsym, b);
		if (err)
			return err;
		if (b->ncands)
			b->symtab = ELF_SYMTAB_DYNSYM;
	}
	return 0;
}

static size_t leading_underscores(const char *s)
{
	size_t n = 0;

	while (s[n] == '_')
		n++;
	return n;
}

/* Address order; at one address the preferred alias first. */
static int cand_cmp(const void *pa, const void *pb)
{
	const struct cand *a = pa, *b = pb;
	size_t ua, ub;

	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	if (a->rank != b->rank)
		return a->rank - b->rank;
	if ((a->size == 0) != (b->size == 0))
		return a->size == 0 ? 1 : -1;
	ua = leading_underscores(a->name);
	ub = leading_underscores(b->name);
	if (ua != ub)
		return ua < ub ? -1 : 1;
	return strcmp(a->name, b->name);
}

static const char hexdigits[] = "0123456789abcdef";

/* Sorts and collapses the candidates, and moves everything into o. */
static int finish(struct build *b, struct elf_object *o)
{
	size_t arena = 2 * b->id_len + 1, nsyms = 0;
	char *p;

	if (b->ncands)
		qsort(b->cands, b->ncands, sizeof(*b->cands), cand_cmp);
	for (size_t i = 0; i < b->ncands; i++) {
		if (i > 0 && b->cands[i].addr == b->cands[i - 1].addr)
			continue;
		arena += strlen(b->cands[i].name) + 1;
		nsyms++;
	}
	if (arena > UINT32_MAX)
		return -ENOMEM;
	o->strings = malloc(arena);
	if (nsyms)
		o->syms = calloc(nsyms, sizeof(*o->syms));
	if (!o->strings || (nsyms && !o->syms))
		return -ENOMEM;

	p = o->strings;
	for (size_t i = 0; i < b->id_len; i++) {
		*p++ = hexdigits[b->id[i] >> 4];
		*p++ = hexdigits[b->id[i] & 15];
	}
	*p++ = '\0';
	o->build_id = o->strings;

	for (size_t i = 0; i < b->ncands;) {
		const struct cand *c = &b->cands[i];
		uint64_t size = c->size, end;
		size_t j = i + 1, len = strlen(c->name) + 1;

		for (; j < b->ncands && b->cands[j].addr == c->addr; j++)
			if (b->cands[j].size > size)
				size = b->cands[j].size;
		if (size) {
			end = c->addr + size < c->addr ? UINT64_MAX : c->addr + size;
		} else {
			end = j < b->ncands ? b->cands[j].addr : UINT64_MAX;
			if (c->sec_end > c->addr && c->sec_end < end)
				end = c->sec_end;
		}
		o->syms[o->nsyms++] = (struct elf_symbol){
			.addr = c->addr,
			.end = end,
			.name = (uint32_t)(p - o->strings),
		};
		memcpy(p, c->name, len);
		p += len;
		i = j;
	}
	o->symtab = b->symtab;
	o->segs = b->segs;
	o->nsegs = b->nsegs;
	b->segs = NULL;
	o->bytes = sizeof(*o) + arena + o->nsyms * sizeof(*o->syms) +
		   o->nsegs * sizeof(*o->segs);
	return 0;
}

static int open_elf(Elf *elf, struct elf_object **out)
{
	struct build b = { 0 };
	struct elf_object *o = NULL;
	GElf_Ehdr eh;
	int err;

	if (elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh) ||
	    (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)) {
		err = -ENOEXEC;
		goto out;
	}
	o = calloc(1, sizeof(*o));
	if (!o) {
		err = -ENOMEM;
		goto out;
	}
	read_build_id(elf, &b);
	err = read_segments(elf, &b);
	if (!err)
		err = read_symtab(elf, &b);
	if (!err)
		err = finish(&b, o);
out:
	free(b.segs);
	free(b.cands);
	if (err) {
		elf_object_free(o);
		o = NULL;
	}
	*out = o;
	return err;
}

/* An ELF handle reading fd (ELF_C_READ: pread, no mmap); 0 or -errno. */
static int begin_fd(int fd, Elf **elf)
{
	int err = libelf_init();

	if (err)
		return err;
	*elf = elf_begin(fd, ELF_C_READ, NULL);
	return *elf ? 0 : -EINVAL;
}

int elf_object_open_fd(int fd, struct elf_object **out)
{
	Elf *elf;
	int err;

	*out = NULL;
	err = begin_fd(fd, &elf);
	if (err)
		return err;
	err = open_elf(elf, out);
	elf_end(elf);
	return err;
}

int elf_object_peek_fd(int fd, char *hex, size_t hexsz, bool *has_symtab)
{
	struct build b = { 0 };
	Elf_Scn *scn = NULL;
	Elf *elf;
	int err;

	hex[0] = '\0';
	*has_symtab = false;
	err = begin_fd(fd, &elf);
	if (err)
		return err;
	if (elf_kind(elf) != ELF_K_ELF) {
		elf_end(elf);
		return -ENOEXEC;
	}
	read_build_id(elf, &b);
	if (b.id_len && 2 * b.id_len < hexsz) {
		for (size_t i = 0; i < b.id_len; i++) {
			hex[2 * i] = hexdigits[b.id[i] >> 4];
			hex[2 * i + 1] = hexdigits[b.id[i] & 15];
		}
		hex[2 * b.id_len] = '\0';
	}
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;

		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB)
			*has_symtab = true;
	}
	elf_end(elf);
	return 0;
}

int elf_object_open_mem(const void *image, size_t size, struct elf_object **out)
{
	char *copy;
	Elf *elf;
	int err;

	*out = NULL;
	err = libelf_init();
	if (err)
		return err;
	if (!image || !size)
		return -ENOEXEC;
	copy = malloc(size); /* libelf wants a writable image */
	if (!copy)
		return -ENOMEM;
	memcpy(copy, image, size);
	elf = elf_memory(copy, size);
	if (!elf) {
		free(copy);
		return -EINVAL;
	}
	err = open_elf(elf, out);
	elf_end(elf);
	free(copy);
	return err;
}

void elf_object_free(struct elf_object *o)
{
	if (!o)
		return;
	free(o->segs);
	free(o->syms);
	free(o->strings);
	free(o);
}

int elf_object_file_to_vaddr(const struct elf_object *o, uint64_t file_off,
			     uint64_t *vaddr)
{
	const struct elf_segment *found = NULL;

	for (size_t i = 0; i < o->nsegs; i++) {
		const struct elf_segment *s = &o->segs[i];

		if (file_off < s->offset || file_off - s->offset >= s->filesz)
			continue;
		if (!found || (!(found->flags & PF_X) && (s->flags & PF_X)))
			found = s;
	}
	if (!found)
		return -ENOENT;
	*vaddr = file_off - found->offset + found->vaddr;
	return 0;
}

const struct elf_symbol *elf_object_lookup(const struct elf_object *o, uint64_t vaddr)
{
	size_t lo = 0, hi = o->nsyms;

	/* First symbol with addr > vaddr; the candidate is the one before. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (o->syms[mid].addr <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	if (vaddr >= o->syms[lo - 1].end)
		return NULL;
	return &o->syms[lo - 1];
}

Elf_Scn *elf_next_section(Elf *elf, Elf_Scn *scn, GElf_Shdr *sh, const char **name)
{
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		if (gelf_getshdr(scn, sh) && sh->sh_type != SHT_NOBITS &&
		    (*name = elf_strptr(elf, shstrndx, sh->sh_name)))
			return scn;
	}
	return NULL;
}

bool elf_has_debug_info(Elf *elf)
{
	Elf_Scn *scn = NULL;
	const char *name;
	GElf_Shdr sh;

	while ((scn = elf_next_section(elf, scn, &sh, &name)))
		if (!strcmp(name, ".debug_info") || !strcmp(name, ".zdebug_info"))
			return true;
	return false;
}
