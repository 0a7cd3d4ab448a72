/*
 * tree_refuse.c: trees with a process whose leader or main thread has
 * gone, or that ckpt cannot stop; the argument says which. The first two
 * restart (helpers rebuild the group or session), and so does stopped
 * (the child comes back stopped); the others must be refused (the runner
 * checks exit status 3 and the message) leaving the whole tree unharmed. Either way, after the runner's SIGTERM the root
 * checks that it and its child are not left traced, that the child is as
 * it was (its ids, stopped or not), tells the child to check itself and
 * collects its verdict (status 0), and that it has no other child.
 *
 *   pgrp      child m is in the process group of its sibling l, which
 *             exited and was reaped: the group has no leader
 *   session   child c is in the session its parent s created with setsid;
 *             s exited and c was reparented to the root, a subreaper: c's
 *             session is neither its parent's nor its own
 *   stopped   child x is stopped by SIGSTOP (job control)
 *   mainexit  child x's main thread called pthread_exit while another
 *             thread runs on
 *   vfork     child x called vfork: its child v, which shares x's memory,
 *             has neither called exec nor exited, and x waits for it in
 *             the kernel (v ends after 60 s at the latest, or on SIGUSR1:
 *             ckpt gives up waiting for x to stop after 10 s)
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/scen.h"

struct ids {
	pid_t pid, ppid, pgid, sid;
};

static struct ids current(void)
{
	return (struct ids){ getpid(), getppid(), getpgid(0), getsid(0) };
}

/* A field of /proc/PID/status, without its key. */
static void proc_field(pid_t pid, const char *key, char *out, size_t len)
{
	char path[64], line[256];
	size_t n = strlen(key);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		scen_fail("open %s: %m", path);
	out[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, n) && line[n] == ':') {
			snprintf(out, len, "%s", line + n + 1 + strspn(line + n + 1, " \t"));
			out[strcspn(out, "\n")] = '\0';
			break;
		}
	}
	fclose(f);
}

static void check_untraced(pid_t pid)
{
	char v[64];

	proc_field(pid, "TracerPid", v, sizeof(v));
	if (strcmp(v, "0"))
		scen_fail("pid %d is left traced by %s", pid, v);
}

/* The life of a child: records its ids, waits, checks them. It ends
 * should its parent be gone (the test failed). */
static void member(void)
{
	struct ids mine = current(), now;

	while (!scen_told()) {
		if (getppid() != mine.ppid)
			exit(1);
		usleep(100000);
	}
	now = current();
	if (memcmp(&now, &mine, sizeof(now)))
		scen_fail("child: pid/ppid/pgid/sid %d/%d/%d/%d, were %d/%d/%d/%d", now.pid,
			  now.ppid, now.pgid, now.sid, mine.pid, mine.ppid, mine.pgid, mine.sid);
	exit(0);
}

/* Waits until pid is in group pgid (set by the child itself). */
static void wait_group(pid_t pid, pid_t pgid)
{
	for (int i = 0; i < 5000 && getpgid(pid) != pgid; i++)
		usleep(1000);
	CHECK_EQ(getpgid(pid), pgid);
}

static pid_t setup_pgrp(void)
{
	pid_t l, m;
	int status;

	l = fork();
	CHECK_SYS(l);
	if (l == 0) {
		setpgid(0, 0);
		pause();
		_exit(0);
	}
	CHECK_SYS(setpgid(l, l));
	m = fork();
	CHECK_SYS(m);
	if (m == 0) {
		CHECK_SYS(setpgid(0, l));
		member();
	}
	wait_group(m, l);
	CHECK_SYS(kill(l, SIGKILL));
	CHECK_EQ(waitpid(l, &status, 0), l);
	return m;
}

static pid_t setup_session(void)
{
	pid_t s, c = 0;
	int status;

	CHECK_SYS(prctl(PR_SET_CHILD_SUBREAPER, 1));
	s = fork();
	CHECK_SYS(s);
	if (s == 0) {
		pid_t me = getpid();

		if (setsid() < 0)
			_exit(1);
		c = fork();
		if (c < 0)
			_exit(1);
		if (c == 0) {
			/* reparented to the root when s is gone */
			while (getppid() == me)
				usleep(1000);
			member();
		}
		_exit(0);
	}
	CHECK_EQ(waitpid(s, &status, 0), s);
	CHECK_EQ(status, 0);
	/* s's child is the root's now */
	for (int i = 0; i < 5000 && !c; i++) {
		char path[64];
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/task/%d/children", getpid(), getpid());
		f = fopen(path, "re");
		CHECK(f);
		if (fscanf(f, "%d", &c) != 1)
			c = 0;
		fclose(f);
		if (!c)
			usleep(1000);
	}
	CHECK(c > 0);
	CHECK_EQ(getsid(c), s);
	return c;
}

