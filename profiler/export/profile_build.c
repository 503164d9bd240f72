/* profile_build.c - see profile_build.h. */
#include "profile_build.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"
#include "pprof.h"

struct build_ctx {
	struct interval_batch *b;
	unsigned sample_labels; /* PROFILE_LABEL_* */
	struct pprof_builder *builder;
	/* kernel, user, [truncated] */
	uint64_t location_ids[BPFPROF_MAX_STACK_DEPTH + BATCH_MAX_USER_FRAMES + 1];
	uint32_t *tgids; /* one per sample, for counting processes */
	size_t ntgids;
	struct profile_totals *totals;
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

/* The pprof id of batch mapping index + 1 (0: none), added at first use. */
static int64_t mapping_id(struct build_ctx *c, uint32_t mapping)
{
	struct interval_batch *b = c->b;
	int64_t id;

	if (!mapping)
		return 0;
	if (b->mapping_built[mapping] == b->build)
		return (int64_t)b->mapping_ids[mapping];
	id = add_mapping(c->builder, b->mappings[mapping - 1]);
	if (id < 0)
		return id;
	b->mapping_built[mapping] = b->build;
	b->mapping_ids[mapping] = (uint64_t)id;
	return id;
}

/* The pprof id of batch location i, added at first use. */
static int64_t location_id(struct build_ctx *c, uint32_t i)
{
	struct interval_batch *b = c->b;
	const struct batch_location *l = &b->locations[i];
	struct pprof_line lines[SYM_MAX_FRAMES]; /* nlines is at most that */
	int64_t mapping, id;

	if (b->location_built[i] == b->build)
		return (int64_t)b->location_ids[i];
	mapping = mapping_id(c, l->mapping);
	if (mapping < 0)
		return mapping;
	for (uint32_t k = 0; k < l->nlines; k++) {
		const struct sym_frame *f = &b->lines[l->first_line + k];

		lines[k] = (struct pprof_line){
			.function = f->function,
			.system_name = f->system_name,
			.filename = f->file,
			.line = f->line,
			.start_line = f->start_line,
		};
	}
	id = pprof_add_location(c->builder, (uint64_t)mapping, l->address, lines, l->nlines);
	if (id < 0)
		return id;
	b->location_built[i] = b->build;
	b->location_ids[i] = (uint64_t)id;
	return id;
}

static int add_sample(struct build_ctx *c, const struct batch_sample *s)
{
	const struct sample_key *k = &s->key;
	const struct pprof_label all[] = { /* in PROFILE_LABEL_* bit order */
		{ .key = "pid", .num = k->tgid },
		{ .key = "tid", .num = k->tid },
		{ .key = "comm", .str = k->comm },
		{ .key = "thread_name", .str = k->thread_name },
	};
	struct pprof_label labels[4];
	size_t n = 0, nlabels = 0;
	int err;

	for (uint32_t i = 0; i < s->depth && n < sizeof(c->location_ids) / sizeof(c->location_ids[0]);
	     i++) {
		int64_t id = location_id(c, c->b->stack[s->first + i]);

		if (id < 0)
			return (int)id;
		c->location_ids[n++] = (uint64_t)id;
	}
	for (unsigned i = 0; i < 4; i++)
		if (c->sample_labels & (1u << i))
			labels[nlabels++] = all[i];
	err = pprof_add_sample(c->builder, c->location_ids, n, (int64_t)s->count, labels, nlabels);
	if (err)
		return err;
	c->tgids[c->ntgids++] = k->tgid;
	c->totals->samples += s->count;
	return 0;
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

/* The samples of service: b->order[*from .. *to), or all of them. */
static int bucket_range(const struct interval_batch *b, int64_t service, size_t *from,
			size_t *to)
{
	if (service == PROFILE_ALL_SERVICES) {
		*from = 0;
		*to = b->nsamples;
		return 0;
	}
	if (service < 0 || (size_t)service >= b->nservices)
		return -EINVAL;
	*from = b->bucket[service];
	*to = b->bucket[service + 1];
	return 0;
}

int profile_build(struct interval_batch *b, const struct profile_build_opts *opts,
		  uint8_t **gz, size_t *gz_len, struct profile_totals *totals)
{
	struct pprof_profile_info info = {
		.period_ns = OPT(opts, period_ns, 0),
		.time_nanos = OPT(opts, time_nanos, 0),
		.duration_nanos = OPT(opts, duration_nanos, 0),
	};
	struct build_ctx c = { .b = b, .totals = totals };
	const struct sym_mapping *main_mapping = OPT(opts, main_mapping, NULL);
	int64_t service = OPT(opts, service, 0);
	unsigned parts = OPT(opts, parts, 1), part = OPT(opts, part, 0);
	size_t from, to;
	int err;

	memset(totals, 0, sizeof(*totals));
	if (!b || !opts || !OPTS_VALID(opts) || !b->order || !gz || !gz_len)
		return -EINVAL;
	err = bucket_range(b, service, &from, &to);
	if (err)
		return err;
	c.sample_labels = OPT(opts, sample_labels, 0);
	c.tgids = malloc((to - from + 1) * sizeof(*c.tgids));
	err = c.tgids ? pprof_builder_new(&info, &c.builder) : -ENOMEM;
	if (err) {
		free(c.tgids);
		return err;
	}
	b->build++; /* every location and mapping is new to this profile */
	if (main_mapping) {
		int64_t id = add_mapping(c.builder, main_mapping);

		err = id < 0 ? (int)id : 0;
	}
	for (size_t i = from; i < to && !err; i++) {
		size_t nth = i - from;

		if (nth % parts == part % parts)
			err = add_sample(&c, &b->samples[service == PROFILE_ALL_SERVICES
							     ? i : b->order[i]]);
	}
	if (!err)
		err = pprof_builder_encode_gz(c.builder, OPT(opts, gzip, NULL), gz, gz_len,
					      &totals->raw_bytes);
	totals->sample_messages = pprof_builder_sample_count(c.builder);
	totals->processes = count_distinct(c.tgids, c.ntgids);
	free(c.tgids);
	pprof_builder_free(c.builder);
	return err;
}
