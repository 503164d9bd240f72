/* collector.c - see collector.h. */
#include "collector.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "sampled_vma.h"
#include "pprof.h"
#include "stack_table.h"
#include "symbolizer.h"


struct collector {
	struct symbolizer *sym;
	struct stack_table *stacks[2]; /* per sampler buffer */
	struct sampler_handlers handlers;
	struct collector_stats stats;
};

static void on_new_pid(pid_t pid, void *ctx)
{
	struct collector *c = ctx;
	int err = symbolizer_track_process(c->sym, pid);

	if (err && err != -ESRCH)
		log_debug("snapshot process %d: %s", pid, strerror(-err));
}

/* A process running code in a file mapping for the first time: its maps
 * are read again unless that mapping is already known (a dlopen). */
static void on_new_file(pid_t pid, const struct bpfprof_vma *vma, void *ctx)
{
	struct collector *c = ctx;
	struct sym_vma v = sampled_vma(vma);
	int err = symbolizer_track_mapping(c->sym, pid, &v);

	if (err && err != -ESRCH)
		log_debug("refresh process %d: %s", pid, strerror(-err));
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
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
	uint64_t pcs[STACK_TABLE_MAX_DEPTH];
	enum sym_unwind_result result;
	size_t depth = 0;
	uint64_t t0;

	if (snap.len > len - offsetof(struct stack_event, stack))
		return; /* a short record: never read past it */
	memcpy(key.comm, e->comm, sizeof(key.comm));
	memcpy(key.thread_name, e->thread_name, sizeof(key.thread_name));
	/* A process seen for the first time was tracked just before (new
	 * pids are delivered first); one tracked too late is tried now. */
	t0 = now_ns();
	if (symbolizer_unwind(c->sym, (pid_t)e->tgid, &snap, pcs, STACK_TABLE_MAX_DEPTH,
			      &depth, &result) == -ESRCH) {
		on_new_pid((pid_t)e->tgid, c);
		symbolizer_unwind(c->sym, (pid_t)e->tgid, &snap, pcs, STACK_TABLE_MAX_DEPTH,
				  &depth, &result);
	}
	c->stats.unwind_ns += now_ns() - t0;
	c->stats.frames += depth;
	c->stats.snapshot_bytes += snap.len;
	if (depth == 0) { /* not even the ip: keep the sample, with its pc */
		pcs[0] = e->ip;
		depth = 1;
		result = SYM_UNWIND_STOPPED;
	}
	c->stats.snapshots++;
	c->stats.truncated += result == SYM_UNWIND_TRUNCATED;
	c->stats.unwind_stopped += result == SYM_UNWIND_STOPPED;
	if (stack_table_add(c->stacks[e->buffer & 1], &key, pcs, (uint32_t)depth,
			    result == SYM_UNWIND_TRUNCATED))
		c->stats.stacks_dropped++;
}

/* The symbolizer's messages, in the program's log format. */
static void on_symbolizer_message(enum sym_log_level level, const char *msg)
{
	log_msg(level == SYM_LOG_WARN ? LOG_WARN : level == SYM_LOG_INFO ? LOG_INFO : LOG_DEBUG,
		"symbolizer: %s", msg);
}

/* The pprof builder's: each says why a call failed. */
static void on_pprof_message(const char *msg)
{
	log_error("pprof: %s", msg);
}

int collector_new(const struct collector_opts *opts, struct collector **out)
{
	struct symbolizer_opts sym_opts = { .sz = sizeof(sym_opts) };
	struct collector *c;
	int err;

	if (!opts || opts->sz < sizeof(*opts) || !out)
		return -EINVAL;
	sym_opts.debuginfod_urls = opts->debuginfod_urls;
	sym_opts.cache_bytes = opts->cache_bytes;
	sym_opts.unwind_tables = opts->unwind;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->handlers = (struct sampler_handlers){
		.on_new_pid = on_new_pid,
		.on_new_file = on_new_file,
		.on_snapshot = on_snapshot,
		.ctx = c,
	};
	symbolizer_set_print(on_symbolizer_message);
	pprof_set_print(on_pprof_message);
	err = symbolizer_new(&sym_opts, &c->sym);
	for (int i = 0; i < 2 && !err; i++)
		err = stack_table_new(opts->max_stacks ? opts->max_stacks : COLLECTOR_DEFAULT_MAX_STACKS,
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
	symbolizer_free(c->sym);
	free(c);
}

const struct sampler_handlers *collector_handlers(struct collector *c)
{
	return &c->handlers;
}

int collector_build(struct collector *c, struct sampler *s,
		    const struct profile_build_opts *opts, uint8_t **gz,
		    size_t *gz_len, struct profile_totals *totals)
{
	return profile_build(s, c->stacks[opts->buffer & 1], c->sym, opts, gz, gz_len, totals);
}

struct key_visit {
	void (*cb)(const struct sample_key *key, void *ctx);
	void *ctx;
};

static int visit_sample(const struct sampler_sample *s, void *ctx)
{
	struct key_visit *v = ctx;

	v->cb(s->key, v->ctx);
	return 0;
}

static int visit_unwound(const struct unwound_stack *u, void *ctx)
{
	struct key_visit *v = ctx;

	v->cb(&u->key, v->ctx);
	return 0;
}

int collector_for_each_key(struct collector *c, struct sampler *s, unsigned buffer,
			   void (*cb)(const struct sample_key *key, void *ctx), void *ctx)
{
	struct key_visit v = { cb, ctx };
	int err = sampler_for_each_sample(s, buffer, visit_sample, &v);

	return err ? err : stack_table_for_each(c->stacks[buffer & 1], visit_unwound, &v);
}

void collector_clear(struct collector *c, struct sampler *s, unsigned buffer)
{
	sampler_clear(s, buffer);
	stack_table_clear(c->stacks[buffer & 1]);
	symbolizer_forget_exited(c->sym);
}

void collector_get_stats(const struct collector *c, struct collector_stats *out)
{
	*out = c->stats;
	out->symbols.sz = sizeof(out->symbols);
	symbolizer_get_stats(c->sym, &out->symbols);
}
