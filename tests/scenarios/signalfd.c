/*
 * signalfd.c: signalfds survive checkpoint and restart with their masks and
 * flags, and the blocked signals pending at the checkpoint are read through
 * them after restart. fd 10 reads SIGUSR1 and SIGRTMIN+2 (non-blocking),
 * fd 11 reads SIGUSR2 (blocking, close-on-exec), fd 12 is a dup of fd 10,
 * fd 13 reads nothing (an empty mask). Pending, all blocked: SIGUSR1,
 * SIGUSR2, and SIGRTMIN+2 queued twice with values 42 and 43.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/kcmp.h>
#include "lib/scen.h"

enum {
	FD_A = 10,
	FD_B = 11,
	FD_DUP = 12,
	FD_NONE = 13,
};

static long same(int fa, int fb)
{
	return syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, fa, fb);
}

static void make_sigfd(int target, int flags, int s1, int s2)
{
	sigset_t set;

	sigemptyset(&set);
	if (s1)
		sigaddset(&set, s1);
	if (s2)
		sigaddset(&set, s2);
	scen_move_fd(signalfd(-1, &set, flags), target);
	if (flags & SFD_CLOEXEC) /* the move dropped it */
		CHECK_SYS(fcntl(target, F_SETFD, FD_CLOEXEC));
}

/* the fdinfo "sigmask:" of fd */
static uint64_t fdinfo_mask(int fd)
{
	char path[64], line[256];
	unsigned long long mask = 0;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	CHECK(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "sigmask: %llx", &mask) == 1)
			found = true;
	fclose(f);
	if (!found)
		scen_fail("fd %d: no sigmask in fdinfo", fd);
	return mask;
}

static void check_flags(int fd, bool nonblock, bool cloexec)
{
	int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD);

	CHECK(fl >= 0 && fdfl >= 0);
	CHECK_EQ(fl & O_ACCMODE, O_RDWR);
	CHECK_EQ(!!(fl & O_NONBLOCK), nonblock);
	CHECK_EQ(!!(fdfl & FD_CLOEXEC), cloexec);
}

static void check_read(int fd, int signo, int value, bool queued)
{
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) != sizeof(si))
		scen_fail("fd %d: read, expecting signal %d: %m", fd, signo);
	CHECK_EQ(si.ssi_signo, signo);
	CHECK_EQ(si.ssi_pid, getpid());
	if (queued) {
		CHECK_EQ(si.ssi_code, SI_QUEUE);
		CHECK_EQ(si.ssi_int, value);
	}
}

static void check_pending(uint64_t want)
{
	sigset_t set;

	CHECK_SYS(sigpending(&set));
	if ((scen_sigset_word(&set) & ~scen_sigbit(SIGTERM)) != want)
		scen_fail("pending 0x%llx, expected 0x%llx",
			  (unsigned long long)scen_sigset_word(&set), (unsigned long long)want);
}

int main(void)
{
	int rt = SIGRTMIN + 2;
	uint64_t all = scen_sigbit(SIGUSR1) | scen_sigbit(SIGUSR2) | scen_sigbit(rt);
	sigset_t block;

	scen_init();
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigaddset(&block, rt);
	CHECK_SYS(sigprocmask(SIG_BLOCK, &block, NULL));
	make_sigfd(FD_A, SFD_NONBLOCK, SIGUSR1, rt);
	make_sigfd(FD_B, SFD_CLOEXEC, SIGUSR2, 0);
	CHECK_SYS(dup2(FD_A, FD_DUP));
	make_sigfd(FD_NONE, SFD_NONBLOCK, 0, 0);
	CHECK_SYS(raise(SIGUSR1));
	CHECK_SYS(raise(SIGUSR2));
	CHECK_SYS(sigqueue(getpid(), rt, (union sigval){ .sival_int = 42 }));
	CHECK_SYS(sigqueue(getpid(), rt, (union sigval){ .sival_int = 43 }));
	check_pending(all);
	scen_ready();
	scen_wait();

	CHECK_EQ(fdinfo_mask(FD_A), scen_sigbit(SIGUSR1) | scen_sigbit(rt));
	CHECK_EQ(fdinfo_mask(FD_B), scen_sigbit(SIGUSR2));
	CHECK_EQ(fdinfo_mask(FD_NONE), 0);
	check_flags(FD_A, true, false);
	check_flags(FD_B, false, true);
	check_flags(FD_DUP, true, false);
	check_flags(FD_NONE, true, false);
	CHECK_EQ(same(FD_A, FD_DUP), 0);
	CHECK(same(FD_A, FD_B) != 0);
	check_pending(all);

	/* nothing for an empty mask, nor for fd 10 what is fd 11's */
	{
		struct signalfd_siginfo si;

		CHECK_EQ(read(FD_NONE, &si, sizeof(si)), -1);
		CHECK_EQ(errno, EAGAIN);
	}
	/* the lowest signal first, then the real-time ones in queue order */
	check_read(FD_A, SIGUSR1, 0, false);
	check_read(FD_DUP, rt, 42, true);
	check_read(FD_A, rt, 43, true);
	{
		struct signalfd_siginfo si;

		CHECK_EQ(read(FD_A, &si, sizeof(si)), -1);
		CHECK_EQ(errno, EAGAIN);
	}
	check_pending(scen_sigbit(SIGUSR2));
	check_read(FD_B, SIGUSR2, 0, false);
	check_pending(0);
	scen_pass();
}
