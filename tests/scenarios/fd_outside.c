/*
 * fd_outside.c: descriptors that name a process ckpt cannot restore them
 * for, which checkpoint refuses (the runner's refuse mode), leaving the
 * process as it was:
 *   pidfd   fd 3: a pidfd of the process's parent, outside the tree
 *   proc    fd 3: /proc/PARENT/stat, of a process outside the tree
 *   thread  fd 3 of a child: a PIDFD_THREAD pidfd of a thread of its
 *           parent, another process
 *   owner   fd 3: /dev/null, its owner (F_SETOWN) the parent
 *   inherited  fd 3: a PIDFD_THREAD pidfd of a thread of the process,
 *           which a child inherited
 *   linked  fd 3: a file whose name was deleted, with another name left
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/scen.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

static volatile pid_t tid;

static void *thread_main(void *arg)
{
	(void)arg;
	tid = (pid_t)syscall(SYS_gettid);
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	pid_t parent = getppid(), kid = -1;
	char path[64], buf[64];
	pthread_t th;
	int status;

	scen_init();
	if (!strcmp(what, "pidfd")) {
		scen_move_fd((int)syscall(SYS_pidfd_open, parent, 0), 3);
	} else if (!strcmp(what, "proc")) {
		snprintf(path, sizeof(path), "/proc/%d/stat", parent);
		scen_move_fd(open(path, O_RDONLY), 3);
	} else if (!strcmp(what, "linked")) {
		scen_move_fd(open("first", O_RDWR | O_CREAT | O_EXCL, 0644), 3);
		CHECK_SYS(link("first", "second"));
		CHECK_SYS(unlink("first"));
	} else if (!strcmp(what, "owner")) {
		scen_move_fd(open("/dev/null", O_RDONLY), 3);
		CHECK_SYS(fcntl(3, F_SETOWN, parent));
	} else if (!strcmp(what, "thread") || !strcmp(what, "inherited")) {
		CHECK(!pthread_create(&th, NULL, thread_main, NULL));
		while (!tid)
			usleep(1000);
		if (what[0] == 'i')
			scen_move_fd((int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD), 3);
		kid = fork();
		CHECK_SYS(kid);
		if (kid == 0) {
			if (what[0] == 't')
				scen_move_fd((int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD), 3);
			prctl(PR_SET_PDEATHSIG, SIGKILL); /* gone with a failed test */
			for (;;)
				pause();
		}
		snprintf(path, sizeof(path), "/proc/%d/fd/3", kid);
		while (readlink(path, buf, sizeof(buf)) < 0)
			usleep(1000);
	} else {
		scen_fail("unknown case '%s'", what);
	}

	scen_ready();
	scen_wait();

	if (kid > 0) {
		CHECK_SYS(kill(kid, SIGKILL));
		CHECK_EQ(waitpid(kid, &status, 0), kid);
	} else {
		CHECK_SYS(fcntl(3, F_GETFD));
	}
	scen_pass();
}
