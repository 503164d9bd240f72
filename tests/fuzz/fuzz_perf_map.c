/* fuzz_perf_map.c - /tmp/perf-PID.map text (symbolizer/perf_map.h).
 *
 * Feeds the input to perf_map_parse, then looks up the address each line
 * starts with (and its neighbours), as far as it reads as hex, plus 0 and
 * the top address. Checks that a failed parse returns no map, that skipped
 * lines are not more than the lines there are, and that every name found
 * is a NUL-terminated string.
 */
#include <string.h>

#include "fuzz_util.h"
#include "perf_map.h"

static void lookup(const struct perf_map *m, uint64_t addr)
{
	const char *name = perf_map_lookup(m, addr);

	if (name)
		(void)strlen(name); /* ASan: the name ends inside the map */
}

/* The hex number a line starts with ("0x" allowed), 0 when none. */
static uint64_t leading_hex(const char *p, const char *end)
{
	uint64_t v = 0;

	if (end - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	for (; p < end; p++) {
		int d = *p >= '0' && *p <= '9' ? *p - '0'
			: *p >= 'a' && *p <= 'f' ? *p - 'a' + 10
			: *p >= 'A' && *p <= 'F' ? *p - 'A' + 10 : -1;

		if (d < 0)
			break;
		v = v << 4 | (uint64_t)d;
	}
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data, *end = buf + size;
	struct perf_map *m;
	size_t skipped = 0, lines = 0;
	int err;

	err = perf_map_parse(buf, size, &m, &skipped);
	if (err) {
		FUZZ_CHECK(!m);
		return 0;
	}
	for (const char *p = buf; p < end; lines++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		uint64_t a = leading_hex(p, nl ? nl : end);

		lookup(m, a - 1);
		lookup(m, a);
		lookup(m, a + 1);
		p = nl ? nl + 1 : end;
	}
	FUZZ_CHECK(skipped <= lines);
	lookup(m, 0);
	lookup(m, UINT64_MAX);
	FUZZ_CHECK(perf_map_memory(m) > 0);
	perf_map_free(m);
	return 0;
}
