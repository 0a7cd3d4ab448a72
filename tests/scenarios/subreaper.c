/*
 * subreaper.c: a child subreaper (PR_SET_CHILD_SUBREAPER) inside the tree,
 * with orphans reparented to it. The argument says where it is: "child"
 * (the subreaper S is a child of the root) or "root" (the root is S).
 *
 *   S               PR_SET_CHILD_SUBREAPER
 *   +- g1           its parent c1 exited and S reaped c1: g1 is S's child
 *   +- c2           exited with status 9, not reaped (a zombie)
 *   +- g2           c2's child, reparented to S when c2 exited
 *   +- g3           reparented to S, then exited with status 4 (a zombie)
 *
 * After restart, on SIGTERM: every process has its ids back (g1 and g2
 * their parent S, which they did not have when they were forked); S is
 * still a subreaper (PR_GET_CHILD_SUBREAPER says 1); S reaps g1 and g2
 * (after telling them to check themselves), the zombies c2 and g3 with
 * their statuses, and has no other child; and an orphan made after the
 * restart is reparented to S, which reaps it. Every check is made and
 * reported (stderr) before the verdict.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/scen.h"

struct ids {
	pid_t pid, ppid, pgid, sid;
};

/* Shared by the whole tree: pids the grandchildren report. */
struct board {
	volatile pid_t g1, g2, g3, g4;
	volatile pid_t g4_parent; /* the parent g4 found after its own was gone */
};

static struct board *board;
static struct ids mine;
static int failures;

static struct ids current(void)
{
	return (struct ids){ getpid(), getppid(), getpgid(0), getsid(0) };
}

/* A failed check that does not stop the others: reported now, counted. */
#define soft_fail(...) (scen_report(__VA_ARGS__), failures++)

static void check_ids(const char *who, bool parent_checkable)
{
	struct ids now = current();

	if (!parent_checkable)
		now.ppid = mine.ppid;
	if (memcmp(&now, &mine, sizeof(now)))
		soft_fail("%s: pid/ppid/pgid/sid %d/%d/%d/%d, were %d/%d/%d/%d", who, now.pid,
			  now.ppid, now.pgid, now.sid, mine.pid, mine.ppid, mine.pgid, mine.sid);
}

/* Waits (up to 5 s) until the calling process's parent is not `old`. */
static pid_t wait_orphaned(pid_t old)
{
	for (int i = 0; i < 5000 && getppid() == old; i++)
		usleep(1000);
	return getppid();
}

/* A grandchild that lives on: once reparented to S, it reports its pid and
 * waits for the check. */
static void grandchild(volatile pid_t *slot, pid_t parent, pid_t subreaper)
{
	if (wait_orphaned(parent) != subreaper)
		scen_fail("grandchild: reparented to %d, not to the subreaper %d", getppid(),
			  subreaper);
	mine = current();
	*slot = getpid();
	scen_wait();
	check_ids("grandchild", true);
	exit(failures ? 1 : 0);
}

/* A child of S that forks a grandchild and exits with `code`. */
static pid_t orphan_maker(int code, void (*body)(pid_t, pid_t), pid_t subreaper)
{
	pid_t pid = fork(), me;

	CHECK_SYS(pid);
	if (pid)
		return pid;
	me = getpid();
	pid = fork();
	if (pid < 0)
		_exit(100);
	if (pid == 0)
		body(me, subreaper);
	_exit(code);
}

static void body_g1(pid_t parent, pid_t s)
{
	grandchild(&board->g1, parent, s);
}

static void body_g2(pid_t parent, pid_t s)
{
	grandchild(&board->g2, parent, s);
}

static void body_g3(pid_t parent, pid_t s)
{
	if (wait_orphaned(parent) != s)
		_exit(100);
	board->g3 = getpid();
	_exit(4);
}

static void body_g4(pid_t parent, pid_t s)
{
	(void)s;
	board->g4 = getpid();
	board->g4_parent = wait_orphaned(parent);
	_exit(0);
}

static void wait_for(volatile pid_t *slot, const char *what)
{
	for (int i = 0; i < 5000 && !*slot; i++)
		usleep(1000);
	if (!*slot)
		scen_fail("%s never reported", what);
}

