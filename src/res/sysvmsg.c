/*
 * sysvmsg.c: System V message queues (msgget, msgsnd, msgrcv) the tree
 * uses.
 *
 * A queue is reached by no descriptor or area, so checkpoint takes the
 * queues of /proc/sysvipc/msg whose last sender (lspid) or last receiver
 * (lrpid) is a live process of the tree; the others are outside it. It
 * saves each one's id, key, mode, owner, msg_qbytes, both pids and every
 * message with its type, in queue order, read without removing them
 * (msgrcv with MSG_COPY, which needs CONFIG_CHECKPOINT_RESTORE), in the
 * section of the first of those processes. A queue that changes while it
 * is read (a process outside the tree uses it) is refused.
 *
 * Restart, before anything is created, checks that every id and key is
 * free (-EEXIST, as for a pid in use), then in ckpt:
 *  1. writes the id to /proc/sys/kernel/msg_next_id, msgget(key,
 *     IPC_CREAT | IPC_EXCL | mode), sets msg_next_id back to -1;
 *  2. IPC_SET gives it its owner, mode and msg_qbytes;
 *  3. sends the messages in order, but the last one when the last sender
 *     is in the tree: that process sends it in its plan, and is the last
 *     sender again. The last receiver, when in the tree, receives in its
 *     plan a message of its own, of a type no message has: ckpt sends it,
 *     or, when the queue was empty and the last sender is in the tree, the
 *     sender does (instead of a last message) and the receiver waits for
 *     it. So both pids are the tree's again, and a later checkpoint finds
 *     the queue. When only the sender is in the tree and the queue was
 *     empty, ckpt takes that message back once every list has run.
 * A pid outside the tree is not restored: 0, or ckpt's pid. Queues a
 * failed restart created are removed; checkpoint --kill removes the queues
 * it saved once the tree is gone, unless something changed them since.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "ckpt.h"
#include "proc/sysvipc.h"
#include "res/res.h"
#include "res/sysvipc.h"
#include "util/log.h"

#ifndef MSG_COPY
#define MSG_COPY 040000
#endif

struct msg_item {
	int64_t type;
	uint32_t len;
	const uint8_t *text;
};

struct sysv_msg {
	struct ck_obj obj;
	struct ckpt_rec_sysv_msg rec;
	uint8_t *data; /* rec.data_len bytes, as in the record */
	struct msg_item *msgs; /* rec.nmsgs, into data */
	pid_t holder; /* whose section holds its record */
	const struct ck_image *img; /* checkpoint: to know whether the tree was killed */
	int64_t dump_stime, dump_rtime, dump_ctime; /* checkpoint: to know it unchanged */
	long own_type; /* restart: the type of the message that is the tree's own */
	bool created, committed; /* restart */
};

static void release_msg(struct ck_obj *obj)
{
	struct sysv_msg *q = (struct sysv_msg *)obj;
	struct msqid_ds ds;

	if (q->created && !q->committed)
		msgctl(q->rec.msqid, IPC_RMID, NULL);
	else if (q->img && q->img->killed && msgctl(q->rec.msqid, IPC_STAT, &ds) >= 0 &&
		 ds.msg_stime == q->dump_stime && ds.msg_rtime == q->dump_rtime &&
		 ds.msg_ctime == q->dump_ctime)
		msgctl(q->rec.msqid, IPC_RMID, NULL);
	free(q->data);
	free(q->msgs);
	free(q);
}

static struct sysv_msg *new_msg(void)
{
	struct sysv_msg *q = calloc(1, sizeof(*q));

	if (q) {
		q->obj.kind = OBJ_SYSV_MSG;
		q->obj.fd = -1;
		q->obj.release = release_msg;
	}
	return q;
}

