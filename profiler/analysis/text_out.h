/* text_out.h - how the analysis commands write values and names.
 *
 * One place for what report, diff and the flame graph all print: a value
 * in its unit as `go tool pprof` shows it (1.23s, 45.60ms, 1.5MB, 1234),
 * a string as JSON, and a frame's label (its name, and file:line when the
 * analysis is by line).
 */
#ifndef BPFPROF_TEXT_OUT_H
#define BPFPROF_TEXT_OUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "frame_table.h"

/* v in unit ("nanoseconds", "bytes", "count", ...) into buf. */
void format_value(char *buf, size_t size, int64_t v, const char *unit);

/* s as a JSON string, quotes included; controls escaped, bytes that are
 * not UTF-8 replaced by U+FFFD, '<' escaped (it may be in a page). */
void json_write_string(FILE *out, const char *s);

/* The label of frame f: "name", or "name file:line" by line. */
void frame_label(char *buf, size_t size, const struct frame *f);

#endif
