/*
 * sysv_sem.c: System V semaphore sets used by a parent and its child
 * survive restart with their ids, keys, modes, owners, values and the pid
 * of each semaphore's last operation, and work afterwards.
 *
 *   A  key 0x5e5xxxxx (from the pid), 3 semaphores, mode 0640, owner
 *      1234:1235; values 5 (last semop by the root), 0 (last semop by the
 *      child: +1 then -1) and 32767 (SETVAL by the root)
 *   B  IPC_PRIVATE, 1 semaphore of value 2, only the child's (semop)
 *   C  IPC_PRIVATE, 600 semaphores, SETALL by the root (values i % 7):
 *      more than one semop may take, to make the root their pid again
 *
 * After restart each process checks the ids, keys, modes, owners, values
 * and pids (C's all), then operates: the child takes 1 from A[2], then the root
 * takes 1 from A[0] and gives 1 to B, and the child takes 3 from B (with
 * IPC_NOWAIT, until that works); the values end as expected. The root removes
 * both sets at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/scen.h"

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

#define C_SEMS 600

static int a_id, b_id, c_id, a_key;
static pid_t root_pid, kid_pid;

static void op(int id, unsigned short num, short delta, short flags)
{
	struct sembuf b = { .sem_num = num, .sem_op = delta, .sem_flg = flags };

	if (semop(id, &b, 1) < 0)
		scen_fail("semop(%d, %u, %d): %m", id, num, delta);
}

static void expect_sem(int id, int num, int val, pid_t pid)
{
	CHECK_EQ(semctl(id, num, GETVAL), val);
	CHECK_EQ(semctl(id, num, GETPID), pid);
}

static void check_sets(void)
{
	struct semid_ds ds;
	union semun arg = { .buf = &ds };

	CHECK_SYS(semctl(a_id, 0, IPC_STAT, arg));
	CHECK_EQ(ds.sem_perm.__key, a_key);
	CHECK_EQ(ds.sem_perm.mode & 0777, 0640);
	CHECK_EQ(ds.sem_perm.uid, 1234);
	CHECK_EQ(ds.sem_perm.gid, 1235);
	CHECK_EQ(ds.sem_nsems, 3);
	expect_sem(a_id, 0, 5, root_pid);
	expect_sem(a_id, 1, 0, kid_pid);
	expect_sem(a_id, 2, 32767, root_pid);
	CHECK_SYS(semctl(b_id, 0, IPC_STAT, arg));
	CHECK_EQ(ds.sem_perm.__key, IPC_PRIVATE);
	CHECK_EQ(ds.sem_perm.mode & 0777, 0600);
	CHECK_EQ(ds.sem_nsems, 1);
	expect_sem(b_id, 0, 2, kid_pid);
	{
		unsigned short vals[C_SEMS];

		arg.array = vals;
		CHECK_SYS(semctl(c_id, 0, GETALL, arg));
		for (int i = 0; i < C_SEMS; i++) {
			CHECK_EQ(vals[i], i % 7);
			CHECK_EQ(semctl(c_id, i, GETPID), root_pid);
		}
	}
}

static void kid(int ready)
{
	struct sembuf take3 = { .sem_num = 0, .sem_op = -3, .sem_flg = IPC_NOWAIT };

	op(a_id, 1, 1, 0);
	op(a_id, 1, -1, 0);
	op(b_id, 0, 2, 0);
	CHECK_EQ(write(ready, "x", 1), 1);
	close(ready);
	scen_wait();
	check_sets();
	op(a_id, 2, -1, 0);
	expect_sem(a_id, 2, 32766, getpid());
	/* the root gives B 1 once it is told: wait for it */
	while (semop(b_id, &take3, 1) < 0) {
		if (errno != EAGAIN)
			scen_fail("semop on B: %m");
		usleep(1000);
	}
	expect_sem(b_id, 0, 0, getpid());
	scen_pass();
}

int main(void)
{
	union semun arg;
	int pipefd[2], status;
	char c;

	scen_init();
	root_pid = getpid();
	a_key = (int)(0x5e500000 | (getpid() & 0xfffff));
	a_id = semget(a_key, 3, IPC_CREAT | IPC_EXCL | 0640);
	if (a_id < 0 && errno == EEXIST) { /* left by an earlier run */
		semctl(semget(a_key, 0, 0), 0, IPC_RMID);
		a_id = semget(a_key, 3, IPC_CREAT | IPC_EXCL | 0640);
	}
	CHECK_SYS(a_id);
	{
		struct semid_ds ds;

		arg.buf = &ds;
		CHECK_SYS(semctl(a_id, 0, IPC_STAT, arg));
		ds.sem_perm.uid = 1234;
		ds.sem_perm.gid = 1235;
		CHECK_SYS(semctl(a_id, 0, IPC_SET, arg));
	}
	op(a_id, 0, 5, 0);
	arg.val = 32767;
	CHECK_SYS(semctl(a_id, 2, SETVAL, arg));
	b_id = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
	CHECK_SYS(b_id);
	c_id = semget(IPC_PRIVATE, C_SEMS, IPC_CREAT | 0600);
	CHECK_SYS(c_id);
	{
		unsigned short vals[C_SEMS];

		for (int i = 0; i < C_SEMS; i++)
			vals[i] = (unsigned short)(i % 7);
		arg.array = vals;
		CHECK_SYS(semctl(c_id, 0, SETALL, arg));
	}

	CHECK_SYS(pipe2(pipefd, O_CLOEXEC));
	kid_pid = fork();
	CHECK_SYS(kid_pid);
	if (!kid_pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(pipefd[0]);
		kid_pid = getpid();
		kid(pipefd[1]);
	}
	close(pipefd[1]);
	CHECK_EQ(read(pipefd[0], &c, 1), 1);
	close(pipefd[0]);
	check_sets();
	scen_ready();
	scen_wait();

	check_sets();
	CHECK_SYS(kill(kid_pid, SIGTERM));
	/* the child has checked once it took 1 from A[2] */
	while (semctl(a_id, 2, GETVAL) != 32766)
		usleep(1000);
	op(a_id, 0, -1, 0);
	expect_sem(a_id, 0, 4, root_pid);
	op(b_id, 0, 1, 0);
	CHECK_EQ(waitpid(kid_pid, &status, 0), kid_pid);
	if (status)
		scen_fail("child ended with status 0x%x", status);
	expect_sem(a_id, 2, 32766, kid_pid);
	CHECK_SYS(semctl(a_id, 0, IPC_RMID));
	CHECK_SYS(semctl(b_id, 0, IPC_RMID));
	CHECK_SYS(semctl(c_id, 0, IPC_RMID));
	scen_pass();
}
