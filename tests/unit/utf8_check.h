/* utf8_check.h - strict UTF-8 for the tests (header-only): no overlong
 * form, no surrogate, no code point past U+10FFFF, written apart from the
 * code it checks (profiler/analysis/text_out.c, interpreter/python_code.c)
 * so it can catch them. strict_utf8(p): the length of the sequence at p;
 * utf8_valid(s): the NUL-terminated s is UTF-8, a character cut by the
 * NUL included.
 */
#ifndef BPFPROF_UTF8_CHECK_H
#define BPFPROF_UTF8_CHECK_H

#include <stdbool.h>
#include <stddef.h>

/* The length of the valid UTF-8 sequence at p (lead >= 0x80; no overlong
 * form, no surrogate, at most U+10FFFF), or 0. */
static inline size_t strict_utf8(const unsigned char *p)
{
	unsigned c = p[0];
	size_t n;
	unsigned lo = 0x80, hi = 0xbf;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* s, NUL-terminated, is valid UTF-8. */
static inline bool utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = *p < 0x80 ? 1 : strict_utf8(p);

		if (!n)
			return false;
		p += n;
	}
	return true;
}

#endif
