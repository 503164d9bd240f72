/* ingest_reply.c - see ingest_reply.h.
 *
 * The HTTP-date parser walks the bytes with a cursor that never passes the
 * end; each form is matched exactly (fixed widths, one space where the
 * grammar has one), and the date becomes Unix seconds by the civil-date
 * arithmetic below, not by timegm(), so neither the time zone nor the
 * range of time_t matters.
 */
#include "ingest_reply.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- Retry-After ---- */

struct cursor {
	const char *p, *end;
};

static bool lit(struct cursor *c, const char *s)
{
	size_t n = strlen(s);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n))
		return false;
	c->p += n;
	return true;
}

/* Exactly n digits. */
static bool digits(struct cursor *c, int n, int *out)
{
	*out = 0;
	for (int i = 0; i < n; i++, c->p++) {
		if (c->p == c->end || *c->p < '0' || *c->p > '9')
			return false;
		*out = *out * 10 + (*c->p - '0');
	}
	return true;
}

/* One of names[0..n) (case-sensitive, as the grammar says): its index, or -1. */
static int word(struct cursor *c, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (lit(c, names[i]))
			return i;
	return -1;
}

static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
				      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
static const char *const days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
static const char *const long_days[] = { "Monday,", "Tuesday,", "Wednesday,", "Thursday,",
					 "Friday,", "Saturday,", "Sunday," };

/* Days since 1970-01-01 of a proleptic Gregorian date (m 1-12). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static bool valid_day(int y, int m, int d)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100) || y % 400 == 0;

	return d >= 1 && d <= mdays[m - 1] && (m != 2 || d <= 28 || leap);
}

/* "HH:MM:SS" as seconds of the day. */
static bool time_of_day(struct cursor *c, int64_t *secs)
{
	int h, m, s;

	if (!digits(c, 2, &h) || !lit(c, ":") || !digits(c, 2, &m) || !lit(c, ":") ||
	    !digits(c, 2, &s) || h > 23 || m > 59 || s > 60)
		return false;
	*secs = h * 3600 + m * 60 + s;
	return true;
}

/* A broken-down date and time. */
struct date {
	int y, m, d; /* m 0-11 */
	int64_t secs;
};

/* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
static bool imf_fixdate(struct cursor *c, struct date *t)
{
	return word(c, days, 7) >= 0 && lit(c, ", ") && digits(c, 2, &t->d) && lit(c, " ") &&
	       (t->m = word(c, months, 12)) >= 0 && lit(c, " ") && digits(c, 4, &t->y) &&
	       lit(c, " ") && time_of_day(c, &t->secs) && lit(c, " GMT");
}

/* rfc850-date: Sunday, 06-Nov-94 08:49:37 GMT. The two-digit year is taken
 * as 1970-2069: a date decades away is in the past, or beyond the cap,
 * either way. */
static bool rfc850_date(struct cursor *c, struct date *t)
{
	if (word(c, long_days, 7) < 0 || !lit(c, " ") || !digits(c, 2, &t->d) || !lit(c, "-") ||
	    (t->m = word(c, months, 12)) < 0 || !lit(c, "-") || !digits(c, 2, &t->y) ||
	    !lit(c, " ") || !time_of_day(c, &t->secs) || !lit(c, " GMT"))
		return false;
	t->y += t->y < 70 ? 2000 : 1900;
	return true;
}

/* asctime-date: Sun Nov  6 08:49:37 1994 (the day is 2DIGIT or SP DIGIT) */
static bool asctime_date(struct cursor *c, struct date *t)
{
	return word(c, days, 7) >= 0 && lit(c, " ") && (t->m = word(c, months, 12)) >= 0 &&
	       lit(c, " ") && (lit(c, " ") ? digits(c, 1, &t->d) : digits(c, 2, &t->d)) &&
	       lit(c, " ") && time_of_day(c, &t->secs) && lit(c, " ") && digits(c, 4, &t->y);
}

/* Any of the three HTTP-date forms, as Unix seconds. */
static bool http_date(struct cursor *c, int64_t *out)
{
	static bool (*const forms[])(struct cursor *, struct date *) = {
		imf_fixdate, rfc850_date, asctime_date,
	};
	const char *start = c->p;

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct date t;

		c->p = start;
		if (forms[i](c, &t) && valid_day(t.y, t.m + 1, t.d)) {
			*out = days_from_civil(t.y, t.m + 1, t.d) * 86400 + t.secs;
			return true;
		}
	}
	return false;
}