/* msgs from data: -EBADMSG when they do not fill it exactly. */
static int index_msgs(struct sysv_msg *q)
{
	uint64_t off = 0;

	q->msgs = calloc(q->rec.nmsgs ? q->rec.nmsgs : 1, sizeof(*q->msgs));
	if (!q->msgs)
		return -ENOMEM;
	for (uint32_t i = 0; i < q->rec.nmsgs; i++) {
		struct ckpt_sysv_msg h;

		if (q->rec.data_len - off < sizeof(h))
			return -EBADMSG;
		memcpy(&h, q->data + off, sizeof(h));
		off += sizeof(h);
		if (h.type <= 0 || h.pad || h.len > q->rec.data_len - off)
			return -EBADMSG;
		q->msgs[i] = (struct msg_item){ h.type, h.len, q->data + off };
		off += h.len;
	}
	return off == q->rec.data_len ? 0 : -EBADMSG;
}

/* ---- checkpoint ---- */

static int append(struct sysv_msg *q, const void *buf, size_t len)
{
	uint8_t *n = realloc(q->data, q->rec.data_len + len);

	if (!n)
		return -ENOMEM;
	q->data = n;
	memcpy(n + q->rec.data_len, buf, len);
	q->rec.data_len += len;
	return 0;
}

/* Every message, in order, left in the queue. */
static int copy_msgs(struct sysv_msg *q, const struct msqid_ds *ds)
{
	size_t size = ds->msg_cbytes + 1;
	struct {
		long type;
		char text[];
	} *buf = malloc(sizeof(*buf) + size);
	int err = 0;

	if (!buf)
		return -ENOMEM;
	for (uint64_t i = 0; i < ds->msg_qnum && !err; i++) {
		ssize_t n = msgrcv(q->rec.msqid, buf, size, (long)i, MSG_COPY | IPC_NOWAIT);
		struct ckpt_sysv_msg h;

		if (n < 0) {
			err = -errno;
			break;
		}
		h = (struct ckpt_sysv_msg){ .type = buf->type, .len = (uint32_t)n };
		err = append(q, &h, sizeof(h));
		if (!err)
			err = append(q, buf->text, (size_t)n);
		q->rec.nmsgs++;
	}
	free(buf);
	return err;
}

static int refuse(const struct sysv_msg *q, const char *why)
{
	log_err("pid %d: System V message queue %d: %s", q->holder, q->rec.msqid, why);
	return -EOPNOTSUPP;
}

/* The queue's state, if it belongs to the tree. */
static int collect_queue(struct dump_ctx *ctx, const struct proc_sysv_msg *line)
{
	pid_t pids[2] = { line->lspid, line->lrpid };
	struct msqid_ds ds, after;
	struct sysv_msg *q;
	int err;

	if (!sysvipc_holder(ctx->img, pids, 2))
		return 0;
	if (msgctl(line->id, IPC_STAT, &ds) < 0)
		return errno == EINVAL || errno == EIDRM ? 0 : -errno; /* gone meanwhile */
	q = new_msg();
	if (!q)
		return -ENOMEM;
	q->rec = (struct ckpt_rec_sysv_msg){
		.msqid = line->id,
		.key = ds.msg_perm.__key,
		.mode = ds.msg_perm.mode & 0777,
		.uid = ds.msg_perm.uid,
		.gid = ds.msg_perm.gid,
		.cuid = ds.msg_perm.cuid,
		.cgid = ds.msg_perm.cgid,
		.qbytes = ds.msg_qbytes,
		.lspid = ds.msg_lspid,
		.lrpid = ds.msg_lrpid,
	};
	pids[0] = ds.msg_lspid;
	pids[1] = ds.msg_lrpid;
	q->holder = sysvipc_holder(ctx->img, pids, 2);
	q->obj.key[0] = (uint64_t)line->id;
	q->dump_stime = ds.msg_stime;
	q->dump_rtime = ds.msg_rtime;
	q->dump_ctime = ds.msg_ctime;
	err = q->holder ? copy_msgs(q, &ds) : 0;
	if (err == -ENOSYS)
		err = refuse(q, "reading messages needs MSG_COPY "
				"(CONFIG_CHECKPOINT_RESTORE): not supported");
	if (!err && q->holder &&
	    (msgctl(line->id, IPC_STAT, &after) < 0 || after.msg_stime != ds.msg_stime ||
	     after.msg_rtime != ds.msg_rtime || after.msg_ctime != ds.msg_ctime ||
	     after.msg_qnum != ds.msg_qnum || after.msg_cbytes != ds.msg_cbytes))
		err = refuse(q, "changed while it was read (used outside the tree): "
				"not supported");
	if (!err && sysvipc_is_live(ctx->img, ds.msg_lrpid) && ds.msg_qnum + 1 > ds.msg_qbytes)
		err = refuse(q, "has as many messages as msg_qbytes allows: its last "
				"receiver cannot be restored");
	if (!err && q->rec.data_len > CKPT_REC_MAX_META - sizeof(q->rec))
		err = refuse(q, "holds too many bytes of messages");
	if (!err && q->holder) {
		q->img = ctx->img;
		err = objhash_add(&ctx->img->objs, &q->obj);
		if (err)
			q->img = NULL;
	}
	if (err || !q->holder)
		release_msg(&q->obj);
	return err;
}

