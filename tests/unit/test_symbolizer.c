/* test_symbolizer.c - unit tests of symbolizer/.
 *
 * Ground truth comes from binutils, not from our own parsers: `nm` gives
 * the symbols of each fixture, `readelf -l` its PT_LOAD segments and
 * `readelf -n` its build-id; the fixtures print a few of their own runtime
 * addresses to cross-check the addresses we compute from /proc/PID/maps.
 *
 *  - parsers: /proc/PID/maps and /proc/kallsyms text on tricky inputs and
 *    on a few thousand mutated ones (no crash, only 0 or -EINVAL), and the
 *    kernel notes build-id reader;
 *  - elf_object: non-ELF and truncated files, symbol extents, .dynsym only;
 *  - live fixtures (PIE, non-PIE, shared library, stripped -rdynamic
 *    executable): every function nm reports resolves at its first, second
 *    and last byte, with the right mapping; in the stripped one, local
 *    functions resolve to nothing rather than to an exported neighbour;
 *    a process resolved after it exited; objects shared between processes;
 *  - a fake /proc tree: path fallbacks, deleted and replaced files, non-ELF
 *    and anonymous mappings, refreshes keeping handed-out pointers valid;
 *  - the kernel: a crafted kallsyms (extents, markers, modules) and the
 *    real one (a well-known function, a module symbol if any);
 *  - DWARF (the fixtures are built with -g): functions get their file:line;
 *    a fixture built with inlining is resolved at every byte of .text
 *    and compared with `llvm-symbolizer --inlining` (names, files, lines,
 *    frame counts must agree at >= 99% of the addresses), including a
 *    two-level inline chain; dwarf_index on files without DWARF, damaged
 *    ones, and glibc's separate debug file when libc6-dbg is installed;
 *    a Go binary built by the test (skipped without a go toolchain). Speeds
 *    are printed, never asserted.
 *
 * Needs no BPF. As root, objects are opened through map_files; otherwise
 * the fallbacks are used, and the tests pass the same.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* asprintf, pipe2 (the top level defines it too) */
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "dwarf_index.h"
#include "elf_object.h"
#include "kallsyms.h"
#include "proc_maps.h"
#include "symbolizer.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- ground truth from binutils --------------------------------------- */

struct nm_sym {
	uint64_t addr, size;
	char type;
	char name[128];
};

struct nm_list {
	struct nm_sym *v;
	size_t n;
};

/* Code symbols: nm's t/T (text sections) and i (IFUNC). */
static bool is_code(char type)
{
	return type == 't' || type == 'T' || type == 'i';
}

static void nm_load(const char *file, bool dynamic, struct nm_list *out)
{
	char cmd[PATH_MAX + 256], line[512];
	size_t cap = 0;
	FILE *f;

	memset(out, 0, sizeof(*out));
	snprintf(cmd, sizeof(cmd), "'%s' --defined-only -S %s '%s'", SYMFIX_NM,
		 dynamic ? "-D" : "", file);
	f = popen(cmd, "r");
	if (!f) {
		CHECK(false, "popen %s: %s", cmd, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char a[32], b[32], c[128], d[128];
		int k = sscanf(line, "%31s %31s %127s %127s", a, b, c, d);
		struct nm_sym sym = { 0 };
		char *at;

		if (k == 4) {
			sym.addr = strtoull(a, NULL, 16);
			sym.size = strtoull(b, NULL, 16);
			sym.type = c[0];
			snprintf(sym.name, sizeof(sym.name), "%s", d);
		} else if (k == 3) {
			sym.addr = strtoull(a, NULL, 16);
			sym.type = b[0];
			snprintf(sym.name, sizeof(sym.name), "%s", c);
		} else {
			continue;
		}
		at = strchr(sym.name, '@'); /* versioned dynamic symbols */
		if (at)
			*at = '\0';
		if (out->n == cap) {
			cap = cap ? 2 * cap : 64;
			out->v = realloc(out->v, cap * sizeof(*out->v));
			if (!out->v)
				abort();
		}
		out->v[out->n++] = sym;
	}
	CHECK(pclose(f) == 0, "%s failed", cmd);
	CHECK(out->n > 0, "nm found no symbols in %s", file);
}

static const struct nm_sym *nm_find(const struct nm_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (is_code(l->v[i].type) && !strcmp(l->v[i].name, name))
			return &l->v[i];
	return NULL;
}

/* Is name one of the code symbols at addr (aliases are all fine)? */
static bool nm_name_at(const struct nm_list *l, uint64_t addr, const char *name)
{
	for (size_t i = 0; name && i < l->n; i++)
		if (is_code(l->v[i].type) && l->v[i].addr == addr && !strcmp(l->v[i].name, name))
			return true;
	return false;
}

struct seg {
	uint64_t offset, vaddr, filesz;
	bool exec;
};

static size_t load_segments(const char *file, struct seg *segs, size_t max)
{
	char cmd[PATH_MAX + 64], line[512];
	size_t n = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "'%s' -lW '%s'", SYMFIX_READELF, file);
	f = popen(cmd, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		uint64_t off, vaddr, paddr, filesz;

		if (n < max && sscanf(line, " LOAD %" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64,
				      &off, &vaddr, &paddr, &filesz) == 4)
			segs[n++] = (struct seg){ off, vaddr, filesz, strstr(line, "E 0x") != NULL };
	}
	pclose(f);
	CHECK(n > 0, "readelf found no PT_LOAD in %s", file);
	return n;
}

static void load_build_id(const char *file, char *out, size_t outsz)
{
	char cmd[PATH_MAX + 64], line[512];
	FILE *f;

	out[0] = '\0';
	snprintf(cmd, sizeof(cmd), "'%s' -n '%s'", SYMFIX_READELF, file);
	f = popen(cmd, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "Build ID: ");

		if (p)
			sscanf(p + 10, "%128s", out);
	}
	pclose(f);
	(void)outsz;
	CHECK(out[0], "readelf found no build-id in %s", file);
}

/* ---- /proc/PID/maps, read independently of proc_maps.c ------------------ */

struct tmap {
	uint64_t start, end, off;
	char perms[8];
	char path[PATH_MAX];
};

struct tmaps {
	struct tmap *v;
	size_t n;
};

static void tmaps_read(const char *maps_path, struct tmaps *out)
{
	char *line = NULL;
	size_t cap = 0, len = 0;
	FILE *f = fopen(maps_path, "r");

	memset(out, 0, sizeof(*out));
	if (!f) {
		CHECK(false, "open %s: %s", maps_path, strerror(errno));
		return;
	}
	while (getline(&line, &len, f) > 0) {
		struct tmap m = { 0 };
		int pos = 0;
		size_t l;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %*s %*s %n", &m.start,
			   &m.end, m.perms, &m.off, &pos) < 4 || !pos)
			continue;
		snprintf(m.path, sizeof(m.path), "%s", line + pos);
		l = strlen(m.path);
		if (l && m.path[l - 1] == '\n')
			m.path[--l] = '\0';
		if (l >= 10 && !strcmp(m.path + l - 10, " (deleted)"))
			m.path[l - 10] = '\0';
		if (out->n == cap) {
			cap = cap ? 2 * cap : 64;
			out->v = realloc(out->v, cap * sizeof(*out->v));
			if (!out->v)
				abort();
		}
		out->v[out->n++] = m;
	}
	free(line);
	fclose(f);
}

static void tmaps_read_pid(pid_t pid, struct tmaps *out)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	tmaps_read(path, out);
}

static const struct tmap *tmaps_find(const struct tmaps *t, uint64_t addr)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].start <= addr && addr < t->v[i].end)
			return &t->v[i];
	return NULL;
}

/* Runtime address of ELF vaddr v of `real` (a canonical path): the segment
 * holding v gives its file offset, the executable mapping of that file
 * holding the offset gives the address. */
static bool runtime_addr(const struct tmaps *t, const char *real, const struct seg *segs,
			 size_t nsegs, uint64_t v, uint64_t *out)
{
	for (size_t i = 0; i < nsegs; i++) {
		uint64_t fo;

		if (v < segs[i].vaddr || v - segs[i].vaddr >= segs[i].filesz)
			continue;
		fo = v - segs[i].vaddr + segs[i].offset;
		for (size_t j = 0; j < t->n; j++) {
			const struct tmap *m = &t->v[j];

			if (strcmp(m->path, real) || m->perms[2] != 'x' || fo < m->off ||
			    fo - m->off >= m->end - m->start)
				continue;
			*out = m->start + (fo - m->off);
			return true;
		}
	}
	return false;
}

/* ---- fixture processes ----------------------------------------------- */

struct child {
	pid_t pid;
	int to_child;   /* its stdin: closing it makes it exit */
	FILE *from_child;
	struct {
		char name[64];
		uint64_t addr;
	} printed[8];
	int nprinted;
};

