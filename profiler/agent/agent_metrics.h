/* agent_metrics.h - the agent's self-metrics as Prometheus text.
 *
 * Rendered by the agent's main loop about once a second from the counters
 * its parts already keep (the BPF stats map, the collector and symbolizer,
 * the uploader and spool, the metrics server's connections) plus the
 * process's own CPU time and memory, and
 * handed to the metrics server (metrics_server.h). Names follow Prometheus'
 * conventions: bpfprof_* for the profiler, *_total for counters, the
 * standard process_cpu_seconds_total and process_resident_memory_bytes.
 */
#ifndef BPFPROF_AGENT_METRICS_H
#define BPFPROF_AGENT_METRICS_H

#include <stdint.h>

#include "collector.h"
#include "metrics_server.h"
#include "metrics_text.h"
#include "sampler.h"
#include "uploader.h"

struct agent_metrics_source {
	struct sampler *sampler;
	enum bpfprof_unwind unwind;      /* --unwind */
	const struct collector *collector;
	struct uploader *uploader;       /* NULL: no uploads */
	struct metrics_server *metrics;  /* NULL: no --metrics-addr */
	uint64_t profiles_written;       /* files, or profiles queued for upload */
	uint64_t profiles_failed;        /* profiles that could not be written */
	uint64_t intervals;              /* intervals finished */
};

/* Samples taken, and lost by reason, since the start. */
struct agent_sample_totals {
	uint64_t taken;
	uint64_t counts_map_full, snapshot_ring_full, stack_table_full;
};

void agent_sample_totals(const struct agent_metrics_source *src, struct agent_sample_totals *out);

/* Appends every metric to t (check t->err once after). */
void agent_metrics_render(const struct agent_metrics_source *src, struct metrics_text *t);

#endif
