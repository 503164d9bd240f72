/* record_queue.h - records handed from one thread to another, capped.
 *
 * The sampler's reader thread copies what the BPF ring buffers deliver
 * (new processes, stack snapshots) into this FIFO as it arrives, so the
 * rings never fill while the thread that processes the records is busy
 * (symbolizing a new object, building its CFI table, writing an
 * interval's profiles); that thread takes them in order when it can. The
 * queue holds at most max_bytes of records: one that does not fit is
 * dropped and counted, per type, never waited for.
 *
 * Records are malloc'ed nodes in singly linked lists. One producer thread
 * pushes records onto a list of its own, without a lock, and publishes
 * them together (one lock, one wake-up of the taker: per ring read, not
 * per record); a take moves the whole published list out at once.
 */
#ifndef BPFPROF_RECORD_QUEUE_H
#define BPFPROF_RECORD_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#define RECORD_QUEUE_TYPES 4 /* record types 0..3, each with its drop count */

struct record_queue;

struct queued_record {
	struct queued_record *next;
	uint32_t type;
	uint32_t len;
	uint8_t data[];
};

int record_queue_new(size_t max_bytes, struct record_queue **out);
void record_queue_free(struct record_queue *q);

/* Appends a copy of data to the records not yet published; only the
 * producer thread calls it. Returns 0, or -ENOSPC (over max_bytes) or
 * -ENOMEM, the record then dropped and counted. */
int record_queue_push(struct record_queue *q, uint32_t type, const void *data, size_t len);

/* Hands the records pushed since the last call to the taker, in order,
 * and wakes it if it waits. The producer thread's. */
void record_queue_publish(struct record_queue *q);

/* Takes every queued record, oldest first, waiting up to timeout_ms
 * (0: not at all) for one to come; NULL when none did. The caller frees
 * the list with record_queue_release(). */
struct queued_record *record_queue_take(struct record_queue *q, int timeout_ms);
void record_queue_release(struct record_queue *q, struct queued_record *list);

/* Records of type dropped so far. */
uint64_t record_queue_dropped(struct record_queue *q, uint32_t type);

#endif
