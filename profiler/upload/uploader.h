/* uploader.h - ship profiles to Pyroscope without losing them.
 *
 * Every profile is first pushed to the on-disk spool (spool.h), so a
 * server outage, or the agent being killed, loses nothing within the
 * spool's cap; the uploader's own thread sends the oldest pending profiles
 * in order (ingest.h), so a slow or silent server never holds up sampling.
 * A mutex guards the spool and the counters; it is not held while a
 * request is in flight. A profile the server may accept later (no answer, 5xx,
 * 408, 429) stays first in line and sending pauses for an exponential
 * backoff with jitter (1 s doubling up to 60 s), or for the server's
 * Retry-After when that is longer - but never more than those 60 s: a
 * server (or anything on its port) cannot stop uploads for longer than our
 * own backoff would. One it refuses for good (another 4xx), or one older
 * than Pyroscope's ingestion window, is set aside and counted, so it does
 * not block the rest.
 */
#ifndef BPFPROF_UPLOADER_H
#define BPFPROF_UPLOADER_H

#include <stddef.h>
#include <stdint.h>

#include "ingest.h"

struct uploader;

struct uploader_opts {
	size_t sz;                      /* sizeof(struct uploader_opts) */
	struct ingest_opts ingest;
	const char *spool_dir;
	uint64_t spool_max_bytes;
	const struct ingest_label *labels; /* series labels of every profile */
	size_t nlabels;
};

struct uploader_stats {
	uint64_t sent, retried, set_aside, expired;
	uint64_t spool_entries, spool_bytes, spool_dropped;
};

/* Opens the spool and starts the thread. */
int uploader_new(const struct uploader_opts *opts, struct uploader **out);
void uploader_free(struct uploader *u);

/* Queues one gzipped pprof of service covering [from_s, until_s]. */
int uploader_queue(struct uploader *u, const char *service, int64_t from_s,
		   int64_t until_s, uint32_t sample_rate, const void *gz, size_t len);

/* At exit: sends what is pending for at most budget_ms (more only to finish
 * a request in flight), then stops the thread. What is left stays spooled
 * for the next start. */
void uploader_drain(struct uploader *u, int budget_ms);

void uploader_get_stats(struct uploader *u, struct uploader_stats *out);

#endif
