/* read_file.c - see read_file.h.
 *
 * The buffer starts at 16 KiB (or the cap, if smaller) and doubles; read()
 * is retried on EINTR. A file that grows while it is read (as /proc files
 * may) is simply read to its end or to the cap. A buffer given up on is
 * cleared first: it may hold a secret (which, under 16 KiB, is never
 * moved by realloc either).
 */
#include "read_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "safe_open.h"

#define FIRST_BUFFER 16384

static int give_up(char *b, size_t n, int err)
{
	if (b)
		explicit_bzero(b, n);
	free(b);
	return err;
}

/* Reads fd from its current position to EOF, at most max bytes. */
static int read_fd(int fd, size_t max, char **buf, size_t *len)
{
	size_t cap = max < FIRST_BUFFER ? max + 2 : FIRST_BUFFER, n = 0;
	char *b = NULL;

	for (;;) {
		if (!b || n + 1 >= cap) {
			char *nb;

			if (b) {
				if (cap > ((size_t)-1) / 2)
					return give_up(b, n, -EFBIG);
				cap *= 2;
			}
			nb = realloc(b, cap);
			if (!nb)
				return give_up(b, n, -ENOMEM);
			b = nb;
		}
		ssize_t r = read(fd, b + n, cap - 1 - n);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return give_up(b, n, -errno);
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max)
			return give_up(b, n, -EFBIG);
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

int sym_read_file_at(int dirfd, const char *path, size_t max, char **buf, size_t *len)
{
	int fd = openat(dirfd, path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	int err;

	*buf = NULL;
	*len = 0;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st))
		err = -errno;
	else if (!S_ISREG(st.st_mode))
		err = -EINVAL;
	else if ((uint64_t)st.st_size > max)
		err = -EFBIG;
	else
		err = read_fd(fd, max, buf, len);
	close(fd);
	return err;
}

int safe_read_file(int dirfd, const char *path, unsigned flags, uint64_t max_size,
		   char **buf, size_t *len, struct stat *st)
{
	int fd = safe_open(dirfd, path, flags, max_size, st), err;

	*buf = NULL;
	*len = 0;
	if (fd < 0)
		return fd;
	err = read_fd(fd, max_size && max_size < SIZE_MAX ? (size_t)max_size : SIZE_MAX, buf,
		      len);
	close(fd);
	return err;
}
