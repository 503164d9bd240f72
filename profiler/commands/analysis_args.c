/* analysis_args.c - see analysis_args.h. */
#include "analysis_args.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "atomic_file.h"
#include "log.h"

void analysis_args_init(struct analysis_args *a)
{
	*a = (struct analysis_args){ .load = { .sz = sizeof(a->load), .tags = a->tags } };
}

void analysis_args_free(struct analysis_args *a)
{
	if (a->load.focus)
		regfree(&a->focus);
	if (a->load.ignore)
		regfree(&a->ignore);
	a->load.focus = a->load.ignore = NULL;
}

/* "2026-12-02T10:00:00Z" (UTC; the Z and the seconds may be left out, a
 * space may stand for the T), a Unix time in seconds, or "-DURATION"
 * (that long before now) into nanoseconds since the epoch: 0 or -EINVAL. */
static int parse_time(const char *arg, int64_t *ns)
{
	static const char *const formats[] = {
		"%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d",
	};
	double seconds;
	long epoch;

	if (arg[0] == '-') {
		if (args_duration(arg + 1, 1e9, &seconds))
			return -EINVAL;
		*ns = (int64_t)time(NULL) * 1000000000 - (int64_t)(seconds * 1e9);
		return 0;
	}
	if (!args_number(arg, 1, 0x7fffffffffL, &epoch)) {
		*ns = (int64_t)epoch * 1000000000;
		return 0;
	}
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		struct tm tm = { 0 };
		const char *end = strptime(arg, formats[i], &tm);

		if (end && (!*end || !strcmp(end, "Z"))) {
			*ns = (int64_t)timegm(&tm) * 1000000000;
			return 0;
		}
	}
	return -EINVAL;
}

static int compile(regex_t *re, const regex_t **slot, const char *arg, const char *what,
		   const char *cmd)
{
	char why[256], msg[512];
	int err;

	if (*slot) {
		regfree(re);
		*slot = NULL;
	}
	err = regcomp(re, arg, REG_EXTENDED | REG_NOSUB);
	if (err) {
		regerror(err, re, why, sizeof(why));
		snprintf(msg, sizeof(msg), "invalid %s regex '%s': %s", what, arg, why);
		return usage_error(cmd, "%s", msg);
	}
	*slot = re;
	return 0;
}

int analysis_args_parse(struct analysis_args *a, int opt, const char *arg, const char *text,
			const char *cmd)
{
	struct profile_load_opts *o = &a->load;
	char *eq;

	switch (opt) {
	case 0x100:
		if (!*arg)
			return usage_error(cmd, "empty sample type%s", "");
		o->sample_type = arg;
		return 0;
	case 0x101:
		return compile(&a->focus, &o->focus, arg, "--focus", cmd);
	case 0x102:
		return compile(&a->ignore, &o->ignore, arg, "--ignore", cmd);
	case 0x103:
		eq = strchr(arg, '=');
		if (!eq || eq == arg)
			return usage_error(cmd, "invalid tag '%s' (KEY=VALUE)", arg);
		if (o->ntags == ANALYSIS_MAX_TAGS)
			return usage_error(cmd, "too many --tag (at most %s)", "64");
		*eq = '\0'; /* argv is ours to cut */
		a->tags[o->ntags++] = (struct profile_tag){ arg, eq + 1 };
		return 0;
	case 0x104:
		a->lines = true;
		return 0;
	case 0x105:
		if (!*arg)
			return usage_error(cmd, "empty service%s", "");
		o->service = arg;
		return 0;
	case 0x106:
	case 0x107:
		if (parse_time(arg, opt == 0x106 ? &o->from_ns : &o->until_ns))
			return usage_error(cmd, "invalid time '%s' (2026-12-02T10:00:00Z, "
					   "Unix seconds, or -1h for an hour ago)", arg);
		return 0;
	case 0x108:
		return args_log_format(cmd, arg);
	default:
		return args_unhandled(cmd, opt, text);
	}
}

void analysis_args_usage(FILE *f)
{
	fprintf(f,
"Selecting what is read:\n"
"  --sample-type NAME    the value to read when a profile has several (e.g.\n"
"                        samples or cpu in bpfprof's; alloc_space in a Go heap\n"
"                        profile); default: the profile's default, else its\n"
"                        last\n"
"  --focus REGEX         only samples with a function matching REGEX (POSIX\n"
"                        extended, against function names)\n"
"  --ignore REGEX        drop samples with a function matching REGEX\n"
"  --tag KEY=VALUE       only samples labelled KEY=VALUE (pid, tid, comm,\n"
"                        thread_name in bpfprof's profiles); repeatable: tags\n"
"                        of one key are alternatives, of different keys all\n"
"                        required\n"
"  --lines               by source line (function file:line), not by function\n"
"  --service NAME        in directories: only the agent's files of SERVICE\n"
"                        (SERVICE-YYYYmmddTHHMMSSZ.pb.gz)\n"
"  --from TIME           only profiles that start at TIME or later: UTC\n"
"                        2026-12-02T10:00:00Z (or 2026-12-02 10:00), Unix\n"
"                        seconds, or -1h (an hour ago), -30m, ...\n"
"  --until TIME          only profiles that start before TIME\n"
"  --log-format FORMAT   text (default) or json, for error lines\n");
}

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The progress line of a long read (a terminal only; from 100 ms on, at
 * most 10 a second). */
