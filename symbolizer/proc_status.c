/* proc_status.c - see proc_status.h. */
#include "proc_status.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "read_file.h"
#include "text_scan.h"

/* The line starting with key (at the start of buf or after a newline),
 * [*line, *eol); the last one when there are several. */
static int find_line(const char *buf, size_t len, const char *key, const char **line,
		     const char **eol)
{
	size_t klen = strlen(key);
	const char *p = buf, *end = buf + len;

	*line = *eol = NULL; /* both set: gcc -O3 cannot see *eol is used only with *line */
	while (p < end) {
		const char *e = memchr(p, '\n', (size_t)(end - p));

		if (!e)
			e = end;
		if ((size_t)(e - p) >= klen && !memcmp(p, key, klen)) {
			*line = p + klen;
			*eol = e;
		}
		p = e + 1;
	}
	return *line ? 0 : -EINVAL;
}

static void skip_blanks(const char **p, const char *end)
{
	while (*p < end && (**p == ' ' || **p == '\t'))
		(*p)++;
}

int proc_status_parse(const char *buf, size_t len, struct proc_status *out)
{
	const char *p, *eol;
	uint64_t v;

	*out = (struct proc_status){ 0 };
	if (!find_line(buf, len, "NSpid:", &p, &eol)) {
		for (;;) {
			skip_blanks(&p, eol);
			if (p == eol || scan_dec(&p, eol, &v) || v > INT32_MAX)
				break;
			out->nspid = (pid_t)v; /* the last number is the innermost */
		}
	}
	if (!find_line(buf, len, "Uid:", &p, &eol)) {
		skip_blanks(&p, eol);
		if (!scan_dec(&p, eol, &v)) { /* real */
			skip_blanks(&p, eol);
			if (!scan_dec(&p, eol, &v) && v <= UINT32_MAX) { /* effective */
				out->euid = (uid_t)v;
				out->has_euid = 1;
			}
		}
	}
	return out->has_euid ? 0 : -EINVAL;
}

int proc_stat_start_time(const char *buf, size_t len, uint64_t *start_time)
{
	const char *p = buf + len, *end = buf + len;
	uint64_t v;

	while (p > buf && p[-1] != ')')
		p--;
	if (p == buf)
		return -EINVAL;
	/* After ") ": field 3 (state) is the first; start time is field 22. */
	for (int field = 3; field <= 22; field++) {
		skip_blanks(&p, end);
		if (field == 22)
			break;
		while (p < end && *p != ' ')
			p++;
	}
	if (scan_dec(&p, end, &v))
		return -EINVAL;
	*start_time = v;
	return 0;
}

int proc_read_start_time(int dirfd, const char *path, uint64_t *start_time)
{
	char *buf;
	size_t len;
	int err = sym_read_file_at(dirfd, path, 1 << 12, &buf, &len);

	if (err)
		return err;
	err = proc_stat_start_time(buf, len, start_time);
	free(buf);
	return err;
}

uint64_t proc_ns_per_tick(void)
{
	static uint64_t ns;

	if (!ns) {
		long hz = sysconf(_SC_CLK_TCK);

		ns = 1000000000ull / (uint64_t)(hz > 0 ? hz : 100);
	}
	return ns;
}
