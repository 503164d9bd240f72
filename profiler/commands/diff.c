/* diff.c - `bpfprof diff`: its options and --help; the comparison is
 * analysis/diff.c's, the differential flame graph analysis/flamegraph.c's.
 */
#include "commands.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_args.h"
#include "args.h"
#include "call_tree.h"
#include "diff.h"
#include "flamegraph.h"
#include "log.h"

#define MAX_RUNS 1000

static void usage(FILE *f)
{
	fprintf(f,
"Usage: bpfprof diff [OPTIONS] BASE NEW\n"
"       bpfprof diff [OPTIONS] --base BASE... --new NEW...\n"
"\n"
"What changed from BASE to NEW (pprof files, or directories merged): each\n"
"function's flat and cumulative share of its side's total, in percentage\n"
"points, the largest changes first, and a verdict for CI: regression when a\n"
"function's cumulative share grew by more than the threshold.\n"
"\n"
"With several runs a side (--base and --new, each followed by 2 or more\n"
"files or directories, one run each), a change is called only beyond the\n"
"runs' spread: Welch's t-test per function (share >= 1%% on a side), p\n"
"adjusted for the number of functions tested (Holm); the verdict is\n"
"regression, improvement, inconclusive (a move past the threshold the runs\n"
"cannot tell from noise) or no change. docs/usage.md explains the method.\n"
"\n"
"Options:\n"
"  --threshold POINTS    the change that counts, in points of share (default\n"
"                        5 with one run a side; 2 with several, where noise\n"
"                        is measured)\n"
"  --alpha P             several runs: the chance of calling any unchanged\n"
"                        function changed (default 0.01)\n"
"  --format FORMAT       text (default), markdown (for a CI job summary) or\n"
"                        json\n"
"  -n, --top N           rows besides the called ones (default 20; 0: all)\n"
"  --flamegraph FILE     also write a differential flame graph: NEW's shape,\n"
"                        red where a path's share grew, blue where it shrank\n"
"  --file-mode MODE      of that page: 0600 (default), 0640 or 0644\n");
	analysis_args_usage(f);
	fprintf(f,
"  -h, --help            show this help\n"
"\n"
"Exit status: 0 (no regression), 1 (regression), 2 (usage error or an input\n"
"that cannot be read: one line says why).\n"
"\n"
"Examples:\n"
"  bpfprof diff base.pb.gz new.pb.gz\n"
"  bpfprof diff --format markdown base.pb.gz new.pb.gz >> \"$GITHUB_STEP_SUMMARY\"\n"
"  bpfprof diff --base b1.pb.gz b2.pb.gz b3.pb.gz --new n1.pb.gz n2.pb.gz n3.pb.gz\n"
"  bpfprof diff --flamegraph diff.html base.pb.gz new.pb.gz\n");
}

struct diff_cmd {
	char **base, **new_paths; /* runs of --base / --new */
	int nbase, nnew;
	double threshold, alpha;
	struct diff_write_opts wo;
	const char *flamegraph;
	unsigned mode;
};

/* Takes --base X... and --new Y... out of argv (getopt cannot give an
 * option several values) into c, leaving the rest in rest[0 .. *nrest). */
static int split_runs(int argc, char **argv, struct diff_cmd *c, char **rest, int *nrest)
{
	char ***side = NULL;
	int *count = NULL;

	*nrest = 0;
	for (int i = 0; i < argc; i++) {
		if (i > 0 && !strcmp(argv[i], "--")) {
			while (i < argc)
				rest[(*nrest)++] = argv[i++];
			break;
		}
		if (i > 0 && (!strcmp(argv[i], "--base") || !strcmp(argv[i], "--new"))) {
			bool b = !strcmp(argv[i], "--base");

			if (b ? c->base : c->new_paths)
				return usage_error("diff", "%s given twice", argv[i]);
			side = b ? &c->base : &c->new_paths;
			count = b ? &c->nbase : &c->nnew;
			*side = argv + i + 1;
			continue;
		}
		if (side && argv[i][0] != '-') {
			(*count)++;
			continue;
		}
		if (side && !*count)
			return usage_error("diff", "no file after %s", side == &c->base ? "--base" : "--new");
		side = NULL;
		rest[(*nrest)++] = argv[i];
	}
	if (side && !*count)
		return usage_error("diff", "no file after %s", side == &c->base ? "--base" : "--new");
	return 0;
}

