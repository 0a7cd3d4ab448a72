/*
 * block_alarm.c: a process waiting for its own timer, armed before the
 * checkpoint: "alarm" arms alarm(2) and waits for the one SIGALRM;
 * "itimer" arms a periodic ITIMER_REAL of 200 ms and waits for 10 ticks;
 * "posix" arms a POSIX timer (timer_create, CLOCK_MONOTONIC, SIGALRM) for
 * 2 s and waits for its one signal.
 * It waits in 10 ms sleeps (EINTR from SIGALRM is expected there), so a
 * lost timer fails in 10 s with the reason instead of hanging. The timer
 * must survive the restart or the checkpoint must be refused: a restarted
 * process whose alarm silently never comes waits forever.
 */
#include <errno.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "lib/scen.h"

#define GIVE_UP_NS 10000000000ULL
#define MIN_NS 2000000000ULL /* 2 s, or 10 ticks of 200 ms */

static volatile sig_atomic_t ticks;

static void on_alrm(int sig)
{
	(void)sig;
	ticks++;
}

int main(int argc, char **argv)
{
	bool periodic = argc > 1 && !strcmp(argv[1], "itimer");
	bool posix = argc > 1 && !strcmp(argv[1], "posix");
	timer_t timer = 0;
	struct sigaction sa = { .sa_handler = on_alrm };
	struct timespec ts = { 0, 10000000 };
	int want = periodic ? 10 : 1;
	uint64_t start;
	pid_t pid = getpid();

	scen_init();
	if (argc != 2 || (!periodic && !posix && strcmp(argv[1], "alarm")))
		scen_fail("usage: block_alarm alarm|itimer|posix");
	sigemptyset(&sa.sa_mask);
	CHECK_SYS(sigaction(SIGALRM, &sa, NULL));
	start = scen_now_ns();
	if (periodic) {
		struct itimerval it = { { 0, 200000 }, { 0, 200000 } };

		CHECK_SYS(setitimer(ITIMER_REAL, &it, NULL));
	} else if (posix) {
		struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGALRM };
		struct itimerspec its = { .it_value = { 2, 0 } };

		CHECK_SYS(timer_create(CLOCK_MONOTONIC, &sev, &timer));
		CHECK_SYS(timer_settime(timer, 0, &its, NULL));
	} else {
		CHECK_EQ(alarm(2), 0);
	}
	scen_ready();
	while (ticks < want) {
		if (nanosleep(&ts, NULL) && errno != EINTR)
			scen_fail("nanosleep: %m");
		if (scen_now_ns() - start > GIVE_UP_NS) {
			struct itimerval it;

			if (posix) {
				struct itimerspec its = { 0 };

				if (timer_gettime(timer, &its))
					scen_fail("0 SIGALRM after 10 s; the POSIX timer is gone: "
						  "timer_gettime: %m");
				scen_fail("0 SIGALRM after 10 s; the POSIX timer has "
					  "%ld.%09ld s left",
					  (long)its.it_value.tv_sec, its.it_value.tv_nsec);
			}
			getitimer(ITIMER_REAL, &it);
			scen_fail("%d of %d SIGALRM after 10 s; the timer has %ld.%06ld s left, "
				  "interval %ld.%06ld s",
				  (int)ticks, want, (long)it.it_value.tv_sec,
				  (long)it.it_value.tv_usec, (long)it.it_interval.tv_sec,
				  (long)it.it_interval.tv_usec);
		}
	}
	CHECK_EQ(getpid(), pid);
	if (scen_now_ns() - start < MIN_NS)
		scen_fail("%d SIGALRM after only %" PRIu64 " ms", (int)ticks,
			  (scen_now_ns() - start) / 1000000);
	scen_pass();
}
