/*
 * fd_unix.c: unix socket pairs whose both ends are in the tree. Each
 * socket has one description (a socket inode cannot be opened again), so
 * each is one CKPT_FILE_UNIX file, the socket object of its inode; the
 * pair is the two files naming each other (peer_id). Kept: the type
 * (stream, datagram, seqpacket), the description's O_NONBLOCK, SO_SNDBUF
 * and SO_RCVBUF, and the data queued for each end to read, message by
 * message for datagram and seqpacket sockets.
 *
 * Checkpoint asks sock_diag (proc_unix_diag) for the type, state, name,
 * peer and queue length of the socket, and takes a copy of it
 * (pidfd_getfd) to read its options and its queue: with SO_PEEK_OFF at 0,
 * each MSG_PEEK returns the next bytes (stream) or the next message, and
 * consumes nothing; SO_PEEK_OFF is put back to -1 after. The queue length
 * sock_diag gave tells that every byte was read (for a datagram socket,
 * the length of the first message). Once the whole tree is collected, each
 * socket is settled: its peer must be a socket of the tree whose peer it
 * is, and no process outside the tree may hold either end (every
 * descriptor of every other process is looked at, once per pair). A unix
 * socket on descriptor 0-2 whose peer is not in the tree is external, as
 * any socket there was before this kind. Refused, with the
 * reason: a bound or listening socket, one not connected or shut down (a
 * peer that closed shuts it down), one whose peer is outside the tree,
 * SO_PASSCRED, SO_PASSPIDFD or SO_PASSSEC set, a socket filter attached,
 * out-of-band data queued or SO_OOBINLINE set, SO_PEEK_OFF in use, any
 * other socket option a new socket does not have (timeouts, SO_LINGER,
 * SO_RCVLOWAT, ...), a queued message carrying descriptors or
 * credentials (a peek with a control buffer shows them), an empty
 * datagram queued, buffer sizes this restart could not give back.
 *
 * Restart creates each pair in ckpt before any process exists
 * (socketpair), sets both ends' buffer sizes (SO_SNDBUFFORCE and
 * SO_RCVBUFFORCE, which root may use, read back to be sure), writes each
 * end's queue into it from the other end, message by message, then sets
 * each description's O_NONBLOCK. The processes inherit the ends.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "res/files.h"
#include "util/io.h"
#include "util/log.h"

#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76
#endif
#define STATE_ESTABLISHED 1
#define STATE_LISTEN 10
#define UNIX_FLAGS_KEPT (O_ACCMODE | O_NONBLOCK)
#define STREAM_CHUNK (64 * 1024)

extern const struct fd_ops fd_unix_ops;

struct ck_unix {
	struct ckpt_rec_unix rec; /* rec.file is unused: the file's own rec */
	uint32_t *lens;
	char *data;
	uint32_t peer_ino; /* checkpoint */
	char why[160]; /* checkpoint: why it is refused, said when settled */
	struct ck_file *peer; /* the other end: settled (checkpoint), read (restart) */
};

static bool is_unix(const struct fd_probe *pr)
{
	struct proc_unix_sock s;

	return S_ISSOCK(pr->st.st_mode) && !proc_unix_diag(pr->st.st_ino, &s);
}

static bool type_ok(uint32_t type)
{
	return type == SOCK_STREAM || type == SOCK_DGRAM || type == SOCK_SEQPACKET;
}

static int get_int(int fd, int opt, int *ret)
{
	socklen_t len = sizeof(*ret);

	return getsockopt(fd, SOL_SOCKET, opt, ret, &len) ? -errno : 0;
}

/* Gives fd's buffer (SO_SNDBUF or SO_RCVBUF) the size getsockopt read at
 * checkpoint; the kernel doubles what it is given. -ERANGE: it cannot. */