static bool spawn(const char *path, struct child *c)
{
	int in[2], out[2];
	char line[256];

	memset(c, 0, sizeof(*c));
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
		abort();
	fflush(NULL);
	c->pid = fork();
	if (c->pid < 0)
		abort();
	if (c->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	c->to_child = in[1];
	c->from_child = fdopen(out[0], "r");
	while (fgets(line, sizeof(line), c->from_child)) {
		char name[64];
		char val[64];

		if (!strncmp(line, "ready", 5))
			return true;
		if (c->nprinted < (int)ARRAY_SIZE(c->printed) &&
		    sscanf(line, "%63s %63s", name, val) == 2) {
			snprintf(c->printed[c->nprinted].name, sizeof(c->printed[0].name), "%s",
				 name);
			c->printed[c->nprinted++].addr = strtoull(val, NULL, 0);
		}
	}
	CHECK(false, "fixture %s did not start", path);
	return false;
}

static void finish(struct child *c)
{
	int st = 0;

	close(c->to_child);
	fclose(c->from_child);
	CHECK(waitpid(c->pid, &st, 0) == c->pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "fixture %d exit status %#x", (int)c->pid, st);
}

static uint64_t printed_addr(const struct child *c, const char *name)
{
	for (int i = 0; i < c->nprinted; i++)
		if (!strcmp(c->printed[i].name, name))
			return c->printed[i].addr;
	return 0;
}

/* ---- the core check: every function of one object --------------------- */

struct object_check {
	const char *nm_file;     /* where nm reads the symbols (unstripped) */
	const char *mapped_file; /* the file the process maps */
	bool stripped;           /* mapped_file has only .dynsym */
	/* results */
	int exported, locals;    /* symbols checked, by expectation */
	int with_lines;          /* addresses that got a file:line */
};

/* The fixtures are built with -g: their own functions get the file and
 * line of the address (the crt code linked in has no line table); a
 * stripped file has no DWARF at all. */
static void check_dwarf_frame(const struct sym_location *loc, struct object_check *oc)
{
	const struct sym_mapping *m = loc->mapping;
	const struct sym_frame *f = &loc->frames[0];

	if (!loc->nframes)
		return;
	if (oc->stripped) {
		CHECK(!f->file && !f->line && !m->has_line_numbers && !m->has_inline_frames,
		      "stripped: %s has %s:%d", f->function, f->file, f->line);
		return;
	}
	CHECK(m->has_filenames && m->has_line_numbers && m->has_inline_frames,
	      "mapping %s flags %d %d %d", m->path, m->has_filenames, m->has_line_numbers,
	      m->has_inline_frames);
	if (!f->file)
		return;
	CHECK(strstr(f->file, "symbolizer_fixtures/fixture_") && f->line > 0 && f->start_line > 0 &&
		      f->start_line <= f->line,
	      "%s at %s:%d (function starts at line %d)", f->function, f->file, f->line,
	      f->start_line);
	oc->with_lines++;
}

static void check_object(struct symbolizer *s, pid_t pid, const struct tmaps *t,
			 struct object_check *oc)
{
	struct nm_list syms, dyn = { 0 };
	struct seg segs[16];
	char real[PATH_MAX], build_id[160];
	size_t nsegs;

	if (!realpath(oc->mapped_file, real)) {
		CHECK(false, "realpath %s: %s", oc->mapped_file, strerror(errno));
		return;
	}
	nm_load(oc->nm_file, false, &syms);
	if (oc->stripped)
		nm_load(oc->mapped_file, true, &dyn);
	nsegs = load_segments(oc->mapped_file, segs, ARRAY_SIZE(segs));
	load_build_id(oc->mapped_file, build_id, sizeof(build_id));

	for (size_t i = 0; i < syms.n; i++) {
		const struct nm_sym *sym = &syms.v[i];
		uint64_t offs[3] = { 0, 1, sym->size - 1 }, rt;
		size_t noffs = sym->size > 1 ? 3 : 1;
		bool exported;

		if (!is_code(sym->type))
			continue;
		if (!runtime_addr(t, real, segs, nsegs, sym->addr, &rt)) {
			CHECK(false, "%s: %s is not mapped in pid %d", real, sym->name, (int)pid);
			continue;
		}
		exported = !oc->stripped || nm_name_at(&dyn, sym->addr, sym->name);
		if (exported)
			oc->exported++;
		else
			oc->locals++;
		for (size_t k = 0; k < noffs; k++) {
			uint64_t addr = rt + offs[k];
			const struct tmap *tm = tmaps_find(t, addr);
			struct sym_location loc;
			const struct sym_mapping *m;
			int rc = symbolizer_resolve_user(s, pid, addr, &loc);
			const char *got = loc.nframes ? loc.frames[0].function : "(nothing)";

			m = loc.mapping;
			CHECK(rc == 0 && m && tm, "%s+%#" PRIx64 " at %#" PRIx64 ": rc %d, mapping %p",
			      sym->name, offs[k], addr, rc, (const void *)m);
			if (!m || !tm)
				continue;
			CHECK(m->start == tm->start && m->limit == tm->end && m->file_offset == tm->off,
			      "%s: mapping %#" PRIx64 "-%#" PRIx64 " @%#" PRIx64 ", maps says %#" PRIx64
			      "-%#" PRIx64 " @%#" PRIx64,
			      sym->name, m->start, m->limit, m->file_offset, tm->start, tm->end, tm->off);
			CHECK(m->path && !strcmp(m->path, tm->path) && !strcmp(m->path, real),
			      "%s: mapping path %s, want %s", sym->name, m->path, real);
			CHECK(m->build_id && !strcmp(m->build_id, build_id) && m->has_functions,
			      "%s: build-id '%s' has_functions %d, want '%s' 1", sym->name,
			      m->build_id, m->has_functions, build_id);
			if (exported) {
				CHECK(loc.nframes == 1 &&
					      nm_name_at(oc->stripped ? &dyn : &syms, sym->addr, got),
				      "%s+%#" PRIx64 " (%s) resolved to %s", sym->name, offs[k], real,
				      got);
				check_dwarf_frame(&loc, oc);
			} else {
				CHECK(loc.nframes == 0,
				      "local %s+%#" PRIx64 " in stripped %s resolved to %s, want nothing",
				      sym->name, offs[k], real, got);
			}
		}
	}
	free(syms.v);
	free(dyn.v);
}

/* Load address cross-check: nm's value of `name` in file, placed with the
 * maps where the process maps `mapped` (file or a stripped copy), must equal
 * what the fixture printed. */
static void check_printed(const struct child *c, const struct tmaps *t, const char *file,
			  const char *mapped, const char *name)
{
	struct nm_list syms;
	struct seg segs[16];
	char real[PATH_MAX];
	const struct nm_sym *sym;
	uint64_t rt = 0, want = printed_addr(c, name);
	size_t nsegs;

	if (!realpath(mapped, real))
		abort();
	nm_load(file, false, &syms);
	nsegs = load_segments(mapped, segs, ARRAY_SIZE(segs));
	sym = nm_find(&syms, name);
	CHECK(sym && want && runtime_addr(t, real, segs, nsegs, sym->addr, &rt) && rt == want,
	      "%s in %s: computed %#" PRIx64 ", fixture printed %#" PRIx64, name, file, rt, want);
	free(syms.v);
}

static uint64_t runtime_of(const struct tmaps *t, const char *file, const char *name)
{
	struct nm_list syms;
	struct seg segs[16];
	char real[PATH_MAX];
	const struct nm_sym *sym;
	uint64_t rt = 0;
	size_t nsegs;

	if (!realpath(file, real))
		abort();
	nm_load(file, false, &syms);
	nsegs = load_segments(file, segs, ARRAY_SIZE(segs));
	sym = nm_find(&syms, name);
	if (!sym || !runtime_addr(t, real, segs, nsegs, sym->addr, &rt))
		rt = 0;
	free(syms.v);
	return rt;
}

/* ---- parsers ------------------------------------------------------------ */

struct maps_case {
	const char *name;
	const char *text;
	int rc;
	size_t n;
	const char *path0;   /* expected path of entry 0 (when n > 0) */
	bool deleted0;
};

static void test_proc_maps_parser(void)
{
	static const struct maps_case cases[] = {
		{ "empty", "", 0, 0, NULL, false },
		{ "blank line", "\n", -EINVAL, 0, NULL, false },
		{ "no path", "00400000-00452000 r-xp 00000000 08:02 173521\n", 0, 1, "", false },
		{ "no path, padding", "7f00-7f10 rw-p 00000000 00:00 0                  \n", 0, 1,
		  "", false },
		{ "path", "00400000-00452000 r-xp 00000000 08:02 173521      /usr/bin/dbus\n", 0, 1,
		  "/usr/bin/dbus", false },
		{ "no trailing newline", "00400000-00452000 r-xp 00000000 08:02 173521 /bin/x", 0,
		  1, "/bin/x", false },
		{ "spaces in path", "7f00-7f10 r-xp 00001000 fe:01 42   /tmp/a b  c/lib x.so\n", 0,
		  1, "/tmp/a b  c/lib x.so", false },
		{ "deleted", "7f00-7f10 r-xp 00000000 fe:01 42   /tmp/gone.so (deleted)\n", 0, 1,
		  "/tmp/gone.so", true },
		{ "deleted with spaces", "7f00-7f10 r-xp 0 fe:01 42 /tmp/a (deleted) b (deleted)", 0,
		  1, "/tmp/a (deleted) b", true },
		{ "special", "7ffd1000-7ffd3000 r-xp 00000000 00:00 0    [vdso]\n", 0, 1, "[vdso]",
		  false },
		{ "anon name", "7f00-7f10 rw-p 0 00:00 0 [anon:my region]\n", 0, 1,
		  "[anon:my region]", false },
		{ "two lines",
		  "1000-2000 r--p 0 08:01 7 /a\n2000-3000 r-xp 1000 08:01 7 /a\n", 0, 2, "/a",
		  false },
		{ "upper-case hex", "7F00-7F10 r-xp 0000ABCD FE:01 42 /x\n", 0, 1, "/x", false },
		{ "max address", "0-ffffffffffffffff r-xp ffffffffffffffff ffffffff:ffffffff "
				 "18446744073709551615 /x\n",
		  0, 1, "/x", false },
		{ "truncated at perms", "7f00-7f10 r-x", -EINVAL, 0, NULL, false },
		{ "truncated at dev", "7f00-7f10 r-xp 00000000 08:", -EINVAL, 0, NULL, false },
		{ "truncated at inode", "7f00-7f10 r-xp 00000000 08:01", -EINVAL, 0, NULL, false },
		{ "truncated at range", "7f00-", -EINVAL, 0, NULL, false },
		{ "second line bad", "1000-2000 r--p 0 08:01 7 /a\n2000-30", -EINVAL, 0, NULL,
		  false },
		{ "garbage", "hello world\n", -EINVAL, 0, NULL, false },
		{ "huge start", "1ffffffffffffffff-2 r-xp 0 0:0 0\n", -EINVAL, 0, NULL, false },
		{ "huge inode", "1000-2000 r-xp 0 0:0 184467440737095516150\n", -EINVAL, 0, NULL,
		  false },
		{ "huge dev", "1000-2000 r-xp 0 100000000:0 0\n", -EINVAL, 0, NULL, false },
		{ "start == end", "1000-1000 r-xp 0 0:0 0\n", -EINVAL, 0, NULL, false },
		{ "start > end", "2000-1000 r-xp 0 0:0 0\n", -EINVAL, 0, NULL, false },
		{ "bad perms", "1000-2000 rwxq 0 0:0 0\n", -EINVAL, 0, NULL, false },
		{ "short perms", "1000-2000 rwx 0 0:0 0\n", -EINVAL, 0, NULL, false },
		{ "tab separator", "1000-2000\tr-xp 0 0:0 0\n", -EINVAL, 0, NULL, false },
		{ "0x prefix", "0x1000-0x2000 r-xp 0 0:0 0\n", -EINVAL, 0, NULL, false },
		{ "junk after inode", "1000-2000 r-xp 0 0:0 12x /a\n", -EINVAL, 0, NULL, false },
		{ "negative", "-1000-2000 r-xp 0 0:0 0\n", -EINVAL, 0, NULL, false },
	};
	struct proc_maps m;
	int rc;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct maps_case *c = &cases[i];

		rc = proc_maps_parse(c->text, strlen(c->text), &m);
		CHECK(rc == c->rc && m.n == c->n, "maps '%s': rc %d n %zu, want %d %zu", c->name, rc,
		      m.n, c->rc, c->n);
		if (rc == 0 && m.n && c->path0)
			CHECK(!strcmp(m.entries[0].path, c->path0) &&
				      m.entries[0].deleted == c->deleted0,
			      "maps '%s': path '%s' deleted %d", c->name, m.entries[0].path,
			      m.entries[0].deleted);
		proc_maps_free(&m);
	}

	/* Fields of one full line. */
	{
		const char *t = "7f1c2a400000-7f1c2a428000 r-xp 0001a000 fe:01 1835014  /usr/lib/libc.so.6\n";

		rc = proc_maps_parse(t, strlen(t), &m);
		CHECK(rc == 0 && m.n == 1 && m.entries[0].start == 0x7f1c2a400000 &&
			      m.entries[0].end == 0x7f1c2a428000 && m.entries[0].offset == 0x1a000 &&
			      m.entries[0].dev_major == 0xfe && m.entries[0].dev_minor == 1 &&
			      m.entries[0].inode == 1835014 && !strcmp(m.entries[0].perms, "r-xp"),
		      "maps fields");
		proc_maps_free(&m);
	}
	/* An embedded NUL and a NULL buffer. */
	rc = proc_maps_parse("1000-2000 r-xp 0 0:0 0 /a\0b\n", 26, &m);
	CHECK(rc == -EINVAL && m.n == 0, "maps with NUL: rc %d", rc);
	rc = proc_maps_parse(NULL, 5, &m);
	CHECK(rc == -EINVAL, "maps NULL buffer: rc %d", rc);

	/* Our own maps, read by the library's reader. */
	rc = proc_maps_read(AT_FDCWD, "/proc/self/maps", &m);
	CHECK(rc == 0 && m.n > 5, "read /proc/self/maps: rc %d n %zu", rc, m.n);
	{
		bool stack = false;

		for (size_t i = 0; i < m.n; i++)
			stack |= !strcmp(m.entries[i].path, "[stack]");
		CHECK(stack, "no [stack] in /proc/self/maps");
	}
	proc_maps_free(&m);
	rc = proc_maps_read(AT_FDCWD, "/nonexistent/maps", &m);
	CHECK(rc == -ENOENT, "read missing maps: rc %d", rc);
}

struct ksym_case {
	const char *name;
	const char *text;
	int rc;
	size_t n;
	bool hidden;
};

