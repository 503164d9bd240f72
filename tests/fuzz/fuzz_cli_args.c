/* fuzz_cli_args.c - the command line and environment of `record` and
 * `agent` (profiler/session/sampling_args.h, env_args.h) and --metrics-addr
 * (metrics_server_parse_addr).
 *
 * The input is split on NUL into at most 64 strings. "BPFPROF_NAME=value"
 * strings are set in the environment, the others are argv[1..]; then
 * env_args_merge builds the merged argv and getopt_long walks it with the
 * options both commands share, handing each to sampling_args_parse, as
 * record.c and agent.c do. Every string is also parsed as a metrics
 * address. Checks that an accepted command line leaves every setting in
 * its documented range, that the merged argv keeps all of argv, and that
 * an accepted address is an IPv4 or IPv6 address that fits.
 *
 * What is not reached: the options only `record` or `agent` has
 * (duration, pids, interval, counts, tags, labels) are parsed by static
 * functions of record.c and agent.c, behind main.
 */
#include <dlfcn.h>
#include <netdb.h>
#include <string.h>

#include "env_args.h"
#include "fuzz_util.h"
#include "log.h"
#include "metrics_server.h"
#include "sampling_args.h"

#define MAX_STRINGS 64
#define ENV_PREFIX "BPFPROF_"

static const struct option longopts[] = { SAMPLING_LONGOPTS, { 0 } };

/* A fuzzer must not send DNS queries (slow, and traffic off the machine):
 * every host but "localhost" (/etc/hosts) resolves as a numeric address.
 * This definition wins over libc's, which it then calls. */
int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		struct addrinfo **res)
{
	static int (*real)(const char *, const char *, const struct addrinfo *,
			   struct addrinfo **);
	struct addrinfo h = hints ? *hints : (struct addrinfo){ 0 };

	if (!real)
		real = (__typeof__(real))dlsym(RTLD_NEXT, "getaddrinfo");
	FUZZ_CHECK(real);
	if (node && strcmp(node, "localhost"))
		h.ai_flags |= AI_NUMERICHOST;
	return real(node, service, &h, res);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* Usage errors are the common case here: keep their lines out of the
	 * fuzzer's output. Sanitizer and libFuzzer reports do not go through
	 * this FILE (glibc lets a program reassign stderr). */
	stderr = fopen("/dev/null", "w");
	FUZZ_CHECK(stderr);
	return 0;
}

static void check_parsed(const struct sampling_args *a)
{
	struct sampler_opts sopts = { 0 };
	struct collector_opts copts = { 0 };

	FUZZ_CHECK(a->freq_hz >= 1 && a->freq_hz <= 10000);
	FUZZ_CHECK(a->snapshot_kb >= 4 && a->snapshot_kb <= 16 && a->snapshot_kb % 4 == 0);
	FUZZ_CHECK(a->cache_mb >= 1 && a->cache_mb <= 1024 * 1024);
	FUZZ_CHECK(a->unwind == UNWIND_AUTO || a->unwind == UNWIND_FP ||
		   a->unwind == UNWIND_DWARF);
	sampling_args_apply(a, &sopts, &copts);
	FUZZ_CHECK(sopts.snapshot_bytes == a->snapshot_kb * 1024);
	FUZZ_CHECK(copts.cache_bytes >> 20 == a->cache_mb);
}

static void parse_argv(int argc, char **argv)
{
	struct sampling_args a;
	int opt;

	sampling_args_init(&a);
	opterr = 0;
	optind = 0; /* 0, not 1: glibc then forgets the previous argv */
	while ((opt = getopt_long(argc, argv, "+:F:v", longopts, NULL)) != -1)
		if (sampling_args_parse(&a, opt, optarg, argv[optind - 1], "record"))
			return;
	check_parsed(&a);
}

static void parse_addr(const char *s)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;

	if (metrics_server_parse_addr(s, &ss, &len))
		return;
	FUZZ_CHECK(len > 0 && len <= sizeof(ss));
	FUZZ_CHECK(ss.ss_family == AF_INET || ss.ss_family == AF_INET6);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *argv[MAX_STRINGS + 2], *env[MAX_STRINGS], **merged;
	int argc = 0, nenv = 0, nstrings = 0, margc;

	FUZZ_CHECK(buf);
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[argc++] = "bpfprof";
	for (char *s = buf; s <= buf + size && nstrings < MAX_STRINGS; s += strlen(s) + 1) {
		char *eq = strchr(s, '=');

		nstrings++;
		parse_addr(s);
		if (!strncmp(s, ENV_PREFIX, strlen(ENV_PREFIX)) && eq) {
			*eq = '\0';
			if (!setenv(s, eq + 1, 1))
				env[nenv++] = s;
		} else {
			argv[argc++] = s;
		}
	}
	argv[argc] = NULL;
	if (!env_args_merge("record", longopts, argc, argv, &margc, &merged)) {
		FUZZ_CHECK(margc >= argc);
		for (int i = 1; i < argc; i++) /* argv comes last, in order */
			FUZZ_CHECK(!strcmp(merged[margc - argc + i], argv[i]));
		parse_argv(margc, merged);
		env_args_free(margc, merged);
	}
	parse_argv(argc, argv);
	for (int i = 0; i < nenv; i++)
		unsetenv(env[i]);
	/* -v and --log-format set the logger for good: start each input afresh. */
	log_set_verbose(false);
	log_set_format(LOG_FORMAT_TEXT);
	free(buf);
	return 0;
}
