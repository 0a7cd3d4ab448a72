/*
 * fd_mqueue.c: POSIX message queue descriptions (mq_open). A descriptor of
 * a queue links to "/name" on the mqueue filesystem (statfs tells it
 * apart), "/name (deleted)" once the name is unlinked; the queue itself is
 * saved once, with the first description that reaches it, and the others
 * name that one.
 *
 * Checkpoint opens a descriptor of its own on the queue (through
 * /proc/PID/fd/N, which also reaches an unlinked one) and saves its name,
 * mq_maxmsg and mq_msgsize, mode and owner, and every message with its
 * priority: messages cannot be read without being taken, so it takes them
 * all (mq_timedreceive, without waiting) and sends them back at once in
 * the same order with the same priorities (mq_send keeps the order within
 * a priority), before the tree is thawed: a tree left running has them
 * all. Each description keeps its access mode and O_NONBLOCK.
 *
 * The queue's file reads as "QSIZE:.. NOTIFY:.. SIGNO:.. NOTIFY_PID:..",
 * which names a notification registration (mq_notify) but not the value
 * its signal carries. Sending back the first message fires it (or, the
 * queue being empty, a message ckpt sends and takes back does), so:
 *  1. before: the registered process must be a live process of the tree,
 *     registered with SIGEV_SIGNAL or SIGEV_NONE (glibc's SIGEV_THREAD is
 *     a netlink socket's: refused), and for SIGEV_SIGNAL, with no such
 *     signal pending already (its own could not be told apart);
 *  2. the registration fires: the signal, with si_code SI_MESGQ and
 *     ckpt's pid, is queued to the process, which is frozen;
 *  3. when the process's turn comes (mqueue_ops, after its descriptors and
 *     before its pending signals are read), ckpt reads the signal's value
 *     with PTRACE_PEEKSIGINFO, takes the signal back (rt_sigtimedwait in
 *     the process) and has the process register again (mq_notify), as it
 *     was. A checkpoint that fails between 2 and 3 leaves it unregistered.
 * At restart the process registers again in its plan, once the temporary
 * descriptors are closed (closing a descriptor of the queue would undo it).
 *
 * Restart creates each queue in ckpt before any process exists
 * (mq_open O_CREAT | O_EXCL with its attributes, then its mode and owner):
 * a name in use is refused (-EEXIST, as a pid in use; the original left
 * running still owns it). It sends the messages, opens every description
 * of the queue by its name with mq_open and the description's flags (when
 * the first one is needed), then unlinks the name of a queue that had lost
 * it (one whose name is taken again is created under a temporary name,
 * which /proc then shows). A restart that fails unlinks the names it
 * created; checkpoint --kill unlinks the name of a queue it saved once the
 * tree is gone, if it still leads to that queue. The queue is charged to
 * ckpt's user (RLIMIT_MSGQUEUE), and mq_maxmsg and mq_msgsize must be
 * within this machine's limits (/proc/sys/fs/mqueue).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/ptrace.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/ptrace.h>
#include "proc/sysvipc.h"
#include "remote/remote.h"
#include "res/files.h"
#include "util/log.h"

#define MQUEUE_MAGIC 0x19800202
#define PRIO_MAX 32768
#define DELETED " (deleted)"
#define DESC_FLAGS (O_ACCMODE | O_NONBLOCK | O_LARGEFILE) /* a description's, kept */

extern const struct fd_ops fd_mqueue_ops;

struct mq_priv {
	struct ckpt_rec_mqueue rec; /* rec.file unused: f->rec is the description's */
	char *name;
	uint8_t *data; /* rec.data_len bytes of messages, as in the record */
	struct ck_file *queue; /* the description that holds the queue (itself if it does) */
	const struct ck_image *img; /* checkpoint: to know whether the tree was killed */
	uint64_t dump_ino; /* checkpoint: the queue's inode */
	bool rearm; /* checkpoint: its registration fired; its process must register again */
	int queue_fd; /* restart, the holder: ckpt's descriptor of the queue */
	char *made; /* restart, the holder: the name ckpt created it under */
	bool committed; /* restart: the tree runs with it, its name stays */
};

