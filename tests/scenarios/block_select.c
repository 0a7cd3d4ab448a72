/*
 * block_select.c: select() for reading on stdin, an empty FIFO, with a 10 s
 * timeout is under way when the checkpoint comes. After the resume the
 * runner writes "hello\n": select must return 1 with fd 0 readable, never
 * EINTR and never 0 (a timeout), and the data must be there to read.
 * Linux writes the time left back to the timeval: it must have gone down
 * and stay positive.
 */
#include <errno.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>
#include "lib/scen.h"

int main(void)
{
	struct timeval tv = { .tv_sec = 10 };
	pid_t pid = getpid();
	fd_set rfds;
	char buf[64];
	int ret;

	scen_init();
	FD_ZERO(&rfds);
	FD_SET(0, &rfds);
	scen_ready();
	ret = select(1, &rfds, NULL, NULL, &tv);
	if (ret < 0)
		scen_fail("select returned -1: %m");
	CHECK_EQ(getpid(), pid);
	if (ret == 0)
		scen_fail("select timed out");
	CHECK_EQ(ret, 1);
	CHECK(FD_ISSET(0, &rfds));
	CHECK(tv.tv_sec >= 0 && tv.tv_sec < 10);
	CHECK(tv.tv_sec > 0 || tv.tv_usec > 0);
	CHECK_EQ(read(0, buf, sizeof(buf)), 6);
	CHECK(!memcmp(buf, "hello\n", 6));
	scen_pass();
}
