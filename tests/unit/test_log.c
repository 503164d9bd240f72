/* test_log.c - profiler/cli/log.c, the one log channel:
 *  - JSON lines are valid JSON and UTF-8 whatever the message holds
 *    (quotes, control characters, bytes that are not UTF-8, a message cut
 *    short); text lines are as before; errno is kept;
 *  - the table of repeated lines, on a clock the test sets: the burst, the
 *    count held back and its summary when the window is over, levels kept
 *    apart, the least recent text evicted with its summary, flush, long
 *    texts;
 *  - through log_msg(): four threads logging the same text and their own
 *    lose nothing (lines printed + counts summarized = lines logged), and
 *    children forked while a thread logs can log (the lock is not
 *    inherited taken).
 * stderr is captured in an anonymous temporary file around each part. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "check.h"

/* ---- stderr capture ---- */

static FILE *cap;
static int saved_stderr = -1;

static void capture_begin(void)
{
	fflush(stderr);
	cap = tmpfile();
	saved_stderr = dup(2);
	if (!cap || saved_stderr < 0 || dup2(fileno(cap), 2) < 0) {
		fprintf(stderr, "cannot capture stderr\n");
		exit(1);
	}
}

/* What was written since capture_begin(); malloc'ed. */
static char *capture_end(void)
{
	char *buf;
	long n;

	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	n = ftell(cap) < 0 ? 0 : (fseek(cap, 0, SEEK_END), ftell(cap));
	buf = calloc(1, (size_t)n + 1);
	rewind(cap);
	if (!buf || fread(buf, 1, (size_t)n, cap) != (size_t)n) {
		fprintf(stderr, "cannot read the capture back\n");
		exit(1);
	}
	fclose(cap);
	return buf;
}

/* The msg of the one JSON line in out (a prefix the test knows, then msg,
 * then "}\n), or NULL when out is not such a line. */
static const char *json_msg(const char *out, const char *level, size_t *len)
{
	char head[64];
	const char *msg;
	size_t n = strlen(out);

	snprintf(head, sizeof(head), "\",\"level\":\"%s\",\"msg\":\"", level);
	if (strncmp(out, "{\"time\":\"", 9) || !(msg = strstr(out, head)) || n < 4 ||
	    strcmp(out + n - 3, "\"}\n") || strchr(out, '\n') != out + n - 1)
		return NULL;
	msg += strlen(head);
	*len = (size_t)(out + n - 3 - msg);
	return msg;
}

/* ---- what a line looks like ---- */

static void test_json_escaping(void)
{
	static const char want[] =
		"q\\\" b\\\\ c\\u0001 nl\\u000a tab\\u0009 del\x7f e\xc3\xa9 \xe2\x82\xac "
		"\xf0\x9f\x98\x80 bad\\ufffd cut\\ufffd\\ufffd over\\ufffd\\ufffd "
		"sur\\ufffd\\ufffd\\ufffd big\\ufffd\\ufffd\\ufffd\\ufffd end";
	const char *msg;
	char *out, big[5000];
	size_t len;

	log_set_format(LOG_FORMAT_JSON);
	capture_begin();
	log_warn("q\" b\\ c\x01 nl\n tab\t del\x7f e\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 "
		 "bad\xff cut\xe2\x82 over\xc0\xaf sur\xed\xa0\x80 big\xf4\x90\x80\x80 end");
	out = capture_end();
	msg = json_msg(out, "warning", &len);
	CHECK(msg && len == strlen(want) && !memcmp(msg, want, len),
	      "escaped and made UTF-8:\n got  %s\n want %s", out, want);
	free(out);

	/* Cut by the message buffer in the middle of a character. */
	for (size_t i = 0; i + 1 < sizeof(big); i += 2)
		memcpy(big + i, "\xc3\xa9", 2);
	big[sizeof(big) - 1] = '\0';
	capture_begin();
	log_error("%s", big); /* 2047 of them and half of the next */
	out = capture_end();
	msg = json_msg(out, "error", &len);
	CHECK(msg && len == 4094 + 6 && !memcmp(msg + 4094, "\\ufffd", 6),
	      "a message cut mid-character ends in one U+FFFD: ...%s",
	      out + (strlen(out) > 40 ? strlen(out) - 40 : 0));
	free(out);

	/* Escapes that do not fit end the message on a whole one. */
	memset(big, '\x01', sizeof(big) - 1);
	capture_begin();
	log_error("%s", big);
	out = capture_end();
	msg = json_msg(out, "error", &len);
	CHECK(msg && len > 6000 && len % 6 == 0, "whole escapes only: %zu bytes", len);
	free(out);
}

