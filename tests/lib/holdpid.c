/*
 * holdpid.c: holds a PID for a test. `holdpid PID` creates a process with
 * exactly that PID (clone3 with set_tid), which sleeps until it is killed;
 * holdpid itself exits at once. A restart that needs the PID (or a thread
 * ID of the image) must then refuse.
 */
#include <errno.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	pid_t pid = argc == 2 ? (pid_t)atoi(argv[1]) : 0;
	struct clone_args args = {
		.exit_signal = SIGCHLD,
		.set_tid = (uint64_t)(uintptr_t)&pid,
		.set_tid_size = 1,
	};
	long ret;

	if (pid <= 0) {
		fprintf(stderr, "usage: holdpid PID\n");
		return 2;
	}
	ret = syscall(SYS_clone3, &args, sizeof(args));
	if (ret < 0) {
		fprintf(stderr, "holdpid: pid %d: %s\n", pid, strerror(errno));
		return 1;
	}
	if (ret == 0) {
		setsid();
		for (;;)
			pause();
	}
	return 0;
}
