/* env_args.h - a command's settings from BPFPROF_* environment variables.
 *
 * Containers and unit files set a daemon up through its environment: every
 * long option --some-flag VALUE can also be given as BPFPROF_SOME_FLAG=VALUE,
 * and an option without a value as BPFPROF_SOME_FLAG=1 (or true, yes; 0,
 * false, no and the empty string leave it off). The settings from the
 * environment are put before the command line's arguments, so an option
 * given on the command line wins where options override each other.
 */
#ifndef BPFPROF_ENV_ARGS_H
#define BPFPROF_ENV_ARGS_H

#include <getopt.h>

/* A new argv: argv[0], "--name=VALUE" for each of longopts set in the
 * environment (--help never), then argv[1..argc). Returns 0, -ENOMEM, or
 * -EINVAL after a usage error for a flag variable with another value. Free
 * *out_argv with env_args_free(). */
int env_args_merge(const char *cmd, const struct option *longopts, int argc, char **argv,
		   int *out_argc, char ***out_argv);
void env_args_free(int argc, char **argv);

#endif
