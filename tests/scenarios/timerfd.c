/*
 * timerfd.c: timerfds survive checkpoint and restart with their clocks,
 * flags, periods, times left and the expirations not read yet.
 *
 *   fd 10  monotonic, every 10 ms, non-blocking, never read before the
 *          checkpoint: after restart a read counts at least what it had
 *          counted at the checkpoint, the period is the same, and it goes on
 *   fd 11  realtime, absolute, every 600 s, first expiry 3300 s ago: the
 *          kernel counts the missed periods on the next read, which must
 *          give exactly 6 (the next expiry is 300 s away)
 *   fd 12  monotonic one-shot, 3 s, blocking: still armed at the
 *          checkpoint, it fires after restart, having run about 3 s of the
 *          process's own time (the time it spent checkpointed not counted)
 *   fd 13  realtime one-shot, absolute and cancel-on-set, 4 s after it is
 *          set: the expiry stays the same point in real time
 *   fd 14  monotonic one-shot that fired before the checkpoint: reads 1
 *   fd 15  boottime, disarmed with a period of 5 s set
 *   fd 16  boottime alarm, one-shot, 1000 s
 *   fd 17  a dup of fd 10: one description
 *   fd 18  monotonic, every microsecond, never read: it expires again
 *          while it is read, and its count must still not go back
 *
 * While it waits, the process polls fds 12 and 13 every 10 ms: the
 * longest gap between two polls is the time it spent frozen or
 * checkpointed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <linux/kcmp.h>
#include "lib/scen.h"

enum {
	FD_PERIODIC = 10,
	FD_COUNTED = 11,
	FD_ONESHOT = 12,
	FD_ABS = 13,
	FD_FIRED = 14,
	FD_DISARMED = 15,
	FD_ALARM = 16,
	FD_DUP = 17,
	FD_FAST = 18,
};

#define MS 1000000LL
#define SEC 1000000000LL
#define ONESHOT_NS (3 * SEC)
#define ABS_NS (4 * SEC)
#define SLACK_NS (1500 * MS)

struct fdinfo {
	int clockid;
	unsigned long long ticks;
	unsigned int flags;
};

static int64_t ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * SEC + t->tv_nsec;
}

static struct timespec ns_ts(int64_t ns)
{
	return (struct timespec){ .tv_sec = ns / SEC, .tv_nsec = ns % SEC };
}

static int64_t now(clockid_t c)
{
	struct timespec t;

	CHECK_SYS(clock_gettime(c, &t));
	return ts_ns(&t);
}

static void make(int target, clockid_t clock, int flags, int sflags, int64_t value,
		 int64_t interval)
{
	struct itimerspec its = { .it_interval = ns_ts(interval), .it_value = ns_ts(value) };

	scen_move_fd(timerfd_create(clock, flags), target);
	CHECK_SYS(timerfd_settime(target, sflags, &its, NULL));
}

static struct fdinfo read_fdinfo(int fd)
{
	char path[64], line[256];
	struct fdinfo fi = { .clockid = -1 };
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	CHECK(f);
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "clockid: %d", &fi.clockid);
		sscanf(line, "ticks: %llu", &fi.ticks);
		sscanf(line, "settime flags: %o", &fi.flags);
	}
	fclose(f);
	return fi;
}

static uint64_t get(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		scen_fail("fd %d: read: %m", fd);
	return v;
}

static void check_nothing(int fd)
{
	uint64_t v;

	CHECK_EQ(read(fd, &v, sizeof(v)), -1);
	CHECK_EQ(errno, EAGAIN);
}

static struct itimerspec gettime(int fd)
{
	struct itimerspec its;

	CHECK_SYS(timerfd_gettime(fd, &its));
	return its;
}

static void check_flags(int fd, bool nonblock)
{
	int fl = fcntl(fd, F_GETFL);

	CHECK(fl >= 0);
	CHECK_EQ(fl & O_ACCMODE, O_RDWR);
	CHECK_EQ(!!(fl & O_NONBLOCK), nonblock);
}

static void check_kind(int fd, int clockid, unsigned int sflags)
{
	struct fdinfo fi = read_fdinfo(fd);
	char link[64], target[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	CHECK(n > 0);
	target[n] = 0;
	if (strcmp(target, "anon_inode:[timerfd]"))
		scen_fail("fd %d is '%s', not a timerfd", fd, target);
	CHECK_EQ(fi.clockid, clockid);
	CHECK_EQ(fi.flags, sflags);
}

/* What the wait saw of the two one-shot timers. */
struct watch {
	int64_t armed_mono, abs_expiry_rt;
	int64_t oneshot_fired; /* monotonic, 0 until it fired */
	int64_t abs_fired_rt, abs_fired_mono;
	int64_t gap; /* the longest time between two polls */
	int64_t resumed_rt; /* realtime right after that gap */
};