static int collect(struct dump_ctx *ctx, struct ck_proc *p)
{
	struct proc_sysv_msg *lines;
	size_t n;
	int err;

	if (p != &ctx->img->procs[0])
		return 0;
	err = proc_read_sysv_msg(&lines, &n);
	if (err) {
		log_err("cannot list System V message queues: %s", strerror(-err));
		return err;
	}
	for (size_t i = 0; i < n && !err; i++) {
		err = collect_queue(ctx, &lines[i]);
		if (err && err != -EOPNOTSUPP)
			log_err("cannot save System V message queue %d: %s", lines[i].id,
				strerror(-err));
	}
	free(lines);
	return err;
}

static int write_rec(struct img_writer *w, struct ck_image *img, struct ck_proc *p)
{
	int err = 0;

	for (uint32_t id = 1; id <= img->objs.count && !err; id++) {
		struct ck_obj *o = objhash_by_id(&img->objs, id);
		struct sysv_msg *q = (struct sysv_msg *)o;
		struct iovec iov[2];

		if (!o || o->kind != OBJ_SYSV_MSG || q->holder != p->rec.pid)
			continue;
		q->rec.id = q->obj.id;
		iov[0] = (struct iovec){ &q->rec, sizeof(q->rec) };
		iov[1] = (struct iovec){ q->data, q->rec.data_len };
		err = img_write_rec(w, CKPT_REC_SYSV_MSG, iov, 2);
	}
	return err;
}

/* ---- image to model ---- */

/* The smallest type no message has. */
static long unused_type(const struct sysv_msg *q)
{
	long t = 1;

	for (bool again = true; again;) {
		again = false;
		for (uint32_t i = 0; i < q->rec.nmsgs; i++) {
			if (q->msgs[i].type == t) {
				t++;
				again = true;
			}
		}
	}
	return t;
}

static int read_rec(struct ck_image *img, struct ck_proc *p, struct ck_thread *t, uint32_t type,
		    const void *data, uint32_t len)
{
	const struct ckpt_rec_sysv_msg *r = data;
	struct sysv_msg *q;
	int err;

	(void)t;
	err = res_check_len(type, len, sizeof(*r), len >= sizeof(*r) ? r->data_len : 0);
	if (err)
		return err;
	if (!p || !r->id || r->pad || r->msqid < 0 || r->mode & ~0777U || r->lspid < 0 ||
	    r->lrpid < 0 || r->nmsgs > r->data_len / sizeof(struct ckpt_sysv_msg))
		return res_bad(type, "is misplaced or malformed");
	q = new_msg();
	if (!q)
		return -ENOMEM;
	q->rec = *r;
	q->obj.id = r->id;
	q->obj.key[0] = (uint64_t)r->msqid;
	q->holder = p->rec.pid;
	q->data = malloc(r->data_len ? r->data_len : 1);
	err = q->data ? 0 : -ENOMEM;
	if (!err) {
		memcpy(q->data, r + 1, r->data_len);
		err = index_msgs(q);
		if (err == -EBADMSG)
			err = res_bad(type, "has malformed messages");
	}
	if (!err && objhash_find(&img->objs, OBJ_SYSV_MSG, q->obj.key[0], 0, NULL, NULL))
		err = res_bad(type, "repeats a queue");
	if (!err && objhash_insert(&img->objs, &q->obj))
		err = res_bad(type, "reuses an object id");
	if (err)
		release_msg(&q->obj);
	else
		q->own_type = unused_type(q);
	return err;
}

