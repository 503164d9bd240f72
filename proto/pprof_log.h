/* pprof_log.h - the builder's messages, through one print callback.
 *
 * A library does not write to stderr behind its program's back: as with
 * libbpf_set_print(), the program gives one function that receives every
 * message (pprof_set_print() in pprof.h), so its log format applies.
 * Without one, messages go to stderr as "pprof: MSG".
 */
#ifndef BPFPROF_PPROF_LOG_H
#define BPFPROF_PPROF_LOG_H

#include "pprof.h"

void pprof_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