static void test_text_lines(void)
{
	char *out;

	log_set_format(LOG_FORMAT_TEXT);
	log_set_verbose(false);
	capture_begin();
	errno = 1234;
	log_error("open %s: %s", "foo", "No such file or directory");
	CHECK(errno == 1234, "errno kept: %d", errno);
	log_warn("w");
	log_info("i");
	log_debug("not shown");
	log_set_verbose(true);
	log_debug("shown");
	log_set_verbose(false);
	out = capture_end();
	CHECK(!strcmp(out, "bpfprof: error: open foo: No such file or directory\n"
			   "bpfprof: warning: w\nbpfprof: i\nbpfprof: debug: shown\n"),
	      "text lines: '%s'", out);
	free(out);
}

/* ---- the table, on the test's clock ---- */

static char emitted[8][1200];
static enum log_level emitted_level[8];
static int nemitted;

static void record_emit(enum log_level level, const char *msg, void *ctx)
{
	if (nemitted < 8) {
		snprintf(emitted[nemitted], sizeof(emitted[0]), "%s", msg);
		emitted_level[nemitted] = level;
	}
	nemitted++;
}

static int admitted(struct log_repeats *r, enum log_level level, const char *msg, int64_t t,
		    int times)
{
	int n = 0;

	for (int i = 0; i < times; i++)
		n += log_repeats_admit(r, level, msg, t, record_emit, NULL);
	return n;
}

static void test_burst_and_summary(void)
{
	static struct log_repeats r;

	nemitted = 0;
	CHECK(admitted(&r, LOG_WARN, "disk full", 0, 20) == LOG_REPEAT_BURST,
	      "the first %d of 20 lines are printed", LOG_REPEAT_BURST);
	CHECK(admitted(&r, LOG_WARN, "disk full", 30000, 1) == 0, "still held at 30 s");
	log_repeats_sweep(&r, LOG_LIMIT_PERIOD_MS - 1, false, record_emit, NULL);
	CHECK(nemitted == 0, "no summary before the window is over: %d", nemitted);
	CHECK(admitted(&r, LOG_WARN, "other", LOG_LIMIT_PERIOD_MS, 1) == 1, "another text prints");
	CHECK(nemitted == 1 && emitted_level[0] == LOG_WARN &&
	      !strcmp(emitted[0], "disk full (repeated 16 more times in the last 60 s)"),
	      "the summary comes first, when the window is over: %d '%s'", nemitted, emitted[0]);
	CHECK(admitted(&r, LOG_WARN, "disk full", LOG_LIMIT_PERIOD_MS + 1, 1) == 1,
	      "a new window prints again");

	/* A window that held nothing back ends without a line. */
	nemitted = 0;
	log_repeats_sweep(&r, 10 * LOG_LIMIT_PERIOD_MS, false, record_emit, NULL);
	CHECK(nemitted == 0, "nothing held, nothing said: %d", nemitted);
	CHECK(admitted(&r, LOG_WARN, "x", 20 * LOG_LIMIT_PERIOD_MS, 6) == 5, "burst of 5");
	log_repeats_sweep(&r, 20 * LOG_LIMIT_PERIOD_MS + 90500, false, record_emit, NULL);
	CHECK(nemitted == 1 && !strcmp(emitted[0], "x (repeated 1 more time in the last 91 s)"),
	      "a late sweep names the time since the window began: '%s'", emitted[0]);
}

static void test_levels(void)
{
	static struct log_repeats r;

	nemitted = 0;
	CHECK(admitted(&r, LOG_INFO, "interval", 0, 100) == 100, "info lines are never held");
	CHECK(admitted(&r, LOG_DEBUG, "debug", 0, 100) == 100, "nor debug lines");
	CHECK(admitted(&r, LOG_WARN, "same", 0, 7) == 5 && admitted(&r, LOG_ERROR, "same", 0, 7) == 5,
	      "a warning and an error of the same text are two lines");
	log_repeats_sweep(&r, 1, true, record_emit, NULL);
	CHECK(nemitted == 2 && emitted_level[0] != emitted_level[1], "two summaries, one per level");
}

static void test_eviction(void)
{
	static struct log_repeats r;
	char text[32];

	nemitted = 0;
	CHECK(admitted(&r, LOG_WARN, "oldest", 0, 8) == 5, "oldest: 5 printed, 3 held");
	for (int i = 1; i < LOG_REPEAT_SLOTS; i++) {
		snprintf(text, sizeof(text), "text %d", i);
		admitted(&r, LOG_WARN, text, i, 1);
	}
	CHECK(nemitted == 0, "the table is full, nothing evicted yet");
	CHECK(admitted(&r, LOG_WARN, "one more", 1500, 1) == 1, "a new text when full prints");
	CHECK(nemitted == 1 && !strcmp(emitted[0], "oldest (repeated 3 more times in the last 2 s)"),
	      "the least recent text made room, its count said: '%s'", emitted[0]);
	CHECK(admitted(&r, LOG_WARN, "text 1", 1600, 5) == 4, "text 1 kept its window (1 + 4 printed)");
	CHECK(admitted(&r, LOG_WARN, "oldest", 1700, 1) == 1, "the evicted text starts afresh");
}

