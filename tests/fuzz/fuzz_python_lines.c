/* fuzz_python_lines.c - CPython location tables (interpreter/python_lines.h).
 *
 * The first two bytes of the input are co_firstlineno (little-endian, as a
 * signed 16-bit value), the rest the table (exactly that long, so ASan sees
 * a read past it). Asks for the line of every code unit up to where the
 * table ends, and of a negative offset. Checks that the answer is 0 or
 * -ENOENT or -EINVAL; that a negative offset is firstlineno; that once an
 * offset is past the table (-ENOENT) or the table failed (-EINVAL), the
 * next offset and the last (past any table) give the same.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "python_lines.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int64_t first, line = 0;
	uint8_t *table;
	size_t len;
	int sticky = 0;

	if (size < 2)
		return 0;
	first = (int16_t)(data[0] | data[1] << 8);
	len = size - 2;
	table = malloc(len ? len : 1);
	FUZZ_CHECK(table);
	memcpy(table, data + 2, len);
	FUZZ_CHECK(python_line_at(table, len, first, -2, &line) == 0 && line == first);
	/* Each entry covers at most 16 bytes of code: 16 * len bounds them all.
	 * Up to the first offset that is past the table or fails, then that
	 * answer must stay: for the next offset and for the last one. */
	for (int64_t off = 0; off <= (int64_t)len * 16 + 2; off += 2) {
		int ret = python_line_at(table, len, first, off, &line);

		FUZZ_CHECK(ret == 0 || ret == -ENOENT || ret == -EINVAL);
		if (!ret)
			continue;
		FUZZ_CHECK(python_line_at(table, len, first, off + 2, &line) == ret);
		FUZZ_CHECK(python_line_at(table, len, first, (int64_t)len * 16 + 2, &line) == ret);
		sticky = ret;
		break;
	}
	FUZZ_CHECK(sticky); /* past the last entry at the latest */
	free(table);
	return 0;
}
