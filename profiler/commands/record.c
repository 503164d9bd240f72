/* record.c - `bpfprof record`: its options and --help; the session they
 * configure is session/recording.c.
 */
#include "commands.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis_args.h"
#include "args.h"
#include "log.h"
#include "recording.h"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: bpfprof record [OPTIONS] [-- COMMAND [ARGS...]]\n"
"\n"
"Sample the CPU stacks (kernel and user) of every process on the machine, of\n"
"the given pids, or of COMMAND and all its descendants, and write a gzipped\n"
"pprof profile readable by `go tool pprof`, Pyroscope and flame-graph tools.\n"
"\n"
"Recording ends when the duration is over, when COMMAND exits (bpfprof then\n"
"exits with its status), or on SIGINT/SIGTERM (Ctrl-C).\n"
"\n"
"Options:\n"
"  -d, --duration TIME   stop after TIME: seconds (decimals allowed), or 500ms,\n"
"                        2m, 1h; default: until Ctrl-C, or until COMMAND exits\n"
"  -p, --pid PID[,PID]   only these processes (all their threads); not with\n"
"                        COMMAND\n"
"  -o, --output FILE     where to write the profile (default\n"
"                        bpfprof-YYYYmmdd-HHMMSS.pb.gz in the current\n"
"                        directory; '-' for standard output), created mode\n"
"                        0600 unless --file-mode says otherwise\n"
"  --flamegraph FILE     also write the profile's flame graph, a self-contained\n"
"                        HTML page (as `bpfprof flamegraph`), same mode\n");
	sampling_args_usage(f);
	fprintf(f,
"  -h, --help            show this help\n"
"\n"
"Needs root (or CAP_BPF and CAP_PERFMON) and a kernel with BTF.\n"
"\n"
"Examples:\n"
"  bpfprof record -d 10 -o machine.pb.gz && go tool pprof -top machine.pb.gz\n"
"  bpfprof record -o build.pb.gz -- make -j2\n"
"  bpfprof record -d 10 --flamegraph flame.html   # then open flame.html\n"
"  bpfprof record -p 1234 -d 30\n");
}

static int parse_pids(const char *list, struct recording_args *a)
{
	char *copy = strdup(list), *save = NULL, *tok;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		long pid;

		if (args_number(tok, 1, 0x3fffffff, &pid)) {
			err = usage_error("record", "invalid pid '%s'", tok);
			break;
		}
		if (kill((pid_t)pid, 0) && errno == ESRCH) {
			log_error("no process with pid %ld", pid);
			err = 1;
			break;
		}
		if (a->npids == RECORDING_MAX_PIDS) {
			err = usage_error("record", "too many pids (at most %s)", "1024");
			break;
		}
		a->pids[a->npids++] = (pid_t)pid;
	}
	if (!err && a->npids == 0)
		err = usage_error("record", "no pid in '%s'", list);
	free(copy);
	return err;
}

static const char *flamegraph_path; /* --flamegraph */

/* record's on_written: the flame graph of the profile just written. */
static int write_flamegraph(const uint8_t *profile, size_t len, void *ctx)
{
	const struct recording_args *a = ctx;
	struct analysis_input in;
	struct call_tree tree = { 0 };
	int err = analysis_load_bytes(a->output, profile, len, &in);

	if (!err && call_tree_build(&tree, &in.list)) {
		log_error("flame graph: %s", strerror(ENOMEM));
		err = 1;
	}
	if (!err) {
		struct flamegraph_opts fo = { .sz = sizeof(fo), .title = a->output,
					      .type = in.loader.type, .unit = in.loader.unit };

		err = analysis_write_flamegraph(flamegraph_path, a->sampling.file_mode, &in.frames,
						&tree, &fo, "record");
		if (!err)
			log_info("wrote the flame graph %s", flamegraph_path);
	}
	call_tree_free(&tree);
	analysis_input_free(&in);
	return err;
}

/* Returns 0, or the exit status for a usage error (-1 after --help). The
 * default output's name is written into default_output. */
static int parse_args(int argc, char **argv, struct recording_args *a, char *default_output,
		      size_t size)
{
	static const struct option longopts[] = {
		{ "duration", required_argument, NULL, 'd' },
		{ "pid", required_argument, NULL, 'p' },
		{ "output", required_argument, NULL, 'o' },
		{ "flamegraph", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		SAMPLING_LONGOPTS,
		{ 0 },
	};
	int opt, err;

	sampling_args_init(&a->sampling);
	opterr = 0;
	optind = 1;
	/* '+': stop at the first non-option, the command. */
	while ((opt = getopt_long(argc, argv, "+:F:d:p:o:vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			if (args_duration(optarg, 1e7, &a->duration_s))
				return usage_error("record", "invalid duration '%s' (seconds, > 0; "
						   "or 500ms, 2m, 1h)", optarg);
			break;
		case 'p':
			err = parse_pids(optarg, a);
			if (err)
				return err;
			break;
		case 'o':
			if (!*optarg)
				return usage_error("record", "empty output path%s", "");
			a->output = optarg;
			break;
		case 'g':
			if (!*optarg)
				return usage_error("record", "empty --flamegraph path%s", "");
			a->on_written = write_flamegraph;
			a->on_written_ctx = a;
			flamegraph_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			err = sampling_args_parse(&a->sampling, opt, optarg, argv[optind - 1], "record");
			if (err)
				return err;
			break;
		}
	}
	if (optind < argc)
		a->command = &argv[optind];
	if (a->command && a->npids)
		return usage_error("record", "-p and a command exclude each other%s", "");
	if (!a->output) {
		time_t now = time(NULL);
		struct tm tm;

		strftime(default_output, size, "bpfprof-%Y%m%d-%H%M%S.pb.gz", localtime_r(&now, &tm));
		a->output = default_output;
	}
	return 0;
}

int record_main(int argc, char **argv)
{
	static struct recording_args a; /* large: pid list */
	static char default_output[64];
	int err = parse_args(argc, argv, &a, default_output, sizeof(default_output));

	if (err)
		return err < 0 ? 0 : err;
	return recording_run(&a);
}
