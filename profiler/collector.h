/* collector.h - what a recording gathers while the sampler runs.
 *
 * The collector owns the symbolizer and the table of user-space unwound
 * stacks. Handed to sampler_poll() as handlers, it snapshots each new
 * process's mappings at once (while the process is alive) and, in DWARF
 * mode, unwinds each stack snapshot as it arrives and counts the stack.
 * At the end it turns everything into a pprof profile.
 */
#ifndef BPFPROF_COLLECTOR_H
#define BPFPROF_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profile_build.h"
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
};

struct collector_stats {
	uint64_t snapshots;         /* stack snapshots unwound */
	uint64_t truncated;         /* ... whose stack went on past the snapshot */
	uint64_t unwind_stopped;    /* ... stopped early: no CFI, bad rule, no mapping */
	uint64_t stacks_dropped;    /* samples lost: the stack table was full */
	uint64_t snapshot_bytes;    /* stack bytes copied, over all snapshots */
	uint64_t frames;            /* frames unwound, over all snapshots */
	uint64_t unwind_ns;         /* time spent in symbolizer_unwind() */
	struct symbolizer_stats symbols; /* the symbolizer's caches */
};

int collector_new(const struct collector_opts *opts, struct collector **out);
void collector_free(struct collector *c);

/* The handlers to pass to sampler_poll(). */
const struct sampler_handlers *collector_handlers(struct collector *c);

/* Builds the profile of what was collected in sampler buffer opts->buffer;
 * see profile_build(). */
int collector_build(struct collector *c, struct sampler *s,
		    const struct profile_build_opts *opts, uint8_t **gz,
		    size_t *gz_len, struct profile_totals *totals);

/* Calls cb with the key of every sample collected in buffer. */
int collector_for_each_key(struct collector *c, struct sampler *s, unsigned buffer,
			   void (*cb)(const struct sample_key *key, void *ctx), void *ctx);

/* Forgets what was collected in buffer (after its profiles are written)
 * and the processes that have exited since. */
void collector_clear(struct collector *c, struct sampler *s, unsigned buffer);

void collector_get_stats(const struct collector *c, struct collector_stats *out);

#endif
