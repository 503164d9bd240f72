/* test_unwind.c - symbolizer/cfi_table.c, unwind.c and unwind_libunwind.c.
 *
 * The fixture uwfix (built -O2 -fomit-frame-pointer, and with gcc's default
 * -O0, frame pointers on) snapshots its own stack in a known call chain and
 * writes registers, stack bytes and its /proc/self/maps to a file (see
 * unwind_fixtures/uwfix.c). Here the snapshot is unwound with CFI tables of
 * the files in those maps, and each pc is checked against the symbols `nm`
 * lists (libc's from its libc6-dbg debug file, found by build-id), the
 * walk's status too. The same snapshot is unwound by libdw
 * (dwfl_getthread_frames) for a cross-check of the pcs and a timing, and
 * by libunwind's remote API (unwind_libunwind.h), the independent oracle:
 * frame by frame, with its timing. Then: a snapshot cut at 1 KiB, the PLT
 * rules synthesized for a fixture linked without PLT unwind info against
 * binutils' own, garbage input (where both unwinders call a walk complete
 * they must agree), and a stack ours stops on and libunwind completes:
 * uwfix_lazy's, inside ld.so's lazy binding (_dl_runtime_resolve_* finds
 * its CFA from rbx), by ulw_unwind and through symbolizer_unwind's
 * fallback; the cache of libunwind's object sections.
 */
#include <dlfcn.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cfi_table.h"
#include "check.h"
#include "symbolizer.h"
#include "unwind.h"
#include "unwind_libunwind.h"

#define MAX_FRAMES 128

struct sym {
	uint64_t addr, size;
	char *name;             /* without leading '_', '.suffix', '@version' */
};

struct object {
	char path[512];
	struct cfi_table *cfi;
	struct ulw_object *ulw;
	struct sym *syms;
	size_t nsyms;
};

struct mapping {
	uint64_t start, end, bias;
	struct object *obj;
};

struct proc {
	struct unwind_regs regs;
	struct unwind_stack stack;
	uint8_t *bytes;
	struct mapping maps[64];
	size_t nmaps;
	struct object objs[8];
	size_t nobjs;
};

static char *normalize(const char *name)
{
	size_t n;

	while (*name == '_')
		name++;
	n = strcspn(name, ".@");
	return strndup(name, n);
}

/* Function symbols of path, by nm. */
static void read_syms(struct object *o, const char *path)
{
	char cmd[1100], line[1024];
	size_t cap = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "nm -S --defined-only '%s' 2>/dev/null", path);
	p = popen(cmd, "r");
	while (p && fgets(line, sizeof(line), p)) {
		uint64_t addr, size = 0;
		char type, name[512];

		if (sscanf(line, "%" SCNx64 " %" SCNx64 " %c %511s", &addr, &size,
			   &type, name) != 4 &&
		    (size = 0, sscanf(line, "%" SCNx64 " %c %511s", &addr, &type,
				      name) != 3))
			continue;
		if (!strchr("tTwWi", type))
			continue;
		if (o->nsyms == cap) {
			cap = cap ? cap * 2 : 1024;
			o->syms = realloc(o->syms, cap * sizeof(*o->syms));
		}
		o->syms[o->nsyms++] = (struct sym){ addr, size, normalize(name) };
	}
	if (p)
		pclose(p);
}

/* The debug file of path, by its build-id, or path itself: false. */
static bool symbol_file(const char *path, char *out, size_t len)
{
	char cmd[600], line[256], *id;
	bool found = false;
	FILE *p;

	snprintf(out, len, "%s", path);
	snprintf(cmd, sizeof(cmd), "readelf -n '%s' 2>/dev/null", path);
	p = popen(cmd, "r");
	while (p && fgets(line, sizeof(line), p)) {
		id = strstr(line, "Build ID: ");
		if (id) {
			id += 10;
			id[strcspn(id, "\n")] = '\0';
			snprintf(cmd, sizeof(cmd), "/usr/lib/debug/.build-id/%.2s/%s.debug",
				 id, id + 2);
			found = access(cmd, R_OK) == 0;
			if (found)
				snprintf(out, len, "%s", cmd);
		}
	}
	if (p)
		pclose(p);
	return found;
}

/* Load bias of a mapping of path at start, file offset off. */
static uint64_t load_bias(const char *path, uint64_t start, uint64_t off)
{
	int fd = open(path, O_RDONLY);
	Elf *e = fd >= 0 ? elf_begin(fd, ELF_C_READ, NULL) : NULL;
	size_t n = 0;
	uint64_t bias = start - off;

	if (e)
		elf_getphdrnum(e, &n);
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD &&
		    ph.p_offset <= off && off < ph.p_offset + ph.p_filesz)
			bias = start - off + ph.p_offset - ph.p_vaddr;
	}
	elf_end(e);
	if (fd >= 0)
		close(fd);
	return bias;
}

static struct object *object_of(struct proc *p, const char *path)
{
	struct object *o;
	char symfile[600];
	int fd, err;