static void test_kallsyms_parser(void)
{
	static const struct ksym_case cases[] = {
		{ "empty", "", 0, 0, false },
		{ "one", "ffffffff81000000 T _text\n", 0, 1, false },
		{ "no trailing newline", "ffffffff81000000 T _text", 0, 1, false },
		{ "module", "ffffffffc0001000 t fn\t[mod]\n", 0, 1, false },
		{ "module, space", "ffffffffc0001000 t fn [mod]\n", 0, 1, false },
		{ "data skipped", "ffffffff81000000 D data\nffffffff81000010 b bss\n", 0, 0, false },
		{ "hidden", "0000000000000000 T _text\n0000000000000000 t a\n", 0, 0, true },
		{ "blank line", "\n", -EINVAL, 0, false },
		{ "no name", "ffffffff81000000 T\n", -EINVAL, 0, false },
		{ "no name, space", "ffffffff81000000 T \n", -EINVAL, 0, false },
		{ "two spaces", "ffffffff81000000  T x\n", -EINVAL, 0, false },
		{ "no type", "ffffffff81000000\n", -EINVAL, 0, false },
		{ "bad address", "zzzz T x\n", -EINVAL, 0, false },
		{ "huge address", "1ffffffffffffffff T x\n", -EINVAL, 0, false },
		{ "open module", "ffffffffc0001000 t fn\t[mod\n", -EINVAL, 0, false },
		{ "empty module", "ffffffffc0001000 t fn\t[]\n", -EINVAL, 0, false },
		{ "junk after module", "ffffffffc0001000 t fn\t[mod] x\n", -EINVAL, 0, false },
		{ "junk instead of module", "ffffffffc0001000 t fn x\n", -EINVAL, 0, false },
		{ "garbage", "\x01\x02\x03 hello\n", -EINVAL, 0, false },
	};
	/* Unsorted, with aliases, markers and modules. */
	static const char crafted[] =
		"ffffffff81000100 T do_one\n"
		"ffffffff81000000 T _stext\n"
		"ffffffff81000000 T _text\n"
		"ffffffff81000000 t startup_64\n"
		"ffffffff81000200 t do_two\n"
		"ffffffff81000200 W do_two_weak\n"
		"ffffffff81000300 T _etext\n"
		"ffffffff81000400 d some_data\n"
		"ffffffff82000000 T _sinittext\n"
		"ffffffff82000000 t init_one\n"
		"ffffffff82000040 T _einittext\n"
		"ffffffffc0001000 t mod_fn_a\t[mymod]\n"
		"ffffffffc0001100 T mod_fn_b\t[mymod]\n"
		"ffffffffc0301000 t other_mod_fn\t[othermod]";
	static const struct {
		uint64_t addr;
		const char *name; /* NULL: unresolved */
		const char *module;
	} lookups[] = {
		{ 0xffffffff80ffffff, NULL, NULL },
		{ 0xffffffff81000000, "startup_64", "" },
		{ 0xffffffff810000ff, "startup_64", "" },
		{ 0xffffffff81000100, "do_one", "" },
		{ 0xffffffff81000250, "do_two_weak", "" },
		{ 0xffffffff810002ff, "do_two_weak", "" },
		{ 0xffffffff81000300, NULL, NULL },      /* _etext covers nothing */
		{ 0xffffffff81500000, NULL, NULL },
		{ 0xffffffff82000000, "init_one", "" },
		{ 0xffffffff8200003f, "init_one", "" },
		{ 0xffffffff82000040, NULL, NULL },      /* _einittext */
		{ 0xffffffffc0000000, NULL, NULL },
		{ 0xffffffffc0001000, "mod_fn_a", "mymod" },
		{ 0xffffffffc00010ff, "mod_fn_a", "mymod" },
		{ 0xffffffffc0001100, "mod_fn_b", "mymod" },
		{ 0xffffffffc0101000, "mod_fn_b", "mymod" },
		{ 0xffffffffc0101100, NULL, NULL },      /* 1 MiB past mod_fn_b */
		{ 0xffffffffc0301000, "other_mod_fn", "othermod" },
		{ 0xffffffffc0400fff, "other_mod_fn", "othermod" },
		{ 0xffffffffc0401000, NULL, NULL },
		{ 0x1000, NULL, NULL },
	};
	struct kallsyms *k;
	int rc;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct ksym_case *c = &cases[i];

		rc = kallsyms_parse(c->text, strlen(c->text), &k);
		CHECK(rc == c->rc && (rc || (k->n == c->n && k->hidden == c->hidden)),
		      "kallsyms '%s': rc %d n %zu hidden %d", c->name, rc, k ? k->n : 0,
		      k ? k->hidden : 0);
		CHECK(rc || k, "kallsyms '%s': no table", c->name);
		kallsyms_free(k);
	}

	rc = kallsyms_parse(crafted, strlen(crafted), &k);
	CHECK(rc == 0 && k && k->n == 9, "crafted kallsyms: rc %d n %zu", rc, k ? k->n : 0);
	if (rc)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(lookups); i++) {
		const struct ksym *s = kallsyms_lookup(k, lookups[i].addr);
		const char *got = s ? kallsyms_name(k, s) : NULL;

		CHECK(lookups[i].name ? got && !strcmp(got, lookups[i].name) &&
						!strcmp(kallsyms_module(k, s), lookups[i].module)
				      : !got,
		      "kallsyms %#" PRIx64 ": got %s [%s], want %s", lookups[i].addr,
		      got ? got : "nothing", s ? kallsyms_module(k, s) : "", lookups[i].name);
	}
	CHECK(k->start == 0xffffffff81000000 && k->limit == 0xffffffffc0401000,
	      "kallsyms range %#" PRIx64 "-%#" PRIx64, k->start, k->limit);
	kallsyms_free(k);

	/* Without markers the last core symbol covers nothing. */
	{
		static const char t[] = "ffffffff81000000 T a\nffffffff81000100 T b\n"
					"ffffffffc0000000 t m\t[mod]\n";

		rc = kallsyms_parse(t, strlen(t), &k);
		CHECK(rc == 0 && kallsyms_lookup(k, 0xffffffff81000050) &&
			      !kallsyms_lookup(k, 0xffffffff81000150) &&
			      kallsyms_lookup(k, 0xffffffffc0000010),
		      "last core symbol");
		kallsyms_free(k);
	}
}

static void test_notes_parser(void)
{
	/* Two notes: "Linux" type 6 (name padded to 8), then GNU build-id. */
	static const unsigned char notes[] = {
		6, 0, 0, 0, 4, 0, 0, 0, 6, 0, 0, 0, 'L', 'i', 'n', 'u', 'x', 0, 0, 0, 1, 2, 3, 4,
		4, 0, 0, 0, 5, 0, 0, 0, 3, 0, 0, 0, 'G', 'N', 'U', 0, 0xde, 0xad, 0xbe, 0xef, 0x01,
		0, 0, 0,
	};
	char hex[64];
	int rc;

	rc = kernel_notes_build_id(notes, sizeof(notes), hex, sizeof(hex));
	CHECK(rc == 0 && !strcmp(hex, "deadbeef01"), "notes: rc %d hex %s", rc, hex);
	rc = kernel_notes_build_id(notes, 24, hex, sizeof(hex));
	CHECK(rc == -ENOENT, "notes without GNU: rc %d", rc);
	rc = kernel_notes_build_id(notes, sizeof(notes) - 6, hex, sizeof(hex));
	CHECK(rc == -EINVAL, "truncated notes: rc %d", rc);
	rc = kernel_notes_build_id(notes, sizeof(notes), hex, 5);
	CHECK(rc == -ENOSPC, "small buffer: rc %d", rc);
	rc = kernel_notes_build_id(notes, 0, hex, sizeof(hex));
	CHECK(rc == -ENOENT, "empty notes: rc %d", rc);
	{
		unsigned char bad[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 3 };

		rc = kernel_notes_build_id(bad, sizeof(bad), hex, sizeof(hex));
		CHECK(rc == -EINVAL, "huge note sizes: rc %d", rc);
	}
}

/* A few thousand mutations of valid text: only 0 or -EINVAL, no crash (the
 * ASan build is where this matters). Deterministic. */
static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void mutate(char *buf, size_t *len, size_t cap)
{
	static const char alphabet[] = "0123456789abcdefxX-: \t\n[]()/rwxps deleted\xff";
	int n = 1 + (int)(rng() % 4);

	for (int i = 0; i < n && *len; i++) {
		size_t pos = rng() % *len;

		switch (rng() % 4) {
		case 0: /* replace */
			buf[pos] = alphabet[rng() % (sizeof(alphabet) - 1)];
			break;
		case 1: /* delete */
			memmove(buf + pos, buf + pos + 1, *len - pos - 1);
			(*len)--;
			break;
		case 2: /* insert */
			if (*len < cap) {
				memmove(buf + pos + 1, buf + pos, *len - pos);
				buf[pos] = alphabet[rng() % (sizeof(alphabet) - 1)];
				(*len)++;
			}
			break;
		default: /* truncate */
			*len = pos;
			break;
		}
	}
}

static void test_parsers_fuzz(void)
{
	static const char maps_seed[] =
		"55d0c1a3e000-55d0c1a40000 r--p 00000000 fe:01 1234   /usr/bin/cat\n"
		"55d0c1a40000-55d0c1a45000 r-xp 00002000 fe:01 1234   /usr/bin/cat\n"
		"7f1c2a400000-7f1c2a428000 r-xp 0001a000 fe:01 1835014  /tmp/x y (deleted)\n"
		"7ffd1000-7ffd3000 r-xp 00000000 00:00 0    [vdso]\n"
		"7ffd5000-7ffd6000 rw-p 00000000 00:00 0\n";
	static const char ksym_seed[] =
		"ffffffff81000000 T _text\n"
		"ffffffff81000100 t do_one\n"
		"ffffffff8220bb08 T _etext\n"
		"ffffffffc0201000 t ftrace_trampoline\t[__builtin__ftrace]\n"
		"ffffffffc0301000 W wfn\t[m]\n";
	char buf[512];
	int bad = 0, ok = 0;

	for (int iter = 0; iter < 5000; iter++) {
		bool maps = iter & 1;
		const char *seed = maps ? maps_seed : ksym_seed;
		size_t len = strlen(seed);
		int rc;

		memcpy(buf, seed, len);
		mutate(buf, &len, sizeof(buf));
		if (maps) {
			struct proc_maps m;

			rc = proc_maps_parse(buf, len, &m);
			for (size_t i = 0; rc == 0 && i < m.n; i++)
				bad += m.entries[i].start >= m.entries[i].end || !m.entries[i].path;
			proc_maps_free(&m);
		} else {
			struct kallsyms *k;

			rc = kallsyms_parse(buf, len, &k);
			for (size_t i = 0; rc == 0 && i + 1 < k->n; i++)
				bad += k->syms[i].addr >= k->syms[i + 1].addr ||
				       k->syms[i].end > k->syms[i + 1].addr;
			kallsyms_free(k);
		}
		bad += rc != 0 && rc != -EINVAL;
		ok += rc == 0;
	}
	CHECK(bad == 0, "fuzz: %d inconsistent results", bad);
	CHECK(ok > 100, "fuzz: only %d inputs parsed; mutations too aggressive?", ok);
}

/* ---- elf_object ---------------------------------------------------------- */

static int open_elf_path(const char *path, struct elf_object **o)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -errno;
	rc = elf_object_open_fd(fd, o);
	close(fd);
	return rc;
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		abort();
	close(fd);
}

static void write_str(const char *path, const char *text)
{
	write_file(path, text, strlen(text));
}

static char *slurp(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st))
		abort();
	buf = malloc((size_t)st.st_size + 1);
	if (!buf || read(fd, buf, (size_t)st.st_size) != st.st_size)
		abort();
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

static void test_elf_object(const char *tmpdir)
{
	struct elf_object *o, *o2;
	struct nm_list syms;
	char build_id[160], path[PATH_MAX];
	size_t len, padding_checked = 0;
	char *image;
	int rc;

	rc = open_elf_path("/dev/null", &o);
	CHECK(rc == -ENOEXEC && !o, "/dev/null: rc %d", rc);
	snprintf(path, sizeof(path), "%s/text", tmpdir);
	write_str(path, "#!/bin/sh\necho hi\n");
	rc = open_elf_path(path, &o);
	CHECK(rc == -ENOEXEC && !o, "text file: rc %d", rc);

	/* The library, straight. */
	rc = open_elf_path(SYMFIX_LIB, &o);
	CHECK(rc == 0 && o, "open %s: rc %d", SYMFIX_LIB, rc);
	if (rc)
		return;
	load_build_id(SYMFIX_LIB, build_id, sizeof(build_id));
	CHECK(!strcmp(o->build_id, build_id), "build-id %s, readelf says %s", o->build_id, build_id);
	CHECK(o->symtab == ELF_SYMTAB_SYMTAB && o->nsyms >= 8 && o->nsegs >= 2,
	      "lib: symtab %d nsyms %zu nsegs %zu", o->symtab, o->nsyms, o->nsegs);
	for (size_t i = 1; i < o->nsyms; i++)
		CHECK(o->syms[i - 1].addr < o->syms[i].addr &&
			      o->syms[i - 1].end <= o->syms[i].addr,
		      "symbols sorted and disjoint at %zu", i);
	nm_load(SYMFIX_LIB, false, &syms);
	for (size_t i = 0; i < syms.n; i++) {
		const struct nm_sym *s = &syms.v[i];
		const struct elf_symbol *hit = is_code(s->type) ? elf_object_lookup(o, s->addr) : NULL;
		bool next_is_later = true;

		if (!is_code(s->type))
			continue;
		CHECK(hit && nm_name_at(&syms, s->addr, elf_object_name(o, hit)),
		      "lib lookup %s: got %s", s->name, hit ? elf_object_name(o, hit) : "nothing");
		if (!s->size)
			continue;
		/* The byte after a sized function is not the function (padding,
		 * or the next function). */
		for (size_t j = 0; j < syms.n; j++)
			if (syms.v[j].addr == s->addr + s->size)
				next_is_later = false;
		hit = elf_object_lookup(o, s->addr + s->size);
		if (next_is_later) {
			CHECK(!hit, "padding after %s resolved to %s", s->name, elf_object_name(o, hit));
			padding_checked++;
		}
	}
	CHECK(padding_checked >= 2, "only %zu padding checks", padding_checked);
	{
		uint64_t v = 0;

		CHECK(elf_object_file_to_vaddr(o, UINT64_MAX - 5, &v) == -ENOENT, "offset past EOF");
		CHECK(!elf_object_lookup(o, 0) && !elf_object_lookup(o, UINT64_MAX - 1),
		      "lookup of out-of-range addresses");
	}

	/* The same image from memory. */
	image = slurp(SYMFIX_LIB, &len);
	rc = elf_object_open_mem(image, len, &o2);
	CHECK(rc == 0 && o2 && o2->nsyms == o->nsyms && !strcmp(o2->build_id, o->build_id),
	      "from memory: rc %d", rc);
	elf_object_free(o2);

	/* Truncated copies: errors or partial tables, never a crash. */
	{
		size_t cuts[] = { 1, 16, 52, 64, 100, 500, 1000, 4096, len / 2, len - 100, len - 1 };

		snprintf(path, sizeof(path), "%s/truncated.so", tmpdir);
		for (size_t i = 0; i < ARRAY_SIZE(cuts); i++) {
			if (cuts[i] >= len)
				continue;
			write_file(path, image, cuts[i]);
			rc = open_elf_path(path, &o2);
			CHECK(rc == 0 || rc == -ENOEXEC || rc == -EINVAL,
			      "truncated at %zu: rc %d", cuts[i], rc);
			elf_object_free(o2);
			rc = elf_object_open_mem(image, cuts[i], &o2);
			CHECK(rc == 0 || rc == -ENOEXEC || rc == -EINVAL,
			      "truncated in memory at %zu: rc %d", cuts[i], rc);
			elf_object_free(o2);
		}
	}
	free(image);
	free(syms.v);

	/* Stripped: only .dynsym, same build-id. */
	rc = open_elf_path(SYMFIX_STRIPPED, &o2);
	load_build_id(SYMFIX_DYN, build_id, sizeof(build_id));
	CHECK(rc == 0 && o2 && o2->symtab == ELF_SYMTAB_DYNSYM && !strcmp(o2->build_id, build_id),
	      "stripped: rc %d symtab %d", rc, o2 ? (int)o2->symtab : -1);
	elf_object_free(o2);
	elf_object_free(o);
}