static void poll_once(struct watch *w, int64_t *last)
{
	struct pollfd p[2] = { { .fd = FD_ONESHOT, .events = POLLIN },
			       { .fd = FD_ABS, .events = POLLIN } };
	int64_t t, rt;

	if (poll(p, 2, 10) < 0 && errno != EINTR)
		scen_fail("poll: %m");
	t = now(CLOCK_MONOTONIC);
	rt = now(CLOCK_REALTIME);
	if (t - *last > w->gap) {
		w->gap = t - *last;
		w->resumed_rt = rt;
	}
	*last = t;
	if (p[0].revents & POLLIN && !w->oneshot_fired)
		w->oneshot_fired = t;
	if (p[1].revents & POLLIN && !w->abs_fired_rt) {
		w->abs_fired_rt = rt;
		w->abs_fired_mono = t;
	}
}

int main(void)
{
	struct watch w = { 0 };
	struct itimerspec its;
	uint64_t ticks_before, fast_before, n;
	int64_t last, left, deadline;

	scen_init();
	make(FD_PERIODIC, CLOCK_MONOTONIC, TFD_NONBLOCK, 0, 10 * MS, 10 * MS);
	make(FD_COUNTED, CLOCK_REALTIME, TFD_NONBLOCK, TFD_TIMER_ABSTIME,
	     now(CLOCK_REALTIME) - 3300 * SEC, 600 * SEC);
	make(FD_FIRED, CLOCK_MONOTONIC, TFD_NONBLOCK, 0, 1 * MS, 0);
	make(FD_DISARMED, CLOCK_BOOTTIME, 0, 0, 0, 5 * SEC);
	make(FD_ALARM, CLOCK_BOOTTIME_ALARM, TFD_NONBLOCK, 0, 1000 * SEC, 0);
	CHECK_SYS(dup2(FD_PERIODIC, FD_DUP));
	make(FD_FAST, CLOCK_MONOTONIC, TFD_NONBLOCK, 0, 1000, 1000);
	usleep(100 * 1000);
	/* a gettime counts the periods missed since the first expiry */
	its = gettime(FD_PERIODIC);
	ticks_before = read_fdinfo(FD_PERIODIC).ticks;
	CHECK(ticks_before >= 5);
	its = gettime(FD_FAST);
	fast_before = read_fdinfo(FD_FAST).ticks;
	CHECK(fast_before >= 50000);
	CHECK_EQ(read_fdinfo(FD_FIRED).ticks, 1);

	w.armed_mono = now(CLOCK_MONOTONIC);
	make(FD_ONESHOT, CLOCK_MONOTONIC, 0, 0, ONESHOT_NS, 0);
	w.abs_expiry_rt = now(CLOCK_REALTIME) + ABS_NS;
	make(FD_ABS, CLOCK_REALTIME, TFD_NONBLOCK, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET,
	     w.abs_expiry_rt, 0);
	scen_ready();
	last = now(CLOCK_MONOTONIC);
	while (!scen_told())
		poll_once(&w, &last);

	/* right after the resume, the absolute timer keeps its point in time */
	if (!w.abs_fired_rt) {
		its = gettime(FD_ABS);
		left = ts_ns(&its.it_value);
		if (left && llabs(left - (w.abs_expiry_rt - now(CLOCK_REALTIME))) > 100 * MS)
			scen_fail("absolute timer: %lld ns left, expected %lld", (long long)left,
				  (long long)(w.abs_expiry_rt - now(CLOCK_REALTIME)));
	}

	check_kind(FD_PERIODIC, CLOCK_MONOTONIC, 0);
	check_kind(FD_COUNTED, CLOCK_REALTIME, TFD_TIMER_ABSTIME);
	check_kind(FD_ONESHOT, CLOCK_MONOTONIC, 0);
	check_kind(FD_ABS, CLOCK_REALTIME, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET);
	check_kind(FD_FIRED, CLOCK_MONOTONIC, 0);
	check_kind(FD_DISARMED, CLOCK_BOOTTIME, 0);
	check_kind(FD_ALARM, CLOCK_BOOTTIME_ALARM, 0);
	check_flags(FD_PERIODIC, true);
	check_flags(FD_COUNTED, true);
	check_flags(FD_ONESHOT, false);
	check_flags(FD_ABS, true);
	check_flags(FD_DISARMED, false);
	check_flags(FD_DUP, true);
	check_kind(FD_FAST, CLOCK_MONOTONIC, 0);
	CHECK_EQ(syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, FD_PERIODIC, FD_DUP), 0);
	CHECK(syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, FD_PERIODIC, FD_FIRED) != 0);

	/* periodic: every expiration counted at the checkpoint is still there */
	its = gettime(FD_PERIODIC);
	CHECK_EQ(ts_ns(&its.it_interval), 10 * MS);
	n = get(FD_DUP);
	if (n < ticks_before)
		scen_fail("periodic timer: read %llu expirations, had %llu", (unsigned long long)n,
			  (unsigned long long)ticks_before);
	{
		struct pollfd p = { .fd = FD_PERIODIC, .events = POLLIN };

		CHECK_EQ(poll(&p, 1, 1000), 1);
		CHECK(get(FD_PERIODIC) >= 1);
	}

	its = gettime(FD_FAST);
	CHECK_EQ(ts_ns(&its.it_interval), 1000);
	n = get(FD_FAST);
	if (n < fast_before)
		scen_fail("fast periodic timer: read %llu expirations, had %llu",
			  (unsigned long long)n, (unsigned long long)fast_before);

	/* exact counts */
	CHECK_EQ(get(FD_COUNTED), 6);
	check_nothing(FD_COUNTED);
	its = gettime(FD_COUNTED);
	CHECK_EQ(ts_ns(&its.it_interval), 600 * SEC);
	CHECK(ts_ns(&its.it_value) > 250 * SEC && ts_ns(&its.it_value) <= 300 * SEC);
	CHECK_EQ(get(FD_FIRED), 1);
	check_nothing(FD_FIRED);
	its = gettime(FD_FIRED);
	CHECK_EQ(ts_ns(&its.it_value), 0);

	/* disarmed, with its period */
	its = gettime(FD_DISARMED);
	CHECK_EQ(ts_ns(&its.it_value), 0);
	CHECK_EQ(ts_ns(&its.it_interval), 5 * SEC);
	CHECK_EQ(read_fdinfo(FD_DISARMED).ticks, 0);

	/* the alarm: a little less than 1000 s left */
	its = gettime(FD_ALARM);
	CHECK(ts_ns(&its.it_value) > 900 * SEC && ts_ns(&its.it_value) <= 1000 * SEC);
	CHECK_EQ(ts_ns(&its.it_interval), 0);
	check_nothing(FD_ALARM);

	/* the one-shot timers fire, in time */
	deadline = last + ABS_NS + 3 * SEC;
	while ((!w.oneshot_fired || !w.abs_fired_rt) && last < deadline)
		poll_once(&w, &last);
	if (!w.oneshot_fired)
		scen_fail("the one-shot timer never fired");
	if (!w.abs_fired_rt)
		scen_fail("the absolute timer never fired");
	{
		int64_t ran = w.oneshot_fired - w.armed_mono - w.gap;

		/* the process ran the 3 s, less what restart took after it set the timer */
		if (ran < ONESHOT_NS - SLACK_NS || ran > ONESHOT_NS + SLACK_NS)
			scen_fail("the one-shot timer fired after %lld ms of the process's time "
				  "(%lld ms since set, %lld ms frozen), expected about %lld",
				  (long long)(ran / MS),
				  (long long)((w.oneshot_fired - w.armed_mono) / MS),
				  (long long)(w.gap / MS), (long long)(ONESHOT_NS / MS));
	}
	if (w.abs_fired_rt < w.abs_expiry_rt - 20 * MS)
		scen_fail("the absolute timer fired %lld ms early",
			  (long long)((w.abs_expiry_rt - w.abs_fired_rt) / MS));
	if (w.abs_fired_rt >
	    (w.abs_expiry_rt > w.resumed_rt ? w.abs_expiry_rt : w.resumed_rt) + SLACK_NS)
		scen_fail("the absolute timer fired %lld ms late",
			  (long long)((w.abs_fired_rt - w.abs_expiry_rt) / MS));
	CHECK_EQ(get(FD_ONESHOT), 1);
	CHECK_EQ(get(FD_ABS), 1);
	scen_pass();
}