static struct mq_priv *priv_of(const struct ck_file *f)
{
	return f->priv;
}

static bool is_holder(const struct ck_file *f)
{
	return priv_of(f)->queue == f;
}

static bool is_mqueue(const struct fd_probe *pr)
{
	struct statfs sfs;

	return S_ISREG(pr->st.st_mode) && pr->target[0] == '/' && !statfs(pr->link, &sfs) &&
	       sfs.f_type == MQUEUE_MAGIC;
}

static struct mq_priv *new_priv(void)
{
	struct mq_priv *m = calloc(1, sizeof(*m));

	if (m)
		m->queue_fd = -1;
	return m;
}

/* The name unlinked, at restart when ckpt's is not to be kept, after
 * checkpoint --kill when the name still leads to the queue saved. */
static void release(struct ck_file *f)
{
	struct mq_priv *m = f->priv;

	if (!m)
		return;
	if (m->made && !m->committed)
		mq_unlink(m->made);
	if (m->img && m->img->killed && is_holder(f) && !(m->rec.flags & CKPT_MQ_DELETED)) {
		mqd_t q = mq_open(m->name, O_RDONLY | O_CLOEXEC);
		struct stat st;

		if (q >= 0 && !fstat(q, &st) && st.st_ino == m->dump_ino)
			mq_unlink(m->name);
		if (q >= 0)
			mq_close(q);
	}
	if (m->queue_fd >= 0)
		close(m->queue_fd);
	free(m->name);
	free(m->made);
	free(m->data);
	free(m);
	f->priv = NULL;
}

/* ---- checkpoint ---- */

/* Puts back the messages taken (data holds them), in order. */
static int put_back(const struct fd_probe *pr, mqd_t q, struct mq_priv *m)
{
	struct timespec now = { 0, 0 };
	uint64_t off = 0;

	for (uint32_t i = 0; i < m->rec.nmsgs; i++) {
		struct ckpt_mq_msg h;

		memcpy(&h, m->data + off, sizeof(h));
		off += sizeof(h);
		if (mq_timedsend(q, (const char *)m->data + off, h.len, h.prio, &now) < 0) {
			int err = -errno;

			log_err("pid %d fd %d: POSIX message queue '%s': cannot put back message "
				"%u of %u, which is lost: %s",
				pr->p->rec.pid, pr->fd, m->name, i + 1, m->rec.nmsgs,
				strerror(errno));
			return err;
		}
		off += h.len;
	}
	return 0;
}

/* Takes every message, then puts them back. Room for a message is made
 * before it is taken, so none is taken that cannot be put back. */
static int read_msgs(const struct fd_probe *pr, mqd_t q, struct mq_priv *m, long curmsgs)
{
	struct timespec now = { 0, 0 };
	size_t room = sizeof(struct ckpt_mq_msg) + (size_t)m->rec.msgsize;
	int err = 0, perr;

	for (;;) {
		uint8_t *n = realloc(m->data, m->rec.data_len + room);
		struct ckpt_mq_msg h;
		ssize_t got;

		if (!n) {
			err = -ENOMEM;
			break;
		}
		m->data = n;
		n += m->rec.data_len;
		got = mq_timedreceive(q, (char *)n + sizeof(h), (size_t)m->rec.msgsize, &h.prio,
				      &now);
		if (got < 0) {
			if (errno != EAGAIN && errno != ETIMEDOUT)
				err = -errno;
			break;
		}
		h.len = (uint32_t)got;
		memcpy(n, &h, sizeof(h));
		m->rec.data_len += sizeof(h) + (size_t)got;
		m->rec.nmsgs++;
	}
	perr = put_back(pr, q, m);
	if (perr)
		return perr;
	if (err)
		log_err("pid %d fd %d: POSIX message queue '%s': cannot read its messages: %s",
			pr->p->rec.pid, pr->fd, m->name, strerror(-err));
	else if (m->rec.nmsgs != curmsgs)
		return fd_refuse(pr, m->name,
				 "POSIX message queue changed while it was read (used outside "
				 "the tree): not supported");
	else if (m->rec.data_len > CKPT_REC_MAX_META - sizeof(m->rec) - NAME_MAX)
		return fd_refuse(pr, m->name, "POSIX message queue holds too many bytes");
	return err;
}

