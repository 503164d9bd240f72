/* sym_log.c - see sym_log.h. */
#include "sym_log.h"

#include <stdarg.h>
#include <stdio.h>

static symbolizer_print_fn print_fn;

void symbolizer_set_print(symbolizer_print_fn fn)
{
	print_fn = fn;
}

void sym_log(enum sym_log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (print_fn)
		print_fn(level, msg);
	else
		fprintf(stderr, "symbolizer: %s\n", msg);
}
