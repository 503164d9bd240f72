/* retention.c - see retention.h. */
#include "retention.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define SUFFIX ".pb.gz"
#define STAMP_LEN 16 /* YYYYmmddTHHMMSSZ */

struct profile_file {
	char *name;
	uint64_t bytes;
};

static bool is_profile(const char *name)
{
	size_t len = strlen(name), slen = strlen(SUFFIX);

	return name[0] != '.' && len > slen + STAMP_LEN && !strcmp(name + len - slen, SUFFIX);
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
		if (!is_profile(de->d_name) || fstatat(dirfd(d), de->d_name, &st, 0) ||
		    !S_ISREG(st.st_mode))
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

int retention_apply(const char *dir, size_t max_files, uint64_t max_bytes)
{
	struct profile_file *v = NULL;
	uint64_t total = 0;
	size_t n, i;
	int deleted = 0, err;
	DIR *d = opendir(dir);

	if (!d) {
		err = -errno;
		log_error("open %s: %s", dir, strerror(errno));
		return err;
	}
	err = list_profiles(d, &v, &n);
	if (!err) {
		if (n) /* qsort wants a non-NULL array even for none */
			qsort(v, n, sizeof(*v), cmp_age);
		for (i = 0; i < n; i++)
			total += v[i].bytes;
		for (i = 0; i < n && (n - i > max_files || total > max_bytes); i++) {
			if (unlinkat(dirfd(d), v[i].name, 0) && errno != ENOENT) {
				log_warn("delete %s/%s: %s", dir, v[i].name, strerror(errno));
				continue;
			}
			total -= v[i].bytes;
			deleted++;
		}
		for (i = 0; i < n; i++)
			free(v[i].name);
		free(v);
	}
	closedir(d);
	return err ? err : deleted;
}
