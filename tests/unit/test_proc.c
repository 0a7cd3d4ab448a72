/*
 * test_proc.c: the /proc parsers on fixed texts, including the awkward
 * cases: a comm with spaces and parentheses, deleted files, anonymous
 * names, unknown VmFlags, missing fields.
 */
#include <errno.h>
#include <signal.h>
#include <sys/mman.h>
#include "lib/unit.h"
#include "proc/proc.h"

static const char status_text[] = "Name:\tpython3\n"
				  "Umask:\t0022\n"
				  "State:\tS (sleeping)\n"
				  "Tgid:\t4242\n"
				  "Ngid:\t0\n"
				  "Pid:\t4242\n"
				  "PPid:\t1\n"
				  "TracerPid:\t0\n"
				  "Uid:\t1000\t1001\t1002\t1003\n"
				  "Gid:\t2000\t2001\t2002\t2003\n"
				  "FDSize:\t64\n"
				  "Groups:\t4 24 27 \n"
				  "NSpid:\t4242\t7\n"
				  "Threads:\t3\n"
				  "SigQ:\t0/96365\n"
				  "SigPnd:\t0000000000000000\n"
				  "ShdPnd:\t0000000000000100\n"
				  "SigBlk:\t0000000000010000\n"
				  "SigIgn:\t0000000001001000\n"
				  "SigCgt:\t0000000180004002\n"
				  "CapInh:\t0000000000000000\n"
				  "CapPrm:\t000001ffffffffff\n"
				  "CapEff:\t000001ffffffffff\n"
				  "CapBnd:\t000001ffffffffff\n"
				  "CapAmb:\t0000000000000000\n"
				  "NoNewPrivs:\t1\n"
				  "Seccomp:\t2\n"
				  "Seccomp_filters:\t1\n";

TEST(status)
{
	struct proc_status st;

	T_EQ(proc_parse_status(status_text, &st), 0);
	T_STR(st.name, "python3");
	T_EQ(st.state, 'S');
	T_EQ(st.umask, 022);
	T_EQ(st.tgid, 4242);
	T_EQ(st.ppid, 1);
	T_EQ(st.uid[0], 1000);
	T_EQ(st.uid[3], 1003);
	T_EQ(st.gid[2], 2002);
	T_EQ(st.ngroups, 3);
	T_EQ(st.groups[2], 27);
	T_EQ(st.threads, 3);
	T_EQX(st.shdpnd, 0x100);
	T_EQX(st.sigblk, 0x10000);
	T_EQX(st.cap_prm, 0x1ffffffffffULL);
	T_EQ(st.no_new_privs, 1);
	T_EQ(st.seccomp, 2);
	T_EQ(st.seccomp_filters, 1);
	T_EQ(st.nspid_depth, 2);
	proc_status_release(&st);
}

TEST(status_missing_field)
{
	struct proc_status st;

	T_EQ(proc_parse_status("Name:\tx\nState:\tR\n", &st), -EINVAL);
	T_EQ(proc_parse_status("", &st), -EINVAL);
}

TEST(stat_with_odd_comm)
{
	static const char text[] =
		"4242 (a) b (c)) S 1 4242 4242 34816 4242 4194560 165 0 0 0 1 2 0 0 20 0 1 0 "
		"123456 10000000 300 18446744073709551615 94000000000000 94000000100000 "
		"140700000000000 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0 94000000200000 "
		"94000000300000 94000000400000 140700000001000 140700000002000 "
		"140700000002000 140700000003000 0\n";
	struct proc_stat st;

	T_EQ(proc_parse_stat(text, &st), 0);
	T_STR(st.comm, "a) b (c)");
	T_EQ(st.state, 'S');
	T_EQ(st.ppid, 1);
	T_EQ(st.pgrp, 4242);
	T_EQ(st.session, 4242);
	T_EQ(st.nice, 0);
	T_EQ(st.num_threads, 1);
	T_EQ(st.start_time, 123456);
	T_EQ(st.start_code, 94000000000000UL);
	T_EQ(st.start_stack, 140700000000000UL);
	T_EQ(st.start_data, 94000000200000UL);
	T_EQ(st.start_brk, 94000000400000UL);
	T_EQ(st.env_end, 140700000003000UL);
	T_EQ(st.exit_code, 0);
	T_EQ(proc_parse_stat("4242 (x) S 1", &st), -EINVAL);
	T_EQ(proc_parse_stat("garbage", &st), -EINVAL);
}

static const char smaps_text[] =
	"55d0c8a00000-55d0c8a02000 r--p 00001000 fe:00 247134                     /usr/bin/cat\n"
	"Size:                  8 kB\n"
	"Anonymous:             0 kB\n"
	"VmFlags: rd mr mw me dw sd \n"
	"7f53fea14000-7f53fea36000 rw-s 00000000 00:01 99                         /dev/zero (deleted)\n"
	"Size:                136 kB\n"
	"VmFlags: rd wr sh mr mw me ms sd zz \n"
	"7f53fea36000-7f53fea38000 rw-p 00000000 00:00 0                          [anon:my heap]\n"
	"VmFlags: rd wr mr mw me ac dd lo \n"
	"7ffe347af000-7ffe347d0000 rw-p 00000000 00:00 0                          [stack]\n"
	"VmFlags: rd wr mr mw me gd ac \n"
	"7ffe347d0000-7ffe347d1000 ---p 00000000 00:00 0 \n"
	"VmFlags: \n";

