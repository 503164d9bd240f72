/* json_check.h - a strict JSON checker for the tests (header-only): RFC
 * 8259 syntax, strings of valid UTF-8 (no overlong form, surrogate or code
 * point past U+10FFFF), written apart from the code it checks
 * (profiler/analysis/text_out.c) so it can catch it. json_value(p, 0)
 * returns the end of the value at p (NUL-terminated text) or NULL;
 * json_valid(s): s is one value and white space.
 */
#ifndef BPFPROF_JSON_CHECK_H
#define BPFPROF_JSON_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "utf8_check.h"

static const char *json_value(const char *p, int depth);

static const char *json_ws(const char *p)
{
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	return p;
}

static const char *json_string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	while (*p != '"') {
		const unsigned char c = (unsigned char)*p;

		if (c < 0x20)
			return NULL; /* a raw control, or the end of the text */
		if (c == '\\') {
			p++;
			if (*p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF", p[i]) || !p[i])
						return NULL;
				p += 5;
			} else if (*p && strchr("\"\\/bfnrt", *p)) {
				p++;
			} else {
				return NULL;
			}
		} else if (c >= 0x80) {
			size_t n = strict_utf8((const unsigned char *)p);

			if (!n)
				return NULL;
			p += n;
		} else {
			p++;
		}
	}
	return p + 1;
}

static const char *json_number(const char *p)
{
	const char *s;

	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return NULL;
	if (*p == '.') {
		s = ++p;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p == s)
			return NULL;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		s = p;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p == s)
			return NULL;
	}
	return p;
}

static const char *json_value(const char *p, int depth)
{
	p = json_ws(p);
	if (depth > 64)
		return NULL;
	if (*p == '{' || *p == '[') {
		const char close = *p == '{' ? '}' : ']';
		const bool object = *p == '{';

		p = json_ws(p + 1);
		if (*p == close)
			return p + 1;
		for (;;) {
			if (object) {
				if (!(p = json_string(json_ws(p))))
					return NULL;
				p = json_ws(p);
				if (*p++ != ':')
					return NULL;
			}
			if (!(p = json_value(p, depth + 1)))
				return NULL;
			p = json_ws(p);
			if (*p == close)
				return p + 1;
			if (*p++ != ',')
				return NULL;
		}
	}
	if (*p == '"')
		return json_string(p);
	if (!strncmp(p, "true", 4))
		return p + 4;
	if (!strncmp(p, "false", 5))
		return p + 5;
	if (!strncmp(p, "null", 4))
		return p + 4;
	return json_number(p);
}

/* Is s exactly one JSON value (and white space)? */
static bool json_valid(const char *s)
{
	const char *end = s ? json_value(s, 0) : NULL;

	return end && !*json_ws(end);
}

#endif