/* Step 1: a registration ckpt can take down and make again. */
static int check_notify(struct dump_ctx *ctx, const struct fd_probe *pr, struct mq_priv *m,
			const struct proc_mq_status *status)
{
	const struct ck_proc *owner = model_find_proc(ctx->img, status->notify_pid);
	struct proc_status st;
	char why[160];
	bool pending;
	int err;

	if (!owner || owner->rec.flags & CKPT_PROC_ZOMBIE) {
		snprintf(why, sizeof(why),
			 "POSIX message queue notification registered by pid %d, outside the "
			 "tree: not supported",
			 status->notify_pid);
		return fd_refuse(pr, m->name, why);
	}
	if (status->notify == SIGEV_THREAD)
		return fd_refuse(pr, m->name,
				 "POSIX message queue notification with SIGEV_THREAD (glibc's "
				 "netlink socket): not supported");
	if (status->notify != SIGEV_SIGNAL && status->notify != SIGEV_NONE)
		return fd_refuse(
			pr, m->name,
			"POSIX message queue notification of an unknown kind: not supported");
	if (status->notify == SIGEV_SIGNAL) {
		if (status->signo < 1 || status->signo > CKPT_NSIG)
			return fd_refuse(pr, m->name,
					 "POSIX message queue notification signal out of range");
		err = proc_read_status(owner->rec.pid, owner->rec.pid, &st);
		if (err) {
			log_err("pid %d: cannot read its status: %s", owner->rec.pid,
				strerror(-err));
			return err;
		}
		pending = (st.sigpnd | st.shdpnd) & 1ULL << (status->signo - 1);
		proc_status_release(&st);
		if (pending) {
			snprintf(why, sizeof(why),
				 "POSIX message queue notification signal %d already pending in "
				 "pid %d: not supported",
				 status->signo, owner->rec.pid);
			return fd_refuse(pr, m->name, why);
		}
	}
	m->rec.notify_pid = status->notify_pid;
	m->rec.notify = status->notify;
	m->rec.signo = status->notify == SIGEV_SIGNAL ? status->signo : 0;
	return 0;
}

/* Step 2: the messages were sent back (which fired it), or, with none, a
 * message of ckpt's fires it and is taken back. */
static int fire(const struct fd_probe *pr, mqd_t q, struct mq_priv *m)
{
	struct timespec now = { 0, 0 };
	struct proc_mq_status status;
	char text[128], *buf = NULL;
	ssize_t n;
	int err = 0;

	if (!m->rec.nmsgs) {
		buf = malloc((size_t)m->rec.msgsize);
		if (!buf)
			err = -ENOMEM;
		else if (mq_timedsend(q, "", 0, 0, &now) < 0 ||
			 mq_timedreceive(q, buf, (size_t)m->rec.msgsize, NULL, &now) < 0)
			err = -errno;
		free(buf);
	}
	if (!err) {
		n = pread(q, text, sizeof(text) - 1, 0);
		text[n > 0 ? n : 0] = '\0';
		err = proc_parse_mq_status(text, &status);
	}
	if (!err && status.notify_pid)
		err = -EBUSY;
	if (err) {
		log_err("pid %d fd %d: cannot take down the notification registration of POSIX "
			"message queue '%s': %s",
			pr->p->rec.pid, pr->fd, m->name, strerror(-err));
		return err;
	}
	m->rearm = true;
	return 0;
}

