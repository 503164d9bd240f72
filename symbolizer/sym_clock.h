/* sym_clock.h - the symbolizer's clock: monotonic milliseconds, for
 * deadlines (debuginfod) and rate limits (refreshing a process). */
#ifndef BPFPROF_SYM_CLOCK_H
#define BPFPROF_SYM_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t sym_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#endif
