/*
 * churn.c: trees that never stop changing while they are checkpointed. The
 * argument says which:
 *
 *   fork   the root's main thread and two spawner threads keep forking
 *          short-lived children and reaping them; the spawners do it from
 *          threads of their own they keep creating and joining. Reaping
 *          lags behind, so at any moment some children run and some are
 *          zombies. Children live a few milliseconds each, doing one of:
 *
 *            0  exit at once
 *            1  lead a process group of their own (setpgid, after a random
 *               short spin), then check their ids before they exit
 *            2  lead a session of their own (setsid, likewise), then check
 *            3  fork a grandchild, wait for it and check its status
 *            4  start a thread and join it
 *            5  die from SIGUSR1
 *
 *          Every child's end is known in advance (an exit status from its
 *          number, 200 and more when its own checks failed, or SIGUSR1):
 *          the root keeps a table of the children it forked and has not
 *          reaped, and checks every status it reaps against it. After
 *          restart, on SIGTERM, the root goes on churning (300 more
 *          children), stops, checks its ids, reaps every child still in its
 *          table (each one that existed at the checkpoint came back,
 *          running or a zombie, and ends as it should) and checks that it
 *          has no other child (none came back that it had reaped).
 *
 *   relay  a relay of detached threads: each one counts, starts the next
 *          and exits, so one or two run at any moment, each for some
 *          microseconds. After restart, on SIGTERM, the relay must still
 *          run: the thread that carried it at the checkpoint came back
 *          (had it been left out, the count would stop).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/scen.h"

#define MAX_OUT 24 /* children forked and not reaped, at most */
#define NSPAWNERS 2
#define MORE_AFTER_TOLD 300

