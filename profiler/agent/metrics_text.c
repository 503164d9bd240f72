/* metrics_text.c - see metrics_text.h.
 *
 * Everything goes through put(), which grows the buffer (doubling) and
 * keeps it NUL-terminated; once an allocation failed every put() returns
 * at once, so the error needs no checking between calls.
 */
#include "metrics_text.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

void metrics_text_init(struct metrics_text *t)
{
	*t = (struct metrics_text){ 0 };
}

void metrics_text_free(struct metrics_text *t)
{
	free(t->buf);
	metrics_text_init(t);
}

static void put(struct metrics_text *t, const char *s, size_t n)
{
	if (t->err)
		return;
	if (n >= SIZE_MAX - t->len || array_reserve(&t->buf, &t->cap, t->len + n + 1, 1)) {
		t->err = -ENOMEM;
		return;
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

static void put_str(struct metrics_text *t, const char *s)
{
	put(t, s, strlen(s));
}

/* Backslash and newline always; the double quote too when quote is set. */
static void put_escaped(struct metrics_text *t, const char *s, int quote)
{
	const char *run = s;

	for (; *s; s++) {
		const char *esc = *s == '\\' ? "\\\\" : *s == '\n' ? "\\n" :
				  *s == '"' && quote ? "\\\"" : NULL;

		if (esc) {
			put(t, run, (size_t)(s - run));
			put(t, esc, 2);
			run = s + 1;
		}
	}
	put(t, run, (size_t)(s - run));
}

static void put_value(struct metrics_text *t, double v)
{
	char num[32];

	if (isnan(v)) {
		put_str(t, "NaN");
		return;
	}
	if (isinf(v)) {
		put_str(t, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v >= -1e18 && v <= 1e18 && v == (double)(long long)v) {
		snprintf(num, sizeof(num), "%lld", (long long)v);
	} else {
		for (int prec = 15; prec <= 17; prec++) {
			snprintf(num, sizeof(num), "%.*g", prec, v);
			if (strtod(num, NULL) == v)
				break;
		}
	}
	put_str(t, num);
}

void metrics_text_family(struct metrics_text *t, const char *name,
			 const char *type, const char *help)
{
	put_str(t, "# HELP ");
	put_str(t, name);
	put_str(t, " ");
	put_escaped(t, help, 0);
	put_str(t, "\n# TYPE ");
	put_str(t, name);
	put_str(t, " ");
	put_str(t, type);
	put_str(t, "\n");
}

void metrics_text_sample(struct metrics_text *t, const char *name,
			 const char *label_name, const char *label_value,
			 double value)
{
	put_str(t, name);
	if (label_name) {
		put_str(t, "{");
		put_str(t, label_name);
		put_str(t, "=\"");
		put_escaped(t, label_value, 1);
		put_str(t, "\"}");
	}
	put_str(t, " ");
	put_value(t, value);
	put_str(t, "\n");
}
