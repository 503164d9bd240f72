/* agent.h - the agent's loop: profile the whole machine continuously and
 * write one profile per service per interval (commands/agent.c parses its
 * options into struct agent_args; agent.c has the design).
 */
#ifndef BPFPROF_AGENT_H
#define BPFPROF_AGENT_H

#include <stddef.h>

#include "ingest.h"
#include "sampling_args.h"

#define AGENT_KERNEL_SERVICE "kernel" /* the service of kernel threads */
#define AGENT_MAX_TAGS 16
/* where the basic-auth password is read without --basic-auth-password-file */
#define AGENT_PASSWORD_ENV "BPFPROF_BASIC_AUTH_PASSWORD"

struct agent_args {
	struct sampling_args sampling;
	double interval_s;
	const char *output_dir;
	long retain_files;
	long retain_mb;
	const char *service_name; /* NULL: per process */
	struct ingest_opts ingest; /* url NULL: no uploads */
	const char *spool_dir;
	long spool_mb;
	unsigned upload_labels;    /* PROFILE_LABEL_* on uploaded samples */
	struct ingest_label labels[AGENT_MAX_TAGS + 1]; /* host, then the tags */
	size_t nlabels;
	char host[256];
	const char *metrics_addr;  /* NULL: no metrics server */
	long upload_max_samples;   /* split uploads above these */
	long upload_max_kb;
};

/* Profiles until SIGINT/SIGTERM (or a start-up error, logged); returns
 * the process exit status. */
int agent_run(const struct agent_args *a);

#endif
