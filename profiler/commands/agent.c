/* agent.c - `bpfprof agent`: its options, their BPFPROF_* environment
 * variables and its --help; agent/agent.c is the loop they configure.
 */
#include "commands.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "args.h"
#include "env_args.h"
#include "metrics_server.h"
#include "profile_build.h"

#define DEFAULT_INTERVAL_S 10.0
#define DEFAULT_RETAIN_FILES 1000
#define DEFAULT_RETAIN_MB 1024
#define DEFAULT_SPOOL_DIR "/var/lib/bpfprof/spool"
#define DEFAULT_SPOOL_MB 512

static void usage(FILE *f)
{
	fprintf(f,
"Usage: bpfprof agent [--output-dir DIR] [--pyroscope-url URL] [OPTIONS]\n"
"\n"
"Profile the whole machine continuously. Every interval, write one gzipped\n"
"pprof profile per service, named SERVICE-YYYYmmddTHHMMSSZ.pb.gz (the\n"
"interval's start, UTC; SERVICE-YYYYmmddTHHMMSSZ-1.pb.gz, -2, ... when that\n"
"name is taken: no profile replaces another), atomically, and/or upload it\n"
"to Grafana Pyroscope.\n"
"SIGINT/SIGTERM write the interval in progress and exit.\n"
"\n"
"Options:\n"
"      --interval DURATION  length of one profile: 10s (default), 500ms, 1m\n"
"                           (at least 1s)\n"
"      --output-dir DIR     where profiles go (created if missing; it must be\n"
"                           the agent user's, not writable by others)\n"
"      --retain-files N     keep at most N profiles in DIR (default %d)\n"
"      --retain-mb MB       keep at most MB megabytes of them (default %d)\n"
"      --service-name NAME  one service for everything; default: each\n"
"                           process's container id or systemd unit, else its\n"
"                           name; kernel threads as '%s'\n"
"      --pyroscope-url URL  upload to Pyroscope (POST URL/ingest); HTTPS\n"
"                           certificates are checked\n"
"      --pyroscope-ca-file FILE  CA certificates to check the server with\n"
"      --basic-auth-user USER  HTTP basic auth; the password is read from\n"
"                           --basic-auth-password-file, else $%s\n"
"      --basic-auth-password-file FILE\n"
"      --bearer-token-file FILE  'Authorization: Bearer' token\n"
"      --tenant-id ID       X-Scope-OrgID, for multi-tenant Pyroscope\n"
"      --tag KEY=VALUE[,KEY=VALUE...]  series labels on every profile\n"
"                           (repeatable, up to %d; 'host' is always set)\n"
"      --spool-dir DIR      profiles waiting for the server (default %s);\n"
"                           kept across restarts; 0700, files 0600\n"
"      --spool-max-mb MB    cap on the spool; the oldest go first (default %d)\n"
"      --upload-labels LIST per-sample labels to upload: comm, thread_name\n"
"                           (comma-separated; default none: Pyroscope makes a\n"
"                           series of every distinct set of them; files always\n"
"                           have pid, tid, comm and thread_name)\n"
"      --upload-max-samples N  split an upload into parts of at most N\n"
"                           distinct stacks (default %d, Pyroscope's limit)\n"
"      --upload-max-kb KB   ... and at most KB KiB before gzip (default %u,\n"
"                           Pyroscope's ingestion burst)\n"
"      --metrics-addr HOST:PORT  serve Prometheus metrics at /metrics, e.g.\n"
"                           127.0.0.1:9091 (off by default)\n",
		DEFAULT_RETAIN_FILES, DEFAULT_RETAIN_MB, AGENT_KERNEL_SERVICE, AGENT_PASSWORD_ENV, AGENT_MAX_TAGS,
		DEFAULT_SPOOL_DIR, DEFAULT_SPOOL_MB, INGEST_MAX_SAMPLES, INGEST_BURST_BYTES >> 10);
	sampling_args_usage(f);
	fprintf(f,
"  -h, --help               show this help\n"
"\n"
"Every option can also be set in the environment: --some-flag VALUE as\n"
"BPFPROF_SOME_FLAG=VALUE, a flag as BPFPROF_SOME_FLAG=1; the command line\n"
"wins (e.g. BPFPROF_INTERVAL=30s, BPFPROF_TAG=env=prod,team=db).\n"
"\n"
"Needs root (or CAP_BPF and CAP_PERFMON) and a kernel with BTF.\n"
"\n"
"Example:\n"
"  bpfprof agent --interval 10s --output-dir /var/lib/bpfprof --retain-files 500\n");
}