/* Reads each run of one side into runs[i] (one list per path). */
static int read_runs(struct analysis_input *in, char **paths, int n, struct stack_list *runs)
{
	for (int i = 0; i < n; i++) {
		int err = analysis_args_add(in, paths + i, 1, &runs[i]);

		if (err)
			return err;
	}
	return 0;
}

static int diff_page(struct diff_cmd *c, struct analysis_input *in, const struct stack_list *base,
		     const struct stack_list *new_runs)
{
	struct stack_list b = { 0 }, n = { 0 };
	struct call_tree tree = { 0 };
	char title[1024], paths[900];
	int err = 0;

	for (int i = 0; !err && i < c->nbase; i++)
		err = stack_list_merge(&b, &base[i]);
	for (int i = 0; !err && i < c->nnew; i++)
		err = stack_list_merge(&n, &new_runs[i]);
	if (!err && !(err = call_tree_build(&tree, &n)))
		err = call_tree_add_base(&tree, &b);
	if (err) {
		log_error("diff: %s", strerror(-err));
		err = 2;
	} else {
		analysis_inputs_title(paths, sizeof(paths), c->new_paths, c->nnew);
		snprintf(title, sizeof(title), "bpfprof diff: %s (against %d base profile%s)", paths,
			 c->nbase, c->nbase == 1 ? "" : "s");
		struct flamegraph_opts fo = { .sz = sizeof(fo), .title = title, .type = in->loader.type,
					      .unit = in->loader.unit };
		err = analysis_write_flamegraph(c->flamegraph, c->mode, &in->frames, &tree, &fo, "diff")
			      ? 2 : 0;
	}
	call_tree_free(&tree);
	stack_list_free(&b);
	stack_list_free(&n);
	return err;
}

static int run(struct diff_cmd *c, struct analysis_args *a)
{
	struct analysis_input in = { 0 };
	struct stack_list *base = calloc((size_t)c->nbase, sizeof(*base));
	struct stack_list *new_runs = calloc((size_t)c->nnew, sizeof(*new_runs));
	struct diff_result r = { 0 };
	int err;

	if (!base || !new_runs) {
		free(base);
		free(new_runs);
		log_error("diff: %s", strerror(ENOMEM));
		return 2;
	}
	/* The first base run through the loader settles the sample type. */
	err = analysis_args_load(a, c->base, 1, &in, "diff");
	if (!err) {
		base[0] = in.list; /* moved: in.list is left empty */
		in.list = (struct stack_list){ 0 };
		err = read_runs(&in, c->base + 1, c->nbase - 1, base + 1);
	}
	if (!err)
		err = read_runs(&in, c->new_paths, c->nnew, new_runs);
	if (!err) {
		struct diff_opts o = { .sz = sizeof(o), .threshold = c->threshold, .alpha = c->alpha };

		if (diff_compute(&in.frames, base, (size_t)c->nbase, new_runs, (size_t)c->nnew, &o, &r)) {
			log_error("diff: %s", strerror(ENOMEM));
			err = 2;
		}
	}
	if (!err && c->flamegraph)
		err = diff_page(c, &in, base, new_runs);
	if (!err) {
		c->wo.type = in.loader.type;
		c->wo.nbase = (size_t)c->nbase;
		c->wo.nnew = (size_t)c->nnew;
		if (diff_write(stdout, &in.frames, &r, &c->wo)) {
			log_error("diff: %s", strerror(EIO));
			err = 2;
		} else {
			err = r.verdict == DIFF_REGRESSION;
		}
	}
	diff_result_free(&r);
	for (int i = 0; i < c->nbase; i++)
		stack_list_free(&base[i]);
	for (int i = 0; i < c->nnew; i++)
		stack_list_free(&new_runs[i]);
	free(base);
	free(new_runs);
	analysis_input_free(&in);
	return err;
}

