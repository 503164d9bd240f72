/* test_pprof_log.c - proto/'s messages go to the print callback the
 * program sets (pprof_set_print), from making a builder and from encoding,
 * and nothing to stderr; without a callback, to stderr as "pprof: MSG". */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "pprof.h"

static char got[4][256];
static int ngot;

static void on_message(const char *msg)
{
	if (ngot < 4)
		snprintf(got[ngot], sizeof(got[0]), "%s", msg);
	ngot++;
}

/* Two failing calls, with stderr read back through a pipe. */
static void fail_twice(char *err, size_t size)
{
	struct pprof_builder *b;
	int p[2], saved = dup(2);
	ssize_t n;

	if (pipe(p) || saved < 0) {
		CHECK(0, "pipe or dup failed");
		return;
	}
	fflush(stderr);
	dup2(p[1], 2);
	CHECK(pprof_builder_new(NULL, &b) < 0, "builder without info fails");
	CHECK(pprof_builder_encode_gz(NULL, NULL, NULL, NULL, NULL) < 0, "encoding nothing fails");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(p[1]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	n = read(p[0], err, size - 1);
	err[n > 0 ? n : 0] = '\0';
	close(p[0]);
}

int main(void)
{
	char err[1024];

	pprof_set_print(on_message);
	fail_twice(err, sizeof(err));
	CHECK(ngot == 2 && strstr(got[0], "info is NULL") && strstr(got[1], "encode: builder, out"),
	      "the callback got both messages: %d, '%s', '%s'", ngot, got[0], got[1]);
	CHECK(!strchr(got[0], '\n') && !strchr(got[1], '\n'), "messages are one line, no newline");
	CHECK(!err[0], "nothing on stderr with a callback set: '%s'", err);

	pprof_set_print(NULL);
	ngot = 0;
	fail_twice(err, sizeof(err));
	CHECK(!ngot && !strncmp(err, "pprof: builder: info is NULL", 28) &&
		      strstr(err, "\npprof: encode: builder, out"),
	      "without a callback, stderr: '%s'", err);
	return check_summary();
}
