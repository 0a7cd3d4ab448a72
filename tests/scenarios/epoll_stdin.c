/*
 * epoll_stdin.c: an epoll watching an external descriptor, the standard
 * input (the runner's FIFO, connected outside the tree). The epoll at fd 3
 * has one entry, for fd 0, with 64 bits of data; nothing is to be read
 * before the checkpoint. After restart the runner writes a line into the
 * FIFO: the epoll reports fd 0 readable with its data, the line is there
 * to read, and the entry is found again by EPOLL_CTL_MOD and DEL.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include "lib/scen.h"

#define DATA 0x0123456789abcdefULL

int main(void)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = DATA };
	char buf[64];
	ssize_t n;

	scen_init();
	scen_move_fd(epoll_create1(EPOLL_CLOEXEC), 3);
	CHECK_SYS(epoll_ctl(3, EPOLL_CTL_ADD, 0, &ev));
	CHECK_EQ(epoll_wait(3, &ev, 1, 0), 0);
	scen_ready();
	scen_wait();
	CHECK_EQ(epoll_wait(3, &ev, 1, 5000), 1);
	CHECK_EQ(ev.data.u64, DATA);
	CHECK_EQ(ev.events, EPOLLIN);
	n = read(0, buf, sizeof(buf) - 1);
	CHECK(n > 0);
	buf[n] = '\0';
	if (strcmp(buf, "hello\n"))
		scen_fail("read '%s' from stdin, not 'hello'", buf);
	ev.events = EPOLLIN | EPOLLET;
	CHECK_SYS(epoll_ctl(3, EPOLL_CTL_MOD, 0, &ev));
	CHECK_SYS(epoll_ctl(3, EPOLL_CTL_DEL, 0, NULL));
	CHECK(epoll_ctl(3, EPOLL_CTL_DEL, 0, NULL) < 0 && errno == ENOENT);
	scen_pass();
}
