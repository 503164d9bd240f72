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

#include "atomic_file.h"
#include "grow.h"
#include "log.h"

#define SUFFIX ".pb.gz"
#define STAMP_FORMAT "%Y%m%dT%H%M%SZ"
#define STAMP_SHAPE "-DDDDDDDDTDDDDDDZ" /* D: a digit */
#define STAMP_LEN 16 /* YYYYmmddTHHMMSSZ */
#define N_DIGITS 9   /* at most, in "-n" */

struct profile_file {
	char *name;
	const char *stamp; /* in name */
	unsigned long n;   /* the n-th with that stamp */
	uint64_t bytes;
};

int retention_name(char *out, size_t size, const char *service, time_t start, unsigned n)
{
	char stamp[STAMP_LEN + 1];
	struct tm tm;
	int len;

	strftime(stamp, sizeof(stamp), STAMP_FORMAT, gmtime_r(&start, &tm));
	len = n ? snprintf(out, size, "%s-%s-%u" SUFFIX, service, stamp, n)
		: snprintf(out, size, "%s-%s" SUFFIX, service, stamp);
	return len < 0 || (size_t)len >= size ? -ENAMETOOLONG : 0;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c);
}

static bool service_char(char c)
{
	return is_alnum(c) || c == '.' || c == '_' || c == '-';
}

/* The first len bytes of name are "<service>-YYYYmmddTHHMMSSZ[-n].pb.gz"
 * exactly, n as retention_name writes it (no leading 0); *stamp and *n
 * (0 without "-n") say where it is in the order. */
static bool parse_profile(const char *name, size_t len, const char **stamp, unsigned long *n)
{
	const size_t suffix = strlen(SUFFIX), shape = strlen(STAMP_SHAPE);
	size_t end, digits = 0;

	if (len <= suffix + shape || name[0] == '.' || strncmp(name + len - suffix, SUFFIX, suffix))
		return false;
	end = len - suffix;
	/* a profile's stamp ends in 'Z', so digits before the suffix are "-n" */
	while (digits < end && is_digit(name[end - digits - 1]))
		digits++;
	*n = 0;
	if (digits) {
		if (digits > N_DIGITS || name[end - digits] == '0' || end <= digits + 1 + shape ||
		    name[end - digits - 1] != '-')
			return false;
		*n = strtoul(name + end - digits, NULL, 10);
		end -= digits + 1;
	}
	for (size_t i = 0; i < shape; i++) {
		char c = name[end - shape + i];

		if (STAMP_SHAPE[i] == 'D' ? !is_digit(c) : c != STAMP_SHAPE[i])
			return false;
	}
	for (size_t i = 0; i < end - shape; i++)
		if (!service_char(name[i]))
			return false;
	*stamp = name + end - STAMP_LEN;
	return true;
}

/* The temporary file (atomic_file.h) of a profile's first name:
 * output_dir.c opens it with that name whatever name the profile then
 * takes. */
static bool is_temp(const char *name)
{
	const char *target, *stamp;
	size_t len;
	unsigned long n;

	return atomic_file_temp_of(name, &target, &len) && parse_profile(target, len, &stamp, &n) &&
	       !n;
}

/* Oldest first: by start, then in the order written. */
static int cmp_age(const void *a, const void *b)
{
	const struct profile_file *x = a, *y = b;
	int c = strncmp(x->stamp, y->stamp, STAMP_LEN);

	if (!c)
		c = (x->n > y->n) - (x->n < y->n);
	return c ? c : strcmp(x->name, y->name);
}

/* A listing of dir_fd from its start (a new fd: dir_fd's offset is not
 * touched), or NULL (logged). */
static DIR *list_dir(int dir_fd, const char *dir)
{
	int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), err;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (!d) {
		err = errno;
		if (fd >= 0)
			close(fd);
		log_error("list %s: %s", dir, strerror(err));
		errno = err;
	}
	return d;
}

/* name in d is a regular file of ours; *st its metadata. */
static bool is_ours(DIR *d, const char *name, struct stat *st)
{
	return !fstatat(dirfd(d), name, st, AT_SYMLINK_NOFOLLOW) && S_ISREG(st->st_mode) &&
	       st->st_uid == geteuid();
}

static int list_profiles(DIR *d, struct profile_file **out, size_t *n)
{
	struct profile_file *v = NULL;
	size_t cap = 0;
	struct dirent *de;
	struct stat st;

	*n = 0;
	while ((de = readdir(d))) {
		const char *stamp;
		unsigned long seq;

		if (!parse_profile(de->d_name, strlen(de->d_name), &stamp, &seq) ||
		    !is_ours(d, de->d_name, &st))
			continue;
		if (array_reserve(&v, &cap, *n + 1, sizeof(*v)))
			goto nomem;
		v[*n].name = strdup(de->d_name);
		if (!v[*n].name)
			goto nomem;
		v[*n].stamp = v[*n].name + (stamp - de->d_name);
		v[*n].n = seq;
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
		    uint64_t free_bytes, struct retention_kept *kept)
{
	struct profile_file *v = NULL;
	uint64_t total = 0, freed = 0;
	size_t n, i;
	int deleted = 0, err;
	DIR *d = list_dir(dir_fd, dir);

	if (!d)
		return -errno;
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
		if (kept)
			*kept = (struct retention_kept){ n - (size_t)deleted, total };
		for (i = 0; i < n; i++)
			free(v[i].name);
		free(v);
	}
	closedir(d);
	return err ? err : deleted;
}

int retention_remove_temps(int dir_fd, const char *dir)
{
	DIR *d = list_dir(dir_fd, dir);
	struct dirent *de;
	struct stat st;
	int removed = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (is_temp(de->d_name) && is_ours(d, de->d_name, &st) &&
		    !unlinkat(dir_fd, de->d_name, 0))
			removed++;
	closedir(d);
	return removed;
}
