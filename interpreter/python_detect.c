/* python_detect.c - see python_detect.h. */
#include "python_detect.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf_limits.h"
#include "proc_maps.h"
#include "process_mem.h"

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Reads "3.11" and a flavour of at most 3 letters at p; the rest in *end. */
static bool parse_version(const char *p, unsigned *major, unsigned *minor, char flavour[4],
			  const char **end)
{
	size_t n = 0;

	if (!isdigit((unsigned char)p[0]) || p[1] != '.' || !isdigit((unsigned char)p[2]))
		return false;
	*major = (unsigned)(p[0] - '0');
	*minor = 0;
	for (p += 2; isdigit((unsigned char)*p) && *minor < 1000; p++)
		*minor = *minor * 10 + (unsigned)(*p - '0');
	while (islower((unsigned char)*p) && n < 3)
		flavour[n++] = *p++;
	flavour[n] = '\0';
	*end = p;
	return true;
}

bool python_file_name(const char *path, unsigned *major, unsigned *minor, char flavour[4],
		      bool *library)
{
	const char *name = base_name(path), *end;

	if (!strncmp(name, "libpython", 9)) {
		*library = true;
		return parse_version(name + 9, major, minor, flavour, &end) &&
		       !strncmp(end, ".so", 3);
	}
	*library = false;
	return !strncmp(name, "python", 6) && parse_version(name + 6, major, minor, flavour, &end) &&
	       *end == '\0';
}

/* The interpreter's mapping: a library if there is one, else the
 * executable; its first one (file offset 0, where the ELF header is). */
struct candidate {
	const struct proc_maps_entry *m;
	bool library;
	unsigned major, minor;
	char flavour[4];
};

static void consider(struct candidate *c, const struct proc_maps_entry *m)
{
	struct candidate n = { .m = m };

	if (m->inode && m->path[0] == '/' &&
	    python_file_name(m->path, &n.major, &n.minor, n.flavour, &n.library) &&
	    (!c->m || (n.library && !c->library)))
		*c = n;
}

struct symbols {
	uint64_t runtime, code_type, version, eval, eval_size, cold, cold_size;
};

static void take_symbol(struct symbols *out, const char *name, const GElf_Sym *sym)
{
	if (!sym->st_value || sym->st_shndx == SHN_UNDEF)
		return;
	if (!strcmp(name, "_PyRuntime"))
		out->runtime = sym->st_value;
	else if (!strcmp(name, "PyCode_Type"))
		out->code_type = sym->st_value;
	else if (!strcmp(name, "Py_Version"))
		out->version = sym->st_value;
	else if (!strcmp(name, "_PyEval_EvalFrameDefault")) {
		out->eval = sym->st_value;
		out->eval_size = sym->st_size;
	} else if (!strcmp(name, "_PyEval_EvalFrameDefault.cold")) {
		out->cold = sym->st_value;
		out->cold_size = sym->st_size;
	}
}

/* The symbols of the ELF file on fd, and the ELF address of file offset
 * file_offset (through its PT_LOAD) in *vaddr. */
static int read_symbols(int fd, uint64_t file_offset, struct symbols *out, uint64_t *vaddr)
{
	struct stat st;
	Elf_Scn *scn = NULL;
	size_t nphdr;
	bool found = false;
	Elf *elf;

	memset(out, 0, sizeof(*out));
	if (fstat(fd, &st) || elf_limits_check(fd, (uint64_t)st.st_size, NULL, 0))
		return -EINVAL;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf)
		return -EINVAL;
	if (!elf_getphdrnum(elf, &nphdr)) {
		for (size_t i = 0; i < nphdr && !found; i++) {
			GElf_Phdr ph;

			if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD &&
			    file_offset >= ph.p_offset && file_offset - ph.p_offset < ph.p_filesz) {
				*vaddr = ph.p_vaddr + (file_offset - ph.p_offset);
				found = true;
			}
		}
	}
	while (found && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) ||
		    !sh.sh_entsize || !(data = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *name;

			if (gelf_getsym(data, (int)i, &sym) &&
			    (name = elf_strptr(elf, sh.sh_link, sym.st_name)))
				take_symbol(out, name, &sym);
		}
	}
	elf_end(elf);
	return found ? 0 : -ENOEXEC;
}

