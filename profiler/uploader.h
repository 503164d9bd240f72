/* uploader.h - ship profiles to Pyroscope without losing them.
 *
 * Every profile is first pushed to the on-disk spool (spool.h), so a
 * server outage, or the agent being killed, loses nothing within the
 * spool's cap; uploader_pump() then sends the oldest pending profiles in
 * order (ingest.h). A profile the server may accept later (no answer, 5xx,
 * 408, 429) stays first in line and sending pauses for an exponential
 * backoff with jitter; one it refuses for good (another 4xx), or one older
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

int uploader_new(const struct uploader_opts *opts, struct uploader **out);
void uploader_free(struct uploader *u);

/* Queues one gzipped pprof of service covering [from_s, until_s]. */
int uploader_queue(struct uploader *u, const char *service, int64_t from_s,
		   int64_t until_s, uint32_t sample_rate, const void *gz, size_t len);

/* Sends pending profiles, oldest first, until the spool is empty, the
 * server asks to wait, or budget_ms is spent. */
void uploader_pump(struct uploader *u, int budget_ms);

void uploader_get_stats(const struct uploader *u, struct uploader_stats *out);

#endif
