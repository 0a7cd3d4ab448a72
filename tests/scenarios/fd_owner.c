/*
 * fd_owner.c: the owners and signals of descriptions (F_SETOWN_EX,
 * F_SETSIG) survive checkpoint and restart:
 *   fd 10  owner the process itself, signal SIGUSR1
 *   fd 11  owner a thread of the process (F_OWNER_TID)
 *   fd 12  owner the process group the process leads
 *   fd 13  owner a child
 *   fd 14  signal SIGRTMIN+1 only, no owner
 *   fd 15  neither
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/scen.h"

static volatile pid_t tid;

static void *thread_main(void *arg)
{
	(void)arg;
	tid = (pid_t)syscall(SYS_gettid);
	for (;;)
		pause();
	return NULL;
}

static void set_owner(int fd, int type, pid_t pid)
{
	struct f_owner_ex own = { .type = type, .pid = pid };

	CHECK_SYS(fcntl(fd, F_SETOWN_EX, &own));
}

static void check_owner(int fd, int type, pid_t pid)
{
	struct f_owner_ex own = { .type = -1, .pid = -1 };

	CHECK_SYS(fcntl(fd, F_GETOWN_EX, &own));
	CHECK_EQ(own.pid, pid);
	if (pid)
		CHECK_EQ(own.type, type);
}

int main(void)
{
	pid_t self = getpid(), kid;
	pthread_t th;
	int status;

	scen_init();
	CHECK_SYS(setpgid(0, 0));
	CHECK(!pthread_create(&th, NULL, thread_main, NULL));
	while (!tid)
		usleep(1000);
	kid = fork();
	CHECK_SYS(kid);
	if (kid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* gone with a failed test */
		for (;;)
			pause();
	}
	for (int fd = 10; fd <= 15; fd++)
		scen_move_fd(open("/dev/null", O_RDONLY | O_CLOEXEC), fd);
	set_owner(10, F_OWNER_PID, self);
	CHECK_SYS(fcntl(10, F_SETSIG, SIGUSR1));
	set_owner(11, F_OWNER_TID, tid);
	set_owner(12, F_OWNER_PGRP, self);
	set_owner(13, F_OWNER_PID, kid);
	CHECK_SYS(fcntl(14, F_SETSIG, SIGRTMIN + 1));

	scen_ready();
	scen_wait();

	check_owner(10, F_OWNER_PID, self);
	CHECK_EQ(fcntl(10, F_GETSIG), SIGUSR1);
	check_owner(11, F_OWNER_TID, tid);
	CHECK_EQ(fcntl(11, F_GETSIG), 0);
	check_owner(12, F_OWNER_PGRP, self);
	CHECK_EQ(fcntl(12, F_GETOWN), -self);
	check_owner(13, F_OWNER_PID, kid);
	check_owner(14, 0, 0);
	CHECK_EQ(fcntl(14, F_GETSIG), SIGRTMIN + 1);
	check_owner(15, 0, 0);
	CHECK_EQ(fcntl(15, F_GETSIG), 0);
	CHECK_SYS(kill(kid, SIGKILL));
	CHECK_EQ(waitpid(kid, &status, 0), kid);
	scen_pass();
}
