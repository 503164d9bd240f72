/* commands.h - the subcommands' entry points, dispatched by main.c.
 *
 * Each parses its options (and their BPFPROF_* environment variables),
 * prints its --help, and hands what was asked to the room that does it:
 * record to record/recording.c, agent to agent/agent.c, report,
 * flamegraph and diff to analysis/. argv[0] is the
 * subcommand's name; each returns the process exit status.
 */
#ifndef BPFPROF_COMMANDS_H
#define BPFPROF_COMMANDS_H

int record_main(int argc, char **argv);
int agent_main(int argc, char **argv);
int report_main(int argc, char **argv);
int flamegraph_main(int argc, char **argv);
int diff_main(int argc, char **argv);

#endif
