/* record.c - `bpfprof record`: parse flags, run one sampling session,
 * symbolize and write the profile.
 *
 * The session ends at the first of: the duration, the command's exit,
 * SIGINT/SIGTERM. In command mode a first signal is forwarded to the command
 * (bpfprof stops when it exits); a second one stops recording at once.
 */
#include "record.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "collector.h"
#include "command.h"
#include "log.h"
#include "pprof.h"
#include "preflight.h"
#include "sampler.h"

#define DEFAULT_FREQ_HZ 99
#define MAX_FREQ_HZ 10000
#define MAX_PIDS 1024
#define DEFAULT_CACHE_MB 256
#define DEFAULT_SNAPSHOT_KB 16
#define MAX_CACHE_MB (1024 * 1024)

struct record_args {
	int freq_hz;
	double duration_s; /* 0: until signal or command exit */
	pid_t pids[MAX_PIDS];
	size_t npids;
	const char *output;
	char default_output[64];
	bool include_idle;
	bool verbose;
	const char *debuginfod_urls; /* NULL: $DEBUGINFOD_URLS */
	size_t cache_mb;
	enum bpfprof_unwind unwind;
	uint32_t snapshot_kb;
	char **command; /* NULL-terminated, or NULL */
};

static volatile sig_atomic_t signals_received;
static volatile sig_atomic_t last_signal;

static void on_signal(int sig)
{
	signals_received++;
	last_signal = sig;
}

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
"  -F, --frequency HZ    samples per second on each CPU (default %d, max %d)\n"
"  -d, --duration SECS   stop after SECS seconds (decimals allowed); default:\n"
"                        until Ctrl-C, or until COMMAND exits\n"
"  -p, --pid PID[,PID]   only these processes (all their threads); not with\n"
"                        COMMAND\n"
"  -o, --output FILE     where to write the profile (default\n"
"                        bpfprof-YYYYmmdd-HHMMSS.pb.gz in the current\n"
"                        directory; '-' for standard output)\n"
"      --include-idle    also sample the idle task (pid 0), left out by default\n"
"      --unwind MODE     how user stacks are walked: 'dwarf' copies registers\n"
"                        and the stack's top and unwinds it with the binaries'\n"
"                        CFI (right without frame pointers, like most of\n"
"                        Debian); 'fp' follows frame pointers in the kernel\n"
"                        (cheaper; wrong for code built without them);\n"
"                        'auto' (default) is dwarf, falling back to frame\n"
"                        pointers for samples that find the snapshot ring full\n"
"      --snapshot-kb KB  user stack copied per sample in dwarf mode: 4, 8, 12\n"
"                        or 16 (default); deeper stacks end in [truncated]\n"
"      --debuginfod URLS fetch missing debug info from these debuginfod servers\n"
"                        (space-separated; default $DEBUGINFOD_URLS; '' for\n"
"                        none). Local debug files (/usr/lib/debug, by build-id\n"
"                        or .gnu_debuglink) are always used\n"
"      --symbolizer-cache-mb MB\n"
"                        cap on parsed symbol tables and debug info kept for\n"
"                        objects no running process uses (default %d)\n"
"  -v, --verbose         debug logging, including libbpf's\n"
"  -h, --help            show this help\n"
"\n"
"Needs root (or CAP_BPF and CAP_PERFMON) and a kernel with BTF.\n"
"\n"
"Examples:\n"
"  bpfprof record -d 10 -o machine.pb.gz && go tool pprof -top machine.pb.gz\n"
"  bpfprof record -o build.pb.gz -- make -j2\n"
"  bpfprof record -p 1234 -d 30\n",
		DEFAULT_FREQ_HZ, MAX_FREQ_HZ, DEFAULT_CACHE_MB);
}

static int bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "bpfprof: error: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'bpfprof record --help'.\n");
	return 2;
}

static int parse_pids(const char *list, struct record_args *a)
{
	char *copy = strdup(list), *save = NULL, *tok;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		long pid;

		errno = 0;
		pid = strtol(tok, &end, 10);
		if (errno || *end || end == tok || pid <= 0 || pid > 0x3fffffff) {
			err = bad_usage("invalid pid '%s'", tok);
			break;
		}
		if (kill((pid_t)pid, 0) && errno == ESRCH) {
			fprintf(stderr, "bpfprof: error: no process with pid %ld\n", pid);
			err = 1;
			break;
		}
		if (a->npids == MAX_PIDS) {
			err = bad_usage("too many pids (at most %s)", "1024");
			break;
		}
		a->pids[a->npids++] = (pid_t)pid;
	}
	if (!err && a->npids == 0)
		err = bad_usage("no pid in '%s'", list);
	free(copy);
	return err;
}

