/* collector.c - see collector.h. */
#include "collector.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "opts.h"
#include "python_tracker.h"
#include "sampled_vma.h"
#include "stack_table.h"
#include "symbolizer.h"

struct collector {
	struct symbolizer *sym;
	struct python_tracker *python;
	struct sampler *sampler;       /* collector_use_sampler() */
	struct stack_table *stacks[2]; /* per sampler buffer */
	struct interval_batch *batch;  /* of the buffer drained last */
	struct sampler_handlers handlers;
	struct collector_stats stats;
	void (*on_new_process)(pid_t pid, void *ctx);
	void *ctx;
};

/* Tells the BPF side of a process's Python interpreter, when it has one
 * (with its mappings read: ld.so maps libpython after the executable, so
 * a new file mapping may show it). */
static void detect_python(struct collector *c, pid_t pid, uint64_t start_time)
{
	struct bpfprof_python_proc proc;
	int err = python_tracker_detect(c->python, pid, start_time, &proc);

	if (err < 0)
		log_debug("look for Python in process %d: %s", pid, strerror(-err));
	else if (err > 0 && c->sampler && (err = sampler_set_python(c->sampler, pid, &proc)))
		log_warn("Python frames of process %d: %s", pid, strerror(-err));
}

static void on_new_pid(pid_t pid, uint64_t start_time, void *ctx)
{
	struct collector *c = ctx;
	int err;

	if (c->on_new_process)
		c->on_new_process(pid, c->ctx);
	detect_python(c, pid, start_time); /* first: a few ms, not its objects' parse */
	err = symbolizer_track_process(c->sym, pid);
	if (err && err != -ESRCH)
		log_debug("snapshot process %d: %s", pid, strerror(-err));
}

/* A process running code in a file mapping for the first time: its maps
 * are read again unless that mapping is already known (a dlopen). */
static void on_new_file(pid_t pid, uint64_t start_time, const struct bpfprof_vma *vma, void *ctx)
{
	struct collector *c = ctx;
	struct sym_vma v = sampled_vma(vma);
	int err;

	detect_python(c, pid, start_time);
	err = symbolizer_track_mapping(c->sym, pid, &v);
	if (err && err != -ESRCH)
		log_debug("refresh process %d: %s", pid, strerror(-err));
}

/* Counts a user stack in buffer's table, with the thread's Python frames
 * (py) merged in when its process runs a known interpreter. */
static void count_stack(struct collector *c, unsigned buffer, const struct sample_key *key,
			const uint64_t *pcs, const bool *exact, const struct sym_mapping **maps,
			size_t depth, bool truncated, const struct bpfprof_py_stack *py)
{
	struct python_process *p = py->depth ? python_tracker_find(c->python, (pid_t)key->tgid,
								   key->start_time)
					     : NULL;
	struct interp_frame frames[BPFPROF_PY_MAX_FRAMES];
	bool in_eval[BPFPROF_MAX_STACK_DEPTH];
	struct merged_frame merged[STACK_TABLE_MAX_DEPTH];
	uint64_t mpcs[STACK_TABLE_MAX_DEPTH];
	bool mexact[STACK_TABLE_MAX_DEPTH];
	const struct sym_mapping *mmaps[STACK_TABLE_MAX_DEPTH];
	const struct interp_function *minterp[STACK_TABLE_MAX_DEPTH];
	size_t n, m;
	uint64_t t0;
	int err;

	if (!p) {
		err = stack_table_add(c->stacks[buffer & 1], key, pcs, exact, maps, NULL,
				      (uint32_t)depth, truncated);
		goto out;
	}
	t0 = (uint64_t)monotonic_ns();
	n = python_tracker_resolve(c->python, p, py, frames);
	for (size_t i = 0; i < depth; i++)
		in_eval[i] = python_process_in_eval(p, pcs[i]);
	m = stack_merge(in_eval, depth, frames, n, merged, STACK_TABLE_MAX_DEPTH);
	c->stats.python_ns += (uint64_t)monotonic_ns() - t0;
	for (size_t i = 0; i < m; i++) {
		uint32_t k = merged[i].index;

		if (merged[i].interp) {
			mpcs[i] = (uint64_t)frames[k].line;
			mexact[i] = true;
			mmaps[i] = NULL;
			minterp[i] = frames[k].function;
		} else {
			mpcs[i] = pcs[k];
			mexact[i] = exact[k];
			mmaps[i] = maps ? maps[k] : NULL;
			minterp[i] = NULL;
		}
	}
	c->stats.python_frames += n;
	c->stats.python_truncated += py->truncated != 0;
	err = stack_table_add(c->stacks[buffer & 1], key, mpcs, mexact, mmaps, minterp,
			      (uint32_t)m, truncated || py->truncated);
out:
	if (err)
		c->stats.stacks_dropped++;
}

