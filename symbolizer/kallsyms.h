/* kallsyms.h - kernel text symbols from the text of /proc/kallsyms.
 *
 * Each line is "address type name", plus "\t[module]" for module symbols
 * (and pseudo-modules such as [bpf] or [__builtin__ftrace]). Only text
 * symbols are kept (types t, T, w, W); the function name is the bare name,
 * the module name is kept beside it. Symbols are sorted by address and
 * collapsed to one per address (global over weak over local, then core
 * kernel over module, fewer leading underscores, smallest name).
 *
 * kallsyms has no sizes, so each symbol extends to the next one, but never
 * more than KALLSYMS_MAX_EXTENT (1 MiB), and:
 *  - the end markers _etext and _einittext cover nothing (the gap between
 *    core text and init text, or modules, is unresolved);
 *  - the last core-kernel symbol covers nothing: an address beyond it
 *    (between the kernel and the modules) is unresolved.
 *
 * When addresses are hidden (kptr_restrict, not root) every address reads
 * as 0: the parse then succeeds with no symbols and `hidden` set.
 *
 * The parser is strict and total: any input gives a table or -EINVAL, never
 * a crash. A line is "hex-address SP type-char SP name [WS [module]]".
 */
#ifndef BPFPROF_SYM_KALLSYMS_H
#define BPFPROF_SYM_KALLSYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KALLSYMS_MAX_EXTENT (1u << 20)

struct ksym {
	uint64_t addr;
	uint64_t end;     /* one past the last address it covers */
	uint32_t name;    /* offset in strings */
	uint32_t module;  /* offset in strings; 0 (the empty string) for core */
};

struct kallsyms {
	struct ksym *syms; /* sorted by addr, addresses distinct */
	size_t n;
	char *strings;     /* starts with "" */
	uint64_t start;    /* lowest symbol address (0 when n == 0) */
	uint64_t limit;    /* one past the highest covered address */
	bool hidden;       /* every address was 0 */
};

/* Parses len bytes of kallsyms text. Returns 0, -EINVAL on malformed input
 * or -ENOMEM. Does not log. */
int kallsyms_parse(const char *buf, size_t len, struct kallsyms **out);

void kallsyms_free(struct kallsyms *k);

/* The symbol covering addr, or NULL. */
const struct ksym *kallsyms_lookup(const struct kallsyms *k, uint64_t addr);

static inline const char *kallsyms_name(const struct kallsyms *k, const struct ksym *s)
{
	return k->strings + s->name;
}

static inline const char *kallsyms_module(const struct kallsyms *k, const struct ksym *s)
{
	return k->strings + s->module;
}

/* Finds the GNU build-id in a block of ELF notes in native byte order with
 * 4-byte alignment (the contents of /sys/kernel/notes) and writes it as
 * lowercase hex into hex[hexsz]. Returns 0, -ENOENT when there is none,
 * -EINVAL when the notes are malformed, -ENOSPC when hex is too small. */
int kernel_notes_build_id(const void *buf, size_t len, char *hex, size_t hexsz);

#endif