/* "comm,thread_name" into PROFILE_LABEL_* bits. pid and tid are refused:
 * Pyroscope deletes numeric labels. */
static int parse_upload_labels(const char *list, unsigned *mask)
{
	const char *p = list;

	*mask = 0;
	while (*p) {
		size_t len = strcspn(p, ",");

		if (len == 4 && !strncmp(p, "comm", 4))
			*mask |= PROFILE_LABEL_COMM;
		else if (len == 11 && !strncmp(p, "thread_name", 11))
			*mask |= PROFILE_LABEL_THREAD_NAME;
		else
			return -EINVAL;
		p += len + (p[len] == ',');
	}
	return 0;
}

static const struct option agent_longopts[] = {
	{ "interval", required_argument, NULL, 'i' },
	{ "output-dir", required_argument, NULL, 'O' },
	{ "retain-files", required_argument, NULL, 'R' },
	{ "retain-mb", required_argument, NULL, 'M' },
	{ "service-name", required_argument, NULL, 'N' },
	{ "pyroscope-url", required_argument, NULL, 'P' },
	{ "pyroscope-ca-file", required_argument, NULL, 'A' },
	{ "basic-auth-user", required_argument, NULL, 'u' },
	{ "basic-auth-password-file", required_argument, NULL, 'w' },
	{ "bearer-token-file", required_argument, NULL, 'b' },
	{ "tenant-id", required_argument, NULL, 't' },
	{ "tag", required_argument, NULL, 'T' },
	{ "spool-dir", required_argument, NULL, 's' },
	{ "spool-max-mb", required_argument, NULL, 'm' },
	{ "upload-labels", required_argument, NULL, 'L' },
	{ "metrics-addr", required_argument, NULL, 'X' },
	{ "upload-max-samples", required_argument, NULL, 'x' },
	{ "upload-max-kb", required_argument, NULL, 'k' },
	{ "help", no_argument, NULL, 'h' },
	SAMPLING_LONGOPTS,
	{ 0 },
};

/* "k=v" or "k1=v1,k2=v2" into a->labels, in place. */
static int parse_tags(char *list, struct agent_args *a)
{
	for (char *save = NULL, *tag = strtok_r(list, ",", &save); tag;
	     tag = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tag, '=');

		if (!eq || eq == tag || a->nlabels > AGENT_MAX_TAGS)
			return -EINVAL;
		*eq = '\0';
		a->labels[a->nlabels++] = (struct ingest_label){ tag, eq + 1 };
	}
	return 0;
}

