/* profile_load.h - pprof files and directories read into stack lists.
 *
 * What `report`, `flamegraph` and `diff` are given is paths: profiles
 * (gzipped or not, anyone's: ours, Go's runtime/pprof, ...) and
 * directories of them (an agent's --output-dir: every *.pb.gz and *.pb in
 * it, in name order, dot-files and what is not a regular file skipped).
 * Each file is read (a regular file, at most max_file_bytes), checked and
 * decoded by proto/pprof_read (inflated to at most max_inflated_bytes), turned into frames and stacks once, and
 * freed before the next, so memory is the merged result, not the inputs.
 *
 * Selection, in the order it applies:
 *  - files: service (only agent files named SERVICE-YYYYmmddTHHMMSSZ*.pb.gz
 *    of that service), then from/until on the profile's time_nanos (kept
 *    when from <= start < until);
 *  - the sample type: by name, else the first file's default, and every
 *    file must have it with the same unit;
 *  - samples: every tag (KEY=VALUE; a string label equal to VALUE or a
 *    number label equal to it as an integer; tags of one key are
 *    alternatives, of different keys all required), then focus (some frame
 *    of the stack matches) and ignore (none does); regexes are matched
 *    against function names.
 * Errors are one line in the caller's buffer, naming the file and why.
 */
#ifndef BPFPROF_PROFILE_LOAD_H
#define BPFPROF_PROFILE_LOAD_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame_table.h"
#include "stack_list.h"

#define PROFILE_LOAD_MAX_FILE_BYTES ((size_t)1 << 30)

struct profile_tag {
	const char *key, *value;
};

struct profile_load_opts {
	size_t sz; /* sizeof(struct profile_load_opts) */
	const char *sample_type; /* NULL: the first file's default */
	const regex_t *focus, *ignore; /* NULL: none */
	const struct profile_tag *tags;
	size_t ntags;
	const char *service; /* NULL: any file */
	int64_t from_ns, until_ns; /* 0: unbounded */
	size_t max_file_bytes;   /* 0: PROFILE_LOAD_MAX_FILE_BYTES */
	size_t max_inflated_bytes; /* 0: 100 times the file, at least 64 MiB,
				    * at most PPROF_READ_MAX_BYTES */
	/* Called before each file is read (name as shown in errors; files
	 * read so far), for a progress line; NULL: none. */
	void (*progress)(const char *name, size_t done, void *ctx);
	void *progress_ctx;
};

/* One analysis's reading state: its options, the frame table every list
 * shares, the sample type settled by the first file. */
struct profile_loader {
	struct profile_load_opts opts;
	struct frame_table *frames;
	bool typed;                /* type and unit settled (by the first file) */
	char type[128], unit[128]; /* "" until then (or a type without a name) */
	int64_t period;            /* the first file's, for "N samples" */
	char period_unit[128];
	size_t skipped; /* directory entries that are not regular files */
	size_t read;    /* files read */
	uint8_t *matches; /* per frame id: FRAME_MATCH_* bits */
	size_t matches_cap;
};

int profile_loader_init(struct profile_loader *ld, const struct profile_load_opts *opts,
			struct frame_table *frames);

/* Adds the profiles at path (a file or a directory) to *into: the count
 * of profiles added (0: none was selected), or a negative errno with why
 * in err. */
int profile_loader_add(struct profile_loader *ld, const char *path, struct stack_list *into,
		       char *err, size_t err_size);

/* Adds the profile buf[0 .. len) (a file's bytes, shown as name in
 * errors) as profile_loader_add adds a file: 1, 0 or a negative errno. */
int profile_loader_add_bytes(struct profile_loader *ld, const char *name, const void *buf,
			     size_t len, struct stack_list *into, char *err, size_t err_size);

void profile_loader_free(struct profile_loader *ld);

/* The service of an agent file name (SERVICE-YYYYmmddTHHMMSSZ.pb.gz or
 * ...Z-N.pb.gz) into out: its length, or -EINVAL when name is not one. */
int agent_file_service(const char *name, char *out, size_t out_size);

#endif
