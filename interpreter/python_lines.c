/* python_lines.c - see python_lines.h. */
#include "python_lines.h"

#include <errno.h>
#include <stdbool.h>

enum {
	LOC_NONE = 15,
	LOC_LONG = 14,
	LOC_NO_COLUMNS = 13,
	LOC_ONE_LINE0 = 10, /* .. 12: a line delta of 0, 1, 2 */
};

struct cursor {
	const uint8_t *p, *end;
};

/* An unsigned varint: 6 bits a byte, least significant first. */
static int varint(struct cursor *c, uint64_t *out)
{
	uint64_t v = 0;
	unsigned shift = 0;
	uint8_t b;

	do {
		/* A byte with bit 7 set starts the next entry: the varint was cut. */
		if (c->p >= c->end || shift > 60 || (*c->p & 0x80))
			return -EINVAL;
		b = *c->p++;
		v |= (uint64_t)(b & 63) << shift;
		shift += 6;
	} while (b & 64);
	*out = v;
	return 0;
}

static int svarint(struct cursor *c, int64_t *out)
{
	uint64_t u;
	int ret = varint(c, &u);

	if (!ret)
		*out = (u & 1) ? -(int64_t)(u >> 1) : (int64_t)(u >> 1);
	return ret;
}

static int skip(struct cursor *c, size_t n)
{
	if ((size_t)(c->end - c->p) < n)
		return -EINVAL;
	c->p += n;
	return 0;
}

int python_line_at(const uint8_t *table, size_t len, int64_t firstlineno, int64_t offset,
		   int64_t *line)
{
	struct cursor c = { table, table + len };
	int64_t computed = firstlineno, start = 0;

	if (offset < 0) {
		*line = firstlineno;
		return 0;
	}
	while (c.p < c.end) {
		uint8_t first = *c.p++;
		int code = (first >> 3) & 15;
		int64_t size = ((first & 7) + 1) * 2, delta = 0;
		uint64_t ignored;
		bool has_line = code != LOC_NONE;
		int ret = 0;

		if (!(first & 0x80))
			return -EINVAL;
		if (code == LOC_LONG) {
			ret = svarint(&c, &delta);
			for (int i = 0; i < 3 && !ret; i++)
				ret = varint(&c, &ignored);
		} else if (code == LOC_NO_COLUMNS) {
			ret = svarint(&c, &delta);
		} else if (code >= LOC_ONE_LINE0 && code < LOC_NO_COLUMNS) {
			delta = code - LOC_ONE_LINE0;
			ret = skip(&c, 2);
		} else if (code < LOC_ONE_LINE0) {
			ret = skip(&c, 1);
		}
		if (ret || __builtin_add_overflow(computed, delta, &computed))
			return -EINVAL;
		if (offset < start + size) {
			*line = has_line ? computed : -1;
			return 0;
		}
		start += size;
	}
	return -ENOENT;
}
