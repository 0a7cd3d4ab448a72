/*
 * tmpfs_bw.c: this machine's own limit for the memory benchmark, measured
 * next to each checkpoint so both meet the same conditions.
 *
 *   tmpfs_bw write PATH SIZE_MIB   writes SIZE_MIB to a new file at PATH in
 *                                  1 MiB writes, deletes it, prints GB/s
 *   tmpfs_bw read PATH             reads the file at PATH in 1 MiB reads,
 *                                  prints GB/s
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

int main(int argc, char **argv)
{
	char *buf = aligned_alloc(4096, CHUNK);
	size_t total = 0;
	double t;
	int fd;

	if (argc < 3 || !buf)
		return 2;
	memset(buf, 0x5a, CHUNK);
	if (!strcmp(argv[1], "write") && argc == 4) {
		size_t len = (size_t)atol(argv[3]) << 20;

		fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0)
			return 1;
		t = now();
		for (; total < len; total += CHUNK)
			if (write(fd, buf, CHUNK) != CHUNK)
				return 1;
		t = now() - t;
		close(fd);
		unlink(argv[2]);
	} else if (!strcmp(argv[1], "read")) {
		ssize_t n;

		fd = open(argv[2], O_RDONLY);
		if (fd < 0)
			return 1;
		t = now();
		while ((n = read(fd, buf, CHUNK)) > 0)
			total += (size_t)n;
		t = now() - t;
		close(fd);
	} else {
		return 2;
	}
	printf("%.3f\n", total / t / 1e9);
	return 0;
}
