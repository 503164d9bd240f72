/* spool.h - an on-disk FIFO of profiles waiting for the Pyroscope server.
 *
 * Layout of the spool directory (created, with its parents, mode 0700; it
 * and rejected/ must be owned by bpfprof's user and not writable by group
 * or others, else spool_open fails and says so - see safe_dir.h; the files
 * are 0600, private to the agent whatever --file-mode says):
 *   NNNNNNNNNNNNNNNNNNNN.spool   one pending upload; N = sequence number,
 *                                20 digits, so name order = push order
 *   .NNNN....spool.XXXXXX        an entry (or .reason) being written, by
 *                                atomic_file.h (temp + fsync + rename +
 *                                fsync of the directory); regular files of
 *                                these names (or of an older bpfprof's
 *                                .tmp-NNNN....spool|.reason) found by
 *                                spool_open, here and in rejected/, are
 *                                leftovers of a crash: deleted, their count
 *                                logged once (a link or FIFO of an old
 *                                .tmp- name is deleted too, never followed)
 *   .lock                        flock()ed while open: one agent per spool
 *   rejected/NNNN....spool       entries the server refused for good, kept
 *   rejected/NNNN....reason      for inspection with the reason as text
 * spool_open scans the directory, so pending entries survive a restart (or a
 * SIGKILL: an entry is either complete under its final name or not there)
 * and numbering continues after the highest sequence seen in either place.
 *
 * Caps: pending entries take at most max_bytes; a push that goes over it
 * deletes the OLDEST pending entries until it fits (logged, counted). An
 * entry larger than max_bytes on its own is not spooled (-EFBIG, counted as
 * dropped). rejected/ keeps at most max_bytes / 4, oldest deleted first, so
 * the spool never uses more than 1.25 * max_bytes.
 *
 * An entry file (integers little-endian):
 *   "BPFSPOOL" | u32 version=1 | i64 from | i64 until | u32 sample_rate |
 *   u16 len + service | u16 count + count * (u16 len + key, u16 len + value) |
 *   u64 len + gzipped pprof | u32 CRC-32 of all the bytes before it
 * Strings are not NUL-terminated in the file and may not contain NUL. A file
 * that does not parse exactly (truncated, wrong CRC, trailing bytes) is
 * corrupt: spool_peek_oldest logs it, deletes it, counts it and goes on; so
 * does it with a link, a FIFO or another non-regular file, which it never
 * opens for reading nor follows.
 *
 * Counters are since spool_open. Functions return 0 or a negative errno and
 * log one line on failure. Not thread-safe.
 */
#ifndef BPFPROF_SPOOL_H
#define BPFPROF_SPOOL_H

#include "ingest.h"

#include <stddef.h>
#include <stdint.h>

struct spool;

/* A spooled upload. meta and body point into memory the entry owns (or,
 * from spool_entry_parse, into the caller's buffer for body). */
struct spool_entry {
	uint64_t seq;
	struct ingest_meta meta;
	const uint8_t *body;
	size_t body_len;
	void *strings; /* private: labels and strings */
	void *file;    /* private: the file's bytes (spool_peek_oldest) */
};

struct spool_stats {
	uint64_t entries, bytes;          /* pending now */
	uint64_t dropped, dropped_bytes;  /* deleted over the cap, or too big */
	uint64_t corrupt;                 /* unreadable entries deleted */
	uint64_t set_aside;               /* moved to rejected/ */
	uint64_t rejected_entries, rejected_bytes; /* in rejected/ now */
	uint64_t rejected_dropped;        /* deleted from rejected/ over its cap */
};

/* -EBUSY when another process holds the spool; -EPERM when the directory
 * is another user's or writable by others, -ELOOP when it is a link. */
int spool_open(const char *dir, uint64_t max_bytes, struct spool **out);
void spool_close(struct spool *s);

/* Appends an upload (copied to disk; the caller keeps its buffers). */
int spool_push(struct spool *s, const struct ingest_meta *m, const void *body,
	       size_t len);

/* The oldest readable entry, -ENOENT when there is none. Free it with
 * spool_entry_free; it stays in the spool until spool_remove or
 * spool_set_aside with its seq. */
int spool_peek_oldest(struct spool *s, struct spool_entry *e);

/* Delete a pending entry (it was uploaded). -ENOENT if unknown, e.g. when
 * the cap dropped it while it was being sent. */
int spool_remove(struct spool *s, uint64_t seq);

/* Move a pending entry to rejected/, with reason (one line) beside it. */
int spool_set_aside(struct spool *s, uint64_t seq, const char *reason);

void spool_get_stats(const struct spool *s, struct spool_stats *st);

/* Parse an entry file's bytes: 0, -EBADMSG when malformed, -ENOMEM. On
 * success e->body points into buf, which must outlive e; seq is 0. */
int spool_entry_parse(const void *buf, size_t len, struct spool_entry *e);

void spool_entry_free(struct spool_entry *e);

#endif
