/* clock.h - the wall clock in nanoseconds, as pprof's time_nanos wants,
 * and a monotonic clock in milliseconds for deadlines and backoffs. */
#ifndef BPFPROF_CLOCK_H
#define BPFPROF_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
