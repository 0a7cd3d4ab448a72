/*
 * tmpfs_bw.c: this machine's own limit for the memory benchmark: how fast
 * SIZE_MIB bytes can simply be written to a new file at PATH (tmpfs) and
 * read back from it, in 1 MiB writes and reads. Prints "write_gbs read_gbs",
 * each the median of 5 runs.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (1U << 20)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/dev/shm/ckpt-bw";
	size_t len = (size_t)atol(argc > 2 ? argv[2] : "1024") << 20;
	char *buf = aligned_alloc(4096, CHUNK);
	double w[5], r[5];

	memset(buf, 0x5a, CHUNK);
	for (int k = 0; k < 5; k++) {
		int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		double t;

		t = now();
		for (size_t done = 0; done < len; done += CHUNK)
			if (write(fd, buf, CHUNK) != CHUNK)
				return 1;
		w[k] = len / (now() - t) / 1e9;
		lseek(fd, 0, SEEK_SET);
		t = now();
		for (size_t done = 0; done < len; done += CHUNK)
			if (read(fd, buf, CHUNK) != CHUNK)
				return 1;
		r[k] = len / (now() - t) / 1e9;
		close(fd);
		unlink(path);
	}
	qsort(w, 5, sizeof(w[0]), cmp);
	qsort(r, 5, sizeof(r[0]), cmp);
	printf("%.2f %.2f\n", w[2], r[2]);
	return 0;
}