/* The queue's own state, for the first description that reaches it. */
static int collect_queue(struct dump_ctx *ctx, const struct fd_probe *pr, struct mq_priv *m)
{
	size_t tlen = strlen(pr->target);
	struct proc_mq_status status;
	struct mq_attr attr;
	char text[128];
	ssize_t n;
	mqd_t q;
	int err;

	m->name = strdup(pr->target);
	if (!m->name)
		return -ENOMEM;
	if (tlen > strlen(DELETED) && !strcmp(pr->target + tlen - strlen(DELETED), DELETED)) {
		m->name[tlen - strlen(DELETED)] = '\0';
		m->rec.flags |= CKPT_MQ_DELETED;
	}
	if (strchr(m->name + 1, '/') || strlen(m->name) < 2 || strlen(m->name) > NAME_MAX + 1)
		return fd_refuse(pr, pr->target,
				 "POSIX message queue with this name: not supported");
	q = open(pr->link, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (q < 0) {
		char why[160];

		snprintf(why, sizeof(why), "POSIX message queue ckpt cannot open: %s",
			 strerror(errno));
		return fd_refuse(pr, m->name, why);
	}
	n = read(q, text, sizeof(text) - 1);
	text[n > 0 ? n : 0] = '\0';
	err = proc_parse_mq_status(text, &status);
	if (!err && mq_getattr(q, &attr) < 0)
		err = -errno;
	if (err) {
		log_err("pid %d fd %d: cannot inspect POSIX message queue '%s': %s", pr->p->rec.pid,
			pr->fd, m->name, strerror(-err));
		goto out;
	}
	if (status.notify_pid) {
		err = check_notify(ctx, pr, m, &status);
		if (err)
			goto out;
	}
	m->rec.maxmsg = attr.mq_maxmsg;
	m->rec.msgsize = attr.mq_msgsize;
	m->rec.mode = pr->st.st_mode & 0777;
	m->rec.uid = pr->st.st_uid;
	m->rec.gid = pr->st.st_gid;
	m->rec.name_len = (uint32_t)strlen(m->name);
	m->dump_ino = pr->st.st_ino;
	err = read_msgs(pr, q, m, attr.mq_curmsgs);
	if (!err && m->rec.notify_pid)
		err = fire(pr, q, m);
out:
	close(q);
	return err;
}

static bool is_queue_holder(struct ck_obj *obj, void *arg)
{
	struct ck_file *f = (struct ck_file *)obj;

	(void)arg;
	return f->ops == &fd_mqueue_ops && is_holder(f);
}

static int collect(struct dump_ctx *ctx, const struct fd_probe *pr, struct ck_file *f)
{
	struct mq_priv *m = new_priv();
	struct ck_file *holder;
	int err = 0;

	if (!m)
		return -ENOMEM;
	f->priv = m;
	f->rec.kind = CKPT_FILE_MQUEUE;
	if (f->rec.flags & ~DESC_FLAGS)
		return fd_refuse(pr, pr->target,
				 "POSIX message queue description with flags other than the access "
				 "mode and O_NONBLOCK: not supported");
	holder = (struct ck_file *)objhash_find(&ctx->img->objs, OBJ_FILE, pr->st.st_dev,
						pr->st.st_ino, is_queue_holder, NULL);
	m->queue = holder ? holder : f;
	if (!holder) {
		err = collect_queue(ctx, pr, m);
		m->img = ctx->img;
	}
	return err;
}

static int write_rec(struct img_writer *w, struct ck_file *f)
{
	struct mq_priv *m = f->priv;
	struct iovec iov[3] = {
		{ (char *)&m->rec + sizeof(m->rec.file), sizeof(m->rec) - sizeof(m->rec.file) },
		{ m->name, m->rec.name_len },
		{ m->data, m->rec.data_len },
	};

	m->rec.queue_id = is_holder(f) ? 0 : m->queue->obj.id;
	return fd_write_rec(w, CKPT_REC_MQUEUE, f, iov, 3);
}

/* ---- image to model ---- */

static bool msgs_ok(const struct mq_priv *m)
{
	uint64_t off = 0;

	for (uint32_t i = 0; i < m->rec.nmsgs; i++) {
		struct ckpt_mq_msg h;

		if (m->rec.data_len - off < sizeof(h))
			return false;
		memcpy(&h, m->data + off, sizeof(h));
		off += sizeof(h);
		if (h.prio >= PRIO_MAX || h.len > m->rec.msgsize || h.len > m->rec.data_len - off)
			return false;
		off += h.len;
	}
	return off == m->rec.data_len;
}

/* No registration (all zero), SIGEV_NONE, or SIGEV_SIGNAL with a signal. */
static bool notify_ok(const struct ckpt_rec_mqueue *r)
{
	if (r->pad2 || r->notify_pid < 0)
		return false;
	if (!r->notify_pid)
		return !r->notify && !r->signo && !r->sigev_value;
	if (r->notify == SIGEV_NONE)
		return !r->signo && !r->sigev_value;
	return r->notify == SIGEV_SIGNAL && r->signo >= 1 && r->signo <= CKPT_NSIG;
}

static int read_holder(struct mq_priv *m, const struct ckpt_rec_mqueue *r)
{
	const char *name = (const char *)(r + 1);

	if (r->maxmsg <= 0 || r->msgsize <= 0 || r->msgsize > INT_MAX || r->mode & ~0777U ||
	    r->flags & ~CKPT_MQ_FLAGS_ALL || (uint64_t)r->nmsgs > (uint64_t)r->maxmsg ||
	    r->name_len < 2 || r->name_len > NAME_MAX + 1 || name[0] != '/' ||
	    memchr(name + 1, '/', r->name_len - 1) || memchr(name, 0, r->name_len) || !notify_ok(r))
		return res_bad(CKPT_REC_MQUEUE, "is malformed");
	m->name = res_strndup(name, r->name_len);
	m->data = malloc(r->data_len ? r->data_len : 1);
	if (!m->name || !m->data)
		return -ENOMEM;
	memcpy(m->data, name + r->name_len, r->data_len);
	return msgs_ok(m) ? 0 : res_bad(CKPT_REC_MQUEUE, "has malformed messages");
}

static int read_rec(struct ck_image *img, struct ck_file *f, const void *data, uint32_t len)
{
	const struct ckpt_rec_mqueue *r = data;
	struct mq_priv *m;
	struct ck_obj *o;
	int err;

	err = res_check_len(CKPT_REC_MQUEUE, len, sizeof(*r),
			    len >= sizeof(*r) ? (uint64_t)r->name_len + r->data_len : 0);
	if (err)
		return err;
	if (f->rec.kind != CKPT_FILE_MQUEUE || f->rec.flags & ~DESC_FLAGS ||
	    (f->rec.flags & O_ACCMODE) == O_ACCMODE || f->rec.obj_id || r->pad)
		return res_bad(CKPT_REC_MQUEUE, "is malformed");
	m = new_priv();
	if (!m)
		return -ENOMEM;
	f->priv = m;
	m->rec = *r;
	if (!r->queue_id) {
		m->queue = f;
		return read_holder(m, r);
	}
	o = objhash_by_id(&img->objs, r->queue_id);
	if (r->name_len || r->data_len || r->nmsgs || r->flags || r->notify_pid || r->notify ||
	    r->signo || r->sigev_value || r->pad2 || !o || o->kind != OBJ_FILE ||
	    ((struct ck_file *)o)->ops != &fd_mqueue_ops || !is_holder((struct ck_file *)o))
		return res_bad(CKPT_REC_MQUEUE, "refers to an unknown queue");
	m->queue = (struct ck_file *)o;
	return 0;
}

/* ---- restart ---- */

static int send_msgs(struct mq_priv *m)
{
	uint64_t off = 0;

	for (uint32_t i = 0; i < m->rec.nmsgs; i++) {
		struct ckpt_mq_msg h;

		memcpy(&h, m->data + off, sizeof(h));
		off += sizeof(h);
		if (mq_send(m->queue_fd, (const char *)m->data + off, h.len, h.prio) < 0)
			return -errno;
		off += h.len;
	}
	return 0;
}

/* Every description of the queue, opened by the name it has now: with
 * mq_open, or with open(2) (through ckpt's descriptor) for one that was
 * opened so and has O_LARGEFILE, which open(2) adds. */
static int open_all(struct ck_image *img, struct ck_file *holder, const char *name)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", priv_of(holder)->queue_fd);
	for (uint32_t id = 1; id <= img->objs.count; id++) {
		struct ck_obj *o = objhash_by_id(&img->objs, id);
		struct ck_file *f = (struct ck_file *)o;
		int flags;

		if (!o || o->kind != OBJ_FILE || f->ops != &fd_mqueue_ops ||
		    priv_of(f)->queue != holder)
			continue;
		flags = (int)f->rec.flags | O_CLOEXEC;
		f->obj.fd = flags & O_LARGEFILE ? open(path, flags) : mq_open(name, flags);
		if (f->obj.fd < 0)
			return -errno;
	}
	return 0;
}

