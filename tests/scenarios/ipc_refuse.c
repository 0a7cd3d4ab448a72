/*
 * ipc_refuse.c: a process holding IPC state ckpt refuses; the argument
 * says which. The checkpoint must be refused (the runner checks exit
 * status 3 and the message) and leave the state as it was, which the
 * process checks after the runner's SIGTERM.
 *
 *   mq_thread   a POSIX message queue at fd 3 with a SIGEV_THREAD
 *               notification registration (glibc's netlink socket)
 *   mq_pending  a POSIX message queue at fd 3 with a SIGEV_SIGNAL
 *               registration for SIGUSR1, which is blocked and pending
 *   sem_undo    a System V semaphore changed with SEM_UNDO (undo state)
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/sem.h>
#include <unistd.h>
#include "lib/scen.h"

static char name[64];
static int sem_id = -1;

static void expect_status(int notify, int signo)
{
	char text[128];
	unsigned long qsize;
	int k, s, p;
	ssize_t n = pread(3, text, sizeof(text) - 1, 0);

	CHECK(n > 0);
	text[n] = '\0';
	if (sscanf(text, "QSIZE:%lu NOTIFY:%d SIGNO:%d NOTIFY_PID:%d", &qsize, &k, &s, &p) != 4)
		scen_fail("status '%s'", text);
	CHECK_EQ(p, getpid());
	CHECK_EQ(k, notify);
	CHECK_EQ(s, signo);
}

static void open_queue(void)
{
	struct mq_attr attr = { .mq_maxmsg = 2, .mq_msgsize = 8 };

	snprintf(name, sizeof(name), "/ckpt-mq-refuse-%d", getpid());
	mq_unlink(name);
	scen_move_fd(mq_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &attr), 3);
	CHECK_SYS(mq_unlink(name));
}

static void on_thread(union sigval v)
{
	(void)v;
}

static void setup_mq_thread(void)
{
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD, .sigev_notify_function = on_thread };

	open_queue();
	CHECK_SYS(mq_notify(3, &sev));
}

static void check_mq_thread(void)
{
	expect_status(SIGEV_THREAD, 0);
}

static void setup_mq_pending(void)
{
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1 };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	CHECK_SYS(sigprocmask(SIG_BLOCK, &set, NULL));
	CHECK_SYS(kill(getpid(), SIGUSR1));
	open_queue();
	CHECK_SYS(mq_notify(3, &sev));
}

static void check_mq_pending(void)
{
	sigset_t set;

	expect_status(SIGEV_SIGNAL, SIGUSR1);
	CHECK_SYS(sigpending(&set));
	CHECK(sigismember(&set, SIGUSR1));
}

static void setup_sem_undo(void)
{
	struct sembuf b = { .sem_num = 0, .sem_op = 3, .sem_flg = SEM_UNDO };

	sem_id = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
	CHECK_SYS(sem_id);
	CHECK_SYS(semop(sem_id, &b, 1));
}

static void check_sem_undo(void)
{
	CHECK_EQ(semctl(sem_id, 0, GETVAL), 3);
	CHECK_SYS(semctl(sem_id, 0, IPC_RMID));
}

static const struct {
	const char *name;
	void (*setup)(void);
	void (*check)(void);
} cases[] = {
	{ "mq_thread", setup_mq_thread, check_mq_thread },
	{ "mq_pending", setup_mq_pending, check_mq_pending },
	{ "sem_undo", setup_sem_undo, check_sem_undo },
};

int main(int argc, char **argv)
{
	scen_init();
	if (argc != 2)
		scen_fail("usage: ipc_refuse STATE");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (strcmp(argv[1], cases[i].name))
			continue;
		cases[i].setup();
		scen_ready();
		scen_wait();
		cases[i].check();
		scen_pass();
	}
	scen_fail("unknown state '%s'", argv[1]);
}
