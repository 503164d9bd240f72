/* flamegraph.c - `bpfprof flamegraph`: its options and --help; the page is
 * analysis/flamegraph.c's.
 */
#include "commands.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "analysis_args.h"
#include "args.h"
#include "call_tree.h"
#include "flamegraph.h"
#include "log.h"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: bpfprof flamegraph [OPTIONS] FILE|DIR... -o OUT.html\n"
"\n"
"A flame graph of pprof profiles (bpfprof's, an agent's directory, Go's, any\n"
"valid pprof), merged, as one self-contained HTML page: it loads nothing from\n"
"anywhere and opens offline. Width is the share of samples; hover a frame for\n"
"its function, file:line, value and share; click to zoom (Escape or 'Reset\n"
"zoom' to go back); search highlights matching functions and shows their\n"
"total share; 'Icicle' puts the root on top. Colours are stable per function\n"
"and tell kernel, native, JIT and interpreter frames apart.\n"
"\n"
"Options:\n"
"  -o, --output FILE     the page to write (required; '-' for standard\n"
"                        output), created mode 0600 unless --file-mode says\n"
"                        otherwise, replaced atomically\n"
"  --title TEXT          the page's heading (default: the inputs' names)\n"
"  --file-mode MODE      0600 (default), 0640 or 0644\n");
	analysis_args_usage(f);
	fprintf(f,
"  -h, --help            show this help\n"
"\n"
"Exit status: 0, 1 when the page cannot be written, 2 for a usage error or an\n"
"input that cannot be read (one line says why).\n"
"\n"
"Examples:\n"
"  bpfprof flamegraph profile.pb.gz -o flame.html\n"
"  bpfprof flamegraph --service api --from -1h /var/lib/bpfprof/profiles -o api.html\n");
}

int flamegraph_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "title", required_argument, NULL, 't' },
		{ "file-mode", required_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		ANALYSIS_LONGOPTS,
		{ 0 },
	};
	struct flamegraph_opts fo = { .sz = sizeof(fo) };
	const char *output = NULL;
	unsigned mode = ARGS_DEFAULT_FILE_MODE;
	struct analysis_args a;
	struct analysis_input in = { 0 };
	struct call_tree tree = { 0 };
	char title[1024];
	int opt, err = 0;

	analysis_args_init(&a);
	opterr = 0;
	optind = 1;
	while (!err && (opt = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			if (!*optarg)
				err = usage_error("flamegraph", "empty output path%s", "");
			output = optarg;
			break;
		case 't':
			fo.title = optarg;
			break;
		case 'W':
			if (args_file_mode(optarg, &mode))
				err = usage_error("flamegraph", ARGS_FILE_MODE_ERROR, optarg);
			break;
		case 'h':
			usage(stdout);
			analysis_args_free(&a);
			return 0;
		default:
			err = analysis_args_parse(&a, opt, optarg, argv[optind - 1], "flamegraph");
			break;
		}
	}
	if (!err && !output && optind < argc)
		err = usage_error("flamegraph", "no output page given (-o OUT.html)%s", "");
	if (!err)
		err = analysis_args_load(&a, argv + optind, argc - optind, &in, "flamegraph");
	if (!err && call_tree_build(&tree, &in.list)) {
		log_error("flamegraph: %s", strerror(ENOMEM));
		err = 1;
	}
	if (!err) {
		if (!fo.title) {
			analysis_inputs_title(title, sizeof(title), argv + optind, argc - optind);
			fo.title = title;
		}
		fo.type = in.loader.type;
		fo.unit = in.loader.unit;
		err = analysis_write_flamegraph(output, mode, &in.frames, &tree, &fo, "flamegraph");
	}
	call_tree_free(&tree);
	analysis_input_free(&in);
	analysis_args_free(&a);
	return err;
}
