/* profile_build.h - turn the sampler's aggregates into a gzipped pprof.
 *
 * Each aggregated sample becomes one pprof Sample: kernel frames on top of
 * user frames, leaf first, each address resolved by the symbolizer into a
 * Mapping and a Location with its function(s). The samples come from the
 * sampler's in-kernel counts (frame-pointer stacks) and from the table of
 * stacks unwound in user space (DWARF mode); a stack cut short by the end
 * of its snapshot gets a "[truncated]" root frame. Return addresses (every frame
 * but the leaf of each stack) are moved back by one byte so they point into
 * the call instruction and name the call site.
 */
#ifndef BPFPROF_PROFILE_BUILD_H
#define BPFPROF_PROFILE_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sampler.h"
#include "stack_table.h"
#include "symbolizer.h"

/* Per-sample labels. */
#define PROFILE_LABEL_PID (1u << 0)         /* numeric */
#define PROFILE_LABEL_TID (1u << 1)         /* numeric */
#define PROFILE_LABEL_COMM (1u << 2)        /* the process name */
#define PROFILE_LABEL_THREAD_NAME (1u << 3)
#define PROFILE_LABELS_ALL 0xfu

struct profile_build_opts {
	size_t sz;              /* sizeof(struct profile_build_opts) */
	int64_t period_ns;
	int64_t time_nanos;
	int64_t duration_nanos;
	unsigned buffer;        /* the sampler buffer to read */
	unsigned sample_labels; /* PROFILE_LABEL_* to put on every sample */
	/* Only samples for which keep() is true (NULL: all). */
	bool (*keep)(const struct sample_key *key, void *ctx);
	void *keep_ctx;
	/* With parts > 1, only part number `part` of the kept samples: the
	 * i-th one read (the order is the same on every build of a buffer)
	 * belongs to part i % parts. A profile too big for its receiver is
	 * sent as parts profiles of the same interval. */
	unsigned part, parts;
};

struct profile_totals {
	uint64_t samples;   /* samples written */
	uint64_t processes; /* distinct processes among them */
	uint64_t sample_messages; /* pprof Samples: distinct stacks and label sets */
	size_t raw_bytes;   /* the profile's size before gzip */
};

/* Builds the profile; unwound may be NULL. *gz (malloc'ed, caller frees)
 * holds the gzipped bytes. Returns 0 or a negative errno. */
int profile_build(struct sampler *sampler, const struct stack_table *unwound,
		  struct symbolizer *sym,
		  const struct profile_build_opts *opts, uint8_t **gz,
		  size_t *gz_len, struct profile_totals *totals);

#endif
