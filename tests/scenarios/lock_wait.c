/*
 * lock_wait.c: a process waiting for a POSIX lock at checkpoint waits
 * again after restart, and the lock it waits for is still its holder's.
 * The child, a process of the tree, holds a write lock of bytes 0-9 of
 * w.dat; the process waits in F_SETLKW for bytes 5-14, and the child says
 * ready once /proc/locks lists that wait. After restart the wait goes on
 * until SIGTERM interrupts it (no SA_RESTART: EINTR); a checker child finds
 * the child's lock, with its pid; once the child is gone, the process gets
 * its lock, and the checker finds it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/scen.h"

static pid_t self, holder;
static bool got; /* the process holds bytes 5-14 */

/* Whether /proc/locks lists pid waiting for a lock. */
static bool is_waiting(pid_t pid)
{
	FILE *f = fopen("/proc/locks", "re");
	char line[256], kind[16];
	bool found = false;
	int id, p;

	if (!f)
		scen_fail("cannot open /proc/locks: %m");
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%d: -> %15s %*s %*s %d", &id, kind, &p) == 3 &&
			!strcmp(kind, "POSIX") && p == pid;
	fclose(f);
	return found;
}

static void checker(void)
{
	int fd = open("w.dat", O_RDWR | O_CLOEXEC);
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 9, .l_len = 1 };

	CHECK_SYS(fd);
	CHECK_SYS(fcntl(fd, F_GETLK, &fl));
	CHECK_EQ(fl.l_type, F_WRLCK);
	CHECK_EQ(fl.l_start, got ? 5 : 0);
	CHECK_EQ(fl.l_len, 10);
	CHECK_EQ(fl.l_pid, got ? self : holder);
	CHECK_EQ(scen_count_locks(fd, "POSIX", "WRITE", 0), 1);
	CHECK_EQ(scen_count_locks(fd, "POSIX", "WRITE", got ? self : holder), 1);
	close(fd);
}

int main(void)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10 };
	int pipefd[2], status;
	char c;

	scen_init();
	self = getpid();
	scen_move_fd(open("w.dat", O_RDWR | O_CREAT, 0644), 3);
	CHECK_SYS(pipe2(pipefd, O_CLOEXEC));
	holder = fork();
	CHECK_SYS(holder);
	if (!holder) {
		CHECK_SYS(prctl(PR_SET_PDEATHSIG, SIGKILL));
		close(pipefd[0]);
		CHECK_SYS(fcntl(3, F_SETLK, &fl));
		CHECK_EQ(write(pipefd[1], "x", 1), 1);
		close(pipefd[1]);
		while (!is_waiting(self))
			usleep(1000);
		scen_ready();
		for (;;)
			pause();
	}
	close(pipefd[1]);
	CHECK_EQ(read(pipefd[0], &c, 1), 1);
	close(pipefd[0]);
	fl = (struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 5, .l_len = 10 };
	CHECK_EQ(fcntl(3, F_SETLKW, &fl), -1);
	CHECK_EQ(errno, EINTR);
	CHECK(scen_told());
	CHECK_EQ(getpid(), self);
	scen_in_child(checker);
	CHECK_SYS(kill(holder, SIGKILL));
	CHECK_EQ(waitpid(holder, &status, 0), holder);
	CHECK_SYS(fcntl(3, F_SETLKW, &fl));
	got = true;
	scen_in_child(checker);
	scen_pass();
}
