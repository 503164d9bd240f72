/* uploader.c - see uploader.h. */
#include "uploader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backoff.h"
#include "log.h"
#include "spool.h"

#define BACKOFF_BASE_MS 1000
#define BACKOFF_CAP_MS 60000

struct uploader {
	struct ingest_client *client;
	struct spool *spool;
	const struct ingest_label *labels;
	size_t nlabels;
	struct backoff backoff;
	uint64_t not_before_ms; /* no sending before (monotonic) */
	struct uploader_stats stats;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int uploader_new(const struct uploader_opts *opts, struct uploader **out)
{
	struct uploader *u;
	int err;

	if (!opts || opts->sz < sizeof(*opts) || !out)
		return -EINVAL;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->labels = opts->labels;
	u->nlabels = opts->nlabels;
	backoff_init(&u->backoff, BACKOFF_BASE_MS, BACKOFF_CAP_MS, 0);
	err = ingest_client_new(&opts->ingest, &u->client);
	if (!err) {
		err = spool_open(opts->spool_dir, opts->spool_max_bytes, &u->spool);
		if (err)
			log_error("open spool %s: %s", opts->spool_dir, strerror(-err));
	}
	if (err) {
		uploader_free(u);
		return err;
	}
	*out = u;
	return 0;
}

void uploader_free(struct uploader *u)
{
	if (!u)
		return;
	spool_close(u->spool);
	ingest_client_free(u->client);
	free(u);
}

int uploader_queue(struct uploader *u, const char *service, int64_t from_s,
		   int64_t until_s, uint32_t sample_rate, const void *gz, size_t len)
{
	struct ingest_meta meta = {
		.service = service,
		.labels = u->labels,
		.nlabels = u->nlabels,
		.from = from_s,
		.until = until_s,
		.sample_rate = sample_rate,
	};
	int err = spool_push(u->spool, &meta, gz, len);

	if (err)
		log_error("spool profile of %s: %s", service, strerror(-err));
	return err;
}

/* Sends the oldest pending profile. Returns 1 when one was taken care of
 * (sent or set aside), 0 when the spool is empty or sending must wait. */
static int send_oldest(struct uploader *u)
{
	struct ingest_result res;
	struct spool_entry e;
	int err = spool_peek_oldest(u->spool, &e);

	if (err)
		return 0;
	if (ingest_outside_window(e.meta.from, (int64_t)time(NULL))) {
		log_warn("profile of %s from %lld is outside Pyroscope's ingestion window: set aside",
			 e.meta.service, (long long)e.meta.from);
		spool_set_aside(u->spool, e.seq, "outside the ingestion window");
		u->stats.expired++;
		spool_entry_free(&e);
		return 1;
	}
	err = ingest_upload(u->client, &e.meta, e.body, e.body_len, &res);
	if (err || res.status == INGEST_RETRY) {
		uint64_t delay = backoff_next(&u->backoff);

		if (res.retry_after_s > 0 && (uint64_t)res.retry_after_s * 1000 > delay)
			delay = (uint64_t)res.retry_after_s * 1000;
		if (u->backoff.attempt == 1) /* once per outage, not per retry */
			log_warn("upload of %s failed (%s): retrying with backoff", e.meta.service,
				 err ? strerror(-err) : res.message);
		u->not_before_ms = now_ms() + delay;
		u->stats.retried++;
		spool_entry_free(&e);
		return 0;
	}
	if (res.status == INGEST_REJECTED) {
		log_error("Pyroscope rejected the profile of %s (HTTP %ld: %s): set aside",
			  e.meta.service, res.http_status, res.message);
		spool_set_aside(u->spool, e.seq, res.message);
		u->stats.set_aside++;
	} else {
		spool_remove(u->spool, e.seq);
		u->stats.sent++;
		if (u->backoff.attempt)
			log_info("uploads resumed");
		backoff_reset(&u->backoff);
	}
	spool_entry_free(&e);
	return 1;
}

void uploader_pump(struct uploader *u, int budget_ms)
{
	uint64_t end = now_ms() + (uint64_t)(budget_ms > 0 ? budget_ms : 0);

	while (now_ms() >= u->not_before_ms && send_oldest(u) && now_ms() < end)
		;
}

void uploader_get_stats(const struct uploader *u, struct uploader_stats *out)
{
	struct spool_stats st;

	spool_get_stats(u->spool, &st);
	*out = u->stats;
	out->spool_entries = st.entries;
	out->spool_bytes = st.bytes;
	out->spool_dropped = st.dropped;
}