static int set_buf(int fd, int opt, int force, uint32_t want)
{
	int cur, val = (int)(want / 2), err;

	err = get_int(fd, opt, &cur);
	if (err || (uint32_t)cur == want)
		return err;
	if (setsockopt(fd, SOL_SOCKET, force, &val, sizeof(val)))
		return -errno;
	err = get_int(fd, opt, &cur);
	return err ? err : (uint32_t)cur == want ? 0 : -ERANGE;
}

static int set_bufs(int fd, const struct ck_unix *u)
{
	int err = set_buf(fd, SO_SNDBUF, SO_SNDBUFFORCE, u->rec.sndbuf);

	return err ? err : set_buf(fd, SO_RCVBUF, SO_RCVBUFFORCE, u->rec.rcvbuf);
}

/* Whether restart can give a socket of this type these buffer sizes:
 * tried on a pair of ckpt's own. */
static int check_bufs(const struct ck_unix *u)
{
	int sv[2], err;

	if (socketpair(AF_UNIX, (int)u->rec.type | SOCK_CLOEXEC, 0, sv))
		return -errno;
	err = set_bufs(sv[0], u);
	close(sv[0]);
	close(sv[1]);
	return err;
}

static int add_msg(struct ck_unix *u, const char *buf, uint32_t n)
{
	uint32_t *lens = realloc(u->lens, (u->rec.nmsgs + 1) * sizeof(*lens));
	char *data;

	if (!lens)
		return -ENOMEM;
	u->lens = lens;
	if (u->rec.type == SOCK_STREAM && u->rec.nmsgs)
		u->lens[0] += n;
	else
		u->lens[u->rec.nmsgs++] = n;
	data = realloc(u->data, (size_t)u->rec.data_len + n);
	if (!data)
		return -ENOMEM;
	memcpy(data + u->rec.data_len, buf, n);
	u->data = data;
	u->rec.data_len += n;
	return 0;
}

/* Closes the descriptors a peek with a control buffer brought into ckpt;
 * whether it brought anything. */
static bool drop_control(struct msghdr *mh)
{
	bool any = false;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		any = true;
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++)
				close(((int *)CMSG_DATA(c))[i]);
	}
	return any || mh->msg_flags & MSG_CTRUNC;
}

/* The queue of sfd (ckpt's copy of the socket), peeked at from SO_PEEK_OFF
 * 0 on; u->why says why it cannot be kept, if so. */
static int peek_queue(struct ck_unix *u, int sfd)
{
	size_t cap = STREAM_CHUNK;
	char *buf = malloc(cap);
	union {
		struct cmsghdr c;
		char b[CMSG_SPACE(253 * sizeof(int)) + CMSG_SPACE(64)];
	} ctl;
	int off = 0, err = 0, flags = MSG_PEEK | MSG_DONTWAIT | MSG_CMSG_CLOEXEC;

	if (u->rec.type != SOCK_STREAM)
		flags |= MSG_TRUNC; /* a message too long for buf says its length */
	if (!buf)
		return -ENOMEM;
	if (setsockopt(sfd, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off))) {
		free(buf);
		return -errno;
	}
	for (;;) {
		struct iovec iov = { .iov_base = buf, .iov_len = cap };
		struct msghdr mh = { .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = ctl.b,
				     .msg_controllen = sizeof(ctl.b) };
		ssize_t n = recvmsg(sfd, &mh, flags);

		if (n < 0) {
			err = errno == EAGAIN ? 0 : -errno;
			break;
		}
		if (drop_control(&mh)) {
			snprintf(u->why, sizeof(u->why),
				 "a queued message carries descriptors or credentials "
				 "(SCM_RIGHTS, SCM_CREDENTIALS): not supported");
			break;
		}
		if (n == 0) {
			if (u->rec.type != SOCK_STREAM)
				snprintf(u->why, sizeof(u->why),
					 "an empty message is queued: not supported");
			break;
		}
		if (mh.msg_flags & MSG_TRUNC) {
			char *bigger = realloc(buf, (size_t)n);

			/* peek the whole message again from where it begins */
			off = (int)u->rec.data_len;
			if (!bigger ||
			    setsockopt(sfd, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off))) {
				err = bigger ? -errno : -ENOMEM;
				if (bigger)
					buf = bigger;
				break;
			}
			buf = bigger;
			cap = (size_t)n;
			continue;
		}
		if (u->rec.data_len + (uint64_t)n > CKPT_REC_MAX_META) {
			snprintf(u->why, sizeof(u->why), "more data is queued than ckpt keeps");
			break;
		}
		err = add_msg(u, buf, (uint32_t)n);
		if (err)
			break;
	}
	off = -1;
	if (setsockopt(sfd, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off)) && !err)
		err = -errno;
	free(buf);
	return err;
}

