/* report.c - `bpfprof report`: its options and --help; the table is
 * analysis/report.c's.
 */
#include "commands.h"

#include <stdio.h>
#include <string.h>

#include "analysis_args.h"
#include "args.h"
#include "log.h"
#include "report.h"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: bpfprof report [OPTIONS] FILE|DIR...\n"
"\n"
"The functions that took the most, from pprof profiles: bpfprof's, an agent's\n"
"directory of them, Go's runtime/pprof, or any other valid pprof (gzipped or\n"
"not). Several inputs are merged. As `go tool pprof -top`: flat is what a\n"
"function took itself, cum what it took with all it called; percentages are\n"
"of the total of the samples selected.\n"
"\n"
"Options:\n"
"  -n, --top N           the first N rows (default 20; 0: all)\n"
"  --format FORMAT       text (default: pprof's table), json, or folded\n"
"                        (collapsed stacks, 'root;caller;callee VALUE' per\n"
"                        line, for flamegraph.pl and inferno)\n"
"  --sort flat|cum       order of the rows (default flat, as pprof -top)\n");
	analysis_args_usage(f);
	fprintf(f,
"  -h, --help            show this help\n"
"\n"
"Exit status: 0, or 2 when an input cannot be read (one line says why).\n"
"\n"
"Examples:\n"
"  bpfprof report profile.pb.gz\n"
"  bpfprof report --service nginx --from -1h /var/lib/bpfprof/profiles\n"
"  bpfprof report --format folded profile.pb.gz | flamegraph.pl > fg.svg\n"
"  bpfprof report --tag comm=postgres --lines -n 50 profile.pb.gz\n");
}

int report_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "top", required_argument, NULL, 'n' },
		{ "format", required_argument, NULL, 'f' },
		{ "sort", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		ANALYSIS_LONGOPTS,
		{ 0 },
	};
	struct report_opts ro = { .sz = sizeof(ro), .top = 20 };
	struct analysis_args a;
	struct analysis_input in = { 0 };
	int opt, err = 0;
	long top;

	analysis_args_init(&a);
	opterr = 0;
	optind = 1;
	while (!err && (opt = getopt_long(argc, argv, ":n:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			if (args_number(optarg, 0, 1L << 30, &top))
				err = usage_error("report", "invalid --top '%s' (a count, 0: all)", optarg);
			ro.top = (size_t)top;
			break;
		case 'f':
			if (!strcmp(optarg, "text"))
				ro.format = REPORT_TEXT;
			else if (!strcmp(optarg, "json"))
				ro.format = REPORT_JSON;
			else if (!strcmp(optarg, "folded"))
				ro.format = REPORT_FOLDED;
			else
				err = usage_error("report", "invalid format '%s' (text, json or folded)",
						  optarg);
			break;
		case 's':
			if (strcmp(optarg, "flat") && strcmp(optarg, "cum"))
				err = usage_error("report", "invalid --sort '%s' (flat or cum)", optarg);
			ro.by_cum = !strcmp(optarg, "cum");
			break;
		case 'h':
			usage(stdout);
			analysis_args_free(&a);
			return 0;
		default:
			err = analysis_args_parse(&a, opt, optarg, argv[optind - 1], "report");
			break;
		}
	}
	if (!err)
		err = analysis_args_load(&a, argv + optind, argc - optind, &in, "report");
	if (!err) {
		ro.type = in.loader.type;
		ro.unit = in.loader.unit;
		int ret = report_write(stdout, &in.frames, &in.list, &ro);

		if (ret) {
			log_error("report: %s", strerror(-ret));
			err = 1;
		}
	}
	analysis_input_free(&in);
	analysis_args_free(&a);
	return err;
}
