/*
 * exit_status.c: a process that ends with status 7 after the runner's
 * SIGTERM (option status=7): `restart --wait` must pass the exit status of
 * the restarted process on as its own, and the original (mode leave) must
 * end with it too.
 */
#include <stdlib.h>
#include <unistd.h>
#include "lib/scen.h"

int main(void)
{
	pid_t pid = getpid();

	scen_init();
	scen_ready();
	scen_wait();
	CHECK_EQ(getpid(), pid);
	fprintf(stderr, "exiting with 7\n");
	exit(7);
}
