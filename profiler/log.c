/* log.c - see log.h.
 *
 * A message is formatted into a buffer first and written with one
 * fwrite, so lines from the agent's threads do not interleave. */
#include "log.h"

#include "clock.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <bpf/libbpf.h>

#define LINE_MAX_BYTES 4096

static bool verbose;
static enum log_format format = LOG_FORMAT_TEXT;

static const char *const level_name[] = {
	[LOG_DEBUG] = "debug",
	[LOG_INFO] = "info",
	[LOG_WARN] = "warning",
	[LOG_ERROR] = "error",
};

/* libbpf's messages are pieces of lines that end in '\n': one event each. */
static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char msg[LINE_MAX_BYTES];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	log_msg(level == LIBBPF_WARN ? LOG_WARN : LOG_DEBUG, "libbpf: %s", msg);
	return (int)n;
}

void log_set_verbose(bool on)
{
	verbose = on;
	libbpf_set_print(on ? libbpf_log : NULL);
}

void log_set_format(enum log_format f)
{
	format = f;
}

/* Appends s to out as the inside of a JSON string. */
static size_t json_escape(const char *s, char *out, size_t size)
{
	size_t n = 0;

	for (; *s && n + 7 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			out[n++] = '\\';
			out[n++] = (char)c;
		} else if (c < 0x20) {
			n += (size_t)snprintf(out + n, size - n, "\\u%04x", c);
		} else {
			out[n++] = (char)c;
		}
	}
	out[n] = '\0';
	return n;
}

static void write_json(enum log_level level, const char *msg)
{
	char line[2 * LINE_MAX_BYTES], stamp[32];
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", gmtime_r(&ts.tv_sec, &tm));
	n = (size_t)snprintf(line, sizeof(line), "{\"time\":\"%s.%03ldZ\",\"level\":\"%s\",\"msg\":\"",
			     stamp, ts.tv_nsec / 1000000, level_name[level]);
	n += json_escape(msg, line + n, sizeof(line) - n - 3);
	memcpy(line + n, "\"}\n", 3);
	fwrite(line, 1, n + 3, stderr);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char msg[LINE_MAX_BYTES], line[LINE_MAX_BYTES + 64];
	va_list ap;
	int n;

	if (level == LOG_DEBUG && !verbose)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (format == LOG_FORMAT_JSON) {
		write_json(level, msg);
		return;
	}
	n = snprintf(line, sizeof(line), "bpfprof: %s%s%s\n", level == LOG_INFO ? "" : level_name[level],
		     level == LOG_INFO ? "" : ": ", msg);
	fwrite(line, 1, n < (int)sizeof(line) ? (size_t)n : sizeof(line) - 1, stderr);
}

uint64_t log_limit(struct log_limit *l, uint64_t n)
{
	int64_t now = monotonic_ms();
	uint64_t count;

	l->count += n;
	if (now < l->next_ms)
		return 0;
	l->next_ms = now + LOG_LIMIT_PERIOD_MS;
	count = l->count;
	l->count = 0;
	return count;
}
