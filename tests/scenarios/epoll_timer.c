/*
 * epoll_timer.c: an event loop, as servers have: one epoll watching a
 * periodic timerfd, an eventfd and the read end of a pipe, the process
 * blocked in epoll_wait most of the time. A child writes to the pipe and
 * signals the eventfd now and then. Through checkpoint and restart the
 * loop goes on: after the restart the timer keeps ticking (its
 * expirations add up), the eventfd's count and the pipe's bytes arrive
 * with their epoll data, and nothing is lost: the pipe carries a sequence
 * the loop checks byte by byte. After the runner's SIGTERM the loop must
 * go on for 20 ticks and a few of the child's bytes and counts.
 */
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/scen.h"

enum {
	TIMER = 1,
	EVENT = 2,
	PIPE = 3
};

static volatile sig_atomic_t stop;

static void on_usr1(int sig)
{
	(void)sig;
	stop = 1;
}

/* The child: a byte on the pipe and a count on the eventfd every 5 ms,
 * until SIGUSR1. */
static void feeder(int wfd, int efd)
{
	unsigned char seq = 0;
	uint64_t one = 1;

	signal(SIGUSR1, on_usr1);
	while (!stop) {
		if (write(wfd, &seq, 1) == 1)
			seq++;
		if (write(efd, &one, sizeof(one)) != sizeof(one))
			_exit(1);
		usleep(5000);
	}
	_exit(0);
}

int main(void)
{
	struct itimerspec its = { { 0, 2000000 }, { 0, 2000000 } };
	uint64_t ticks = 0, events = 0, n;
	uint64_t told_ticks = 0, told_events = 0, told_bytes = 0, bytes = 0;
	unsigned char next = 0, buf[256];
	struct epoll_event ev;
	int ep, tfd, efd, p[2], status;
	bool ready = false, told = false;
	pid_t child;

	scen_init();
	CHECK_SYS(pipe(p));
	efd = eventfd(0, EFD_NONBLOCK);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	ep = epoll_create1(0);
	CHECK(efd >= 0 && tfd >= 0 && ep >= 0);
	child = fork();
	CHECK_SYS(child);
	if (child == 0) {
		close(p[0]);
		feeder(p[1], efd);
	}
	close(p[1]);
	CHECK_SYS(timerfd_settime(tfd, 0, &its, NULL));
	ev = (struct epoll_event){ .events = EPOLLIN, .data.u64 = TIMER };
	CHECK_SYS(epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev));
	ev = (struct epoll_event){ .events = EPOLLIN, .data.u64 = EVENT };
	CHECK_SYS(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev));
	ev = (struct epoll_event){ .events = EPOLLIN, .data.u64 = PIPE };
	CHECK_SYS(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	/* after the runner's SIGTERM, which comes after the restart, the loop
	 * runs on until the timer ticked 20 more times and the child's bytes
	 * and counts kept coming */
	while (!told || ticks < told_ticks + 20 || events < told_events + 3 ||
	       bytes < told_bytes + 3) {
		int k = epoll_wait(ep, &ev, 1, 1000);

		if (k < 0 && scen_told())
			continue;
		CHECK_SYS(k);
		if (k == 0)
			scen_fail("the loop got no event for a second");
		switch (ev.data.u64) {
		case TIMER:
			CHECK_EQ(read(tfd, &n, sizeof(n)), sizeof(n));
			ticks += n;
			break;
		case EVENT:
			CHECK_EQ(read(efd, &n, sizeof(n)), sizeof(n));
			events += n;
			break;
		case PIPE: {
			ssize_t r = read(p[0], buf, sizeof(buf));

			CHECK(r > 0);
			for (ssize_t i = 0; i < r; i++, next++)
				if (buf[i] != next)
					scen_fail("pipe byte %u where %u was due", buf[i], next);
			bytes += (uint64_t)r;
			break;
		}
		default:
			scen_fail("epoll data %llu", (unsigned long long)ev.data.u64);
		}
		if (!ready && ticks > 20 && events > 5) {
			ready = true;
			scen_ready();
		}
		if (!told && scen_told()) {
			told = true;
			told_ticks = ticks;
			told_events = events;
			told_bytes = bytes;
		}
	}
	kill(child, SIGUSR1);
	CHECK_EQ(waitpid(child, &status, 0), child);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	scen_pass();
}
