/*
 * fd_pidfd.c: pidfds (pidfd_open, clone's CLONE_PIDFD) of a process of the
 * tree, or of one of its threads (PIDFD_THREAD), and pidfds of a process
 * that has exited and been reaped (fdinfo "Pid: -1").
 *
 * A pidfd of a live process (a zombie included) is opened by the holder
 * itself with pidfd_open once every process of the tree exists (plan_open).
 * A thread pidfd must name a thread of the process that holds it: threads
 * of other processes are created concurrently with the holder's restore.
 * A pidfd of a process outside the tree is refused.
 *
 * A pidfd of a reaped process is opened in ckpt: a child forked for it
 * exits at once, its pidfds are taken before ckpt reaps it, one for each
 * description of that process (those whose inode was the same: pidfs
 * gives the pidfds of one process one inode). Such a pidfd is
 * readable (POLLIN: the process exited), and waitid(P_PIDFD) on it fails
 * with ECHILD, as it did on the original, whose process nobody could wait
 * for any more; its exit status, which PIDFD_GET_INFO tells, is the same
 * (a signal's without the core-dump flag).
 *
 * Several descriptors of one process reaching one pidfd stay one
 * description; a pidfd that several processes share becomes one
 * description per process (its only state is O_NONBLOCK).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "res/files.h"
#include "util/compat.h"
#include "util/log.h"

static bool is_pidfd(const struct fd_probe *pr)
{
	return !strcmp(pr->target, "anon_inode:[pidfd]") || !strncmp(pr->target, "pidfd:", 6);
}

static const struct ck_thread *thread_of(const struct ck_proc *p, pid_t tid)
{
	for (uint32_t t = 0; t < p->nthreads; t++)
		if (p->threads[t].rec.tid == tid)
			return &p->threads[t];
	return NULL;
}

/* The process of the tree with a thread tid (its main thread: pid). */
static const struct ck_proc *proc_of_tid(const struct ck_image *img, pid_t tid)
{
	const struct ck_proc *p = model_find_proc(img, tid);

	if (p)
		return p;
	for (uint32_t i = 0; i < img->nprocs; i++)
		if (thread_of(&img->procs[i], tid))
			return &img->procs[i];
	return NULL;
}

/* The wait status a reaped process exited with, as PIDFD_GET_INFO tells
 * it through a copy of the holder's pidfd, when the kernel kept it. */
static void collect_status(const struct fd_probe *pr, struct ckpt_file_pidfd *d)
{
	struct pidfd_info info = { .mask = PIDFD_INFO_EXIT };
	int holder = (int)syscall(SYS_pidfd_open, pr->p->rec.pid, 0);
	int fd = holder >= 0 ? (int)syscall(SYS_pidfd_getfd, holder, pr->fd, 0) : -1;

	if (fd >= 0 && !ioctl(fd, PIDFD_GET_INFO, &info) && info.mask & PIDFD_INFO_EXIT) {
		d->flags |= CKPT_PIDFD_STATUS;
		d->status = info.exit_code;
	}
	if (fd >= 0)
		close(fd);
	if (holder >= 0)
		close(holder);
}

static int collect(struct dump_ctx *ctx, const struct fd_probe *pr, struct ck_file *f)
{
	struct ckpt_file_pidfd *d = calloc(1, sizeof(*d));
	const struct ck_proc *owner;
	char why[96];
	pid_t pid;
	int err;

	if (!d)
		return -ENOMEM;
	f->priv = d;
	f->rec.kind = CKPT_FILE_PIDFD;
	if (pr->fi.flags & PIDFD_THREAD)
		d->flags |= CKPT_PIDFD_THREAD;
	err = proc_parse_pidfd_fdinfo(pr->fdinfo, &pid);
	if (err)
		return fd_refuse(pr, "pidfd", "its fdinfo does not say which process it is of");
	d->ino = pr->st.st_ino;
	if (pid == -1) {
		d->flags |= CKPT_PIDFD_EXITED;
		collect_status(pr, d);
		return 0;
	}
	owner = pid > 0 ? proc_of_tid(ctx->img, pid) : NULL;
	if (!owner) {
		snprintf(why, sizeof(why), "it is of %s%d, outside the tree",
			 pid ? "pid " : "a process of another pid namespace than ckpt's, ", pid);
		return fd_refuse(pr, "pidfd", why);
	}
	if (owner->rec.pid != pid && owner != pr->p) {
		snprintf(why, sizeof(why),
			 "it is of thread %d of pid %d, another process: not supported", pid,
			 owner->rec.pid);
		return fd_refuse(pr, "pidfd", why);
	}
	d->pid = pid;
	return 0;
}