/* The queue, with its attributes and messages, and its descriptions; one
 * that had lost its name loses it again (after it was created under a name
 * of ckpt's own, when its own is taken). */
static int create_queue(struct ck_image *img, struct ck_proc *p, int fd, struct ck_file *holder)
{
	struct mq_priv *m = holder->priv;
	struct mq_attr attr = { .mq_maxmsg = m->rec.maxmsg, .mq_msgsize = m->rec.msgsize };
	const int flags = O_RDWR | O_CREAT | O_EXCL | O_NONBLOCK | O_CLOEXEC;
	bool deleted = m->rec.flags & CKPT_MQ_DELETED;
	char tmp[64];
	const char *name = m->name;
	int err = 0;

	m->queue_fd = mq_open(name, flags, 0600, &attr);
	if (m->queue_fd < 0 && errno == EEXIST && deleted) {
		snprintf(tmp, sizeof(tmp), "/.ckpt-restart-%d-%u", (int)getpid(), holder->obj.id);
		name = tmp;
		m->queue_fd = mq_open(name, flags, 0600, &attr);
	}
	if (m->queue_fd < 0) {
		err = -errno;
		if (err == -EEXIST)
			log_err("pid %d fd %d: POSIX message queue '%s' exists", p->rec.pid, fd,
				m->name);
		else
			log_err("pid %d fd %d: cannot create POSIX message queue '%s' (%lld "
				"messages of %lld bytes): %s",
				p->rec.pid, fd, m->name, (long long)m->rec.maxmsg,
				(long long)m->rec.msgsize, strerror(errno));
		return err;
	}
	m->made = strdup(name);
	if (!m->made)
		err = -ENOMEM;
	else if (fchmod(m->queue_fd, m->rec.mode) || fchown(m->queue_fd, m->rec.uid, m->rec.gid))
		err = -errno;
	if (!err)
		err = send_msgs(m);
	if (!err)
		err = open_all(img, holder, name);
	if (!err && deleted) {
		err = mq_unlink(name) < 0 ? -errno : 0;
		free(m->made);
		m->made = NULL;
	}
	if (err)
		log_err("pid %d fd %d: cannot set up POSIX message queue '%s': %s", p->rec.pid, fd,
			m->name, strerror(-err));
	return err;
}

