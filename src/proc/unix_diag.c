/*
 * unix_diag.c: what the kernel's sock_diag netlink interface
 * (NETLINK_SOCK_DIAG, AF_UNIX) tells of one unix socket, asked by its
 * inode: its type and state, its peer's inode, its name (bound or not),
 * the data queued for reading and its shutdown state. The reply is parsed
 * by proc_parse_unix_diag, which takes the raw netlink message (for unit
 * tests); plain structs out, nothing of ptrace or images.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include "proc/proc.h"

int proc_parse_unix_diag(const void *buf, size_t len, struct proc_unix_sock *ret)
{
	const struct nlmsghdr *h = buf;
	const struct unix_diag_msg *m;
	struct proc_unix_sock s = { 0 };
	size_t off;

	if (len < sizeof(*h) || h->nlmsg_len < sizeof(*h) || h->nlmsg_len > len)
		return -EBADMSG;
	if (h->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(h);

		if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
			return -EBADMSG;
		return e->error ? e->error : -EBADMSG;
	}
	if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY || h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return -EBADMSG;
	m = NLMSG_DATA(h);
	if (m->udiag_family != AF_UNIX)
		return -EBADMSG;
	s.type = m->udiag_type;
	s.state = m->udiag_state;
	s.ino = m->udiag_ino;
	off = NLMSG_LENGTH(sizeof(*m));
	while (off + sizeof(struct nlattr) <= h->nlmsg_len) {
		const struct nlattr *a = (const void *)((const char *)buf + off);
		const void *data = a + 1;
		size_t alen;

		if (a->nla_len < sizeof(*a) || off + a->nla_len > h->nlmsg_len)
			return -EBADMSG;
		alen = a->nla_len - sizeof(*a);
		switch (a->nla_type & NLA_TYPE_MASK) {
		case UNIX_DIAG_NAME:
			s.has_name = true;
			break;
		case UNIX_DIAG_PEER:
			if (alen < sizeof(uint32_t))
				return -EBADMSG;
			memcpy(&s.peer_ino, data, sizeof(uint32_t));
			break;
		case UNIX_DIAG_RQLEN: {
			struct unix_diag_rqlen rq;

			if (alen < sizeof(rq))
				return -EBADMSG;
			memcpy(&rq, data, sizeof(rq));
			s.rqueue = rq.udiag_rqueue;
			s.wqueue = rq.udiag_wqueue;
			s.has_rqlen = true;
			break;
		}
		case UNIX_DIAG_SHUTDOWN:
			if (alen < 1)
				return -EBADMSG;
			s.shutdown = *(const uint8_t *)data;
			break;
		}
		off += NLA_ALIGN(a->nla_len);
	}
	*ret = s;
	return 0;
}

int proc_unix_diag(uint64_t ino, struct proc_unix_sock *ret)
{
	struct {
		struct nlmsghdr h;
		struct unix_diag_req r;
	} req = {
		.h = { .nlmsg_len = sizeof(req),
		       .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		       .nlmsg_flags = NLM_F_REQUEST,
		       .nlmsg_seq = 1 },
		.r = { .sdiag_family = AF_UNIX,
		       .udiag_states = ~0U,
		       .udiag_ino = (uint32_t)ino,
		       .udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN,
		       .udiag_cookie = { ~0U, ~0U } },
	};
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	char buf[8192];
	ssize_t n;
	int fd, err;

	if (ino > UINT32_MAX)
		return -ENOENT;
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&nl, sizeof(nl)) < 0) {
		err = -errno;
		goto out;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		err = -errno;
		goto out;
	}
	err = proc_parse_unix_diag(buf, (size_t)n, ret);
	if (!err && ret->ino != ino)
		err = -EBADMSG;
out:
	close(fd);
	return err;
}
