/* test_record_queue.c - profiler/session/record_queue.c, the reader
 * thread's hand-off:
 *  - pushed records are not the taker's until published, then all of them
 *    in order, with their bytes;
 *  - the byte cap counts published and unpublished records alike until
 *    released: over it a push is refused (-ENOSPC) and counted per type;
 *    a release makes room again;
 *  - a taker waiting in record_queue_take() is woken by a publish from
 *    another thread (not by a push), and a take with nothing published
 *    returns NULL when its timeout passes. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "record_queue.h"

static int count(const struct queued_record *r)
{
	int n = 0;

	for (; r; r = r->next)
		n++;
	return n;
}

static void test_publish_order(void)
{
	struct record_queue *q;
	struct queued_record *list;
	const char *words[] = { "one", "two", "three" };

	CHECK(record_queue_new(1 << 20, &q) == 0, "new");
	for (int i = 0; i < 3; i++)
		CHECK(record_queue_push(q, (uint32_t)i, words[i], strlen(words[i]) + 1) == 0,
		      "push %d", i);
	CHECK(record_queue_take(q, 0) == NULL, "a record was taken before it was published");
	record_queue_publish(q);
	list = record_queue_take(q, 0);
	CHECK(count(list) == 3, "took %d records, want 3", count(list));
	int i = 0;
	for (const struct queued_record *r = list; r && i < 3; r = r->next, i++)
		CHECK(r->type == (uint32_t)i && r->len == strlen(words[i]) + 1 &&
			      !strcmp((const char *)r->data, words[i]),
		      "record %d: type %u len %u", i, r->type, r->len);
	record_queue_release(q, list);
	CHECK(record_queue_take(q, 0) == NULL, "taken twice");
	record_queue_free(q);
}

static void test_cap(void)
{
	char data[1000] = { 0 };
	size_t record = sizeof(struct queued_record) + sizeof(data);
	struct record_queue *q;
	struct queued_record *list;

	CHECK(record_queue_new(3 * record, &q) == 0, "new");
	for (int i = 0; i < 3; i++)
		CHECK(record_queue_push(q, 1, data, sizeof(data)) == 0, "push %d under the cap", i);
	CHECK(record_queue_push(q, 1, data, sizeof(data)) == -ENOSPC, "pushed over the cap (unpublished)");
	record_queue_publish(q);
	CHECK(record_queue_push(q, 2, data, sizeof(data)) == -ENOSPC, "pushed over the cap (published)");
	CHECK(record_queue_dropped(q, 1) == 1 && record_queue_dropped(q, 2) == 1 &&
		      record_queue_dropped(q, 0) == 0,
	      "dropped %llu %llu %llu", (unsigned long long)record_queue_dropped(q, 0),
	      (unsigned long long)record_queue_dropped(q, 1),
	      (unsigned long long)record_queue_dropped(q, 2));
	list = record_queue_take(q, 0);
	CHECK(record_queue_push(q, 1, data, sizeof(data)) == -ENOSPC,
	      "taken but not released records stopped counting");
	record_queue_release(q, list);
	CHECK(record_queue_push(q, 1, data, sizeof(data)) == 0, "no room after a release");
	CHECK(record_queue_push(q, RECORD_QUEUE_TYPES, data, 1) == -EINVAL, "a type out of range");
	record_queue_free(q); /* frees the unpublished record too (ASan) */
}

struct waiter {
	struct record_queue *q;
	struct queued_record *got;
};

static void *wait_take(void *arg)
{
	struct waiter *w = arg;

	w->got = record_queue_take(w->q, 5000);
	return NULL;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static void test_wake(void)
{
	struct waiter w = { 0 };
	pthread_t t;
	double t0;

	CHECK(record_queue_new(1 << 20, &w.q) == 0, "new");
	t0 = now_s();
	CHECK(record_queue_take(w.q, 50) == NULL, "took from an empty queue");
	CHECK(now_s() - t0 >= 0.045, "the timeout did not wait (%.3f s)", now_s() - t0);
	CHECK(pthread_create(&t, NULL, wait_take, &w) == 0, "thread");
	record_queue_push(w.q, 0, "x", 1);
	record_queue_push(w.q, 0, "y", 1);
	struct timespec pause = { 0, 100 * 1000000 };
	nanosleep(&pause, NULL);
	record_queue_publish(w.q);
	pthread_join(t, NULL);
	CHECK(count(w.got) == 2, "the waiting taker got %d records, want both", count(w.got));
	record_queue_release(w.q, w.got);
	record_queue_free(w.q);
}

int main(void)
{
	test_publish_order();
	test_cap();
	test_wake();
	return check_summary();
}
