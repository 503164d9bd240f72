/* agent_metrics.c - see agent_metrics.h. */
#include "agent_metrics.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "read_file.h"

static void counter(struct metrics_text *t, const char *name, const char *help, double v)
{
	metrics_text_family(t, name, "counter", help);
	metrics_text_sample(t, name, NULL, NULL, v);
}

static void gauge(struct metrics_text *t, const char *name, const char *help, double v)
{
	metrics_text_family(t, name, "gauge", help);
	metrics_text_sample(t, name, NULL, NULL, v);
}

/* Resident set size in bytes from /proc/self/statm ("size resident ..."
 * in pages); 0 when it cannot be read. */
static double resident_bytes(void)
{
	char *buf, *p;
	size_t n;
	double rss;

	if (sym_read_file_at(AT_FDCWD, "/proc/self/statm", 4096, &buf, &n))
		return 0;
	strtoull(buf, &p, 10); /* total size */
	rss = (double)strtoull(p, NULL, 10) * (double)sysconf(_SC_PAGESIZE);
	free(buf);
	return rss;
}

/* The totals from the stats already read. */
static void sample_totals(const struct agent_metrics_source *src, const uint64_t st[STAT_MAX],
			  const struct collector_stats *cs, struct agent_sample_totals *out)
{
	out->taken = st[STAT_SAMPLES] + st[STAT_SNAPSHOTS] + st[STAT_PY_EVENTS];
	out->counts_map_full = st[STAT_COUNTS_FULL];
	/* with --unwind auto, a sample whose snapshot finds the ring full is
	 * counted with its frame-pointer stack instead: not lost */
	out->snapshot_ring_full = src->unwind == UNWIND_DWARF ? st[STAT_SNAPSHOT_LOST] : 0;
	out->stack_table_full = cs->stacks_dropped;
}

void agent_sample_totals(const struct agent_metrics_source *src, struct agent_sample_totals *out)
{
	uint64_t st[STAT_MAX] = { 0 };
	struct collector_stats cs;

	sampler_read_stats(src->sampler, st);
	collector_get_stats(src->collector, &cs);
	sample_totals(src, st, &cs, out);
}

static void render_python(const uint64_t st[STAT_MAX], const struct collector_stats *cs,
			  struct metrics_text *t)
{
	const char *lost = "bpfprof_python_frames_lost_total";

	counter(t, "bpfprof_python_samples_total", "Samples with Python frames.",
		(double)st[STAT_PY_SAMPLES]);
	metrics_text_family(t, lost, "counter",
			    "Samples of Python processes whose Python frames were cut short "
			    "or lost, by reason.");
	metrics_text_sample(t, lost, "reason", "frames_cap", (double)st[STAT_PY_TRUNCATED]);
	metrics_text_sample(t, lost, "reason", "read_failed", (double)st[STAT_PY_READ_FAILED]);
	metrics_text_sample(t, lost, "reason", "no_thread_state", (double)st[STAT_PY_NO_THREAD]);
	metrics_text_sample(t, lost, "reason", "ring_full", (double)st[STAT_PY_LOST]);
	gauge(t, "bpfprof_python_processes", "Python processes whose frames are read.",
	      (double)cs->python.processes);
	gauge(t, "bpfprof_python_unsupported_processes",
	      "Processes running an interpreter that is not supported (native frames only).",
	      (double)cs->python.unsupported);
	gauge(t, "bpfprof_python_code_objects", "Code objects read and kept.",
	      (double)cs->python.code_objects);
	gauge(t, "bpfprof_python_code_bytes",
	      "Memory they hold, charged to the symbolizer's cap.", (double)cs->python.code_bytes);
	counter(t, "bpfprof_python_code_failed_total",
		"Code objects that could not be read (the process gone, a bad object).",
		(double)cs->python.code_failed);
	counter(t, "bpfprof_python_code_over_cap_total",
		"Code objects not kept: the symbolizer's cap was reached.",
		(double)cs->python.code_over_cap);
	counter(t, "bpfprof_python_code_replaced_total",
		"Code objects found replaced by another at their address, and read again.",
		(double)cs->python.code_replaced);
}