/* Reaps pid, which must end as `expect` says (a wait status). */
static void reap(pid_t pid, int expect, const char *what)
{
	int status;
	pid_t got = waitpid(pid, &status, 0);

	if (got != pid)
		soft_fail("subreaper: waitpid(%s %d) = %d: %m", what, pid, got);
	else if (status != expect)
		soft_fail("subreaper: %s %d ended with status 0x%x, not 0x%x", what, pid, status,
			  expect);
}

/* The subreaper's life; it returns when every check is made. */
static void subreaper(bool is_root)
{
	pid_t self = getpid(), c1, c2, c3, c4, g4;
	siginfo_t info;
	int status, on = -1;

	CHECK_SYS(prctl(PR_SET_CHILD_SUBREAPER, 1));
	mine = current();
	c1 = orphan_maker(0, body_g1, self);
	CHECK_EQ(waitpid(c1, &status, 0), c1);
	CHECK_EQ(status, 0);
	c2 = orphan_maker(9, body_g2, self);
	/* c2 dead, but a zombie: g2 was reparented when it died */
	CHECK_SYS(waitid(P_PID, (id_t)c2, &info, WEXITED | WNOWAIT));
	c3 = orphan_maker(0, body_g3, self);
	CHECK_EQ(waitpid(c3, &status, 0), c3);
	CHECK_EQ(status, 0);
	wait_for(&board->g1, "g1");
	wait_for(&board->g2, "g2");
	wait_for(&board->g3, "g3");
	CHECK_SYS(waitid(P_PID, (id_t)board->g3, &info, WEXITED | WNOWAIT));
	scen_ready();
	scen_wait();

	check_ids("subreaper", !is_root);
	if (prctl(PR_GET_CHILD_SUBREAPER, (unsigned long)&on) < 0)
		soft_fail("subreaper: PR_GET_CHILD_SUBREAPER: %m");
	else if (on != 1)
		soft_fail("subreaper: PR_GET_CHILD_SUBREAPER says %d: no longer a subreaper", on);
	CHECK_SYS(kill(board->g1, SIGTERM));
	CHECK_SYS(kill(board->g2, SIGTERM));
	reap(board->g1, 0, "grandchild g1");
	reap(board->g2, 0, "grandchild g2");
	reap(c2, 9 << 8, "zombie child c2");
	reap(board->g3, 4 << 8, "zombie grandchild g3");
	if (waitpid(-1, &status, WNOHANG) != -1 || errno != ECHILD)
		soft_fail("subreaper: has a child it should not have");

	/* a new orphan, after the restart */
	c4 = orphan_maker(0, body_g4, self);
	reap(c4, 0, "child c4");
	wait_for(&board->g4, "g4");
	g4 = board->g4;
	for (int i = 0; i < 5000 && !board->g4_parent; i++)
		usleep(1000);
	if (board->g4_parent != self)
		soft_fail("subreaper: a new orphan went to pid %d, not to the subreaper %d",
			  board->g4_parent, self);
	else
		reap(g4, 0, "new orphan g4");
}

int main(int argc, char **argv)
{
	bool is_root = argc == 2 && !strcmp(argv[1], "root");
	int status;
	pid_t s;

	scen_init();
	if (argc != 2 || (!is_root && strcmp(argv[1], "child")))
		scen_fail("usage: subreaper child|root");
	board = mmap(NULL, sizeof(*board), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
		     0);
	CHECK(board != MAP_FAILED);
	if (is_root) {
		subreaper(true);
		if (failures)
			scen_fail("subreaper: %d check(s) failed", failures);
		scen_pass();
	}
	mine = current();
	s = fork();
	CHECK_SYS(s);
	if (s == 0) {
		subreaper(false);
		exit(failures ? 1 : 0);
	}
	scen_wait();
	check_ids("root", false);
	CHECK_SYS(kill(s, SIGTERM));
	CHECK_EQ(waitpid(s, &status, 0), s);
	if (status)
		soft_fail("root: the subreaper ended with status 0x%x", status);
	if (waitpid(-1, &status, WNOHANG) != -1 || errno != ECHILD)
		soft_fail("root: has a child it should not have");
	if (failures)
		scen_fail("root: %d check(s) failed", failures);
	scen_pass();
}
