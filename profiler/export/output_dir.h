/* output_dir.h - the agent's --output-dir: each interval's profiles as
 * files, kept within retention, surviving a full file system.
 *
 * The directory is opened once, at start, by safe_dir_open (created with
 * its parents when missing; an existing one must be bpfprof's own and not
 * writable by others, and is not chmodded), and every file is made
 * relative to that fd: each profile atomically (atomic_file.h, so nothing
 * under a profile's name is ever partial) with the --file-mode, under a
 * name no file has yet (retention.h: "-1", "-2" ... after the first; a
 * profile never replaces another); then retention trims the directory
 * after each interval. Opening removes the temporary files a killed agent
 * left (logged once, with their count).
 *
 * A full file system (ENOSPC, EDQUOT) first costs the agent its own oldest
 * profiles - the files retention counts, as many as the new one's size -
 * and only when none is left is the new profile dropped; its temporary file
 * is removed either way. What was deleted and what was dropped is logged
 * at most once a minute per cause, with counts, not once per interval; the
 * first profile written after drops says how many there were.
 */
#ifndef BPFPROF_OUTPUT_DIR_H
#define BPFPROF_OUTPUT_DIR_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct output_dir;

/* Directories created get file_mode plus x where it has r (0600 -> 0700,
 * 0640 -> 0750). Logs one line on failure. */
int output_dir_open(const char *path, unsigned file_mode, size_t max_files,
		    uint64_t max_bytes, struct output_dir **out);
void output_dir_close(struct output_dir *o);

/* Writes service's profile of the interval that started at start. 0, or
 * the negative errno of a dropped profile (logged as above). */
int output_dir_write(struct output_dir *o, const char *service, time_t start,
		     const void *gz, size_t len);

/* Retention after an interval: how many old profiles were deleted. */
int output_dir_trim(struct output_dir *o);

#endif