/* ---- live processes ------------------------------------------------------ */

static void test_live_pie_exited(void)
{
	struct object_check exe = { SYMFIX_PIE, SYMFIX_PIE, false, 0, 0, 0 };
	struct object_check lib = { SYMFIX_LIB, SYMFIX_LIB, false, 0, 0, 0 };
	struct sym_location l1, l2;
	struct symbolizer *s;
	struct child a, b;
	struct tmaps ta, tb;
	uint64_t addr_a, addr_b;
	int rc;

	rc = symbolizer_new(NULL, &s);
	CHECK(rc == 0, "symbolizer_new: %d", rc);
	if (rc || !spawn(SYMFIX_PIE, &a))
		return;
	if (!spawn(SYMFIX_PIE, &b)) {
		finish(&a);
		symbolizer_free(s);
		return;
	}
	tmaps_read_pid(a.pid, &ta);
	tmaps_read_pid(b.pid, &tb);
	check_printed(&a, &ta, SYMFIX_PIE, SYMFIX_PIE, "main");
	check_printed(&a, &ta, SYMFIX_PIE, SYMFIX_PIE, "main_static_a");
	check_printed(&a, &ta, SYMFIX_LIB, SYMFIX_LIB, "lib_static_helper");

	CHECK(symbolizer_track_process(s, a.pid) == 0, "track %d", (int)a.pid);
	CHECK(symbolizer_track_process(s, b.pid) == 0, "track %d", (int)b.pid);

	/* Two processes, one library object: same strings. */
	addr_a = runtime_of(&ta, SYMFIX_LIB, "symfix_lib_work");
	addr_b = runtime_of(&tb, SYMFIX_LIB, "symfix_lib_work");
	CHECK(symbolizer_resolve_user(s, a.pid, addr_a, &l1) == 0 &&
		      symbolizer_resolve_user(s, b.pid, addr_b, &l2) == 0 && l1.nframes == 1 &&
		      l2.nframes == 1 && l1.frames[0].function == l2.frames[0].function &&
		      l1.mapping != l2.mapping && l1.mapping->build_id == l2.mapping->build_id,
	      "the library object is shared between processes");
	/* ... so locating gives both the same object and address in it, and
	 * naming that once names both. */
	CHECK(symbolizer_locate(s, a.pid, 0, NULL, NULL, addr_a, &l1) == 0 &&
		      symbolizer_locate(s, b.pid, 0, NULL, NULL, addr_b, &l2) == 0 && l1.object &&
		      l1.object == l2.object && l1.vaddr == l2.vaddr && l1.nframes == 0 &&
		      l1.mapping != l2.mapping,
	      "located: one object, one address in it, each process's own mapping");
	if (l1.object) {
		symbolizer_resolve_object(&l1);
		CHECK(l1.nframes == 1 && !strcmp(l1.frames[0].function, "symfix_lib_work"),
		      "the object's address names %s",
		      l1.nframes ? l1.frames[0].function : "nothing");
	}
	/* the unwinder's mapping, given, is taken as it is: the same place */
	if (l2.mapping) {
		const struct sym_mapping *m = l2.mapping;

		CHECK(symbolizer_locate(s, b.pid, 0, NULL, m, addr_b, &l2) == 0 &&
			      l2.mapping == m && l2.object == l1.object && l2.vaddr == l1.vaddr,
		      "located with the unwinder's mapping: another place");
	}
	CHECK(symbolizer_resolve_user(s, a.pid, addr_a, &l1) == 0, "resolve again");

	/* A refresh keeps unchanged mappings (same pointers). */
	CHECK(symbolizer_track_process(s, a.pid) == 0, "re-track %d", (int)a.pid);
	CHECK(symbolizer_resolve_user(s, a.pid, addr_a, &l2) == 0 && l2.mapping == l1.mapping,
	      "refresh reused the mapping");

	finish(&b);
	finish(&a);
	/* Exited (and reaped): tracking fails, the snapshot stays. */
	rc = symbolizer_track_process(s, a.pid);
	CHECK(rc == -ESRCH, "track of exited %d: rc %d", (int)a.pid, rc);
	check_object(s, a.pid, &ta, &exe);
	check_object(s, a.pid, &ta, &lib);
	CHECK(exe.exported >= 8 && lib.exported >= 8, "checked %d + %d symbols", exe.exported,
	      lib.exported);
	CHECK(exe.with_lines >= 12 && lib.with_lines >= 12, "file:line for %d + %d addresses",
	      exe.with_lines, lib.with_lines);
	printf("pie (exited): %d functions in the executable, %d in the library; %d + %d "
	       "addresses with file:line\n", exe.exported, lib.exported, exe.with_lines,
	       lib.with_lines);
	free(ta.v);
	free(tb.v);
	symbolizer_free(s);
}

static void test_live_nopie_and_stripped(void)
{
	struct object_check exe = { SYMFIX_NOPIE, SYMFIX_NOPIE, false, 0, 0, 0 };
	struct object_check lib = { SYMFIX_LIB, SYMFIX_LIB, false, 0, 0, 0 };
	struct object_check dyn = { SYMFIX_DYN, SYMFIX_STRIPPED, true, 0, 0, 0 };
	struct symbolizer *s;
	struct child c;
	struct tmaps t;
	int rc;

	rc = symbolizer_new(NULL, &s);
	CHECK(rc == 0, "symbolizer_new: %d", rc);
	if (rc)
		return;

	/* Non-PIE, never tracked explicitly: the first resolve tracks it. */
	if (spawn(SYMFIX_NOPIE, &c)) {
		tmaps_read_pid(c.pid, &t);
		check_printed(&c, &t, SYMFIX_NOPIE, SYMFIX_NOPIE, "main");
		check_printed(&c, &t, SYMFIX_LIB, SYMFIX_LIB, "lib_static_helper");
		check_object(s, c.pid, &t, &exe);
		check_object(s, c.pid, &t, &lib);
		CHECK(exe.exported >= 8 && lib.exported >= 8, "checked %d + %d symbols",
		      exe.exported, lib.exported);
		CHECK(exe.with_lines >= 12 && lib.with_lines >= 12,
		      "file:line for %d + %d addresses", exe.with_lines, lib.with_lines);
		printf("non-pie: %d functions in the executable, %d in the library\n",
		       exe.exported, lib.exported);
		finish(&c);
		free(t.v);
	}

	/* Stripped, exporting its globals. */
	if (spawn(SYMFIX_STRIPPED, &c)) {
		tmaps_read_pid(c.pid, &t);
		check_printed(&c, &t, SYMFIX_DYN, SYMFIX_STRIPPED, "main");
		check_printed(&c, &t, SYMFIX_DYN, SYMFIX_STRIPPED, "dyn_static_one");
		CHECK(symbolizer_track_process(s, c.pid) == 0, "track stripped");
		check_object(s, c.pid, &t, &dyn);
		CHECK(dyn.exported >= 5 && dyn.locals >= 2, "stripped: %d exported, %d local",
		      dyn.exported, dyn.locals);
		printf("stripped: %d exported functions resolved, %d local ones unresolved\n",
		       dyn.exported, dyn.locals);
		finish(&c);
		free(t.v);
	}
	symbolizer_free(s);
}

static void test_dead_pid(void)
{
	struct sym_location loc;
	struct symbolizer *s;
	pid_t pid;
	int rc;

	fflush(NULL);
	pid = fork();
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	if (symbolizer_new(NULL, &s))
		return;
	rc = symbolizer_track_process(s, pid);
	CHECK(rc == -ESRCH, "track dead pid: rc %d", rc);
	rc = symbolizer_resolve_user(s, pid, 0x401000, &loc);
	CHECK(rc == -ESRCH && !loc.mapping && !loc.nframes, "resolve dead pid: rc %d", rc);
	rc = symbolizer_resolve_user(s, pid + 1000000, 0x401000, &loc);
	CHECK(rc == -ESRCH && !loc.mapping, "resolve never-seen dead pid: rc %d", rc);
	CHECK(symbolizer_track_process(s, 0) == -EINVAL && symbolizer_track_process(s, -5) == -EINVAL,
	      "bad pids");
	symbolizer_free(s);
}

/* Our own process: libc resolves, and the [vdso] when glibc tells us where
 * a vDSO function is. */
static void test_self(void)
{
	struct symbolizer *s;
	struct sym_location loc;
	void *vdso, *fn;
	int rc;

	if (symbolizer_new(NULL, &s))
		return;
	rc = symbolizer_resolve_user(s, getpid(), (uint64_t)(uintptr_t)&getpid, &loc);
	CHECK(rc == 0 && loc.nframes == 1 && strstr(loc.frames[0].function, "getpid") &&
		      loc.mapping && strstr(loc.mapping->path, "libc"),
	      "getpid in our libc: rc %d -> %s in %s", rc,
	      loc.nframes ? loc.frames[0].function : "nothing",
	      loc.mapping ? loc.mapping->path : "no mapping");

	vdso = dlopen("linux-vdso.so.1", RTLD_LAZY | RTLD_NOLOAD);
	fn = vdso ? dlsym(vdso, "__vdso_clock_gettime") : NULL;
	if (!fn) {
		printf("note: no vDSO symbol from dlsym; [vdso] check skipped\n");
	} else {
		rc = symbolizer_resolve_user(s, getpid(), (uint64_t)(uintptr_t)fn + 1, &loc);
		CHECK(rc == 0 && loc.mapping && !strcmp(loc.mapping->path, "[vdso]"),
		      "vdso mapping: rc %d", rc);
		if (loc.mapping && loc.mapping->has_functions)
			CHECK(loc.nframes == 1 && strstr(loc.frames[0].function, "clock_gettime"),
			      "vdso function: %s", loc.nframes ? loc.frames[0].function : "nothing");
		else
			printf("note: [vdso] not readable from /proc/self/mem; no vDSO symbols\n");
	}
	if (vdso)
		dlclose(vdso);
	symbolizer_free(s);
}

/* A forked child that rewrites one byte of its own [vdso] (the last of
 * the symbol name at name, a string inside the image) when rewrite, then
 * waits for its stdin to close. */