/* Returns 0, or the exit status for a usage error (-1 after --help). */
static int parse_args(int argc, char **argv, struct record_args *a)
{
	static const struct option longopts[] = {
		{ "frequency", required_argument, NULL, 'F' },
		{ "duration", required_argument, NULL, 'd' },
		{ "pid", required_argument, NULL, 'p' },
		{ "output", required_argument, NULL, 'o' },
		{ "include-idle", no_argument, NULL, 'I' },
		{ "debuginfod", required_argument, NULL, 'D' },
		{ "symbolizer-cache-mb", required_argument, NULL, 'C' },
		{ "unwind", required_argument, NULL, 'U' },
		{ "snapshot-kb", required_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char *end;
	int opt, err;

	a->freq_hz = DEFAULT_FREQ_HZ;
	a->cache_mb = DEFAULT_CACHE_MB;
	a->unwind = UNWIND_AUTO;
	a->snapshot_kb = DEFAULT_SNAPSHOT_KB;
	opterr = 0;
	optind = 1;
	/* '+': stop at the first non-option, the command. */
	while ((opt = getopt_long(argc, argv, "+:F:d:p:o:vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'F': {
			long hz;

			errno = 0;
			hz = strtol(optarg, &end, 10);
			if (errno || *end || hz < 1 || hz > MAX_FREQ_HZ)
				return bad_usage("invalid frequency '%s' (1 to 10000 Hz)", optarg);
			a->freq_hz = (int)hz;
			break;
		}
		case 'd':
			errno = 0;
			a->duration_s = strtod(optarg, &end);
			if (errno || *end || end == optarg || !(a->duration_s > 0) ||
			    a->duration_s > 1e7)
				return bad_usage("invalid duration '%s' (seconds, > 0)", optarg);
			break;
		case 'p':
			err = parse_pids(optarg, a);
			if (err)
				return err;
			break;
		case 'o':
			if (!*optarg)
				return bad_usage("empty output path%s", "");
			a->output = optarg;
			break;
		case 'I':
			a->include_idle = true;
			break;
		case 'D':
			a->debuginfod_urls = optarg;
			break;
		case 'U':
			if (!strcmp(optarg, "fp"))
				a->unwind = UNWIND_FP;
			else if (!strcmp(optarg, "dwarf"))
				a->unwind = UNWIND_DWARF;
			else if (!strcmp(optarg, "auto"))
				a->unwind = UNWIND_AUTO;
			else
				return bad_usage("invalid unwind mode '%s' (fp, dwarf or auto)", optarg);
			break;
		case 'S': {
			long kb;

			errno = 0;
			kb = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || kb < 4 || kb > 16 || kb % 4)
				return bad_usage("invalid snapshot size '%s' (4, 8, 12 or 16 KB)", optarg);
			a->snapshot_kb = (uint32_t)kb;
			break;
		}
		case 'C': {
			long mb;

			errno = 0;
			mb = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || mb < 1 || mb > MAX_CACHE_MB)
				return bad_usage("invalid cache size '%s' (1 to 1048576 MB)", optarg);
			a->cache_mb = (size_t)mb;
			break;
		}
		case 'v':
			a->verbose = true;
			log_set_verbose(true);
			break;
		case 'h':
			usage(stdout);
			return -1;
		case ':':
			return bad_usage("option '%s' needs a value", argv[optind - 1]);
		default:
			return bad_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		a->command = &argv[optind];
	if (a->command && a->npids)
		return bad_usage("-p and a command exclude each other%s", "");
	if (!a->output) {
		time_t now = time(NULL);
		struct tm tm;

		strftime(a->default_output, sizeof(a->default_output),
			 "bpfprof-%Y%m%d-%H%M%S.pb.gz", localtime_r(&now, &tm));
		a->output = a->default_output;
	}
	return 0;
}

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return vfprintf(stderr, fmt, ap);
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + (now.tv_nsec - t0->tv_nsec) / 1e9;
}

static int64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void show_progress(struct sampler *s, double elapsed)
{
	uint64_t stats[STAT_MAX];

	if (sampler_read_stats(s, stats))
		return;
	fprintf(stderr, "\rbpfprof: recording %.0f s, %llu samples ", elapsed,
		(unsigned long long)stats[STAT_SAMPLES]);
}

/* Samples until the duration, the command's exit or a signal. Sets
 * *wstatus when the command exited. */
static void run_session(struct sampler *s, struct collector *col,
			const struct record_args *a, const struct command *cmd,
			int *wstatus, bool *command_exited)
{
	bool progress = isatty(STDERR_FILENO);
	int forwarded = 0, shown_s = -1;
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		double elapsed;

		sampler_poll(s, SAMPLER_POLL_MS, collector_handlers(col));
		elapsed = seconds_since(&t0);
		if (cmd && waitpid(cmd->pid, wstatus, WNOHANG) == cmd->pid) {
			*command_exited = true;
			break;
		}
		if (a->duration_s > 0 && elapsed >= a->duration_s)
			break;
		if (signals_received && !cmd)
			break;
		if (signals_received && cmd) {
			if (signals_received > 1)
				break;
			if (!forwarded++)
				kill(cmd->pid, last_signal);
		}
		if (progress && (int)elapsed != shown_s) {
			shown_s = (int)elapsed;
			show_progress(s, elapsed);
		}
	}
	if (progress)
		fprintf(stderr, "\r\033[K");
}

