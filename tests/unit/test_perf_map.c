/* test_perf_map.c - the /tmp/perf-PID.map parser: good lines, later lines
 * winning, malformed lines skipped, and arbitrary bytes never crashing. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "perf_map.h"

static const char *lookup(const struct perf_map *m, uint64_t addr)
{
	const char *name = perf_map_lookup(m, addr);

	return name ? name : "(none)";
}

static void test_basic(void)
{
	static const char text[] =
		"1000 10 LazyCompile:~foo /app/a.js:1\n"
		"0x2000 0x20 Builtin:ArgumentsAdaptorTrampoline\n"
		"3000 8 old\n"
		"3000 8 new\r\n"
		"zz 10 bad start\n"
		"4000 0 empty range\n"
		"5000 10\n"
		"\n"
		"6000 4 last-no-newline";
	struct perf_map *m = NULL;
	size_t skipped = 99;

	CHECK(perf_map_parse(text, strlen(text), &m, &skipped) == 0, "parse");
	if (!m)
		return;
	CHECK(skipped == 3, "skipped %zu, want 3", skipped);
	CHECK(!strcmp(lookup(m, 0x1000), "LazyCompile:~foo /app/a.js:1"), "%s", lookup(m, 0x1000));
	CHECK(!strcmp(lookup(m, 0x100f), "LazyCompile:~foo /app/a.js:1"), "%s", lookup(m, 0x100f));
	CHECK(!strcmp(lookup(m, 0x1010), "(none)"), "past the end: %s", lookup(m, 0x1010));
	CHECK(!strcmp(lookup(m, 0xfff), "(none)"), "before the first: %s", lookup(m, 0xfff));
	CHECK(!strcmp(lookup(m, 0x201f), "Builtin:ArgumentsAdaptorTrampoline"), "%s", lookup(m, 0x201f));
	CHECK(!strcmp(lookup(m, 0x3004), "new"), "later line wins: %s", lookup(m, 0x3004));
	CHECK(!strcmp(lookup(m, 0x6003), "last-no-newline"), "%s", lookup(m, 0x6003));
	CHECK(perf_map_memory(m) > 0, "memory accounted");
	perf_map_free(m);
}

static void test_empty_and_garbage(void)
{
	struct perf_map *m = NULL;
	char junk[4096];

	CHECK(perf_map_parse("", 0, &m, NULL) == 0 && m, "empty parses");
	if (m)
		CHECK(perf_map_lookup(m, 0) == NULL, "empty finds nothing");
	perf_map_free(m);

	srand(1);
	for (int round = 0; round < 200; round++) {
		size_t len = (size_t)rand() % sizeof(junk);

		for (size_t i = 0; i < len; i++) /* hex-ish bytes, spaces, newlines */
			junk[i] = "0123456789abcdefx \n\r\t"[rand() % 21];
		m = NULL;
		CHECK(perf_map_parse(junk, len, &m, NULL) == 0, "junk round %d", round);
		if (m)
			perf_map_lookup(m, (uint64_t)rand());
		perf_map_free(m);
	}
}

int main(void)
{
	test_basic();
	test_empty_and_garbage();
	return check_summary();
}
