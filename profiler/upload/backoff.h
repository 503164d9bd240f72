/* backoff.h - exponential backoff with full jitter, for upload retries.
 *
 * The n-th delay (n = 0, 1, ...) is drawn uniformly from
 * [0, min(cap, base * 2^n)] ("full jitter"): agents that lost the same server
 * at the same moment spread their retries instead of hammering it together.
 * backoff_reset() after a success starts again at n = 0. A server that asks
 * for a longer wait (Retry-After) gets it, up to the same cap: whatever it
 * says, the next attempt comes within cap_ms.
 *
 * The random numbers come from a private xorshift64* generator, so a given
 * seed always gives the same sequence (tests); seed 0 picks one from the
 * clock and the pid. Not thread-safe: one struct per retry loop.
 */
#ifndef BPFPROF_BACKOFF_H
#define BPFPROF_BACKOFF_H

#include <stdint.h>

struct backoff {
	uint64_t base_ms, cap_ms;
	unsigned attempt; /* delays handed out since the last reset */
	uint64_t rng;     /* xorshift64* state, never 0 */
};

/* base_ms >= 1 and cap_ms >= base_ms are assumed (smaller values are raised
 * to that). */
void backoff_init(struct backoff *b, uint64_t base_ms, uint64_t cap_ms,
		  uint64_t seed);

/* The delay to wait before the next attempt, in milliseconds. */
uint64_t backoff_next(struct backoff *b);

/* backoff_next(), or at_least_ms when that is longer, never above the cap:
 * for a server's Retry-After. */
uint64_t backoff_next_after(struct backoff *b, uint64_t at_least_ms);

void backoff_reset(struct backoff *b);

#endif
