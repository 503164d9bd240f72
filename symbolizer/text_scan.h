/* text_scan.h - cursor helpers shared by the /proc text parsers.
 *
 * Each helper consumes one field at *p without reading at or past `end`
 * and returns 0, or -EINVAL leaving *p unchanged. None relies on a
 * terminating NUL, so the parsers built on them are safe on any bytes.
 */
#ifndef BPFPROF_SYM_TEXT_SCAN_H
#define BPFPROF_SYM_TEXT_SCAN_H

#include <errno.h>
#include <stdint.h>

static inline int scan_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One or more hex digits (no 0x) into *v; fails on 64-bit overflow. */
static inline int scan_hex(const char **p, const char *end, uint64_t *v)
{
	const char *q = *p;
	uint64_t x = 0;
	int d;

	while (q < end && (d = scan_hex_digit(*q)) >= 0) {
		if (x > (UINT64_MAX >> 4))
			return -EINVAL;
		x = (x << 4) | (uint64_t)d;
		q++;
	}
	if (q == *p)
		return -EINVAL;
	*p = q;
	*v = x;
	return 0;
}

/* One or more decimal digits into *v; fails on 64-bit overflow. */
static inline int scan_dec(const char **p, const char *end, uint64_t *v)
{
	const char *q = *p;
	uint64_t x = 0;

	while (q < end && *q >= '0' && *q <= '9') {
		uint64_t d = (uint64_t)(*q - '0');

		if (x > (UINT64_MAX - d) / 10)
			return -EINVAL;
		x = x * 10 + d;
		q++;
	}
	if (q == *p)
		return -EINVAL;
	*p = q;
	*v = x;
	return 0;
}

/* Exactly the character c. */
static inline int scan_char(const char **p, const char *end, char c)
{
	if (*p >= end || **p != c)
		return -EINVAL;
	(*p)++;
	return 0;
}

#endif
