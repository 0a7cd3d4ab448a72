/*
 * zombie_core.c: a zombie killed by a signal that dumped core (the core
 * dump bit of its status set) cannot come back as it was, since only a real
 * dump sets the bit: checkpoint must refuse it (mode refuse) and leave the
 * tree as it was, the zombie's status still telling of the dump.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/scen.h"

int main(void)
{
	struct rlimit core = { RLIM_INFINITY, RLIM_INFINITY };
	siginfo_t info = { 0 };
	int status;
	pid_t pid;

	scen_init();
	pid = fork();
	CHECK_SYS(pid);
	if (pid == 0) {
		/* a tiny core in the test's directory */
		CHECK_SYS(setrlimit(RLIMIT_CORE, &core));
		CHECK_SYS(prctl(PR_SET_DUMPABLE, 1));
		signal(SIGQUIT, SIG_DFL);
		raise(SIGQUIT);
		_exit(99);
	}
	CHECK_SYS(waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT));
	if (info.si_code != CLD_DUMPED)
		scen_fail("no core dump here (si_code %d): cannot build the state", info.si_code);
	scen_ready();
	scen_wait();
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGQUIT && WCOREDUMP(status));
	scen_pass();
}