/* ---- restart ---- */

static bool is_queue_of(struct ck_obj *o, const struct ck_proc *p)
{
	return o && o->kind == OBJ_SYSV_MSG && ((struct sysv_msg *)o)->holder == p->rec.pid;
}

/* The process's queues: their ids and keys must be free, as pids must. */
static int check(struct rst_ctx *ctx, struct ck_proc *p)
{
	struct ck_image *img = ctx->img;
	struct proc_sysv_msg *lines = NULL;
	size_t n = 0;
	bool listed = false;
	int err = 0;

	for (uint32_t id = 1; id <= img->objs.count && !err; id++) {
		struct ck_obj *o = objhash_by_id(&img->objs, id);
		struct sysv_msg *q = (struct sysv_msg *)o;

		if (!is_queue_of(o, p))
			continue;
		if (!listed) {
			err = proc_read_sysv_msg(&lines, &n);
			if (err) {
				log_err("cannot list System V message queues: %s", strerror(-err));
				break;
			}
			listed = true;
		}
		for (size_t i = 0; i < n && !err; i++)
			err = sysvipc_check_free(p->rec.pid, "message queue", q->rec.msqid,
						 q->rec.key, lines[i].id, lines[i].key);
	}
	free(lines);
	return err;
}

static int send_one(int msqid, long type, const void *text, uint32_t len)
{
	struct {
		long type;
		char text[];
	} *buf = malloc(sizeof(*buf) + len);
	int err = 0;

	if (!buf)
		return -ENOMEM;
	buf->type = type;
	memcpy(buf->text, text, len);
	if (msgsnd(msqid, buf, len, IPC_NOWAIT) < 0)
		err = -errno;
	free(buf);
	return err;
}

static int set_up(struct rst_ctx *ctx, struct sysv_msg *q)
{
	bool sender = sysvipc_is_live(ctx->img, q->rec.lspid);
	bool receiver = sysvipc_is_live(ctx->img, q->rec.lrpid);
	uint32_t n = q->rec.nmsgs - (sender && q->rec.nmsgs);
	struct msqid_ds ds;
	int err = 0;

	if (msgctl(q->rec.msqid, IPC_STAT, &ds) < 0)
		return -errno;
	ds.msg_perm.uid = q->rec.uid;
	ds.msg_perm.gid = q->rec.gid;
	ds.msg_perm.mode = (unsigned short)q->rec.mode;
	ds.msg_qbytes = q->rec.qbytes;
	if (msgctl(q->rec.msqid, IPC_SET, &ds) < 0)
		return -errno;
	for (uint32_t i = 0; i < n && !err; i++)
		err = send_one(q->rec.msqid, q->msgs[i].type, q->msgs[i].text, q->msgs[i].len);
	if (!err && receiver && !(sender && !q->rec.nmsgs))
		err = send_one(q->rec.msqid, q->own_type, "", 0);
	return err;
}

