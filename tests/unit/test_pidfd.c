/*
 * test_pidfd.c: the pidfd part of fdinfo: a live process, one the reader's
 * namespace does not see, one reaped, and texts without or with a broken
 * "Pid:" field.
 */
#include <errno.h>
#include <sys/types.h>
#include "lib/unit.h"
#include "proc/proc.h"

TEST(pidfd_pid)
{
	pid_t pid = 7;

	T_EQ(proc_parse_pidfd_fdinfo("pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t2051\n"
				     "Pid:\t4242\nNSpid:\t4242\t3\n",
				     &pid),
	     0);
	T_EQ(pid, 4242);
	T_EQ(proc_parse_pidfd_fdinfo("pos:\t0\nPid:\t-1\nNSpid:\t-1\n", &pid), 0);
	T_EQ(pid, -1);
	T_EQ(proc_parse_pidfd_fdinfo("Pid:\t0\n", &pid), 0);
	T_EQ(pid, 0);
}

TEST(pidfd_bad)
{
	pid_t pid = 7;

	T_EQ(proc_parse_pidfd_fdinfo("pos:\t0\nflags:\t02000002\n", &pid), -ENOENT);
	T_EQ(proc_parse_pidfd_fdinfo("Pid:\tx\n", &pid), -EINVAL);
	T_EQ(proc_parse_pidfd_fdinfo("Pid:\t12x\n", &pid), -EINVAL);
	T_EQ(proc_parse_pidfd_fdinfo("Pid:\t-2\n", &pid), -EINVAL);
	T_EQ(proc_parse_pidfd_fdinfo("Pid:\t12", &pid), -EINVAL);
	T_EQ(pid, 7);
}

int main(void)
{
	unit_file = "unit/pidfd";
	RUN(pidfd_pid);
	RUN(pidfd_bad);
	return unit_done();
}
