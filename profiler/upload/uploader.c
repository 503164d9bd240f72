/* uploader.c - see uploader.h.
 *
 * The thread loops: take the oldest pending profile (under the lock), send
 * it (without the lock), record the outcome (under the lock). It sleeps on
 * a condition variable while the spool is empty or a backoff runs, and is
 * woken by uploader_queue (a new profile), uploader_drain and
 * uploader_free. */
#include "uploader.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backoff.h"
#include "clock.h"
#include "log.h"
#include "opts.h"
#include "signals.h"
#include "spool.h"

#define BACKOFF_BASE_MS 1000
#define BACKOFF_CAP_MS 60000

struct uploader {
	struct ingest_client *client;
	struct spool *spool;
	const struct ingest_label *labels;
	size_t nlabels;
	pthread_t thread;
	bool running;             /* thread started and not joined */
	pthread_mutex_t lock;     /* guards everything below */
	pthread_cond_t wake;      /* CLOCK_MONOTONIC */
	bool stop;                /* the thread must return */
	uint64_t drain_until_ms;  /* nonzero: return once empty or at this time */
	struct backoff backoff;
	uint64_t not_before_ms;   /* no sending before (monotonic) */
	struct uploader_stats stats;
};

/* Waits on u->wake until woken or until deadline_ms (0: no deadline). */
static void wait_until(struct uploader *u, uint64_t deadline_ms)
{
	struct timespec ts;

	if (!deadline_ms) {
		pthread_cond_wait(&u->wake, &u->lock);
		return;
	}
	ts.tv_sec = (time_t)(deadline_ms / 1000);
	ts.tv_nsec = (long)(deadline_ms % 1000) * 1000000;
	pthread_cond_timedwait(&u->wake, &u->lock, &ts);
}

/* Sends the oldest pending profile; called with the lock held, which it
 * drops during the request. Returns 1 when one was taken care of (sent or
 * set aside), 0 when sending must wait (backoff), -ENOENT when the spool
 * has nothing to send. */
static int send_oldest(struct uploader *u)
{
	struct ingest_result res;
	struct spool_entry e;
	int err = spool_peek_oldest(u->spool, &e);

	if (err)
		return -ENOENT;
	if (ingest_outside_window(e.meta.from, (int64_t)time(NULL))) {
		log_warn("profile of %s from %lld is outside Pyroscope's ingestion window: set aside",
			 e.meta.service, (long long)e.meta.from);
		spool_set_aside(u->spool, e.seq, "outside the ingestion window");
		u->stats.expired++;
		spool_entry_free(&e);
		return 1;
	}
	pthread_mutex_unlock(&u->lock);
	err = ingest_upload(u->client, &e.meta, e.body, e.body_len, &res);
	pthread_mutex_lock(&u->lock);
	if (err || res.status == INGEST_RETRY) {
		/* retry_after_s <= INGEST_RETRY_AFTER_MAX_S: no overflow */
		uint64_t delay = backoff_next_after(&u->backoff, err ? 0 :
						    (uint64_t)res.retry_after_s * 1000);

		if (u->backoff.attempt == 1) /* once per outage, not per retry */
			log_warn("upload of %s failed (%s): retrying with backoff, first in %.1f s",
				 e.meta.service, err ? strerror(-err) : res.message,
				 (double)delay / 1000);
		u->not_before_ms = (uint64_t)monotonic_ms() + delay;
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
		spool_remove(u->spool, e.seq); /* -ENOENT if the cap took it meanwhile */
		u->stats.sent++;
		if (u->backoff.attempt)
			log_info("uploads resumed");
		backoff_reset(&u->backoff);
	}
	spool_entry_free(&e);
	return 1;
}

static void *upload_thread(void *arg)
{
	struct uploader *u = arg;

	pthread_mutex_lock(&u->lock);
	while (!u->stop) {
		uint64_t now = (uint64_t)monotonic_ms(), drain = u->drain_until_ms;

		if (drain && now >= drain)
			break;
		if (now < u->not_before_ms) {
			wait_until(u, drain && drain < u->not_before_ms ? drain : u->not_before_ms);
			continue;
		}
		if (send_oldest(u) == -ENOENT) {
			if (drain)
				break; /* all sent */
			wait_until(u, 0);
		}
	}
	pthread_mutex_unlock(&u->lock);
	return NULL;
}

