/*
 * sysv_msg.c: System V message queues used by a parent and its child
 * survive restart with their ids, keys, modes, owners, msg_qbytes, last
 * sender and receiver, and every message with its type, in order.
 *
 *   A  key 0x5e6xxxxx (from the pid), mode 0640, owner 1234:1235,
 *      msg_qbytes 4000; the root sends (1 "one-a") (2 "two-a") (3 "")
 *      (1 "one-b"), receives the type 3 one, and the child sends
 *      (2 "two-b, longer"): the child is its last sender, the root its
 *      last receiver
 *   B  IPC_PRIVATE, mode 0600; the child sent a message the root took:
 *      empty, last sender the child, last receiver the root
 *
 * After restart both processes check each queue's attributes (and the
 * root the child's last pids); then the root receives from A by type (2,
 * then 1, then any) and gets the right messages in order, sends to B and
 * receives it back, and removes both queues.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/scen.h"

struct msg {
	long type;
	char text[64];
};

static int a_id, b_id, a_key;
static pid_t root_pid, kid_pid;

static void send_msg(int id, long type, const char *text)
{
	struct msg m = { .type = type };

	strcpy(m.text, text);
	CHECK_SYS(msgsnd(id, &m, strlen(text), IPC_NOWAIT));
}

static void expect_msg(int id, long type, long want_type, const char *want)
{
	struct msg m;
	ssize_t n = msgrcv(id, &m, sizeof(m.text), type, IPC_NOWAIT);

	if (n < 0)
		scen_fail("msgrcv(%d, type %ld): %m", id, type);
	CHECK_EQ(m.type, want_type);
	CHECK_EQ(n, (ssize_t)strlen(want));
	if (memcmp(m.text, want, (size_t)n))
		scen_fail("message of type %ld reads '%.*s', expected '%s'", m.type, (int)n, m.text,
			  want);
}

static void check_queues(void)
{
	struct msqid_ds ds;

	CHECK_SYS(msgctl(a_id, IPC_STAT, &ds));
	CHECK_EQ(ds.msg_perm.__key, a_key);
	CHECK_EQ(ds.msg_perm.mode & 0777, 0640);
	CHECK_EQ(ds.msg_perm.uid, 1234);
	CHECK_EQ(ds.msg_perm.gid, 1235);
	CHECK_EQ(ds.msg_qbytes, 4000);
	CHECK_EQ(ds.msg_qnum, 4);
	CHECK_EQ(ds.msg_cbytes, 5 + 5 + 5 + 13);
	CHECK_EQ(ds.msg_lspid, kid_pid);
	CHECK_EQ(ds.msg_lrpid, root_pid);
	CHECK_SYS(msgctl(b_id, IPC_STAT, &ds));
	CHECK_EQ(ds.msg_perm.__key, IPC_PRIVATE);
	CHECK_EQ(ds.msg_perm.mode & 0777, 0600);
	CHECK_EQ(ds.msg_qnum, 0);
	CHECK_EQ(ds.msg_lspid, kid_pid);
	CHECK_EQ(ds.msg_lrpid, root_pid);
}

int main(void)
{
	struct msqid_ds ds;
	int pipefd[2], status;
	char c;

	scen_init();
	root_pid = getpid();
	a_key = (int)(0x5e600000 | (getpid() & 0xfffff));
	a_id = msgget(a_key, IPC_CREAT | IPC_EXCL | 0640);
	if (a_id < 0 && errno == EEXIST) { /* left by an earlier run */
		msgctl(msgget(a_key, 0), IPC_RMID, NULL);
		a_id = msgget(a_key, IPC_CREAT | IPC_EXCL | 0640);
	}
	CHECK_SYS(a_id);
	CHECK_SYS(msgctl(a_id, IPC_STAT, &ds));
	ds.msg_perm.uid = 1234;
	ds.msg_perm.gid = 1235;
	ds.msg_qbytes = 4000;
	CHECK_SYS(msgctl(a_id, IPC_SET, &ds));
	send_msg(a_id, 1, "one-a");
	send_msg(a_id, 2, "two-a");
	send_msg(a_id, 3, "");
	send_msg(a_id, 1, "one-b");
	expect_msg(a_id, 3, 3, "");
	b_id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	CHECK_SYS(b_id);

	CHECK_SYS(pipe2(pipefd, O_CLOEXEC));
	kid_pid = fork();
	CHECK_SYS(kid_pid);
	if (!kid_pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(pipefd[0]);
		kid_pid = getpid();
		send_msg(a_id, 2, "two-b, longer");
		send_msg(b_id, 7, "for the root");
		CHECK_EQ(write(pipefd[1], "x", 1), 1);
		close(pipefd[1]);
		scen_wait();
		check_queues();
		scen_pass();
	}
	close(pipefd[1]);
	CHECK_EQ(read(pipefd[0], &c, 1), 1);
	close(pipefd[0]);
	expect_msg(b_id, 0, 7, "for the root");
	check_queues();
	scen_ready();
	scen_wait();

	check_queues();
	CHECK_SYS(kill(kid_pid, SIGTERM));
	CHECK_EQ(waitpid(kid_pid, &status, 0), kid_pid);
	if (status)
		scen_fail("child ended with status 0x%x", status);
	expect_msg(a_id, 2, 2, "two-a");
	expect_msg(a_id, 1, 1, "one-a");
	expect_msg(a_id, 0, 1, "one-b");
	expect_msg(a_id, -5, 2, "two-b, longer");
	CHECK_EQ(msgrcv(a_id, &c, 0, 0, IPC_NOWAIT), -1);
	CHECK_EQ(errno, ENOMSG);
	send_msg(b_id, 9, "again");
	expect_msg(b_id, 9, 9, "again");
	CHECK_SYS(msgctl(a_id, IPC_RMID, NULL));
	CHECK_SYS(msgctl(b_id, IPC_RMID, NULL));
	scen_pass();
}
