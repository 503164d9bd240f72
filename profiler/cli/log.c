/* log.c - see log.h.
 *
 * log_msg() formats the message, then, under the lock, asks the table of
 * repeated lines whether it may be printed (which may print summaries
 * first) and writes it with one fwrite. The JSON writer escapes as it
 * validates UTF-8, so an object is valid JSON even when the message was
 * cut in the middle of a character.
 */
#include "log.h"

#include "clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 4096

static bool verbose;
static enum log_format format = LOG_FORMAT_TEXT;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct log_repeats repeats;
static bool hooked; /* atfork and atexit handlers registered */

static const char *const level_name[] = {
	[LOG_DEBUG] = "debug",
	[LOG_INFO] = "info",
	[LOG_WARN] = "warning",
	[LOG_ERROR] = "error",
};

void log_set_verbose(bool on)
{
	verbose = on;
}

bool log_verbose(void)
{
	return verbose;
}

void log_set_format(enum log_format f)
{
	format = f;
}

bool log_progress_wanted(void)
{
	return format == LOG_FORMAT_TEXT && isatty(STDERR_FILENO);
}

/* ---- writing one line ---- */

/* Length of the UTF-8 character at s (1 to 4), or 0 when the bytes there
 * are not one: a stray continuation byte, an overlong form, a surrogate,
 * past U+10FFFF, or cut short. */
static size_t utf8_char_len(const unsigned char *s)
{
	size_t len;
	unsigned min, cp;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	len = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	cp = s[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80) /* also the terminating NUL */
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
	return cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? 0 : len;
}

/* Writes s into out (size bytes, NUL included) as the inside of a JSON
 * string, whole characters only; returns the length written. */
static size_t json_escape(const char *s, char *out, size_t size)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;

	while (*p) {
		char esc[8];
		const char *piece = esc;
		size_t len = 1, step = 1;

		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			len = 2;
		} else if (*p < 0x20) {
			len = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", *p);
		} else if (*p < 0x80) {
			piece = (const char *)p;
		} else if ((step = utf8_char_len(p))) {
			piece = (const char *)p;
			len = step;
		} else {
			piece = "\\ufffd";
			len = 6;
			step = 1;
		}
		if (n + len >= size)
			break;
		memcpy(out + n, piece, len);
		n += len;
		p += step;
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

static void write_text(enum log_level level, const char *msg)
{
	char line[LINE_MAX_BYTES + 64];
	int n = snprintf(line, sizeof(line), "bpfprof: %s%s%s\n",
			 level == LOG_INFO ? "" : level_name[level], level == LOG_INFO ? "" : ": ",
			 msg);

	fwrite(line, 1, n < (int)sizeof(line) ? (size_t)n : sizeof(line) - 1, stderr);
}

/* log_emit_fn; called with the lock held. */
static void write_line(enum log_level level, const char *msg, void *ctx)
{
	if (format == LOG_FORMAT_JSON)
		write_json(level, msg);
	else
		write_text(level, msg);
}

/* ---- the one entry ---- */

static void take_lock(void)
{
	pthread_mutex_lock(&lock);
}

static void drop_lock(void)
{
	pthread_mutex_unlock(&lock);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char msg[LINE_MAX_BYTES];
	int saved_errno = errno;
	va_list ap;

	if (level == LOG_DEBUG && !verbose)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	take_lock();
	if (!hooked) {
		/* A child forked while another thread logs must not inherit the
		 * lock taken; lines held back are summarized at exit. Both fail
		 * only without memory: then there is no summary at exit. */
		hooked = true;
		pthread_atfork(take_lock, drop_lock, drop_lock);
		atexit(log_flush);
	}
	if (log_repeats_admit(&repeats, level, msg, monotonic_ms(), write_line, NULL))
		write_line(level, msg, NULL);
	drop_lock();
	errno = saved_errno;
}

void log_flush(void)
{
	int saved_errno = errno;

	take_lock();
	log_repeats_sweep(&repeats, monotonic_ms(), true, write_line, NULL);
	drop_lock();
	errno = saved_errno;
}

/* ---- repeated lines ---- */

static bool same_text(const struct log_repeat *s, enum log_level level, const char *msg,
		      size_t len)
{
	return s->level == level && s->len == len &&
	       !memcmp(s->text, msg, len < LOG_REPEAT_TEXT ? len : LOG_REPEAT_TEXT - 1);
}

/* Ends s's window at now_ms, with its summary if it held lines back. */
static void end_window(struct log_repeat *s, int64_t now_ms, log_emit_fn emit, void *ctx)
{
	if (s->held) {
		char line[LOG_REPEAT_TEXT + 80];
		int64_t s_ago = (now_ms - s->first_ms + 999) / 1000;

		snprintf(line, sizeof(line), "%s (repeated %llu more time%s in the last %lld s)",
			 s->text, (unsigned long long)s->held, s->held == 1 ? "" : "s",
			 (long long)(s_ago > 0 ? s_ago : 1));
		emit(s->level, line, ctx);
	}
	s->shown = 0;
	s->held = 0;
}

void log_repeats_sweep(struct log_repeats *r, int64_t now_ms, bool all, log_emit_fn emit,
		       void *ctx)
{
	for (size_t i = 0; i < LOG_REPEAT_SLOTS; i++) {
		struct log_repeat *s = &r->slot[i];

		if (s->shown && (all ? s->held > 0 : now_ms - s->first_ms >= LOG_LIMIT_PERIOD_MS))
			end_window(s, now_ms, emit, ctx);
	}
}

bool log_repeats_admit(struct log_repeats *r, enum log_level level, const char *msg,
		       int64_t now_ms, log_emit_fn emit, void *ctx)
{
	struct log_repeat *room = NULL; /* a free slot, else the least recent */
	size_t len = strlen(msg);

	log_repeats_sweep(r, now_ms, false, emit, ctx);
	if (level < LOG_WARN)
		return true;
	for (size_t i = 0; i < LOG_REPEAT_SLOTS; i++) {
		struct log_repeat *s = &r->slot[i];

		if (!s->shown) {
			if (!room || room->shown)
				room = s;
			continue;
		}
		if (same_text(s, level, msg, len)) {
			s->last_ms = now_ms;
			if (s->shown < LOG_REPEAT_BURST) {
				s->shown++;
				return true;
			}
			s->held++;
			return false;
		}
		if (!room || (room->shown && s->last_ms < room->last_ms))
			room = s;
	}
	if (room->shown)
		end_window(room, now_ms, emit, ctx);
	*room = (struct log_repeat){
		.first_ms = now_ms,
		.last_ms = now_ms,
		.shown = 1,
		.len = (uint32_t)len,
		.level = level,
	};
	snprintf(room->text, sizeof(room->text), "%s", msg);
	return true;
}

/* ---- counted events ---- */

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
