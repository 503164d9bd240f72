/* log.c - see log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

#include <bpf/libbpf.h>

static bool verbose;

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return vfprintf(stderr, fmt, ap);
}

void log_set_verbose(bool on)
{
	verbose = on;
	libbpf_set_print(on ? libbpf_log : NULL);
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