static pid_t vdso_child(const char *name, bool rewrite, int *to_child)
{
	int go[2], ready[2];
	char c = 0;
	pid_t pid;

	if (pipe2(go, O_CLOEXEC) || pipe2(ready, O_CLOEXEC))
		abort();
	pid = fork();
	if (pid == 0) {
		off_t last = (off_t)(uintptr_t)(name + strlen(name) - 1);
		int mem = open("/proc/self/mem", O_RDWR); /* writes read-only pages, as gdb */

		close(go[1]);
		close(ready[0]);
		c = rewrite && pwrite(mem, "X", 1, last) != 1 ? '!' : 'x';
		(void)!write(ready[1], &c, 1);
		(void)!read(go[0], &c, 1);
		_exit(0);
	}
	close(go[0]);
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1 || c != 'x')
		CHECK(false, "child %d could not rewrite its [vdso]", (int)pid);
	close(ready[0]);
	*to_child = go[1];
	return pid;
}

/* The [vdso] is symbolized with the kernel's image as bpfprof sees it, and
 * only for a process whose [vdso] is byte for byte the same: a process
 * that rewrote its own (here the name of a symbol) gets no vDSO names, and
 * the next process is not given its version either (the first process
 * seen used to supply the vDSO symbols of all). */
static void test_vdso_rewritten(void)
{
	void *vdso = dlopen("linux-vdso.so.1", RTLD_LAZY | RTLD_NOLOAD);
	void *fn = vdso ? dlsym(vdso, "__vdso_clock_gettime") : NULL;
	const char *name = NULL;
	struct sym_location loc;
	struct symbolizer *s;
	int to_bad, to_good;
	pid_t bad, good;
	Dl_info info;

	if (fn && dladdr(fn, &info) && info.dli_sname)
		name = info.dli_sname; /* the string inside the [vdso] image */
	if (!name || symbolizer_new(NULL, &s)) {
		printf("note: no vDSO symbol from dladdr; [vdso] rewrite check skipped\n");
		if (vdso)
			dlclose(vdso);
		return;
	}
	bad = vdso_child(name, true, &to_bad);
	good = vdso_child(name, false, &to_good);
	CHECK(symbolizer_track_process(s, bad) == 0, "track %d", (int)bad);
	CHECK(symbolizer_resolve_user(s, bad, (uint64_t)(uintptr_t)fn + 1, &loc) == 0 &&
		      loc.mapping && loc.nframes == 0,
	      "a rewritten [vdso] is not symbolized: %s",
	      loc.nframes ? loc.frames[0].function : "nothing");
	CHECK(symbolizer_track_process(s, good) == 0, "track %d", (int)good);
	CHECK(symbolizer_resolve_user(s, good, (uint64_t)(uintptr_t)fn + 1, &loc) == 0 &&
		      loc.nframes == 1 && !strcmp(loc.frames[0].function, "__vdso_clock_gettime"),
	      "the next process gets the kernel's names: %s",
	      loc.nframes ? loc.frames[0].function : "nothing");
	close(to_bad);
	close(to_good);
	waitpid(bad, NULL, 0);
	waitpid(good, NULL, 0);
	symbolizer_free(s);
	dlclose(vdso);
}

/* ---- a fake /proc tree -------------------------------------------------- */

static void test_fake_proc(const char *tmpdir)
{
	const uint64_t bases[] = { 0x7f0000000000, 0x7f1000000000, 0x7f2000000000,
				   0x7f3000000000, 0x7f4000000000, 0x7f5000000000,
				   0x7f6000000000 };
	struct object_check lib = { SYMFIX_LIB, SYMFIX_LIB, false, 0, 0, 0 };
	struct object_check copy = { SYMFIX_LIB, NULL, false, 0, 0, 0 };
	char proc[512], piddir[1024], maps[2048], rootlink[2048], notelf[1024];
	char dir_sp[512], copy_path[1024], real[PATH_MAX], kpath[1024];
	struct symbolizer_opts opts = { .sz = sizeof(opts) };
	const struct sym_mapping *anon_mapping = NULL;
	struct stat st_lib, st_copy, st_txt;
	struct seg segs[16], *x = NULL;
	struct sym_location loc;
	struct symbolizer *s;
	size_t nsegs, len;
	uint64_t xoff, xlen;
	struct tmaps t;
	char *image;
	FILE *f;
	int rc;

	snprintf(proc, sizeof(proc), "%s/proc", tmpdir);
	snprintf(piddir, sizeof(piddir), "%s/4242", proc);
	snprintf(maps, sizeof(maps), "%s/maps", piddir);
	snprintf(notelf, sizeof(notelf), "%s/notelf.txt", tmpdir);
	snprintf(dir_sp, sizeof(dir_sp), "%s/with space", tmpdir);
	snprintf(copy_path, sizeof(copy_path), "%s/lib copy.so", dir_sp);
	snprintf(kpath, sizeof(kpath), "%s/kallsyms", tmpdir);
	snprintf(rootlink, sizeof(rootlink), "%s/root", piddir);
	if (mkdir(proc, 0755) || mkdir(piddir, 0755) || mkdir(dir_sp, 0755) ||
	    symlink("/", rootlink) || !realpath(SYMFIX_LIB, real))
		abort(); /* files are found through root/, as in the real /proc */
	image = slurp(SYMFIX_LIB, &len);
	write_file(copy_path, image, len);
	free(image);
	write_str(notelf, "just text, but mapped executable\n");
	if (stat(real, &st_lib) || stat(copy_path, &st_copy) || stat(notelf, &st_txt))
		abort();
	copy.mapped_file = copy_path;

	/* Lay the library's executable segment out like ld.so would. */
	nsegs = load_segments(real, segs, ARRAY_SIZE(segs));
	for (size_t i = 0; i < nsegs && !x; i++)
		if (segs[i].exec)
			x = &segs[i];
	if (!x) {
		CHECK(false, "no executable segment in %s", real);
		return;
	}
	xoff = x->offset & ~0xfffull; /* a mapping at base + xoff maps file offset xoff */
	xlen = (x->offset + x->filesz - xoff + 0xfff) & ~0xfffull;

	f = fopen(maps, "w");
	if (!f)
		abort();
	/* 0: the library, read-only first page then its code */
	fprintf(f, "%" PRIx64 "-%" PRIx64 " r--p 00000000 fe:01 %lu   %s\n", bases[0],
		bases[0] + 0x1000, (unsigned long)st_lib.st_ino, real);
	fprintf(f, "%" PRIx64 "-%" PRIx64 " r-xp %08" PRIx64 " fe:01 %lu   %s\n",
		bases[0] + xoff, bases[0] + xoff + xlen, xoff,
		(unsigned long)st_lib.st_ino, real);
	/* 1: the same, deleted: no name to open it by */
	fprintf(f, "%" PRIx64 "-%" PRIx64 " r-xp %08" PRIx64 " fe:01 %lu   %s (deleted)\n",
		bases[1] + xoff, bases[1] + xoff + xlen, xoff,
		(unsigned long)st_lib.st_ino, real);
	/* 2: a different inode at that path: replaced since, not used */
	fprintf(f, "%" PRIx64 "-%" PRIx64 " r-xp %08" PRIx64 " fe:01 %lu   %s\n",
		bases[2] + xoff, bases[2] + xoff + xlen, xoff,
		(unsigned long)st_lib.st_ino + 1, real);
	/* 3: not ELF */
	fprintf(f, "%" PRIx64 "-%" PRIx64 " r-xp 00000000 fe:01 %lu   %s\n", bases[3],
		bases[3] + 0x1000, (unsigned long)st_txt.st_ino, notelf);
	/* 4: anonymous executable memory (JIT) */
	fprintf(f, "%" PRIx64 "-%" PRIx64 " rwxp 00000000 00:00 0\n", bases[4],
		bases[4] + 0x1000);
	/* 5: [vdso] with no mem file to read it from */
	fprintf(f, "%" PRIx64 "-%" PRIx64 " r-xp 00000000 00:00 0   [vdso]\n", bases[5],
		bases[5] + 0x2000);
	/* 6: a copy of the library under a path with spaces */
	fprintf(f, "%" PRIx64 "-%" PRIx64 " r-xp %08" PRIx64 " fe:01 %lu   %s\n",
		bases[6] + xoff, bases[6] + xoff + xlen, xoff,
		(unsigned long)st_copy.st_ino, copy_path);
	fclose(f);
	tmaps_read(maps, &t);

	opts.proc_dir = proc;
	opts.kallsyms_path = kpath;
	rc = symbolizer_new(&opts, &s);
	CHECK(rc == 0, "symbolizer_new(fake proc): %d", rc);
	if (rc)
		return;
	fprintf(stderr, "(expected below: one 'open' failure for the replaced inode, one for "
			"the deleted file)\n");
	rc = symbolizer_track_process(s, 4242);
	CHECK(rc == 0, "track fake 4242: rc %d", rc);
	check_object(s, 4242, &t, &lib);
	check_object(s, 4242, &t, &copy);
	CHECK(lib.exported >= 8 && copy.exported >= 8, "fake proc: %d + %d symbols", lib.exported,
	      copy.exported);

	for (int i = 1; i <= 5; i++) {
		uint64_t addr = bases[i] + (i <= 2 ? xoff : 0) + 0x10;
		static const char *const want_path[] = { NULL, NULL, NULL, NULL, "", "[vdso]" };

		rc = symbolizer_resolve_user(s, 4242, addr, &loc);
		CHECK(rc == 0 && loc.mapping && !loc.mapping->has_functions && loc.nframes == 0 &&
			      !strcmp(loc.mapping->build_id, ""),
		      "fake mapping %d: rc %d mapping %p has_functions %d nframes %d", i, rc,
		      (const void *)loc.mapping, loc.mapping ? loc.mapping->has_functions : -1,
		      loc.nframes);
		if (!loc.mapping)
			continue;
		if (i <= 2)
			CHECK(!strcmp(loc.mapping->path, real), "fake mapping %d path %s", i,
			      loc.mapping->path);
		else if (i == 3)
			CHECK(!strcmp(loc.mapping->path, notelf), "non-ELF path %s", loc.mapping->path);
		else
			CHECK(!strcmp(loc.mapping->path, want_path[i]), "fake mapping %d path '%s'", i,
			      loc.mapping->path);
		if (i == 4)
			anon_mapping = loc.mapping;
	}
	rc = symbolizer_resolve_user(s, 4242, bases[0] + 0x10, &loc);
	CHECK(rc == 0 && !loc.mapping, "non-executable mapping: rc %d mapping %p", rc,
	      (const void *)loc.mapping);
	rc = symbolizer_resolve_user(s, 4242, 0x1000, &loc);
	CHECK(rc == 0 && !loc.mapping && !loc.nframes, "unmapped address: rc %d", rc);
	rc = symbolizer_resolve_user(s, 4243, 0x1000, &loc);
	CHECK(rc == -ESRCH && !loc.mapping, "missing fake pid: rc %d", rc);

	/* Refresh without the anonymous mapping: the old pointer stays valid. */
	f = fopen(maps, "w");
	if (!f)
		abort();
	fprintf(f, "%" PRIx64 "-%" PRIx64 " r-xp %08" PRIx64 " fe:01 %lu   %s\n",
		bases[0] + xoff, bases[0] + xoff + xlen, xoff,
		(unsigned long)st_lib.st_ino, real);
	fclose(f);
	rc = symbolizer_resolve_user(s, 4242, bases[0] + xoff + 0x10, &loc);
	{
		const struct sym_mapping *before = loc.mapping;

		CHECK(symbolizer_track_process(s, 4242) == 0, "refresh fake 4242");
		rc = symbolizer_resolve_user(s, 4242, bases[0] + xoff + 0x10, &loc);
		CHECK(rc == 0 && before && loc.mapping == before, "unchanged mapping reused");
		rc = symbolizer_resolve_user(s, 4242, bases[4] + 0x10, &loc);
		CHECK(rc == 0 && !loc.mapping, "removed mapping gone after refresh");
		CHECK(anon_mapping && !strcmp(anon_mapping->path, "") &&
			      anon_mapping->start == bases[4],
		      "a retired mapping stays readable");
	}
	/* dlclose, then dlopen of another file at the same address: a frame
	 * is named with the file its sample saw there (struct sym_vma). */
	{
		uint64_t pc = bases[0] + xoff + 0x10;
		struct sym_vma seen = { .start = bases[0] + xoff, .end = bases[0] + xoff + xlen,
					.base = bases[0], .ino = st_lib.st_ino,
					.dev_major = 0xfe, .dev_minor = 1 };
		struct symbolizer_stats st = { .sz = sizeof(st) };

		f = fopen(maps, "w");
		if (!f)
			abort();
		fprintf(f, "%" PRIx64 "-%" PRIx64 " r-xp %08" PRIx64 " fe:01 %lu   %s\n",
			bases[0] + xoff, bases[0] + xoff + xlen, xoff,
			(unsigned long)st_copy.st_ino, copy_path);
		fclose(f);
		CHECK(symbolizer_track_process(s, 4242) == 0, "refresh fake 4242 (remapped)");
		rc = symbolizer_resolve_user_sampled(s, 4242, 0, &seen, pc, &loc);
		CHECK(rc == 0 && loc.mapping && !strcmp(loc.mapping->path, real),
		      "sampled in the library unmapped since: %s",
		      loc.mapping ? loc.mapping->path : "no mapping");
		rc = symbolizer_resolve_user_sampled(s, 4242, 0, &seen, pc + 0x20, &loc);
		CHECK(rc == 0 && loc.mapping && !strcmp(loc.mapping->path, real),
		      "another frame in the sample's vma: %s",
		      loc.mapping ? loc.mapping->path : "no mapping");
		seen.ino = st_copy.st_ino;
		rc = symbolizer_resolve_user_sampled(s, 4242, 0, &seen, pc, &loc);
		CHECK(rc == 0 && loc.mapping && !strcmp(loc.mapping->path, copy_path),
		      "sampled in the library mapped now: %s",
		      loc.mapping ? loc.mapping->path : "no mapping");
		seen.ino = st_lib.st_ino + st_copy.st_ino; /* never read */
		rc = symbolizer_resolve_user_sampled(s, 4242, 0, &seen, pc, &loc);
		CHECK(rc == 0 && !loc.mapping && !loc.nframes, "sampled in a file never read: %s",
		      loc.mapping ? loc.mapping->path : "no mapping");
		rc = symbolizer_resolve_user_sampled(s, 4242, 0, &seen, seen.end + 0x10, &loc);
		CHECK(rc == 0 && !loc.mapping, "outside the sample's vma: the current maps");
		seen.dev_minor = 2; /* overlayfs: the kernel's device is the layer's */
		rc = symbolizer_resolve_user_sampled(s, 4242, 0, &seen, pc, &loc);
		CHECK(rc == 0 && loc.mapping && !strcmp(loc.mapping->path, copy_path),
		      "another device: the current mapping");
		symbolizer_get_stats(s, &st);
		CHECK(st.frames_remapped == 2 && st.frames_stale == 1,
		      "remapped %" PRIu64 " stale %" PRIu64, st.frames_remapped, st.frames_stale);
	}
	/* An empty maps (a zombie) keeps the last snapshot. */
	write_str(maps, "");
	rc = symbolizer_track_process(s, 4242);
	CHECK(rc == -ESRCH, "empty maps on refresh: rc %d", rc);
	rc = symbolizer_resolve_user(s, 4242, bases[0] + xoff + 0x10, &loc);
	CHECK(rc == 0 && loc.mapping, "snapshot kept after empty maps");
	/* Malformed maps: an error, snapshot kept. */
	write_str(maps, "garbage\n");
	rc = symbolizer_track_process(s, 4242);
	CHECK(rc == -EINVAL, "malformed maps: rc %d", rc);

	/* Kernel from a crafted kallsyms: explicit path, so no build-id. */
	write_str(kpath, "ffffffff81000000 T _text\nffffffff81000100 T crafted_fn\n"
			 "ffffffff81000200 T _etext\n");
	rc = symbolizer_resolve_kernel(s, 0xffffffff81000150, &loc);
	CHECK(rc == 0 && loc.mapping && loc.nframes == 1 &&
		      !strcmp(loc.frames[0].function, "crafted_fn") &&
		      !strcmp(loc.mapping->path, "[kernel.kallsyms]") &&
		      !strcmp(loc.mapping->build_id, "") && loc.mapping->has_functions &&
		      loc.mapping->start == 0xffffffff81000000,
	      "crafted kernel: rc %d", rc);
	rc = symbolizer_resolve_kernel(s, 0xffffffff81000250, &loc);
	CHECK(rc == 0 && loc.mapping && loc.nframes == 0, "past _etext: rc %d nframes %d", rc,
	      loc.nframes);
	symbolizer_free(s);
	free(t.v);

	/* Hidden kernel addresses: one clear error. */
	write_str(kpath, "0000000000000000 T _text\n");
	opts.kallsyms_path = kpath;
	if (symbolizer_new(&opts, &s) == 0) {
		fprintf(stderr, "(expected below: kernel addresses are hidden)\n");
		rc = symbolizer_resolve_kernel(s, 0xffffffff81000150, &loc);
		CHECK(rc == -EPERM && !loc.mapping, "hidden kallsyms: rc %d", rc);
		rc = symbolizer_resolve_kernel(s, 0xffffffff81000150, &loc);
		CHECK(rc == -EPERM, "hidden kallsyms, again: rc %d", rc);
		symbolizer_free(s);
	}
}