/* Socket options this kind does not keep: one whose value differs from a
 * new socket's of the same type is refused (those that fail on both are
 * not of this kernel). */
static const struct {
	int opt;
	const char *name;
} other_opts[] = {
	{ SO_DEBUG, "SO_DEBUG" },
	{ SO_DONTROUTE, "SO_DONTROUTE" },
	{ SO_KEEPALIVE, "SO_KEEPALIVE" },
	{ SO_LINGER, "SO_LINGER" },
	{ SO_PRIORITY, "SO_PRIORITY" },
	{ SO_RCVLOWAT, "SO_RCVLOWAT" },
	{ SO_RCVTIMEO, "SO_RCVTIMEO" },
	{ SO_SNDTIMEO, "SO_SNDTIMEO" },
	{ SO_TIMESTAMP, "SO_TIMESTAMP" },
	{ SO_TIMESTAMPNS, "SO_TIMESTAMPNS" },
	{ SO_TIMESTAMPING, "SO_TIMESTAMPING" },
	{ SO_MARK, "SO_MARK" },
	{ SO_RXQ_OVFL, "SO_RXQ_OVFL" },
	{ SO_WIFI_STATUS, "SO_WIFI_STATUS" },
	{ SO_NOFCS, "SO_NOFCS" },
	{ SO_SELECT_ERR_QUEUE, "SO_SELECT_ERR_QUEUE" },
	{ SO_BUSY_POLL, "SO_BUSY_POLL" },
	{ SO_MAX_PACING_RATE, "SO_MAX_PACING_RATE" },
	{ SO_ZEROCOPY, "SO_ZEROCOPY" },
	{ SO_BINDTOIFINDEX, "SO_BINDTOIFINDEX" },
};

/* *ret_name: the first option of other_opts whose value on sfd is not a
 * new socket's, NULL if none. */
static int changed_option(int sfd, uint32_t type, const char **ret_name)
{
	int sv[2];

	*ret_name = NULL;
	if (socketpair(AF_UNIX, (int)type | SOCK_CLOEXEC, 0, sv))
		return -errno;
	for (size_t i = 0; i < sizeof(other_opts) / sizeof(other_opts[0]) && !*ret_name; i++) {
		char a[64] = { 0 }, b[64] = { 0 };
		socklen_t alen = sizeof(a), blen = sizeof(b);
		int ra = getsockopt(sfd, SOL_SOCKET, other_opts[i].opt, a, &alen);
		int rb = getsockopt(sv[0], SOL_SOCKET, other_opts[i].opt, b, &blen);

		if (ra != rb || (!ra && (alen != blen || memcmp(a, b, alen))))
			*ret_name = other_opts[i].name;
	}
	close(sv[0]);
	close(sv[1]);
	return 0;
}

/* Whether a byte sent with MSG_OOB waits to be read (a peek at it keeps
 * it; without one, or on other types, the kernel says EINVAL) */
static bool has_oob(int sfd)
{
	char c;

	return recv(sfd, &c, 1, MSG_OOB | MSG_PEEK | MSG_DONTWAIT) >= 0;
}

