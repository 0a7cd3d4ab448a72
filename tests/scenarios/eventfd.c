/*
 * eventfd.c: eventfds survive checkpoint and restart with their counters,
 * their mode and their flags. fd 10 holds a count wider than 32 bits
 * (blocking), fd 11 is a semaphore holding 3 (non-blocking, close-on-exec),
 * fd 12 is a dup of fd 10, fd 13 is empty (non-blocking), fd 14 holds the
 * largest count there is. A child shares fd 11 through fork: after restart
 * it is still the one description (kcmp), and the one semaphore read the
 * child takes leaves two for the parent.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/kcmp.h>
#include "lib/scen.h"

enum {
	FD_WIDE = 10,
	FD_SEM = 11,
	FD_DUP = 12,
	FD_EMPTY = 13,
	FD_FULL = 14,
};

#define WIDE_COUNT 0x123456789aULL
#define FULL_COUNT 0xfffffffffffffffeULL

static long same(pid_t a, pid_t b, int fa, int fb)
{
	return syscall(SYS_kcmp, a, b, KCMP_FILE, fa, fb);
}

static uint64_t get(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		scen_fail("fd %d: read: %m", fd);
	return v;
}

static void put(int fd, uint64_t v)
{
	if (write(fd, &v, sizeof(v)) != sizeof(v))
		scen_fail("fd %d: write %llu: %m", fd, (unsigned long long)v);
}

static void check_empty(int fd)
{
	uint64_t v;

	CHECK_EQ(read(fd, &v, sizeof(v)), -1);
	CHECK_EQ(errno, EAGAIN);
}

static void check_flags(int fd, bool nonblock, bool cloexec)
{
	int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD);

	CHECK(fl >= 0 && fdfl >= 0);
	CHECK_EQ(fl & O_ACCMODE, O_RDWR);
	CHECK_EQ(!!(fl & O_NONBLOCK), nonblock);
	CHECK_EQ(!!(fdfl & FD_CLOEXEC), cloexec);
}

static void check_link(int fd)
{
	char link[64], target[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	CHECK(n > 0);
	target[n] = 0;
	if (strcmp(target, "anon_inode:[eventfd]"))
		scen_fail("fd %d is '%s', not an eventfd", fd, target);
}

static void kid(void)
{
	scen_wait();
	CHECK_EQ(same(getppid(), getpid(), FD_SEM, FD_SEM), 0);
	check_flags(FD_SEM, true, true);
	CHECK_EQ(get(FD_SEM), 1);
	_exit(0);
}

int main(void)
{
	pid_t child;
	int status;

	scen_init();
	scen_move_fd(eventfd(0, 0), FD_WIDE);
	put(FD_WIDE, WIDE_COUNT);
	scen_move_fd(eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK), FD_SEM);
	CHECK_SYS(fcntl(FD_SEM, F_SETFD, FD_CLOEXEC));
	CHECK_SYS(dup2(FD_WIDE, FD_DUP));
	scen_move_fd(eventfd(0, EFD_NONBLOCK), FD_EMPTY);
	scen_move_fd(eventfd(0, EFD_NONBLOCK), FD_FULL);
	put(FD_FULL, FULL_COUNT);
	child = fork();
	CHECK_SYS(child);
	if (!child) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		kid();
	}
	scen_ready();
	scen_wait();

	for (int fd = FD_WIDE; fd <= FD_FULL; fd++)
		check_link(fd);
	check_flags(FD_WIDE, false, false);
	check_flags(FD_SEM, true, true);
	check_flags(FD_DUP, false, false);
	check_flags(FD_EMPTY, true, false);
	check_flags(FD_FULL, true, false);
	CHECK_EQ(same(getpid(), getpid(), FD_WIDE, FD_DUP), 0);
	CHECK(same(getpid(), getpid(), FD_WIDE, FD_EMPTY) != 0);
	CHECK(same(getpid(), getpid(), FD_EMPTY, FD_FULL) != 0);
	CHECK_EQ(same(getpid(), child, FD_SEM, FD_SEM), 0);

	/* the child takes one of the semaphore's three */
	CHECK_SYS(kill(child, SIGTERM));
	CHECK_EQ(waitpid(child, &status, 0), child);
	if (status)
		scen_fail("child ended with status 0x%x", status);
	CHECK_EQ(get(FD_SEM), 1);
	CHECK_EQ(get(FD_SEM), 1);
	check_empty(FD_SEM);

	/* a plain counter is read whole; the dup shares it */
	if (get(FD_WIDE) != WIDE_COUNT)
		scen_fail("fd %d lost its count", FD_WIDE);
	put(FD_DUP, 5);
	CHECK_EQ(get(FD_WIDE), 5);

	check_empty(FD_EMPTY);
	put(FD_EMPTY, 7);
	put(FD_EMPTY, 8);
	CHECK_EQ(get(FD_EMPTY), 15);
	check_empty(FD_EMPTY);

	/* full: one more would overflow */
	CHECK_EQ(write(FD_FULL, &(uint64_t){ 1 }, sizeof(uint64_t)), -1);
	CHECK_EQ(errno, EAGAIN);
	if (get(FD_FULL) != FULL_COUNT)
		scen_fail("fd %d lost its count", FD_FULL);
	scen_pass();
}
