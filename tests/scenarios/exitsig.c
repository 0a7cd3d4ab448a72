/*
 * exitsig.c: the signal a child's exit sends its parent (clone's exit
 * signal, /proc/PID/stat field 38) comes back, for live children and for
 * zombies:
 *
 *   root
 *   +- live1    exit signal SIGUSR1, running
 *   +- live0    exit signal 0, running
 *   +- zusr1    exit signal SIGUSR1, exited with status 3
 *   +- zrt      exit signal SIGRTMIN+2, exited with status 4
 *   +- z0       exit signal 0, exited with status 5
 *   +- zchld    exit signal SIGCHLD, exited with status 6
 *
 * The root blocks SIGUSR1, SIGRTMIN+2 and SIGCHLD and takes the signals of
 * the deaths before the checkpoint. After restart none of them is pending
 * (restart's own deaths of the zombies are no news to it), every child's
 * exit signal is what it was, the zombies are reaped (with __WALL: a child
 * whose exit signal is not SIGCHLD is a "clone" child) with their statuses,
 * and the live children, told to end, send SIGUSR1 and nothing.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "lib/scen.h"

static int exit_signal_of(pid_t pid)
{
	char path[64], buf[1024], *p;
	FILE *f;
	int sig = -100;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		scen_fail("open %s: %m", path);
	if (!fgets(buf, sizeof(buf), f))
		scen_fail("read %s: %m", path);
	fclose(f);
	p = strrchr(buf, ')');
	CHECK(p);
	/* field 3 is the first after the comm; field 38 is 35 further */
	p += 2;
	for (int field = 3; field < 38; field++) {
		p = strchr(p, ' ');
		CHECK(p);
		p++;
	}
	CHECK_EQ(sscanf(p, "%d", &sig), 1);
	return sig;
}

/* A child with exit signal sig that ends with status (or, if status is
 * -1, waits for SIGTERM and ends with 0). */
static pid_t child(int sig, int status)
{
	long pid = syscall(SYS_clone, (unsigned long)sig, 0, 0, 0, 0);

	if (pid < 0)
		scen_fail("clone with exit signal %d: %m", sig);
	if (pid)
		return (pid_t)pid;
	if (status >= 0)
		_exit(status);
	scen_wait();
	_exit(0);
}

static void wait_zombie(pid_t pid)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	for (int i = 0; i < 1000; i++) {
		FILE *f = fopen(path, "re");
		struct timespec ts = { 0, 5 * 1000000 };

		if (!f)
			scen_fail("open %s: %m", path);
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
		p = strrchr(buf, ')');
		if (p && p[2] == 'Z')
			return;
		nanosleep(&ts, NULL);
	}
	scen_fail("pid %d never became a zombie", pid);
}

static void take(int sig)
{
	struct timespec ts = { 5, 0 };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	if (sigtimedwait(&set, NULL, &ts) != sig)
		scen_fail("signal %d never came: %m", sig);
}

static void none_pending(void)
{
	sigset_t set;

	CHECK_SYS(sigpending(&set));
	CHECK(!sigismember(&set, SIGUSR1));
	CHECK(!sigismember(&set, SIGRTMIN + 2));
	CHECK(!sigismember(&set, SIGCHLD));
}

static void reap(pid_t pid, int want)
{
	int status;

	CHECK_EQ(waitpid(pid, &status, __WALL), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != want)
		scen_fail("pid %d ended with status 0x%x, expected exit %d", pid, status, want);
}

int main(void)
{
	struct {
		const char *what;
		int sig, status;
		pid_t pid;
	} kids[] = {
		{ "live1", SIGUSR1, -1, 0 }, { "live0", 0, -1, 0 }, { "zusr1", SIGUSR1, 3, 0 },
		{ "zrt", 0, 4, 0 },	     { "z0", 0, 5, 0 },	    { "zchld", SIGCHLD, 6, 0 },
	};
	const size_t n = sizeof(kids) / sizeof(kids[0]);
	sigset_t block;

	scen_init();
	kids[3].sig = SIGRTMIN + 2;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGRTMIN + 2);
	sigaddset(&block, SIGCHLD);
	CHECK_SYS(sigprocmask(SIG_BLOCK, &block, NULL));
	for (size_t i = 0; i < n; i++)
		kids[i].pid = child(kids[i].sig, kids[i].status);
	for (size_t i = 0; i < n; i++) {
		if (kids[i].status < 0)
			continue;
		wait_zombie(kids[i].pid);
		if (kids[i].sig)
			take(kids[i].sig);
	}
	none_pending();
	for (size_t i = 0; i < n; i++)
		CHECK_EQ(exit_signal_of(kids[i].pid), kids[i].sig);
	scen_ready();
	scen_wait();

	none_pending();
	for (size_t i = 0; i < n; i++)
		if (exit_signal_of(kids[i].pid) != kids[i].sig)
			scen_fail("%s: exit signal is %d, was %d", kids[i].what,
				  exit_signal_of(kids[i].pid), kids[i].sig);
	for (size_t i = 0; i < n; i++)
		if (kids[i].status >= 0)
			reap(kids[i].pid, kids[i].status);
	CHECK_SYS(kill(kids[0].pid, SIGTERM));
	take(SIGUSR1);
	reap(kids[0].pid, 0);
	CHECK_SYS(kill(kids[1].pid, SIGTERM));
	reap(kids[1].pid, 0);
	none_pending();
	scen_pass();
}
