/* log_libs.c - see log_libs.h. */
#include "log_libs.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "log.h"
#include "pprof.h"
#include "symbolizer.h"

#define LIBBPF_PREFIX "libbpf: "

/* libbpf's messages end in '\n' (its verifier log is several lines: one
 * event, which JSON keeps in one object). */
static int libbpf_message(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char msg[4096];
	size_t n;

	if (!log_verbose())
		return 0;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	/* most of libbpf's messages name it already */
	log_msg(level == LIBBPF_WARN ? LOG_WARN : LOG_DEBUG, LIBBPF_PREFIX "%s",
		strncmp(msg, LIBBPF_PREFIX, strlen(LIBBPF_PREFIX)) ? msg
								   : msg + strlen(LIBBPF_PREFIX));
	return (int)n;
}

static void symbolizer_message(enum sym_log_level level, const char *msg)
{
	log_msg(level == SYM_LOG_WARN ? LOG_WARN : level == SYM_LOG_INFO ? LOG_INFO : LOG_DEBUG,
		"symbolizer: %s", msg);
}

static void pprof_message(const char *msg)
{
	log_error("pprof: %s", msg);
}

void log_route_libraries(void)
{
	libbpf_set_print(libbpf_message);
	symbolizer_set_print(symbolizer_message);
	pprof_set_print(pprof_message);
}
