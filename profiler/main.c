/* main.c - the bpfprof command: dispatch to a subcommand (commands.h). */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "log.h"
#include "log_libs.h"

#define BPFPROF_VERSION "0.1.0"

static const struct {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "record", record_main,
	  "profile the machine, some pids, or a command; write one profile" },
	{ "agent", agent_main, "profile continuously: one profile per service per interval" },
	{ "report", report_main, "the top functions of profiles (text, json, folded stacks)" },
	{ "flamegraph", flamegraph_main, "a flame graph of profiles, as a self-contained HTML page" },
	{ "diff", diff_main, "what changed between profiles; exit 1 on a regression (for CI)" },
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: bpfprof COMMAND [OPTIONS]\n"
"\n"
"A CPU profiler for Linux: BPF samples the stacks of every CPU, bpfprof\n"
"symbolizes them and writes gzipped pprof profiles; report, flamegraph and\n"
"diff read any pprof profile back (top functions, flame graphs, CI gates).\n"
"\n"
"Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].summary);
	fprintf(f,
"\n"
"Options:\n"
"  -h, --help     show this help ('bpfprof COMMAND --help' for its options)\n"
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
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(cmd, commands[i].name))
			return commands[i].main(argc - 1, argv + 1);
	log_error("unknown command '%s'\nTry 'bpfprof --help'.", cmd);
	return 2;
}
