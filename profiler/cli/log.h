/* log.h - bpfprof's one log channel: every line it writes on stderr.
 *
 * One line per event, with a level. Text (default): "bpfprof: error: open
 * foo: No such file or directory"; info lines have no level word. JSON, for
 * log shippers: one object per line,
 * {"time":"2026-11-25T14:03:07.123Z","level":"error","msg":"..."}, valid
 * UTF-8 whatever the message holds: control characters are escaped and a
 * byte that is not UTF-8 (in a path a local user chose, say) becomes
 * U+FFFD. Debug lines are printed only after log_set_verbose(true).
 *
 * The libraries never write on their own: log_libs.h routes the messages
 * of libbpf, the symbolizer and the pprof library here.
 *
 * Repeated lines: a warning or an error with the same level and text as
 * one printed less than LOG_LIMIT_PERIOD_MS ago is printed at most
 * LOG_REPEAT_BURST times in that minute; the others are counted and, once
 * the minute is over, summarized in one line of the same level: "TEXT
 * (repeated 37 more times in the last 60 s)". The text, not the format
 * string, says what is the same: the libraries hand over text only, the
 * summary is then true to the letter, and the same warning about two
 * files or two processes stays two lines. A varying number in the text (a
 * pid, a count) makes lines different: a message that repeats every
 * interval should not carry one. The table of texts is small and fixed
 * (LOG_REPEAT_SLOTS); when it is full the text seen least recently makes
 * room, its count summarized at once. Summaries due are printed before the
 * next line of any level, and at exit (log_flush() runs then).
 *
 * An event whose count matters more than its text (profiles dropped for a
 * full disk, say) goes through a struct log_limit, one per cause: one line
 * at the first event, then at most one a minute, each with the count of
 * what happened since the last.
 *
 * Thread-safe (the agent logs from its uploader thread too): a line is
 * formatted, then written with one fwrite under one lock, so lines do not
 * interleave; the lock is taken around fork(), so a child may log. errno
 * is kept.
 */
#ifndef BPFPROF_LOG_H
#define BPFPROF_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

/* Set while parsing options, before other threads start. */
void log_set_verbose(bool verbose);
bool log_verbose(void);
void log_set_format(enum log_format format);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prints the summaries of every line held back, now. Registered with
 * atexit() the first time something is logged. */
void log_flush(void);

/* Whether a progress line ("\rbpfprof: recording 3 s ...", redrawn in
 * place) may be drawn: stderr is a terminal and the format is text. */
bool log_progress_wanted(void);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#define LOG_LIMIT_PERIOD_MS 60000

/* ---- repeated lines: the table log_msg() keeps behind its lock ---- */

#define LOG_REPEAT_BURST 5
#define LOG_REPEAT_SLOTS 32
#define LOG_REPEAT_TEXT 1024 /* bytes of a text compared and kept */

struct log_repeat {
	int64_t first_ms, last_ms; /* first line of the window; last seen */
	uint64_t held;             /* lines not printed in the window */
	uint32_t shown;            /* lines printed in it; 0: slot free */
	uint32_t len;              /* of the whole text */
	enum log_level level;
	char text[LOG_REPEAT_TEXT]; /* its first LOG_REPEAT_TEXT - 1 bytes */
};

/* Zero-initialized; not thread-safe. */
struct log_repeats {
	struct log_repeat slot[LOG_REPEAT_SLOTS];
};

/* Prints one line: how the table hands out its summaries. */
typedef void (*log_emit_fn)(enum log_level level, const char *msg, void *ctx);

/* Whether a line of this level and text may be printed at now_ms (lines
 * below LOG_WARN always may). First emits the summaries due: of windows
 * that are over, and of the text evicted to make room, if any. */
bool log_repeats_admit(struct log_repeats *r, enum log_level level, const char *msg,
		       int64_t now_ms, log_emit_fn emit, void *ctx);

/* Emits the summaries of the windows over at now_ms and frees their slots;
 * with all, ends every window that held lines back, over or not. */
void log_repeats_sweep(struct log_repeats *r, int64_t now_ms, bool all, log_emit_fn emit,
		       void *ctx);

/* ---- counted events ---- */

/* Zero-initialized; not thread-safe (one per cause and thread). */
struct log_limit {
	int64_t next_ms; /* no line before this monotonic time */
	uint64_t count;  /* events since the last line */
};

/* Counts n events. Returns how many were counted since the last line (these
 * n included) when a line is due now - at the first event, then at most once
 * per LOG_LIMIT_PERIOD_MS - and 0 while the line is held back. */
uint64_t log_limit(struct log_limit *l, uint64_t n);

#endif