static void render_sampling(const struct agent_metrics_source *src, struct metrics_text *t)
{
	uint64_t st[STAT_MAX] = { 0 };
	struct agent_sample_totals tot;
	struct collector_stats cs;
	const char *lost = "bpfprof_samples_lost_total";
	const char *stacks = "bpfprof_stacks_lost_total";

	sampler_read_stats(src->sampler, st);
	collector_get_stats(src->collector, &cs);
	sample_totals(src, st, &cs, &tot);
	counter(t, "bpfprof_samples_total",
		"Samples taken: counted in the kernel, or sent with a stack snapshot.",
		(double)tot.taken);
	metrics_text_family(t, lost, "counter", "Samples lost, by reason.");
	metrics_text_sample(t, lost, "reason", "counts_map_full", (double)tot.counts_map_full);
	metrics_text_sample(t, lost, "reason", "snapshot_ring_full", (double)tot.snapshot_ring_full);
	metrics_text_sample(t, lost, "reason", "stack_table_full", (double)tot.stack_table_full);
	metrics_text_family(t, stacks, "counter",
			    "Samples kept without their kernel or user stack (stack map "
			    "collision or full).");
	metrics_text_sample(t, stacks, "kind", "kernel", (double)st[STAT_KERNEL_STACK_LOST]);
	metrics_text_sample(t, stacks, "kind", "user", (double)st[STAT_USER_STACK_LOST]);
	counter(t, "bpfprof_new_process_events_lost_total",
		"New-process notifications lost (ring full); those processes are "
		"read when first symbolized.", (double)st[STAT_NEW_PID_LOST]);
	counter(t, "bpfprof_stack_snapshots_total", "User stacks unwound from snapshots (DWARF mode).",
		(double)cs.snapshots);
	render_python(st, &cs, t);

	gauge(t, "bpfprof_symbolizer_cache_bytes", "Memory held by parsed objects.",
	      (double)cs.symbols.cache_bytes);
	gauge(t, "bpfprof_symbolizer_cache_limit_bytes", "Cap on that memory (--symbolizer-cache-mb).",
	      (double)cs.symbols.cache_cap_bytes);
	gauge(t, "bpfprof_symbolizer_cache_objects", "Objects in the cache.",
	      (double)cs.symbols.objects);
	counter(t, "bpfprof_symbolizer_cache_hits_total", "Mappings whose object was cached.",
		(double)cs.symbols.object_hits);
	counter(t, "bpfprof_symbolizer_cache_misses_total", "Mappings whose object was parsed.",
		(double)cs.symbols.object_misses);
	gauge(t, "bpfprof_symbolizer_cache_hit_ratio", "Hits over hits and misses, since the start.",
	      cs.symbols.object_hits + cs.symbols.object_misses
		      ? (double)cs.symbols.object_hits /
				(double)(cs.symbols.object_hits + cs.symbols.object_misses)
		      : 0);
	counter(t, "bpfprof_symbolizer_cache_evictions_total", "Objects freed to stay under the cap.",
		(double)cs.symbols.evictions);
	counter(t, "bpfprof_symbolizer_objects_over_budget_total",
		"Mappings left without symbols: the cache was full of objects in use.",
		(double)cs.symbols.objects_over_budget);
	counter(t, "bpfprof_symbolizer_files_refused_total",
		"Object files not read: over a size cap (symbols, DWARF, CFI, sections).",
		(double)cs.symbols.files_refused);
	counter(t, "bpfprof_unwind_libunwind_completed_total",
		"Stacks our unwinder stopped on (a CFI rule it does not follow) that "
		"libunwind completed.", (double)cs.symbols.unwind_libunwind_completed);
	gauge(t, "bpfprof_unwind_libunwind_bytes",
	      "Memory held for the libunwind fallback: objects' .eh_frame copies.",
	      (double)cs.symbols.unwind_libunwind_bytes);
	counter(t, "bpfprof_symbolizer_frames_remapped_total",
		"Frames named with the file the sample saw, mapped where another "
		"file is now (dlclose, then dlopen).", (double)cs.symbols.frames_remapped);
	counter(t, "bpfprof_symbolizer_frames_stale_total",
		"Frames left as an address: the file the sample saw there was "
		"never read or is gone.", (double)cs.symbols.frames_stale);
	counter(t, "bpfprof_symbolizer_perf_maps_refused_total",
		"JIT perf maps not read: another owner, a symlink, not a regular file, "
		"too big, or the cache full.", (double)cs.symbols.perf_maps_refused);
	gauge(t, "bpfprof_processes_tracked", "Processes whose mappings are known.",
	      (double)cs.symbols.processes);
}

