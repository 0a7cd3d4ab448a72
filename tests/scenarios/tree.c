/*
 * tree.c: a process tree comes back with every process's PID, parent,
 * process group and session, and zombies come back as zombies with their
 * exit status:
 *
 *   root
 *   +- a            plain child, sleeping
 *   |  +- a1        grandchild
 *   +- b            leads a session of its own (setsid)
 *   |  +- b1        in b's session and group
 *   +- c            leads a process group of its own
 *   |  +- c1        member of c's group
 *   +- z1           exited with status 7, not yet reaped
 *   +- z2           killed by SIGUSR1, not yet reaped
 *
 * On SIGTERM every process checks its own ids against what they were (but
 * the root's parent, which is the ckpt that restarted it), sends
 * SIGTERM to its children and waits for them: each must end with status 0
 * (its own checks passed). The root also reaps the zombies and checks their
 * statuses.
 *
 * A copy restarted with --pidns beside the original is in another PID
 * namespace: there the root's parent is the namespace's init (PID 1), and
 * the group and session the root had outside the tree read as 0 (they are
 * the restarting ckpt's, outside the namespace). Every other id must be as
 * it was.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/scen.h"

#define MAX_KIDS 8

struct ids {
	pid_t pid, ppid, pgid, sid;
};

static struct ids mine;
static struct ids outside; /* the root's parent, group and session, if outside the tree */
static uint64_t pidns; /* the original's PID namespace */
static pid_t kids[MAX_KIDS];
static int nkids;

static struct ids current(void)
{
	return (struct ids){ getpid(), getppid(), getpgid(0), getsid(0) };
}

static void check_ids(const char *who)
{
	struct ids now = current();
	bool copy = scen_pidns() != pidns;

	/* the root's parent is whoever restarted it; every other parent is
	 * in the tree */
	if (!strcmp(who, "root")) {
		if (copy && now.ppid != 1)
			scen_fail("root: parent %d in a new pid namespace, not its init", now.ppid);
		now.ppid = mine.ppid;
	}
	/* ids outside the tree are not seen from a new namespace */
	if (copy && outside.pgid && mine.pgid == outside.pgid && now.pgid == 0)
		now.pgid = mine.pgid;
	if (copy && outside.sid && mine.sid == outside.sid && now.sid == 0)
		now.sid = mine.sid;
	if (memcmp(&now, &mine, sizeof(now)))
		scen_fail("%s: pid/ppid/pgid/sid %d/%d/%d/%d, were %d/%d/%d/%d", who, now.pid,
			  now.ppid, now.pgid, now.sid, mine.pid, mine.ppid, mine.pgid, mine.sid);
}

/* Tells the children to check themselves and waits for their verdicts. */
static void check_kids(const char *who)
{
	for (int i = 0; i < nkids; i++) {
		int status;

		CHECK_SYS(kill(kids[i], SIGTERM));
		if (waitpid(kids[i], &status, 0) != kids[i])
			scen_fail("%s: waitpid(%d): %m", who, kids[i]);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			scen_fail("%s: child %d ended with status 0x%x", who, kids[i], status);
	}
}

/* The life of a descendant: set up, create its own children, then wait for
 * the check. */
static void descendant(const char *who, void (*setup)(void), void (*grow)(void))
{
	if (setup)
		setup();
	mine = current();
	if (grow)
		grow();
	scen_wait();
	check_ids(who);
	check_kids(who);
	exit(0);
}

static pid_t spawn(const char *who, void (*setup)(void), void (*grow)(void))
{
	pid_t pid = fork();

	CHECK_SYS(pid);
	if (pid == 0) {
		nkids = 0;
		descendant(who, setup, grow);
	}
	kids[nkids++] = pid;
	return pid;
}

static void grow_a(void)
{
	spawn("a1", NULL, NULL);
}

static void setup_b(void)
{
	CHECK_SYS(setsid());
}

static void grow_b(void)
{
	spawn("b1", NULL, NULL);
}

static void setup_c(void)
{
	CHECK_SYS(setpgid(0, 0));
}

static void setup_c1(void)
{
	CHECK_SYS(setpgid(0, getppid()));
}

static void grow_c(void)
{
	spawn("c1", setup_c1, NULL);
}

/* A child that is a zombie: it exits (or is killed) and nobody reaps it. */
static pid_t zombie(int code, int sig)
{
	pid_t pid = fork();
	siginfo_t info;

	CHECK_SYS(pid);
	if (pid == 0) {
		if (sig)
			raise(sig);
		_exit(code);
	}
	/* wait until it is dead, without reaping it */
	CHECK_SYS(waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT));
	return pid;
}

int main(void)
{
	pid_t z1, z2;
	int status;

	scen_init();
	signal(SIGUSR1, SIG_DFL);
	mine = current();
	pidns = scen_pidns();
	if (mine.pgid != mine.pid)
		outside.pgid = mine.pgid;
	if (mine.sid != mine.pid)
		outside.sid = mine.sid;
	spawn("a", NULL, grow_a);
	spawn("b", setup_b, grow_b);
	spawn("c", setup_c, grow_c);
	z1 = zombie(7, 0);
	z2 = zombie(0, SIGUSR1);
	/* the children have their ids before the checkpoint */
	usleep(100000);
	scen_ready();
	scen_wait();
	check_ids("root");
	check_kids("root");
	CHECK_EQ(waitpid(z1, &status, WNOHANG), z1);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 7)
		scen_fail("zombie %d: status 0x%x, not an exit with 7", z1, status);
	CHECK_EQ(waitpid(z2, &status, WNOHANG), z2);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGUSR1)
		scen_fail("zombie %d: status 0x%x, not killed by SIGUSR1", z2, status);
	CHECK_EQ(waitpid(-1, &status, WNOHANG), -1);
	scen_pass();
}