static int create(struct rst_ctx *ctx, struct sysv_msg *q)
{
	int id, err, serr;

	err = sysvipc_next_id("msg", q->rec.msqid);
	if (err) {
		log_err("cannot choose the id of System V message queue %d: %s", q->rec.msqid,
			strerror(-err));
		return err;
	}
	id = msgget(q->rec.key, IPC_CREAT | IPC_EXCL | (int)q->rec.mode);
	serr = errno;
	sysvipc_next_id("msg", -1);
	if (id < 0) {
		log_err("cannot create System V message queue %d: %s", q->rec.msqid,
			strerror(serr));
		return -serr;
	}
	if (id != q->rec.msqid) {
		msgctl(id, IPC_RMID, NULL);
		log_err("System V message queue id %d is in use", q->rec.msqid);
		return -EEXIST;
	}
	q->created = true;
	err = set_up(ctx, q);
	if (err)
		log_err("cannot set up System V message queue %d: %s", id, strerror(-err));
	return err;
}

static int prepare(struct rst_ctx *ctx, struct ck_proc *p)
{
	struct ck_image *img = ctx->img;
	int err = 0;

	for (uint32_t id = 1; id <= img->objs.count && !err; id++) {
		struct ck_obj *o = objhash_by_id(&img->objs, id);

		if (is_queue_of(o, p))
			err = create(ctx, (struct sysv_msg *)o);
	}
	return err;
}

/* The last sender sends the last message (or, the queue being empty, the
 * tree's own message). */
static int plan_send(struct blob_plan *bp, struct sysv_msg *q)
{
	const struct msg_item *m = q->rec.nmsgs ? &q->msgs[q->rec.nmsgs - 1] : NULL;
	uint32_t len = m ? m->len : 0;
	uint8_t *buf = calloc(1, sizeof(int64_t) + len);
	int64_t off;
	int err;

	if (!buf)
		return -ENOMEM;
	*(int64_t *)buf = m ? m->type : q->own_type;
	if (m)
		memcpy(buf + sizeof(int64_t), m->text, len);
	off = plan_data(bp, buf, sizeof(int64_t) + len);
	free(buf);
	if (off < 0)
		return -ENOMEM;
	err = plan_call(bp, 0, 1U << 1, SYS_msgsnd, (uint64_t)q->rec.msqid, (uint64_t)off, len,
			IPC_NOWAIT, 0, 0, "send to System V message queue %d", q->rec.msqid);
	return err;
}

/* The last receiver takes the tree's own message; it waits for it when
 * another process of the tree sends it. */
static int plan_receive(const struct ck_image *img, struct blob_plan *bp, struct ck_proc *p,
			struct sysv_msg *q)
{
	bool wait =
		!q->rec.nmsgs && sysvipc_is_live(img, q->rec.lspid) && q->rec.lspid != p->rec.pid;
	int64_t off = plan_reserve(bp, sizeof(int64_t), sizeof(int64_t));

	if (off < 0)
		return -ENOMEM;
	return plan_call(bp, 0, 1U << 1, SYS_msgrcv, (uint64_t)q->rec.msqid, (uint64_t)off, 0,
			 (uint64_t)q->own_type, wait ? 0 : IPC_NOWAIT, 0,
			 "receive from System V message queue %d", q->rec.msqid);
}

/* Whether p was the last sender (or receiver) of the queue o. */
static bool is_op_of(const struct ck_image *img, struct ck_obj *o, const struct ck_proc *p,
		     bool receiver)
{
	const struct sysv_msg *q = (const struct sysv_msg *)o;
	pid_t pid;

	if (!o || o->kind != OBJ_SYSV_MSG)
		return false;
	pid = receiver ? q->rec.lrpid : q->rec.lspid;
	return pid == p->rec.pid && sysvipc_is_live(img, pid);
}

/* Sends first, then receives: a receiver that waits waits for a process
 * that sends without waiting. */
