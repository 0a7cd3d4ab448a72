/*
 * fd_owner.c: whom an open file description signals and with what signal
 * (F_SETOWN_EX and F_SETSIG, for O_ASYNC I/O and leases), a part of the
 * descriptor table resource (files.c calls it at each step). Checkpoint
 * reads them from a copy of the descriptor ckpt takes (pidfd_getfd), no
 * remote syscall; an owner must be a process, thread or process group of
 * the tree. A CKPT_REC_FILE_OWNER record follows the description's own.
 * Restart has each process that holds the description set them, once
 * every process and process group of the tree exists.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "res/files.h"
#include "util/log.h"

static bool is_tree_pgrp(const struct ck_image *img, pid_t pgid)
{
	for (uint32_t i = 0; i < img->nprocs; i++)
		if (img->procs[i].rec.pgid == pgid)
			return true;
	return false;
}

static const struct ck_proc *proc_of_thread(const struct ck_image *img, pid_t tid)
{
	for (uint32_t i = 0; i < img->nprocs; i++)
		for (uint32_t t = 0; t < img->procs[i].nthreads; t++)
			if (img->procs[i].threads[t].rec.tid == tid)
				return &img->procs[i];
	return NULL;
}

/* Whom the description signals (F_GETOWN_EX) and with what (F_GETSIG),
 * read from a copy of the descriptor that ckpt takes (pidfd_getfd): an
 * owner must be of the tree. */
int fd_owner_collect(struct dump_ctx *ctx, const struct fd_probe *pr, int pidfd, struct ck_file *f)
{
	struct f_owner_ex own = { 0 };
	const struct ck_proc *of;
	int fd, sig = 0, err = 0;
	bool known = false;
	char why[128];

	if (pr->fi.flags & O_PATH)
		return 0; /* it can have neither */
	fd = (int)syscall(SYS_pidfd_getfd, pidfd, pr->fd, 0);
	if (fd < 0 || fcntl(fd, F_GETOWN_EX, &own) < 0 || (sig = fcntl(fd, F_GETSIG)) < 0)
		err = -errno;
	if (fd >= 0)
		close(fd);
	if (err) {
		log_err("pid %d fd %d: cannot read its owner: %s", pr->p->rec.pid, pr->fd,
			strerror(-err));
		return err;
	}
	f->owner.sig = (uint32_t)sig;
	if (own.pid <= 0)
		return 0;
	switch (own.type) {
	case F_OWNER_PID:
		known = model_find_proc(ctx->img, own.pid);
		break;
	case F_OWNER_PGRP:
		known = is_tree_pgrp(ctx->img, own.pid);
		break;
	case F_OWNER_TID:
		of = proc_of_thread(ctx->img, own.pid);
		if (of && of != pr->p && of->rec.pid != own.pid) {
			snprintf(why, sizeof(why),
				 "its owner (F_SETOWN_EX) is thread %d of pid %d, another process: "
				 "not supported",
				 own.pid, of->rec.pid);
			return fd_refuse(pr, pr->target, why);
		}
		known = of;
		break;
	}
	if (!known) {
		snprintf(why, sizeof(why), "its owner (F_SETOWN) is %s %d, outside the tree",
			 own.type == F_OWNER_PGRP ? "process group" : "pid", own.pid);
		return fd_refuse(pr, pr->target, why);
	}
	f->owner.type = own.type == F_OWNER_PID	   ? CKPT_OWNER_PID
			: own.type == F_OWNER_PGRP ? CKPT_OWNER_PGRP
						   : CKPT_OWNER_TID;
	f->owner.pid = own.pid;
	return 0;
}

/* A thread owner must be a thread of the process that holds it: another
 * process reaching the description is refused. */
