/*
 * test_unix_diag.c: the sock_diag reply parser on built netlink messages
 * (a pair end with a peer and a queue, a bound socket, an error reply,
 * truncated attributes), and the query itself on a socket pair of the
 * test's own.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include "lib/unit.h"
#include "proc/proc.h"

struct reply {
	struct nlmsghdr h;
	struct unix_diag_msg m;
	char attrs[256];
};

static size_t add_attr(struct reply *r, size_t at, int type, const void *data, size_t len)
{
	struct nlattr a = { .nla_len = (uint16_t)(sizeof(a) + len), .nla_type = (uint16_t)type };

	memcpy(r->attrs + at, &a, sizeof(a));
	memcpy(r->attrs + at + sizeof(a), data, len);
	return at + NLA_ALIGN(a.nla_len);
}

static size_t build(struct reply *r, bool named)
{
	struct unix_diag_rqlen rq = { .udiag_rqueue = 11, .udiag_wqueue = 3 };
	uint32_t peer = 4321;
	uint8_t shut = 2;
	size_t at = 0;

	memset(r, 0, sizeof(*r));
	r->h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	r->m.udiag_family = AF_UNIX;
	r->m.udiag_type = SOCK_SEQPACKET;
	r->m.udiag_state = 1;
	r->m.udiag_ino = 1234;
	if (named)
		at = add_attr(r, at, UNIX_DIAG_NAME, "/tmp/s", 6);
	at = add_attr(r, at, UNIX_DIAG_PEER, &peer, sizeof(peer));
	at = add_attr(r, at, UNIX_DIAG_RQLEN, &rq, sizeof(rq));
	at = add_attr(r, at, UNIX_DIAG_SHUTDOWN, &shut, 1);
	r->h.nlmsg_len = (uint32_t)(NLMSG_LENGTH(sizeof(r->m)) + at);
	return r->h.nlmsg_len;
}

TEST(pair_end)
{
	struct proc_unix_sock s;
	struct reply r;
	size_t len = build(&r, false);

	T_EQ(proc_parse_unix_diag(&r, len, &s), 0);
	T_EQ(s.ino, 1234);
	T_EQ(s.type, SOCK_SEQPACKET);
	T_EQ(s.state, 1);
	T_EQ(s.peer_ino, 4321);
	T_OK(!s.has_name);
	T_OK(s.has_rqlen);
	T_EQ(s.rqueue, 11);
	T_EQ(s.wqueue, 3);
	T_EQ(s.shutdown, 2);
	len = build(&r, true);
	T_EQ(proc_parse_unix_diag(&r, len, &s), 0);
	T_OK(s.has_name);
}

TEST(bad_replies)
{
	struct proc_unix_sock s;
	struct {
		struct nlmsghdr h;
		struct nlmsgerr e;
	} err = { .h = { .nlmsg_len = sizeof(err), .nlmsg_type = NLMSG_ERROR },
		  .e = { .error = -ENOENT } };
	struct reply r;
	size_t len = build(&r, false);

	T_EQ(proc_parse_unix_diag(&err, sizeof(err), &s), -ENOENT);
	T_EQ(proc_parse_unix_diag(&r, len - 1, &s), -EBADMSG);
	r.h.nlmsg_len -= 4; /* the last attribute runs past the message */
	T_EQ(proc_parse_unix_diag(&r, len, &s), -EBADMSG);
	build(&r, false);
	r.m.udiag_family = AF_INET;
	T_EQ(proc_parse_unix_diag(&r, len, &s), -EBADMSG);
	T_EQ(proc_parse_unix_diag(&r, 3, &s), -EBADMSG);
}

TEST(query)
{
	struct proc_unix_sock s;
	struct stat a, b;
	int sv[2];

	T_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	T_EQ(fstat(sv[0], &a), 0);
	T_EQ(fstat(sv[1], &b), 0);
	T_EQ(write(sv[1], "abc", 3), 3);
	T_EQ(proc_unix_diag(a.st_ino, &s), 0);
	T_EQ(s.type, SOCK_STREAM);
	T_EQ(s.peer_ino, b.st_ino);
	T_EQ(s.rqueue, 3);
	T_OK(!s.has_name);
	T_EQ(s.shutdown, 0);
	close(sv[1]);
	T_EQ(proc_unix_diag(a.st_ino, &s), 0);
	T_EQ(s.shutdown, 3);
	close(sv[0]);
	T_EQ(proc_unix_diag(a.st_ino, &s), -ENOENT);
}

int main(void)
{
	unit_file = "unit/unix_diag";
	RUN(pair_end);
	RUN(bad_replies);
	RUN(query);
	return unit_done();
}
