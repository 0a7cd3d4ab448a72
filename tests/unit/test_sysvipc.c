/*
 * test_sysvipc.c: the parsers of /proc/sysvipc/sem, /proc/sysvipc/msg and
 * of a POSIX message queue's status line, on fixed texts: negative keys,
 * an empty table, short and malformed lines.
 */
#include <errno.h>
#include <stdlib.h>
#include "lib/unit.h"
#include "proc/sysvipc.h"

static const char sem_text[] =
	"       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n"
	"         0          0   600          3     0     0     0     0          0 1764870000\n"
	"-559038737      32769   640          1  1234  1235     0     0 1764870001 1764870002\n";

static const char msg_text[] =
	"       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid "
	"     stime      rtime      ctime\n"
	"1193046          5   660         30          3  4242  4243  1000  1001     0     0 "
	"1764870003 1764870004 1764870005\n";

TEST(sem_table)
{
	struct proc_sysv_sem *s;
	size_t n;

	T_EQ(proc_parse_sysv_sem(sem_text, &s, &n), 0);
	T_EQ(n, 2);
	T_EQ(s[0].key, 0);
	T_EQ(s[0].nsems, 3);
	T_EQ(s[0].perms, 0600);
	T_EQ(s[0].ctime, 1764870000);
	T_EQX((uint32_t)s[1].key, 0xdeadbeef);
	T_EQ(s[1].id, 32769);
	T_EQ(s[1].perms, 0640);
	T_EQ(s[1].uid, 1234);
	T_EQ(s[1].gid, 1235);
	T_EQ(s[1].otime, 1764870001);
	free(s);
}

TEST(msg_table)
{
	struct proc_sysv_msg *m;
	size_t n;

	T_EQ(proc_parse_sysv_msg(msg_text, &m, &n), 0);
	T_EQ(n, 1);
	T_EQX(m[0].key, 0x123456);
	T_EQ(m[0].id, 5);
	T_EQ(m[0].perms, 0660);
	T_EQ(m[0].cbytes, 30);
	T_EQ(m[0].qnum, 3);
	T_EQ(m[0].lspid, 4242);
	T_EQ(m[0].lrpid, 4243);
	T_EQ(m[0].uid, 1000);
	T_EQ(m[0].gid, 1001);
	T_EQ(m[0].rtime, 1764870004);
	T_EQ(m[0].ctime, 1764870005);
	free(m);
}

TEST(empty_and_bad)
{
	struct proc_sysv_sem *s = (void *)1;
	struct proc_sysv_msg *m;
	size_t n = 9;

	T_EQ(proc_parse_sysv_sem("       key      semid perms\n", &s, &n), 0);
	T_EQ(n, 0);
	T_OK(!s);
	T_EQ(proc_parse_sysv_sem("", &s, &n), 0);
	T_EQ(n, 0);
	T_EQ(proc_parse_sysv_sem("heading\n1 2 600 1 0 0 0 0 5\n", &s, &n), -EINVAL);
	T_EQ(proc_parse_sysv_sem("no heading line", &s, &n), -EINVAL);
	T_EQ(proc_parse_sysv_msg("heading\n1 2 600 0 0 x 0 0 0 0 0 0 0 0\n", &m, &n), -EINVAL);
}

TEST(mq_status)
{
	struct proc_mq_status st = { 0 };

	T_EQ(proc_parse_mq_status("QSIZE:12         NOTIFY:0     SIGNO:10    NOTIFY_PID:4242  \n",
				  &st),
	     0);
	T_EQ(st.qsize, 12);
	T_EQ(st.notify, 0);
	T_EQ(st.signo, 10);
	T_EQ(st.notify_pid, 4242);
	T_EQ(proc_parse_mq_status("QSIZE:0 NOTIFY:0 SIGNO:0 NOTIFY_PID:0\n", &st), 0);
	T_EQ(st.notify_pid, 0);
	T_EQ(proc_parse_mq_status("QSIZE:0 NOTIFY:0\n", &st), -EINVAL);
}

int main(void)
{
	unit_file = "unit/sysvipc";
	RUN(sem_table);
	RUN(msg_table);
	RUN(empty_and_bad);
	RUN(mq_status);
	return unit_done();
}