	for (size_t i = 0; i < p->nobjs; i++)
		if (!strcmp(p->objs[i].path, path))
			return &p->objs[i];
	if (p->nobjs == sizeof(p->objs) / sizeof(p->objs[0]))
		return NULL;
	o = &p->objs[p->nobjs++];
	snprintf(o->path, sizeof(o->path), "%s", path);
	fd = open(path, O_RDONLY);
	err = fd >= 0 ? cfi_table_build(fd, &o->cfi) : -errno;
	CHECK(err == 0, "cfi_table_build(%s): %s", path, strerror(-err));
	err = fd >= 0 ? ulw_object_build(fd, SIZE_MAX, &o->ulw) : -EBADF;
	CHECK(err == 0, "ulw_object_build(%s): %s", path, strerror(-err));
	if (fd >= 0)
		close(fd);
	/* libc's local functions (__libc_start_call_main, ...) */
	CHECK(symbol_file(path, symfile, sizeof(symfile)) ||
	      !strstr(path, "/libc.so"),
	      "%s: no debug file; install libc6-dbg (scripts/setup)", path);
	read_syms(o, symfile);
	return o;
}

static bool load_capture(struct proc *p, const char *file)
{
	FILE *f = fopen(file, "rb");
	char magic[8], line[1024];
	uint64_t h[5];

	memset(p, 0, sizeof(*p));
	if (!f || fread(magic, 8, 1, f) != 1 || memcmp(magic, "UWFIX1", 6) ||
	    fread(h, sizeof(h), 1, f) != 1 || h[4] > (1 << 20)) {
		CHECK(0, "read %s", file);
		if (f)
			fclose(f);
		return false;
	}
	p->regs = (struct unwind_regs){ h[0], h[1], h[2] };
	p->bytes = malloc(h[4] ? h[4] : 1);
	CHECK(fread(p->bytes, 1, h[4], f) == h[4], "stack of %s", file);
	p->stack = (struct unwind_stack){ h[3], p->bytes, h[4] };
	while (fgets(line, sizeof(line), f)) {
		uint64_t lo, hi, off;
		char perm[8];
		int pos = 0;
		const char *path;
		struct mapping *m;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %*s %*s %n",
			   &lo, &hi, perm, &off, &pos) < 4 || !pos ||
		    perm[2] != 'x' || line[pos] != '/' ||
		    p->nmaps == sizeof(p->maps) / sizeof(p->maps[0]))
			continue;
		path = line + pos;
		line[strcspn(line, "\n")] = '\0';
		m = &p->maps[p->nmaps];
		m->obj = object_of(p, path);
		if (!m->obj)
			continue;
		m->start = lo;
		m->end = hi;
		m->bias = load_bias(path, lo, off);
		p->nmaps++;
	}
	fclose(f);
	return true;
}

static void free_proc(struct proc *p)
{
	for (size_t i = 0; i < p->nobjs; i++) {
		cfi_table_free(p->objs[i].cfi);
		ulw_object_free(p->objs[i].ulw);
		for (size_t j = 0; j < p->objs[i].nsyms; j++)
			free(p->objs[i].syms[j].name);
		free(p->objs[i].syms);
	}
	free(p->bytes);
}

static const struct mapping *mapping_of(const struct proc *p, uint64_t pc)
{
	for (size_t i = 0; i < p->nmaps; i++)
		if (p->maps[i].start <= pc && pc < p->maps[i].end)
			return &p->maps[i];
	return NULL;
}

static const struct cfi_table *find(void *ctx, uint64_t pc, uint64_t *bias)
{
	const struct mapping *m = mapping_of(ctx, pc);

	if (!m)
		return NULL;
	*bias = m->bias;
	return m->obj->cfi;
}

/* Whether the function named name (normalized) holds process address pc. */
static bool named(const struct proc *p, uint64_t pc, const char *name)
{
	const struct mapping *m = mapping_of(p, pc);

	for (size_t j = 0; m && j < m->obj->nsyms; j++) {
		const struct sym *s = &m->obj->syms[j];
		uint64_t v = pc - m->bias;

		if (v >= s->addr && (v < s->addr + s->size ||
				     (!s->size && v < s->addr + 64)) &&
		    !strcmp(s->name, name))
			return true;
	}
	return false;
}

/* The same for frame i: a call site, but for the innermost frame. */
static bool frame_is(const struct proc *p, const uint64_t *pcs, int i,
		     const char *name)
{
	return named(p, pcs[i] - (i > 0), name);
}

static void print_frames(const struct proc *p, const uint64_t *pcs, int n)
{
	for (int i = 0; i < n; i++) {
		const struct mapping *m = mapping_of(p, pcs[i] - (i > 0));
		const char *best = "?";
		uint64_t best_addr = 0, v = m ? pcs[i] - (i > 0) - m->bias : 0;

		for (size_t j = 0; m && j < m->obj->nsyms; j++)
			if (m->obj->syms[j].addr <= v &&
			    m->obj->syms[j].addr >= best_addr) {
				best_addr = m->obj->syms[j].addr;
				best = m->obj->syms[j].name;
			}
		fprintf(stderr, "  #%d %#" PRIx64 " %s+%#" PRIx64 " (%s)\n", i,
			pcs[i], best, v - best_addr, m ? m->obj->path : "?");
	}
}

