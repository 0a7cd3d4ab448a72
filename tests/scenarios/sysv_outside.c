/*
 * sysv_outside.c: System V objects the tree did not operate on last are
 * outside it: checkpoint neither saves nor touches them (not even with
 * --kill), and restart does not create them. A child that has exited
 * created a semaphore set S (value 4) and a message queue Q (one message)
 * and was the last to operate on them; after restart both are still
 * there, unchanged, with their times and last pids as they were.
 *
 * Not for leave mode: the original removes both when it ends, and they
 * are no part of the image the restart then restores.
 */
#include <errno.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/scen.h"

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

int main(void)
{
	struct semid_ds sem_before, sem_after;
	struct msqid_ds msg_before, msg_after;
	union semun arg = { .buf = &sem_before };
	struct {
		long type;
		char text[8];
	} m = { 3, "out" };
	int sem_id, msg_id, status;
	pid_t kid;

	scen_init();
	sem_id = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
	msg_id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	CHECK_SYS(sem_id);
	CHECK_SYS(msg_id);
	kid = fork();
	CHECK_SYS(kid);
	if (!kid) {
		struct sembuf b = { .sem_num = 0, .sem_op = 4 };

		_exit(semop(sem_id, &b, 1) || msgsnd(msg_id, &m, 3, IPC_NOWAIT));
	}
	CHECK_EQ(waitpid(kid, &status, 0), kid);
	CHECK_EQ(status, 0);
	CHECK_SYS(semctl(sem_id, 0, IPC_STAT, arg));
	CHECK_SYS(msgctl(msg_id, IPC_STAT, &msg_before));
	scen_ready();
	scen_wait();

	arg.buf = &sem_after;
	CHECK_SYS(semctl(sem_id, 0, IPC_STAT, arg));
	CHECK_EQ(sem_after.sem_otime, sem_before.sem_otime);
	CHECK_EQ(sem_after.sem_ctime, sem_before.sem_ctime);
	CHECK_EQ(semctl(sem_id, 0, GETVAL), 4);
	CHECK_EQ(semctl(sem_id, 0, GETPID), kid);
	CHECK_SYS(msgctl(msg_id, IPC_STAT, &msg_after));
	CHECK_EQ(msg_after.msg_stime, msg_before.msg_stime);
	CHECK_EQ(msg_after.msg_ctime, msg_before.msg_ctime);
	CHECK_EQ(msg_after.msg_qnum, 1);
	CHECK_EQ(msg_after.msg_lspid, kid);
	memset(&m, 0, sizeof(m));
	CHECK_EQ(msgrcv(msg_id, &m, sizeof(m.text), 0, IPC_NOWAIT), 3);
	CHECK_EQ(m.type, 3);
	CHECK(!memcmp(m.text, "out", 3));
	CHECK_SYS(semctl(sem_id, 0, IPC_RMID));
	CHECK_SYS(msgctl(msg_id, IPC_RMID, NULL));
	scen_pass();
}
