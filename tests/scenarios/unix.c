/*
 * unix.c: unix socket pairs, one case per argument:
 *   stream     a stream pair at fds 3-4 with data queued both ways (a
 *              large block one way), fd 4 nonblocking, fd 3 with a
 *              SO_SNDBUF of its own
 *   dgram      a datagram pair with messages of different sizes queued
 *              both ways: their boundaries must come back
 *   seqpacket  a seqpacket pair with messages queued both ways
 *   shared     a stream pair whose ends a parent and its child hold, the
 *              child blocked reading: after restart they exchange more and
 *              the parent sees end of file when the child closes its end
 *   listen     (refused) a listening socket at fd 3
 *   abstract   (refused) a datagram socket at fd 3 bound to an abstract name
 *   outside    (refused) a stream pair whose fd 4 end only a process
 *              outside the tree holds
 *   held       (refused) a stream pair at fds 3-4 whose fd 3 a process
 *              outside the tree holds too
 *   rights     (refused) a datagram pair with a descriptor (SCM_RIGHTS)
 *              queued at fd 4
 *   passcred   (refused) a stream pair, SO_PASSCRED set on fd 4
 *   oob        (refused) a stream pair with an out-of-band byte queued
 *   closed     (refused) a stream socket at fd 3 whose peer was closed,
 *              with data queued
 *   dgram_closed  (refused) a datagram socket at fd 3 whose peer was closed
 *   timeo      (refused) a stream pair, a receive timeout (SO_RCVTIMEO) on fd 3
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/scen.h"

#define BIG (100 * 1000)

static char big[BIG];
static pid_t child;

static void fill_big(void)
{
	for (size_t i = 0; i < BIG; i++)
		big[i] = (char)(i * 7 + i / 251);
}

static void pair(int type)
{
	int sv[2];

	CHECK_SYS(socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv));
	CHECK_EQ(sv[0], 3);
	CHECK_EQ(sv[1], 4);
}

static void check_type(int fd, int type)
{
	int v;
	socklen_t len = sizeof(v);

	CHECK_SYS(getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len));
	CHECK_EQ(v, type);
}

/* reads exactly len bytes from a stream socket */
static void read_exact(int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		CHECK(n > 0);
		got += (size_t)n;
	}
}

static void check_empty(int fd)
{
	char c;

	CHECK_EQ(recv(fd, &c, 1, MSG_DONTWAIT), -1);
	CHECK_EQ(errno, EAGAIN);
}

/* stream */

static void stream_setup(void)
{
	int v = 65536;

	pair(SOCK_STREAM);
	fill_big();
	CHECK_SYS(setsockopt(3, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)));
	CHECK_EQ(write(3, "hello", 5), 5);
	CHECK_EQ(write(3, " there", 6), 6);
	CHECK_EQ(write(4, big, BIG), BIG);
	CHECK_SYS(fcntl(4, F_SETFL, O_NONBLOCK));
}

