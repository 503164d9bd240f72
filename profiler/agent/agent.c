/* agent.c - the agent's loop: profile the whole machine continuously and
 * write one profile per service per interval.
 *
 * Every interval the sampler's buffers are flipped: samples taken while the
 * finished interval is drained go to the other buffer, so none is lost at
 * the boundary and each profile covers exactly its interval (time_nanos,
 * duration_nanos). The drained buffer is split by service and written as
 * <service>-<UTC start>.pb.gz (-1, -2 ... when taken) into the output
 * directory, atomically, never over another profile, then retention trims
 * the directory (output_dir.h: also what a full file system costs).
 * SIGINT/SIGTERM end the current interval early, write it, and exit 0.
 *
 * With --pyroscope-url the same profiles go to Pyroscope's /ingest too,
 * through the spool (uploader.h), so an outage or a restart loses nothing
 * within --spool-max-mb. Either output or both may be on.
 *
 * A sample's service: --service-name when given, "kernel" for kernel
 * threads, else the process's container or systemd unit (service.h), else
 * its name. The cgroup is read when the process is first announced (and
 * after an exec: process_services.h), so a process that exits mid-interval
 * keeps its unit or container. The interval's buffer is drained once into
 * a batch bucketed by service (interval_batch.h): writing N services costs
 * what their samples hold, not N passes. Profiles carry the series labels
 * host (this machine's name) and every --tag.
 */
#include "agent.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent_metrics.h"
#include "clock.h"
#include "collector.h"
#include "log.h"
#include "metrics_server.h"
#include "output_dir.h"
#include "preflight.h"
#include "process_services.h"
#include "profile_build.h"
#include "sampler.h"
#include "service.h"
#include "signals.h"
#include "uploader.h"

#define MAX_PROCESSES 65536 /* whose services are kept */
#define FINAL_UPLOAD_MS 3000 /* at exit, for what is pending */
#define MMAP_THRESHOLD (256 << 10)
#define MAX_UPLOAD_PARTS 64
#define UPLOAD_HEADROOM_BYTES (16 << 10) /* the burst counts labels too */
#define METRICS_EVERY_NS 1000000000LL /* metrics rendered once a second */

struct agent {
	const struct agent_args *args;
	struct sampler *sampler;
	struct collector *collector;
	struct uploader *uploader; /* NULL: no uploads */
	struct output_dir *output; /* NULL: no --output-dir */
	struct process_services *services;  /* taken at first sight; NULL with
	                                       --service-name */
	struct metrics_server *metrics;     /* NULL: no --metrics-addr */
	struct pprof_gzip *gzip;            /* one stream for every profile */
	int64_t metrics_published_ns;
	uint64_t profiles_written, profiles_failed, intervals;
};
/* collector_opts.on_new_process: the service is taken at first sight, so
 * a process that exits before its interval is written keeps it. */
static void take_service(pid_t pid, void *ctx)
{
	process_services_take(ctx, pid);
}

static const char *service_of(struct agent *ag, const struct sample_key *k)
{
	const char *s;

	if (ag->args->service_name)
		return ag->args->service_name;
	if (k->user_stack_id == -ENOENT)
		return AGENT_KERNEL_SERVICE;
	s = process_services_get(ag->services, (pid_t)k->tgid, k->start_time);
	return s && s[0] ? s : k->comm;
}

/* collector_service_fn */
static const char *sample_service(const struct sample_key *k, void *ctx)
{
	return service_of(ctx, k);
}

