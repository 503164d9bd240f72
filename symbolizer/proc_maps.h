/* proc_maps.h - parse the text of /proc/PID/maps.
 *
 * One line per mapping, as the kernel prints it (fs/proc/task_mmu.c):
 *
 *   start-end perms offset major:minor inode [spaces path]
 *   7f1c2a400000-7f1c2a428000 r--p 00000000 fe:01 1835014   /usr/lib/libc.so.6
 *
 * Numbers are hex except the inode (decimal). The path is the rest of the
 * line and may contain spaces; it is absent for anonymous mappings, a
 * "[name]" for special ones ([heap], [stack], [vdso], [anon:...]), and ends
 * in " (deleted)" when the file was unlinked: that suffix is stripped and
 * remembered in `deleted`.
 *
 * The parser is strict and total: any input (truncated, binary, huge
 * numbers) gives either a complete list or -EINVAL, never a crash or a
 * partial list. It allocates one entry array and one string arena holding
 * every path, both freed by proc_maps_free().
 */
#ifndef BPFPROF_SYM_PROC_MAPS_H
#define BPFPROF_SYM_PROC_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "line_table.h"

struct proc_maps_entry {
	uint64_t start;      /* first address */
	uint64_t end;        /* one past the last address */
	uint64_t offset;     /* file offset of start */
	uint64_t inode;      /* 0 for anonymous mappings */
	uint32_t dev_major;
	uint32_t dev_minor;
	char perms[5];       /* e.g. "r-xp", NUL-terminated */
	bool deleted;        /* the path ended in " (deleted)" */
	const char *path;    /* "" when none; points into the arena */
};

struct proc_maps {
	LINE_TABLE_OF(struct proc_maps_entry); /* entries, n; the paths in arena */
};

/* Parses len bytes of maps text (need not be NUL-terminated; a last line
 * without '\n' is accepted; empty input gives n == 0). Returns 0, -EINVAL
 * on malformed input or -ENOMEM; on error *out is empty. */
int proc_maps_parse(const char *buf, size_t len, struct proc_maps *out);

void proc_maps_free(struct proc_maps *m);

/* Reads and parses the maps file "maps" relative to dirfd (a /proc/PID
 * directory), or any path as for openat(). Returns 0 or a negative errno
 * (-ENOENT/-ESRCH when the process is gone). Does not log. */
int proc_maps_read(int dirfd, const char *path, struct proc_maps *out);

#endif