/* The holder creates the queue and opens every description of it. */
static int open_file(struct rst_ctx *ctx, struct ck_proc *p, int fd, struct ck_file *f)
{
	struct mq_priv *m = f->priv;

	if (!is_holder(f))
		return fd_open_file(ctx, p, fd, m->queue);
	return create_queue(ctx->img, p, fd, f);
}

/* ---- show ---- */

static void show(struct show_ctx *s, const struct ck_file *f)
{
	const struct mq_priv *m = f->priv;
	char list[512] = "";
	uint64_t off = 0;
	size_t len = 0;

	if (!is_holder(f)) {
		show_u64(s, "queue", m->queue->obj.id);
		return;
	}
	show_str(s, "name", m->name);
	if (m->rec.flags & CKPT_MQ_DELETED)
		show_bool(s, "deleted", true);
	show_i64(s, "maxmsg", m->rec.maxmsg);
	show_i64(s, "msgsize", m->rec.msgsize);
	show_fmt(s, "mode", "%03o", m->rec.mode);
	show_u64(s, "uid", m->rec.uid);
	show_u64(s, "gid", m->rec.gid);
	if (m->rec.notify_pid) {
		show_i64(s, "notify_pid", m->rec.notify_pid);
		show_str(s, "notify", m->rec.notify == SIGEV_SIGNAL ? "signal" : "none");
		if (m->rec.notify == SIGEV_SIGNAL) {
			show_i64(s, "notify_signal", m->rec.signo);
			show_hex(s, "notify_value", m->rec.sigev_value);
		}
	}
	show_u64(s, "messages", m->rec.nmsgs);
	for (uint32_t i = 0; i < m->rec.nmsgs && len < sizeof(list) - 32; i++) {
		struct ckpt_mq_msg h;

		memcpy(&h, m->data + off, sizeof(h));
		off += sizeof(h) + h.len;
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%u/%u", i ? "," : "",
					h.prio, h.len);
	}
	if (m->rec.nmsgs)
		show_str(s, "prio/bytes", list);
}

