/* process_services.h - each process's service, taken when it is first seen.
 *
 * A process's service (its container or systemd unit, service.h) is read
 * from its cgroup. Read when an interval is written, it is lost for a
 * process that exited during the interval: a short-lived job or container
 * is then named after its command. So the agent takes the service when the
 * sampler first announces a process (and again after an exec, which
 * announces it anew), keeps it here by tgid, and looks it up when it writes
 * the interval; once per interval, after the profiles are written, the
 * entries of processes that have exited are forgotten (one interval late:
 * process_services_forget_exited()).
 *
 * A pid names a process only with its start time: the table keeps the start
 * time /proc/PID/stat gave (clock ticks since boot) with the service, and a
 * lookup gives the sample's start time (the task's start_boottime in ns, as
 * BPF reads it), compared at clock-tick granularity, so a sample of a later
 * process that reused the pid never gets the earlier one's service.
 *
 * The table is capped: when it is full a new process is not kept (counted
 * as a drop) and the caller falls back to what it would do without it. The
 * table is a uthash one (the project's one hash table) keyed by pid, an
 * allocation per entry; forgetting deletes entries, which never needs
 * memory. Not thread-safe.
 */
#ifndef BPFPROF_PROCESS_SERVICES_H
#define BPFPROF_PROCESS_SERVICES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct process_services;

/* A table of at most max_entries (>= 1) processes. 0, -EINVAL or -ENOMEM. */
int process_services_new(size_t max_entries, struct process_services **out);
void process_services_free(struct process_services *t);

/* Takes pid's service (service_of_pid(); "" when it has none) and start
 * time, replacing what was kept for pid (an exec, or a reused pid). Keeps
 * nothing when pid is gone, and counts a drop when the table is full. */
void process_services_take(struct process_services *t, pid_t pid);

/* The service taken for pid, "" when it had none (the caller names the
 * process), NULL when pid was never taken or was taken for another process
 * than the one started at start_time_ns (ns since boot). */
const char *process_services_get(const struct process_services *t, pid_t pid,
				 uint64_t start_time_ns);

/* Forgets the processes that had exited (or whose pid another process
 * had taken) at the previous call, and returns how many: called once per
 * interval after its profiles are written, an entry outlives its process
 * by one interval, so the samples the process left in the next interval's
 * buffer still find it. Reads each running process's /proc/PID/stat, never
 * a cgroup file. */
size_t process_services_forget_exited(struct process_services *t);

/* Processes not kept because the table was full, since it was made. */
uint64_t process_services_dropped(const struct process_services *t);

#endif
