/*
 * block_poll.c: poll() on stdin, an empty FIFO, with a 10 s timeout is under
 * way when the checkpoint comes. After the resume the runner writes
 * "hello\n": poll must return 1 with POLLIN, never EINTR and never 0 (a
 * timeout), well before the 10 s, and the data must be there to read.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include "lib/scen.h"

#define TIMEOUT_MS 10000

int main(void)
{
	struct pollfd pfd = { .fd = 0, .events = POLLIN };
	pid_t pid = getpid();
	uint64_t start, elapsed;
	char buf[64];
	int ret;

	scen_init();
	start = scen_now_ns();
	scen_ready();
	ret = poll(&pfd, 1, TIMEOUT_MS);
	elapsed = scen_now_ns() - start;
	if (ret < 0)
		scen_fail("poll returned -1: %m");
	CHECK_EQ(getpid(), pid);
	if (ret == 0)
		scen_fail("poll timed out after %" PRIu64 " ms", elapsed / 1000000);
	CHECK_EQ(ret, 1);
	CHECK_EQ(pfd.revents, POLLIN);
	CHECK(elapsed < TIMEOUT_MS * 1000000ULL);
	CHECK_EQ(read(0, buf, sizeof(buf)), 6);
	CHECK(!memcmp(buf, "hello\n", 6));
	scen_pass();
}