static pid_t setup_stopped(void)
{
	pid_t x = fork();
	int status;

	CHECK_SYS(x);
	if (x == 0)
		member();
	CHECK_SYS(kill(x, SIGSTOP));
	CHECK_EQ(waitpid(x, &status, WUNTRACED), x);
	CHECK(WIFSTOPPED(status));
	return x;
}

static void *runs_on(void *arg)
{
	(void)arg;
	member();
	return NULL;
}

static pid_t setup_mainexit(void)
{
	pid_t x = fork();
	char v[64];

	CHECK_SYS(x);
	if (x == 0) {
		pthread_t t;

		if (pthread_create(&t, NULL, runs_on, NULL))
			_exit(1);
		pthread_exit(NULL);
	}
	/* its main thread is a zombie, its other thread runs */
	for (int i = 0; i < 5000; i++) {
		proc_field(x, "State", v, sizeof(v));
		if (v[0] == 'Z')
			break;
		usleep(1000);
	}
	CHECK(v[0] == 'Z');
	proc_field(x, "Threads", v, sizeof(v));
	CHECK(!strcmp(v, "2"));
	return x;
}

static volatile sig_atomic_t released;

static void on_usr1(int sig)
{
	(void)sig;
	released = 1;
}

/* Returns x; *ret_v is its vfork child. */
static pid_t setup_vfork(pid_t *ret_v)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	pid_t x = fork(), v = 0;

	CHECK_SYS(x);
	if (x == 0) {
		int status;

		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGUSR1, &sa, NULL))
			_exit(1);
		v = vfork();
		if (v < 0)
			_exit(1);
		if (v == 0) {
			for (int i = 0; i < 6000 && !released; i++)
				usleep(10000);
			_exit(0);
		}
		if (waitpid(v, &status, 0) != v || status)
			_exit(1);
		_exit(0);
	}
	for (int i = 0; i < 5000 && !v; i++) {
		char path[64];
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/task/%d/children", x, x);
		f = fopen(path, "re");
		if (f && fscanf(f, "%d", &v) != 1)
			v = 0;
		if (f)
			fclose(f);
		if (!v)
			usleep(1000);
	}
	CHECK(v > 0);
	*ret_v = v;
	return x;
}

int main(int argc, char **argv)
{
	struct ids mine;
	const char *what = argc == 2 ? argv[1] : "";
	char state[64];
	pid_t kid, vkid = 0;
	int status;

	scen_init();
	mine = current();
	if (!strcmp(what, "pgrp"))
		kid = setup_pgrp();
	else if (!strcmp(what, "session"))
		kid = setup_session();
	else if (!strcmp(what, "stopped"))
		kid = setup_stopped();
	else if (!strcmp(what, "mainexit"))
		kid = setup_mainexit();
	else if (!strcmp(what, "vfork"))
		kid = setup_vfork(&vkid);
	else
		scen_fail("usage: tree_refuse pgrp|session|stopped|mainexit|vfork");
	scen_ready();
	scen_wait();

	/* its parent is the ckpt that restarted it, if it was */
	if (getpid() != mine.pid || getpgid(0) != mine.pgid || getsid(0) != mine.sid)
		scen_fail("root: its ids changed");
	check_untraced(getpid());
	check_untraced(kid);
	proc_field(kid, "State", state, sizeof(state));
	if (!strcmp(what, "stopped")) {
		if (state[0] != 'T')
			scen_fail("the stopped child is not stopped any more: %s", state);
		CHECK_SYS(kill(kid, SIGCONT));
	} else if (vkid) {
		/* x waits for v in the kernel */
		if (state[0] != 'D')
			scen_fail("the vfork parent is in state %s", state);
		check_untraced(vkid);
		CHECK_SYS(kill(vkid, SIGUSR1));
	} else if (state[0] != (strcmp(what, "mainexit") ? 'S' : 'Z')) {
		scen_fail("the child is in state %s", state);
	}
	if (!vkid)
		CHECK_SYS(kill(kid, SIGTERM));
	if (waitpid(kid, &status, 0) != kid)
		scen_fail("waitpid(%d): %m", kid);
	if (status)
		scen_fail("the child ended with status 0x%x", status);
	if (waitpid(-1, &status, WNOHANG) != -1 || errno != ECHILD)
		scen_fail("the root has a child it should not have");
	scen_pass();
}