struct child {
	pid_t pid;
	int expect; /* its wait status */
	unsigned int n;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct child table[MAX_OUT];
static int nout;
static unsigned int forked, reaped;
static pid_t root_pid, root_sid;
static volatile int stop;
static char failure[256];

static const char *const kinds[] = { "exits at once",	 "leads a group", "leads a session",
				     "has a grandchild", "has a thread",  "dies from SIGUSR1" };

/* What a child's exit status of 200 and more says went wrong */
static const char *const verdicts[] = {
	"its parent was wrong",	    "its process group was wrong", "its session was wrong",
	"setpgid or setsid failed", "it could not fork",	   "its grandchild ended wrong",
	"its thread failed",	    "SIGUSR1 did not kill it",
};

static void record_failure(pid_t pid, unsigned int n, int status, int expect)
{
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;

	if (failure[0])
		return;
	snprintf(failure, sizeof(failure),
		 "child %d (number %u, %s) ended with status 0x%x, expected 0x%x%s%s", pid, n,
		 kinds[n % 6], status, expect, code >= 200 && code <= 207 ? ": " : "",
		 code >= 200 && code <= 207 ? verdicts[code - 200] : "");
}

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void spin_us(unsigned int us)
{
	uint64_t until = scen_now_ns() + us * 1000ULL;

	while (scen_now_ns() < until)
		;
}

static void *child_thread(void *arg)
{
	spin_us(100);
	return arg;
}

/* Checks a child's ids, then exits: code, or 200 + what failed. */
static __attribute__((noreturn)) void child_end(int code, bool own_group, bool own_session)
{
	pid_t pid = getpid();

	if (getppid() != root_pid)
		_exit(200);
	if (getpgid(0) != (own_group ? pid : getpgid(root_pid)))
		_exit(201);
	if (getsid(0) != (own_session ? pid : root_sid))
		_exit(202);
	_exit(code);
}

static __attribute__((noreturn)) void child(unsigned int n, uint64_t seed)
{
	int code = 1 + (int)(n % 100), status;
	pthread_t t;
	pid_t pid;

	signal(SIGUSR1, SIG_DFL);
	switch (n % 6) {
	case 0:
		_exit(code);
	case 1:
		spin_us((unsigned int)(rng(&seed) % 300));
		if (setpgid(0, 0))
			_exit(203);
		usleep(1000 + (unsigned int)(rng(&seed) % 5000));
		child_end(code, true, false);
	case 2:
		spin_us((unsigned int)(rng(&seed) % 300));
		if (setsid() < 0)
			_exit(203);
		usleep(1000 + (unsigned int)(rng(&seed) % 5000));
		child_end(code, true, true);
	case 3:
		pid = fork();
		if (pid < 0)
			_exit(204);
		if (pid == 0) {
			usleep((unsigned int)(rng(&seed) % 3000));
			_exit(42);
		}
		if (waitpid(pid, &status, 0) != pid || status != 42 << 8)
			_exit(205);
		child_end(code, false, false);
	case 4:
		if (pthread_create(&t, NULL, child_thread, NULL) || pthread_join(t, NULL))
			_exit(206);
		child_end(code, false, false);
	default:
		usleep((unsigned int)(rng(&seed) % 2000));
		raise(SIGUSR1);
		_exit(207);
	}
}

/* Forks one child and enters it in the table; called with the lock held. */
static void fork_one(uint64_t *seed)
{
	unsigned int n = forked;
	uint64_t child_seed = rng(seed);
	pid_t pid;

	if (nout == MAX_OUT)
		return;
	pid = fork();
	if (pid < 0) {
		snprintf(failure, sizeof(failure), "fork: %s", strerror(errno));
		return;
	}
	if (pid == 0)
		child(n, child_seed);
	table[nout++] = (struct child){ pid, n % 6 == 5 ? SIGUSR1 : (1 + (int)(n % 100)) << 8, n };
	forked++;
}

/* Takes a reaped child out of the table, checking its status; called with
 * the lock held. */
static void reaped_one(pid_t pid, int status)
{
	for (int i = 0; i < nout; i++) {
		if (table[i].pid != pid)
			continue;
		if (status != table[i].expect)
			record_failure(pid, table[i].n, status, table[i].expect);
		table[i] = table[--nout];
		reaped++;
		return;
	}
	if (!failure[0])
		snprintf(failure, sizeof(failure),
			 "reaped child %d (status 0x%x), which is not in the table: reaped "
			 "before, or never forked",
			 pid, status);
}

/* Reaps one child that has ended, if any; called with the lock held. */
static void reap_one(void)
{
	int status;
	pid_t pid = waitpid(-1, &status, WNOHANG);

	if (pid > 0)
		reaped_one(pid, status);
	else if (pid < 0 && errno != ECHILD && errno != EINTR)
		snprintf(failure, sizeof(failure), "waitpid: %s", strerror(errno));
}

/* One step of churn: fork when there is room, reap when half full. */
static void churn_step(uint64_t *seed)
{
	pthread_mutex_lock(&lock);
	if (nout < MAX_OUT && (rng(seed) & 1))
		fork_one(seed);
	if (nout > MAX_OUT / 2)
		reap_one();
	pthread_mutex_unlock(&lock);
}

static void *short_thread(void *arg)
{
	uint64_t seed = (uint64_t)(uintptr_t)arg;

	for (int i = 0; i < 3; i++)
		churn_step(&seed);
	return NULL;
}

static void *spawner(void *arg)
{
	uint64_t seed = (uint64_t)(uintptr_t)arg;

	while (!stop) {
		pthread_t t;

		if (pthread_create(&t, NULL, short_thread, (void *)(uintptr_t)rng(&seed)) ||
		    pthread_join(t, NULL)) {
			snprintf(failure, sizeof(failure), "cannot start a thread");
			break;
		}
		usleep(100);
	}
	return NULL;
}

static void fork_churn(void)
{
	pthread_t spawners[NSPAWNERS];
	pid_t pgid, ppid;
	sigset_t term, old;
	uint64_t seed = 88172645463325252ULL;
	unsigned int at_told;
	int status;

	root_sid = getsid(0);
	pgid = getpgid(0);
	ppid = getppid();
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	/* SIGTERM goes to the main thread, not to the spawners */
	pthread_sigmask(SIG_BLOCK, &term, &old);
	for (int i = 0; i < NSPAWNERS; i++)
		CHECK_EQ(pthread_create(&spawners[i], NULL, spawner, (void *)(uintptr_t)(i + 1)),
			 0);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	while (forked < 500) {
		churn_step(&seed);
		usleep(100);
	}
	scen_ready();
	while (!scen_told()) {
		churn_step(&seed);
		usleep(100);
	}

	/* after the restart: it goes on */
	at_told = forked;
	while (forked < at_told + MORE_AFTER_TOLD && !failure[0]) {
		churn_step(&seed);
		usleep(100);
	}
	stop = 1;
	for (int i = 0; i < NSPAWNERS; i++)
		CHECK_EQ(pthread_join(spawners[i], NULL), 0);
	if (failure[0])
		scen_fail("%s", failure);
	CHECK_EQ(getpid(), root_pid);
	CHECK_EQ(getpgid(0), pgid);
	CHECK_EQ(getsid(0), root_sid);
	(void)ppid; /* the ckpt that restarted it */

	/* every child in the table is there and ends as it should */
	while (nout) {
		pid_t pid = table[nout - 1].pid;

		if (waitpid(pid, &status, 0) != pid)
			scen_fail("child %d (number %u), forked and never reaped, is gone: %m", pid,
				  table[nout - 1].n);
		reaped_one(pid, status);
		if (failure[0])
			scen_fail("%s", failure);
	}
	{
		pid_t extra = waitpid(-1, &status, WNOHANG);

		if (extra > 0)
			scen_fail("child %d (status 0x%x), reaped before or never forked, is back",
				  extra, status);
		if (extra == 0)
			scen_fail("a child it had reaped, or never forked, runs");
		CHECK_EQ(errno, ECHILD);
	}
	printf("churn: %u children forked, %u reaped\n", forked, reaped);
}

static pthread_attr_t detached;
static atomic_ulong relayed;

static void *relay(void *arg)
{
	pthread_t t;

	atomic_fetch_add(&relayed, 1);
	if (pthread_create(&t, &detached, relay, NULL))
		snprintf(failure, sizeof(failure), "cannot start a thread");
	return arg;
}

static void thread_relay(void)
{
	sigset_t term, old;
	unsigned long at_told;
	pthread_t t;
	uint64_t deadline;

	CHECK_EQ(pthread_attr_init(&detached), 0);
	CHECK_EQ(pthread_attr_setdetachstate(&detached, PTHREAD_CREATE_DETACHED), 0);
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	/* SIGTERM goes to the main thread, not to the relay */
	pthread_sigmask(SIG_BLOCK, &term, &old);
	CHECK_EQ(pthread_create(&t, &detached, relay, NULL), 0);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	while (atomic_load(&relayed) < 10000)
		usleep(1000);
	scen_ready();
	scen_wait();

	at_told = atomic_load(&relayed);
	deadline = scen_now_ns() + 5 * 1000000000ULL;
	while (atomic_load(&relayed) < at_told + 1000 && scen_now_ns() < deadline && !failure[0])
		usleep(1000);
	if (failure[0])
		scen_fail("%s", failure);
	if (atomic_load(&relayed) < at_told + 1000)
		scen_fail("the relay of threads stopped at %lu (%lu when told): the thread "
			  "carrying it is not there",
			  atomic_load(&relayed), at_told);
	CHECK_EQ(getpid(), root_pid);
}

int main(int argc, char **argv)
{
	scen_init();
	root_pid = getpid();
	if (argc == 2 && !strcmp(argv[1], "fork"))
		fork_churn();
	else if (argc == 2 && !strcmp(argv[1], "relay"))
		thread_relay();
	else
		scen_fail("usage: churn fork|relay");
	scen_pass();
}
