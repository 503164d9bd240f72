/* service.c - see service.h.
 *
 * A path is read from its end: the deepest component that names a
 * container (64 hex digits, alone or as "<runtime>-<id>.scope") wins, then
 * the deepest "<unit>.service". Container ids are shortened to 12 digits,
 * as `docker ps` shows them.
 */
#include "service.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define ID_LEN 64
#define SHORT_ID_LEN 12

static bool is_hex_id(const char *p, size_t len)
{
	if (len != ID_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	return true;
}

/* A container id in one path component: "<id>", or "<prefix>-<id>" with an
 * optional ".scope" ("docker-", "cri-containerd-", "crio-", "libpod-"). */
static const char *container_id(const char *c, size_t len)
{
	const char *dash;

	if (len > 6 && !memcmp(c + len - 6, ".scope", 6))
		len -= 6;
	if (is_hex_id(c, len))
		return c;
	dash = len > ID_LEN ? c + len - ID_LEN - 1 : NULL;
	return dash && *dash == '-' && is_hex_id(dash + 1, ID_LEN) ? dash + 1 : NULL;
}

/* The service of one cgroup path [p, end). */
static int service_of_path(const char *p, const char *end, char *out)
{
	const char *unit = NULL;
	size_t unit_len = 0;

	while (end > p) {
		const char *c = end;
		const char *id;
		size_t len;

		while (c > p && c[-1] != '/')
			c--;
		len = (size_t)(end - c);
		if ((id = container_id(c, len))) {
			snprintf(out, SERVICE_NAME_MAX, "%.*s", SHORT_ID_LEN, id);
			return 0;
		}
		if (!unit && len > 8 && !memcmp(end - 8, ".service", 8)) {
			unit = c;
			unit_len = len - 8;
		}
		end = c > p ? c - 1 : p;
	}
	if (!unit || !unit_len)
		return -ENOENT;
	snprintf(out, SERVICE_NAME_MAX, "%.*s", (int)(unit_len < SERVICE_NAME_MAX - 1 ?
						     unit_len : SERVICE_NAME_MAX - 1), unit);
	return 0;
}

/* Rank of a /proc/PID/cgroup line: unified first, systemd's named
 * hierarchy next, the rest last. */
static int rank(const char *line, const char *path)
{
	if (!strncmp(line, "0::", 3))
		return 0;
	if ((size_t)(path - line) >= 13 && !memcmp(path - 13, "name=systemd:", 13))
		return 1;
	return 2;
}

int service_from_cgroup(const char *buf, size_t len, char *out)
{
	const char *p = buf, *end = buf + len;
	int best = 3, err = -ENOENT;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *colon1, *path;
		char found[SERVICE_NAME_MAX];
		int r;

		if (!eol)
			eol = end;
		colon1 = memchr(p, ':', (size_t)(eol - p));
		path = colon1 ? memchr(colon1 + 1, ':', (size_t)(eol - colon1 - 1)) : NULL;
		if (path) {
			path++;
			r = rank(p, path);
			if (r < best && !service_of_path(path, eol, found)) {
				memcpy(out, found, sizeof(found));
				best = r;
				err = 0;
			}
		}
		p = eol + 1;
	}
	return err;
}

int service_of_pid(pid_t pid, char *out)
{
	char path[64], buf[8192];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n > 0 ? service_from_cgroup(buf, (size_t)n, out) : -ENOENT;
}