static int parse_share(const char *arg, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !(v > min) || !(v < max))
		return -EINVAL;
	*out = v;
	return 0;
}

int diff_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "threshold", required_argument, NULL, 't' },
		{ "alpha", required_argument, NULL, 'a' },
		{ "format", required_argument, NULL, 'f' },
		{ "top", required_argument, NULL, 'n' },
		{ "flamegraph", required_argument, NULL, 'g' },
		{ "file-mode", required_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		ANALYSIS_LONGOPTS,
		{ 0 },
	};
	struct diff_cmd c = { .alpha = 0.01, .mode = ARGS_DEFAULT_FILE_MODE,
			      .wo = { .sz = sizeof(c.wo), .top = 20 } };
	struct analysis_args a;
	char **rest = calloc((size_t)argc + 1, sizeof(*rest));
	int nrest, opt, err;
	long top;

	if (!rest)
		return 2;
	analysis_args_init(&a);
	err = split_runs(argc, argv, &c, rest, &nrest);
	opterr = 0;
	optind = 1;
	while (!err && (opt = getopt_long(nrest, rest, ":n:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 't':
			if (parse_share(optarg, 0, 100, &c.threshold))
				err = usage_error("diff", "invalid --threshold '%s' (points, above 0, below 100)",
						  optarg);
			break;
		case 'a':
			if (parse_share(optarg, 0, 0.5, &c.alpha))
				err = usage_error("diff", "invalid --alpha '%s' (above 0, below 0.5)", optarg);
			break;
		case 'f':
			if (!strcmp(optarg, "text"))
				c.wo.format = DIFF_TEXT;
			else if (!strcmp(optarg, "markdown"))
				c.wo.format = DIFF_MARKDOWN;
			else if (!strcmp(optarg, "json"))
				c.wo.format = DIFF_JSON;
			else
				err = usage_error("diff", "invalid format '%s' (text, markdown or json)", optarg);
			break;
		case 'n':
			if (args_number(optarg, 0, 1L << 30, &top))
				err = usage_error("diff", "invalid --top '%s' (a count, 0: all)", optarg);
			c.wo.top = (size_t)top;
			break;
		case 'g':
			if (!*optarg)
				err = usage_error("diff", "empty --flamegraph path%s", "");
			c.flamegraph = optarg;
			break;
		case 'W':
			if (args_file_mode(optarg, &c.mode))
				err = usage_error("diff", ARGS_FILE_MODE_ERROR, optarg);
			break;
		case 'h':
			usage(stdout);
			free(rest);
			analysis_args_free(&a);
			return 0;
		default:
			err = analysis_args_parse(&a, opt, optarg, rest[optind - 1], "diff");
			break;
		}
	}
	if (!err && (c.base || c.new_paths)) {
		if (!c.base || !c.new_paths)
			err = usage_error("diff", "%s needs its other side", c.base ? "--base" : "--new");
		else if (optind < nrest)
			err = usage_error("diff", "'%s': give the files after --base and --new", rest[optind]);
		else if (c.nbase > MAX_RUNS || c.nnew > MAX_RUNS)
			err = usage_error("diff", "too many runs (at most %s a side)", "1000");
	} else if (!err) {
		if (nrest - optind != 2)
			err = usage_error("diff", "give BASE and NEW (or --base ... --new ...)%s", "");
		c.base = rest + optind;
		c.new_paths = rest + optind + 1;
		c.nbase = c.nnew = 1;
	}
	if (!err && !c.threshold)
		c.threshold = c.nbase >= 2 && c.nnew >= 2 ? 2 : 5;
	if (!err)
		err = run(&c, &a);
	free(rest);
	analysis_args_free(&a);
	return err;
}