static const uint32_t kinds[] = { CKPT_FILE_MQUEUE, 0 };

const struct fd_ops fd_mqueue_ops = {
	.name = "mqueue",
	.kinds = kinds,
	.rec_type = CKPT_REC_MQUEUE,
	.is = is_mqueue,
	.collect = collect,
	.write = write_rec,
	.read = read_rec,
	.open = open_file,
	.show = show,
	.release = release,
};

/* After the last process's lists, the tree runs with its queues: their
 * names stay. */
static int finish(struct rst_ctx *ctx, struct ck_proc *p)
{
	struct ck_image *img = ctx->img;

	for (uint32_t i = (uint32_t)(p - img->procs) + 1; i < img->nprocs; i++)
		if (!(img->procs[i].rec.flags & CKPT_PROC_ZOMBIE))
			return 0;
	for (uint32_t id = 1; id <= img->objs.count; id++) {
		struct ck_obj *o = objhash_by_id(&img->objs, id);

		if (o && o->kind == OBJ_FILE && ((struct ck_file *)o)->ops == &fd_mqueue_ops)
			priv_of((struct ck_file *)o)->committed = true;
	}
	return 0;
}

/* A descriptor of p that reaches the queue held by holder, or -1. */
static int fd_of_queue(const struct ck_proc *p, const struct ck_file *holder)
{
	for (uint32_t i = 0; i < p->nfds; i++) {
		const struct ck_file *f = p->fds[i].file;

		if (f && f->ops == &fd_mqueue_ops && priv_of(f)->queue == holder)
			return p->fds[i].rec.fd;
	}
	return -1;
}

/* The registered signal's value, from p's queue of pending signals: the
 * one SI_MESGQ signal ckpt's step 2 sent. */
static int find_signal(struct ck_proc *p, struct mq_priv *m)
{
	siginfo_t si[32];

	for (uint64_t off = 0;; off += 32) {
		struct ptrace_peeksiginfo_args a = { .off = off,
						     .flags = PTRACE_PEEKSIGINFO_SHARED,
						     .nr = 32 };
		long n = ptrace(PTRACE_PEEKSIGINFO, p->threads[0].rec.tid, &a, si);

		if (n < 0)
			return -errno;
		for (long i = 0; i < n; i++) {
			if (si[i].si_signo == m->rec.signo && si[i].si_code == SI_MESGQ &&
			    si[i].si_pid == getpid()) {
				m->rec.sigev_value = (uint64_t)(uintptr_t)si[i].si_value.sival_ptr;
				return 0;
			}
		}
		if (n < 32)
			return -ENOENT;
	}
}

/* Step 3, in p's scratch area: the signal set and timeout, then the
 * sigevent. */
static int rearm(struct ck_proc *p, const struct ck_file *holder, struct mq_priv *m)
{
	struct {
		uint64_t set;
		struct timespec zero;
		struct sigevent sev;
	} a = { .sev.sigev_notify = m->rec.notify, .sev.sigev_signo = m->rec.signo };
	unsigned long at = p->live->scratch;
	int fd = fd_of_queue(p, holder), err;
	long ret = 0;

	if (fd < 0)
		return -EBADF;
	if (m->rec.notify == SIGEV_SIGNAL) {
		a.set = 1ULL << (m->rec.signo - 1);
		err = find_signal(p, m);
		if (err)
			return err;
		a.sev.sigev_value.sival_ptr = (void *)(uintptr_t)m->rec.sigev_value;
	}
	err = remote_write(p->rec.pid, at, &a, sizeof(a));
	if (!err && m->rec.notify == SIGEV_SIGNAL) {
		err = res_remote(p, NULL, &ret, SYS_rt_sigtimedwait, (long)at, 0,
				 (long)(at + offsetof(typeof(a), zero)), 8, 0, 0);
		if (!err && ret != m->rec.signo)
			err = ret < 0 ? (int)ret : -EIO;
	}
	if (!err)
		err = res_remote(p, NULL, &ret, SYS_mq_notify, fd,
				 (long)(at + offsetof(typeof(a), sev)), 0, 0, 0, 0);
	if (!err && ret)
		err = (int)ret;
	if (!err)
		m->rearm = false;
	return err;
}