int ingest_parse_retry_after(const char *buf, size_t len, int64_t now_s, long *delay_s)
{
	struct cursor c = { buf, buf + len };
	int64_t v = 0;

	while (c.p < c.end && (*c.p == ' ' || *c.p == '\t'))
		c.p++;
	while (c.end > c.p && (c.end[-1] == ' ' || c.end[-1] == '\t'))
		c.end--;
	if (c.p == c.end)
		return -EINVAL;
	if (*c.p >= '0' && *c.p <= '9') {
		/* delay-seconds, saturating: any number of digits */
		for (; c.p < c.end; c.p++) {
			if (*c.p < '0' || *c.p > '9')
				return -EINVAL;
			if (v <= INGEST_RETRY_AFTER_MAX_S)
				v = v * 10 + (*c.p - '0');
		}
	} else {
		if (!http_date(&c, &v) || c.p != c.end)
			return -EINVAL;
		v -= now_s;
	}
	*delay_s = v < 0 ? 0 : v > INGEST_RETRY_AFTER_MAX_S ? INGEST_RETRY_AFTER_MAX_S : (long)v;
	return 0;
}

/* ---- the answer ---- */

void ingest_reply_reset(struct ingest_reply *r)
{
	memset(r, 0, sizeof(*r));
}

int ingest_reply_header(struct ingest_reply *r, const char *line, size_t len)
{
	static const char name[] = "Retry-After:";
	size_t n = sizeof(name) - 1;

	if (r->header_cut || len > INGEST_REPLY_HEADER_MAX - r->header_bytes) {
		r->header_cut = true;
		return -E2BIG;
	}
	r->header_bytes += len;
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len >= 5 && !memcmp(line, "HTTP/", 5)) {
		r->retry_after_len = 0; /* a new response: forget the 1xx's */
	} else if (len >= n && !strncasecmp(line, name, n) && !r->retry_after_len) {
		/* the length as sent: a longer value than kept is invalid */
		r->retry_after_len = len - n;
		memcpy(r->retry_after, line + n,
		       len - n < sizeof(r->retry_after) ? len - n : sizeof(r->retry_after));
	}
	return 0;
}

int ingest_reply_body(struct ingest_reply *r, const char *data, size_t len)
{
	size_t room = sizeof(r->body) - 1 - r->body_len;

	memcpy(r->body + r->body_len, data, len < room ? len : room);
	r->body_len += len < room ? len : room;
	if (r->body_cut || len > INGEST_REPLY_BODY_MAX - r->body_bytes) {
		r->body_cut = true;
		return -E2BIG;
	}
	r->body_bytes += len;
	return 0;
}

/* text[0..len) as one printable line, or fallback when it is blank. */
static void set_message(struct ingest_result *res, const char *text, size_t len,
			const char *fallback)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n < sizeof(res->message) - 1; i++) {
		unsigned char ch = (unsigned char)text[i];

		res->message[n++] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
	}
	while (n && res->message[n - 1] == ' ')
		n--;
	res->message[n] = '\0';
	if (!n)
		snprintf(res->message, sizeof(res->message), "%s", fallback);
}

static enum ingest_status classify(long status)
{
	if (status >= 200 && status < 300)
		return INGEST_OK;
	if (status >= 400 && status < 500 && status != 408 && status != 429)
		return INGEST_REJECTED;
	return INGEST_RETRY;
}

void ingest_reply_result(const struct ingest_reply *r, long http_status, const char *error,
			 int64_t now_s, struct ingest_result *res)
{
	memset(res, 0, sizeof(*res));
	if (r->header_cut) {
		res->status = INGEST_RETRY;
		snprintf(res->message, sizeof(res->message),
			 "the answer's header block is over %u KiB: stopped reading",
			 INGEST_REPLY_HEADER_MAX >> 10);
		return;
	}
	if (!http_status) {
		res->status = INGEST_RETRY;
		set_message(res, error ? error : "", error ? strlen(error) : 0, "no answer");
		return;
	}
	res->http_status = http_status;
	res->status = classify(http_status);
	if (res->status == INGEST_RETRY && r->retry_after_len &&
	    (r->retry_after_len > sizeof(r->retry_after) ||
	     ingest_parse_retry_after(r->retry_after, r->retry_after_len, now_s,
				      &res->retry_after_s)))
		res->retry_after_s = 0;
	set_message(res, r->body, r->body_len, res->status == INGEST_OK ? "" : "(no message)");
}
