/*
 * block_usleep.c: a relative sleep of 1.5 s without a rem pointer is under
 * way when the checkpoint comes: glibc's usleep() (the clock_nanosleep
 * syscall with rem NULL) or, with "sys", the nanosleep syscall with rem
 * NULL. The kernel has nowhere to write the time left, so a restarted
 * sleep may sleep the whole request again; it must return 0, never EINTR,
 * and last at least the request.
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
	struct timespec req = { REQ_NS / 1000000000, REQ_NS % 1000000000 };
	bool sys = argc > 1 && !strcmp(argv[1], "sys");
	pid_t pid = getpid();
	uint64_t start, elapsed;
	int ret;

	scen_init();
	start = scen_now_ns();
	scen_ready();
	if (sys)
		ret = (int)syscall(SYS_nanosleep, &req, NULL);
	else
		ret = usleep(REQ_NS / 1000);
	elapsed = scen_now_ns() - start;
	if (ret)
		scen_fail("sleep returned %d: %m after %" PRIu64 " ms", ret, elapsed / 1000000);
	CHECK_EQ(getpid(), pid);
	/* the request itself is untouched */
	CHECK_EQ(req.tv_sec, REQ_NS / 1000000000);
	CHECK_EQ(req.tv_nsec, REQ_NS % 1000000000);
	if (elapsed < REQ_NS)
		scen_fail("slept %" PRIu64 " ms of %llu", elapsed / 1000000, REQ_NS / 1000000);
	if (elapsed > 3 * REQ_NS + 5000000000ULL)
		scen_fail("slept %" PRIu64 " ms for a request of %llu", elapsed / 1000000,
			  REQ_NS / 1000000);
	scen_pass();
}
