/* test_unwind.c - symbolizer/cfi_table.c and symbolizer/unwind.c.
 *
 * The fixture uwfix (built -O2 -fomit-frame-pointer, and with gcc's default
 * -O0, frame pointers on) snapshots its own stack in a known call chain and
 * writes registers, stack bytes and its /proc/self/maps to a file (see
 * unwind_fixtures/uwfix.c). Here the snapshot is unwound with CFI tables of
 * the files in those maps, and each pc is checked against the symbols `nm`
 * lists (libc's from its libc6-dbg debug file, found by build-id), the
 * walk's status too. The same snapshot is unwound by libdw
 * (dwfl_getthread_frames) for a cross-check of the pcs and a timing.
 * Then: a snapshot cut at 1 KiB, the PLT rules synthesized for a fixture
 * linked without PLT unwind info against binutils' own, garbage input.
 */
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
#include "unwind.h"

#define MAX_FRAMES 128

struct sym {
	uint64_t addr, size;
	char *name;             /* without leading '_', '.suffix', '@version' */
};

struct object {
	char path[512];
	struct cfi_table *cfi;
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

/* ---- the tests ---------------------------------------------------------- */

static int unwind(const struct proc *p, const struct unwind_stack *s,
		  uint64_t *pcs, enum unwind_status *st)
{
	return unwind_snapshot(&p->regs, s, find, (void *)p, pcs, MAX_FRAMES, st);
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
	compare_libdw(&p, pcs, n, time_unwind(&p, n), what);

	/* the same snapshot cut at 1 KiB: a prefix of the frames */
	if (!strcmp(mode, "main")) {
		struct unwind_stack cut = { p.stack.base, p.stack.data, 1024 };
		uint64_t cut_pcs[MAX_FRAMES];
		int m = unwind(&p, &cut, cut_pcs, &st);

		CHECK(st == UNWIND_TRUNCATED && m >= 1 && m < n &&
		      !memcmp(cut_pcs, pcs, (size_t)m * sizeof(*pcs)),
		      "%s cut at 1 KiB: %s, %d frames of %d", what,
		      unwind_status_name(st), m, n);
		m = unwind_snapshot(&p.regs, &p.stack, find, &p, cut_pcs, 3, &st);
		CHECK(m == 3 && st == UNWIND_MAX_FRAMES, "%s: max 3: %d %s",
		      what, m, unwind_status_name(st));
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
	long ends = 0;

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
		n = unwind_snapshot(&q.regs, &s, find, &q, pcs, MAX_FRAMES, &st);
		CHECK(n >= 0 && n <= MAX_FRAMES && st <= UNWIND_MAX_FRAMES,
		      "garbage: %d frames, status %d", n, st);
		ends += st == UNWIND_END;
		free(buf);
	}
	printf("garbage: 200000 walks, %ld complete\n", ends);
	free_proc(&p);
}

int main(void)
{
	static const char *const fixtures[] = { "uwfix_nofp", "uwfix_default" };
	static const char *const modes[] = { "main", "thread", "signal" };
	char tmp[] = "/tmp/test_unwind.XXXXXX";
	char cmd[64];

	elf_version(EV_CURRENT);
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	for (int f = 0; f < 2; f++)
		for (int m = 0; m < 3; m++)
			test_chain(fixtures[f], modes[m], tmp);
	test_plt();
	test_garbage(tmp);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmp);
	return check_summary();
}
