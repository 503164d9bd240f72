/* text_out.c - see text_out.h. */
#include "text_out.h"

#include <inttypes.h>
#include <string.h>

void format_value(char *buf, size_t size, int64_t v, const char *unit)
{
	static const struct {
		const char *unit;
		double scale[4];
		const char *suffix[4];
	} units[] = {
		{ "nanoseconds", { 1e9, 1e6, 1e3, 1 }, { "s", "ms", "us", "ns" } },
		{ "microseconds", { 1e6, 1e3, 1, 1 }, { "s", "ms", "us", "us" } },
		{ "milliseconds", { 1e3, 1, 1, 1 }, { "s", "ms", "ms", "ms" } },
		{ "bytes", { 1 << 30, 1 << 20, 1 << 10, 1 }, { "GB", "MB", "kB", "B" } },
	};
	double a = v < 0 ? -(double)v : (double)v;

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(unit, units[i].unit))
			continue;
		for (int k = 0; k < 4; k++)
			if (a >= units[i].scale[k] || k == 3) {
				double x = (double)v / units[i].scale[k];

				if (units[i].scale[k] == 1 && x == (double)(int64_t)x)
					snprintf(buf, size, "%" PRId64 "%s", v, units[i].suffix[k]);
				else
					snprintf(buf, size, "%.2f%s", x, units[i].suffix[k]);
				return;
			}
	}
	snprintf(buf, size, "%" PRId64, v);
}

/* The length of the valid UTF-8 sequence at p (a lead byte >= 0x80), or 0:
 * no overlong form, no surrogate, nothing past U+10FFFF (the second byte's
 * range depends on the lead byte), continuation bytes after. */
static size_t utf8_length(const unsigned char *p)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (*p >= 0xc2 && *p <= 0xdf)
		n = 2;
	else if (*p >= 0xe0 && *p <= 0xef)
		n = 3;
	else if (*p >= 0xf0 && *p <= 0xf4)
		n = 4;
	else
		return 0;
	if (*p == 0xe0)
		lo = 0xa0;
	else if (*p == 0xed)
		hi = 0x9f;
	else if (*p == 0xf0)
		lo = 0x90;
	else if (*p == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

void json_write_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p >= 0x80) {
			size_t n = utf8_length(p);

			if (n) {
				fwrite(p, 1, n, out);
				p += n - 1;
			} else {
				fputs("\\ufffd", out); /* not UTF-8: JSON readers would refuse it */
			}
		} else if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\u%04x", *p);
		else if (*p == '<') /* no "</script>" inside a page that embeds it */
			fputs("\\u003c", out);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

void frame_label(char *buf, size_t size, const struct frame *f)
{
	if (f->line && f->file[0])
		snprintf(buf, size, "%s %s:%" PRId64, f->name, f->file, f->line);
	else if (f->line)
		snprintf(buf, size, "%s :%" PRId64, f->name, f->line);
	else
		snprintf(buf, size, "%s", f->name);
}
