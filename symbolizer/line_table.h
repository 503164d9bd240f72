/* line_table.h - the frame the /proc text parsers share (proc_maps.c,
 * mountinfo.c): one entry per line, every string of every entry in one
 * arena; parsed, read and freed here, once for both.
 *
 * The text is split at '\n' (a last line without one is accepted) and each
 * line handed to the parser's parse_line with the next free byte of the
 * arena, a buffer of len + 1 bytes: enough as long as a line's strings,
 * with their NULs, take no more than the line and its '\n' (unescaping only
 * shrinks). All or nothing: any line that does not parse, or a NUL in the
 * text, gives -EINVAL and nothing allocated.
 *
 * A parser's public table is a LINE_TABLE_OF(its entry type): the same
 * members as struct line_table, entries typed for its users, and the
 * untyped view `.table` that the functions below fill and free (entries
 * is written as a void * and read as a pointer to the entry type: gcc and
 * clang let void * alias every pointer type).
 */
#ifndef BPFPROF_SYM_LINE_TABLE_H
#define BPFPROF_SYM_LINE_TABLE_H

#include <stddef.h>

/* Parses [line, eol) into entry; strings go to *arena, which it advances.
 * 0 or -EINVAL. */
typedef int (*line_parse_fn)(const char *line, const char *eol, void *entry, char **arena);

#define LINE_TABLE_MEMBERS(entry_type)                                       \
	entry_type *entries; /* n of them, room for cap */                  \
	size_t n, cap;                                                       \
	char *arena;         /* their strings */                             \
	size_t bytes;        /* heap held by entries and arena */

struct line_table {
	LINE_TABLE_MEMBERS(void)
};

#define LINE_TABLE_OF(entry_type)                                            \
	union {                                                              \
		struct line_table table;                                     \
		struct {                                                     \
			LINE_TABLE_MEMBERS(entry_type)                       \
		};                                                           \
	}

/* 0 with *out filled (empty input: n == 0, nothing allocated), -EINVAL or
 * -ENOMEM with *out empty. */
int line_table_parse(const char *buf, size_t len, size_t entry_size, line_parse_fn parse,
		     struct line_table *out);

/* What a reader of read_file.h returned (its error, or the file in buf,
 * which this frees), parsed as line_table_parse() does. */
int line_table_parse_read(int read_err, char *buf, size_t len, size_t entry_size,
			  line_parse_fn parse, struct line_table *out);

/* Frees entries and arena and empties t. */
void line_table_free(struct line_table *t);

#endif
