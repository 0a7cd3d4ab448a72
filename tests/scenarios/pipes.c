/*
 * pipes.c: pipes and FIFOs across checkpoint and restart.
 *
 *   - a pipe inside one process with data queued, a capacity of its own,
 *     O_NONBLOCK on its read end only, its write end dup'ed (the two
 *     descriptors share one description);
 *   - a pipe to a child: the child holds the write end with data queued,
 *     writes more after the restart and exits; the parent reads every byte
 *     and then end of file (nothing else holds a write end);
 *   - a pipe whose write end is closed everywhere: its data, then end of
 *     file; one whose read end is closed: EPIPE;
 *   - a named FIFO opened read-write and read-only, with data queued;
 *   - a FIFO whose path was unlinked, with data queued.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/scen.h"

#define CAPACITY (128 * 1024)
#define QUEUED 100000
#define CHILD_QUEUED 30000
#define CHILD_MORE 5000

static unsigned char byte_at(unsigned int seed, size_t i)
{
	return (unsigned char)((i * 131 + seed * 7 + (i >> 8)) & 0xff);
}

static void put(int fd, unsigned int seed, size_t from, size_t n)
{
	unsigned char buf[4096];

	while (n) {
		size_t k = n < sizeof(buf) ? n : sizeof(buf);
		ssize_t w;

		for (size_t i = 0; i < k; i++)
			buf[i] = byte_at(seed, from + i);
		w = write(fd, buf, k);
		if (w < 0)
			scen_fail("write: %m");
		from += (size_t)w;
		n -= (size_t)w;
	}
}

/* Reads n bytes and checks them. */
static void expect(int fd, unsigned int seed, size_t from, size_t n)
{
	unsigned char buf[4096];

	while (n) {
		size_t k = n < sizeof(buf) ? n : sizeof(buf);
		ssize_t r = read(fd, buf, k);

		if (r <= 0)
			scen_fail("read of seed %u at %zu: %zd (%m)", seed, from, r);
		for (ssize_t i = 0; i < r; i++)
			if (buf[i] != byte_at(seed, from + (size_t)i))
				scen_fail("seed %u byte %zu is %u, expected %u", seed,
					  from + (size_t)i, buf[i],
					  byte_at(seed, from + (size_t)i));
		from += (size_t)r;
		n -= (size_t)r;
	}
}

static void expect_eof(int fd)
{
	char c;

	CHECK_EQ(read(fd, &c, 1), 0);
}

static int queued(int fd)
{
	int n = -1;

	CHECK_SYS(ioctl(fd, FIONREAD, &n));
	return n;
}

int main(void)
{
	int a[2], b[2], eof[2], epipe[2], fifo_rw, fifo_rd, gone, a_dup, status;
	struct stat st;
	char c = 0;
	pid_t child;

	scen_init();
	signal(SIGPIPE, SIG_IGN);

	CHECK_SYS(pipe2(a, O_NONBLOCK));
	CHECK_SYS(fcntl(a[1], F_SETFL, 0));
	CHECK_EQ(fcntl(a[0], F_SETPIPE_SZ, CAPACITY), CAPACITY);
	put(a[1], 1, 0, QUEUED);
	a_dup = dup(a[1]);
	CHECK(a_dup >= 0);

	CHECK_SYS(pipe(b));
	child = fork();
	CHECK_SYS(child);
	if (child == 0) {
		close(b[0]);
		put(b[1], 2, 0, CHILD_QUEUED);
		scen_wait();
		put(b[1], 2, CHILD_QUEUED, CHILD_MORE);
		_exit(0);
	}
	close(b[1]);

	CHECK_SYS(pipe(eof));
	put(eof[1], 3, 0, 777);
	close(eof[1]);
	CHECK_SYS(pipe(epipe));
	close(epipe[0]);

	CHECK_SYS(mkfifo("fifo", 0640));
	fifo_rw = open("fifo", O_RDWR);
	CHECK_SYS(fifo_rw);
	fifo_rd = open("fifo", O_RDONLY | O_NONBLOCK);
	CHECK_SYS(fifo_rd);
	put(fifo_rw, 4, 0, 3000);

	CHECK_SYS(mkfifo("gone", 0600));
	gone = open("gone", O_RDWR);
	CHECK_SYS(gone);
	CHECK_SYS(unlink("gone"));
	put(gone, 5, 0, 1234);

	/* the child's data is all in the pipe before the checkpoint */
	while (queued(b[0]) < CHILD_QUEUED)
		usleep(1000);
	scen_ready();
	scen_wait();

	/* the pipe inside the process */
	CHECK_EQ(fcntl(a[0], F_GETPIPE_SZ), CAPACITY);
	CHECK(fcntl(a[0], F_GETFL) & O_NONBLOCK);
	CHECK(!(fcntl(a[1], F_GETFL) & O_NONBLOCK));
	CHECK_EQ(fcntl(a[0], F_GETFL) & O_ACCMODE, O_RDONLY);
	CHECK_EQ(fcntl(a[1], F_GETFL) & O_ACCMODE, O_WRONLY);
	CHECK_EQ(queued(a[0]), QUEUED);
	CHECK_SYS(fcntl(a_dup, F_SETFL, O_NONBLOCK));
	CHECK(fcntl(a[1], F_GETFL) & O_NONBLOCK); /* one description */
	put(a[1], 1, QUEUED, 10);
	expect(a[0], 1, 0, QUEUED + 10);
	CHECK_EQ(read(a[0], &c, 1), -1);
	CHECK_EQ(errno, EAGAIN);

	/* the child's pipe: everything, then end of file once it exits */
	kill(child, SIGTERM);
	expect(b[0], 2, 0, CHILD_QUEUED + CHILD_MORE);
	expect_eof(b[0]);
	CHECK_EQ(waitpid(child, &status, 0), child);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* ends closed everywhere */
	expect(eof[0], 3, 0, 777);
	expect_eof(eof[0]);
	CHECK_EQ(write(epipe[1], "x", 1), -1);
	CHECK_EQ(errno, EPIPE);

	/* the named FIFO: the same path, its data, both descriptions */
	CHECK_SYS(stat("fifo", &st));
	CHECK(S_ISFIFO(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0640);
	CHECK_EQ(fcntl(fifo_rw, F_GETFL) & O_ACCMODE, O_RDWR);
	CHECK(fcntl(fifo_rd, F_GETFL) & O_NONBLOCK);
	expect(fifo_rd, 4, 0, 3000);
	put(fifo_rw, 4, 3000, 100);
	expect(fifo_rd, 4, 3000, 100);

	/* the unlinked FIFO */
	CHECK_SYS(fstat(gone, &st));
	CHECK(S_ISFIFO(st.st_mode));
	CHECK_EQ(st.st_nlink, 0);
	expect(gone, 5, 0, 1234);
	scen_pass();
}
