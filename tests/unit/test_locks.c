/*
 * test_locks.c: the parser of file lock lines, on fixed texts: the lock
 * lines of an fdinfo among its other fields, /proc/locks with waiters,
 * every kind the kernel prints (POSIX, OFDLCK, FLOCK, LEASE in its three
 * states, DELEG, UNKNOWN), mandatory locks of old kernels, locks without
 * an inode, and lines that must not parse.
 */
#include <errno.h>
#include <stdint.h>
#include "lib/unit.h"
#include "proc/proc.h"

static const char fdinfo_text[] = "pos:\t1000\n"
				  "flags:\t02100002\n"
				  "mnt_id:\t27\n"
				  "ino:\t10952800\n"
				  "lock:\t1: POSIX  ADVISORY  WRITE 27890 fe:00:10952800 0 99\n"
				  "lock:\t2: POSIX  ADVISORY  READ 27890 fe:00:10952800 500 EOF\n"
				  "lock:\t3: OFDLCK ADVISORY  WRITE -1 fe:00:10952800 10 29\n"
				  "lock:\t4: FLOCK  ADVISORY  READ 27890 fe:00:10952800 0 EOF\n";

TEST(fdinfo_lines)
{
	struct proc_lock *l;
	size_t n;

	T_EQ(proc_parse_locks(fdinfo_text, &l, &n), 0);
	T_EQ(n, 4);
	if (n != 4)
		return;
	T_EQ(l[0].kind, PROC_LOCK_POSIX);
	T_EQ(l[0].type, PROC_LOCK_WRITE);
	T_EQ(l[0].pid, 27890);
	T_EQX(l[0].dev_major, 0xfe);
	T_EQ(l[0].dev_minor, 0);
	T_EQ(l[0].ino, 10952800);
	T_EQ(l[0].start, 0);
	T_EQ(l[0].end, 99);
	T_OK(!l[0].to_eof && !l[0].mandatory && !l[0].waiting && !l[0].breaking);
	T_EQ(l[1].type, PROC_LOCK_READ);
	T_EQ(l[1].start, 500);
	T_OK(l[1].to_eof);
	T_EQX(l[1].end, INT64_MAX);
	T_EQ(l[2].kind, PROC_LOCK_OFD);
	T_EQ(l[2].pid, -1);
	T_EQ(l[2].start, 10);
	T_EQ(l[2].end, 29);
	T_EQ(l[3].kind, PROC_LOCK_FLOCK);
	T_EQ(l[3].type, PROC_LOCK_READ);
	T_OK(l[3].to_eof);
	free(l);
}

TEST(no_locks)
{
	struct proc_lock *l = (struct proc_lock *)1;
	size_t n = 9;

	T_EQ(proc_parse_locks("pos:\t0\nflags:\t02\nmnt_id:\t1\nino:\t5\n", &l, &n), 0);
	T_EQ(n, 0);
	T_OK(l == NULL);
	T_EQ(proc_parse_locks("", &l, &n), 0);
	T_EQ(n, 0);
}

/* /proc/locks, with a waiter, leases in every state, a delegation, a lock
 * the kernel cannot name, and a mandatory lock as old kernels print it */
static const char locks_text[] = "1: POSIX  ADVISORY  WRITE 4242 08:01:1234 100 199\n"
				 "1: -> POSIX  ADVISORY  WRITE 4243 08:01:1234 150 150\n"
				 "2: LEASE  ACTIVE    READ 77 00:1f:99 0 EOF\n"
				 "3: LEASE  BREAKING  UNLCK 78 00:1f:98 0 EOF\n"
				 "4: LEASE  BREAKER   READ 79 00:1f:97 0 EOF\n"
				 "5: DELEG  ACTIVE    READ 80 00:1f:96 0 EOF\n"
				 "6: UNKNOWN UNKNOWN  READ 81 00:1f:95 0 EOF\n"
				 "7: POSIX  MANDATORY WRITE 82 103:02:7 0 0\n"
				 "8: POSIX  *NOINODE* READ 0 <none>:0 5 9\n";

TEST(proc_locks)
{
	struct proc_lock *l;
	size_t n;

	T_EQ(proc_parse_locks(locks_text, &l, &n), 0);
	T_EQ(n, 9);
	if (n != 9)
		return;
	T_OK(!l[0].waiting);
	T_OK(l[1].waiting);
	T_EQ(l[1].pid, 4243);
	T_EQ(l[1].start, 150);
	T_EQ(l[1].end, 150);
	T_EQ(l[2].kind, PROC_LOCK_LEASE);
	T_OK(!l[2].breaking);
	T_EQ(l[2].type, PROC_LOCK_READ);
	T_EQ(l[2].dev_minor, 0x1f);
	T_EQ(l[3].kind, PROC_LOCK_LEASE);
	T_OK(l[3].breaking);
	T_EQ(l[3].type, PROC_LOCK_UNLCK);
	T_OK(l[4].breaking);
	T_EQ(l[5].kind, PROC_LOCK_OTHER);
	T_EQ(l[6].kind, PROC_LOCK_OTHER);
	T_EQ(l[7].kind, PROC_LOCK_POSIX);
	T_OK(l[7].mandatory);
	T_EQX(l[7].dev_major, 0x103);
	T_EQ(l[7].dev_minor, 2);
	T_EQ(l[7].ino, 7);
	T_EQ(l[7].end, 0);
	T_EQ(l[8].pid, 0);
	T_EQ(l[8].ino, 0);
	T_EQ(l[8].dev_major, 0);
	T_EQ(l[8].start, 5);
	free(l);
}

TEST(bad_lines)
{
	static const char *const bad[] = {
		"lock:\t1: POSIX  ADVISORY  WRITE 1 08:01:2 0\n", /* no end */
		"lock:\t1: POSIX  ADVISORY  WRITE 1 08:01:2 9 5\n", /* end before start */
		"lock:\t1: POSIX  ADVISORY  WRITE 1 08:01:2 -1 5\n", /* negative start */
		"lock:\t1: POSIX  ADVISORY  MAYBE 1 08:01:2 0 5\n", /* unknown type */
		"lock:\t1: POSIX  ADVISORY  WRITE 1 0801 0 5\n", /* no inode */
		"lock:\t1: POSIX  ADVISORY  WRITE 1 08:01:2 0 5 6\n", /* a field too many */
		"lock:\t1: POSIX  ADVISORY  WRITE 1 08:01:2 0 5x\n", /* junk end */
		"lock:\t1 POSIX  ADVISORY  WRITE 1 08:01:2 0 5\n", /* no colon */
		"1: POSIX  ADVISORY  WRITE 1 08:01:2 0 -5\n", /* negative end */
	};
	struct proc_lock *l;
	size_t n;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (proc_parse_locks(bad[i], &l, &n) != -EINVAL)
			T_FAIL("accepted '%s'", bad[i]);
}

int main(void)
{
	unit_file = "unit/locks";
	RUN(fdinfo_lines);
	RUN(no_locks);
	RUN(proc_locks);
	RUN(bad_lines);
	return unit_done();
}
