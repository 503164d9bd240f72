/* python_tracker.c - see python_tracker.h.
 *
 * Processes are a uthash table by (pid, start time); each holds a uthash
 * table of its code objects by address. An unsupported interpreter keeps
 * an entry too (so it is looked at, and logged, once), with no code.
 *
 * CPython gives a freed code object's memory to the next one of its size
 * at once (code compiled and dropped: exec, templates, a notebook's
 * cells), so an address may name another code object later: an entry
 * used again CODE_RECHECK_NS after it was last checked reads the object's
 * identity anew, and one that changed is retired (kept until the second
 * forget after, for the stacks that hold it) and read again.
 */
#include "python_tracker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uthash.h>

#include "proc_status.h"
#include "python_code.h"
#include "python_detect.h"
#include "python_lines.h"
#include "sym_log.h"

/* glibc's struct pthread: specific_1stblock[0].data, from the thread pointer */
#define GLIBC_TSD_BASE (0x310 + 8)
#define PYTHON_PREFIX "python:" /* of a frame's system name */
#define LOGGED_MAX 256
#define CODE_RECHECK_NS 2000000000ull /* an entry's identity is read again */ /* interpreter files named in an "unsupported" line */

struct code_key {
	uint64_t addr;
};

struct code_entry {
	UT_hash_handle hh;
	struct code_key key;
	bool not_code;           /* not a code object: the frame is skipped */
	uint64_t identity;       /* python_code_identity's; 0: unknown */
	uint64_t checked_ns;     /* CLOCK_MONOTONIC when it was last read */
	struct code_entry *next_retired;
	struct interp_function fn;
	uint8_t *linetable;
	size_t linetable_len;
	size_t bytes;            /* charged to the symbolizer's cap */
	char strings[];          /* fn.system_name (PYTHON_PREFIX, then
	                            fn.name), then fn.file */
};

struct proc_key {
	int32_t pid;
	uint32_t pad;
	uint64_t start_time;
};

struct python_process {
	UT_hash_handle hh;
	struct proc_key key;
	struct python_found found; /* found.layout NULL: not supported */
	struct code_entry *code;
	struct python_process *next_ended;
};

struct logged {
	UT_hash_handle hh;
	char path[256];
};

struct python_tracker {
	struct symbolizer *sym;
	struct python_process *procs;
	struct python_process *ended; /* exited: freed at the next forget */
	struct code_entry *retired, *retired_old; /* replaced since the last
	                                 forget, and before it (freed next) */
	struct logged *logged;
	struct python_tracker_stats stats;
};

static const struct sym_mapping python_mapping = {
	.path = "[python]",
	.build_id = "",
	.has_functions = 1,
	.has_filenames = 1,
	.has_line_numbers = 1,
};

/* A frame whose code object could not be read (the process exited, the
 * cap was reached, or it is not one any more). */
static const struct interp_function unknown_code = {
	.name = "<python code>",
	.system_name = PYTHON_PREFIX "<python code>",
	.file = "",
	.mapping = &python_mapping,
};

int python_tracker_new(struct symbolizer *sym, struct python_tracker **out)
{
	struct python_tracker *t;

	if (!sym || !out)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->sym = sym;
	*out = t;
	return 0;
}

static void free_code(struct python_tracker *t, struct code_entry *c)
{
	symbolizer_uncharge(t->sym, c->bytes);
	t->stats.code_objects--;
	t->stats.code_bytes -= c->bytes;
	free(c->linetable);
	free(c);
}

static void free_retired(struct python_tracker *t, struct code_entry **list)
{
	while (*list) {
		struct code_entry *c = *list;

		*list = c->next_retired;
		free_code(t, c);
	}
}

static void free_process(struct python_tracker *t, struct python_process *p)
{
	struct code_entry *c, *next;

	HASH_ITER(hh, p->code, c, next) {
		HASH_DELETE(hh, p->code, c);
		free_code(t, c);
	}
	free(p);
}

static void free_ended(struct python_tracker *t)
{
	while (t->ended) {
		struct python_process *p = t->ended;

		t->ended = p->next_ended;
		free_process(t, p);
	}
}

void python_tracker_free(struct python_tracker *t)
{
	struct python_process *p, *next;
	struct logged *l, *lnext;

	if (!t)
		return;
	free_ended(t);
	free_retired(t, &t->retired);
	free_retired(t, &t->retired_old);
	HASH_ITER(hh, t->procs, p, next) {
		HASH_DELETE(hh, t->procs, p);
		free_process(t, p);
	}
	HASH_ITER(hh, t->logged, l, lnext) {
		HASH_DELETE(hh, t->logged, l);
		free(l);
	}
	free(t);
}

