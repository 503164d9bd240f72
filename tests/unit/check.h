/* check.h - the few assertions the unit tests need.
 *
 * CHECK() records a failure and goes on, so one run reports every broken
 * expectation; check_summary() prints "N passed, N failed" and gives the
 * exit status for main().
 */
#ifndef BPFPROF_CHECK_H
#define BPFPROF_CHECK_H

#include <stdio.h>
#include <stdlib.h>

static int check_passed, check_failed;

#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		if (cond) {                                                  \
			check_passed++;                                      \
		} else {                                                     \
			check_failed++;                                      \
			fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, \
				__LINE__, #cond);                            \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
		}                                                            \
	} while (0)

static inline int check_summary(void)
{
	printf("%d passed, %d failed\n", check_passed, check_failed);
	return check_failed ? 1 : 0;
}

/* A new directory $TMPDIR/NAME.XXXXXX (TMPDIR unset: /tmp) in dir; exits
 * when it cannot be made. */
static inline void check_temp_dir(char *dir, size_t size, const char *name)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, size, "%s/%s.XXXXXX", tmp && tmp[0] ? tmp : "/tmp", name);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(1);
	}
}

static inline void check_remove_tree(const char *dir)
{
	char cmd[4096 + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", dir);
}

#endif
