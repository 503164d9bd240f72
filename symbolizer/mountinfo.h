/* mountinfo.h - a process's mounts (/proc/PID/mountinfo), and which of
 * them a user's FUSE daemon serves.
 *
 * Why: a file on FUSE is served by a user-space daemon; looking it up,
 * stat'ing, opening or reading it (even statfs) can wait on that daemon
 * forever. A user who mounted one with allow_other can make root wait on
 * it, so bpfprof must know a file is on such a mount WITHOUT touching the
 * file: from the mount table, by device number (a maps line's major:minor)
 * or by the mount points on the way to a path.
 *
 * One line per mount, as the kernel prints it (fs/proc_namespace.c):
 *
 *   36 35 0:44 / /home/u/mnt rw,nosuid shared:7 - fuse.sshfs host:/ rw,user_id=1000,group_id=1000
 *   id parent dev root mount-point options [optional fields...] - type source super-options
 *
 * root, mount point, type and source escape space, tab, newline and
 * backslash as \ooo (octal); the parser undoes it. The optional fields
 * (shared:N, master:N, ...) end at a lone "-".
 *
 * The parser is strict and total like proc_maps.h: any input gives a
 * complete list or -EINVAL, never a crash or a partial list; one entry
 * array and one string arena, freed by mountinfo_free().
 */
#ifndef BPFPROF_SYM_MOUNTINFO_H
#define BPFPROF_SYM_MOUNTINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "line_table.h"

struct mountinfo_entry {
	uint64_t mount_id;
	uint64_t parent_id;
	uint32_t dev_major;      /* st_dev of its files, as maps shows them */
	uint32_t dev_minor;
	const char *root;        /* the directory of the file system mounted here */
	const char *mount_point; /* relative to the process's root */
	const char *fstype;      /* "ext4", "fuse.sshfs", ... */
	const char *super_opts;  /* "rw,user_id=1000,group_id=1000" */
};

struct mountinfo {
	LINE_TABLE_OF(struct mountinfo_entry); /* entries, n, bytes held */
};

/* Parses len bytes of mountinfo text (need not be NUL-terminated; a last
 * line without '\n' is accepted; empty input gives n == 0). Returns 0,
 * -EINVAL on malformed input or -ENOMEM; on error *out is empty. */
int mountinfo_parse(const char *buf, size_t len, struct mountinfo *out);

void mountinfo_free(struct mountinfo *m);

/* Reads and parses path relative to dirfd (a /proc/PID directory and
 * "mountinfo") with safe_read_file(): a regular file, at most max bytes
 * (else -EFBIG). Returns 0 or a negative errno. Does not log. */
int mountinfo_read(int dirfd, const char *path, size_t max, struct mountinfo *out);

/* Whether e is a FUSE file system ("fuse", "fuse.*", "fuseblk") that a
 * user other than root mounted: its super options say user_id=N, N != 0
 * (or say no user_id at all: not known to be root's). */
bool mountinfo_user_fuse(const struct mountinfo_entry *e);

/* A mount of device major:minor that mountinfo_user_fuse() calls a user's
 * (bind mounts share their device), else any mount of it, else NULL. */
const struct mountinfo_entry *mountinfo_by_dev(const struct mountinfo *m, uint32_t major,
					       uint32_t minor);

/* A user's FUSE mount (mountinfo_user_fuse) whose mount point is path or
 * a directory above it ("/a" is above "/a/b", not "/ab"), else NULL. path
 * is absolute, in the same root as the mount points. */
const struct mountinfo_entry *mountinfo_user_fuse_above(const struct mountinfo *m,
							const char *path);

#endif
