/* line_table.c - see line_table.h. */
#include "line_table.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

int line_table_parse(const char *buf, size_t len, size_t entry_size, line_parse_fn parse,
		     struct line_table *out)
{
	struct line_table t = { 0 };
	size_t pos = 0;
	char *next;
	int err;

	memset(out, 0, sizeof(*out));
	if (!len)
		return 0;
	if (!buf || memchr(buf, '\0', len))
		return -EINVAL;
	t.arena = malloc(len + 1);
	if (!t.arena)
		return -ENOMEM;
	next = t.arena;
	while (pos < len) {
		const char *line = buf + pos;
		const char *nl = memchr(line, '\n', len - pos);
		const char *eol = nl ? nl : buf + len;

		pos = (size_t)(eol - buf) + (nl ? 1 : 0);
		if (array_reserve(&t.entries, &t.cap, t.n + 1, entry_size)) {
			err = -ENOMEM;
			goto fail;
		}
		err = parse(line, eol, (char *)t.entries + t.n * entry_size, &next);
		if (err)
			goto fail;
		t.n++;
	}
	t.bytes = t.cap * entry_size + len + 1;
	*out = t;
	return 0;
fail:
	free(t.entries);
	free(t.arena);
	return err;
}

int line_table_parse_read(int read_err, char *buf, size_t len, size_t entry_size,
			  line_parse_fn parse, struct line_table *out)
{
	int err = read_err ? read_err : line_table_parse(buf, len, entry_size, parse, out);

	if (read_err)
		memset(out, 0, sizeof(*out));
	free(buf);
	return err;
}

void line_table_free(struct line_table *t)
{
	free(t->entries);
	free(t->arena);
	memset(t, 0, sizeof(*t));
}
