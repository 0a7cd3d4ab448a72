/*
 * freeze.c: trees that are hard to freeze; the argument says which.
 *
 *   vfork         worker x keeps calling clone(CLONE_VM | CLONE_VFORK |
 *                 CLONE_PTRACE): its child sleeps 150 ms, then calls exec
 *                 (of this program, which exits 7 at once), while x waits
 *                 for it in the kernel. A checkpoint nearly always finds x
 *                 waiting; with CLONE_PTRACE a child cloned while x is
 *                 traced is attached to ckpt too.
 *   vfork-parent  the same with CLONE_PARENT, and the child exits (9)
 *                 instead of calling exec: the child is the root's, which
 *                 reaps it, and ckpt may find it before x.
 *   vfork-ptrace  the same as vfork, but the child exits (9) at once: x
 *                 clones all the time, and one it clones while ckpt has
 *                 seized it and not stopped it yet is attached to ckpt and
 *                 stopped, while x waits for it (tests/run-cli.sh widens
 *                 that window with CKPT_FAULT=freeze-seize-slow).
 *   exits         two spawners keep forking a child that forks a
 *                 grandchild; every one of them exits at once, and is
 *                 reaped by its parent. A third ignores SIGCHLD, so the
 *                 children it keeps forking, which exit within 2 ms, are
 *                 reaped by the kernel even while it is frozen.
 *   stopped SIG   child c, in a process group of its own, counts in shared
 *                 memory; the root stops it with SIG (STOP or TSTP). After
 *                 the checkpoint (and restart) c must still be stopped, not
 *                 counting, not traced; SIGCONT resumes it.
 *   trap          the root has a pending SIGTRAP (blocked, raised): refused;
 *                 it must still be pending afterwards.
 *   traced        the root traces child c, stopped at a breakpoint (int3):
 *                 refused; the root then lets c go on, and c exits 0.
 *
 * In the first three the work goes on after restart (the counts grow, the
 * statuses reaped are the right ones), and every process ends with status 0
 * when the root tells it to.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/scen.h"

#define NSPAWNERS 3
#define STACK_SIZE (256 * 1024)

struct shared {
	atomic_ulong count[NSPAWNERS];
	atomic_int end;
	char failure[256];
};

static struct shared *sh;
static pid_t root_pid;

/* Whether the work goes on: not once the root says so, nor once the root is
 * gone (the test failed). */
static bool going_on(void)
{
	return !atomic_load(&sh->end) && getppid() == root_pid;
}

static void fail_shared(const char *what, int status)
{
	if (!sh->failure[0])
		snprintf(sh->failure, sizeof(sh->failure), "%s (status 0x%x)", what, status);
}

static void map_shared(void)
{
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(sh != MAP_FAILED);
}

/* Waits until count i has grown by n, at most 10 s. */
static void wait_growth(int i, unsigned long n)
{
	unsigned long from = atomic_load(&sh->count[i]);

	for (int k = 0; k < 1000 && atomic_load(&sh->count[i]) < from + n; k++)
		usleep(10000);
	if (sh->failure[0])
		scen_fail("%s", sh->failure);
	if (atomic_load(&sh->count[i]) < from + n)
		scen_fail("count %d stuck at %lu (was %lu)", i, atomic_load(&sh->count[i]), from);
}

static char state_of(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		scen_fail("open %s: %m", path);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	CHECK(p && p[1] == ' ');
	return p[2];
}

static void check_untraced(pid_t pid)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		scen_fail("open %s: %m", path);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "TracerPid:", 10) && atoi(line + 10) != 0)
			scen_fail("pid %d is left traced: %s", pid, line);
	fclose(f);
}

/* ---- vfork, vfork-parent ---- */

static bool with_parent, at_once;

static int vfork_child(void *arg)
{
	(void)arg;
	if (at_once)
		_exit(9);
	usleep(150000);
	if (with_parent)
		_exit(9);
	execl("/proc/self/exe", "freeze", "exit7", (char *)NULL);
	_exit(100);
}