/* With frame pointers, a sample of a Python thread: its native stack from
 * the stack map, its Python frames from the event, counted here. */
static void on_python(const struct python_event *e, void *ctx)
{
	struct collector *c = ctx;
	uint64_t ips[BPFPROF_MAX_STACK_DEPTH];
	bool exact[BPFPROF_MAX_STACK_DEPTH] = { true }; /* the leaf */
	struct sample_key key = e->key;
	size_t depth = c->sampler ? sampler_read_stack(c->sampler, e->buffer & 1,
						       key.user_stack_id, ips)
				  : 0;

	key.user_stack_id = 0; /* the stack table's key has the frames instead */
	count_stack(c, e->buffer, &key, ips, exact, NULL, depth, false, &e->python);
}

static void on_snapshot(const struct stack_event *e, size_t len, void *ctx)
{
	struct collector *c = ctx;
	struct sym_stack_snapshot snap = {
		.ip = e->ip,
		.sp = e->sp,
		.bp = e->bp,
		.base = e->stack_base,
		.data = e->stack,
		.len = e->stack_len,
		.start_time = e->start_time,
	};
	struct sample_key key = {
		.tgid = e->tgid,
		.tid = e->tid,
		.kernel_stack_id = e->kernel_stack_id,
		.start_time = e->start_time,
		.leaf = e->leaf,
	};
	uint64_t pcs[BPFPROF_MAX_STACK_DEPTH];
	bool exact[BPFPROF_MAX_STACK_DEPTH];
	const struct sym_mapping *maps[BPFPROF_MAX_STACK_DEPTH];
	enum sym_unwind_result result;
	size_t depth = 0;
	uint64_t t0;

	if (snap.len > len - offsetof(struct stack_event, stack))
		return; /* a short record: never read past it */
	memcpy(key.comm, e->comm, sizeof(key.comm));
	memcpy(key.thread_name, e->thread_name, sizeof(key.thread_name));
	/* A process seen for the first time was tracked just before (its
	 * announcement precedes its snapshots); one whose announcement was
	 * lost (ring full) is tracked now. */
	t0 = (uint64_t)monotonic_ns();
	if (symbolizer_unwind(c->sym, (pid_t)e->tgid, &snap, pcs, exact, maps,
			      BPFPROF_MAX_STACK_DEPTH, &depth, &result) == -ESRCH) {
		on_new_pid((pid_t)e->tgid, e->start_time, c);
		symbolizer_unwind(c->sym, (pid_t)e->tgid, &snap, pcs, exact, maps,
				  BPFPROF_MAX_STACK_DEPTH, &depth, &result);
	}
	c->stats.unwind_ns += (uint64_t)monotonic_ns() - t0;
	c->stats.frames += depth;
	c->stats.snapshot_bytes += snap.len;
	if (depth == 0) { /* not even the ip: keep the sample, with its pc */
		pcs[0] = e->ip;
		exact[0] = true;
		maps[0] = NULL;
		depth = 1;
		result = SYM_UNWIND_STOPPED;
	}
	c->stats.snapshots++;
	c->stats.truncated += result == SYM_UNWIND_TRUNCATED;
	c->stats.unwind_stopped += result == SYM_UNWIND_STOPPED;
	count_stack(c, e->buffer, &key, pcs, exact, maps, depth, result == SYM_UNWIND_TRUNCATED,
		    &e->python);
}

/* The batch's resolver over the symbolizer, in two halves for user
 * addresses (each object's address named once for all its processes);
 * resolve is left only the kernel's. */
static int resolve_kernel(void *ctx, pid_t pid, uint64_t start_time, const struct sym_vma *leaf,
			  uint64_t addr, struct sym_location *out)
{
	struct collector *c = ctx;

	(void)pid;
	(void)start_time;
	(void)leaf;
	return symbolizer_resolve_kernel(c->sym, addr, out);
}

static int locate(void *ctx, pid_t pid, uint64_t start_time, const struct sym_vma *leaf,
		  const struct sym_mapping *mapping, uint64_t addr, struct sym_location *out)
{
	struct collector *c = ctx;

	return symbolizer_locate(c->sym, pid, start_time, leaf, mapping, addr, out);
}

static void resolve_object(void *ctx, struct sym_location *loc)
{
	(void)ctx;
	symbolizer_resolve_object(loc);
}

