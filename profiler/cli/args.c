/* args.c - see args.h. */
#include "args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

int usage_error(const char *cmd, const char *fmt, const char *arg)
{
	char msg[2048];

	snprintf(msg, sizeof(msg), fmt, arg);
	/* One event: two lines in text, one object in JSON. */
	log_error("%s\nTry 'bpfprof %s --help'.", msg, cmd);
	return 2;
}

int args_number(const char *arg, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end || end == arg || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int args_duration(const char *arg, double max_s, double *seconds)
{
	static const struct { const char *unit; double seconds; } units[] = {
		{ "ms", 1e-3 }, { "s", 1 }, { "m", 60 }, { "h", 3600 }, { "", 1 },
	};
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || !(v > 0))
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (!strcmp(end, units[i].unit)) {
			v *= units[i].seconds;
			if (!(v <= max_s))
				return -EINVAL;
			*seconds = v;
			return 0;
		}
	}
	return -EINVAL;
}

int args_file_mode(const char *arg, unsigned *mode)
{
	const unsigned long widest = 0644;
	char *end;
	unsigned long m;

	errno = 0;
	m = strtoul(arg, &end, 8);
	if (errno || *end || end == arg || arg[0] == '-' || (m & ~widest) ||
	    (m & ARGS_DEFAULT_FILE_MODE) != ARGS_DEFAULT_FILE_MODE)
		return -EINVAL;
	*mode = (unsigned)m;
	return 0;
}

int args_log_format(const char *cmd, const char *arg)
{
	if (!strcmp(arg, "json"))
		log_set_format(LOG_FORMAT_JSON);
	else if (!strcmp(arg, "text"))
		log_set_format(LOG_FORMAT_TEXT);
	else
		return usage_error(cmd, "invalid log format '%s' (text or json)", arg);
	return 0;
}

int args_unhandled(const char *cmd, int opt, const char *text)
{
	if (opt == ':')
		return usage_error(cmd, "option '%s' needs a value", text);
	return usage_error(cmd, "unknown option '%s'", text);
}