TEST(smaps)
{
	struct proc_maps m;
	const struct proc_vma *v;

	T_EQ(proc_parse_smaps(smaps_text, &m), 0);
	T_EQ(m.count, 5);
	v = &m.vmas[0];
	T_EQX(v->start, 0x55d0c8a00000UL);
	T_EQX(v->end, 0x55d0c8a02000UL);
	T_EQ(v->prot, PROT_READ);
	T_EQ(v->shared, 0);
	T_EQX(v->pgoff, 0x1000);
	T_EQ(v->dev_major, 0xfe);
	T_EQ(v->ino, 247134);
	T_STR(v->name, "/usr/bin/cat");
	T_OK(v->vmflags & VMF(SD));
	T_OK(v->vmflags & VMF(UNKNOWN)); /* "dw": gone from newer kernels */
	v = &m.vmas[1];
	T_EQ(v->shared, 1);
	T_OK(v->deleted);
	T_STR(v->name, "/dev/zero");
	T_OK(v->vmflags & VMF(SH));
	T_OK(v->vmflags & VMF(UNKNOWN));
	v = &m.vmas[2];
	T_STR(v->name, "[anon:my heap]");
	T_OK(v->vmflags & VMF(DD));
	T_OK(v->vmflags & VMF(LO));
	T_OK(m.vmas[3].vmflags & VMF(GD));
	T_OK(!m.vmas[4].name);
	T_EQ(m.vmas[4].prot, 0);
	proc_maps_release(&m);
}

TEST(smaps_bad)
{
	struct proc_maps m;

	T_EQ(proc_parse_smaps("VmFlags: rd\n", &m), -EINVAL);
	T_EQ(proc_parse_smaps("2000-1000 rw-p 0 00:00 0\n", &m), -EINVAL);
	T_EQ(proc_parse_smaps("", &m), 0);
	T_EQ(m.count, 0);
	proc_maps_release(&m);
}

TEST(fdinfo)
{
	struct proc_fdinfo fi;

	T_EQ(proc_parse_fdinfo("pos:\t123\nflags:\t02102001\nmnt_id:\t31\nino:\t99\n", &fi), 0);
	T_EQ(fi.pos, 123);
	T_EQ(fi.flags, 02102001);
	T_EQ(fi.mnt_id, 31);
	T_EQ(fi.ino, 99);
	T_EQ(fi.has_locks, 0);
	T_EQ(proc_parse_fdinfo("pos:\t0\nflags:\t0\nlock:\t1: POSIX ADVISORY WRITE\n", &fi), 0);
	T_EQ(fi.has_locks, 1);
	T_EQ(proc_parse_fdinfo("flags:\t0\n", &fi), -EINVAL);
}

TEST(pid_list)
{
	pid_t *l;
	size_t n;

	T_EQ(proc_parse_pid_list("12 345 6789 \n", &l, &n), 0);
	T_EQ(n, 3);
	T_EQ(l[2], 6789);
	free(l);
	T_EQ(proc_parse_pid_list("", &l, &n), 0);
	T_EQ(n, 0);
	free(l);
	T_EQ(proc_parse_pid_list("12 x", &l, &n), -EINVAL);
	T_EQ(proc_parse_pid_list("-3", &l, &n), -EINVAL);
}

TEST(timers)
{
	static const char text[] = "ID: 2\n"
				   "signal: 0/0000000000000000\n"
				   "notify: none/pid.7879\n"
				   "ClockID: 7\n"
				   "ID: 1\n"
				   "signal: 12/0000000000000000\n"
				   "notify: signal/tid.7880\n"
				   "ClockID: 0\n"
				   "ID: 0\n"
				   "signal: 10/0000000000001234\n"
				   "notify: signal/pid.7879\n"
				   "ClockID: 1\n";
	struct proc_timer *t;
	size_t n;

	T_EQ(proc_parse_timers(text, &t, &n), 0);
	T_EQ(n, 3);
	T_EQ(t[0].id, 2);
	T_EQ(t[0].notify, SIGEV_NONE);
	T_EQ(t[0].clock, 7);
	T_EQ(t[1].signo, 12);
	T_EQ(t[1].notify, SIGEV_SIGNAL | 4 /* SIGEV_THREAD_ID */);
	T_EQ(t[1].target, 7880);
	T_EQX(t[2].sigev_value, 0x1234);
	T_EQ(t[2].notify, SIGEV_SIGNAL);
	free(t);
	T_EQ(proc_parse_timers("", &t, &n), 0);
	T_EQ(n, 0);
	free(t);
	T_EQ(proc_parse_timers("ID: 1\nsignal: 10/0\nClockID: 1\n", &t, &n), -EINVAL);
	T_EQ(proc_parse_timers("signal: 10/0\n", &t, &n), -EINVAL);
}

int main(void)
{
	unit_file = "unit/proc";
	RUN(status);
	RUN(status_missing_field);
	RUN(stat_with_odd_comm);
	RUN(smaps);
	RUN(smaps_bad);
	RUN(fdinfo);
	RUN(pid_list);
	RUN(timers);
	return unit_done();
}
