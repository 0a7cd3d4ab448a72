/*
 * fd_pidfd.c: pidfds survive checkpoint and restart.
 *   fd 10  pidfd of child A (alive), close-on-exec
 *   fd 11  another pidfd of A, O_NONBLOCK; fd 12 a dup of it (one
 *          description), without close-on-exec
 *   fd 13  pidfd of child B, which exited (status 5) and was reaped:
 *          readable, waitid on it fails with ECHILD, PIDFD_GET_INFO tells
 *          the status; fd 17 another description of it (pidfds of one
 *          process share an inode, and so do these)
 *   fd 18  pidfd of child E, killed by SIGUSR2 and reaped
 *   fd 14  pidfd of child C, a zombie: readable; waitid reaps it, status 7
 *   fd 15  PIDFD_THREAD pidfd of a thread of the process: not readable
 *          while the thread lives
 *   fd 16  pidfd of the process itself
 * Child D, forked before fd 15 is open, inherits the others (a thread
 * pidfd of another process is refused). After restart, fdinfo names the same pids
 * in both processes; A is still alive (polling its pidfd says so) and
 * pidfd_send_signal kills it, which waitid(P_PIDFD) then sees.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/kcmp.h>
#include "lib/scen.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

struct info {
	uint64_t mask;
	uint64_t cgroupid;
	uint32_t ids[11];
	int32_t exit_code;
};
#define INFO_EXIT (1ULL << 3)
#define GET_INFO _IOWR(0xFF, 11, struct info)

/* The wait status PIDFD_GET_INFO tells of a reaped process. */
static int exit_status(int fd)
{
	struct info info = { .mask = INFO_EXIT };

	CHECK_SYS(ioctl(fd, GET_INFO, &info));
	CHECK(info.mask & INFO_EXIT);
	return info.exit_code;
}

static pid_t tid;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;

static void *thread_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	tid = (pid_t)syscall(SYS_gettid);
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
	for (;;)
		pause();
	return NULL;
}

static int pidfd_open(pid_t pid, unsigned int flags)
{
	return (int)syscall(SYS_pidfd_open, pid, flags);
}

/* The "Pid:" of fd's fdinfo. */
static long fdinfo_pid(int fd)
{
	char path[64], buf[512], *p;
	int f;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = open(path, O_RDONLY | O_CLOEXEC);
	CHECK_SYS(f);
	n = read(f, buf, sizeof(buf) - 1);
	CHECK(n > 0);
	buf[n] = 0;
	close(f);
	p = strstr(buf, "\nPid:");
	CHECK(p);
	return strtol(p + 5, NULL, 10);
}

static unsigned long long ino(int fd)
{
	struct stat st;

	CHECK_SYS(fstat(fd, &st));
	return (unsigned long long)st.st_ino;
}

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	CHECK_SYS(poll(&p, 1, 0));
	return p.revents & POLLIN;
}

static void place(int fd, int target, bool cloexec)
{
	CHECK_SYS(fd);
	CHECK_SYS(dup3(fd, target, cloexec ? O_CLOEXEC : 0));
	close(fd);
}

static pid_t child(int status, bool wait_forever)
{
	pid_t pid = fork();

	CHECK_SYS(pid);
	if (pid == 0) {
		if (!wait_forever)
			_exit(status);
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* gone with a failed test */
		for (;;)
			pause();
	}
	return pid;
}

/* Child D: its inherited pidfds, once told; exits 0 when they are right. */
static void inheritor(pid_t a, pid_t c, pid_t parent)
{
	sigset_t usr1;
	int sig;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1); /* blocked by the parent before the fork */
	CHECK(!sigwait(&usr1, &sig));
	CHECK_EQ(fdinfo_pid(10), a);
	CHECK_EQ(fdinfo_pid(11), a);
	CHECK_EQ(fdinfo_pid(12), a);
	CHECK_EQ(fdinfo_pid(13), -1);
	CHECK_EQ(fdinfo_pid(14), c);
	CHECK_EQ(fdinfo_pid(16), parent);
	CHECK_EQ(fcntl(11, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	CHECK_EQ(fcntl(10, F_GETFD), FD_CLOEXEC);
	CHECK_EQ(fcntl(12, F_GETFD), 0);
	CHECK_EQ(syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, 11, 12), 0);
	CHECK(readable(13));
	CHECK(!readable(10));
	CHECK(!readable(16));
	/* not its children */
	CHECK_EQ(waitid(P_PIDFD, 10, &(siginfo_t){ 0 }, WEXITED | WNOHANG), -1);
	CHECK_EQ(errno, ECHILD);
	_exit(0);
}