/* What a copy of the socket (pidfd_getfd) tells: options, buffers, queue. */
static int inspect_copy(const struct fd_probe *pr, struct ck_unix *u, uint32_t rqueue)
{
	int pidfd, sfd, v[7] = { 0 }, err = 0;
	socklen_t flen = 0;
	const char *opt = NULL;
	char fbuf[8];

	pidfd = (int)syscall(SYS_pidfd_open, pr->p->rec.pid, 0);
	sfd = pidfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, pidfd, pr->fd, 0);
	if (sfd < 0) {
		err = -errno;
		goto out;
	}
	err = get_int(sfd, SO_PASSCRED, &v[0]);
	if (!err && get_int(sfd, SO_PASSPIDFD, &v[1]) && errno != ENOPROTOOPT)
		err = -errno;
	if (!err)
		err = get_int(sfd, SO_PASSSEC, &v[2]);
	if (!err)
		err = get_int(sfd, SO_PEEK_OFF, &v[3]);
	if (!err)
		err = get_int(sfd, SO_SNDBUF, &v[4]);
	if (!err)
		err = get_int(sfd, SO_RCVBUF, &v[5]);
	if (!err)
		err = get_int(sfd, SO_OOBINLINE, &v[6]);
	/* with no room given, SO_GET_FILTER says how long the filter is */
	if (!err && getsockopt(sfd, SOL_SOCKET, SO_GET_FILTER, fbuf, &flen))
		err = -errno;
	if (!err)
		err = changed_option(sfd, u->rec.type, &opt);
	if (err)
		goto out;
	u->rec.sndbuf = (uint32_t)v[4];
	u->rec.rcvbuf = (uint32_t)v[5];
	if (v[0] || v[1] || v[2])
		snprintf(u->why, sizeof(u->why), "%s is set: not supported",
			 v[0]	? "SO_PASSCRED"
			 : v[1] ? "SO_PASSPIDFD"
				: "SO_PASSSEC");
	else if (opt)
		snprintf(u->why, sizeof(u->why), "%s is set: not supported", opt);
	else if (flen)
		snprintf(u->why, sizeof(u->why), "a socket filter is attached: not supported");
	else if (v[6])
		snprintf(u->why, sizeof(u->why), "SO_OOBINLINE is set: not supported");
	else if (has_oob(sfd))
		snprintf(u->why, sizeof(u->why),
			 "out-of-band data (MSG_OOB) is queued: not supported");
	else if (v[3] != -1)
		snprintf(u->why, sizeof(u->why), "SO_PEEK_OFF is in use: not supported");
	else if (check_bufs(u))
		snprintf(u->why, sizeof(u->why),
			 "its buffer sizes (SO_SNDBUF %u, SO_RCVBUF %u) cannot be given back",
			 u->rec.sndbuf, u->rec.rcvbuf);
	else
		err = peek_queue(u, sfd);
	if (!err && !u->why[0] &&
	    (u->rec.type == SOCK_DGRAM ? (u->rec.nmsgs ? u->lens[0] : 0) : u->rec.data_len) !=
		    rqueue)
		snprintf(u->why, sizeof(u->why),
			 "its queue (%u bytes) could not be read whole (%u bytes read)", rqueue,
			 u->rec.data_len);
out:
	if (err)
		log_err("pid %d fd %d: unix socket: cannot inspect it: %s", pr->p->rec.pid, pr->fd,
			strerror(-err));
	if (sfd >= 0)
		close(sfd);
	if (pidfd >= 0)
		close(pidfd);
	return err;
}

static void release(struct ck_file *f)
{
	struct ck_unix *u = f->priv;

	if (u) {
		if (u->peer && u->peer->priv)
			((struct ck_unix *)u->peer->priv)->peer = NULL;
		free(u->lens);
		free(u->data);
		free(u);
	}
	f->priv = NULL;
}