/* The file name part of a service: letters, digits, '.', '_' and '-'. */
static void file_safe(const char *service, char *out, size_t size)
{
	size_t i = 0;

	for (; service[i] && i + 1 < size; i++) {
		char c = service[i];

		out[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				 (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'
			 ? c
			 : '_';
	}
	out[i] = '\0';
	if (!i || out[0] == '.')
		snprintf(out, size, "unknown");
}

static bool within_limits(const struct agent_args *a, const struct profile_totals *t)
{
	return t->sample_messages <= (uint64_t)a->upload_max_samples &&
	       t->raw_bytes + UPLOAD_HEADROOM_BYTES <= (uint64_t)a->upload_max_kb << 10;
}

/* Queues the upload of one service's interval. Pyroscope refuses a profile
 * over its sample-count or size limits (one above the ingestion burst is
 * throttled forever), so a profile over them is sent as several profiles of
 * the same interval and series, each with a share of the samples (Pyroscope
 * adds them up); the number of parts doubles until every part fits. */
static int queue_upload(struct agent *ag, struct interval_batch *batch,
			struct profile_build_opts *opts, const char *name, int64_t from_s,
			int64_t until_s)
{
	struct { uint8_t *gz; size_t len; } parts[MAX_UPLOAD_PARTS] = { 0 };
	struct profile_totals totals;
	unsigned n = 1, built = 0;
	bool fits;
	int err = 0;

	for (;;) {
		opts->parts = n;
		fits = true;
		/* the last try builds every part, fitting or not */
		for (built = 0; built < n && !err && (fits || n == MAX_UPLOAD_PARTS); built++) {
			opts->part = built;
			err = profile_build(batch, opts, &parts[built].gz, &parts[built].len,
					    &totals);
			fits = fits && !err && within_limits(ag->args, &totals);
		}
		if (err || fits || n == MAX_UPLOAD_PARTS)
			break;
		for (unsigned i = 0; i < built; i++)
			free(parts[i].gz);
		memset(parts, 0, sizeof(parts));
		n *= 2;
	}
	if (!err && n > 1)
		log_info("profile of %s over the upload limits: sent in %u parts%s", name, n,
			 fits ? "" : " (some still over them)");
	for (unsigned i = 0; i < built && !err; i++)
		err = uploader_queue(ag->uploader, name, from_s, until_s,
				     (uint32_t)ag->args->sampling.freq_hz, parts[i].gz, parts[i].len);
	for (unsigned i = 0; i < built; i++)
		free(parts[i].gz);
	return err;
}

/* Writes and uploads the profile of service number `service` of batch. */
static int write_service(struct agent *ag, struct interval_batch *batch, uint32_t service,
			 int64_t start_ns, int64_t end_ns)
{
	struct profile_build_opts opts = {
		.sz = sizeof(opts),
		.period_ns = 1000000000LL / ag->args->sampling.freq_hz,
		.time_nanos = start_ns,
		.duration_nanos = end_ns - start_ns,
		.service = service,
		.sample_labels = PROFILE_LABELS_ALL,
		.gzip = ag->gzip,
	};
	char name[SERVICE_NAME_MAX];
	struct profile_totals totals;
	time_t start_s = (time_t)(start_ns / 1000000000);
	uint8_t *gz = NULL;
	size_t len = 0;
	int err = 0;

	file_safe(batch->services[service], name, sizeof(name));
	if (ag->output) {
		err = profile_build(batch, &opts, &gz, &len, &totals);
		if (err)
			log_error("profile of %s for this interval lost: %s", name, strerror(-err));
		else if (!(err = output_dir_write(ag->output, name, start_s, gz, len))) /* logs */
			log_debug("wrote the profile of %s: %llu samples", name,
				  (unsigned long long)totals.samples);
		free(gz);
	}
	if (ag->uploader) { /* even when the file failed: the outputs are independent */
		/* Pyroscope makes every distinct set of string sample labels a
		 * series of its own and drops numeric ones: uploads carry only
		 * those asked for. */
		opts.sample_labels = ag->args->upload_labels;
		int up_err = queue_upload(ag, batch, &opts, name, start_s,
					  (end_ns + 999999999) / 1000000000);

		if (up_err)
			log_error("profile of %s for this interval lost: %s", name, strerror(-up_err));
		err = err ? err : up_err;
	}
	return err;
}

/* Writes the profiles of the interval that buffer holds, then empties it. */
static void write_interval(struct agent *ag, unsigned buffer, int64_t start_ns,
			   int64_t end_ns)
{
	struct interval_batch *batch;
	size_t written = 0, nservices;
	int deleted;

	/* what was read before an error is still written */
	collector_drain(ag->collector, ag->sampler, buffer, sample_service, ag, &batch);
	nservices = batch->order ? batch->nservices : 0;
	for (size_t i = 0; i < nservices; i++) /* failures logged there */
		written += !write_service(ag, batch, (uint32_t)i, start_ns, end_ns);
	ag->profiles_written += written;
	ag->profiles_failed += nservices - written;
	ag->intervals++;
	collector_clear(ag->collector, ag->sampler, buffer);
	if (ag->services)
		process_services_forget_exited(ag->services);
	malloc_trim(0); /* what the interval's profiles and exited processes held */
	deleted = ag->output ? output_dir_trim(ag->output) : 0;
	log_info("interval of %.1f s: %zu of %zu profiles written%s", (end_ns - start_ns) / 1e9,
		 written, nservices, deleted > 0 ? ", old ones removed" : "");
}

static struct agent_metrics_source metrics_source(const struct agent *ag)
{
	return (struct agent_metrics_source){
		.sampler = ag->sampler,
		.unwind = ag->args->sampling.unwind,
		.collector = ag->collector,
		.uploader = ag->uploader,
		.metrics = ag->metrics,
		.profiles_written = ag->profiles_written,
		.profiles_failed = ag->profiles_failed,
		.intervals = ag->intervals,
	};
}

/* Hands the metrics server fresh figures, at most once a second. */
static void publish_metrics(struct agent *ag, int64_t now)
{
	struct agent_metrics_source src = metrics_source(ag);
	struct metrics_text t;

	if (!ag->metrics || now - ag->metrics_published_ns < METRICS_EVERY_NS)
		return;
	ag->metrics_published_ns = now;
	metrics_text_init(&t);
	agent_metrics_render(&src, &t);
	if (!t.err)
		metrics_server_publish(ag->metrics, t.buf, t.len);
	metrics_text_free(&t);
}

static void run(struct agent *ag)
{
	const struct sampler_handlers *h = collector_handlers(ag->collector);
	int64_t interval_ns = (int64_t)(ag->args->interval_s * 1e9);
	int64_t start = realtime_ns(), next = start + interval_ns;

	publish_metrics(ag, start); /* scrapes get figures from the start */

	for (;;) {
		int64_t now = realtime_ns();
		int wait_ms = (int)((next - now) / 1000000);
		bool stop;
		unsigned buffer;

		sampler_poll(ag->sampler, wait_ms < 0 ? 0 : wait_ms > SAMPLER_POLL_MS ? SAMPLER_POLL_MS
								: wait_ms, h);
		stop = signals_received() > 0;
		now = realtime_ns();
		publish_metrics(ag, now);
		if (now < next && !stop)
			continue;
		buffer = sampler_flip(ag->sampler);
		sampler_poll(ag->sampler, 0, h); /* snapshots still queued for it */
		write_interval(ag, buffer, start, now);
		if (stop) {
			if (ag->uploader)
				uploader_drain(ag->uploader, FINAL_UPLOAD_MS);
			return;
		}
		start = now;
		while (next <= now) /* keep the cadence; skip intervals we slept through */
			next += interval_ns;
	}
}

static void log_upload_stats(struct uploader *u)
{
	struct uploader_stats st;

	if (!u)
		return;
	uploader_get_stats(u, &st);
	log_info("uploads: %llu sent, %llu retried, %llu rejected, %llu too old; "
		 "%llu waiting in the spool, %llu dropped over its cap",
		 (unsigned long long)st.sent, (unsigned long long)st.retried,
		 (unsigned long long)st.set_aside, (unsigned long long)st.expired,
		 (unsigned long long)st.spool_entries, (unsigned long long)st.spool_dropped);
}

static void log_stop(const struct agent *ag)
{
	struct agent_metrics_source src = metrics_source(ag);
	struct agent_sample_totals t;

	agent_sample_totals(&src, &t);
	log_info("stopped: %llu profiles written; %llu samples taken, %llu lost (counts map "
		 "full %llu, ring full %llu, stack table full %llu)",
		 (unsigned long long)ag->profiles_written, (unsigned long long)t.taken,
		 (unsigned long long)(t.counts_map_full + t.snapshot_ring_full + t.stack_table_full),
		 (unsigned long long)t.counts_map_full, (unsigned long long)t.snapshot_ring_full,
		 (unsigned long long)t.stack_table_full);
	log_upload_stats(ag->uploader);
}

/* url_shown: --pyroscope-url as it may be logged (ingest_redact_url). */
static int start_uploader(const struct agent_args *a, const char *url_shown,
			  struct uploader **out)
{
	struct uploader_opts opts = {
		.sz = sizeof(opts),
		.ingest = a->ingest,
		.spool_dir = a->spool_dir,
		.spool_max_bytes = (uint64_t)a->spool_mb << 20,
		.labels = a->labels,
		.nlabels = a->nlabels,
	};
	struct ingest_meta probe = {
		.service = "bpfprof", .labels = a->labels, .nlabels = a->nlabels,
		.from = 1000000000, .until = 1000000000,
	};
	char why[256];
	int err;

	if (strcmp(url_shown, a->ingest.url))
		log_warn("pyroscope url %s: the credentials in it are sent, never logged; but a URL "
			 "on the command line is readable by every local user (ps): give them "
			 "with --basic-auth-user and --basic-auth-password-file (or $%s) instead",
			 url_shown, AGENT_PASSWORD_ENV);
	if (ingest_check_meta(&probe, why, sizeof(why))) {
		log_error("%s", why);
		return -EINVAL;
	}
	opts.ingest.connect_timeout_ms = 3000;
	opts.ingest.timeout_ms = 10000;
	err = uploader_new(&opts, out);
	if (err)
		log_error("start uploads to %s: %s", url_shown, strerror(-err));
	return err;
}

int agent_run(const struct agent_args *a)
{
	struct collector_opts col_opts = { .sz = sizeof(col_opts) };
	struct sampler_opts opts = { .sz = sizeof(opts) };
	struct agent ag = { .args = a };
	char url_shown[512] = ""; /* --pyroscope-url without its credentials */
	int err;

	/* A daemon's peak RSS: glibc raises its mmap threshold each time a big
	 * block is freed, so the next big ones (a DWARF index being built, an
	 * interval's profile) come from the heap and stay there. A fixed
	 * threshold gives them back when freed. */
	mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
	if (preflight_check())
		return 1;
	err = -1; /* until the sampler runs */
	if (a->output_dir && output_dir_open(a->output_dir, a->sampling.file_mode,
					    (size_t)a->retain_files, (uint64_t)a->retain_mb << 20,
					    &ag.output))
		goto out;
	sampling_args_apply(&a->sampling, &opts, &col_opts);
	if (!a->service_name && process_services_new(MAX_PROCESSES, &ag.services)) {
		log_error("start: %s", strerror(ENOMEM));
		goto out;
	}
	if (pprof_gzip_new(&ag.gzip)) /* says why */
		goto out;
	col_opts.load_kernel = true;
	col_opts.on_new_process = ag.services ? take_service : NULL;
	col_opts.ctx = ag.services;
	/* Before any other thread starts: the symbolizer sets DEBUGINFOD_URLS
	 * (symbolizer/debug_find.h). */
	if (collector_new(&col_opts, &ag.collector))
		goto out;
	if (a->ingest.url)
		ingest_redact_url(a->ingest.url, url_shown, sizeof(url_shown));
	if (a->ingest.url && start_uploader(a, url_shown, &ag.uploader))
		goto out;
	signals_install();
	if (a->metrics_addr && (err = metrics_server_start(a->metrics_addr, &ag.metrics))) {
		log_error("serve metrics on %s: %s", a->metrics_addr, strerror(-err));
		goto out;
	}
	if (ag.metrics)
		log_info("metrics served on %s, port %d, at /metrics", a->metrics_addr,
			 metrics_server_port(ag.metrics));
	err = sampler_open(&opts, &ag.sampler);
	if (!err) {
		collector_use_sampler(ag.collector, ag.sampler);
		log_info("profiling every %.0f s into %s%s%s", a->interval_s,
			 a->output_dir ? a->output_dir : "", a->output_dir && a->ingest.url ? " and " : "",
			 url_shown);
		run(&ag);
		log_stop(&ag);
	}
out:
	metrics_server_stop(ag.metrics);
	sampler_close(ag.sampler);
	collector_free(ag.collector);
	process_services_free(ag.services);
	uploader_free(ag.uploader);
	output_dir_close(ag.output);
	pprof_gzip_free(ag.gzip);
	return err ? 1 : 0;
}
