/* pprof_log.c - see pprof_log.h. */
#include "pprof_log.h"

#include <stdarg.h>
#include <stdio.h>

static pprof_print_fn print_fn;

void pprof_set_print(pprof_print_fn fn)
{
	print_fn = fn;
}

void pprof_log(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (print_fn)
		print_fn(msg);
	else
		fprintf(stderr, "pprof: %s\n", msg);
}