int main(void)
{
	pid_t a, b, c, d, e, self = getpid();
	pthread_t th;
	sigset_t usr1, old;
	siginfo_t si;
	int status;

	scen_init();
	a = child(0, true);
	b = child(5, false);
	e = child(0, true);
	c = child(7, false);
	place(pidfd_open(a, 0), 10, true);
	place(pidfd_open(a, O_NONBLOCK), 11, true);
	CHECK_SYS(dup3(11, 12, 0));
	place(pidfd_open(b, 0), 13, true);
	place(pidfd_open(b, O_NONBLOCK), 17, false);
	CHECK_SYS(waitpid(b, NULL, 0));
	place(pidfd_open(e, 0), 18, true);
	CHECK_SYS(kill(e, SIGUSR2));
	CHECK_SYS(waitpid(e, NULL, 0));
	CHECK_EQ(exit_status(13), 5 << 8);
	CHECK_EQ(exit_status(18), SIGUSR2);
	place(pidfd_open(c, 0), 14, true);
	memset(&si, 0, sizeof(si));
	CHECK_SYS(waitid(P_PID, c, &si, WEXITED | WNOWAIT));
	CHECK_EQ(si.si_pid, c);
	pthread_mutex_lock(&lock);
	CHECK(!pthread_create(&th, NULL, thread_main, NULL));
	while (!tid)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	place(pidfd_open(self, 0), 16, false);
	CHECK_EQ(fdinfo_pid(13), -1);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	CHECK_SYS(sigprocmask(SIG_BLOCK, &usr1, &old));
	d = fork();
	CHECK_SYS(d);
	if (d == 0)
		inheritor(a, c, self);
	CHECK_SYS(sigprocmask(SIG_SETMASK, &old, NULL));
	place(pidfd_open(tid, PIDFD_THREAD), 15, true);

	scen_ready();
	scen_wait();

	/* D checks its copies first */
	CHECK_SYS(kill(d, SIGUSR1));
	CHECK_EQ(waitpid(d, &status, 0), d);
	CHECK_EQ(status, 0);

	CHECK_EQ(getpid(), self);
	CHECK_EQ(fdinfo_pid(10), a);
	CHECK_EQ(fdinfo_pid(11), a);
	CHECK_EQ(fdinfo_pid(12), a);
	CHECK_EQ(fdinfo_pid(13), -1);
	CHECK_EQ(fdinfo_pid(14), c);
	CHECK_EQ(fdinfo_pid(15), tid);
	CHECK_EQ(fdinfo_pid(16), self);
	CHECK_EQ(fcntl(10, F_GETFD), FD_CLOEXEC);
	CHECK_EQ(fcntl(12, F_GETFD), 0);
	CHECK_EQ(fcntl(16, F_GETFD), 0);
	CHECK_EQ(fcntl(10, F_GETFL) & O_NONBLOCK, 0);
	CHECK_EQ(fcntl(11, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	CHECK_EQ(fcntl(15, F_GETFL) & PIDFD_THREAD, PIDFD_THREAD);
	CHECK_EQ(fcntl(10, F_GETFL) & PIDFD_THREAD, 0);
	CHECK_EQ(syscall(SYS_kcmp, self, self, KCMP_FILE, 11, 12), 0);
	CHECK(syscall(SYS_kcmp, self, self, KCMP_FILE, 10, 11) != 0);
	CHECK(syscall(SYS_kcmp, self, self, KCMP_FILE, 13, 17) != 0);
	CHECK_EQ(fdinfo_pid(17), -1);
	CHECK_EQ(fcntl(17, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	CHECK_EQ(ino(10), ino(11));
	CHECK_EQ(ino(13), ino(17));
	CHECK(ino(13) != ino(18));
	CHECK_EQ(exit_status(13), 5 << 8);
	CHECK_EQ(exit_status(17), 5 << 8);
	CHECK_EQ(exit_status(18), SIGUSR2);
	CHECK_EQ(fdinfo_pid(18), -1);
	CHECK(ino(10) != ino(16));
	CHECK(ino(10) != ino(13));
	CHECK(ino(13) != ino(14));

	/* a reaped process: exited, and no one's to wait for */
	CHECK(readable(13));
	CHECK_EQ(waitid(P_PIDFD, 13, &si, WEXITED | WNOHANG), -1);
	CHECK_EQ(errno, ECHILD);
	/* live ones */
	CHECK(!readable(10));
	CHECK(!readable(11));
	CHECK(!readable(15));
	CHECK(!readable(16));
	/* O_NONBLOCK: waitid on a live child does not block */
	CHECK_EQ(waitid(P_PIDFD, 11, &si, WEXITED), -1);
	CHECK_EQ(errno, EAGAIN);
	/* the zombie */
	CHECK(readable(14));
	memset(&si, 0, sizeof(si));
	CHECK_SYS(waitid(P_PIDFD, 14, &si, WEXITED));
	CHECK_EQ(si.si_pid, c);
	CHECK_EQ(si.si_code, CLD_EXITED);
	CHECK_EQ(si.si_status, 7);
	/* A goes through its pidfd */
	CHECK_SYS(syscall(SYS_pidfd_send_signal, 10, SIGKILL, NULL, 0));
	memset(&si, 0, sizeof(si));
	CHECK_SYS(waitid(P_PIDFD, 10, &si, WEXITED));
	CHECK_EQ(si.si_pid, a);
	CHECK_EQ(si.si_code, CLD_KILLED);
	CHECK_EQ(si.si_status, SIGKILL);
	CHECK(readable(12));
	CHECK_EQ(fdinfo_pid(10), -1);
	scen_pass();
}