static void stream_check(void)
{
	static char buf[BIG];
	socklen_t len = sizeof(int);
	int v;

	check_type(3, SOCK_STREAM);
	check_type(4, SOCK_STREAM);
	CHECK_EQ(fcntl(3, F_GETFL) & O_NONBLOCK, 0);
	CHECK_EQ(fcntl(4, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	CHECK_SYS(getsockopt(3, SOL_SOCKET, SO_SNDBUF, &v, &len));
	CHECK_EQ(v, 131072);
	read_exact(4, buf, 11);
	CHECK(!memcmp(buf, "hello there", 11));
	check_empty(4);
	read_exact(3, buf, BIG);
	CHECK(!memcmp(buf, big, BIG));
	check_empty(3);
	CHECK_EQ(write(4, "more", 4), 4);
	read_exact(3, buf, 4);
	CHECK(!memcmp(buf, "more", 4));
}

/* dgram and seqpacket: messages of sizes 1, 1000, 30000 and 90000 (longer
 * than what ckpt peeks at first) one way, 7 and 2 the other */

static const size_t sizes_34[] = { 1, 1000, 30000, 90000 }, sizes_43[] = { 7, 2 };

static void send_msgs(int fd, const size_t *sizes, size_t n, int salt)
{
	for (size_t i = 0; i < n; i++)
		CHECK_EQ(send(fd, big + i * 10 + (size_t)salt, sizes[i], 0), (ssize_t)sizes[i]);
}

static void recv_msgs(int fd, const size_t *sizes, size_t n, int salt)
{
	static char buf[BIG];

	for (size_t i = 0; i < n; i++) {
		CHECK_EQ(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), (ssize_t)sizes[i]);
		CHECK(!memcmp(buf, big + i * 10 + (size_t)salt, sizes[i]));
	}
	check_empty(fd);
}

static void msgs_setup(int type)
{
	pair(type);
	fill_big();
	send_msgs(3, sizes_34, 4, 0);
	send_msgs(4, sizes_43, 2, 5);
}

static void msgs_check(int type)
{
	check_type(3, type);
	check_type(4, type);
	recv_msgs(4, sizes_34, 4, 0);
	recv_msgs(3, sizes_43, 2, 5);
	send_msgs(4, sizes_34, 4, 0);
	recv_msgs(3, sizes_34, 4, 0);
}

static void dgram_setup(void)
{
	msgs_setup(SOCK_DGRAM);
}

static void dgram_check(void)
{
	msgs_check(SOCK_DGRAM);
}

static void seqpacket_setup(void)
{
	msgs_setup(SOCK_SEQPACKET);
}

static void seqpacket_check(void)
{
	msgs_check(SOCK_SEQPACKET);
}

/* shared */

static void shared_setup(void)
{
	char c;

	pair(SOCK_STREAM);
	child = fork();
	CHECK_SYS(child);
	if (child == 0) {
		char buf[2];

		close(3);
		if (write(4, "c1", 2) != 2)
			_exit(1);
		/* blocked here at the checkpoint */
		for (size_t got = 0; got < 2;) {
			ssize_t n = read(4, buf + got, 2 - got);

			if (n <= 0)
				_exit(2);
			got += (size_t)n;
		}
		if (memcmp(buf, "p1", 2) || write(4, "c2", 2) != 2)
			_exit(3);
		close(4);
		_exit(0);
	}
	close(4);
	/* the child's message is there, not consumed */
	CHECK_EQ(recv(3, &c, 1, MSG_PEEK), 1);
}

static void shared_check(void)
{
	char buf[4];
	int status;

	read_exact(3, buf, 2);
	CHECK(!memcmp(buf, "c1", 2));
	CHECK_EQ(write(3, "p1", 2), 2);
	read_exact(3, buf, 2);
	CHECK(!memcmp(buf, "c2", 2));
	CHECK_EQ(read(3, buf, sizeof(buf)), 0);
	CHECK_EQ(waitpid(child, &status, 0), child);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
}

/* listen */

static void listen_setup(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	CHECK_EQ(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), 3);
	CHECK_SYS(bind(3, (struct sockaddr *)&a, sizeof(sa_family_t))); /* autobind */
	CHECK_SYS(listen(3, 1));
}

static void listen_check(void)
{
	int v;
	socklen_t len = sizeof(v);

	CHECK_SYS(getsockopt(3, SOL_SOCKET, SO_ACCEPTCONN, &v, &len));
	CHECK_EQ(v, 1);
}

/* abstract */

static void abstract_setup(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int n = snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "ckpt-unix-%d", getpid());

	CHECK_EQ(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), 3);
	CHECK_SYS(bind(3, (struct sockaddr *)&a, (socklen_t)(sizeof(sa_family_t) + 1 + n)));
}

static void abstract_check(void)
{
	struct sockaddr_un a;
	socklen_t len = sizeof(a);

	CHECK_SYS(getsockname(3, (struct sockaddr *)&a, &len));
	CHECK(len > sizeof(sa_family_t) + 1);
	CHECK_EQ(a.sun_path[0], 0);
}

/* outside: a process outside the tree (the runner's subreaper adopts it)
 * holds fd 4 until fd 3 closes */

