/* recording.h - one `bpfprof record` session: sample, symbolize, write.
 *
 * The session ends at the first of: the duration, the command's exit,
 * SIGINT/SIGTERM. In command mode a first signal is forwarded to the command
 * (bpfprof stops when it exits); a second one stops recording at once.
 *
 * The output's temporary file is created before sampling starts (and before
 * the command), so a path that cannot be written fails at once rather than
 * after the whole recording; it is renamed into place at the end.
 */
#ifndef BPFPROF_RECORDING_H
#define BPFPROF_RECORDING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sampling_args.h"

#define RECORDING_MAX_PIDS 1024

struct recording_args {
	struct sampling_args sampling;
	double duration_s; /* 0: until signal or command exit */
	pid_t pids[RECORDING_MAX_PIDS];
	size_t npids;
	const char *output; /* "-": standard output */
	char **command; /* NULL-terminated, or NULL */
	/* Called with the profile's bytes once it is written (record
	 * --flamegraph): 0, or the exit status to end with (logged). */
	int (*on_written)(const uint8_t *profile, size_t len, void *ctx);
	void *on_written_ctx;
};

/* Runs the session; returns the process exit status (the command's, with
 * a command, once the profile is written). */
int recording_run(const struct recording_args *a);

#endif