/* Finds the interpreter in maps and reads its symbols. */
static int detect_in(struct symbolizer *s, pid_t pid, const struct proc_maps *maps,
		     struct python_found *out)
{
	const struct python_layout *layout;
	uint8_t debug[PYTHON_DEBUG_MAX];
	struct candidate c = { 0 };
	struct symbols sym;
	uint64_t vaddr = 0, bias;
	uint32_t version;
	int fd, err;

	for (size_t i = 0; i < maps->n; i++)
		if (!maps->entries[i].offset)
			consider(&c, &maps->entries[i]);
	if (!c.m)
		return -ENOENT;
	out->major = c.major;
	out->minor = c.minor;
	memcpy(out->flavour, c.flavour, sizeof(out->flavour));
	snprintf(out->path, sizeof(out->path), "%s", c.m->path);
	layout = python_layout_find(c.major, c.minor);
	if (c.flavour[0] || !layout) { /* not supported: its symbols do not matter */
		snprintf(out->why, sizeof(out->why), "%s",
			 !strcmp(c.flavour, "t") ? "a free-threaded build"
			 : c.flavour[0]          ? "a debug build"
						 : "only CPython 3.11 to 3.14 are");
		return 0;
	}
	fd = symbolizer_open_mapping(s, pid, c.m);
	if (fd < 0)
		return fd;
	err = read_symbols(fd, c.m->offset, &sym, &vaddr);
	close(fd);
	if (err)
		return err;
	if (!sym.runtime || !sym.code_type || !sym.eval)
		return -ENOENT; /* a stub that needs a libpython not mapped yet */
	bias = c.m->start - vaddr;
	out->runtime = bias + sym.runtime;
	out->code_type = bias + sym.code_type;
	out->eval_start = bias + sym.eval;
	out->eval_end = out->eval_start + (sym.eval_size ? sym.eval_size : 1);
	if (sym.cold) {
		out->cold_start = bias + sym.cold;
		out->cold_end = out->cold_start + (sym.cold_size ? sym.cold_size : 1);
	}
	/* Py_Version (3.11+): PY_VERSION_HEX, the name's version or no layout */
	err = sym.version ? process_mem_read(&pid, bias + sym.version, &version, sizeof(version))
			  : -ENOENT;
	if (err == -ESRCH)
		return err; /* gone: nothing to say of its interpreter */
	if (err) {
		snprintf(out->why, sizeof(out->why), "no Py_Version to read");
		return 0;
	}
	if (version >> 24 != out->major || (version >> 16 & 0xff) != out->minor) {
		snprintf(out->why, sizeof(out->why), "its Py_Version is %u.%u", version >> 24,
			 version >> 16 & 0xff);
		return 0;
	}
	err = layout->debug.size ? process_mem_read(&pid, out->runtime, debug, layout->debug.size)
				 : 0;
	if (err == -ESRCH)
		return err;
	if (err) {
		snprintf(out->why, sizeof(out->why), "its _Py_DebugOffsets cannot be read");
		return 0;
	}
	if (python_layout_check(layout, debug, layout->debug.size, out->why, sizeof(out->why)))
		return 0;
	out->layout = layout;
	return 0;
}

int python_detect(struct symbolizer *s, pid_t pid, struct python_found *out)
{
	struct proc_maps maps;
	char path[64];
	int err;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	err = proc_maps_read(AT_FDCWD, path, &maps);
	if (err)
		return err == -ENOENT ? -ESRCH : err;
	err = detect_in(s, pid, &maps, out);
	proc_maps_free(&maps);
	return err;
}