static void outside_setup(void)
{
	pid_t mid;

	pair(SOCK_STREAM);
	mid = fork();
	CHECK_SYS(mid);
	if (mid == 0) {
		char c;

		if (fork() != 0)
			_exit(0);
		close(3);
		if (read(4, &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	CHECK_EQ(waitpid(mid, NULL, 0), mid);
	close(4);
}

static void outside_check(void)
{
	close(3);
}

/* held: the process outside the tree reads fd 3 until fd 4 says bye */

static void held_setup(void)
{
	pid_t mid;

	pair(SOCK_STREAM);
	mid = fork();
	CHECK_SYS(mid);
	if (mid == 0) {
		char c;

		if (fork() != 0)
			_exit(0);
		close(4);
		if (read(3, &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	CHECK_EQ(waitpid(mid, NULL, 0), mid);
}

static void held_check(void)
{
	CHECK_EQ(write(4, "b", 1), 1);
}

/* rights */

static void rights_setup(void)
{
	union {
		struct cmsghdr c;
		char b[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { .iov_base = "r", .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = ctl.b,
			     .msg_controllen = sizeof(ctl.b) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	int zero = 0;

	pair(SOCK_DGRAM);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &zero, sizeof(int));
	CHECK_EQ(sendmsg(3, &mh, 0), 1);
}

static void rights_check(void)
{
	union {
		struct cmsghdr c;
		char b[CMSG_SPACE(sizeof(int))];
	} ctl;
	char buf[4];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = ctl.b,
			     .msg_controllen = sizeof(ctl.b) };
	struct cmsghdr *c;
	int fd;

	CHECK_EQ(recvmsg(4, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC), 1);
	c = CMSG_FIRSTHDR(&mh);
	CHECK(c && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)));
	memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	CHECK_EQ(fcntl(fd, F_GETFL) & O_ACCMODE, fcntl(0, F_GETFL) & O_ACCMODE);
	close(fd);
	check_empty(4);
}

/* passcred */

static void passcred_setup(void)
{
	int one = 1;

	pair(SOCK_STREAM);
	CHECK_SYS(setsockopt(4, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)));
}

static void passcred_check(void)
{
	int v;
	socklen_t len = sizeof(v);

	CHECK_SYS(getsockopt(4, SOL_SOCKET, SO_PASSCRED, &v, &len));
	CHECK_EQ(v, 1);
}

/* oob */

static void oob_setup(void)
{
	pair(SOCK_STREAM);
	CHECK_EQ(write(3, "ab", 2), 2);
	CHECK_EQ(send(3, "!", 1, MSG_OOB), 1);
}

static void oob_check(void)
{
	char buf[4];

	CHECK_EQ(recv(4, buf, 1, MSG_OOB), 1);
	CHECK_EQ(buf[0], '!');
	CHECK_EQ(read(4, buf, sizeof(buf)), 2);
	CHECK(!memcmp(buf, "ab", 2));
}

/* closed, dgram_closed */

static void closed_setup(void)
{
	pair(SOCK_STREAM);
	CHECK_EQ(write(4, "z", 1), 1);
	close(4);
}

static void closed_check(void)
{
	char buf[2];

	CHECK_EQ(read(3, buf, sizeof(buf)), 1);
	CHECK_EQ(buf[0], 'z');
	CHECK_EQ(read(3, buf, sizeof(buf)), 0);
}

static void dgram_closed_setup(void)
{
	pair(SOCK_DGRAM);
	close(4);
}

static void dgram_closed_check(void)
{
	CHECK_EQ(send(3, "z", 1, MSG_DONTWAIT), -1);
	CHECK_EQ(errno, ECONNREFUSED);
}

/* timeo */

static void timeo_setup(void)
{
	struct timeval tv = { .tv_sec = 5 };

	pair(SOCK_STREAM);
	CHECK_SYS(setsockopt(3, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
}

static void timeo_check(void)
{
	struct timeval tv;
	socklen_t len = sizeof(tv);

	CHECK_SYS(getsockopt(3, SOL_SOCKET, SO_RCVTIMEO, &tv, &len));
	CHECK_EQ(tv.tv_sec, 5);
}

static const struct {
	const char *name;
	void (*setup)(void);
	void (*check)(void);
} cases[] = {
	{ "stream", stream_setup, stream_check },
	{ "dgram", dgram_setup, dgram_check },
	{ "seqpacket", seqpacket_setup, seqpacket_check },
	{ "shared", shared_setup, shared_check },
	{ "listen", listen_setup, listen_check },
	{ "abstract", abstract_setup, abstract_check },
	{ "outside", outside_setup, outside_check },
	{ "held", held_setup, held_check },
	{ "rights", rights_setup, rights_check },
	{ "passcred", passcred_setup, passcred_check },
	{ "oob", oob_setup, oob_check },
	{ "closed", closed_setup, closed_check },
	{ "dgram_closed", dgram_closed_setup, dgram_closed_check },
	{ "timeo", timeo_setup, timeo_check },
};

int main(int argc, char **argv)
{
	pid_t pid = getpid();

	scen_init();
	if (argc != 2)
		scen_fail("usage: unix CASE");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (strcmp(argv[1], cases[i].name))
			continue;
		cases[i].setup();
		scen_ready();
		scen_wait();
		CHECK_EQ(getpid(), pid);
		cases[i].check();
		scen_pass();
	}
	scen_fail("unknown case '%s'", argv[1]);
}