/* ---- the running kernel -------------------------------------------------- */

static void test_real_kernel(void)
{
	static const char *const wanted[] = { "vfs_read", "do_sys_open", "schedule",
					      "ksys_read", "do_syscall_64" };
	struct symbolizer *s;
	struct sym_location loc;
	char *line = NULL, name[256], mod[256], type;
	char want_name[256] = "", want_mod[256] = "", mod_name[256] = "", notes_id[160] = "";
	uint64_t want = 0, mod_addr = 0, addr, etext = 0;
	size_t len = 0;
	bool nonzero = false;
	FILE *f = fopen("/proc/kallsyms", "r");
	int rc;

	if (!f) {
		printf("note: no /proc/kallsyms; kernel checks skipped\n");
		return;
	}
	/* Pick a well-known function, and the first module text symbol. */
	for (size_t w = 0; w < ARRAY_SIZE(wanted) && !want; w++) {
		rewind(f);
		while (getline(&line, &len, f) > 0) {
			mod[0] = '\0';
			if (sscanf(line, "%" SCNx64 " %c %255s [%255[^]]", &addr, &type, name, mod) < 3)
				continue;
			nonzero |= addr != 0;
			if (!strcmp(name, "_etext"))
				etext = addr;
			if (!strchr("tTwW", type) || !addr)
				continue;
			if (!want && (type == 'T' || type == 't') && !strcmp(name, wanted[w])) {
				want = addr;
				snprintf(want_name, sizeof(want_name), "%s", name);
			}
			if (mod[0] && !mod_addr) {
				mod_addr = addr;
				snprintf(want_mod, sizeof(want_mod), "%s", name);
				snprintf(mod_name, sizeof(mod_name), "%s", mod);
			}
		}
	}
	if (!nonzero) {
		printf("note: kallsyms addresses are hidden (not root?); kernel checks skipped\n");
		goto out;
	}
	if (symbolizer_new(NULL, &s))
		goto out;

	{ /* The build-id, read here without our parser. */
		unsigned char buf[4096];
		int fd = open("/sys/kernel/notes", O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;

		for (ssize_t off = 0; n > 0 && off + 12 <= n;) {
			uint32_t h[3];

			memcpy(h, buf + off, 12);
			if (h[2] == 3 && h[0] == 4 && !memcmp(buf + off + 12, "GNU", 4)) {
				for (uint32_t i = 0; i < h[1] && off + 16 + i < n && i < 64; i++)
					sprintf(notes_id + 2 * i, "%02x", buf[off + 16 + i]);
				break;
			}
			off += 12 + ((h[0] + 3) & ~3u) + ((h[1] + 3) & ~3u);
		}
		if (fd >= 0)
			close(fd);
	}

	CHECK(want != 0, "none of the well-known functions found in /proc/kallsyms");
	if (want) {
		for (uint64_t off = 0; off < 2; off++) {
			rc = symbolizer_resolve_kernel(s, want + off, &loc);
			CHECK(rc == 0 && loc.nframes == 1 && !strcmp(loc.frames[0].function, want_name),
			      "kernel %s+%" PRIu64 ": rc %d -> %s", want_name, off, rc,
			      loc.nframes ? loc.frames[0].function : "nothing");
			CHECK(loc.mapping && !strcmp(loc.mapping->path, "[kernel.kallsyms]") &&
				      loc.mapping->has_functions && loc.mapping->start <= want &&
				      want < loc.mapping->limit &&
				      !strcmp(loc.mapping->build_id, notes_id),
			      "kernel mapping: build-id '%s' want '%s'",
			      loc.mapping ? loc.mapping->build_id : "", notes_id);
		}
		printf("kernel: %s at %#" PRIx64 " resolved, build-id '%s'\n", want_name, want,
		       notes_id);
	}
	if (etext) {
		rc = symbolizer_resolve_kernel(s, etext, &loc);
		CHECK(rc == 0 && loc.nframes == 0, "_etext resolved to %s",
		      loc.nframes ? loc.frames[0].function : "nothing");
	}
	rc = symbolizer_resolve_kernel(s, 0x400000, &loc);
	CHECK(rc == 0 && loc.nframes == 0, "user address in the kernel: rc %d nframes %d", rc,
	      loc.nframes);
	if (mod_addr) {
		rc = symbolizer_resolve_kernel(s, mod_addr, &loc);
		CHECK(rc == 0 && loc.nframes == 1 && !strcmp(loc.frames[0].function, want_mod),
		      "module symbol %s [%s]: rc %d -> %s", want_mod, mod_name, rc,
		      loc.nframes ? loc.frames[0].function : "nothing");
		printf("kernel: module symbol %s [%s] resolved\n", want_mod, mod_name);
	} else {
		printf("note: no module symbols in /proc/kallsyms; module check skipped\n");
	}
	symbolizer_free(s);
out:
	free(line);
	fclose(f);
}

/* ---- DWARF: file:line and inline chains --------------------------------- */

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* [lo, hi) of section `name` of file, from readelf -S. */
static bool section_range(const char *file, const char *name, uint64_t *lo, uint64_t *hi)
{
	char cmd[PATH_MAX + 64], line[512];
	bool found = false;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "'%s' -SW '%s' 2>/dev/null", SYMFIX_READELF, file);
	f = popen(cmd, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ']'), sname[64], type[64];
		uint64_t addr, off, size;

		if (!found && p &&
		    sscanf(p + 1, "%63s %63s %" SCNx64 " %" SCNx64 " %" SCNx64, sname, type, &addr,
			   &off, &size) == 5 &&
		    !strcmp(sname, name)) {
			*lo = addr;
			*hi = addr + size;
			found = true;
		}
	}
	pclose(f);
	CHECK(found, "readelf found no %s in %s", name, file);
	return found;
}

/* What llvm-symbolizer --inlining says about one address. */
struct ref_loc {
	int n;
	struct {
		char function[160];
		char file[160]; /* basename */
		int line;
	} f[SYM_MAX_FRAMES];
};

static void copy_str(char *dst, size_t size, const char *src)
{
	size_t len = strnlen(src, size - 1);

	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* Runs llvm-symbolizer on the ELF vaddrs of file (one run for all). */
static bool llvm_symbolize(const char *file, const uint64_t *addrs, size_t n,
			   struct ref_loc *out, const char *tmpdir)
{
	char path[PATH_MAX], cmd[3 * PATH_MAX], fn[512], loc[PATH_MAX + 64];
	size_t i = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/llvm-addrs.txt", tmpdir);
	f = fopen(path, "w");
	if (!f)
		abort();
	for (size_t k = 0; k < n; k++)
		fprintf(f, "%#" PRIx64 "\n", addrs[k]);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "'%s' --inlining --no-demangle --obj='%s' < '%s'",
		 SYMFIX_LLVM_SYMBOLIZER, file, path);
	f = popen(cmd, "r");
	if (!f)
		return false;
	memset(out, 0, n * sizeof(*out));
	while (i < n && fgets(fn, sizeof(fn), f)) {
		struct ref_loc *r = &out[i];
		char *colon;

		fn[strcspn(fn, "\n")] = '\0';
		if (!fn[0]) { /* blank line: next address */
			i++;
			continue;
		}
		if (!fgets(loc, sizeof(loc), f))
			break;
		if (r->n == SYM_MAX_FRAMES)
			continue;
		copy_str(r->f[r->n].function, sizeof(r->f[0].function), fn);
		colon = strrchr(loc, ':'); /* file:line:column */
		if (colon)
			*colon = '\0';
		colon = strrchr(loc, ':');
		if (colon) {
			*colon = '\0';
			r->f[r->n].line = atoi(colon + 1);
		}
		copy_str(r->f[r->n].file, sizeof(r->f[0].file), base_name(loc));
		r->n++;
	}
	CHECK(pclose(f) == 0 && i == n, "%s: %zu of %zu addresses", cmd, i, n);
	return i == n;
}

