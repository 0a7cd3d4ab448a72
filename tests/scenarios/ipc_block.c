/*
 * ipc_block.c: processes blocked on IPC at the checkpoint carry on after
 * restart: one child waits in mq_receive on an empty POSIX message queue,
 * one in msgrcv on a System V message queue (for type 5), one in semop
 * (taking 2 from a semaphore at 1). After restart the root sends a
 * message to each queue, and a message of another type first, and gives
 * the semaphore 1; each child must get exactly what was meant for it and
 * end, and the other message is still queued.
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/scen.h"

struct msg {
	long type;
	char text[16];
};

static char mq_name[64];
static int msg_id, sem_id;

/* Waits until the child is asleep in the kernel. */
static void wait_sleeping(pid_t pid)
{
	char path[64], buf[512];

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	for (int i = 0; i < 5000; i++) {
		FILE *f = fopen(path, "re");
		char *p = NULL;

		if (f && fgets(buf, sizeof(buf), f))
			p = strrchr(buf, ')');
		if (f)
			fclose(f);
		if (p && p[2] == 'S')
			return;
		usleep(1000);
	}
	scen_fail("pid %d never slept", pid);
}

static pid_t spawn(int which)
{
	pid_t pid = fork();

	CHECK_SYS(pid);
	if (pid)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (which == 0) {
		char buf[32];
		unsigned int prio;
		ssize_t n = mq_receive(3, buf, sizeof(buf), &prio);

		_exit(n != 4 || prio != 6 || memcmp(buf, "mq-b", 4));
	} else if (which == 1) {
		struct msg m;
		ssize_t n = msgrcv(msg_id, &m, sizeof(m.text), 5, 0);

		_exit(n != 5 || m.type != 5 || memcmp(m.text, "msg-5", 5));
	} else {
		struct sembuf b = { .sem_num = 0, .sem_op = -2 };

		_exit(semop(sem_id, &b, 1) != 0 || semctl(sem_id, 0, GETVAL) != 0);
	}
}

int main(void)
{
	struct mq_attr attr = { .mq_maxmsg = 4, .mq_msgsize = 32 };
	struct sembuf one = { .sem_num = 0, .sem_op = 1 };
	struct msg m = { .type = 1, .text = "x" };
	pid_t kids[3];
	int status;

	scen_init();
	snprintf(mq_name, sizeof(mq_name), "/ckpt-mq-block-%d", getpid());
	mq_unlink(mq_name); /* left by an earlier run */
	scen_move_fd(mq_open(mq_name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &attr), 3);
	msg_id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	sem_id = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
	CHECK_SYS(msg_id);
	CHECK_SYS(sem_id);
	/* the root operates on both first: they are the tree's */
	CHECK_SYS(msgsnd(msg_id, &m, 1, 0));
	CHECK_SYS(msgrcv(msg_id, &m, sizeof(m.text), 0, 0));
	CHECK_SYS(semop(sem_id, &one, 1));
	for (int i = 0; i < 3; i++) {
		kids[i] = spawn(i);
		wait_sleeping(kids[i]);
	}
	scen_ready();
	scen_wait();

	CHECK_SYS(mq_send(3, "mq-b", 4, 6));
	m = (struct msg){ .type = 4, .text = "msg-4" };
	CHECK_SYS(msgsnd(msg_id, &m, 5, 0));
	m = (struct msg){ .type = 5, .text = "msg-5" };
	CHECK_SYS(msgsnd(msg_id, &m, 5, 0));
	CHECK_SYS(semop(sem_id, &one, 1));
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(waitpid(kids[i], &status, 0), kids[i]);
		if (status)
			scen_fail("child %d ended with status 0x%x", i, status);
	}
	memset(&m, 0, sizeof(m));
	CHECK_EQ(msgrcv(msg_id, &m, sizeof(m.text), 0, IPC_NOWAIT), 5);
	CHECK_EQ(m.type, 4);
	CHECK_SYS(mq_unlink(mq_name));
	CHECK_SYS(msgctl(msg_id, IPC_RMID, NULL));
	CHECK_SYS(semctl(sem_id, 0, IPC_RMID));
	scen_pass();
}
