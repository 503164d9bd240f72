/* log.c - see log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

static bool verbose;

void log_set_verbose(bool on)
{
	verbose = on;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const prefix[] = {
		[LOG_DEBUG] = "debug: ",
		[LOG_INFO] = "",
		[LOG_WARN] = "warning: ",
		[LOG_ERROR] = "error: ",
	};
	va_list ap;

	if (level == LOG_DEBUG && !verbose)
		return;
	fprintf(stderr, "bpfprof: %s", prefix[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
