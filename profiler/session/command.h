/* command.h - run the command being profiled.
 *
 * The child is forked first and held at a gate (a pipe) until the sampler
 * has its pid in the filter, so not one sample of the command is missed;
 * then it execs. If profiling cannot start, closing the gate makes the child
 * exit without running the command.
 */
#ifndef BPFPROF_COMMAND_H
#define BPFPROF_COMMAND_H

#include <sys/types.h>

struct command {
	pid_t pid;
	int gate_fd; /* write end of the gate; -1 once released */
};

/* Forks the child, held at the gate. Returns 0 or a negative errno. */
int command_spawn(char *const argv[], struct command *cmd);

/* Lets the child exec the command. */
int command_release(struct command *cmd);

/* Closes the gate without releasing and reaps the child. */
void command_abort(struct command *cmd);

/* The shell convention for a wait status: the exit code, or 128 + signal. */
int command_exit_code(int wstatus);

#endif
