/* read_file.c - see read_file.h.
 *
 * The buffer starts at 16 KiB and doubles; read() is retried on EINTR. A
 * file that grows while it is read (as /proc files may) is simply read to
 * its end or to the cap.
 */
#include "read_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

int sym_read_file_fd(int fd, size_t max, char **buf, size_t *len)
{
	size_t cap = 16384, n = 0;
	char *b = NULL;

	*buf = NULL;
	*len = 0;
	for (;;) {
		if (!b || n + 1 >= cap) {
			char *nb;

			if (b) {
				if (cap > ((size_t)-1) / 2) {
					free(b);
					return -EFBIG;
				}
				cap *= 2;
			}
			nb = realloc(b, cap);
			if (!nb) {
				free(b);
				return -ENOMEM;
			}
			b = nb;
		}
		ssize_t r = read(fd, b + n, cap - 1 - n);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			int err = -errno;

			free(b);
			return err;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			free(b);
			return -EFBIG;
		}
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

int sym_read_file_at(int dirfd, const char *path, size_t max, char **buf, size_t *len)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	int err;

	*buf = NULL;
	*len = 0;
	if (fd < 0)
		return -errno;
	err = sym_read_file_fd(fd, max, buf, len);
	close(fd);
	return err;
}
