/* service.h - the service a process belongs to, from its cgroup path.
 *
 * Continuous profilers group processes by what they run as, not by their
 * name: a container (its id, from the cgroup paths docker, containerd,
 * cri-o, podman and kubepods use) or a systemd unit ("nginx.service" ->
 * "nginx"). The parser takes the text of /proc/PID/cgroup as a buffer and
 * its length; it prefers the unified (cgroup v2, "0::") line, then systemd's
 * named hierarchy, then any other.
 */
#ifndef BPFPROF_SERVICE_H
#define BPFPROF_SERVICE_H

#include <stddef.h>
#include <sys/types.h>

#define SERVICE_NAME_MAX 64

/* Writes the service named by the cgroup text into out (at most
 * SERVICE_NAME_MAX bytes with the NUL). Returns 0, or -ENOENT when the
 * paths name neither a container nor a service unit. */
int service_from_cgroup(const char *buf, size_t len, char *out);

/* Reads /proc/PID/cgroup and parses it; -ENOENT also when pid is gone. */
int service_of_pid(pid_t pid, char *out);

#endif
