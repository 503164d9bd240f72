/* analysis_args.h - the options `report`, `flamegraph` and `diff` share.
 *
 * Which profiles and samples an analysis reads (sample type, focus and
 * ignore regexes, tags, service, time window) and at what granularity
 * (--lines): parsed and explained in --help the same way by the three
 * commands, and turned into a loaded stack list in one place, which turns
 * every input error into one line and exit status 2.
 */
#ifndef BPFPROF_ANALYSIS_ARGS_H
#define BPFPROF_ANALYSIS_ARGS_H

#include <getopt.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>

#include "call_tree.h"
#include "flamegraph.h"
#include "frame_table.h"
#include "profile_load.h"
#include "stack_list.h"

#define ANALYSIS_MAX_TAGS 64

struct analysis_args {
	struct profile_load_opts load;
	bool lines;
	regex_t focus, ignore;
	struct profile_tag tags[ANALYSIS_MAX_TAGS];
};

/* getopt_long entries for the shared options (no short ones). */
#define ANALYSIS_LONGOPTS                                                      \
	{ "sample-type", required_argument, NULL, 0x100 },                     \
	{ "focus", required_argument, NULL, 0x101 },                           \
	{ "ignore", required_argument, NULL, 0x102 },                          \
	{ "tag", required_argument, NULL, 0x103 },                             \
	{ "lines", no_argument, NULL, 0x104 },                                 \
	{ "service", required_argument, NULL, 0x105 },                         \
	{ "from", required_argument, NULL, 0x106 },                            \
	{ "until", required_argument, NULL, 0x107 },                           \
	{ "log-format", required_argument, NULL, 0x108 }

void analysis_args_init(struct analysis_args *a);
void analysis_args_free(struct analysis_args *a);

/* Handles a getopt_long result the command did not: a shared option, or
 * the errors ':' and '?'. text is the option as typed (argv[optind - 1]).
 * 0, or 2 after a usage error naming cmd. */
int analysis_args_parse(struct analysis_args *a, int opt, const char *arg, const char *text,
			const char *cmd);

/* The --help lines of the shared options. */
void analysis_args_usage(FILE *f);

/* What a command reads: the frames, the reader that settles the sample
 * type, and the stacks of the inputs. */
struct analysis_input {
	struct frame_table frames;
	struct profile_loader loader;
	struct stack_list list;
};

/* Reads paths[0 .. n) into in (zeroed here; freed by the caller even on
 * failure), frames by line if --lines: 0, or 2 after logging one line (no
 * path, an unreadable or invalid file, nothing selected). cmd names the
 * command in a usage error. */
int analysis_args_load(struct analysis_args *a, char *const *paths, int n,
		       struct analysis_input *in, const char *cmd);

/* Adds paths[0 .. n) to *list with in's frames and loader (a diff's other
 * side): as above. */
int analysis_args_add(struct analysis_input *in, char *const *paths, int n,
		      struct stack_list *list);

/* Reads one profile's bytes (record's, just built; name shown in errors)
 * into in, every sample selected: 0, or 2 after logging one line. */
int analysis_load_bytes(const char *name, const void *buf, size_t len, struct analysis_input *in);

void analysis_input_free(struct analysis_input *in);

/* "a.pb.gz b.pb.gz ..." of the inputs, for a page's title. */
void analysis_inputs_title(char *buf, size_t size, char *const *paths, int n);

/* Writes the flame graph page of tree (analysis/flamegraph.h) to path
 * ('-': standard output) with mode, atomically (export/atomic_file.h): 0,
 * or 1 after logging why it could not be written. */
int analysis_write_flamegraph(const char *path, unsigned mode, const struct frame_table *frames,
			      const struct call_tree *tree, const struct flamegraph_opts *opts,
			      const char *cmd);

#endif
