/*
 * block_read.c: a read() on stdin, a FIFO with nothing in it yet, is under
 * way when the checkpoint comes. After the resume the runner writes
 * "hello\n" into the FIFO: the read must return exactly that, never EINTR
 * and never a short or empty read.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/scen.h"

int main(void)
{
	char buf[64];
	struct stat st;
	pid_t pid = getpid();
	ssize_t n;

	scen_init();
	CHECK_SYS(fstat(0, &st));
	CHECK(S_ISFIFO(st.st_mode));
	scen_ready();
	n = read(0, buf, sizeof(buf));
	if (n < 0)
		scen_fail("read returned -1: %m");
	CHECK_EQ(getpid(), pid);
	CHECK_EQ(n, 6);
	CHECK(!memcmp(buf, "hello\n", 6));
	scen_pass();
}
