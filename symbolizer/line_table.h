/* line_table.h - the frame the /proc text parsers share (proc_maps.c,
 * mountinfo.c): one entry per line, every string of every entry in one
 * arena.
 *
 * The text is split at '\n' (a last line without one is accepted) and each
 * line handed to the parser's parse_line with the next free byte of the
 * arena, a buffer of len + 1 bytes: enough as long as a line's strings,
 * with their NULs, take no more than the line and its '\n' (unescaping only
 * shrinks). All or nothing: any line that does not parse, or a NUL in the
 * text, gives -EINVAL and nothing allocated.
 */
#ifndef BPFPROF_SYM_LINE_TABLE_H
#define BPFPROF_SYM_LINE_TABLE_H

#include <stddef.h>

/* Parses [line, eol) into entry; strings go to *arena, which it advances.
 * 0 or -EINVAL. */
typedef int (*line_parse_fn)(const char *line, const char *eol, void *entry, char **arena);

struct line_table {
	void *entries; /* n of entry_size bytes, room for cap */
	size_t n, cap;
	char *arena;
};

/* 0 with *out filled (empty input: n == 0, nothing allocated), -EINVAL or
 * -ENOMEM with *out empty. */
int line_table_parse(const char *buf, size_t len, size_t entry_size, line_parse_fn parse,
		     struct line_table *out);

#endif