static bool same_as_llvm(const struct sym_location *loc, const struct ref_loc *r)
{
	/* llvm names a line-table-only address (padding) "??"; we give no
	 * frame there, pprof needs a function name. */
	if (r->n == 1 && !strcmp(r->f[0].function, "??"))
		return loc->nframes == 0;
	if (loc->nframes != r->n)
		return false;
	for (int i = 0; i < r->n; i++) {
		const struct sym_frame *f = &loc->frames[i];

		if (strcmp(f->function, r->f[i].function) || f->line != r->f[i].line)
			return false;
		/* line 0: llvm shows the CU's name where there are no rows */
		if (r->f[i].line && (!f->file || strcmp(base_name(f->file), r->f[i].file)))
			return false;
	}
	return true;
}

struct agreement {
	size_t total, same;
	size_t inlined;     /* addresses with 2+ frames */
	int deepest;        /* most frames at one address */
};

/* Resolves every byte of [lo, hi) (ELF vaddrs of file, mapped by pid) and
 * compares each answer with llvm-symbolizer's. */
static void compare_with_llvm(struct symbolizer *s, pid_t pid, const struct tmaps *t,
			      const char *file, uint64_t lo, uint64_t hi, const char *tmpdir,
			      struct agreement *a)
{
	size_t n = (size_t)(hi - lo), shown = 0;
	uint64_t *addrs = calloc(n, sizeof(*addrs));
	struct ref_loc *refs = calloc(n, sizeof(*refs));
	struct seg segs[16];
	char real[PATH_MAX];
	size_t nsegs;

	memset(a, 0, sizeof(*a));
	if (!addrs || !refs || !realpath(file, real))
		abort();
	for (size_t i = 0; i < n; i++)
		addrs[i] = lo + i;
	nsegs = load_segments(real, segs, ARRAY_SIZE(segs));
	if (!llvm_symbolize(real, addrs, n, refs, tmpdir))
		n = 0;
	for (size_t i = 0; i < n; i++) {
		struct sym_location loc;
		uint64_t rt;
		int rc;

		if (!runtime_addr(t, real, segs, nsegs, addrs[i], &rt)) {
			CHECK(false, "%s: %#" PRIx64 " is not mapped", real, addrs[i]);
			continue;
		}
		rc = symbolizer_resolve_user(s, pid, rt, &loc);
		CHECK(rc == 0 && loc.mapping, "resolve %#" PRIx64 ": rc %d", addrs[i], rc);
		a->total++;
		if (same_as_llvm(&loc, &refs[i])) {
			a->same++;
		} else if (shown++ < 5) {
			printf("  %#" PRIx64 ": %d frames, llvm %d:", addrs[i], loc.nframes, refs[i].n);
			for (int k = 0; k < loc.nframes || k < refs[i].n; k++)
				printf(" [%s %s:%d | %s %s:%d]",
				       k < loc.nframes ? loc.frames[k].function : "-",
				       k < loc.nframes && loc.frames[k].file ?
					       base_name(loc.frames[k].file) : "-",
				       k < loc.nframes ? loc.frames[k].line : 0,
				       k < refs[i].n ? refs[i].f[k].function : "-",
				       k < refs[i].n ? refs[i].f[k].file : "-",
				       k < refs[i].n ? refs[i].f[k].line : 0);
			printf("\n");
		}
		a->inlined += loc.nframes >= 2;
		if (loc.nframes > a->deepest)
			a->deepest = loc.nframes;
		/* A function starts at or before the lines it holds. */
		for (int k = 0; k < loc.nframes; k++)
			CHECK(!loc.frames[k].line || !loc.frames[k].start_line ||
				      loc.frames[k].start_line <= loc.frames[k].line,
			      "%s: start line %d after line %d", loc.frames[k].function,
			      loc.frames[k].start_line, loc.frames[k].line);
	}
	free(addrs);
	free(refs);
}

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The -O2 fixture with inline chains, resolved through a live process. */
static void test_inline_chains(const char *tmpdir)
{
	const struct nm_sym *sym;
	struct agreement a;
	struct nm_list syms;
	struct symbolizer *s;
	struct sym_location loc;
	struct child c;
	struct tmaps t;
	uint64_t lo, hi, hot, size;
	bool chain_seen = false;
	double t0;
	int iters = 0;

	if (!SYMFIX_LLVM_SYMBOLIZER[0]) {
		printf("note: no llvm-symbolizer; inline chains not checked\n");
		return;
	}
	if (symbolizer_new(NULL, &s))
		return;
	if (!spawn(SYMFIX_INLINE, &c)) {
		symbolizer_free(s);
		return;
	}
	tmaps_read_pid(c.pid, &t);
	check_printed(&c, &t, SYMFIX_INLINE, SYMFIX_INLINE, "inline_hot");
	CHECK(symbolizer_track_process(s, c.pid) == 0, "track inline fixture");
	if (section_range(SYMFIX_INLINE, ".text", &lo, &hi)) {
		compare_with_llvm(s, c.pid, &t, SYMFIX_INLINE, lo, hi, tmpdir, &a);
		CHECK(a.total > 50 && a.same * 100 >= a.total * 99,
		      "inline fixture: %zu of %zu addresses agree with llvm-symbolizer", a.same,
		      a.total);
		CHECK(a.inlined >= 10 && a.deepest >= 3,
		      "inline fixture: %zu addresses with inline frames, at most %d frames",
		      a.inlined, a.deepest);
		printf("inline fixture: %zu/%zu addresses agree with llvm-symbolizer --inlining, "
		       "%zu with inline frames, up to %d frames\n",
		       a.same, a.total, a.inlined, a.deepest);
	}

	/* The two-level chain: mix <- step <- inline_hot, somewhere in it. */
	nm_load(SYMFIX_INLINE, false, &syms);
	sym = nm_find(&syms, "inline_hot");
	hot = runtime_of(&t, SYMFIX_INLINE, "inline_hot");
	size = sym && hot ? sym->size : 0;
	for (uint64_t addr = hot; addr < hot + size && !chain_seen; addr++) {
		if (symbolizer_resolve_user(s, c.pid, addr, &loc) || loc.nframes < 3)
			continue;
		chain_seen = !strcmp(loc.frames[loc.nframes - 1].function, "inline_hot") &&
			     !strcmp(loc.frames[loc.nframes - 2].function, "step") &&
			     !strcmp(loc.frames[loc.nframes - 3].function, "mix");
		CHECK(loc.mapping->has_inline_frames && loc.mapping->has_line_numbers &&
			      loc.mapping->has_filenames && loc.mapping->has_functions,
		      "inline fixture mapping flags");
		for (int k = 0; chain_seen && k < loc.nframes; k++)
			CHECK(loc.frames[k].file &&
				      !strcmp(base_name(loc.frames[k].file), "fixture_inline.c") &&
				      loc.frames[k].line > 0 && loc.frames[k].start_line > 0,
			      "frame %d: %s %s:%d start %d", k, loc.frames[k].function,
			      loc.frames[k].file, loc.frames[k].line, loc.frames[k].start_line);
	}
	CHECK(chain_seen, "no address in inline_hot resolves to mix <- step <- inline_hot");

	/* Speed, not asserted: the same few addresses over and over, as in a
	 * profile, through the whole symbolizer. */
	t0 = now_sec();
	for (; size && iters < 1000000; iters++)
		symbolizer_resolve_user(s, c.pid, hot + (uint64_t)iters * 7 % size, &loc);
	if (iters)
		printf("inline fixture: %.3f us per symbolizer_resolve_user\n",
		       (now_sec() - t0) * 1e6 / iters);
	finish(&c);
	free(syms.v);
	free(t.v);
	symbolizer_free(s);
}

/* dwarf_index on its own: files without DWARF, damaged files, a separate
 * debug file (glibc's from libc6-dbg, when installed), and its speed. */
static void test_dwarf_index(const char *tmpdir)
{
	struct dwarf_index *ix;
	struct sym_frame frames[SYM_MAX_FRAMES];
	char path[PATH_MAX], dbg[PATH_MAX];
	struct sym_location loc;
	struct elf_object *libc;
	struct symbolizer *s;
	size_t len;
	char *image;
	int fd, rc;

	/* No DWARF: not ELF, stripped. */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	rc = dwarf_index_open(fd, &ix);
	CHECK(rc == -ENODATA && !ix, "/dev/null: rc %d", rc);
	close(fd);
	fd = open(SYMFIX_STRIPPED, O_RDONLY | O_CLOEXEC);
	rc = dwarf_index_open(fd, &ix);
	CHECK(rc == -ENODATA && !ix, "stripped: rc %d", rc);
	close(fd);

	fd = open(SYMFIX_INLINE, O_RDONLY | O_CLOEXEC);
	rc = dwarf_index_open(fd, &ix);
	close(fd);
	CHECK(rc == 0 && ix, "inline fixture: rc %d", rc);
	if (rc)
		return;
	CHECK(dwarf_index_flags(ix) == (DWARF_INDEX_FUNCTIONS | DWARF_INDEX_LINES) &&
		      dwarf_index_memory(ix) > 0,
	      "flags %#x memory %zu", dwarf_index_flags(ix), dwarf_index_memory(ix));
	CHECK(dwarf_index_lookup(ix, 0, frames, SYM_MAX_FRAMES) == 0 &&
		      dwarf_index_lookup(ix, UINT64_MAX, frames, SYM_MAX_FRAMES) == 0,
	      "addresses outside the code");
	printf("inline fixture: DWARF index of %zu bytes\n", dwarf_index_memory(ix));
	dwarf_index_free(ix);

	/* Truncated copies: an error or a partial index, never a crash. */
	image = slurp(SYMFIX_INLINE, &len);
	snprintf(path, sizeof(path), "%s/truncated_dwarf", tmpdir);
	for (size_t cut = len / 16; cut < len; cut += len / 16) {
		write_file(path, image, cut);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		rc = dwarf_index_open(fd, &ix);
		close(fd);
		CHECK(rc == 0 || rc == -ENODATA || rc == -EINVAL, "truncated at %zu: rc %d", cut, rc);
		if (!rc)
			dwarf_index_lookup(ix, 0x1100, frames, SYM_MAX_FRAMES);
		dwarf_index_free(ix);
	}
	free(image);

	/* glibc from its separate debug file, found by build-id. */
	if (symbolizer_new(NULL, &s))
		return;
	rc = symbolizer_resolve_user(s, getpid(), (uint64_t)(uintptr_t)&getpid, &loc);
	if (rc || !loc.mapping || strlen(loc.mapping->build_id) < 3) {
		printf("note: no build-id for our libc; separate debug file not tried\n");
		symbolizer_free(s);
		return;
	}
	snprintf(dbg, sizeof(dbg), "/usr/lib/debug/.build-id/%.2s/%s.debug", loc.mapping->build_id,
		 loc.mapping->build_id + 2);
	fd = open(dbg, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		printf("note: no %s (libc6-dbg); separate debug file not tried\n", dbg);
		symbolizer_free(s);
		return;
	}
	{
		uint64_t vaddr = 0, lo = 0, hi = 0, state = 0x9e3779b97f4a7c15ull;
		const int nlookups = 1000000;
		double t0 = now_sec(), t1;
		int found = 0;

		rc = dwarf_index_open(fd, &ix);
		t1 = now_sec();
		close(fd);
		CHECK(rc == 0, "%s: rc %d", dbg, rc);
		if (!rc && open_elf_path(loc.mapping->path, &libc) == 0) {
			rc = elf_object_file_to_vaddr(libc, (uint64_t)(uintptr_t)&getpid -
							    loc.mapping->start +
							    loc.mapping->file_offset,
						      &vaddr);
			CHECK(rc == 0 && dwarf_index_lookup(ix, vaddr, frames, SYM_MAX_FRAMES) >= 1 &&
				      frames[0].function && strstr(frames[0].function, "getpid") &&
				      frames[0].file && frames[0].line > 0,
			      "getpid from libc6-dbg: %s", frames[0].function);
			if (section_range(dbg, ".text", &lo, &hi) && hi > lo) {
				double t2 = now_sec();

				for (int i = 0; i < nlookups; i++) {
					state = state * 6364136223846793005ull + 1442695040888963407ull;
					found += dwarf_index_lookup(ix, lo + (state >> 20) % (hi - lo),
								    frames, SYM_MAX_FRAMES) > 0;
				}
				printf("libc6-dbg: index built in %.3f s, %zu bytes; %.3f us per "
				       "lookup of a random address (%d%% found)\n",
				       t1 - t0, dwarf_index_memory(ix),
				       (now_sec() - t2) * 1e6 / nlookups, found / (nlookups / 100));
			}
			elf_object_free(libc);
		}
		dwarf_index_free(ix);
	}
	symbolizer_free(s);
}

