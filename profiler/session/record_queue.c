/* record_queue.c - see record_queue.h. */
#include "record_queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct record_queue {
	pthread_mutex_t lock;
	pthread_cond_t ready;
	struct queued_record *head, **tail;
	size_t bytes, max_bytes; /* held: queued, and not yet released */
	uint64_t dropped[RECORD_QUEUE_TYPES];
};

int record_queue_new(size_t max_bytes, struct record_queue **out)
{
	struct record_queue *q = calloc(1, sizeof(*q));
	pthread_condattr_t attr;

	if (!q)
		return -ENOMEM;
	pthread_mutex_init(&q->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&q->ready, &attr);
	pthread_condattr_destroy(&attr);
	q->tail = &q->head;
	q->max_bytes = max_bytes;
	*out = q;
	return 0;
}

static void free_list(struct queued_record *r)
{
	while (r) {
		struct queued_record *next = r->next;

		free(r);
		r = next;
	}
}

void record_queue_free(struct record_queue *q)
{
	if (!q)
		return;
	free_list(q->head);
	pthread_cond_destroy(&q->ready);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

int record_queue_push(struct record_queue *q, uint32_t type, const void *data, size_t len)
{
	size_t size = sizeof(struct queued_record) + len;
	struct queued_record *r = NULL;
	int err = 0;

	if (type >= RECORD_QUEUE_TYPES || len > UINT32_MAX)
		return -EINVAL;
	pthread_mutex_lock(&q->lock);
	if (q->bytes + size > q->max_bytes)
		err = -ENOSPC;
	else if (!(r = malloc(size)))
		err = -ENOMEM;
	if (err) {
		q->dropped[type]++;
		pthread_mutex_unlock(&q->lock);
		return err;
	}
	q->bytes += size;
	pthread_mutex_unlock(&q->lock);
	/* the copy outside the lock: the taker holds it only to unlink */
	r->next = NULL;
	r->type = type;
	r->len = (uint32_t)len;
	if (len)
		memcpy(r->data, data, len);
	pthread_mutex_lock(&q->lock);
	*q->tail = r;
	q->tail = &r->next;
	pthread_cond_signal(&q->ready);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

struct queued_record *record_queue_take(struct record_queue *q, int timeout_ms)
{
	struct queued_record *list;
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&q->lock);
	while (!q->head && timeout_ms > 0 &&
	       pthread_cond_timedwait(&q->ready, &q->lock, &until) != ETIMEDOUT)
		;
	list = q->head;
	q->head = NULL;
	q->tail = &q->head;
	pthread_mutex_unlock(&q->lock);
	return list;
}

void record_queue_release(struct record_queue *q, struct queued_record *list)
{
	size_t size = 0;

	for (struct queued_record *r = list; r; r = r->next)
		size += sizeof(*r) + r->len;
	free_list(list);
	pthread_mutex_lock(&q->lock);
	q->bytes -= size;
	pthread_mutex_unlock(&q->lock);
}

uint64_t record_queue_dropped(struct record_queue *q, uint32_t type)
{
	uint64_t n;

	if (type >= RECORD_QUEUE_TYPES)
		return 0;
	pthread_mutex_lock(&q->lock);
	n = q->dropped[type];
	pthread_mutex_unlock(&q->lock);
	return n;
}
