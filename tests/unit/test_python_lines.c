/* test_python_lines.c - symbolizer/python_lines.c against CPython's own
 * reading of its location tables.
 *
 * Standard input holds the vectors python_lines_vectors.py writes with the
 * interpreter under test (every offset of thousands of real code objects,
 * with the line co_lines() gives); each must come out the same, the offset
 * past the last range -ENOENT. Then hand-made tables: every entry code,
 * negative offsets, and malformed tables (cut varints, an operand byte
 * where an entry should start, a truncated operand) -EINVAL, never a read
 * past the buffer (the ASan build runs this too).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "python_lines.h"

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;

	if (!strcmp(hex, "-"))
		return 0;
	while (hex[0] && hex[1] && n < cap) {
		unsigned b;

		sscanf(hex, "%2x", &b);
		out[n++] = (uint8_t)b;
		hex += 2;
	}
	return n;
}

static void test_vectors(void)
{
	static char line[1 << 20];
	static uint8_t table[1 << 18];
	size_t codes = 0, offsets = 0, wrong = 0;

	while (fgets(line, sizeof(line), stdin)) {
		char *save = NULL, *tok = strtok_r(line, " \n", &save);
		int64_t first, got, last_end = 0;
		size_t len;

		if (!tok)
			continue;
		first = atoll(tok);
		tok = strtok_r(NULL, " \n", &save);
		if (!tok)
			continue;
		len = unhex(tok, table, sizeof(table));
		/* A copy of just the table's bytes: ASan sees any read past it. */
		uint8_t *exact = malloc(len ? len : 1);

		memcpy(exact, table, len);
		codes++;
		while ((tok = strtok_r(NULL, " \n", &save))) {
			int64_t off = atoll(tok), want = atoll(strchr(tok, ':') + 1);
			int ret = python_line_at(exact, len, first, off, &got);

			offsets++;
			if (ret || got != want) {
				if (wrong++ < 10)
					fprintf(stderr, "offset %lld: ret %d line %lld, want %lld\n",
						(long long)off, ret, (long long)got, (long long)want);
			}
			last_end = off + 2;
		}
		CHECK(python_line_at(exact, len, first, last_end, &got) == -ENOENT,
		      "the offset past the table (%lld)", (long long)last_end);
		free(exact);
	}
	CHECK(codes >= 100 && offsets >= 10000, "vectors: %zu code objects, %zu offsets", codes,
	      offsets);
	CHECK(wrong == 0, "%zu of %zu offsets have another line than co_lines()", wrong, offsets);
	printf("%zu code objects, %zu offsets checked\n", codes, offsets);
}

static int64_t line_of(const uint8_t *t, size_t len, int64_t first, int64_t off, int *ret)
{
	int64_t line = -99;

	*ret = python_line_at(t, len, first, off, &line);
	return line;
}

static void test_hand_made(void)
{
	/* 0x80|code<<3|(units-1): code 13 (+3 lines, 1 unit), code 0 (same
	 * line, 2 units, a column byte), code 15 (no line, 1 unit), code 11
	 * (+1, 1 unit, 2 column bytes), code 14 (-2 as svarint 5, then end
	 * line, column, end column; 1 unit). */
	const uint8_t t[] = { 0x80 | 13 << 3 | 0, 0x06, 0x80 | 0 << 3 | 1, 0x07,
			      0x80 | 15 << 3 | 0, 0x80 | 11 << 3 | 0, 0x01, 0x02,
			      0x80 | 14 << 3 | 0, 0x05, 0x00, 0x01, 0x02 };
	int ret;

	CHECK(line_of(t, sizeof(t), 10, 0, &ret) == 13 && !ret, "code 13: +3");
	CHECK(line_of(t, sizeof(t), 10, 2, &ret) == 13 && !ret, "code 0: same line");
	CHECK(line_of(t, sizeof(t), 10, 5, &ret) == 13 && !ret, "code 0: its second unit");
	CHECK(line_of(t, sizeof(t), 10, 6, &ret) == -1 && !ret, "code 15: no line");
	CHECK(line_of(t, sizeof(t), 10, 8, &ret) == 14 && !ret, "code 11: +1 after a line-less range");
	CHECK(line_of(t, sizeof(t), 10, 10, &ret) == 12 && !ret, "code 14: -2");
	line_of(t, sizeof(t), 10, 12, &ret);
	CHECK(ret == -ENOENT, "past the end: %d", ret);
	CHECK(line_of(t, sizeof(t), 10, -2, &ret) == 10 && !ret, "not started: firstlineno");
	CHECK(line_of(t, 0, 10, -2, &ret) == 10 && !ret, "not started, no table");
	line_of(t, 0, 10, 0, &ret);
	CHECK(ret == -ENOENT, "an empty table covers nothing");

	/* A varint of several bytes: 70 = 6 + 64 -> bytes 0x46 (6, more), 0x01. */
	const uint8_t long_delta[] = { 0x80 | 13 << 3 | 0, ((70 << 1) & 63) | 64, (70 << 1) >> 6 };

	CHECK(line_of(long_delta, sizeof(long_delta), 1, 0, &ret) == 71 && !ret, "two-byte varint: %d", ret);

	/* Malformed: each -EINVAL, with the buffer cut exactly (ASan). */
	static const struct {
		const char *what;
		uint8_t bytes[4];
		size_t len;
	} bad[] = {
		{ "no entry marker", { 0x06 }, 1 },
		{ "code 13 without its delta", { 0x80 | 13 << 3 }, 1 },
		{ "a varint cut short", { 0x80 | 13 << 3, 0x46 }, 2 },
		{ "a varint running into the next entry", { 0x80 | 13 << 3, 0x46, 0x80 | 0 }, 3 },
		{ "code 0 without its column", { 0x80 | 0 << 3 }, 1 },
		{ "code 10 with one column of two", { 0x80 | 10 << 3, 0x01 }, 2 },
		{ "code 14 without its columns", { 0x80 | 14 << 3, 0x02, 0x00 }, 3 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t *copy = malloc(bad[i].len);

		memcpy(copy, bad[i].bytes, bad[i].len);
		line_of(copy, bad[i].len, 1, 0, &ret);
		CHECK(ret == -EINVAL, "%s: %d", bad[i].what, ret);
		free(copy);
	}
	/* A varint too long for 64 bits. */
	uint8_t huge[16] = { 0x80 | 13 << 3 };

	memset(huge + 1, 0x7f, sizeof(huge) - 1);
	line_of(huge, sizeof(huge), 1, 0, &ret);
	CHECK(ret == -EINVAL, "an endless varint: %d", ret);
}

int main(void)
{
	test_hand_made();
	test_vectors();
	return check_summary();
}