/* Checks that frames from first on are named names[] in order, to the end. */
static void check_names(const struct proc *p, const uint64_t *pcs, int n,
			int first, const char *const *names, int nnames,
			const char *what)
{
	bool ok = n - first == nnames;

	for (int i = 0; ok && i < nnames; i++)
		ok = frame_is(p, pcs, first + i, names[i]);
	CHECK(ok, "%s: frames %d.. are not %s ... %s", what, first, names[0],
	      names[nnames - 1]);
	if (!ok)
		print_frames(p, pcs, n);
}

/* ---- libdw, for comparison ---------------------------------------------- */

struct dw_arg {
	const struct proc *p;
	uint64_t *pcs;
	int n;
};

static pid_t dw_next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	if (*thread_argp)
		return 0;
	*thread_argp = arg;
	return getpid();
}

static bool dw_memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result,
			   void *arg)
{
	const struct unwind_stack *s = &((struct dw_arg *)arg)->p->stack;

	if (addr < s->base || s->len < 8 || addr - s->base > s->len - 8)
		return false;
	memcpy(result, s->data + (addr - s->base), 8);
	return true;
}

static bool dw_set_initial_registers(Dwfl_Thread *thread, void *arg)
{
	const struct unwind_regs *r = &((struct dw_arg *)arg)->p->regs;
	Dwarf_Word rbp_rsp[2] = { r->rbp, r->rsp };

	dwfl_thread_state_register_pc(thread, r->rip);
	return dwfl_thread_state_registers(thread, 6, 2, rbp_rsp);
}

static int dw_frame(Dwfl_Frame *state, void *arg)
{
	struct dw_arg *a = arg;
	Dwarf_Addr pc;

	if (!dwfl_frame_pc(state, &pc, NULL) || a->n == MAX_FRAMES)
		return DWARF_CB_ABORT;
	a->pcs[a->n++] = pc;
	return DWARF_CB_OK;
}

