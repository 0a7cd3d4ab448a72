/*
 * mq_posix.c: POSIX message queues survive restart with their names,
 * attributes, modes, owners and messages (in priority order, oldest first
 * within one), and their descriptions with access modes and O_NONBLOCK.
 *
 *   A  "/ckpt-mq-A-PID", 8 messages of 32 bytes at most, mode 0640, owner
 *      1234:1235, holding (1 "low-1") (5 "high-1") (1 "low-2")
 *      (5 "high-2") (0 "zero") (9 ""); the root has it on fd 3 (read-write)
 *      and, a second description, on fd 4 (read-only, O_NONBLOCK); the
 *      child inherits both and opens a third, write-only and O_NONBLOCK
 *   B  "/ckpt-mq-B-PID", unlinked, holding (2 "gone"), on the root's fd 5
 *
 * After restart each descriptor's link, flags and attributes are checked;
 * the child sends (3 "from-kid") on its own description and ends; the
 * root then receives every message of A in order, finds A empty through
 * its non-blocking description, receives B's message, and unlinks A.
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/scen.h"

static char a_name[64], b_name[64];
static pid_t kid_pid;

static void send_msg(mqd_t q, unsigned int prio, const char *text)
{
	CHECK_SYS(mq_send(q, text, strlen(text), prio));
}

static void expect_msg(mqd_t q, unsigned int prio, const char *want)
{
	char buf[64];
	unsigned int got;
	ssize_t n = mq_receive(q, buf, sizeof(buf), &got);

	if (n < 0)
		scen_fail("mq_receive(%d): %m", q);
	CHECK_EQ(got, prio);
	if (n != (ssize_t)strlen(want) || memcmp(buf, want, (size_t)n))
		scen_fail("message of priority %u reads '%.*s', expected '%s'", got, (int)n, buf,
			  want);
}

static void expect_fd(int fd, const char *name, bool deleted, int flags, long curmsgs)
{
	char path[64], link[128], want[128];
	struct mq_attr attr;
	struct stat st;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	CHECK(n > 0);
	link[n] = '\0';
	snprintf(want, sizeof(want), "%s%s", name, deleted ? " (deleted)" : "");
	if (strcmp(link, want))
		scen_fail("fd %d links to '%s', expected '%s'", fd, link, want);
	/* glibc's mq_open adds O_CLOEXEC, which the description keeps */
	CHECK_EQ(fcntl(fd, F_GETFL), flags | O_CLOEXEC);
	CHECK_SYS(mq_getattr(fd, &attr));
	CHECK_EQ(attr.mq_flags, flags & O_NONBLOCK);
	CHECK_SYS(fstat(fd, &st));
	if (!deleted) {
		CHECK_EQ(attr.mq_maxmsg, 8);
		CHECK_EQ(attr.mq_msgsize, 32);
		CHECK_EQ(st.st_mode & 0777, 0640);
		CHECK_EQ(st.st_uid, 1234);
		CHECK_EQ(st.st_gid, 1235);
	} else {
		CHECK_EQ(attr.mq_maxmsg, 2);
		CHECK_EQ(attr.mq_msgsize, 16);
		CHECK_EQ(st.st_mode & 0777, 0600);
	}
	CHECK_EQ(attr.mq_curmsgs, curmsgs);
}

static void check_root(void)
{
	expect_fd(3, a_name, false, O_RDWR, 6);
	expect_fd(4, a_name, false, O_RDONLY | O_NONBLOCK, 6);
	expect_fd(5, b_name, true, O_RDWR, 1);
}

static void kid(int ready)
{
	mqd_t own = mq_open(a_name, O_WRONLY | O_NONBLOCK | O_CLOEXEC);

	CHECK_SYS(own);
	scen_move_fd(own, 6);
	CHECK_EQ(write(ready, "x", 1), 1);
	close(ready);
	scen_wait();
	check_root();
	expect_fd(6, a_name, false, O_WRONLY | O_NONBLOCK, 6);
	send_msg(6, 3, "from-kid");
	scen_pass();
}

int main(void)
{
	struct mq_attr a_attr = { .mq_maxmsg = 8, .mq_msgsize = 32 };
	struct mq_attr b_attr = { .mq_maxmsg = 2, .mq_msgsize = 16 };
	int pipefd[2], status;
	mqd_t a, b;
	char c;

	scen_init();
	snprintf(a_name, sizeof(a_name), "/ckpt-mq-A-%d", getpid());
	snprintf(b_name, sizeof(b_name), "/ckpt-mq-B-%d", getpid());
	mq_unlink(a_name); /* left by an earlier run */
	mq_unlink(b_name);
	a = mq_open(a_name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640, &a_attr);
	CHECK_SYS(a);
	CHECK_SYS(fchown(a, 1234, 1235));
	scen_move_fd(a, 3);
	send_msg(3, 1, "low-1");
	send_msg(3, 5, "high-1");
	send_msg(3, 1, "low-2");
	send_msg(3, 5, "high-2");
	send_msg(3, 0, "zero");
	send_msg(3, 9, "");
	a = mq_open(a_name, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	CHECK_SYS(a);
	scen_move_fd(a, 4);
	b = mq_open(b_name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &b_attr);
	CHECK_SYS(b);
	scen_move_fd(b, 5);
	send_msg(5, 2, "gone");
	CHECK_SYS(mq_unlink(b_name));

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
	check_root();
	scen_ready();
	scen_wait();

	check_root();
	CHECK_SYS(kill(kid_pid, SIGTERM));
	CHECK_EQ(waitpid(kid_pid, &status, 0), kid_pid);
	if (status)
		scen_fail("child ended with status 0x%x", status);
	expect_msg(3, 9, "");
	expect_msg(3, 5, "high-1");
	expect_msg(4, 5, "high-2");
	expect_msg(3, 3, "from-kid");
	expect_msg(3, 1, "low-1");
	expect_msg(4, 1, "low-2");
	expect_msg(3, 0, "zero");
	{
		char buf[64];

		CHECK_EQ(mq_receive(4, buf, sizeof(buf), NULL), -1);
		CHECK_EQ(errno, EAGAIN);
	}
	expect_msg(5, 2, "gone");
	CHECK_SYS(mq_unlink(a_name));
	scen_pass();
}
