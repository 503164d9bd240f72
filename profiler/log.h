/* log.h - one line per event on stderr, with a level.
 *
 * Text (default): "bpfprof: error: open foo: No such file or directory";
 * info lines have no level word. JSON, for log shippers: one object per
 * line, {"time":"2026-11-25T14:03:07.123Z","level":"error","msg":"..."}.
 * Debug lines, and libbpf's own messages, are printed only after
 * log_set_verbose(true).
 */
#ifndef BPFPROF_LOG_H
#define BPFPROF_LOG_H

#include <stdbool.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

void log_set_verbose(bool verbose);
void log_set_format(enum log_format format);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
