/* args.h - what the subcommands' option parsers share.
 *
 * One usage error (the message and the --help hint, as one log event), and
 * one parser each for whole numbers, durations and file modes, so every
 * flag that takes one accepts the same spellings and refuses the same garbage: no sign
 * where none is allowed, no trailing text, no overflow.
 */
#ifndef BPFPROF_ARGS_H
#define BPFPROF_ARGS_H

/* Logs "<fmt with arg>" and the --help hint for cmd as one error, in the
 * log format chosen so far (an option before --log-format is parsed with
 * the default, text); returns 2, the exit status of a usage error. */
int usage_error(const char *cmd, const char *fmt, const char *arg);

/* A whole decimal number in [min, max] into *out: 0, or -EINVAL. */
int args_number(const char *arg, long min, long max, long *out);

/* "10s", "500ms", "2m", "1h" or plain seconds (fractions allowed), more
 * than 0 and at most max_s, into *seconds: 0, or -EINVAL. */
int args_duration(const char *arg, double max_s, double *seconds);

/* --log-format FORMAT: text or json, set for the rest of the run: 0, or 2
 * after a usage error naming cmd. */
int args_log_format(const char *cmd, const char *arg);

/* What getopt_long returned that no parser took: ':' (an option without
 * its value) or an unknown option, text as typed: the usage error (2). */
int args_unhandled(const char *cmd, int opt, const char *text);

/* What a --file-mode may be: profiles and pages name every user's
 * processes, binaries and functions, so 0600 unless widened to 0640 or
 * 0644 (never group or other write or execute, no special bits). */
#define ARGS_DEFAULT_FILE_MODE 0600
#define ARGS_FILE_MODE_ERROR \
	"invalid file mode '%s' (octal, from 0600 to 0644: group and others may read at most)"

/* An octal --file-mode within those bounds into *mode: 0, or -EINVAL. */
int args_file_mode(const char *arg, unsigned *mode);

#endif