static struct proc_key proc_key(pid_t pid, uint64_t start_time)
{
	struct proc_key k;

	memset(&k, 0, sizeof(k)); /* the key is its bytes */
	k.pid = pid;
	k.start_time = start_time;
	return k;
}

struct python_process *python_tracker_find(struct python_tracker *t, pid_t pid,
					   uint64_t start_time)
{
	struct proc_key k = proc_key(pid, start_time);
	struct python_process *p;

	HASH_FIND(hh, t->procs, &k, sizeof(k), p);
	return p && p->found.layout ? p : NULL;
}

/* Logs an unsupported interpreter once per file. */
static void log_unsupported(struct python_tracker *t, pid_t pid, const struct python_found *f)
{
	struct logged *l;

	HASH_FIND_STR(t->logged, f->path, l);
	if (l || HASH_COUNT(t->logged) >= LOGGED_MAX)
		return;
	l = calloc(1, sizeof(*l));
	if (l) {
		snprintf(l->path, sizeof(l->path), "%s", f->path);
		HASH_ADD_STR(t->logged, path, l);
		if (!l->hh.tbl)
			free(l);
	}
	sym_log(SYM_LOG_INFO,
		"process %d runs %s (Python %u.%u%s): not supported: %s; its native frames only",
		(int)pid, f->path, f->major, f->minor, f->flavour, f->why);
}

int python_tracker_detect(struct python_tracker *t, pid_t pid, uint64_t start_time,
			  struct bpfprof_python_proc *proc)
{
	struct proc_key k = proc_key(pid, start_time);
	struct python_process *p;
	int err;

	HASH_FIND(hh, t->procs, &k, sizeof(k), p);
	if (p || HASH_COUNT(t->procs) >= BPFPROF_MAX_PIDS)
		return 0;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	err = python_detect(t->sym, pid, &p->found);
	if (err) {
		free(p);
		return err == -ENOENT || err == -ESRCH ? 0 : err;
	}
	p->key = k;
	HASH_ADD(hh, t->procs, key, sizeof(k), p);
	if (!p->hh.tbl) {
		free(p);
		return -ENOMEM;
	}
	if (!p->found.layout) {
		t->stats.unsupported++;
		log_unsupported(t, pid, &p->found);
		return 0;
	}
	t->stats.processes++;
	sym_log(SYM_LOG_DEBUG, "process %d runs Python %u.%u (%s)", (int)pid, p->found.major,
		p->found.minor, p->found.path);
	*proc = (struct bpfprof_python_proc){
		.start_time = start_time,
		.runtime = p->found.runtime,
		.tsd_base = GLIBC_TSD_BASE, /* checked by the walk: another libc falls back */
		.off = p->found.layout->bpf,
	};
	return 1;
}

bool python_process_in_eval(const struct python_process *p, uint64_t pc)
{
	const struct python_found *f = &p->found;

	return (pc >= f->eval_start && pc < f->eval_end) ||
	       (pc >= f->cold_start && pc < f->cold_end);
}

/* Reads the code object at addr of p into a new entry. */
static struct code_entry *read_code(struct python_tracker *t, struct python_process *p,
				    uint64_t addr, uint64_t now)
{
	struct python_code code;
	struct code_entry *c;
	pid_t pid = p->key.pid;
	size_t prefix_len = strlen(PYTHON_PREFIX), name_len, file_len, bytes;
	int err;

	err = python_code_read(p->found.layout, process_mem_read, &pid, addr, p->found.code_type,
			       &code);
	name_len = strlen(code.qualname) + 1;
	file_len = strlen(code.filename) + 1;
	bytes = sizeof(*c) + prefix_len + name_len + file_len + code.linetable_len;
	c = calloc(1, sizeof(*c) + prefix_len + name_len + file_len);
	if (!c || !symbolizer_charge(t->sym, bytes)) {
		t->stats.code_over_cap += c != NULL;
		free(c);
		free(code.linetable);
		return NULL;
	}
	c->key.addr = addr;
	c->bytes = bytes;
	c->not_code = err == -ENOENT;
	c->identity = code.identity;
	c->checked_ns = now;
	if (err) {
		t->stats.code_failed += !c->not_code;
		c->fn = unknown_code;
		free(code.linetable);
	} else {
		memcpy(c->strings, PYTHON_PREFIX, prefix_len);
		memcpy(c->strings + prefix_len, code.qualname, name_len);
		memcpy(c->strings + prefix_len + name_len, code.filename, file_len);
		c->fn = (struct interp_function){
			.name = c->strings + prefix_len,
			.system_name = c->strings,
			.file = c->strings + prefix_len + name_len,
			.first_line = code.firstlineno,
			.mapping = &python_mapping,
		};
		c->linetable = code.linetable;
		c->linetable_len = code.linetable_len;
	}
	HASH_ADD(hh, p->code, key, sizeof(c->key), c);
	if (!c->hh.tbl) {
		symbolizer_uncharge(t->sym, bytes);
		free(c->linetable);
		free(c);
		return NULL;
	}
	t->stats.code_objects++;
	t->stats.code_bytes += bytes;
	return c;
}

