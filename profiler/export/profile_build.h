/* profile_build.h - one profile of an interval batch, gzipped pprof.
 *
 * Each sample of the batch (interval_batch.h) in the chosen service's
 * bucket becomes one pprof Sample: its locations, leaf first, already
 * resolved and deduplicated by the batch, are added to the profile the
 * first time a sample of this build shows them (the batch keeps their
 * pprof ids for the build), so a build costs what its bucket holds. The
 * builder reads nothing but the batch: no sampler, no symbolizer.
 */
#ifndef BPFPROF_PROFILE_BUILD_H
#define BPFPROF_PROFILE_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "interval_batch.h"
#include "pprof.h"

/* Per-sample labels. */
#define PROFILE_LABEL_PID (1u << 0)         /* numeric */
#define PROFILE_LABEL_TID (1u << 1)         /* numeric */
#define PROFILE_LABEL_COMM (1u << 2)        /* the process name */
#define PROFILE_LABEL_THREAD_NAME (1u << 3)
#define PROFILE_LABELS_ALL 0xfu

#define PROFILE_ALL_SERVICES (-1)

struct profile_build_opts {
	size_t sz;              /* sizeof(struct profile_build_opts) */
	int64_t period_ns;
	int64_t time_nanos;
	int64_t duration_nanos;
	int64_t service;        /* the bucket (interval_batch_find_service), or
	                           PROFILE_ALL_SERVICES: every sample */
	unsigned sample_labels; /* PROFILE_LABEL_* to put on every sample */
	/* With parts > 1, only part number `part` of the samples: the i-th
	 * one of the bucket belongs to part i % parts. A profile too big for
	 * its receiver is sent as parts profiles of the same interval. */
	unsigned part, parts;
	/* The first mapping of the profile, which `go tool pprof` shows as
	 * the main binary (NULL: the first one a sample shows). */
	const struct sym_mapping *main_mapping;
	/* The gzip stream to reuse (NULL: one made for this build): a caller
	 * that builds many profiles keeps one (pprof_gzip_new). */
	struct pprof_gzip *gzip;
};

struct profile_totals {
	uint64_t samples;   /* samples written */
	uint64_t processes; /* distinct processes among them */
	uint64_t sample_messages; /* pprof Samples: distinct stacks and label sets */
	size_t raw_bytes;   /* the profile's size before gzip */
};

/* Builds the profile. *gz (malloc'ed, caller frees) holds the gzipped
 * bytes. The batch must be sealed; builds of one batch are not concurrent.
 * Returns 0 or a negative errno. */
int profile_build(struct interval_batch *b, const struct profile_build_opts *opts,
		  uint8_t **gz, size_t *gz_len, struct profile_totals *totals);

#endif
