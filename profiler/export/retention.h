/* retention.h - the agent's profiles in its output directory: their names,
 * and keeping them within a count and a size.
 *
 * A profile is "<service>-YYYYmmddTHHMMSSZ.pb.gz": the service as letters,
 * digits, '.', '_' and '-', not starting with '.' (so temporary files of
 * atomic writes, dot-files, never match), then the interval's start in UTC,
 * so the oldest are found by that timestamp, whatever the service. When
 * that name is taken (two intervals that start in one second, a restart)
 * the next are "<service>-YYYYmmddTHHMMSSZ-1.pb.gz", "-2", ...: the same
 * start, in the order written.
 *
 * Retention counts and deletes only what the agent could have written:
 * regular files owned by its user whose names match that pattern exactly.
 * Links (never followed: a link's target is never looked at nor deleted),
 * FIFOs, directories, other users' files and any other name are left alone.
 * The same goes for the temporary files of profiles (".<profile>.XXXXXX",
 * see atomic_file.h) that a killed agent left behind.
 */
#ifndef BPFPROF_RETENTION_H
#define BPFPROF_RETENTION_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* The name of service's profile of the interval that started at start,
 * the n-th with that start (0: the first, no "-n"); service must already
 * be made of the allowed characters. -ENAMETOOLONG when it does not fit in
 * size. */
int retention_name(char *out, size_t size, const char *service, time_t start, unsigned n);

/* What retention counted in a directory, less what it deleted. */
struct retention_kept {
	size_t files;
	uint64_t bytes;
};

/* Deletes the oldest profiles in the directory dir_fd (dir names it in
 * messages) until at most max_files remain, they hold at most max_bytes,
 * and the deleted ones held at least free_bytes (room for a new profile on
 * a full file system; 0 for none); what is left goes in *kept (unless
 * NULL). Returns how many were deleted, or a negative errno (directory
 * unreadable, logged; *kept untouched). */
int retention_apply(int dir_fd, const char *dir, size_t max_files, uint64_t max_bytes,
		    uint64_t free_bytes, struct retention_kept *kept);

/* Deletes the temporary files of profiles in dir_fd: regular files of the
 * agent's user named as atomic_file_open names them. How many, or a
 * negative errno (logged). */
int retention_remove_temps(int dir_fd, const char *dir);

#endif
