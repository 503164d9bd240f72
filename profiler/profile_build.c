/* profile_build.c - see profile_build.h. */
#include "profile_build.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pprof.h"
#include "sampled_vma.h"

#define KERNEL_PID (-1)

struct build_ctx {
	const struct profile_build_opts *opts;
	struct sampler *sampler;
	struct symbolizer *sym;
	struct pprof_builder *builder;
	uint64_t location_ids[2 * BPFPROF_MAX_STACK_DEPTH + 1]; /* + [truncated] */
	uint32_t *tgids; /* one per sample, for counting processes */
	size_t ntgids, tgids_cap;
	struct profile_totals *totals;
	uint64_t kept; /* samples kept so far, for opts->parts */
};

static int64_t add_mapping(struct pprof_builder *b, const struct sym_mapping *m)
{
	struct pprof_mapping_info info = {
		.start = m->start,
		.limit = m->limit,
		.file_offset = m->file_offset,
		.filename = m->path,
		.build_id = m->build_id,
		.has_functions = m->has_functions,
		.has_filenames = m->has_filenames,
		.has_line_numbers = m->has_line_numbers,
		.has_inline_frames = m->has_inline_frames,
	};

	return pprof_add_mapping(b, &info);
}

/* Resolves one address of pid (KERNEL_PID for the kernel), the process
 * started at start_time, whose sample's user pc was in leaf, into a
 * location. */
static int64_t add_frame(struct build_ctx *c, pid_t pid, uint64_t start_time,
			 const struct sym_vma *leaf, uint64_t addr)
{
	struct pprof_line lines[SYM_MAX_FRAMES];
	struct sym_location loc;
	int64_t mapping_id = 0;
	int err;

	err = pid == KERNEL_PID ? symbolizer_resolve_kernel(c->sym, addr, &loc)
				: symbolizer_resolve_user_sampled(c->sym, pid, start_time, leaf,
								  addr, &loc);
	if (err) { /* keep the bare address: pprof still shows it */
		loc.mapping = NULL;
		loc.nframes = 0;
	}
	if (loc.mapping) {
		mapping_id = add_mapping(c->builder, loc.mapping);
		if (mapping_id < 0)
			return mapping_id;
	}
	for (int i = 0; i < loc.nframes; i++) {
		lines[i] = (struct pprof_line){
			.function = loc.frames[i].function,
			.filename = loc.frames[i].file,
			.line = loc.frames[i].line,
			.start_line = loc.frames[i].start_line,
		};
	}
	return pprof_add_location(c->builder, (uint64_t)mapping_id, addr, lines,
				  (size_t)loc.nframes);
}

/* Appends the frames of one stack to c->location_ids from index n. */
static int add_stack(struct build_ctx *c, pid_t pid, uint64_t start_time,
		     const struct sym_vma *leaf, const uint64_t *ips, size_t depth, size_t *n)
{
	for (size_t i = 0; i < depth; i++) {
		uint64_t addr = i == 0 ? ips[i] : ips[i] - 1;
		int64_t id = add_frame(c, pid, start_time, leaf, addr);

		if (id < 0)
			return (int)id;
		c->location_ids[(*n)++] = (uint64_t)id;
	}
	return 0;
}

static int remember_tgid(struct build_ctx *c, uint32_t tgid)
{
	if (c->ntgids == c->tgids_cap) {
		size_t cap = c->tgids_cap ? 2 * c->tgids_cap : 256;
		uint32_t *p = realloc(c->tgids, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		c->tgids = p;
		c->tgids_cap = cap;
	}
	c->tgids[c->ntgids++] = tgid;
	return 0;
}

static int add_sample(const struct sampler_sample *s, void *ctx)
{
	struct build_ctx *c = ctx;
	const struct sample_key *k = s->key;
	const struct pprof_label all[] = { /* in PROFILE_LABEL_* bit order */
		{ .key = "pid", .num = k->tgid },
		{ .key = "tid", .num = k->tid },
		{ .key = "comm", .str = k->comm },
		{ .key = "thread_name", .str = k->thread_name },
	};
	struct pprof_label labels[4];
	const struct sym_vma leaf = sampled_vma(&k->leaf);
	size_t n = 0, nlabels = 0;
	int err;

	if (c->opts->keep && !c->opts->keep(k, c->opts->keep_ctx))
		return 0;
	if (c->opts->parts > 1 && c->kept++ % c->opts->parts != c->opts->part)
		return 0;
	err = add_stack(c, KERNEL_PID, 0, NULL, s->kernel_ips, s->kernel_depth, &n);
	if (!err)
		err = add_stack(c, (pid_t)k->tgid, k->start_time, &leaf, s->user_ips,
				s->user_depth, &n);
	if (!err && s->truncated) {
		static const struct pprof_line truncated = { .function = "[truncated]" };
		int64_t id = pprof_add_location(c->builder, 0, 0, &truncated, 1);

		if (id < 0)
			return (int)id;
		c->location_ids[n++] = (uint64_t)id;
	}
	for (unsigned i = 0; i < 4; i++)
		if (c->opts->sample_labels & (1u << i))
			labels[nlabels++] = all[i];
	if (!err)
		err = pprof_add_sample(c->builder, c->location_ids, n, (int64_t)s->count, labels,
				       nlabels);
	if (!err)
		err = remember_tgid(c, k->tgid);
	if (err)
		return err;
	c->totals->samples += s->count;
	return 0;
}

static int add_unwound(const struct unwound_stack *u, void *ctx)
{
	struct build_ctx *c = ctx;
	uint64_t kernel_ips[BPFPROF_MAX_STACK_DEPTH];
	struct sampler_sample s = {
		.key = &u->key,
		.count = u->count,
		.kernel_ips = kernel_ips,
		.kernel_depth = sampler_read_stack(c->sampler, c->opts->buffer,
						   u->key.kernel_stack_id, kernel_ips),
		.user_ips = u->pcs,
		.user_depth = u->depth,
		.truncated = u->truncated,
	};

	return add_sample(&s, c);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static uint64_t count_distinct(uint32_t *v, size_t n)
{
	uint64_t distinct = 0;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u32);
	for (size_t i = 0; i < n; i++)
		distinct += i == 0 || v[i] != v[i - 1];
	return distinct;
}

int profile_build(struct sampler *sampler, const struct stack_table *unwound,
		  struct symbolizer *sym,
		  const struct profile_build_opts *opts, uint8_t **gz,
		  size_t *gz_len, struct profile_totals *totals)
{
	struct pprof_builder_opts bopts = {
		.sz = sizeof(bopts),
		.period_ns = opts->period_ns,
		.time_nanos = opts->time_nanos,
		.duration_nanos = opts->duration_nanos,
	};
	struct build_ctx c = { .opts = opts, .sampler = sampler, .sym = sym, .totals = totals };
	int err;

	memset(totals, 0, sizeof(*totals));
	err = pprof_builder_new(&bopts, &c.builder);
	if (err)
		return err;
	err = sampler_for_each_sample(sampler, opts->buffer, add_sample, &c);
	if (!err && unwound)
		err = stack_table_for_each(unwound, add_unwound, &c);
	if (err)
		log_error("build profile: %s", strerror(-err));
	else
		err = pprof_builder_encode_gz(c.builder, gz, gz_len, &totals->raw_bytes);
	totals->sample_messages = pprof_builder_sample_count(c.builder);
	totals->processes = count_distinct(c.tgids, c.ntgids);
	free(c.tgids);
	pprof_builder_free(c.builder);
	return err;
}
