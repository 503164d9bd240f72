/* service.h - the service a process belongs to, from its cgroup path.
 *
 * Continuous profilers group processes by what they run as, not by their
 * name: a container (its id, from the cgroup paths docker, containerd,
 * cri-o, podman and kubepods use) or a systemd unit ("nginx.service" ->
 * "nginx"). The parser takes the text of /proc/PID/cgroup as a buffer and
 * its length; it prefers the unified (cgroup v2, "0::") line, then systemd's
 * named hierarchy, then any other.
 *
 * A name counts only if root chose it. A cgroup can be delegated: systemd
 * hands user@UID.service (and any unit with Delegate=yes) to its user, who
 * may then create cgroups of any name below it, "nginx.service" or 64 hex
 * digits, and move their processes there. So the parser asks a predicate,
 * for each component that would name the service, whether it was made
 * inside a delegated subtree, and skips it if so: a process in
 * .../user@1000.service/app.slice/nginx.service is the service "user@1000"
 * (the unit the system manager made), not "nginx".
 */
#ifndef BPFPROF_SERVICE_H
#define BPFPROF_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define SERVICE_NAME_MAX 64

/* Whether only root could have given its name to the cgroup at path (len
 * bytes, as on the line: "/system.slice/nginx.service") of hierarchy
 * (hlen bytes, the line's middle field: "" for the unified hierarchy,
 * "name=systemd", "memory", ...). Both point into the parser's buffer. */
typedef bool service_trusted_fn(const char *hierarchy, size_t hlen, const char *path,
				size_t len, void *ctx);

/* Writes the service named by the cgroup text into out (at most
 * SERVICE_NAME_MAX bytes with the NUL), asking trusted(..., ctx) about each
 * candidate component. Returns 0, or -ENOENT when the paths name neither
 * a container nor a service unit that trusted() accepts. No I/O. */
int service_from_cgroup(const char *buf, size_t len, service_trusted_fn *trusted, void *ctx,
			char *out);

/* Reads /proc/PID/cgroup and parses it, trusting a component when it is a
 * directory whose every ancestor, from the hierarchy's root down, is owned
 * by root and writable by no group or other (who may create a cgroup is
 * who may write its parent; delegation chowns the delegated cgroup to the
 * delegatee). The unified hierarchy is looked up at /sys/fs/cgroup or
 * /sys/fs/cgroup/unified (hybrid): without a cgroup2 mount there, or when
 * a directory is missing (the process moved) or the path leaves the mount
 * ("/.." of another cgroup namespace), its line names no service. A v1
 * line is checked under /sys/fs/cgroup/NAME ("name=systemd" -> "systemd",
 * "cpu,cpuacct" as is) when a cgroup v1 file system is mounted there, and
 * trusted as it stands otherwise. -ENOENT also when pid is gone. */
int service_of_pid(pid_t pid, char *out);

#endif
