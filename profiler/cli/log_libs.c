/* log_libs.c - see log_libs.h. */
#include "log_libs.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "log.h"
#include "pprof.h"
#include "symbolizer.h"

#define LIBBPF_PREFIX "libbpf: "

/* The longest piece of a libbpf message one log line carries: under the
 * log's line cap (log.c), with room for the prefix. */
#define LIBBPF_PIECE 3072

/* libbpf's messages end in '\n'. Its verifier log is one message of many
 * lines, often far over a log line's cap, and what it ends with (the
 * rejected instruction and why) matters most: it goes out in pieces of
 * whole lines, in order, never cut short. */
static int libbpf_message(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum log_level lvl = level == LIBBPF_WARN ? LOG_WARN : LOG_DEBUG;
	char *msg, *at;
	int n;

	if (!log_verbose())
		return 0;
	n = vasprintf(&msg, fmt, ap);
	if (n < 0)
		return 0;
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	/* most of libbpf's messages name it already */
	at = strncmp(msg, LIBBPF_PREFIX, strlen(LIBBPF_PREFIX)) ? msg : msg + strlen(LIBBPF_PREFIX);
	while (*at) {
		size_t len = strlen(at), cut = len;
		char *nl;

		if (len > LIBBPF_PIECE) {
			cut = LIBBPF_PIECE;
			nl = memrchr(at, '\n', LIBBPF_PIECE);
			if (nl)
				cut = (size_t)(nl - at);
		}
		log_msg(lvl, LIBBPF_PREFIX "%.*s", (int)cut, at);
		at += cut;
		if (*at == '\n')
			at++;
	}
	free(msg);
	return n;
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