static __attribute__((noreturn)) void vfork_worker(void)
{
	char *stack = malloc(STACK_SIZE);
	int flags = CLONE_VM | CLONE_VFORK | CLONE_PTRACE | SIGCHLD;

	if (!stack)
		_exit(1);
	if (with_parent)
		flags |= CLONE_PARENT;
	while (going_on()) {
		int status;
		pid_t v = clone(vfork_child, stack + STACK_SIZE, flags, NULL);

		if (v < 0) {
			fail_shared("clone failed", errno);
			_exit(1);
		}
		if (!with_parent &&
		    (waitpid(v, &status, 0) != v || status != (at_once ? 9 : 7) << 8))
			fail_shared("the vfork child ended wrong", status);
		atomic_fetch_add(&sh->count[0], 1);
	}
	_exit(0);
}

/* The root reaps the CLONE_PARENT children (not x). */
static void reap_others(pid_t x)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == x)
			scen_fail("the worker ended early (status 0x%x)", status);
		if (status != 9 << 8)
			scen_fail("child %d ended with status 0x%x, not 0x900", pid, status);
	}
}

static void mode_vfork(void)
{
	pid_t x;
	int status;

	map_shared();
	x = fork();
	CHECK_SYS(x);
	if (x == 0)
		vfork_worker();
	while (atomic_load(&sh->count[0]) < 2)
		usleep(10000);
	scen_ready();
	while (!scen_told()) {
		if (with_parent)
			reap_others(x);
		usleep(10000);
	}
	wait_growth(0, 3);
	atomic_store(&sh->end, 1);
	for (;;) {
		pid_t pid = waitpid(-1, &status, 0);

		if (pid == x)
			break;
		CHECK(pid > 0);
		CHECK_EQ(status, 9 << 8);
	}
	CHECK_EQ(status, 0);
	if (sh->failure[0])
		scen_fail("%s", sh->failure);
}

/* ---- exits ---- */

/* Forks children that exit at once, reaped by the kernel. */
static __attribute__((noreturn)) void autoreaped(int i)
{
	signal(SIGCHLD, SIG_IGN);
	while (going_on()) {
		pid_t c = fork();

		if (c < 0) {
			fail_shared("fork failed", errno);
			_exit(1);
		}
		if (c == 0) {
			usleep(500 + (unsigned int)(atomic_load(&sh->count[i]) % 7) * 200);
			_exit(0);
		}
		atomic_fetch_add(&sh->count[i], 1);
		usleep(100);
	}
	/* no child is left to wait for: the kernel took them all */
	_exit(wait(NULL) == -1 && errno == ECHILD ? 0 : 1);
}

static __attribute__((noreturn)) void spawner(int i)
{
	if (i == NSPAWNERS - 1)
		autoreaped(i);
	while (going_on()) {
		int status;
		pid_t c = fork();

		if (c < 0) {
			fail_shared("fork failed", errno);
			_exit(1);
		}
		if (c == 0) {
			pid_t g = fork();

			if (g == 0)
				_exit(3);
			if (g < 0 || waitpid(g, &status, 0) != g || status != 3 << 8)
				_exit(6);
			_exit(5);
		}
		if (waitpid(c, &status, 0) != c || status != 5 << 8)
			fail_shared("a child ended wrong", status);
		atomic_fetch_add(&sh->count[i], 1);
	}
	_exit(0);
}

static void mode_exits(void)
{
	pid_t sp[NSPAWNERS];
	int status;

	map_shared();
	for (int i = 0; i < NSPAWNERS; i++) {
		sp[i] = fork();
		CHECK_SYS(sp[i]);
		if (sp[i] == 0)
			spawner(i);
	}
	for (int i = 0; i < NSPAWNERS; i++)
		while (atomic_load(&sh->count[i]) < 100)
			usleep(1000);
	scen_ready();
	scen_wait();
	for (int i = 0; i < NSPAWNERS; i++)
		wait_growth(i, 100);
	atomic_store(&sh->end, 1);
	for (int i = 0; i < NSPAWNERS; i++) {
		CHECK_EQ(waitpid(sp[i], &status, 0), sp[i]);
		CHECK_EQ(status, 0);
	}
	CHECK(waitpid(-1, &status, WNOHANG) == -1 && errno == ECHILD);
}

/* ---- stopped ---- */

