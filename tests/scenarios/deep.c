/*
 * deep.c: big trees come back whole, every process with its PID, parent,
 * process group and session. The first argument says which tree:
 *
 *   chain N   a chain of N levels below the root, each the child of the one
 *             above: level k leads a session of its own when k % 10 == 7,
 *             else a process group of its own when k % 3 == 0, else joins
 *             (k % 4 == 1) the oldest group of its session, led by an
 *             ancestor levels up (or the root's, led outside the tree);
 *             level k also has a zombie child that exited with status k
 *             when k % 3 == 1.
 *   wide N    N children of the root: child i leads a session (i % 5 ==
 *             0), leads a group (1), is a member of child i-1's group (2),
 *             is a zombie that exited with status i after leading a group
 *             of its own (3, when i % 10 == 3) or a session (3, when
 *             i % 10 == 8), or is a member of that zombie's group (4, after
 *             a group) or plain (4, after a session).
 *
 * On SIGTERM every process checks its ids against what they were (but the
 * root's parent, the ckpt that restarted it), sends SIGTERM to its live
 * children and waits for their verdicts (status 0), reaps its zombies
 * checking their statuses, and checks it has no other child.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/scen.h"

#define MAX_N 200

struct ids {
	pid_t pid, ppid, pgid, sid;
};

struct kid {
	pid_t pid;
	int zombie_status; /* -1: alive */
};

static struct ids mine;
static struct kid kids[MAX_N];
static int nkids;
static int *ready_count; /* shared by the tree */
static char who[32] = "root";

static struct ids current(void)
{
	return (struct ids){ getpid(), getppid(), getpgid(0), getsid(0) };
}

/* Records the process's ids once its setup is done. */
static void settled(void)
{
	mine = current();
	__atomic_add_fetch(ready_count, 1, __ATOMIC_SEQ_CST);
}

static void check_ids(void)
{
	struct ids now = current();

	if (!strcmp(who, "root"))
		now.ppid = mine.ppid;
	if (memcmp(&now, &mine, sizeof(now)))
		scen_fail("%s: pid/ppid/pgid/sid %d/%d/%d/%d, were %d/%d/%d/%d", who, now.pid,
			  now.ppid, now.pgid, now.sid, mine.pid, mine.ppid, mine.pgid, mine.sid);
}

/* Tells the live children to check themselves, collects every child's
 * status, and checks there is no other child. */
static void check_kids(void)
{
	int status;

	for (int i = 0; i < nkids; i++)
		if (kids[i].zombie_status < 0)
			CHECK_SYS(kill(kids[i].pid, SIGTERM));
	for (int i = 0; i < nkids; i++) {
		int expect = kids[i].zombie_status < 0 ? 0 : kids[i].zombie_status << 8;

		if (waitpid(kids[i].pid, &status, 0) != kids[i].pid)
			scen_fail("%s: waitpid(%d): %m", who, kids[i].pid);
		if (status != expect)
			scen_fail("%s: child %d ended with status 0x%x, not 0x%x", who, kids[i].pid,
				  status, expect);
	}
	if (waitpid(-1, &status, WNOHANG) != -1 || errno != ECHILD)
		scen_fail("%s: has a child it should not have", who);
}

enum lead {
	LEAD_NONE,
	LEAD_GROUP,
	LEAD_SESSION
};

/* A child that exits with `code` at once (after leading a group or a
 * session of its own) and stays a zombie. */
static pid_t zombie(int code, enum lead lead)
{
	pid_t pid = fork();
	siginfo_t info;

	CHECK_SYS(pid);
	if (pid == 0) {
		if (lead == LEAD_GROUP && setpgid(0, 0))
			_exit(255);
		if (lead == LEAD_SESSION && setsid() < 0)
			_exit(255);
		_exit(code);
	}
	CHECK_SYS(waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT));
	kids[nkids++] = (struct kid){ pid, code };
	if (lead != LEAD_NONE)
		CHECK_EQ(getpgid(pid), pid);
	if (lead == LEAD_SESSION)
		CHECK_EQ(getsid(pid), pid);
	return pid;
}

static void chain(int depth)
{
	/* the groups of the current session, oldest first */
	pid_t groups[MAX_N + 1] = { getpgid(0) };
	int ngroups = 1, k;

	settled();
	for (k = 1; k <= depth; k++) {
		pid_t pid = fork();

		CHECK_SYS(pid);
		if (pid > 0) {
			kids[nkids++] = (struct kid){ pid, -1 };
			break;
		}
		/* level k */
		nkids = 0;
		snprintf(who, sizeof(who), "level %d", k);
		if (k % 10 == 7) {
			CHECK_SYS(setsid());
			groups[0] = getpid();
			ngroups = 1;
		} else if (k % 3 == 0) {
			CHECK_SYS(setpgid(0, 0));
			groups[ngroups++] = getpid();
		} else if (k % 4 == 1 && groups[0] != getpgid(0)) {
			CHECK_SYS(setpgid(0, groups[0]));
		}
		if (k % 3 == 1)
			zombie(k, LEAD_NONE);
		settled();
	}
}

static void wide(int n)
{
	pid_t leader = 0;

	settled();
	for (int i = 0; i < n; i++) {
		pid_t pid;

		if (i % 5 == 3) {
			leader = zombie(i, i % 10 == 3 ? LEAD_GROUP : LEAD_SESSION);
			continue;
		}
		pid = fork();
		CHECK_SYS(pid);
		if (pid == 0) {
			nkids = 0;
			snprintf(who, sizeof(who), "child %d", i);
			if (i % 5 == 0)
				CHECK_SYS(setsid());
			else if (i % 5 == 1)
				CHECK_SYS(setpgid(0, 0));
			else if (i % 5 == 2 || i % 10 == 4)
				CHECK_SYS(setpgid(0, leader));
			settled();
			return;
		}
		/* both sides set the group, so it is set before either goes on */
		if (i % 5 == 1) {
			CHECK_SYS(setpgid(pid, pid));
			leader = pid;
		} else if (i % 5 == 2 || i % 10 == 4) {
			CHECK_SYS(setpgid(pid, leader));
		}
		kids[nkids++] = (struct kid){ pid, -1 };
	}
}

int main(int argc, char **argv)
{
	int n = argc == 3 ? atoi(argv[2]) : 0, expect;
	bool is_chain = argc == 3 && !strcmp(argv[1], "chain");

	scen_init();
	if (n < 1 || n > MAX_N || (!is_chain && strcmp(argv[1], "wide")))
		scen_fail("usage: deep chain|wide N (N from 1 to %d)", MAX_N);
	ready_count = mmap(NULL, sizeof(*ready_count), PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(ready_count != MAP_FAILED);
	if (is_chain) {
		chain(n);
		expect = n + 1;
	} else {
		wide(n);
		expect = n + 1 - (n + 1) / 5;
	}
	if (!strcmp(who, "root")) {
		for (int i = 0; i < 10000 && *ready_count < expect; i++)
			usleep(1000);
		CHECK_EQ(*ready_count, expect);
		scen_ready();
	}
	scen_wait();
	check_ids();
	check_kids();
	if (!strcmp(who, "root"))
		scen_pass();
	exit(0);
}