static int collect(struct dump_ctx *ctx, const struct fd_probe *pr, struct ck_file *f)
{
	struct proc_unix_sock s;
	struct ck_unix *u;
	int err;

	(void)ctx;
	err = proc_unix_diag(pr->st.st_ino, &s);
	if (err) {
		log_err("pid %d fd %d: unix socket: cannot ask sock_diag of it: %s", pr->p->rec.pid,
			pr->fd, strerror(-err));
		return err;
	}
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	f->priv = u;
	f->rec.kind = CKPT_FILE_UNIX;
	f->rec.pos = 0;
	u->rec.type = s.type;
	u->peer_ino = s.peer_ino;
	if (!type_ok(s.type))
		snprintf(u->why, sizeof(u->why), "its type (%u) is not supported", s.type);
	else if (s.state == STATE_LISTEN)
		snprintf(u->why, sizeof(u->why), "listening: not supported");
	else if (s.has_name)
		snprintf(u->why, sizeof(u->why), "bound to a name: not supported");
	else if (s.state != STATE_ESTABLISHED || !s.peer_ino)
		snprintf(u->why, sizeof(u->why),
			 "not connected, or its peer closed: not supported");
	else if (s.shutdown)
		snprintf(u->why, sizeof(u->why),
			 "shut down (by shutdown, or its peer closed): not supported");
	else if ((f->rec.flags & ~UNIX_FLAGS_KEPT) || (f->rec.flags & O_ACCMODE) != O_RDWR)
		snprintf(u->why, sizeof(u->why), "its status flags are not supported");
	else if (!s.has_rqlen)
		snprintf(u->why, sizeof(u->why), "sock_diag does not give its queue length");
	else
		return inspect_copy(pr, u, s.rqueue);
	return 0;
}

/* A process outside the tree holding a descriptor of either end of a pair,
 * with every descriptor of every other process looked at (one in flight in
 * another unix socket is not seen): its pid, 0 if none. */
static pid_t held_outside(struct dump_ctx *ctx, uint64_t ino_a, uint64_t ino_b)
{
	DIR *procs = opendir("/proc");
	struct dirent *e;
	char a[64], b[64];
	pid_t found = 0;

	if (!procs)
		return -errno;
	snprintf(a, sizeof(a), "socket:[%llu]", (unsigned long long)ino_a);
	snprintf(b, sizeof(b), "socket:[%llu]", (unsigned long long)ino_b);
	while (!found && (e = readdir(procs))) {
		pid_t pid = (pid_t)atoi(e->d_name);
		int *fds;
		size_t n;

		if (pid <= 0 || pid == getpid() || model_find_proc(ctx->img, pid) ||
		    proc_list_fds(pid, &fds, &n))
			continue;
		for (size_t i = 0; i < n && !found; i++) {
			char link[64], target[64];

			snprintf(link, sizeof(link), "/proc/%d/fd/%d", pid, fds[i]);
			if (!io_readlink(link, target, sizeof(target)) &&
			    (!strcmp(target, a) || !strcmp(target, b)))
				found = pid;
		}
		free(fds);
	}
	closedir(procs);
	return found;
}