/* A thread pidfd inherited by another process than the thread's. */
static int reach(struct dump_ctx *ctx, const struct fd_probe *pr, struct ck_file *f)
{
	const struct ckpt_file_pidfd *d = f->priv;
	const struct ck_proc *owner = d->pid > 0 ? proc_of_tid(ctx->img, d->pid) : NULL;
	char why[96];

	if (!owner || owner->rec.pid == d->pid || owner == pr->p)
		return 0;
	snprintf(why, sizeof(why), "it is of thread %d of pid %d, another process: not supported",
		 d->pid, owner->rec.pid);
	return fd_refuse(pr, "pidfd", why);
}

static int write_rec(struct img_writer *w, struct ck_file *f)
{
	struct iovec iov = { .iov_base = f->priv, .iov_len = sizeof(struct ckpt_file_pidfd) };

	return fd_write_rec(w, CKPT_REC_FILE_PIDFD, f, &iov, 1);
}

static int read_rec(struct ck_image *img, struct ck_file *f, const void *data, uint32_t len)
{
	const struct ckpt_rec_file *r = data;
	struct ckpt_file_pidfd *d;
	int err = res_check_len(CKPT_REC_FILE_PIDFD, len, sizeof(*r) + sizeof(*d), 0);

	if (err)
		return err;
	d = malloc(sizeof(*d));
	if (!d)
		return -ENOMEM;
	memcpy(d, r + 1, sizeof(*d));
	f->priv = d;
	if (d->flags & ~CKPT_PIDFD_FLAGS_ALL || f->rec.flags & ~(O_RDWR | O_NONBLOCK) ||
	    !(d->flags & CKPT_PIDFD_EXITED) != (d->pid > 0) ||
	    (d->flags & CKPT_PIDFD_STATUS &&
	     (!(d->flags & CKPT_PIDFD_EXITED) ||
	      !(WIFEXITED(d->status) || (WIFSIGNALED(d->status) && WTERMSIG(d->status) < 65)))))
		return res_bad(CKPT_REC_FILE_PIDFD, "is malformed");
	/* a thread's pid is checked against its holder's threads at restart */
	if (d->pid > 0 && !(d->flags & CKPT_PIDFD_THREAD) && !model_find_proc(img, d->pid))
		return res_bad(CKPT_REC_FILE_PIDFD, "is of a process not in the image");
	return 0;
}

static unsigned int open_flags(const struct ck_file *f)
{
	const struct ckpt_file_pidfd *d = f->priv;

	return (f->rec.flags & O_NONBLOCK) | (d->flags & CKPT_PIDFD_THREAD ? PIDFD_THREAD : 0);
}

static bool is_exited_sibling(const struct ck_obj *o, const struct ck_file *f)
{
	const struct ck_file *g = (const struct ck_file *)o;
	const struct ckpt_file_pidfd *d = f->priv, *e;

	if (!o || o->kind != OBJ_FILE || g->ops != f->ops || o->fd >= 0)
		return false;
	e = g->priv;
	return e->flags & CKPT_PIDFD_EXITED && e->ino == d->ino;
}

/* The child: exits with the saved status (a signal's without a core dump,
 * which the status then lacks). */