/* Returns 0, or the exit status for a usage error (-1 after --help). */
static int agent_args_parse(int argc, char **argv, struct agent_args *a)
{
	int opt, err;

	sampling_args_init(&a->sampling);
	a->ingest.sz = sizeof(a->ingest);
	a->interval_s = DEFAULT_INTERVAL_S;
	a->retain_files = DEFAULT_RETAIN_FILES;
	a->retain_mb = DEFAULT_RETAIN_MB;
	a->spool_dir = DEFAULT_SPOOL_DIR;
	a->spool_mb = DEFAULT_SPOOL_MB;
	a->upload_max_samples = INGEST_MAX_SAMPLES;
	a->upload_max_kb = INGEST_BURST_BYTES >> 10;
	if (gethostname(a->host, sizeof(a->host) - 1))
		snprintf(a->host, sizeof(a->host), "unknown");
	a->labels[a->nlabels++] = (struct ingest_label){ "host", a->host };
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":F:vh", agent_longopts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			if (args_duration(optarg, 86400, &a->interval_s) || a->interval_s < 1)
				return usage_error("agent", "invalid interval '%s' (1s to 24h)", optarg);
			break;
		case 'O':
			if (!*optarg)
				return usage_error("agent", "empty output directory%s", "");
			a->output_dir = optarg;
			break;
		case 'R':
			if (args_number(optarg, 1, LONG_MAX, &a->retain_files))
				return usage_error("agent", "invalid file count '%s' (>= 1)", optarg);
			break;
		case 'M':
			if (args_number(optarg, 1, LONG_MAX, &a->retain_mb))
				return usage_error("agent", "invalid size '%s' (MB, >= 1)", optarg);
			break;
		case 'N':
			if (!*optarg)
				return usage_error("agent", "empty service name%s", "");
			a->service_name = optarg;
			break;
		case 'P':
			a->ingest.url = optarg;
			break;
		case 'A':
			a->ingest.ca_file = optarg;
			break;
		case 'u':
			a->ingest.basic_user = optarg;
			break;
		case 'w':
			a->ingest.basic_password_file = optarg;
			break;
		case 'b':
			a->ingest.bearer_token_file = optarg;
			break;
		case 't':
			a->ingest.tenant_id = optarg;
			break;
		case 'T':
			if (parse_tags(optarg, a))
				return usage_error("agent", "invalid tag '%s' (KEY=VALUE[,KEY=VALUE...], "
						   "at most 16)", optarg);
			break;
		case 's':
			a->spool_dir = optarg;
			break;
		case 'L':
			if (parse_upload_labels(optarg, &a->upload_labels))
				return usage_error("agent", "invalid --upload-labels '%s' (comm, "
						   "thread_name, comma-separated)", optarg);
			break;
		case 'm':
			if (args_number(optarg, 1, LONG_MAX, &a->spool_mb))
				return usage_error("agent", "invalid spool size '%s' (MB, >= 1)", optarg);
			break;
		case 'X': {
			struct sockaddr_storage ss;
			socklen_t len;

			if (metrics_server_parse_addr(optarg, &ss, &len))
				return usage_error("agent", "invalid --metrics-addr '%s' (HOST:PORT, "
						   "e.g. 127.0.0.1:9091)", optarg);
			a->metrics_addr = optarg;
			break;
		}
		case 'x':
			if (args_number(optarg, 1, LONG_MAX, &a->upload_max_samples))
				return usage_error("agent", "invalid sample count '%s' (>= 1)", optarg);
			break;
		case 'k':
			if (args_number(optarg, 64, LONG_MAX, &a->upload_max_kb))
				return usage_error("agent", "invalid size '%s' (KiB, >= 64)", optarg);
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			err = sampling_args_parse(&a->sampling, opt, optarg, argv[optind - 1], "agent");
			if (err)
				return err;
			break;
		}
	}
	if (optind < argc)
		return usage_error("agent", "unexpected argument '%s'", argv[optind]);
	if (!a->output_dir && !a->ingest.url)
		return usage_error("agent", "nowhere to put profiles: give --output-dir or "
				   "--pyroscope-url%s", "");
	if (a->ingest.basic_user && !a->ingest.basic_password_file)
		a->ingest.basic_password_env = AGENT_PASSWORD_ENV;
	return 0;
}

int agent_main(int argc, char **argv)
{
	static struct agent_args a;
	char **args;
	int nargs, err = env_args_merge("agent", agent_longopts, argc, argv, &nargs, &args);

	if (err)
		return err == -EINVAL ? 2 : 1;
	err = agent_args_parse(nargs, args, &a);
	if (!err)
		err = agent_run(&a);
	else if (err < 0) /* --help */
		err = 0;
	env_args_free(nargs, args);
	return err;
}
