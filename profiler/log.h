/* log.h - one line per event on stderr, with a level.
 *
 * Text (default): "bpfprof: error: open foo: No such file or directory";
 * info lines have no level word. JSON, for log shippers: one object per
 * line, {"time":"2026-11-25T14:03:07.123Z","level":"error","msg":"..."}.
 * Debug lines, and libbpf's own messages, are printed only after
 * log_set_verbose(true).
 *
 * An event that can repeat every interval (a full disk, say) goes through a
 * struct log_limit, one per cause: one line at the first event, then at
 * most one a minute, each with the count of what happened since the last.
 */
#ifndef BPFPROF_LOG_H
#define BPFPROF_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

void log_set_verbose(bool verbose);
void log_set_format(enum log_format format);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define LOG_LIMIT_PERIOD_MS 60000

/* Zero-initialized; not thread-safe (one per cause and thread). */
struct log_limit {
	int64_t next_ms; /* no line before this monotonic time */
	uint64_t count;  /* events since the last line */
};

/* Counts n events. Returns how many were counted since the last line (these
 * n included) when a line is due now - at the first event, then at most once
 * per LOG_LIMIT_PERIOD_MS - and 0 while the line is held back. */
uint64_t log_limit(struct log_limit *l, uint64_t n);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
