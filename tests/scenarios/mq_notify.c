/*
 * mq_notify.c: notification registrations (mq_notify) of POSIX message
 * queues survive checkpoint (a tree left running keeps them, and sees no
 * signal) and restart, with their signal and value.
 *
 *   N  "/ckpt-mq-N-PID", empty; the root registered SIGEV_SIGNAL with
 *      SIGRTMIN+1 and the value 0x1234abcd
 *   M  "/ckpt-mq-M-PID", holding 2 messages; the child registered
 *      SIGEV_SIGNAL with SIGUSR2 and the value 77 (it fires only once M
 *      is empty and a message comes)
 *   E  "/ckpt-mq-E-PID", empty; the root registered SIGEV_NONE
 *
 * After the checkpoint (and the restart) each process finds its
 * registrations in the queues' status lines and no signal received; then
 * a message sent to N raises the root's signal with SI_MESGQ and the
 * value; the child takes M's two messages (no signal), sends one, and
 * gets its signal with its value. E's registration goes with a message
 * and raises nothing. The root unlinks the queues.
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/scen.h"

static char n_name[64], m_name[64], e_name[64];
static volatile sig_atomic_t got_count, got_code, got_signo;
static volatile long got_value;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got_count++;
	got_signo = sig;
	got_code = si->si_code;
	got_value = (long)si->si_value.sival_ptr;
}

static void catch_signal(int sig)
{
	struct sigaction sa = { .sa_sigaction = on_signal, .sa_flags = SA_SIGINFO | SA_RESTART };

	CHECK_SYS(sigaction(sig, &sa, NULL));
}

/* The queue's status line: "QSIZE:n NOTIFY:k SIGNO:s NOTIFY_PID:p" */
static void expect_status(int fd, int notify, int signo, pid_t pid)
{
	char text[128];
	unsigned long qsize;
	int k, s, p;
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);

	CHECK(n > 0);
	text[n] = '\0';
	if (sscanf(text, "QSIZE:%lu NOTIFY:%d SIGNO:%d NOTIFY_PID:%d", &qsize, &k, &s, &p) != 4)
		scen_fail("fd %d: status '%s'", fd, text);
	CHECK_EQ(p, pid);
	CHECK_EQ(k, notify);
	CHECK_EQ(s, signo);
}

static void wait_signal(int sig, long value)
{
	for (int i = 0; i < 5000 && !got_count; i++)
		usleep(1000);
	CHECK_EQ(got_count, 1);
	CHECK_EQ(got_signo, sig);
	CHECK_EQ(got_code, SI_MESGQ);
	CHECK_EQ(got_value, value);
}

static void receive(int fd)
{
	char buf[64];

	CHECK_SYS(mq_receive(fd, buf, sizeof(buf), NULL));
}

static void kid(int ready)
{
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR2 };

	catch_signal(SIGUSR2);
	sev.sigev_value.sival_ptr = (void *)77L;
	CHECK_SYS(mq_notify(4, &sev));
	CHECK_EQ(write(ready, "x", 1), 1);
	close(ready);
	scen_wait();
	expect_status(4, SIGEV_SIGNAL, SIGUSR2, getpid());
	CHECK_EQ(got_count, 0);
	receive(4);
	receive(4);
	CHECK_EQ(got_count, 0);
	CHECK_SYS(mq_send(4, "ping", 4, 1));
	wait_signal(SIGUSR2, 77);
	expect_status(4, 0, 0, 0);
	scen_pass();
}

int main(void)
{
	struct mq_attr attr = { .mq_maxmsg = 4, .mq_msgsize = 16 };
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL };
	int pipefd[2], status;
	pid_t kid_pid;
	char c;

	scen_init();
	snprintf(n_name, sizeof(n_name), "/ckpt-mq-N-%d", getpid());
	snprintf(m_name, sizeof(m_name), "/ckpt-mq-M-%d", getpid());
	snprintf(e_name, sizeof(e_name), "/ckpt-mq-E-%d", getpid());
	mq_unlink(n_name); /* left by an earlier run */
	mq_unlink(m_name);
	mq_unlink(e_name);
	scen_move_fd(mq_open(n_name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &attr), 3);
	scen_move_fd(mq_open(m_name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &attr), 4);
	scen_move_fd(mq_open(e_name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &attr), 5);
	CHECK_SYS(mq_send(4, "one", 3, 2));
	CHECK_SYS(mq_send(4, "two", 3, 1));
	catch_signal(SIGRTMIN + 1);
	sev.sigev_signo = SIGRTMIN + 1;
	sev.sigev_value.sival_ptr = (void *)0x1234abcdL;
	CHECK_SYS(mq_notify(3, &sev));
	sev.sigev_notify = SIGEV_NONE;
	CHECK_SYS(mq_notify(5, &sev));

	CHECK_SYS(pipe2(pipefd, O_CLOEXEC));
	kid_pid = fork();
	CHECK_SYS(kid_pid);
	if (!kid_pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(pipefd[0]);
		kid(pipefd[1]);
	}
	close(pipefd[1]);
	CHECK_EQ(read(pipefd[0], &c, 1), 1);
	close(pipefd[0]);
	expect_status(3, SIGEV_SIGNAL, SIGRTMIN + 1, getpid());
	expect_status(4, SIGEV_SIGNAL, SIGUSR2, kid_pid);
	expect_status(5, SIGEV_NONE, 0, getpid());
	scen_ready();
	scen_wait();

	expect_status(3, SIGEV_SIGNAL, SIGRTMIN + 1, getpid());
	expect_status(5, SIGEV_NONE, 0, getpid());
	CHECK_EQ(got_count, 0);
	CHECK_SYS(mq_send(5, "e", 1, 0));
	expect_status(5, 0, 0, 0);
	CHECK_EQ(got_count, 0);
	CHECK_SYS(mq_send(3, "n", 1, 0));
	wait_signal(SIGRTMIN + 1, 0x1234abcdL);
	CHECK_SYS(kill(kid_pid, SIGTERM));
	CHECK_EQ(waitpid(kid_pid, &status, 0), kid_pid);
	if (status)
		scen_fail("child ended with status 0x%x", status);
	CHECK_SYS(mq_unlink(n_name));
	CHECK_SYS(mq_unlink(m_name));
	CHECK_SYS(mq_unlink(e_name));
	scen_pass();
}
