/*
 * block_ppoll.c: ppoll() with no descriptors, a 20 s timeout and a signal
 * mask that blocks SIGUSR1 (and unblocks SIGTERM) is under way when the
 * checkpoint comes; the process normally blocks SIGTERM and SIGUSR2. The
 * runner's SIGTERM after the resume (not "self") must be the one and only
 * reason it returns: -1 with EINTR, once, never 0 (the timeout). The
 * handler must run under ppoll's mask (plus SIGTERM), the signal frame must
 * hold the original mask, and after the call the mask must be the original
 * again.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>
#include "lib/scen.h"

static volatile sig_atomic_t handled;
static sigset_t in_handler, in_frame;

static void on_term(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	sigprocmask(SIG_BLOCK, NULL, &in_handler);
	in_frame = ((ucontext_t *)uc)->uc_sigmask;
	handled++;
}

static void check_mask(const char *what, const sigset_t *got, const sigset_t *want)
{
	for (int s = 1; s < NSIG; s++) {
		if (s >= 32 && s < SIGRTMIN)
			continue; /* glibc's own */
		if (sigismember(got, s) != sigismember(want, s))
			scen_fail("%s: signal %d (%s) is %s, expected %s", what, s, strsignal(s),
				  sigismember(got, s) ? "blocked" : "unblocked",
				  sigismember(want, s) ? "blocked" : "unblocked");
	}
}

int main(void)
{
	struct sigaction sa = { .sa_sigaction = on_term, .sa_flags = SA_SIGINFO };
	struct timespec timeout = { .tv_sec = 20 };
	sigset_t orig, temp, handler_want, now;
	pid_t pid = getpid();
	int ret, err, returns = 0;

	scen_init();
	sigemptyset(&sa.sa_mask);
	CHECK_SYS(sigaction(SIGTERM, &sa, NULL));
	sigemptyset(&orig);
	sigaddset(&orig, SIGTERM);
	sigaddset(&orig, SIGUSR2);
	CHECK_SYS(sigprocmask(SIG_SETMASK, &orig, NULL));
	sigemptyset(&temp);
	sigaddset(&temp, SIGUSR1);
	handler_want = temp;
	sigaddset(&handler_want, SIGTERM);
	scen_ready();
	do {
		ret = ppoll(NULL, 0, &timeout, &temp);
		err = errno;
		returns++;
		if (ret == 0)
			scen_fail("ppoll timed out");
		if (!handled)
			scen_fail("ppoll returned %d (%s) with no signal handled", ret,
				  strerror(err));
	} while (!handled);
	CHECK_SYS(sigprocmask(SIG_BLOCK, NULL, &now));
	CHECK_EQ(getpid(), pid);
	CHECK_EQ(returns, 1);
	CHECK_EQ(handled, 1);
	CHECK_EQ(ret, -1);
	CHECK_EQ(err, EINTR);
	check_mask("in the handler", &in_handler, &handler_want);
	check_mask("in the signal frame", &in_frame, &orig);
	check_mask("after ppoll", &now, &orig);
	scen_pass();
}
