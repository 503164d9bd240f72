/* sym_log.h - the symbolizer's messages, through one print callback.
 *
 * A library does not write to stderr behind its program's back: as with
 * libbpf_set_print(), the program gives one function that receives every
 * message (symbolizer_set_print() in symbolizer.h), so its log format and
 * levels apply. Without one, messages go to stderr as "symbolizer: MSG".
 */
#ifndef BPFPROF_SYM_LOG_H
#define BPFPROF_SYM_LOG_H

#include "symbolizer.h"

void sym_log(enum sym_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
