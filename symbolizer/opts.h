/* opts.h - the project's one option-struct convention (libbpf's).
 *
 * Each opts struct starts with `size_t sz` = the caller's sizeof. A caller
 * built against an older, shorter struct is fine (missing fields take their
 * defaults); a longer one is accepted only when the tail this code does not
 * know is all zero, so a newer caller's options are never silently ignored.
 * A function taking opts checks them with OPTS_VALID() and then reads every
 * field through OPT() or OPTS_HAS(), never directly: a field past the
 * caller's sz is not the caller's memory.
 *
 * It lives in symbolizer/ because the symbolizer and profiler/ both use it
 * (profiler -> symbolizer is an allowed dependency). proto/ does not: its
 * builder takes a plain description struct instead of options.
 */
#ifndef BPFPROF_OPTS_H
#define BPFPROF_OPTS_H

#include <stdbool.h>
#include <stddef.h>

/* Whether opts (NULL is valid: all defaults) of user_sz bytes is one this
 * code of known_sz bytes accepts: sz present, any unknown tail zero. */
static inline bool opts_valid(const void *opts, size_t user_sz, size_t known_sz)
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

#define OPTS_VALID(opts) opts_valid((opts), (opts) ? (opts)->sz : 0, sizeof(*(opts)))

/* Whether the caller's struct is long enough to hold field. */
#define OPTS_HAS(opts, field)                                                 \
	((opts) && (opts)->sz >= offsetof(__typeof__(*(opts)), field) +       \
				     sizeof((opts)->field))

/* The field when the caller's struct has it and it is set (nonzero, or a
 * non-NULL pointer), else dflt. */
#define OPT(opts, field, dflt) (OPTS_HAS(opts, field) && (opts)->field ? (opts)->field : (dflt))

#endif