static void render_uploads(struct uploader *u, struct metrics_text *t)
{
	const char *uploads = "bpfprof_uploads_total";
	struct uploader_stats st;

	uploader_get_stats(u, &st);
	metrics_text_family(t, uploads, "counter",
			    "Profiles done with: ok (accepted), rejected (refused for good, "
			    "set aside), expired (older than the ingestion window).");
	metrics_text_sample(t, uploads, "result", "ok", (double)st.sent);
	metrics_text_sample(t, uploads, "result", "rejected", (double)st.set_aside);
	metrics_text_sample(t, uploads, "result", "expired", (double)st.expired);
	counter(t, "bpfprof_upload_retries_total", "Failed attempts to be retried after a backoff.",
		(double)st.retried);
	gauge(t, "bpfprof_spool_profiles", "Profiles waiting in the spool.",
	      (double)st.spool_entries);
	gauge(t, "bpfprof_spool_bytes", "Bytes of profiles waiting in the spool.",
	      (double)st.spool_bytes);
	counter(t, "bpfprof_spool_dropped_total", "Oldest profiles dropped over --spool-max-mb.",
		(double)st.spool_dropped);
}

static void render_server(struct metrics_server *s, struct metrics_text *t)
{
	struct metrics_server_stats st;

	metrics_server_get_stats(s, &st);
	counter(t, "bpfprof_metrics_connections_accepted_total",
		"Connections to --metrics-addr taken in.", (double)st.accepted);
	counter(t, "bpfprof_metrics_connections_refused_total",
		"Connections to --metrics-addr closed at once: too many were open.",
		(double)st.refused);
	counter(t, "bpfprof_metrics_connections_timed_out_total",
		"Connections to --metrics-addr cut at a deadline (request within 2 s, all within 5 s).",
		(double)st.timed_out);
	gauge(t, "bpfprof_metrics_connections_open", "Connections to --metrics-addr open now.",
	      (double)st.open);
}

void agent_metrics_render(const struct agent_metrics_source *src, struct metrics_text *t)
{
	struct rusage ru;

	render_sampling(src, t);
	counter(t, "bpfprof_intervals_total", "Intervals finished.", (double)src->intervals);
	counter(t, "bpfprof_profiles_written_total",
		"Profiles written (files) or queued for upload.", (double)src->profiles_written);
	counter(t, "bpfprof_profiles_failed_total", "Profiles that could not be written or queued.",
		(double)src->profiles_failed);
	if (src->uploader)
		render_uploads(src->uploader, t);
	if (src->metrics)
		render_server(src->metrics, t);
	getrusage(RUSAGE_SELF, &ru);
	counter(t, "process_cpu_seconds_total", "CPU time of the agent, user and system.",
		(double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
			(double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	gauge(t, "process_resident_memory_bytes", "Resident set size.", resident_bytes());
	gauge(t, "bpfprof_resident_memory_peak_bytes", "Peak resident set size since the start.",
	      (double)ru.ru_maxrss * 1024);
}
