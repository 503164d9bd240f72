/* retention.h - keep a directory of profiles within a count and a size.
 *
 * Profiles are the regular files whose names end in ".pb.gz" and do not
 * start with '.' (temporary files of atomic writes do). Their names end in
 * a UTC timestamp, "<service>-YYYYmmddTHHMMSSZ.pb.gz", so the oldest are
 * found by that timestamp, whatever the service.
 */
#ifndef BPFPROF_RETENTION_H
#define BPFPROF_RETENTION_H

#include <stddef.h>
#include <stdint.h>

/* Deletes the oldest profiles in dir until at most max_files remain and
 * they hold at most max_bytes. Returns how many were deleted, or a
 * negative errno (dir unreadable). */
int retention_apply(const char *dir, size_t max_files, uint64_t max_bytes);

#endif
