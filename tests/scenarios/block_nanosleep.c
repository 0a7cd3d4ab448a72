/*
 * block_nanosleep.c: a relative sleep of 1.5 s with a rem pointer is under
 * way when the checkpoint comes. It must return 0, never EINTR, and last at
 * least what was asked (measured on CLOCK_MONOTONIC). With no argument the
 * sleep is glibc's nanosleep() (the clock_nanosleep syscall, rem in r10);
 * with "sys" it is the nanosleep syscall itself (rem in rsi).
 */
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "lib/scen.h"

#define REQ_NS 1500000000ULL

int main(int argc, char **argv)
{
	struct timespec req = { REQ_NS / 1000000000, REQ_NS % 1000000000 }, rem = { 0, 0 };
	bool sys = argc > 1 && !strcmp(argv[1], "sys");
	pid_t pid = getpid();
	uint64_t start, elapsed;
	int ret;

	scen_init();
	start = scen_now_ns();
	scen_ready();
	if (sys)
		ret = (int)syscall(SYS_nanosleep, &req, &rem);
	else
		ret = nanosleep(&req, &rem);
	elapsed = scen_now_ns() - start;
	if (ret)
		scen_fail("nanosleep returned %d: %m after %" PRIu64 " ms", ret, elapsed / 1000000);
	CHECK_EQ(getpid(), pid);
	if (elapsed < REQ_NS)
		scen_fail("slept %" PRIu64 " ms of %llu", elapsed / 1000000, REQ_NS / 1000000);
	/* a restarted sleep may repeat the request, not more */
	if (elapsed > 3 * REQ_NS + 5000000000ULL)
		scen_fail("slept %" PRIu64 " ms for a request of %llu", elapsed / 1000000,
			  REQ_NS / 1000000);
	scen_pass();
}