static void exit_as(const struct ckpt_file_pidfd *d)
{
	struct rlimit none = { 0, 0 };
	sigset_t all;
	int sig;

	if (!(d->flags & CKPT_PIDFD_STATUS) || WIFEXITED(d->status))
		_exit(d->flags & CKPT_PIDFD_STATUS ? WEXITSTATUS(d->status) : 0);
	sig = WTERMSIG(d->status);
	setrlimit(RLIMIT_CORE, &none);
	signal(sig, SIG_DFL);
	sigfillset(&all);
	sigprocmask(SIG_UNBLOCK, &all, NULL);
	raise(sig);
	_exit(128 + sig);
}

/* In ckpt, for a reaped process: a child that exits at once, whose pidfds
 * are taken before ckpt reaps it, one for each description of that
 * process (pidfds of one process share their inode, as they did). */
static int open_exited(struct rst_ctx *ctx, struct ck_proc *p, int fd, struct ck_file *f)
{
	const struct ckpt_file_pidfd *d = f->priv;
	struct objhash *h = &ctx->img->objs;
	int err = 0;
	pid_t child;

	if (!(d->flags & CKPT_PIDFD_EXITED))
		return 0; /* the process opens it */
	child = fork();
	if (child == 0)
		exit_as(d);
	if (child < 0) {
		err = -errno;
		log_err("pid %d fd %d: pidfd: cannot fork a process to exit: %s", p->rec.pid, fd,
			strerror(errno));
		return err;
	}
	for (size_t i = 0; i < h->count && !err; i++) {
		struct ck_file *g = (struct ck_file *)h->by_id[i];
		int pfd;

		if (!is_exited_sibling(h->by_id[i], f))
			continue;
		pfd = (int)syscall(SYS_pidfd_open, child, open_flags(g));
		if (pfd < 0)
			err = -errno;
		else
			g->obj.fd = pfd;
	}
	while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
		;
	if (err)
		log_err("pid %d fd %d: pidfd: cannot open one of an exited process: %s", p->rec.pid,
			fd, strerror(-err));
	return err;
}

static int plan_open(struct rst_ctx *ctx, struct ck_proc *p, int fd, struct ck_file *f,
		     struct blob_plan *bp)
{
	const struct ckpt_file_pidfd *d = f->priv;
	int at, err;

	if (d->pid != p->rec.pid && (d->flags & CKPT_PIDFD_THREAD) && !thread_of(p, d->pid) &&
	    !model_find_proc(ctx->img, d->pid)) {
		log_err("pid %d fd %d: pidfd: it is of thread %d, not one of this process",
			p->rec.pid, fd, d->pid);
		return -EBADMSG;
	}
	at = fd_plan_number(bp, p, fd);
	if (at < 0)
		return at;
	err = plan_call(bp, 0, 0, SYS_pidfd_open, (uint64_t)d->pid, open_flags(f), 0, 0, 0, 0,
			"open a pidfd of %d for fd %d", d->pid, fd);
	return err ? err : fd_plan_move(bp, p, fd, at);
}

static void show(struct show_ctx *s, const struct ck_file *f)
{
	const struct ckpt_file_pidfd *d = f->priv;

	if (d->flags & CKPT_PIDFD_STATUS && WIFEXITED(d->status))
		show_i64(s, "exit_status", WEXITSTATUS(d->status));
	else if (d->flags & CKPT_PIDFD_STATUS)
		show_i64(s, "killed_by", WTERMSIG(d->status));
	if (d->flags & CKPT_PIDFD_EXITED)
		show_bool(s, "exited", true);
	else
		show_i64(s, "pid", d->pid);
	if (d->flags & CKPT_PIDFD_THREAD)
		show_bool(s, "thread", true);
	show_u64(s, "ino", d->ino);
}

static void release(struct ck_file *f)
{
	free(f->priv);
}

static const uint32_t kinds[] = { CKPT_FILE_PIDFD, 0 };

const struct fd_ops fd_pidfd_ops = {
	.name = "pidfd",
	.kinds = kinds,
	.rec_type = CKPT_REC_FILE_PIDFD,
	.is = is_pidfd,
	.collect = collect,
	.reach = reach,
	.write = write_rec,
	.read = read_rec,
	.open = open_exited,
	.plan_open = plan_open,
	.show = show,
	.release = release,
};