static int settle(struct dump_ctx *ctx, struct ck_proc *p, struct ck_fd *d)
{
	struct ck_file *f = d->file, *pf = NULL;
	struct ck_unix *u = f->priv, *pu = NULL;

	if (u->peer)
		return 0;
	if (u->peer_ino)
		pf = (struct ck_file *)objhash_find(&ctx->img->objs, OBJ_FILE, f->obj.key[0],
						    u->peer_ino, NULL, NULL);
	if (pf && pf->ops == &fd_unix_ops)
		pu = pf->priv;
	if (pu && (pu->peer_ino != f->obj.key[1] || pu->rec.type != u->rec.type))
		pu = NULL;
	if (!pu && d->rec.fd <= 2)
		return FD_EXTERNAL;
	if (!u->why[0] && !pu)
		snprintf(u->why, sizeof(u->why),
			 "its peer is outside the tree or closed: "
			 "not supported");
	if (!u->why[0] && pu->why[0])
		return 0; /* the peer's own settle refuses it, and the checkpoint */
	if (!u->why[0]) {
		pid_t other = held_outside(ctx, f->obj.key[1], u->peer_ino);

		if (other < 0) {
			log_err("pid %d fd %d: unix socket: cannot look for holders outside the "
				"tree: %s",
				p->rec.pid, d->rec.fd, strerror(-other));
			return other;
		}
		if (other)
			snprintf(u->why, sizeof(u->why),
				 "pid %d, outside the tree, holds it or its peer: not supported",
				 other);
	}
	if (u->why[0]) {
		log_err("pid %d fd %d: unix socket: %s", p->rec.pid, d->rec.fd, u->why);
		return -EOPNOTSUPP;
	}
	u->peer = pf;
	pu->peer = f;
	return 0;
}

static int write_rec(struct img_writer *w, struct ck_file *f)
{
	struct ck_unix *u = f->priv;
	struct iovec iov[3] = {
		{ .iov_base = &u->rec.peer_id, .iov_len = sizeof(u->rec) - sizeof(u->rec.file) },
		{ .iov_base = u->lens, .iov_len = u->rec.nmsgs * sizeof(*u->lens) },
		{ .iov_base = u->data, .iov_len = u->rec.data_len },
	};

	u->rec.peer_id = u->peer->obj.id;
	return fd_write_rec(w, CKPT_REC_UNIX, f, iov, 3);
}

/* ---- image to model ---- */

static int read_lens(struct ck_unix *u, const char *tail)
{
	uint64_t sum = 0;

	u->lens = u->rec.nmsgs ? malloc(u->rec.nmsgs * sizeof(*u->lens)) : NULL;
	u->data = u->rec.data_len ? malloc(u->rec.data_len) : NULL;
	if ((u->rec.nmsgs && !u->lens) || (u->rec.data_len && !u->data))
		return -ENOMEM;
	if (u->rec.nmsgs)
		memcpy(u->lens, tail, u->rec.nmsgs * sizeof(*u->lens));
	if (u->rec.data_len)
		memcpy(u->data, tail + u->rec.nmsgs * sizeof(*u->lens), u->rec.data_len);
	for (uint32_t i = 0; i < u->rec.nmsgs; i++) {
		if (!u->lens[i])
			return res_bad(CKPT_REC_UNIX, "holds an empty message");
		sum += u->lens[i];
	}
	return sum == u->rec.data_len ? 0 : res_bad(CKPT_REC_UNIX, "is malformed");
}

static int read_rec(struct ck_image *img, struct ck_file *f, const void *data, uint32_t len)
{
	const struct ckpt_rec_unix *r = data;
	struct ck_obj *o;
	struct ck_file *pf;
	struct ck_unix *u, *pu;
	int err;

	err = res_check_len(CKPT_REC_UNIX, len, sizeof(*r),
			    len >= sizeof(*r) ? (uint64_t)r->nmsgs * 4 + r->data_len : 0);
	if (err)
		return err;
	if (!type_ok(r->type) || !r->peer_id || r->peer_id == f->rec.id || !r->sndbuf ||
	    !r->rcvbuf || r->sndbuf > INT_MAX || r->rcvbuf > INT_MAX ||
	    (r->type == SOCK_STREAM && r->nmsgs > 1) || r->data_len > CKPT_REC_MAX_META ||
	    (f->rec.flags & ~UNIX_FLAGS_KEPT) || (f->rec.flags & O_ACCMODE) != O_RDWR ||
	    f->rec.pos || f->rec.obj_id || objhash_by_id(&img->objs, f->rec.id))
		return res_bad(CKPT_REC_UNIX, "is malformed");
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	f->priv = u;
	u->rec = *r;
	err = read_lens(u, (const char *)(r + 1));
	if (err)
		return err;
	o = objhash_by_id(&img->objs, r->peer_id);
	if (!o)
		return 0; /* the peer's record comes later and finds this one */
	pf = o->kind == OBJ_FILE ? (struct ck_file *)o : NULL;
	pu = pf && pf->ops == &fd_unix_ops ? pf->priv : NULL;
	if (!pu || pu->peer || pu->rec.peer_id != f->rec.id || pu->rec.type != r->type)
		return res_bad(CKPT_REC_UNIX, "names a peer that is not its own");
	u->peer = pf;
	pu->peer = f;
	return 0;
}

