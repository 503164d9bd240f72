/* proc_status.h - what the symbolizer needs from /proc/PID/status and stat.
 *
 * - status: the pid in the process's own namespace (the innermost number
 *   of the last "NSpid:" line: what a process in a container names its
 *   perf map with) and its effective uid (the second number of "Uid:").
 * - stat: the start time (field 22, in clock ticks since boot), which with
 *   the pid identifies a process for good: a pid reused by a new process
 *   has a later start time. comm (field 2) may hold spaces and ')', so the
 *   fields are counted after the LAST ')'.
 * Both parsers take a buffer and a length, never read past it, and return
 * 0 or -EINVAL when the field is missing or malformed.
 */
#ifndef BPFPROF_SYM_PROC_STATUS_H
#define BPFPROF_SYM_PROC_STATUS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct proc_status {
	pid_t nspid; /* 0 when the line is missing */
	uid_t euid;
	int has_euid;
};

int proc_status_parse(const char *buf, size_t len, struct proc_status *out);
int proc_stat_start_time(const char *buf, size_t len, uint64_t *start_time);

/* Reads the stat file at path (relative to dirfd, as openat) and parses
 * its start time: 0, or -errno (-ENOENT: the process is gone). */
int proc_read_start_time(int dirfd, const char *path, uint64_t *start_time);

/* 1e9 / CLK_TCK: the ns in one of /proc's clock ticks (BPF reads start
 * times in ns, /proc gives them in ticks). */
uint64_t proc_ns_per_tick(void);

#endif