/* Checkpoint: the registrations of p that step 2 took down, made again. */
static int collect_registrations(struct dump_ctx *ctx, struct ck_proc *p)
{
	struct ck_image *img = ctx->img;

	for (uint32_t id = 1; id <= img->objs.count; id++) {
		struct ck_obj *o = objhash_by_id(&img->objs, id);
		struct ck_file *f = (struct ck_file *)o;
		int err;

		if (!o || o->kind != OBJ_FILE || f->ops != &fd_mqueue_ops || !is_holder(f) ||
		    !priv_of(f)->rearm || priv_of(f)->rec.notify_pid != p->rec.pid)
			continue;
		err = rearm(p, f, priv_of(f));
		if (err) {
			log_err("pid %d: cannot register again for notification by POSIX message "
				"queue '%s' (it is left unregistered): %s",
				p->rec.pid, priv_of(f)->name, strerror(-err));
			return err;
		}
	}
	return 0;
}

/* Restart, before anything is created: each registered process holds a
 * descriptor of its queue. */
static int check_registrations(struct rst_ctx *ctx, struct ck_proc *p)
{
	for (uint32_t i = 0; i < p->nfds; i++) {
		const struct ck_file *f = p->fds[i].file;
		const struct ck_proc *owner;

		if (!f || f->ops != &fd_mqueue_ops || !is_holder(f) || !priv_of(f)->rec.notify_pid)
			continue;
		owner = model_find_proc(ctx->img, priv_of(f)->rec.notify_pid);
		if (!owner || owner->rec.flags & CKPT_PROC_ZOMBIE || fd_of_queue(owner, f) < 0)
			return res_bad(CKPT_REC_MQUEUE,
				       "registers for notification a process without the queue");
	}
	return 0;
}

/* Restart: p registers again, after the temporary descriptors are closed. */
static int plan_registrations(struct rst_ctx *ctx, struct ck_proc *p, struct blob_plan *bp,
			      enum plan_phase phase)
{
	struct ck_image *img = ctx->img;
	int err = 0;

	if (phase != PLAN_FINAL)
		return 0;
	for (uint32_t id = 1; id <= img->objs.count && !err; id++) {
		struct ck_obj *o = objhash_by_id(&img->objs, id);
		struct ck_file *f = (struct ck_file *)o;
		struct sigevent sev = { 0 };
		const struct mq_priv *m;
		int64_t off;

		if (!o || o->kind != OBJ_FILE || f->ops != &fd_mqueue_ops || !is_holder(f) ||
		    priv_of(f)->rec.notify_pid != p->rec.pid)
			continue;
		m = priv_of(f);
		sev.sigev_notify = m->rec.notify;
		sev.sigev_signo = m->rec.signo;
		sev.sigev_value.sival_ptr = (void *)(uintptr_t)m->rec.sigev_value;
		off = plan_data(bp, &sev, sizeof(sev));
		err = off < 0 ? -ENOMEM
			      : plan_call(bp, 0, 1U << 1, SYS_mq_notify,
					  (uint64_t)fd_of_queue(p, f), (uint64_t)off, 0, 0, 0, 0,
					  "register for notification by POSIX message queue '%s'",
					  m->name);
	}
	return err;
}

/* The queues outlive the descriptions: this resource also keeps their
 * names once the tree runs, and makes notification registrations again. */
const struct res_ops mqueue_ops = {
	.name = "mqueue",
	.collect = collect_registrations,
	.check = check_registrations,
	.plan = plan_registrations,
	.finish = finish,
};