int collector_new(const struct collector_opts *opts, struct collector **out)
{
	struct symbolizer_opts sym_opts = { .sz = sizeof(sym_opts) };
	struct interval_batch_opts batch_opts = {
		.sz = sizeof(batch_opts), .resolve = resolve_kernel, .locate = locate,
		.resolve_object = resolve_object,
	};
	struct collector *c;
	int err;

	if (!opts || !OPTS_VALID(opts) || !out)
		return -EINVAL;
	sym_opts.debuginfod_urls = OPT(opts, debuginfod_urls, NULL);
	sym_opts.cache_bytes = OPT(opts, cache_bytes, 0);
	sym_opts.unwind_tables = OPT(opts, unwind, false);
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->on_new_process = OPT(opts, on_new_process, NULL);
	c->ctx = OPT(opts, ctx, NULL);
	c->handlers = (struct sampler_handlers){
		.on_new_pid = on_new_pid,
		.on_new_file = on_new_file,
		.on_snapshot = on_snapshot,
		.on_python = on_python,
		.ctx = c,
	};
	batch_opts.ctx = c;
	err = symbolizer_new(&sym_opts, &c->sym);
	if (!err)
		err = python_tracker_new(c->sym, &c->python);
	if (!err)
		err = interval_batch_new(&batch_opts, &c->batch);
	if (!err && OPT(opts, load_kernel, false))
		symbolizer_load_kernel(c->sym); /* a failure is logged, and kept */
	for (int i = 0; i < 2 && !err; i++)
		err = stack_table_new(OPT(opts, max_stacks, COLLECTOR_DEFAULT_MAX_STACKS),
				      &c->stacks[i]);
	if (err) {
		log_error("start symbolizer: %s", strerror(-err));
		collector_free(c);
		return err;
	}
	*out = c;
	return 0;
}

void collector_free(struct collector *c)
{
	if (!c)
		return;
	stack_table_free(c->stacks[0]);
	stack_table_free(c->stacks[1]);
	interval_batch_free(c->batch);
	python_tracker_free(c->python);
	symbolizer_free(c->sym);
	free(c);
}

const struct sampler_handlers *collector_handlers(struct collector *c)
{
	return &c->handlers;
}

void collector_use_sampler(struct collector *c, struct sampler *s)
{
	c->sampler = s;
}

struct drain {
	struct collector *c;
	struct sampler *sampler;
	unsigned buffer;
	collector_service_fn service;
	void *ctx;
};

static const char *service_of(const struct drain *d, const struct sample_key *key)
{
	return d->service ? d->service(key, d->ctx) : "";
}

/* A sample the BPF side counted with its frame-pointer stack: the leaf
 * is exact, every other pc a return address. */
static int drain_counted(const struct sampler_sample *s, void *ctx)
{
	const struct drain *d = ctx;
	struct batch_frame user[BPFPROF_MAX_STACK_DEPTH];

	for (size_t i = 0; i < s->user_depth && i < BPFPROF_MAX_STACK_DEPTH; i++)
		user[i] = (struct batch_frame){ .pc = s->user_ips[i], .exact = i == 0 };
	return interval_batch_add(d->c->batch, s->key, s->count, service_of(d, s->key),
				  s->kernel_ips, s->kernel_depth, user, s->user_depth,
				  s->truncated);
}

static int drain_unwound(const struct unwound_stack *u, void *ctx)
{
	const struct drain *d = ctx;
	uint64_t kernel_ips[BPFPROF_MAX_STACK_DEPTH];
	size_t nkernel = sampler_read_stack(d->sampler, d->buffer, u->key.kernel_stack_id,
					    kernel_ips);
	struct batch_frame user[STACK_TABLE_MAX_DEPTH];

	for (uint32_t i = 0; i < u->depth; i++)
		user[i] = (struct batch_frame){
			.pc = u->frames[i].pc,
			.exact = u->exact[i / 64] >> (i % 64) & 1,
			.mapping = u->frames[i].mapping,
			.interp = u->frames[i].interp,
		};
	return interval_batch_add(d->c->batch, &u->key, u->count, service_of(d, &u->key),
				  kernel_ips, nkernel, user, u->depth, u->truncated);
}

int collector_drain(struct collector *c, struct sampler *s, unsigned buffer,
		    collector_service_fn service, void *ctx, struct interval_batch **out)
{
	struct drain d = { c, s, buffer, service, ctx };
	int err;

	interval_batch_clear(c->batch);
	err = sampler_take_samples(s, buffer, drain_counted, &d);
	if (!err)
		err = stack_table_for_each(c->stacks[buffer & 1], drain_unwound, &d);
	if (!err)
		err = interval_batch_seal(c->batch);
	if (err)
		log_error("read the samples of the interval: %s", strerror(-err));
	*out = c->batch;
	return err;
}

void collector_clear(struct collector *c, struct sampler *s, unsigned buffer)
{
	interval_batch_clear(c->batch);
	sampler_clear(s, buffer);
	stack_table_clear(c->stacks[buffer & 1]);
	symbolizer_forget_exited(c->sym);
	python_tracker_forget_exited(c->python);
}

void collector_get_stats(const struct collector *c, struct collector_stats *out)
{
	*out = c->stats;
	out->symbols.sz = sizeof(out->symbols);
	symbolizer_get_stats(c->sym, &out->symbols);
	python_tracker_get_stats(c->python, &out->python);
}