static void install_signal_handlers(void)
{
	struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART */

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static int write_profile(struct sampler *s, struct collector *col,
			 const struct record_args *a, int64_t start_ns, int64_t end_ns)
{
	struct profile_build_opts opts = {
		.sz = sizeof(opts),
		.period_ns = 1000000000LL / a->freq_hz,
		.time_nanos = start_ns,
		.duration_nanos = end_ns - start_ns,
	};
	struct profile_totals totals;
	struct collector_stats cstats;
	uint64_t stats[STAT_MAX] = { 0 };
	uint8_t *gz = NULL;
	size_t len = 0;
	int err;

	err = collector_build(col, s, &opts, &gz, &len, &totals);
	if (!err)
		err = pprof_write_file_atomic(a->output, gz, len);
	free(gz);
	if (err)
		return err;
	sampler_read_stats(s, stats);
	collector_get_stats(col, &cstats);
	if (cstats.snapshots)
		fprintf(stderr, "bpfprof: %llu stacks unwound from snapshots (%.1f KiB and %.1f "
			"frames each, %.3f us per frame), %llu truncated, %llu stopped early\n",
			(unsigned long long)cstats.snapshots,
			cstats.snapshot_bytes / 1024.0 / cstats.snapshots,
			(double)cstats.frames / cstats.snapshots,
			cstats.frames ? cstats.unwind_ns / 1000.0 / cstats.frames : 0.0,
			(unsigned long long)cstats.truncated,
			(unsigned long long)cstats.unwind_stopped);
	fprintf(stderr,
		"bpfprof: %llu samples, %llu processes, %llu dropped "
		"(%llu kernel and %llu user stacks lost), wrote %s\n",
		(unsigned long long)totals.samples, (unsigned long long)totals.processes,
		(unsigned long long)(stats[STAT_COUNTS_FULL] + cstats.stacks_dropped +
				     /* auto takes those with frame pointers */
				     (a->unwind == UNWIND_DWARF ? stats[STAT_SNAPSHOT_LOST] : 0)),
		(unsigned long long)stats[STAT_KERNEL_STACK_LOST],
		(unsigned long long)stats[STAT_USER_STACK_LOST],
		strcmp(a->output, "-") ? a->output : "to standard output");
	return 0;
}

int record_main(int argc, char **argv)
{
	static struct record_args a; /* large: pid list */
	struct collector_opts col_opts = { .sz = sizeof(col_opts) };
	struct sampler_opts opts = { .sz = sizeof(opts) };
	struct command cmd = { .pid = -1, .gate_fd = -1 };
	struct collector *col = NULL;
	struct sampler *s = NULL;
	bool command_exited = false;
	int wstatus = 0, err, status = 1;
	int64_t start_ns, end_ns;

	err = parse_args(argc, argv, &a);
	if (err)
		return err < 0 ? 0 : err;
	if (preflight_check())
		return 1;
	libbpf_set_print(a.verbose ? libbpf_log : NULL);
	col_opts.debuginfod_urls = a.debuginfod_urls;
	col_opts.cache_bytes = a.cache_mb << 20;
	col_opts.unwind = a.unwind != UNWIND_FP;
	if (collector_new(&col_opts, &col))
		return 1;
	if (a.command) {
		err = command_spawn(a.command, &cmd);
		if (err)
			goto out;
		opts.pids = &cmd.pid;
		opts.npids = 1;
		opts.follow_forks = true;
	} else if (a.npids) {
		opts.pids = a.pids;
		opts.npids = a.npids;
	}
	opts.freq_hz = a.freq_hz;
	opts.include_idle = a.include_idle;
	opts.unwind = a.unwind;
	opts.snapshot_bytes = a.snapshot_kb * 1024;
	install_signal_handlers();
	err = sampler_open(&opts, &s);
	if (err) {
		if (a.command)
			command_abort(&cmd);
		goto out;
	}
	start_ns = realtime_ns();
	if (a.command && command_release(&cmd)) {
		command_abort(&cmd);
		goto out;
	}
	run_session(s, col, &a, a.command ? &cmd : NULL, &wstatus, &command_exited);
	sampler_stop(s);
	end_ns = realtime_ns();
	sampler_poll(s, 0, collector_handlers(col)); /* what came at the very end */

	status = write_profile(s, col, &a, start_ns, end_ns) ? 1 : 0;
	if (a.command) {
		if (!command_exited)
			waitpid(cmd.pid, &wstatus, 0);
		if (status == 0)
			status = command_exit_code(wstatus);
	}
out:
	sampler_close(s);
	collector_free(col);
	return status;
}
