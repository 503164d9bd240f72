/* agent.h - `bpfprof agent`: continuous profiling, one profile per service
 * per interval. */
#ifndef BPFPROF_AGENT_H
#define BPFPROF_AGENT_H

/* argv[0] is "agent". Returns the process exit status. */
int agent_main(int argc, char **argv);

#endif
