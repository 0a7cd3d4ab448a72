/*
 * io.c: full reads and writes that survive EINTR and short counts, file
 * slurping for /proc, and the interrupt flag behind ckpt_interrupt().
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include "ckpt.h"
#include "util/io.h"

static volatile sig_atomic_t interrupted;

void ckpt_interrupt(void)
{
	interrupted = 1;
}

bool is_interrupted(void)
{
	return interrupted;
}

ssize_t io_read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);

		if (n < 0) {
			if (errno == EINTR && !interrupted)
				continue;
			return errno == EINTR ? -ECANCELED : -errno;
		}
		if (n == 0)
			break;
		done += n;
	}
	return done;
}

int io_write_full(int fd, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);

		if (n < 0) {
			if (errno == EINTR && !interrupted)
				continue;
			return errno == EINTR ? -ECANCELED : -errno;
		}
		done += n;
	}
	return 0;
}

int io_slurp_at(int dirfd, const char *path, char **ret_buf, size_t *ret_len)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	int fd, err = 0;

	if (!buf)
		return -ENOMEM;
	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto out_free;
	}
	for (;;) {
		ssize_t n;

		if (len + 1 >= cap) {
			char *nbuf = realloc(buf, cap * 2);

			if (!nbuf) {
				err = -ENOMEM;
				goto out_close;
			}
			buf = nbuf;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out_close;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	*ret_buf = buf;
	if (ret_len)
		*ret_len = len;
	return 0;

out_close:
	close(fd);
out_free:
	free(buf);
	return err;
}

int io_slurp(const char *path, char **ret_buf, size_t *ret_len)
{
	return io_slurp_at(AT_FDCWD, path, ret_buf, ret_len);
}

int io_readlink(const char *path, char *buf, size_t len)
{
	ssize_t n = readlink(path, buf, len - 1);

	if (n < 0)
		return -errno;
	if ((size_t)n >= len - 1)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	return 0;
}
