/* fuzz_kallsyms.c - /proc/kallsyms text and /sys/kernel/notes
 * (symbolizer/kallsyms.h).
 *
 * Feeds the input to kallsyms_parse and looks up, for every symbol, its
 * address, the one before and its end; then to kernel_notes_build_id,
 * with a buffer big enough for any build-id and with one too small.
 * Checks the table's promises (sorted, distinct addresses, start/limit,
 * hidden means empty), that a symbol is found at its own address unless it
 * covers nothing, that every answer covers the address asked, that names
 * are NUL-terminated, and that a build-id is lowercase hex.
 */
#include <errno.h>
#include <string.h>

#include "fuzz_util.h"
#include "kallsyms.h"

static void lookup(const struct kallsyms *k, uint64_t addr)
{
	const struct ksym *s = kallsyms_lookup(k, addr);

	if (!s)
		return;
	FUZZ_CHECK(s >= k->syms && s < k->syms + k->n);
	FUZZ_CHECK(s->addr <= addr && addr < s->end);
	(void)strlen(kallsyms_name(k, s));
	(void)strlen(kallsyms_module(k, s));
}

static void check_table(const struct kallsyms *k)
{
	FUZZ_CHECK(!k->hidden || k->n == 0);
	FUZZ_CHECK(k->n || k->start == 0);
	for (size_t i = 0; i < k->n; i++) {
		const struct ksym *s = &k->syms[i];

		FUZZ_CHECK(i == 0 || k->syms[i - 1].addr < s->addr);
		FUZZ_CHECK(s->end >= s->addr && s->end - s->addr <= KALLSYMS_MAX_EXTENT);
		FUZZ_CHECK(s->addr >= k->start && s->end <= k->limit);
		if (s->end > s->addr)
			FUZZ_CHECK(kallsyms_lookup(k, s->addr) == s);
		lookup(k, s->addr);
		lookup(k, s->addr - 1);
		lookup(k, s->end);
	}
}

static void check_notes(const uint8_t *data, size_t size)
{
	char hex[2 * 64 + 1], small[9];
	int err = kernel_notes_build_id(data, size, hex, sizeof(hex));

	FUZZ_CHECK(err == 0 || err == -ENOENT || err == -EINVAL || err == -ENOSPC);
	if (err == 0) {
		FUZZ_CHECK(hex[0] && strspn(hex, "0123456789abcdef") == strlen(hex));
		FUZZ_CHECK(strlen(hex) % 2 == 0);
	}
	err = kernel_notes_build_id(data, size, small, sizeof(small));
	if (err == 0)
		FUZZ_CHECK(strlen(small) < sizeof(small));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kallsyms *k;
	int err = kallsyms_parse((const char *)data, size, &k);

	FUZZ_CHECK(err == 0 || err == -EINVAL || err == -ENOMEM);
	if (!err) {
		check_table(k);
		lookup(k, 0);
		lookup(k, UINT64_MAX);
		kallsyms_free(k);
	}
	check_notes(data, size);
	return 0;
}
