/* opts.h - libbpf-style option structs for the symbolizer's modules.
 *
 * Each opts struct starts with `size_t sz` = the caller's sizeof. A caller
 * built against an older, shorter struct is fine (missing fields take their
 * defaults); a longer one is accepted only when the tail this code does not
 * know is all zero, so a newer caller's options are never silently ignored.
 */
#ifndef BPFPROF_SYM_OPTS_H
#define BPFPROF_SYM_OPTS_H

#include <stdbool.h>
#include <stddef.h>

static inline bool sym_opts_valid(const void *opts, size_t user_sz, size_t known_sz)
{
	const char *p = opts;

	if (!opts)
		return true;
	if (user_sz < sizeof(size_t))
		return false;
	for (size_t i = known_sz; i < user_sz; i++)
		if (p[i])
			return false;
	return true;
}

#define SYM_OPTS_VALID(opts) sym_opts_valid((opts), (opts) ? (opts)->sz : 0, sizeof(*(opts)))

/* The field when the caller's struct has it and it is set (nonzero, or a
 * non-NULL pointer), else dflt. */
#define SYM_OPT(opts, field, dflt)                                            \
	((opts) && (opts)->sz >= offsetof(__typeof__(*(opts)), field) +       \
				     sizeof((opts)->field) &&                 \
		 (opts)->field                                                \
		 ? (opts)->field                                              \
		 : (dflt))

#endif
