/* sampling_args.h - the options `record` and `agent` share.
 *
 * How to sample (rate, unwinding, the idle task), how to symbolize
 * (debuginfod, cache cap), how to log and the mode of the profiles written:
 * parsed, checked and explained in --help the same way by both commands,
 * and turned into the sampler's and the collector's options in one place.
 *
 * --file-mode: profiles name every user's processes, binaries and
 * functions, so they are 0600 (and directories made for them 0700) unless
 * widened: to 0640 (the file's group may read) or 0644 (anyone may), never
 * further - no write or execute bit for group or others, no special bits,
 * and the owner keeps read and write.
 */
#ifndef BPFPROF_SAMPLING_ARGS_H
#define BPFPROF_SAMPLING_ARGS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "args.h"
#include "collector.h"
#include "sampler.h"

struct sampling_args {
	int freq_hz;
	bool include_idle;
	enum bpfprof_unwind unwind;
	uint32_t snapshot_kb;
	const char *debuginfod_urls; /* NULL: $DEBUGINFOD_URLS */
	size_t cache_mb;
	unsigned file_mode; /* of the profiles written */
	uint32_t max_keys;   /* 0: the BPF maps' defaults (bpf/profile.h) */
	uint32_t max_stacks;
};

/* getopt_long entries for the shared options (short ones: F, v). */
#define SAMPLING_LONGOPTS                                                      \
	{ "frequency", required_argument, NULL, 'F' },                         \
	{ "include-idle", no_argument, NULL, 'I' },                            \
	{ "unwind", required_argument, NULL, 'U' },                            \
	{ "snapshot-kb", required_argument, NULL, 'S' },                       \
	{ "debuginfod", required_argument, NULL, 'D' },                        \
	{ "symbolizer-cache-mb", required_argument, NULL, 'C' },               \
	{ "log-format", required_argument, NULL, 'G' },                        \
	{ "file-mode", required_argument, NULL, 'W' },                         \
	{ "max-keys", required_argument, NULL, 'K' },                          \
	{ "max-stacks", required_argument, NULL, 'Y' },                        \
	{ "verbose", no_argument, NULL, 'v' }

void sampling_args_init(struct sampling_args *a);

/* Handles a getopt_long result the command did not: a shared option, or
 * the errors ':' (no value) and '?' (unknown). text is the option as
 * typed (argv[optind - 1]). Returns 0, or 2 after printing a usage error
 * that names cmd (e.g. "record"). */
int sampling_args_parse(struct sampling_args *a, int opt, const char *arg,
			const char *text, const char *cmd);

/* The --help lines of the shared options. */
void sampling_args_usage(FILE *f);

/* Fills the sampler's and the collector's options from a. */
void sampling_args_apply(const struct sampling_args *a, struct sampler_opts *sopts,
			 struct collector_opts *copts);

#endif
