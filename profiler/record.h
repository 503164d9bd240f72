/* record.h - `bpfprof record`: profile once, write one pprof file. */
#ifndef BPFPROF_RECORD_H
#define BPFPROF_RECORD_H

/* argv[0] is "record". Returns the process exit status. */
int record_main(int argc, char **argv);

#endif