static void test_flush_and_long_texts(void)
{
	static struct log_repeats r;
	static char a[2000], b[2000];

	nemitted = 0;
	admitted(&r, LOG_WARN, "kept", 0, 3);
	log_repeats_sweep(&r, 10, true, record_emit, NULL);
	CHECK(nemitted == 0, "flush: no summary for a text that held nothing");
	CHECK(admitted(&r, LOG_WARN, "kept", 20, 3) == 2, "and its window goes on (3 + 2 printed)");
	log_repeats_sweep(&r, 30, true, record_emit, NULL);
	CHECK(nemitted == 1 && !strcmp(emitted[0], "kept (repeated 1 more time in the last 1 s)"),
	      "flush: the held line is said at once: '%s'", emitted[0]);

	memset(a, 'a', sizeof(a) - 1);
	memcpy(b, a, sizeof(b));
	b[sizeof(b) - 2] = 'b'; /* differs past what is compared */
	nemitted = 0;
	CHECK(admitted(&r, LOG_WARN, a, 100, 5) + admitted(&r, LOG_WARN, b, 100, 1) == 5,
	      "texts alike in their first %d bytes and length are the same", LOG_REPEAT_TEXT - 1);
	CHECK(admitted(&r, LOG_WARN, a + 1, 100, 1) == 1, "a text of another length is not");
	log_repeats_sweep(&r, 200, true, record_emit, NULL);
	CHECK(nemitted == 1 && strlen(emitted[0]) == LOG_REPEAT_TEXT - 1 + strlen(" (repeated 1 more time in the last 1 s)") &&
	      !strcmp(emitted[0] + LOG_REPEAT_TEXT - 1, " (repeated 1 more time in the last 1 s)"),
	      "the summary shows the text kept: %zu bytes", strlen(emitted[0]));
}

/* ---- through log_msg(), from threads ---- */

#define THREADS 4
#define SAME_LINES 20000
#define OWN_LINES 200

static pthread_barrier_t start_together;

static void *log_lines(void *arg)
{
	int id = (int)(long)arg;

	pthread_barrier_wait(&start_together);
	for (int i = 0; i < SAME_LINES; i++) {
		log_warn("from every thread");
		if (i < OWN_LINES)
			log_warn("from thread %d", id);
	}
	return NULL;
}

/* Lines of text in out plus the counts in its summaries. */
static long count_lines(const char *out, const char *text)
{
	char line[128], summary[128];
	long n = 0;
	unsigned long long held;
	const char *p = out;

	snprintf(line, sizeof(line), "bpfprof: warning: %s\n", text);
	snprintf(summary, sizeof(summary), "bpfprof: warning: %s (repeated %%llu more times", text);
	while (*p) {
		const char *eol = strchr(p, '\n');

		if (!strncmp(p, line, strlen(line)))
			n++;
		else if (sscanf(p, summary, &held) == 1)
			n += (long)held;
		p = eol ? eol + 1 : p + strlen(p);
	}
	return n;
}

static void test_threads(void)
{
	pthread_t t[THREADS];
	char own[32], *out;

	log_set_format(LOG_FORMAT_TEXT);
	pthread_barrier_init(&start_together, NULL, THREADS);
	capture_begin();
	for (long i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, log_lines, (void *)i);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	log_flush();
	out = capture_end();
	pthread_barrier_destroy(&start_together);
	CHECK(count_lines(out, "from every thread") == THREADS * SAME_LINES,
	      "the shared text: %ld lines and counts, want %d", count_lines(out, "from every thread"),
	      THREADS * SAME_LINES);
	for (int i = 0; i < THREADS; i++) {
		snprintf(own, sizeof(own), "from thread %d", i);
		CHECK(count_lines(out, own) == OWN_LINES, "%s: %ld, want %d", own,
		      count_lines(out, own), OWN_LINES);
	}
	CHECK(strlen(out) < 4096, "%zu bytes for %d lines: held back", strlen(out),
	      THREADS * (SAME_LINES + OWN_LINES));
	free(out);
}

static atomic_int spinning = 1;

static void *spin(void *arg)
{
	while (spinning)
		log_info("spinning");
	return NULL;
}

static void test_fork(void)
{
	int ok = 0, status;
	pthread_t t;
	char *out;

	capture_begin();
	pthread_create(&t, NULL, spin, NULL);
	for (int i = 0; i < 200 && ok == i; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			alarm(2); /* a lock inherited taken would hang here */
			log_error("child %d", i);
			_exit(0);
		}
		if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		    !WEXITSTATUS(status))
			ok++;
	}
	spinning = 0;
	pthread_join(t, NULL);
	out = capture_end();
	CHECK(ok == 200, "%d of 200 children forked while a thread logs could log", ok);
	CHECK(strstr(out, "bpfprof: error: child 199\n"), "the last child's line is there");
	free(out);
}

int main(void)
{
	test_json_escaping();
	test_text_lines();
	test_burst_and_summary();
	test_levels();
	test_eviction();
	test_flush_and_long_texts();
	test_threads();
	test_fork();
	return check_summary();
}
