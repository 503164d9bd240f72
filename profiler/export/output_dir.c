/* output_dir.c - see output_dir.h. */
#include "output_dir.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "atomic_file.h"
#include "retention.h"
#include "safe_dir.h"

#define CAUSES 4 /* errors whose drops are logged apart; more share the last */
/* Names tried for one service and start: two intervals start in one second
 * at --interval 1s, a few more with restarts; past this something is wrong
 * (-EEXIST, the profile dropped). */
#define NAME_TRIES 1000
/* Trims that may skip the directory's scan, at most, between two scans:
 * about 10 minutes at 10 s intervals (see output_dir_trim). */
#define TRIMS_PER_SCAN 64

struct output_dir {
	char *path;
	int fd;
	unsigned file_mode;
	size_t max_files;
	uint64_t max_bytes;
	struct log_limit room; /* old profiles deleted to make room */
	struct {
		int err;
		struct log_limit limit;
	} dropped[CAUSES];
	uint64_t dropped_since_written;
	/* Retention's count at its last scan, plus what was written since: no
	 * fewer than the directory holds, unless another writer adds to it. */
	struct retention_kept kept;
	unsigned trims_unscanned; /* TRIMS_PER_SCAN: none yet */
};

int output_dir_open(const char *path, unsigned file_mode, size_t max_files,
		    uint64_t max_bytes, struct output_dir **out)
{
	struct output_dir *o = calloc(1, sizeof(*o));
	int err;

	*out = NULL;
	if (!o || !(o->path = strdup(path))) {
		free(o);
		log_error("output directory %s: %s", path, strerror(ENOMEM));
		return -ENOMEM;
	}
	/* r gives x: the directory can be searched by whoever may read */
	err = safe_dir_open(path, file_mode | (file_mode & 0444) >> 2, "output directory", &o->fd);
	if (err) {
		free(o->path);
		free(o);
		return err;
	}
	o->file_mode = file_mode;
	o->max_files = max_files;
	o->max_bytes = max_bytes;
	o->trims_unscanned = TRIMS_PER_SCAN;
	err = retention_remove_temps(o->fd, path); /* what a killed agent left */
	if (err > 0)
		log_info("output directory %s: removed %d temporary file%s left by an "
			 "interrupted write", path, err, err == 1 ? "" : "s");
	*out = o;
	return 0;
}

void output_dir_close(struct output_dir *o)
{
	if (!o)
		return;
	close(o->fd);
	free(o->path);
	free(o);
}

static bool is_full(int err)
{
	return err == -ENOSPC || err == -EDQUOT;
}

/* A profile's service and start: its names, for atomic_file_commit_noreplace. */
struct profile_id {
	const char *service;
	time_t start;
};

static int profile_name(void *ctx, unsigned i, char *out, size_t size)
{
	const struct profile_id *id = ctx;

	return i < NAME_TRIES ? retention_name(out, size, id->service, id->start, i) : -EEXIST;
}

/* name: the first of id's names, which names the temporary file too. */
static int write_once(struct output_dir *o, const char *name, struct profile_id *id,
		      const void *gz, size_t len)
{
	struct atomic_file *f;
	int err = atomic_file_open(o->fd, name, o->file_mode, 0, &f);

	return err ? err : atomic_file_commit_noreplace(f, gz, len, profile_name, id);
}

static void log_dropped(struct output_dir *o, const char *name, int err)
{
	size_t i = 0;
	uint64_t n;

	while (i < CAUSES - 1 && o->dropped[i].err && o->dropped[i].err != err)
		i++;
	o->dropped[i].err = err;
	n = log_limit(&o->dropped[i].limit, 1);
	if (n)
		log_error("write %s/%s: %s%s: %llu profile%s dropped since the last such line "
			  "(logged at most once a minute)", o->path, name, strerror(-err),
			  is_full(err) ? ", and no old profile of ours is left to delete" : "",
			  (unsigned long long)n, n == 1 ? "" : "s");
}

int output_dir_write(struct output_dir *o, const char *service, time_t start,
		     const void *gz, size_t len)
{
	struct profile_id id = { service, start };
	char name[NAME_MAX + 1];
	int err = profile_name(&id, 0, name, sizeof(name)), deleted;
	uint64_t n;

	if (!err)
		err = write_once(o, name, &id, gz, len);
	while (is_full(err) &&
	       (deleted = retention_apply(o->fd, o->path, o->max_files, o->max_bytes, len,
					  &o->kept)) > 0) {
		if ((n = log_limit(&o->room, (uint64_t)deleted)))
			log_warn("output directory %s: %s: deleted %llu of the oldest profiles to "
				 "make room for new ones (logged at most once a minute)", o->path,
				 strerror(-err), (unsigned long long)n);
		err = write_once(o, name, &id, gz, len);
	}
	if (err) {
		o->dropped_since_written++;
		log_dropped(o, name, err);
		return err;
	}
	o->kept.files++;
	o->kept.bytes += len;
	if (o->dropped_since_written)
		log_info("output directory %s: writing profiles again, after %llu dropped", o->path,
			 (unsigned long long)o->dropped_since_written);
	o->dropped_since_written = 0;
	return 0;
}

/* A scan costs a stat per file, 120 files an interval with 120 services:
 * it is skipped while what was counted plus what was written since is
 * within the limits (nothing can be over), but not more than
 * TRIMS_PER_SCAN times in a row, so files others add are counted too. */
int output_dir_trim(struct output_dir *o)
{
	if (o->kept.files <= o->max_files && o->kept.bytes <= o->max_bytes &&
	    o->trims_unscanned < TRIMS_PER_SCAN) {
		o->trims_unscanned++;
		return 0;
	}
	o->trims_unscanned = 0;
	return retention_apply(o->fd, o->path, o->max_files, o->max_bytes, 0, &o->kept);
}