int fd_owner_reach(const struct ck_image *img, const struct fd_probe *pr, const struct ck_file *f)
{
	if (f->owner.type != CKPT_OWNER_TID || !f->owner.pid ||
	    model_find_proc(img, f->owner.pid) || proc_of_thread(img, f->owner.pid) == pr->p)
		return 0;
	return fd_refuse(pr, pr->target,
			 "its owner (F_SETOWN_EX) is a thread of another process: not supported");
}

int fd_owner_write(struct img_writer *w, struct ck_file *f)
{
	f->owner.file_id = f->obj.id;
	if (!f->owner.pid && !f->owner.sig)
		return 0;
	return img_write_rec1(w, CKPT_REC_FILE_OWNER, &f->owner, sizeof(f->owner));
}

/* CKPT_REC_FILE_OWNER; a thread owner is checked at restart, once the
 * threads are read. */
int fd_owner_read(struct ck_image *img, const void *data, uint32_t len)
{
	const struct ckpt_rec_file_owner *r = data;
	struct ck_obj *o;
	struct ck_file *f;
	int err = res_check_len(CKPT_REC_FILE_OWNER, len, sizeof(*r), 0);

	if (err)
		return err;
	o = objhash_by_id(&img->objs, r->file_id);
	f = o && o->kind == OBJ_FILE ? (struct ck_file *)o : NULL;
	if (!f || f->owner.file_id)
		return res_bad(CKPT_REC_FILE_OWNER, "refers to an unknown file");
	if (r->type < CKPT_OWNER_TID || r->type > CKPT_OWNER_PGRP || r->pid < 0 || r->sig > 64 ||
	    (!r->pid && (r->type || !r->sig)) ||
	    (r->type == CKPT_OWNER_PID && !model_find_proc(img, r->pid)) ||
	    (r->type == CKPT_OWNER_PGRP && !is_tree_pgrp(img, r->pid)))
		return res_bad(CKPT_REC_FILE_OWNER, "is malformed");
	f->owner = *r;
	return 0;
}

/* The owner and signal of a description, set by each process that holds
 * it once every process (and process group) of the tree exists. The kernel
 * keeps the credentials of whoever sets the owner, to check its signals
 * against: those of the restorer, root, here. */
int fd_owner_plan(const struct ck_image *img, struct ck_proc *p, const struct ck_fd *d,
		  struct blob_plan *bp)
{
	const struct ckpt_rec_file_owner *o = &d->file->owner;
	struct f_owner_ex own = { .pid = o->pid };
	int64_t off;
	int err = 0;

	if (o->pid) {
		if (o->type == CKPT_OWNER_TID && !model_find_proc(img, o->pid) &&
		    proc_of_thread(img, o->pid) != p) {
			log_err("pid %d fd %d: its owner is thread %d, not one of this process",
				p->rec.pid, d->rec.fd, o->pid);
			return -EBADMSG;
		}
		own.type = o->type == CKPT_OWNER_PID	? F_OWNER_PID
			   : o->type == CKPT_OWNER_PGRP ? F_OWNER_PGRP
							: F_OWNER_TID;
		off = plan_data(bp, &own, sizeof(own));
		if (off < 0)
			return -ENOMEM;
		err = plan_call(bp, 0, 1U << 2, SYS_fcntl, (uint64_t)d->rec.fd, F_SETOWN_EX,
				(uint64_t)off, 0, 0, 0, "set fd %d's owner to %d", d->rec.fd,
				o->pid);
	}
	if (!err && o->sig)
		err = plan_call(bp, 0, 0, SYS_fcntl, (uint64_t)d->rec.fd, F_SETSIG, o->sig, 0, 0, 0,
				"set fd %d's signal to %u", d->rec.fd, o->sig);
	return err;
}

void fd_owner_show(struct show_ctx *s, const struct ck_file *f)
{
	static const char *const types[] = { "thread", "process", "group" };

	if (f->owner.pid) {
		show_str(s, "owner_type", types[f->owner.type]);
		show_i64(s, "owner", f->owner.pid);
	}
	if (f->owner.sig)
		show_u64(s, "signal", f->owner.sig);
}
