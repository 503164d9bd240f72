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
	struct queued_record *head, **tail;       /* published, under lock */
	struct queued_record *pending, **pending_tail; /* the producer's own */
	size_t pending_bytes;                     /* the producer's own */
	size_t bytes, max_bytes; /* published and not yet released: written
	                            under lock, read by push without it */
	uint64_t dropped[RECORD_QUEUE_TYPES];     /* written by the producer */
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
	q->pending_tail = &q->pending;
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
	free_list(q->pending);
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
	if (__atomic_load_n(&q->bytes, __ATOMIC_RELAXED) + q->pending_bytes + size > q->max_bytes)
		err = -ENOSPC;
	else if (!(r = malloc(size)))
		err = -ENOMEM;
	if (err) {
		__atomic_add_fetch(&q->dropped[type], 1, __ATOMIC_RELAXED);
		return err;
	}
	r->next = NULL;
	r->type = type;
	r->len = (uint32_t)len;
	if (len)
		memcpy(r->data, data, len);
	*q->pending_tail = r;
	q->pending_tail = &r->next;
	q->pending_bytes += size;
	return 0;
}

void record_queue_publish(struct record_queue *q)
{
	if (!q->pending)
		return;
	pthread_mutex_lock(&q->lock);
	*q->tail = q->pending;
	q->tail = q->pending_tail;
	__atomic_store_n(&q->bytes, q->bytes + q->pending_bytes, __ATOMIC_RELAXED);
	pthread_cond_signal(&q->ready);
	pthread_mutex_unlock(&q->lock);
	q->pending = NULL;
	q->pending_tail = &q->pending;
	q->pending_bytes = 0;
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
	__atomic_store_n(&q->bytes, q->bytes - size, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&q->lock);
}

uint64_t record_queue_dropped(struct record_queue *q, uint32_t type)
{
	return type < RECORD_QUEUE_TYPES ? __atomic_load_n(&q->dropped[type], __ATOMIC_RELAXED) : 0;
}
