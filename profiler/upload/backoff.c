/* backoff.c - see backoff.h.
 *
 * The ceiling base * 2^n is computed by doubling until it reaches the cap
 * (clamped before it could pass it), so it never overflows however many
 * attempts there were. The uniform draw
 * uses a 64-bit modulo: its bias is below 2^-40 for any ceiling in
 * milliseconds a person would configure.
 */
#include "backoff.h"

#include <time.h>
#include <unistd.h>

static uint64_t next_random(struct backoff *b)
{
	b->rng ^= b->rng >> 12;
	b->rng ^= b->rng << 25;
	b->rng ^= b->rng >> 27;
	return b->rng * 0x2545f4914f6cdd1dull;
}

void backoff_init(struct backoff *b, uint64_t base_ms, uint64_t cap_ms,
		  uint64_t seed)
{
	struct timespec ts;

	if (!seed) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed = (uint64_t)ts.tv_sec * 1000000007ull ^
		       (uint64_t)ts.tv_nsec ^ (uint64_t)getpid() << 32;
	}
	b->base_ms = base_ms ? base_ms : 1;
	b->cap_ms = cap_ms < b->base_ms ? b->base_ms : cap_ms;
	b->attempt = 0;
	b->rng = seed ? seed : 1;
}

uint64_t backoff_next(struct backoff *b)
{
	uint64_t ceiling = b->base_ms;

	for (unsigned i = 0; i < b->attempt && ceiling < b->cap_ms; i++)
		ceiling = ceiling > b->cap_ms / 2 ? b->cap_ms : ceiling * 2;
	if (b->attempt < 64)
		b->attempt++;
	return next_random(b) % (ceiling + 1);
}

uint64_t backoff_next_after(struct backoff *b, uint64_t at_least_ms)
{
	uint64_t d = backoff_next(b);

	if (at_least_ms > d)
		d = at_least_ms;
	return d < b->cap_ms ? d : b->cap_ms;
}

void backoff_reset(struct backoff *b)
{
	b->attempt = 0;
}