/* Whether entry c still stands for the object at its address (checked
 * again when CODE_RECHECK_NS have passed); true also when the process
 * cannot be read now (it may be exiting: its frames keep their names). */
static bool still_same(struct python_tracker *t, struct python_process *p, struct code_entry *c,
		       uint64_t now)
{
	pid_t pid = p->key.pid;
	uint64_t identity = 0;
	int err;

	if (now - c->checked_ns < CODE_RECHECK_NS)
		return true;
	err = python_code_identity(p->found.layout, process_mem_read, &pid, c->key.addr,
				   p->found.code_type, &identity);
	if (err && err != -ENOENT)
		return true;
	if (identity != c->identity) { /* both 0: still not code */
		t->stats.code_replaced++;
		return false;
	}
	c->checked_ns = now;
	return true;
}

/* Resolves frame f into out; false when it is not a code object's. */
static bool resolve_frame(struct python_tracker *t, struct python_process *p,
			  const struct bpfprof_py_frame *f, uint64_t now, struct interp_frame *out)
{
	struct code_key k = { .addr = f->code };
	struct code_entry *c;
	int64_t line = 0;

	HASH_FIND(hh, p->code, &k, sizeof(k), c);
	if (c && !still_same(t, p, c, now)) {
		HASH_DELETE(hh, p->code, c);
		c->next_retired = t->retired;
		t->retired = c;
		c = NULL;
	}
	if (!c)
		c = read_code(t, p, f->code, now);
	if (c && c->not_code)
		return false;
	*out = (struct interp_frame){ .function = c ? &c->fn : &unknown_code };
	if (c && c->fn.name != unknown_code.name &&
	    !python_line_at(c->linetable, c->linetable_len, c->fn.first_line, f->offset, &line) &&
	    line > 0 && line < INT32_MAX)
		out->line = (int)line;
	return true;
}

size_t python_tracker_resolve(struct python_tracker *t, struct python_process *p,
			      const struct bpfprof_py_stack *py, struct interp_frame *out)
{
	enum bpfprof_py_entry kind = p->found.layout->bpf.entry_kind;
	struct timespec ts;
	uint64_t now;
	size_t n = 0;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;

	for (uint32_t i = 0; i < py->depth && i < BPFPROF_PY_MAX_FRAMES; i++) {
		const struct bpfprof_py_frame *f = &py->frames[i];

		if (kind == PY_ENTRY_SHIM && f->marker == BPFPROF_PY_OWNER_SHIM) {
			if (n)
				out[n - 1].entry = true;
			continue;
		}
		if (!resolve_frame(t, p, f, now, &out[n]))
			continue;
		out[n++].entry = kind == PY_ENTRY_FLAG && f->marker;
	}
	return n;
}

/* Whether the incarnation p of its pid has exited. */
static bool exited(const struct python_process *p)
{
	char path[64];
	uint64_t ticks;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)p->key.pid);
	if (proc_read_start_time(AT_FDCWD, path, &ticks))
		return true;
	return ticks != p->key.start_time / proc_ns_per_tick();
}

void python_tracker_forget_exited(struct python_tracker *t)
{
	struct python_process *p, *next;

	free_ended(t);
	free_retired(t, &t->retired_old);
	t->retired_old = t->retired;
	t->retired = NULL;
	HASH_ITER(hh, t->procs, p, next) {
		if (!exited(p))
			continue;
		HASH_DELETE(hh, t->procs, p);
		if (p->found.layout)
			t->stats.processes--;
		else
			t->stats.unsupported--;
		p->next_ended = t->ended;
		t->ended = p;
	}
}

void python_tracker_get_stats(const struct python_tracker *t, struct python_tracker_stats *out)
{
	*out = t->stats;
}