/* A Go binary, built here: Go's own DWARF, inlined subroutines. */
static void test_go(const char *tmpdir)
{
	struct agreement a = { 0 };
	struct nm_list syms;
	const struct nm_sym *hot;
	struct symbolizer *s;
	struct child c;
	struct tmaps t;
	char bin[PATH_MAX], cmd[4 * PATH_MAX];
	size_t resolved = 0, inlined = 0, n = 0;
	uint64_t rt;
	int rc;

	if (!SYMFIX_GO[0] || access(SYMFIX_GO, X_OK)) {
		printf("note: no go toolchain; Go binary not checked\n");
		return;
	}
	snprintf(bin, sizeof(bin), "%s/symfix_go", tmpdir);
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && GOFLAGS=-buildvcs=false GOENV=off GOCACHE='%s/gocache' "
		 "GOPATH='%s/gopath' '%s' build -o '%s' . 2>&1",
		 SYMFIX_GO_SRC, tmpdir, tmpdir, SYMFIX_GO, bin);
	rc = system(cmd);
	CHECK(rc == 0, "%s: status %#x", cmd, rc);
	if (rc || symbolizer_new(NULL, &s))
		return;
	if (!spawn(bin, &c)) {
		symbolizer_free(s);
		return;
	}
	tmaps_read_pid(c.pid, &t);
	nm_load(bin, false, &syms);
	hot = nm_find(&syms, "main.hot");
	CHECK(hot && hot->size, "nm finds no main.hot in %s", bin);
	rt = hot ? runtime_of(&t, bin, "main.hot") : 0;
	for (uint64_t off = 0; rt && off < hot->size; off++, n++) {
		struct sym_location loc;

		if (symbolizer_resolve_user(s, c.pid, rt + off, &loc) || !loc.nframes)
			continue;
		if (!strcmp(loc.frames[loc.nframes - 1].function, "main.hot") &&
		    loc.frames[0].file && !strcmp(base_name(loc.frames[0].file), "main.go") &&
		    loc.frames[0].line > 0)
			resolved++;
		if (loc.nframes >= 2 && !strcmp(loc.frames[0].function, "main.mix"))
			inlined++;
		CHECK(loc.mapping->has_functions && loc.mapping->has_line_numbers &&
			      loc.mapping->has_inline_frames,
		      "Go mapping flags");
	}
	CHECK(n && resolved == n, "main.hot: %zu of %zu bytes resolved to main.hot in main.go", resolved,
	      n);
	if (hot && SYMFIX_LLVM_SYMBOLIZER[0]) {
		compare_with_llvm(s, c.pid, &t, bin, hot->addr, hot->addr + hot->size, tmpdir, &a);
		CHECK(a.same * 100 >= a.total * 99,
		      "Go: %zu of %zu addresses agree with llvm-symbolizer", a.same, a.total);
	}
	printf("go: main.hot resolved at %zu of %zu bytes, main.mix inlined at %zu; %zu/%zu agree "
	       "with llvm-symbolizer\n", resolved, n, inlined, a.same, a.total);
	finish(&c);
	free(syms.v);
	free(t.v);
	symbolizer_free(s);
}

static void test_opts(void)
{
	struct {
		struct symbolizer_opts o;
		char tail[8];
	} big;
	struct symbolizer_opts zero = { 0 };
	struct symbolizer *s;

	memset(&big, 0, sizeof(big));
	big.o.sz = sizeof(big);
	CHECK(symbolizer_new(&big.o, &s) == 0, "longer opts with a zero tail");
	symbolizer_free(s);
	big.tail[3] = 1;
	CHECK(symbolizer_new(&big.o, &s) == -EINVAL && !s, "longer opts with a nonzero tail");
	CHECK(symbolizer_new(&zero, &s) == -EINVAL, "opts with sz 0");
	CHECK(symbolizer_new(NULL, NULL) == -EINVAL, "NULL out");
	symbolizer_free(NULL);
}

static void remove_tree(const char *dir)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", dir);
}

static struct symbolizer_stats stats_of(const struct symbolizer *s)
{
	struct symbolizer_stats st = { .sz = sizeof(st) };

	CHECK(symbolizer_get_stats(s, &st) == 0, "symbolizer_get_stats");
	return st;
}

/* Forgetting processes frees their state (an exited one's at the next
 * forget_exited: its mappings outlive one more interval); objects nobody uses stay cached
 * under the cap (a later process of the same binary is a hit) and are
 * evicted, least recently used first, when the cap is exceeded. */
static void test_cache_cap_and_forget(void)
{
	struct symbolizer_opts opts = { .sz = sizeof(opts) };
	struct symbolizer_stats st, before;
	struct sym_location l1, l2;
	struct symbolizer *s;
	struct child a, b;
	struct tmaps ta;

	/* Default cap: objects outlive the processes that used them. */
	if (symbolizer_new(&opts, &s) || !spawn(SYMFIX_PIE, &a))
		return;
	CHECK(symbolizer_track_process(s, a.pid) == 0, "track %d", (int)a.pid);
	before = stats_of(s);
	CHECK(before.processes == 1 && before.objects >= 2 && before.cache_bytes > 0 &&
		      before.cache_cap_bytes == SYMBOLIZER_DEFAULT_CACHE_BYTES,
	      "1 process, %llu objects, %llu bytes, cap %llu",
	      (unsigned long long)before.objects, (unsigned long long)before.cache_bytes,
	      (unsigned long long)before.cache_cap_bytes);
	CHECK(symbolizer_forget_exited(s) == 0, "nothing exited yet");
	tmaps_read_pid(a.pid, &ta);
	CHECK(symbolizer_locate(s, a.pid, 0, NULL, NULL, runtime_of(&ta, SYMFIX_LIB, "symfix_lib_work"),
				&l1) == 0 && l1.mapping,
	      "locate in %d", (int)a.pid);
	free(ta.v);
	finish(&a);
	CHECK(symbolizer_forget_exited(s) == 1, "the exited process is forgotten");
	CHECK(symbolizer_forget_process(s, a.pid) == -ESRCH, "forgotten already");
	/* what was handed out of it stays valid until the next call (ASan
	 * tells a use after free): a stack table of the interval under way */
	if (l1.mapping) {
		const struct sym_mapping *m = l1.mapping;

		CHECK(symbolizer_locate(s, a.pid, 0, NULL, m, m->start, &l2) == 0 &&
			      l2.mapping == m && l2.object == l1.object && m->path[0],
		      "the exited process's mapping is gone already");
	}
	st = stats_of(s);
	CHECK(st.processes == 0 && st.objects == before.objects && st.evictions == 0,
	      "objects stay cached: %llu of %llu", (unsigned long long)st.objects,
	      (unsigned long long)before.objects);
	if (!spawn(SYMFIX_PIE, &b)) {
		symbolizer_free(s);
		return;
	}
	CHECK(symbolizer_track_process(s, b.pid) == 0, "track %d", (int)b.pid);
	st = stats_of(s);
	CHECK(st.object_hits >= before.object_hits + 2 && st.object_misses == before.object_misses,
	      "a second process of the same binary parses nothing: %llu misses, was %llu",
	      (unsigned long long)st.object_misses, (unsigned long long)before.object_misses);
	CHECK(symbolizer_forget_process(s, b.pid) == 0, "forget a live process");
	finish(&b);
	symbolizer_free(s);

	/* A cap of one byte: nothing unused may stay, and the objects in use
	 * bound what is parsed: the first fills the cap, the process's other
	 * mappings (its library, libc, ld.so) are left without symbols,
	 * counted, instead of growing the cache past it. */
	opts.cache_bytes = 1;
	if (symbolizer_new(&opts, &s) || !spawn(SYMFIX_PIE, &a))
		return;
	CHECK(symbolizer_track_process(s, a.pid) == 0, "track %d", (int)a.pid);
	before = stats_of(s);
	CHECK(before.cache_bytes > 1 && before.evictions == 0 && before.object_misses == 1 &&
		      before.objects_over_budget >= 3,
	      "one object parsed over the cap, %llu mappings left without: %llu bytes, "
	      "%llu parsed", (unsigned long long)before.objects_over_budget,
	      (unsigned long long)before.cache_bytes, (unsigned long long)before.object_misses);
	CHECK(symbolizer_forget_process(s, a.pid) == 0, "forget %d", (int)a.pid);
	st = stats_of(s);
	CHECK(st.evictions >= before.objects - 1 && st.cache_bytes < before.cache_bytes,
	      "unused objects evicted: %llu evictions, %llu bytes left (was %llu)",
	      (unsigned long long)st.evictions, (unsigned long long)st.cache_bytes,
	      (unsigned long long)before.cache_bytes);
	finish(&a);
	symbolizer_free(s);
}

/* Two files with the same build-id (a copy, as the same library in two
 * containers) share one parsed object; a stripped copy never stands in for
 * the unstripped file. */
static void test_share_by_build_id(const char *tmpdir)
{
	char copy[PATH_MAX], stripped[PATH_MAX], cmd[3 * PATH_MAX];
	struct symbolizer_stats before, st;
	struct sym_location la, lb;
	struct child a, b, c;
	struct tmaps ta, tb;
	struct symbolizer *s;
	size_t len;
	char *image;

	snprintf(copy, sizeof(copy), "%s/pie_copy", tmpdir);
	snprintf(stripped, sizeof(stripped), "%s/pie_stripped", tmpdir);
	image = slurp(SYMFIX_PIE, &len);
	if (!image)
		return;
	write_file(copy, image, len);
	free(image);
	chmod(copy, 0755);
	snprintf(cmd, sizeof(cmd), "strip --strip-all -o '%s' '%s'", stripped, SYMFIX_PIE);
	CHECK(system(cmd) == 0, "%s", cmd);

	if (symbolizer_new(NULL, &s) || !spawn(SYMFIX_PIE, &a))
		return;
	if (!spawn(copy, &b)) {
		finish(&a);
		symbolizer_free(s);
		return;
	}
	CHECK(symbolizer_track_process(s, a.pid) == 0, "track %d", (int)a.pid);
	before = stats_of(s);
	CHECK(symbolizer_track_process(s, b.pid) == 0, "track %d", (int)b.pid);
	st = stats_of(s);
	CHECK(st.build_id_hits == before.build_id_hits + 1 && st.object_misses == before.object_misses,
	      "the copy is shared by build-id: %llu hits, %llu misses (was %llu, %llu)",
	      (unsigned long long)st.build_id_hits, (unsigned long long)st.object_misses,
	      (unsigned long long)before.build_id_hits, (unsigned long long)before.object_misses);
	tmaps_read_pid(a.pid, &ta);
	tmaps_read_pid(b.pid, &tb);
	CHECK(symbolizer_resolve_user(s, a.pid, runtime_of(&ta, SYMFIX_PIE, "main"), &la) == 0 &&
		      symbolizer_resolve_user(s, b.pid, runtime_of(&tb, copy, "main"), &lb) == 0 &&
		      la.nframes >= 1 && lb.nframes >= 1 &&
		      la.frames[la.nframes - 1].function == lb.frames[lb.nframes - 1].function,
	      "both files resolve main through one object");
	free(ta.v);
	free(tb.v);
	finish(&b);
	finish(&a);
	symbolizer_free(s);

	/* Stripped first, then the real file: parsed again, not shared. */
	if (symbolizer_new(NULL, &s) || !spawn(stripped, &c))
		return;
	CHECK(symbolizer_track_process(s, c.pid) == 0, "track %d", (int)c.pid);
	before = stats_of(s);
	if (spawn(SYMFIX_PIE, &a)) {
		CHECK(symbolizer_track_process(s, a.pid) == 0, "track %d", (int)a.pid);
		st = stats_of(s);
		CHECK(st.build_id_hits == before.build_id_hits &&
			      st.object_misses == before.object_misses + 1,
		      "the unstripped file is parsed, not given the stripped one's symbols");
		finish(&a);
	}
	finish(&c);
	symbolizer_free(s);
}

int main(void)
{
	char tmpdir[] = "/tmp/test_symbolizer.XXXXXX";

	setvbuf(stdout, NULL, _IONBF, 0);
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	printf("running as %s\n", geteuid() == 0 ? "root (map_files)" : "non-root (fallbacks)");
	test_proc_maps_parser();
	test_kallsyms_parser();
	test_notes_parser();
	test_parsers_fuzz();
	test_opts();
	test_elf_object(tmpdir);
	test_live_pie_exited();
	test_cache_cap_and_forget();
	test_share_by_build_id(tmpdir);
	test_live_nopie_and_stripped();
	test_dead_pid();
	test_self();
	test_vdso_rewritten();
	test_fake_proc(tmpdir);
	test_real_kernel();
	test_dwarf_index(tmpdir);
	test_inline_chains(tmpdir);
	test_go(tmpdir);
	remove_tree(tmpdir);
	return check_summary();
}
