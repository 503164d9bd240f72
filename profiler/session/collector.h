/* collector.h - what a recording gathers while the sampler runs.
 *
 * The collector owns the symbolizer and the table of user-space unwound
 * stacks. Handed to sampler_poll() as handlers, it snapshots each new
 * process's mappings at once (while the process is alive) and, in DWARF
 * mode, unwinds each stack snapshot as it arrives and counts the stack.
 * At the end of an interval it drains everything into one batch, from
 * which each profile is built (profile_build.h).
 */
#ifndef BPFPROF_COLLECTOR_H
#define BPFPROF_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "interval_batch.h"
#include "python_tracker.h"
#include "sampler.h"
#include "symbolizer.h"

struct collector;

#define COLLECTOR_DEFAULT_MAX_STACKS 65536

struct collector_opts {
	size_t sz;                   /* sizeof(struct collector_opts) */
	const char *debuginfod_urls; /* NULL: $DEBUGINFOD_URLS */
	size_t cache_bytes;          /* symbolizer cache cap; 0: default */
	size_t max_stacks;           /* distinct unwound stacks kept per buffer;
	                                0: COLLECTOR_DEFAULT_MAX_STACKS */
	bool unwind;                 /* DWARF mode: build unwind tables */
	bool load_kernel;            /* read kallsyms at once, not at the first
	                                kernel frame (the agent) */
	/* Called for each process announced (first seen, or after an exec)
	 * before its mappings are read; NULL: none. */
	void (*on_new_process)(pid_t pid, void *ctx);
	void *ctx;
};

struct collector_stats {
	uint64_t snapshots;         /* stack snapshots unwound */
	uint64_t truncated;         /* ... whose stack went on past the snapshot */
	uint64_t unwind_stopped;    /* ... stopped early: no CFI, bad rule, no mapping */
	uint64_t stacks_dropped;    /* samples lost: the stack table was full */
	uint64_t snapshot_bytes;    /* stack bytes copied, over all snapshots */
	uint64_t frames;            /* frames unwound, over all snapshots */
	uint64_t unwind_ns;         /* time spent in symbolizer_unwind() */
	uint64_t python_frames;     /* Python frames merged into stacks */
	uint64_t python_truncated;  /* stacks whose Python frames were cut short */
	uint64_t python_ns;         /* time spent resolving and merging them */
	struct symbolizer_stats symbols; /* the symbolizer's caches */
	struct python_tracker_stats python; /* Python processes, code objects */
};

int collector_new(const struct collector_opts *opts, struct collector **out);
void collector_free(struct collector *c);

/* The handlers to pass to sampler_poll(). */
const struct sampler_handlers *collector_handlers(struct collector *c);

/* The sampler the collector's handlers serve, once it is open: told of
 * the Python processes found, read for the stacks of their samples. */
void collector_use_sampler(struct collector *c, struct sampler *s);

/* The service of a sample (at most BATCH_SERVICE_MAX - 1 bytes are kept). */
typedef const char *(*collector_service_fn)(const struct sample_key *key, void *ctx);

/* Reads what was collected in sampler buffer `buffer` once, into the
 * collector's batch (interval_batch.h), every location resolved and each
 * sample put in the bucket of service(key, ctx) (NULL: one service, "").
 * *out is valid until collector_clear(). Returns 0 or a negative errno
 * (logged; *out then holds what was read before the error). */
int collector_drain(struct collector *c, struct sampler *s, unsigned buffer,
		    collector_service_fn service, void *ctx, struct interval_batch **out);

/* Forgets what was collected in buffer (after its profiles are written),
 * the batch, and the processes that have exited since. */
void collector_clear(struct collector *c, struct sampler *s, unsigned buffer);

void collector_get_stats(const struct collector *c, struct collector_stats *out);

#endif
