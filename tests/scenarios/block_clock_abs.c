/*
 * block_clock_abs.c: clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME) to a
 * deadline 1.5 s ahead is under way when the checkpoint comes. It must
 * return 0, never EINTR, not before the deadline, and soon after it: an
 * absolute sleep restarts with the same deadline, it is never stretched
 * into a new relative sleep.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "lib/scen.h"

#define REQ_NS 1500000000ULL
#define LATE_NS 1000000000ULL

int main(void)
{
	struct timespec deadline, now;
	pid_t pid = getpid();
	uint64_t deadline_ns, now_ns;
	int ret;

	scen_init();
	CHECK_SYS(clock_gettime(CLOCK_MONOTONIC, &deadline));
	deadline.tv_sec += REQ_NS / 1000000000;
	deadline.tv_nsec += REQ_NS % 1000000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	deadline_ns = (uint64_t)deadline.tv_sec * 1000000000 + (uint64_t)deadline.tv_nsec;
	scen_ready();
	ret = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL);
	CHECK_SYS(clock_gettime(CLOCK_MONOTONIC, &now));
	now_ns = (uint64_t)now.tv_sec * 1000000000 + (uint64_t)now.tv_nsec;
	if (ret)
		scen_fail("clock_nanosleep returned %s", strerror(ret));
	CHECK_EQ(getpid(), pid);
	if (now_ns < deadline_ns)
		scen_fail("woke %" PRIu64 " us before the deadline", (deadline_ns - now_ns) / 1000);
	if (now_ns - deadline_ns > LATE_NS)
		scen_fail("woke %" PRIu64 " ms after the deadline",
			  (now_ns - deadline_ns) / 1000000);
	scen_pass();
}
