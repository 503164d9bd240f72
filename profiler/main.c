/* main.c - the bpfprof command: dispatch to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "log_libs.h"
#include "record.h"

#define BPFPROF_VERSION "0.1.0"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: bpfprof COMMAND [OPTIONS]\n"
"\n"
"A CPU profiler for Linux: BPF samples the stacks of every CPU, bpfprof\n"
"symbolizes them and writes gzipped pprof profiles.\n"
"\n"
"Commands:\n"
"  record     profile the machine, some pids, or a command; write one profile\n"
"  agent      profile continuously: one profile per service per interval\n"
"\n"
"Options:\n"
"  -h, --help     show this help ('bpfprof record --help' for its options)\n"
"  -V, --version  print the version\n");
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	log_route_libraries(); /* before any library says something */
	if (!cmd) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
		printf("bpfprof %s\n", BPFPROF_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "record"))
		return record_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "agent"))
		return agent_main(argc - 1, argv + 1);
	fprintf(stderr, "bpfprof: error: unknown command '%s'\nTry 'bpfprof --help'.\n", cmd);
	return 2;
}