static void show_progress(const char *name, size_t done, void *ctx)
{
	int64_t *last_ms = ctx, now = monotonic_ms();

	if (now - *last_ms < 100)
		return;
	*last_ms = now;
	fprintf(stderr, "\r\033[Kbpfprof: reading %s (%zu profile%s read)", name, done,
		done == 1 ? "" : "s");
}

int analysis_args_add(struct analysis_input *in, char *const *paths, int n,
		      struct stack_list *list)
{
	struct profile_loader *loader = &in->loader;
	int64_t last_ms = monotonic_ms();
	char err[1024];
	bool progress = log_progress_wanted();

	if (progress) {
		loader->opts.progress = show_progress;
		loader->opts.progress_ctx = &last_ms;
	}
	for (int i = 0; i < n; i++) {
		int ret = profile_loader_add(loader, paths[i], list, err, sizeof(err));

		if (ret < 0) {
			if (progress)
				fputs("\r\033[K", stderr);
			log_error("%s", err);
			return 2;
		}
	}
	if (progress) {
		fputs("\r\033[K", stderr);
		loader->opts.progress = NULL;
	}
	if (loader->skipped)
		log_warn("skipped %zu entr%s of the directories that %s not regular files",
			 loader->skipped, loader->skipped == 1 ? "y" : "ies",
			 loader->skipped == 1 ? "is" : "are");
	loader->skipped = 0;
	if (list->nprofiles && !list->total) {
		log_error("no samples%s%s in %s%s%s", loader->typed ? " of type " : "", loader->type,
			  paths[0], n > 1 ? " ..." : "",
			  loader->opts.focus || loader->opts.ignore || loader->opts.ntags
				  ? " that --focus, --ignore and --tag keep" : "");
		return 2;
	}
	if (!list->nprofiles) {
		const struct profile_load_opts *o = &loader->opts;

		if (o->service || o->from_ns || o->until_ns)
			log_error("no profile in %s%s matches --service, --from and --until", paths[0],
				  n > 1 ? " ..." : "");
		else
			log_error("no profile in %s%s (a directory's are its *.pb.gz and *.pb)",
				  paths[0], n > 1 ? " ..." : "");
		return 2;
	}
	return 0;
}

int analysis_args_load(struct analysis_args *a, char *const *paths, int n,
		       struct analysis_input *in, const char *cmd)
{
	*in = (struct analysis_input){ .frames = { .by_line = a->lines } };
	if (n <= 0)
		return usage_error(cmd, "no profile given%s", "");
	if (profile_loader_init(&in->loader, &a->load, &in->frames)) {
		log_error("%s: %s", cmd, strerror(EINVAL));
		return 2;
	}
	return analysis_args_add(in, paths, n, &in->list);
}

int analysis_load_bytes(const char *name, const void *buf, size_t len, struct analysis_input *in)
{
	struct profile_load_opts o = { .sz = sizeof(o) };
	char err[1024];

	*in = (struct analysis_input){ 0 };
	if (profile_loader_init(&in->loader, &o, &in->frames) ||
	    profile_loader_add_bytes(&in->loader, name, buf, len, &in->list, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return 2;
	}
	return 0;
}

void analysis_input_free(struct analysis_input *in)
{
	stack_list_free(&in->list);
	profile_loader_free(&in->loader);
	frame_table_free(&in->frames);
}

void analysis_inputs_title(char *buf, size_t size, char *const *paths, int n)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < n && len + 1 < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? " " : "", paths[i]);
}

int analysis_write_flamegraph(const char *path, unsigned mode, const struct frame_table *frames,
			      const struct call_tree *tree, const struct flamegraph_opts *opts,
			      const char *cmd)
{
	struct atomic_file *f = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *mem;
	int ret = atomic_file_open(AT_FDCWD, path, mode, ATOMIC_FILE_CHECK_TARGET, &f);

	if (ret) {
		log_error("%s: cannot write %s: %s", cmd, path, strerror(-ret));
		return 1;
	}
	/* Whole in memory first: the file appears complete or not at all. */
	if (!(mem = open_memstream(&buf, &len))) {
		atomic_file_discard(f);
		log_error("%s: %s", cmd, strerror(errno));
		return 1;
	}
	ret = flamegraph_write(mem, frames, tree, opts);
	if (fclose(mem) && !ret)
		ret = -ENOMEM;
	if (!ret)
		ret = atomic_file_commit(f, buf, len);
	else
		atomic_file_discard(f);
	free(buf);
	if (ret) {
		log_error("%s: cannot write %s: %s", cmd, path, strerror(-ret));
		return 1;
	}
	return 0;
}