/* ---- restart ---- */

/* Writes u's queue into it, sent from fd, the other end. */
static int fill(int fd, const struct ck_unix *u)
{
	const char *at = u->data;

	for (uint32_t i = 0; i < u->rec.nmsgs; i++) {
		size_t left = u->lens[i];

		while (left) {
			ssize_t n = send(fd, at, left, MSG_DONTWAIT | MSG_NOSIGNAL);

			if (n < 0)
				return -errno;
			if (n == 0 || (u->rec.type != SOCK_STREAM && (size_t)n != left))
				return -EIO;
			at += n;
			left -= (size_t)n;
		}
	}
	return 0;
}

static int open_pair(struct rst_ctx *ctx, struct ck_proc *p, int fd, struct ck_file *f)
{
	struct ck_unix *u = f->priv, *pu;
	const char *what = "create it";
	int sv[2], err = 0;

	(void)ctx;
	if (!u->peer) {
		log_err("pid %d fd %d: unix socket: its peer is not in the image", p->rec.pid, fd);
		return -EBADMSG;
	}
	pu = u->peer->priv;
	if (socketpair(AF_UNIX, (int)u->rec.type | SOCK_CLOEXEC, 0, sv)) {
		err = -errno;
		goto out;
	}
	what = "give it its buffer sizes";
	err = set_bufs(sv[0], u);
	if (!err)
		err = set_bufs(sv[1], pu);
	if (!err)
		what = "refill its queues";
	if (!err)
		err = fill(sv[1], u);
	if (!err)
		err = fill(sv[0], pu);
	if (!err)
		what = "set its status flags";
	if (!err && (fcntl(sv[0], F_SETFL, (int)(f->rec.flags & O_NONBLOCK)) ||
		     fcntl(sv[1], F_SETFL, (int)(u->peer->rec.flags & O_NONBLOCK))))
		err = -errno;
	if (err) {
		close(sv[0]);
		close(sv[1]);
		goto out;
	}
	f->obj.fd = sv[0];
	u->peer->obj.fd = sv[1];
	return 0;
out:
	log_err("pid %d fd %d: unix socket: cannot %s: %s", p->rec.pid, fd, what, strerror(-err));
	return err;
}

static void show(struct show_ctx *s, const struct ck_file *f)
{
	const struct ck_unix *u = f->priv;

	show_str(s, "type",
		 u->rec.type == SOCK_STREAM  ? "stream"
		 : u->rec.type == SOCK_DGRAM ? "dgram"
					     : "seqpacket");
	show_u64(s, "peer", u->rec.peer_id);
	show_u64(s, "sndbuf", u->rec.sndbuf);
	show_u64(s, "rcvbuf", u->rec.rcvbuf);
	show_u64(s, "queued", u->rec.data_len);
	if (u->rec.type != SOCK_STREAM)
		show_u64(s, "messages", u->rec.nmsgs);
}

static const uint32_t kinds[] = { CKPT_FILE_UNIX, 0 };

const struct fd_ops fd_unix_ops = {
	.name = "unix",
	.kinds = kinds,
	.rec_type = CKPT_REC_UNIX,
	.is = is_unix,
	.collect = collect,
	.settle = settle,
	.write = write_rec,
	.read = read_rec,
	.open = open_pair,
	.show = show,
	.release = release,
};
