/* retention.c - see retention.h. */
#include "retention.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define SUFFIX ".pb.gz"
#define STAMP_FORMAT "%Y%m%dT%H%M%SZ"
#define STAMP_LEN 16 /* YYYYmmddTHHMMSSZ */

struct profile_file {
	char *name;
	uint64_t bytes;
};

int retention_name(char *out, size_t size, const char *service, time_t start)
{
	char stamp[STAMP_LEN + 1];
	struct tm tm;
	int n;

	strftime(stamp, sizeof(stamp), STAMP_FORMAT, gmtime_r(&start, &tm));
	n = snprintf(out, size, "%s-%s" SUFFIX, service, stamp);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static bool service_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

/* "<service>-YYYYmmddTHHMMSSZ.pb.gz" exactly. */
static bool is_profile(const char *name)
{
	static const char shape[] = "-DDDDDDDDTDDDDDDZ" SUFFIX; /* D: a digit */
	size_t len = strlen(name), tail = sizeof(shape) - 1;

	if (len <= tail || name[0] == '.')
		return false;
	for (size_t i = 0; i < len - tail; i++)
		if (!service_char(name[i]))
			return false;
	for (size_t i = 0; i < tail; i++) {
		char c = name[len - tail + i];

		if (shape[i] == 'D' ? c < '0' || c > '9' : c != shape[i])
			return false;
	}
	return true;
}

/* The timestamp part of a profile's name. */
static const char *stamp_of(const char *name)
{
	return name + strlen(name) - strlen(SUFFIX) - STAMP_LEN;
}

static int cmp_age(const void *a, const void *b)
{
	const struct profile_file *x = a, *y = b;
	int c = strncmp(stamp_of(x->name), stamp_of(y->name), STAMP_LEN);

	return c ? c : strcmp(x->name, y->name);
}

static int list_profiles(DIR *d, struct profile_file **out, size_t *n)
{
	struct profile_file *v = NULL;
	size_t cap = 0;
	struct dirent *de;
	struct stat st;

	*n = 0;
	while ((de = readdir(d))) {
		if (!is_profile(de->d_name) ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode) || st.st_uid != geteuid())
			continue;
		if (*n == cap) {
			struct profile_file *p = realloc(v, (cap = cap ? 2 * cap : 64) * sizeof(*v));

			if (!p)
				goto nomem;
			v = p;
		}
		v[*n].name = strdup(de->d_name);
		if (!v[*n].name)
			goto nomem;
		v[(*n)++].bytes = (uint64_t)st.st_size;
	}
	*out = v;
	return 0;
nomem:
	for (size_t i = 0; i < *n; i++)
		free(v[i].name);
	free(v);
	return -ENOMEM;
}

int retention_apply(int dir_fd, const char *dir, size_t max_files, uint64_t max_bytes,
		    uint64_t free_bytes)
{
	struct profile_file *v = NULL;
	uint64_t total = 0, freed = 0;
	size_t n, i;
	int deleted = 0, err, fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL; /* a new fd: listed from its start */

	if (!d) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		log_error("list %s: %s", dir, strerror(-err));
		return err;
	}
	err = list_profiles(d, &v, &n);
	if (!err) {
		if (n) /* qsort wants a non-NULL array even for none */
			qsort(v, n, sizeof(*v), cmp_age);
		for (i = 0; i < n; i++)
			total += v[i].bytes;
		for (i = 0; i < n && (n - i > max_files || total > max_bytes || freed < free_bytes);
		     i++) {
			if (unlinkat(dir_fd, v[i].name, 0) && errno != ENOENT) {
				log_warn("delete %s/%s: %s", dir, v[i].name, strerror(errno));
				continue;
			}
			total -= v[i].bytes;
			freed += v[i].bytes;
			deleted++;
		}
		for (i = 0; i < n; i++)
			free(v[i].name);
		free(v);
	}
	closedir(d);
	return err ? err : deleted;
}
