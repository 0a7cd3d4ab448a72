/*
 * block_pause.c: pause() is under way when the checkpoint comes; the only
 * signal it can get is the runner's SIGTERM after the resume (not "self").
 * pause() may return only then, -1 with EINTR, exactly once, after the
 * SIGTERM handler ran exactly once: a return before it (the checkpoint or
 * the restart waking it) is the failure this looks for.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "lib/scen.h"

static volatile sig_atomic_t handled;

static void on_term(int sig)
{
	(void)sig;
	handled++;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_term };
	pid_t pid = getpid();
	int ret, err, returns = 0;

	scen_init();
	sigemptyset(&sa.sa_mask);
	CHECK_SYS(sigaction(SIGTERM, &sa, NULL));
	scen_ready();
	do {
		ret = pause();
		err = errno;
		returns++;
		if (!handled)
			scen_fail("pause returned %d (%s) with no signal handled", ret,
				  strerror(err));
	} while (!handled);
	CHECK_EQ(getpid(), pid);
	CHECK_EQ(returns, 1);
	CHECK_EQ(handled, 1);
	CHECK_EQ(ret, -1);
	CHECK_EQ(err, EINTR);
	scen_pass();
}