static int start_thread(struct uploader *u)
{
	int err = signals_blocked_thread(&u->thread, upload_thread, u);

	u->running = !err;
	return err;
}

static int init_sync(struct uploader *u)
{
	pthread_condattr_t attr;
	int err;

	if (pthread_condattr_init(&attr))
		return -ENOMEM;
	err = -pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (!err)
		err = -pthread_cond_init(&u->wake, &attr);
	pthread_condattr_destroy(&attr);
	if (!err && (err = -pthread_mutex_init(&u->lock, NULL)))
		pthread_cond_destroy(&u->wake);
	return err;
}

int uploader_new(const struct uploader_opts *opts, struct uploader **out)
{
	static const struct ingest_opts no_ingest = { .sz = sizeof(no_ingest) };
	const char *spool_dir = OPT(opts, spool_dir, NULL);
	struct uploader *u;
	int err;

	if (!opts || !OPTS_VALID(opts) || !spool_dir || !out)
		return -EINVAL;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	err = init_sync(u);
	if (err) {
		free(u);
		return err;
	}
	u->labels = OPT(opts, labels, NULL);
	u->nlabels = u->labels ? OPT(opts, nlabels, 0) : 0;
	backoff_init(&u->backoff, BACKOFF_BASE_MS, BACKOFF_CAP_MS, 0);
	err = ingest_client_new(OPTS_HAS(opts, ingest) ? &opts->ingest : &no_ingest, &u->client);
	if (!err) {
		err = spool_open(spool_dir, OPT(opts, spool_max_bytes, 0), &u->spool);
		if (err)
			log_error("open spool %s: %s", spool_dir, strerror(-err));
	}
	if (!err)
		err = start_thread(u);
	if (err) {
		uploader_free(u);
		return err;
	}
	*out = u;
	return 0;
}

/* Wakes the thread with what the caller set and waits for it to return. */
static void join_thread(struct uploader *u)
{
	if (!u->running)
		return;
	pthread_cond_signal(&u->wake);
	pthread_mutex_unlock(&u->lock);
	pthread_join(u->thread, NULL);
	pthread_mutex_lock(&u->lock);
	u->running = false;
}

void uploader_drain(struct uploader *u, int budget_ms)
{
	pthread_mutex_lock(&u->lock);
	u->drain_until_ms = (uint64_t)monotonic_ms() + (uint64_t)(budget_ms > 0 ? budget_ms : 1);
	/* a request still in flight then is cut off; its profile stays spooled */
	ingest_client_abort_at(u->client, (int64_t)u->drain_until_ms);
	join_thread(u);
	pthread_mutex_unlock(&u->lock);
}

void uploader_free(struct uploader *u)
{
	if (!u)
		return;
	pthread_mutex_lock(&u->lock);
	u->stop = true;
	if (u->running) /* no waiting for a request in flight: it stays spooled */
		ingest_client_abort_at(u->client, monotonic_ms());
	join_thread(u);
	pthread_mutex_unlock(&u->lock);
	spool_close(u->spool);
	ingest_client_free(u->client);
	pthread_cond_destroy(&u->wake);
	pthread_mutex_destroy(&u->lock);
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
	int err;

	pthread_mutex_lock(&u->lock);
	err = spool_push(u->spool, &meta, gz, len);
	pthread_cond_signal(&u->wake);
	pthread_mutex_unlock(&u->lock);
	if (err)
		log_error("spool profile of %s: %s", service, strerror(-err));
	return err;
}

void uploader_get_stats(struct uploader *u, struct uploader_stats *out)
{
	struct spool_stats st;

	pthread_mutex_lock(&u->lock);
	spool_get_stats(u->spool, &st);
	*out = u->stats;
	pthread_mutex_unlock(&u->lock);
	out->spool_entries = st.entries;
	out->spool_bytes = st.bytes;
	out->spool_dropped = st.dropped;
}
