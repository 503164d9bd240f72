/* clock.h - the profiler's clocks: the wall clock in nanoseconds, as
 * pprof's time_nanos wants, and the monotonic clock in nanoseconds (for
 * durations) and milliseconds (deadlines, backoffs). The symbolizer, a
 * library of its own, keeps its one clock in symbolizer/sym_clock.h. */
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

static inline int64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t monotonic_ms(void)
{
	return monotonic_ns() / 1000000;
}

#endif
