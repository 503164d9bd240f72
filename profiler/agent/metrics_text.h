/* metrics_text.h - build the Prometheus text exposition format (0.0.4).
 *
 *   # HELP bpfprof_uploads_total Profiles sent to Pyroscope.
 *   # TYPE bpfprof_uploads_total counter
 *   bpfprof_uploads_total 42
 *   bpfprof_spool_bytes{dir="/var/lib/bpfprof"} 12345678901
 *
 * The text grows in one heap buffer, NUL-terminated after every call. An
 * allocation failure is sticky: t->err becomes -ENOMEM, later calls do
 * nothing, and the caller checks t->err once after writing everything.
 *
 * Names (metric and label) come from our code, not from users, and are not
 * checked: they must match [a-zA-Z_:][a-zA-Z0-9_:]*. HELP text and label
 * values are escaped as the format requires (\\ and \n, and \" in label
 * values). Integral values up to 1e18 print as integers (12345678901,
 * never 1.2345678901e+10); others in the shortest %g form that reads back
 * as the same double; NaN and infinities as NaN, +Inf and -Inf.
 */
#ifndef BPFPROF_METRICS_TEXT_H
#define BPFPROF_METRICS_TEXT_H

#include <stddef.h>

struct metrics_text {
	char *buf; /* NULL until something is written */
	size_t len, cap;
	int err;   /* 0 or -ENOMEM */
};

void metrics_text_init(struct metrics_text *t);
void metrics_text_free(struct metrics_text *t);

/* "# HELP name help" and "# TYPE name type"; type is "counter" or "gauge". */
void metrics_text_family(struct metrics_text *t, const char *name,
			 const char *type, const char *help);

/* "name value" or, with a label_name, "name{label_name="label_value"} value". */
void metrics_text_sample(struct metrics_text *t, const char *name,
			 const char *label_name, const char *label_value,
			 double value);

#endif