static int plan(struct rst_ctx *ctx, struct ck_proc *p, struct blob_plan *bp, enum plan_phase phase)
{
	struct ck_image *img = ctx->img;
	int err = 0;

	if (phase != PLAN_SETUP)
		return 0;
	for (uint32_t id = 1; id <= img->objs.count && !err; id++) {
		struct ck_obj *o = objhash_by_id(&img->objs, id);

		if (is_op_of(img, o, p, false))
			err = plan_send(bp, (struct sysv_msg *)o);
	}
	for (uint32_t id = 1; id <= img->objs.count && !err; id++) {
		struct ck_obj *o = objhash_by_id(&img->objs, id);

		if (is_op_of(img, o, p, true))
			err = plan_receive(img, bp, p, (struct sysv_msg *)o);
	}
	return err;
}

/* After the last process's lists: an empty queue whose last sender is in
 * the tree and last receiver is not loses the sender's message; the tree
 * runs with its queues: keep them. */
static int finish(struct rst_ctx *ctx, struct ck_proc *p)
{
	struct ck_image *img = ctx->img;
	int64_t type;

	for (uint32_t i = (uint32_t)(p - img->procs) + 1; i < img->nprocs; i++)
		if (!(img->procs[i].rec.flags & CKPT_PROC_ZOMBIE))
			return 0;
	for (uint32_t id = 1; id <= img->objs.count; id++) {
		struct ck_obj *o = objhash_by_id(&img->objs, id);
		struct sysv_msg *q = (struct sysv_msg *)o;

		if (!o || o->kind != OBJ_SYSV_MSG)
			continue;
		if (!q->rec.nmsgs && sysvipc_is_live(img, q->rec.lspid) &&
		    !sysvipc_is_live(img, q->rec.lrpid) &&
		    msgrcv(q->rec.msqid, &type, 0, q->own_type, IPC_NOWAIT) < 0) {
			int err = -errno;

			log_err("cannot empty System V message queue %d: %s", q->rec.msqid,
				strerror(errno));
			return err;
		}
		q->committed = true;
	}
	return 0;
}

/* ---- show ---- */

static void show_queue(struct show_ctx *sh, const struct sysv_msg *q)
{
	show_obj_begin(sh, NULL, false);
	show_i64(sh, "msqid", q->rec.msqid);
	show_fmt(sh, "key", "0x%08x", (unsigned int)q->rec.key);
	show_fmt(sh, "mode", "%03o", q->rec.mode);
	show_u64(sh, "uid", q->rec.uid);
	show_u64(sh, "gid", q->rec.gid);
	show_u64(sh, "cuid", q->rec.cuid);
	show_u64(sh, "cgid", q->rec.cgid);
	show_u64(sh, "qbytes", q->rec.qbytes);
	show_i64(sh, "lspid", q->rec.lspid);
	show_i64(sh, "lrpid", q->rec.lrpid);
	show_list_begin(sh, "messages");
	for (uint32_t i = 0; i < q->rec.nmsgs; i++) {
		show_obj_begin(sh, NULL, true);
		show_i64(sh, "type", q->msgs[i].type);
		show_u64(sh, "bytes", q->msgs[i].len);
		show_obj_end(sh);
	}
	show_list_end(sh);
	show_obj_end(sh);
}

static void show(struct show_ctx *sh, struct ck_image *img, struct ck_proc *p)
{
	bool any = false;

	for (uint32_t id = 1; id <= img->objs.count; id++) {
		struct ck_obj *o = objhash_by_id(&img->objs, id);

		if (!is_queue_of(o, p))
			continue;
		if (!any)
			show_list_begin(sh, "sysv_message_queues");
		any = true;
		show_queue(sh, (const struct sysv_msg *)o);
	}
	if (any)
		show_list_end(sh);
}

static const uint32_t types[] = { CKPT_REC_SYSV_MSG, 0 };

const struct res_ops sysvmsg_ops = {
	.name = "sysvmsg",
	.types = types,
	.collect = collect,
	.write = write_rec,
	.read = read_rec,
	.check = check,
	.prepare = prepare,
	.plan = plan,
	.finish = finish,
	.show = show,
};
