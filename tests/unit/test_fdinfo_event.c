/*
 * test_fdinfo_event.c: the fdinfo lines of eventfds, signalfds and
 * timerfds, as the kernel prints them (hex counts and masks, octal flags,
 * "(sec, nsec)" times), an older kernel's eventfd without the semaphore
 * line, and texts with fields missing or malformed.
 */
#include <errno.h>
#include "lib/unit.h"
#include "proc/proc.h"

static const char eventfd_text[] = "pos:\t0\n"
				   "flags:\t04002\n"
				   "mnt_id:\t17\n"
				   "ino:\t1039\n"
				   "eventfd-count:     fffffffffffffffe\n"
				   "eventfd-id: 1\n"
				   "eventfd-semaphore: 1\n";

static const char timerfd_text[] = "pos:\t0\n"
				   "flags:\t02\n"
				   "mnt_id:\t17\n"
				   "ino:\t1039\n"
				   "clockid: 7\n"
				   "ticks: 12345678901\n"
				   "settime flags: 03\n"
				   "it_value: (99, 999991928)\n"
				   "it_interval: (0, 10000000)\n";

TEST(eventfd)
{
	struct proc_eventfd e;

	T_EQ(proc_parse_eventfd(eventfd_text, &e), 0);
	T_EQX(e.count, 0xfffffffffffffffeULL);
	T_EQ(e.semaphore, 1);
	T_EQ(proc_parse_eventfd("eventfd-count:               1a\neventfd-id: 3\n", &e), 0);
	T_EQ(e.count, 26);
	T_EQ(e.semaphore, -1);
	T_EQ(proc_parse_eventfd("eventfd-count: 0\neventfd-semaphore: 0\n", &e), 0);
	T_EQ(e.count, 0);
	T_EQ(e.semaphore, 0);
}

TEST(eventfd_bad)
{
	struct proc_eventfd e;

	T_EQ(proc_parse_eventfd("pos:\t0\nflags:\t02\n", &e), -EINVAL);
	T_EQ(proc_parse_eventfd("eventfd-count: zz\n", &e), -EINVAL);
	T_EQ(proc_parse_eventfd("eventfd-count: \n", &e), -EINVAL);
	T_EQ(proc_parse_eventfd("eventfd-count: 10000000000000000\n", &e), -EINVAL);
	T_EQ(proc_parse_eventfd("eventfd-count: 1\neventfd-semaphore: 2\n", &e), -EINVAL);
	T_EQ(proc_parse_eventfd("eventfd-count: 1\neventfd-semaphore: x\n", &e), -EINVAL);
}

TEST(signalfd)
{
	uint64_t mask;

	T_EQ(proc_parse_signalfd("pos:\t0\nflags:\t04002\nsigmask:\t0000001000000200\n", &mask), 0);
	T_EQX(mask, 0x1000000200ULL);
	T_EQ(proc_parse_signalfd("sigmask:\t0000000000000000\n", &mask), 0);
	T_EQX(mask, 0);
	T_EQ(proc_parse_signalfd("pos:\t0\n", &mask), -EINVAL);
	T_EQ(proc_parse_signalfd("sigmask:\t00000000000g0000\n", &mask), -EINVAL);
}

TEST(timerfd)
{
	struct proc_timerfd t;

	T_EQ(proc_parse_timerfd(timerfd_text, &t), 0);
	T_EQ(t.clockid, 7);
	T_EQ(t.ticks, 12345678901LL);
	T_EQ(t.settime_flags, 3);
	T_EQ(t.value_ns, 99999991928LL);
	T_EQ(t.interval_ns, 10000000);
	T_EQ(proc_parse_timerfd("clockid: 0\nticks: 0\nsettime flags: 00\n"
				"it_value: (0, 0)\nit_interval: (0, 0)\n",
				&t),
	     0);
	T_EQ(t.clockid, 0);
	T_EQ(t.value_ns, 0);
	T_EQ(t.interval_ns, 0);
}

TEST(timerfd_bad)
{
	struct proc_timerfd t;

	/* missing it_interval */
	T_EQ(proc_parse_timerfd("clockid: 1\nticks: 0\nsettime flags: 00\nit_value: (0, 0)\n", &t),
	     -EINVAL);
	/* nanoseconds out of range */
	T_EQ(proc_parse_timerfd("clockid: 1\nticks: 0\nsettime flags: 00\n"
				"it_value: (0, 1000000000)\nit_interval: (0, 0)\n",
				&t),
	     -EINVAL);
	/* settime flags are octal */
	T_EQ(proc_parse_timerfd("clockid: 1\nticks: 0\nsettime flags: 09\n"
				"it_value: (0, 0)\nit_interval: (0, 0)\n",
				&t),
	     -EINVAL);
	/* trailing junk */
	T_EQ(proc_parse_timerfd("clockid: 1\nticks: 0\nsettime flags: 00\n"
				"it_value: (0, 0) x\nit_interval: (0, 0)\n",
				&t),
	     -EINVAL);
	T_EQ(proc_parse_timerfd("clockid: 1\nticks: -1\nsettime flags: 00\n"
				"it_value: (0, 0)\nit_interval: (0, 0)\n",
				&t),
	     -EINVAL);
	T_EQ(proc_parse_timerfd("", &t), -EINVAL);
}

int main(void)
{
	unit_file = "unit/fdinfo_event";
	RUN(eventfd);
	RUN(eventfd_bad);
	RUN(signalfd);
	RUN(timerfd);
	RUN(timerfd_bad);
	return unit_done();
}