static int no_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
			Dwarf_Addr base, const char *file_name,
			const char *debuglink_file, GElf_Word debuglink_crc,
			char **debuginfo_file_name)
{
	return -1;  /* .eh_frame only, like our tables */
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Unwinds p with libdw: the pcs must be ours; prints both timings. */
static void compare_libdw(const struct proc *p, const uint64_t *pcs, int n,
			  double our_us, const char *what)
{
	static const Dwfl_Callbacks cb = { .find_debuginfo = no_debuginfo };
	static const Dwfl_Thread_Callbacks tcb = {
		.next_thread = dw_next_thread,
		.memory_read = dw_memory_read,
		.set_initial_registers = dw_set_initial_registers,
	};
	uint64_t dw_pcs[MAX_FRAMES];
	struct dw_arg a = { p, dw_pcs, 0 };
	Dwfl *dwfl = dwfl_begin(&cb);
	int iters = 20000;
	double t0;

	dwfl_report_begin(dwfl);
	for (size_t i = 0; i < p->nmaps; i++)
		dwfl_report_elf(dwfl, p->maps[i].obj->path, p->maps[i].obj->path,
				-1, p->maps[i].bias, false);
	dwfl_report_end(dwfl, NULL, NULL);
	CHECK(dwfl_attach_state(dwfl, NULL, getpid(), &tcb, &a), "attach: %s",
	      dwfl_errmsg(-1));
	dwfl_getthread_frames(dwfl, getpid(), dw_frame, &a);
	CHECK(a.n == n && !memcmp(dw_pcs, pcs, (size_t)n * sizeof(*pcs)),
	      "%s: libdw finds %d frames, we %d", what, a.n, n);
	t0 = now();
	for (int i = 0; i < iters; i++) {
		a.n = 0;
		dwfl_getthread_frames(dwfl, getpid(), dw_frame, &a);
	}
	printf("%s: %d frames, %.3f us/frame here, %.3f us/frame libdw\n", what,
	       n, our_us, (now() - t0) * 1e6 / iters / (a.n ? a.n : 1));
	dwfl_end(dwfl);
}

/* ---- libunwind, the oracle ---------------------------------------------- */

static struct ulw *lu;

static const struct ulw_object *find_ulw(void *ctx, uint64_t pc, uint64_t *bias)
{
	const struct mapping *m = mapping_of(ctx, pc);

	if (!m)
		return NULL;
	*bias = m->bias;
	return m->obj->ulw;
}

static int lu_unwind(const struct proc *p, const struct unwind_stack *s,
		     uint64_t *pcs, enum unwind_status *st)
{
	return ulw_unwind(lu, &p->regs, s, find_ulw, (void *)p, pcs, NULL, MAX_FRAMES, st);
}

/* How many frames, from the innermost, two walks have alike. */
static int alike(const uint64_t *a, int na, const uint64_t *b, int nb)
{
	int k = 0;

	while (k < na && k < nb && a[k] == b[k])
		k++;
	return k;
}

/* µs per frame of libunwind's walk of p. */
static double time_libunwind(const struct proc *p, int n)
{
	uint64_t pcs[MAX_FRAMES];
	enum unwind_status st;
	int iters = 5000;
	double t0 = now();

	for (int i = 0; i < iters; i++)
		lu_unwind(p, &p->stack, pcs, &st);
	return (now() - t0) * 1e6 / iters / (n ? n : 1);
}

/* Unwinds p with libunwind: the same pcs and the same end as ours. */
static void compare_libunwind(const struct proc *p, const uint64_t *pcs, int n,
			      enum unwind_status st, double our_us, const char *what)
{
	uint64_t lu_pcs[MAX_FRAMES];
	enum unwind_status lst;
	int m = lu_unwind(p, &p->stack, lu_pcs, &lst), same = alike(pcs, n, lu_pcs, m);

	CHECK(m == n && same == n && lst == st,
	      "%s: libunwind finds %d frames (%s), we %d (%s), %d alike", what, m,
	      unwind_status_name(lst), n, unwind_status_name(st), same);
	if (m != n || same != n) {
		fprintf(stderr, "libunwind's:\n");
		print_frames(p, lu_pcs, m);
	}
	printf("%s: libunwind agrees on %d of %d frames, both %s; %.3f us/frame here, "
	       "%.3f us/frame libunwind\n", what, same, n, unwind_status_name(st), our_us,
	       time_libunwind(p, m));
}

/* ---- the tests ---------------------------------------------------------- */

static int unwind(const struct proc *p, const struct unwind_stack *s,
		  uint64_t *pcs, enum unwind_status *st)
{
	return unwind_snapshot(&p->regs, s, find, (void *)p, pcs, NULL, MAX_FRAMES, st);
}

/* µs per frame over many walks of the same snapshot. */
static double time_unwind(const struct proc *p, int n)
{
	uint64_t pcs[MAX_FRAMES];
	enum unwind_status st;
	int iters = 100000;
	double t0 = now();

	for (int i = 0; i < iters; i++)
		unwind(p, &p->stack, pcs, &st);
	return (now() - t0) * 1e6 / iters / (n ? n : 1);
}

static void test_chain(const char *fixture, const char *mode, const char *tmp)
{
	static const char *const main_chain[] = {
		"f3", "f2", "f1", "main", "libc_start_call_main",
		"libc_start_main", "start" };
	static const char *const thread_chain[] = {
		"leaf", "f3", "f2", "f1", "thread_main", "start_thread", "clone3" };
	char cmd[1200], what[600], file[600];
	uint64_t pcs[MAX_FRAMES];
	enum unwind_status st;
	struct proc p;
	double us;
	int n;

	snprintf(file, sizeof(file), "%s/%s", tmp, mode);
	snprintf(cmd, sizeof(cmd), "'%s/%s' %s '%s'", FIXTURE_DIR, fixture,
		 mode, file);
	snprintf(what, sizeof(what), "%s %s", fixture, mode);
	CHECK(system(cmd) == 0, "%s failed", cmd);
	if (!load_capture(&p, file))
		return;
	n = unwind(&p, &p.stack, pcs, &st);
	CHECK(st == UNWIND_END, "%s: stopped with %s after %d frames", what,
	      unwind_status_name(st), n);
	if (!strcmp(mode, "thread")) {
		check_names(&p, pcs, n, 0, thread_chain, 7, what);
	} else if (!strcmp(mode, "main")) {
		CHECK(frame_is(&p, pcs, 0, "leaf"), "%s: frame 0 not leaf", what);
		check_names(&p, pcs, n, 1, main_chain, 7, what);
	} else {
		int f3 = 3;

		/* on_signal returns to the first byte of __restore_rt */
		bool ok = n > 3 && frame_is(&p, pcs, 0, "leaf") &&
			  frame_is(&p, pcs, 1, "on_signal") &&
			  named(&p, pcs[2], "restore_rt");

		CHECK(ok, "%s: not leaf, on_signal, __restore_rt", what);
		if (!ok)
			print_frames(&p, pcs, n);
		while (f3 < n && !frame_is(&p, pcs, f3, "f3"))
			f3++;
		check_names(&p, pcs, n, f3, main_chain, 7, what);
	}
	us = time_unwind(&p, n);
	compare_libdw(&p, pcs, n, us, what);
	compare_libunwind(&p, pcs, n, st, us, what);

	/* the same snapshot cut at 1 KiB: a prefix of the frames */
	if (!strcmp(mode, "main")) {
		struct unwind_stack cut = { p.stack.base, p.stack.data, 1024 };
		uint64_t cut_pcs[MAX_FRAMES];
		int m = unwind(&p, &cut, cut_pcs, &st), lm;

		CHECK(st == UNWIND_TRUNCATED && m >= 1 && m < n &&
		      !memcmp(cut_pcs, pcs, (size_t)m * sizeof(*pcs)),
		      "%s cut at 1 KiB: %s, %d frames of %d", what,
		      unwind_status_name(st), m, n);
		lm = lu_unwind(&p, &cut, cut_pcs, &st);
		CHECK(st == UNWIND_TRUNCATED && lm == m && alike(cut_pcs, lm, pcs, m) == m,
		      "%s cut at 1 KiB, libunwind: %s, %d frames, ours %d", what,
		      unwind_status_name(st), lm, m);
		m = unwind_snapshot(&p.regs, &p.stack, find, &p, cut_pcs, NULL, 3, &st);
		CHECK(m == 3 && st == UNWIND_MAX_FRAMES, "%s: max 3: %d %s",
		      what, m, unwind_status_name(st));
		lm = ulw_unwind(lu, &p.regs, &p.stack, find_ulw, &p, cut_pcs, NULL, 3, &st);
		CHECK(lm == 3 && st == UNWIND_MAX_FRAMES, "%s: libunwind, max 3: %d %s",
		      what, lm, unwind_status_name(st));
	}
	for (size_t i = 0; i < p.nobjs; i++)
		printf("  %s: %zu rows, %zu bytes\n", p.objs[i].path,
		       cfi_table_rows(p.objs[i].cfi),
		       cfi_table_memory(p.objs[i].cfi));
	free_proc(&p);
}

/* .plt/.plt.got of name: [lo, hi). */
static bool section(const char *path, const char *name, uint64_t *lo,
		    uint64_t *hi)
{
	int fd = open(path, O_RDONLY);
	Elf *e = fd >= 0 ? elf_begin(fd, ELF_C_READ, NULL) : NULL;
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	bool found = false;

	if (e && !elf_getshdrstrndx(e, &shstrndx))
		while (!found && (scn = elf_nextscn(e, scn))) {
			GElf_Shdr sh;
			const char *s;

			if (gelf_getshdr(scn, &sh) &&
			    (s = elf_strptr(e, shstrndx, sh.sh_name)) &&
			    !strcmp(s, name)) {
				*lo = sh.sh_addr;
				*hi = sh.sh_addr + sh.sh_size;
				found = true;
			}
		}
	elf_end(e);
	if (fd >= 0)
		close(fd);
	return found;
}

static struct cfi_table *table_of(const char *path)
{
	struct cfi_table *t = NULL;
	int fd = open(path, O_RDONLY);
	int err = fd >= 0 ? cfi_table_build(fd, &t) : -errno;

	CHECK(err == 0, "cfi_table_build(%s): %s", path, strerror(-err));
	if (fd >= 0)
		close(fd);
	return t;
}

/* The rules synthesized for uwfix_noplt's .plt are binutils' for uwfix's. */
static void test_plt(void)
{
	const char *names[] = { ".plt", ".plt.got" };
	struct cfi_table *a = table_of(FIXTURE_DIR "/uwfix_nofp");
	struct cfi_table *b = table_of(FIXTURE_DIR "/uwfix_noplt");

	for (int k = 0; a && b && k < 2; k++) {
		uint64_t alo, ahi, blo, bhi;
		int same = 0, found = 0;

		if (!section(FIXTURE_DIR "/uwfix_nofp", names[k], &alo, &ahi) ||
		    !section(FIXTURE_DIR "/uwfix_noplt", names[k], &blo, &bhi)) {
			printf("note: no %s section, not checked\n", names[k]);
			continue;
		}
		for (uint64_t i = 0; i < ahi - alo && i < bhi - blo; i++) {
			struct cfi_row ra, rb;

			if (cfi_table_find(a, alo + i, &ra) ||
			    cfi_table_find(b, blo + i, &rb))
				continue;
			found++;
			same += !memcmp(&ra.rule, &rb.rule, sizeof(ra.rule));
		}
		CHECK(found == (int)(ahi - alo) && same == found,
		      "%s: %d of %" PRIu64 " bytes with a rule, %d the same",
		      names[k], found, ahi - alo, same);
	}
	cfi_table_free(a);
	cfi_table_free(b);
}

/* Garbage registers and stack bytes: no crash, no read outside. */
static void test_garbage(const char *tmp)
{
	char cmd[1200], file[600];
	struct proc p;
	uint64_t pcs[MAX_FRAMES];
	enum unwind_status st;
	unsigned seed = 12345;
	long ends = 0, both = 0, ours_only = 0, lu_only = 0;

	snprintf(file, sizeof(file), "%s/fuzz", tmp);
	snprintf(cmd, sizeof(cmd), "'%s/uwfix_nofp' main '%s'", FIXTURE_DIR, file);
	CHECK(system(cmd) == 0, "%s failed", cmd);
	if (!load_capture(&p, file))
		return;
	for (int i = 0; i < 200000; i++) {
		size_t len = (size_t)rand_r(&seed) % (p.stack.len + 1);
		uint8_t *buf = malloc(len ? len : 1);
		struct unwind_stack s = { p.stack.base, buf, len };
		struct proc q = p;
		int n;

		memcpy(buf, p.bytes, len);
		for (int j = rand_r(&seed) % 8; len && j > 0; j--)
			buf[(size_t)rand_r(&seed) % len] = (uint8_t)rand_r(&seed);
		for (size_t j = 0; i % 8 == 0 && j < len; j++)  /* all random */
			buf[j] = (uint8_t)rand_r(&seed);
		if (rand_r(&seed) % 4 == 0)
			q.regs.rip += (uint64_t)(rand_r(&seed) % 4096) - 2048;
		if (rand_r(&seed) % 4 == 0)
			q.regs.rsp += (uint64_t)(rand_r(&seed) % 4096) - 2048;
		if (rand_r(&seed) % 4 == 0)
			q.regs.rbp = p.stack.base + (uint64_t)(rand_r(&seed) % 70000);
		if (rand_r(&seed) % 16 == 0)
			q.regs.rsp = (uint64_t)rand_r(&seed) << 33 | (uint64_t)rand_r(&seed);
		n = unwind_snapshot(&q.regs, &s, find, &q, pcs, NULL, MAX_FRAMES, &st);
		CHECK(n >= 0 && n <= MAX_FRAMES && st <= UNWIND_MAX_FRAMES,
		      "garbage: %d frames, status %d", n, st);
		ends += st == UNWIND_END;
		if (i % 8 == 1) { /* libunwind is slower: one walk in 8 */
			uint64_t lu_pcs[MAX_FRAMES];
			enum unwind_status lst;
			int m = lu_unwind(&q, &s, lu_pcs, &lst);

			CHECK(m >= 0 && m <= MAX_FRAMES && lst <= UNWIND_MAX_FRAMES,
			      "garbage, libunwind: %d frames, status %d", m, lst);
			if (st == UNWIND_END && lst == UNWIND_END) {
				CHECK(m == n && alike(pcs, n, lu_pcs, m) == n,
				      "garbage walk %d: both complete, libunwind %d frames, "
				      "ours %d, %d alike", i, m, n, alike(pcs, n, lu_pcs, m));
				both++;
			}
			ours_only += st == UNWIND_END && lst != UNWIND_END;
			lu_only += st != UNWIND_END && lst == UNWIND_END;
		}
		free(buf);
	}
	printf("garbage: 200000 walks, %ld complete; of 25000 also by libunwind: "
	       "%ld complete by both and alike, %ld only by ours, %ld only by libunwind\n",
	       ends, both, ours_only, lu_only);
	free_proc(&p);
}

/* ulw_object_get(): hits, the byte cap (oldest out), files without
 * sections remembered, a file that changed since not read. */
struct opener {
	const char *path;
	int calls;
};

static int open_path(void *ctx)
{
	struct opener *o = ctx;

	o->calls++;
	return open(o->path, O_RDONLY | O_CLOEXEC);
}

static struct ulw_file_id file_id(const char *path)
{
	struct stat st;

	if (stat(path, &st))
		abort();
	return (struct ulw_file_id){ st.st_dev, st.st_ino, st.st_size,
				     st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
				     st.st_ctim.tv_sec, st.st_ctim.tv_nsec };
}

static size_t object_bytes(const char *path)
{
	struct ulw_object *o = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n;

	if (fd < 0 || ulw_object_build(fd, SIZE_MAX, &o))
		abort();
	close(fd);
	n = ulw_object_memory(o);
	ulw_object_free(o);
	return n;
}

static void test_cache(const char *tmp)
{
	char text[600];
	Dl_info dl;
	struct opener libc = { NULL, 0 }, fix = { FIXTURE_DIR "/uwfix_nofp", 0 },
		      txt = { text, 0 };
	struct ulw_file_id libc_id, fix_id, txt_id, stale;
	struct ulw *u;
	FILE *f;

	if (!dladdr((void *)printf, &dl))
		abort();
	libc.path = dl.dli_fname;
	snprintf(text, sizeof(text), "%s/not-elf", tmp);
	f = fopen(text, "w");
	if (!f || fputs("mapped executable, but text\n", f) < 0 || fclose(f))
		abort();
	libc_id = file_id(libc.path);
	fix_id = file_id(fix.path);
	txt_id = file_id(text);
	/* room for libc's or the fixture's, not both */
	if (ulw_new(object_bytes(libc.path) + object_bytes(fix.path) - 1, &u))
		abort();
	CHECK(ulw_object_get(u, &libc_id, open_path, &libc) &&
	      ulw_object_get(u, &libc_id, open_path, &libc) && libc.calls == 1,
	      "cache: libc read %d times for two gets", libc.calls);
	CHECK(ulw_object_get(u, &fix_id, open_path, &fix) &&
	      ulw_object_get(u, &libc_id, open_path, &libc) && libc.calls == 2,
	      "cache: libc read %d times, not evicted for the fixture", libc.calls);
	CHECK(!ulw_object_get(u, &txt_id, open_path, &txt) &&
	      !ulw_object_get(u, &txt_id, open_path, &txt) && txt.calls == 1,
	      "cache: a text file read %d times", txt.calls);
	stale = fix_id;
	stale.mtime_nsec++;
	CHECK(!ulw_object_get(u, &stale, open_path, &fix) &&
	      !ulw_object_get(u, &stale, open_path, &fix) && fix.calls == 3,
	      "cache: a file of another version: opened %d times, must not be kept",
	      fix.calls);
	ulw_free(u);
}

/* The text after the stack bytes of a uwfix capture: its maps. */
static char *capture_maps(const char *file)
{
	FILE *f = fopen(file, "rb");
	uint64_t h[5];
	char *text = NULL;
	size_t len = 0;

	if (f && fseek(f, 8, SEEK_SET) == 0 && fread(h, sizeof(h), 1, f) == 1 &&
	    fseek(f, (long)(8 + sizeof(h) + h[4]), SEEK_SET) == 0) {
		text = calloc(1, 256 * 1024 + 1);
		len = text ? fread(text, 1, 256 * 1024, f) : 0;
	}
	if (f)
		fclose(f);
	CHECK(len > 0, "no maps in %s", file);
	return text;
}

/* symbolizer_unwind on a process whose /proc is a directory of ours (its
 * maps from the capture, root -> /): *depth, *result and the counter. */
static void symbolize_unwind(const struct proc *p, const char *proc_dir,
			     const char *debug_root, int no_libunwind, uint64_t *pcs,
			     size_t *depth, enum sym_unwind_result *result,
			     struct symbolizer_stats *stats, double *us)
{
	struct symbolizer_opts o = {
		.sz = sizeof(o), .proc_dir = proc_dir, .debug_root = debug_root,
		.debuginfod_urls = "", .unwind_tables = 1, .no_libunwind = no_libunwind,
	};
	struct sym_stack_snapshot snap = {
		.ip = p->regs.rip, .sp = p->regs.rsp, .bp = p->regs.rbp,
		.base = p->stack.base, .data = p->stack.data, .len = p->stack.len,
	};
	const struct sym_mapping *maps[MAX_FRAMES];
	bool exact[MAX_FRAMES];
	struct symbolizer *s;
	int iters = 2000, rc;
	double t0;

	*depth = 0;
	*stats = (struct symbolizer_stats){ .sz = sizeof(*stats) };
	rc = symbolizer_new(&o, &s);
	CHECK(rc == 0, "symbolizer_new: %d", rc);
	if (rc)
		return;
	rc = symbolizer_track_process(s, 4243);
	CHECK(rc == 0, "track the fake 4243: %d", rc);
	rc = symbolizer_unwind(s, 4243, &snap, pcs, exact, maps, MAX_FRAMES, depth, result);
	CHECK(rc == 0, "symbolizer_unwind: %d", rc);
	/* each frame comes with the mapping of the pc it is named at */
	for (size_t i = 0; i < *depth; i++) {
		uint64_t at = exact[i] ? pcs[i] : pcs[i] - 1;

		CHECK(maps[i] && maps[i]->start <= at && at < maps[i]->limit,
		      "frame %zu (%#" PRIx64 ") has no mapping, or another one", i, pcs[i]);
	}
	CHECK(symbolizer_unwind(s, 4243, &snap, pcs, NULL, maps, MAX_FRAMES, depth, result) ==
		      -EINVAL,
	      "mappings without exactness accepted");
	t0 = now();
	for (int i = 0; i < iters; i++)
		symbolizer_unwind(s, 4243, &snap, pcs, NULL, NULL, MAX_FRAMES, depth, result);
	*us = (now() - t0) * 1e6 / iters;
	symbolizer_get_stats(s, stats);
	symbolizer_free(s);
}

/* A stack ours stops on: uwfix_lazy's inside ld.so's lazy binding, where
 * _dl_runtime_resolve_* finds its CFA from rbx. libunwind knows rbx from
 * where _dl_fixup saved it and completes the stack; symbolizer_unwind then
 * takes libunwind's, unless told not to. */
static void test_lazy(const char *tmp)
{
	static const char *const chain[] = { "lazy_call", "main", "libc_start_call_main",
					     "libc_start_main", "start" };
	static const char *const resolve[] = { "dl_runtime_resolve_xsavec",
					       "dl_runtime_resolve_xsave",
					       "dl_runtime_resolve_fxsave" };
	char cmd[1200], file[600], proc_dir[700], pid_dir[720], path[760];
	uint64_t pcs[MAX_FRAMES], lu_pcs[MAX_FRAMES], sym_pcs[MAX_FRAMES];
	struct symbolizer_stats stats;
	enum sym_unwind_result result;
	enum unwind_status st, lst;
	struct proc p;
	size_t depth;
	double with_us, without_us;
	bool ok;
	int n, m;
	char *maps;
	FILE *f;

	snprintf(file, sizeof(file), "%s/lazy", tmp);
	snprintf(cmd, sizeof(cmd), "env -u LD_BIND_NOW '%s/uwfix_lazy' lazy '%s'",
		 FIXTURE_DIR, file);
	CHECK(system(cmd) == 0, "%s failed", cmd);
	if (!load_capture(&p, file))
		return;
	n = unwind(&p, &p.stack, pcs, &st);
	ok = false;
	for (int i = 0; n == 4 && i < 3; i++) /* which one: the CPU's xsave */
		ok |= frame_is(&p, pcs, 3, resolve[i]);
	ok = ok && st == UNWIND_UNSUPPORTED && frame_is(&p, pcs, 0, "leaf") &&
	     frame_is(&p, pcs, 1, "resolve_lazy") && frame_is(&p, pcs, 2, "dl_fixup");
	CHECK(ok, "uwfix_lazy: ours stops with %s after %d frames, not at "
		  "leaf, resolve_lazy, _dl_fixup, _dl_runtime_resolve_*",
	      unwind_status_name(st), n);
	if (!ok)
		print_frames(&p, pcs, n);

	m = lu_unwind(&p, &p.stack, lu_pcs, &lst);
	CHECK(lst == UNWIND_END && alike(pcs, n, lu_pcs, m) == n,
	      "uwfix_lazy: libunwind %s after %d frames, %d of ours alike",
	      unwind_status_name(lst), m, alike(pcs, n, lu_pcs, m));
	check_names(&p, lu_pcs, m, n, chain, 5, "uwfix_lazy by libunwind");
	printf("uwfix_lazy: ours stops after %d frames (%s), libunwind completes %d: "
	       "%.3f us/frame\n", n, unwind_status_name(st), m, time_libunwind(&p, m));

	/* through the symbolizer, its /proc a directory of ours */
	snprintf(proc_dir, sizeof(proc_dir), "%s/proc", tmp);
	snprintf(pid_dir, sizeof(pid_dir), "%s/4243", proc_dir);
	snprintf(path, sizeof(path), "%s/root", pid_dir);
	if (mkdir(proc_dir, 0755) || mkdir(pid_dir, 0755) || symlink("/", path))
		abort();
	snprintf(path, sizeof(path), "%s/maps", pid_dir);
	maps = capture_maps(file);
	f = fopen(path, "w");
	if (!f || !maps || fputs(maps, f) < 0 || fclose(f))
		abort();
	free(maps);
	symbolize_unwind(&p, proc_dir, tmp, 0, sym_pcs, &depth, &result, &stats, &with_us);
	CHECK(result == SYM_UNWIND_COMPLETE && depth == (size_t)m &&
	      !memcmp(sym_pcs, lu_pcs, (size_t)m * sizeof(*pcs)),
	      "symbolizer_unwind: result %d, %zu frames, libunwind's %d", result, depth, m);
	CHECK(stats.unwind_libunwind_completed == 2001 && stats.unwind_libunwind_bytes > 0,
	      "stats: %" PRIu64 " completed by libunwind, %" PRIu64 " bytes",
	      stats.unwind_libunwind_completed, stats.unwind_libunwind_bytes);
	printf("uwfix_lazy through symbolizer_unwind: libunwind's cache holds %" PRIu64
	       " bytes\n", stats.unwind_libunwind_bytes);
	symbolize_unwind(&p, proc_dir, tmp, 1, sym_pcs, &depth, &result, &stats, &without_us);
	CHECK(result == SYM_UNWIND_STOPPED && depth == (size_t)n &&
	      stats.unwind_libunwind_completed == 0,
	      "no_libunwind: result %d, %zu frames, %" PRIu64 " completed", result, depth,
	      stats.unwind_libunwind_completed);
	printf("uwfix_lazy through symbolizer_unwind: %.1f us a stack with the "
	       "libunwind fallback, %.1f us without\n", with_us, without_us);
	free_proc(&p);
}

int main(void)
{
	static const char *const fixtures[] = { "uwfix_nofp", "uwfix_default" };
	static const char *const modes[] = { "main", "thread", "signal" };
	char tmp[] = "/tmp/test_unwind.XXXXXX";
	char cmd[64];

	elf_version(EV_CURRENT);
	if (ulw_new(0, &lu)) {
		fprintf(stderr, "ulw_new: out of memory\n");
		return 1;
	}
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	for (int f = 0; f < 2; f++)
		for (int m = 0; m < 3; m++)
			test_chain(fixtures[f], modes[m], tmp);
	test_plt();
	test_garbage(tmp);
	test_lazy(tmp);
	test_cache(tmp);
	ulw_free(lu);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmp);
	return check_summary();
}