static void mode_stopped(const char *name)
{
	int sig = !strcmp(name, "TSTP") ? SIGTSTP : SIGSTOP, status;
	unsigned long at;
	pid_t c, r;

	map_shared();
	c = fork();
	CHECK_SYS(c);
	if (c == 0) {
		pid_t pgid;

		signal(SIGTERM, SIG_DFL);
		if (setpgid(0, 0))
			_exit(1);
		pgid = getpgid(0);
		while (going_on()) {
			atomic_fetch_add(&sh->count[0], 1);
			usleep(1000);
		}
		_exit(getpgid(0) == pgid && pgid == getpid() ? 0 : 2);
	}
	while (getpgid(c) != c)
		usleep(1000);
	while (atomic_load(&sh->count[0]) < 10)
		usleep(1000);
	CHECK_SYS(kill(c, sig));
	CHECK_EQ(waitpid(c, &status, WUNTRACED), c);
	CHECK(WIFSTOPPED(status));
	CHECK_EQ(WSTOPSIG(status), sig);
	scen_ready();
	scen_wait();

	/* the restarted child stops again as it is let go: a moment */
	for (int k = 0; k < 200 && state_of(c) != 'T'; k++)
		usleep(10000);
	if (state_of(c) != 'T')
		scen_fail("the child is in state %c, not stopped", state_of(c));
	check_untraced(c);
	at = atomic_load(&sh->count[0]);
	usleep(200000);
	CHECK_EQ(atomic_load(&sh->count[0]), at);
	/* the original reports no new stop; a restarted one stops anew */
	r = waitpid(c, &status, WUNTRACED | WNOHANG);
	CHECK(r == 0 || r == c);
	if (r == c) {
		CHECK(WIFSTOPPED(status));
		CHECK(WSTOPSIG(status) == SIGSTOP || WSTOPSIG(status) == sig);
	}
	CHECK_SYS(kill(c, SIGCONT));
	CHECK_EQ(waitpid(c, &status, WCONTINUED), c);
	CHECK(WIFCONTINUED(status));
	wait_growth(0, 10);
	atomic_store(&sh->end, 1);
	CHECK_EQ(waitpid(c, &status, 0), c);
	CHECK_EQ(status, 0);
}

/* ---- trap, traced ---- */

static void mode_trap(void)
{
	sigset_t trap, pending;

	sigemptyset(&trap);
	sigaddset(&trap, SIGTRAP);
	CHECK_SYS(sigprocmask(SIG_BLOCK, &trap, NULL));
	CHECK_SYS(raise(SIGTRAP));
	scen_ready();
	scen_wait();
	CHECK_SYS(sigpending(&pending));
	CHECK(sigismember(&pending, SIGTRAP));
}

static void mode_traced(void)
{
	pid_t c = fork();
	int status;

	CHECK_SYS(c);
	if (c == 0) {
		raise(SIGSTOP);
		__asm__ volatile("int3");
		_exit(0);
	}
	CHECK_EQ(waitpid(c, &status, WUNTRACED), c);
	CHECK_SYS(ptrace(PTRACE_SEIZE, c, 0, 0));
	CHECK_SYS(kill(c, SIGCONT));
	/* the group stop ends; then the breakpoint */
	for (;;) {
		CHECK_EQ(waitpid(c, &status, 0), c);
		CHECK(WIFSTOPPED(status));
		if (WSTOPSIG(status) == SIGTRAP && status >> 16 == 0)
			break;
		CHECK_SYS(ptrace(PTRACE_CONT, c, 0, 0));
	}
	scen_ready();
	scen_wait();
	CHECK_SYS(ptrace(PTRACE_CONT, c, 0, 0)); /* the trap is not delivered */
	CHECK_EQ(waitpid(c, &status, 0), c);
	CHECK_EQ(status, 0);
}

int main(int argc, char **argv)
{
	const char *mode = argc >= 2 ? argv[1] : "";

	if (!strcmp(mode, "exit7"))
		_exit(7);
	scen_init();
	root_pid = getpid();
	if (!strcmp(mode, "vfork") || !strcmp(mode, "vfork-parent") ||
	    !strcmp(mode, "vfork-ptrace")) {
		with_parent = !strcmp(mode, "vfork-parent");
		at_once = !strcmp(mode, "vfork-ptrace");
		mode_vfork();
	} else if (!strcmp(mode, "exits")) {
		mode_exits();
	} else if (!strcmp(mode, "stopped") && argc == 3) {
		mode_stopped(argv[2]);
	} else if (!strcmp(mode, "trap")) {
		mode_trap();
	} else if (!strcmp(mode, "traced")) {
		mode_traced();
	} else {
		scen_fail(
			"usage: freeze vfork|vfork-parent|vfork-ptrace|exits|stopped STOP|TSTP|trap|"
			"traced");
	}
	scen_pass();
}
