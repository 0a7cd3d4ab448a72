/*
 * files.c: the descriptor table of each process, and the open file
 * descriptions behind it.
 *
 * Each descriptor is a number, its close-on-exec flag and the description
 * it reaches. A description (OBJ_FILE in the objhash) is saved once however
 * many descriptors and processes share it (dup, fork: kcmp tells the same
 * description apart from another open of the same file; descriptions of
 * one inode are kept in kcmp's order, to be found in logarithmic time),
 * with its access mode, status flags and offset; what else it holds
 * belongs to its kind, one file per kind behind struct fd_ops (files.h),
 * chosen in fd_kinds order. A terminal, pipe or socket on descriptor 0, 1
 * or 2 whose kind does not take it is external: restart connects the
 * descriptor of the same number of the restarting ckpt. Everything else is
 * refused at checkpoint, naming the descriptor and its kind. Owners and
 * signals of descriptions (F_SETOWN_EX, F_SETSIG) are kept by fd_owner.c;
 * file locks, of the descriptions (flock, OFD) and of the processes
 * (POSIX), by fd_locks.c.
 *
 * At restart ckpt opens each description once (or the process itself
 * opens it, for kinds that name a process: fd_plan_number and
 * fd_plan_move); the new processes inherit them and install their own
 * copies at the saved numbers, then set owners and signals.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/kcmp.h>
#include "res/files.h"
#include "util/io.h"
#include "util/log.h"

#define MAX_FD (1 << 20)
#define OPEN_FLAGS_KEPT                                                                            \
	(O_ACCMODE | O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME | O_SYNC | O_DSYNC | O_PATH |    \
	 O_DIRECTORY | O_NOFOLLOW | O_LARGEFILE)

extern const struct fd_ops fd_pipe_ops, fd_reg_ops;
extern const struct fd_ops fd_eventfd_ops, fd_signalfd_ops, fd_timerfd_ops;
extern const struct fd_ops fd_epoll_ops, fd_inotify_ops;
extern const struct fd_ops fd_pidfd_ops, fd_procfs_ops, fd_deleted_ops, fd_mqueue_ops;
extern const struct fd_ops fd_unix_ops;

/* Checkpoint asks each kind in this order whether a description is its
 * (anon inodes and message queues may stat as regular files, and an
 * unlinked queue reads "(deleted)": their kinds come before deleted and
 * regular files). */
static const struct fd_ops *const fd_kinds[] = {
	&fd_pipe_ops,	&fd_eventfd_ops, &fd_signalfd_ops, &fd_timerfd_ops,
	&fd_epoll_ops,	&fd_inotify_ops, &fd_pidfd_ops,	   &fd_procfs_ops,
	&fd_mqueue_ops, &fd_unix_ops,	 &fd_deleted_ops,  &fd_reg_ops,
	NULL,
};

static const struct fd_ops *kind_of_rec(uint32_t type, uint32_t kind)
{
	for (size_t i = 0; fd_kinds[i]; i++) {
		if (fd_kinds[i]->rec_type != type)
			continue;
		for (const uint32_t *k = fd_kinds[i]->kinds; *k; k++)
			if (*k == kind)
				return fd_kinds[i];
	}
	return NULL;
}

static bool is_tty_major(unsigned int maj)
{
	return maj == 4 || maj == 5 || (maj >= 136 && maj <= 143);
}

static void release_file(struct ck_obj *obj)
{
	struct ck_file *f = (struct ck_file *)obj;

	if (f->ops && f->ops->release)
		f->ops->release(f);
	if (obj->fd >= 0)
		close(obj->fd);
	free(f->path);
	free(f->peers);
	free(f);
}

static struct ck_file *new_file(const struct fd_ops *ops)
{
	struct ck_file *f = calloc(1, sizeof(*f));

	if (f) {
		f->obj.kind = OBJ_FILE;
		f->obj.fd = -1;
		f->obj.release = release_file;
		f->ops = ops;
	}
	return f;
}

int fd_refuse(const struct fd_probe *pr, const char *what, const char *why)
{
	log_err("pid %d fd %d: %s: %s", pr->p->rec.pid, pr->fd, what, why);
	return -EOPNOTSUPP;
}

int fd_write_rec(struct img_writer *w, uint32_t type, struct ck_file *f, const struct iovec *iov,
		 int iovcnt)
{
	struct iovec all[8] = { { .iov_base = &f->rec, .iov_len = sizeof(f->rec) } };

	if (iovcnt < 0 || iovcnt > 7)
		return -EINVAL;
	for (int i = 0; i < iovcnt; i++)
		all[i + 1] = iov[i];
	f->rec.id = f->obj.id;
	return img_write_rec(w, type, all, iovcnt + 1);
}

int fd_write_plain(struct img_writer *w, struct ck_file *f)
{
	struct iovec path = { .iov_base = f->path, .iov_len = f->rec.path_len };

	return fd_write_rec(w, CKPT_REC_FILE, f, &path, 1);
}

struct ck_file *fd_file_of(const struct ck_proc *p, int fd)
{
	for (uint32_t i = 0; i < p->nfds; i++)
		if (p->fds[i].rec.fd == fd)
			return p->fds[i].file;
	return NULL;
}

/* ---- checkpoint ---- */

/* kcmp's order of the descriptions behind descriptor fd of pid and f: -1,
 * 0 (the same description) or 1; 0x7f when kcmp fails (errno says why). */
static int kcmp_order(pid_t pid, int fd, const struct ck_file *f)
{
	long r = syscall(SYS_kcmp, pid, f->dump_pid, KCMP_FILE, fd, f->dump_fd);

	if (r == 3)
		errno = EINVAL;
	return r == 0 ? 0 : r == 1 ? -1 : r == 2 ? 1 : 0x7f;
}

static bool is_head(struct ck_obj *obj, void *arg)
{
	(void)arg;
	return ((struct ck_file *)obj)->peers != NULL;
}

/* The description behind descriptor fd of pid among head's peers (the
 * descriptions of one inode): *ret is it, or NULL and *ret_at is where it
 * goes in their order. */
static int find_peer(const struct ck_file *head, pid_t pid, int fd, struct ck_file **ret,
		     uint32_t *ret_at)
{
	uint32_t lo = 0, hi = head->npeers;

	*ret = NULL;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = kcmp_order(pid, fd, head->peers[mid]);

		if (c == 0x7f) {
			int err = -errno;

			log_err("pid %d fd %d: cannot compare it with pid %d fd %d: %s", pid, fd,
				head->peers[mid]->dump_pid, head->peers[mid]->dump_fd,
				strerror(-err));
			return err;
		}
		if (c == 0) {
			*ret = head->peers[mid];
			return 0;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*ret_at = lo;
	return 0;
}

static int add_peer(struct ck_file *head, struct ck_file *f, uint32_t at)
{
	struct ck_file **n = realloc(head->peers, (head->npeers + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	memmove(n + at + 1, n + at, (head->npeers - at) * sizeof(*n));
	n[at] = f;
	head->peers = n;
	head->npeers++;
	return 0;
}

static int add_fd(struct ck_proc *p, const struct ckpt_rec_fd *rec, struct ck_file *file)
{
	struct ck_fd *n = realloc(p->fds, (p->nfds + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	p->fds = n;
	n[p->nfds].rec = *rec;
	n[p->nfds].file = file;
	p->nfds++;
	return 0;
}

/* The kind name of what a descriptor link points to: "pipe", "eventfd", ... */
static const char *kind_of_link(const char *target, char *buf, size_t len)
{
	const char *b = strchr(target, '['), *e = strchr(target, ']');

	if (!strncmp(target, "anon_inode:", 11)) {
		target += 11;
		if (b && e && e > b)
			snprintf(buf, len, "%.*s", (int)(e - b - 1), b + 1);
		else
			snprintf(buf, len, "%.*s", (int)len - 1, target);
		return buf;
	}
	if (b && target[0] != '/') {
		snprintf(buf, len, "%.*s", (int)(b - target - 1), target);
		return buf;
	}
	return target;
}

static const struct fd_ops *kind_of_probe(const struct fd_probe *pr)
{
	for (size_t i = 0; fd_kinds[i]; i++)
		if (fd_kinds[i]->is(pr))
			return fd_kinds[i];
	return NULL;
}

/* A terminal, pipe or socket on 0-2 that no kind takes is connected
 * outside the tree. */
static int external(struct ck_proc *p, struct ckpt_rec_fd *rec, const struct fd_probe *pr)
{
	const struct stat *st = &pr->st;
	bool tty = S_ISCHR(st->st_mode) && is_tty_major(major(st->st_rdev));

	if (pr->fd > 2 || !(tty || S_ISFIFO(st->st_mode) || S_ISSOCK(st->st_mode)))
		return fd_refuse(pr, S_ISCHR(st->st_mode) ? pr->target : pr->kind, "not supported");
	rec->flags |= CKPT_FD_EXTERNAL;
	rec->ext_kind = S_ISFIFO(st->st_mode)	? CKPT_EXT_PIPE
			: S_ISSOCK(st->st_mode) ? CKPT_EXT_SOCKET
						: CKPT_EXT_TTY;
	return add_fd(p, rec, NULL);
}

static int collect_new(struct dump_ctx *ctx, const struct fd_probe *pr, int pidfd,
		       const struct fd_ops *ops, struct ck_file **ret)
{
	struct ck_file *f = new_file(ops);
	int err;

	if (!f)
		return -ENOMEM;
	f->dump_pid = pr->p->rec.pid;
	f->dump_fd = pr->fd;
	f->obj.key[0] = pr->st.st_dev;
	f->obj.key[1] = pr->st.st_ino;
	f->rec.flags = pr->fi.flags & OPEN_FLAGS_KEPT;
	f->rec.pos = pr->fi.pos;
	f->rec.mode = pr->st.st_mode;
	err = ops->collect(ctx, pr, f);
	if (!err)
		err = fd_owner_collect(ctx, pr, pidfd, f);
	if (!err)
		err = objhash_add(&ctx->img->objs, &f->obj);
	if (err) {
		release_file(&f->obj);
		return err;
	}
	*ret = f;
	return 0;
}

static int collect_one(struct dump_ctx *ctx, struct ck_proc *p, int pidfd, int fd)
{
	struct ckpt_rec_fd rec = { .fd = fd };
	char link[64], target[4096], kindbuf[64], *text = NULL;
	struct fd_probe pr = { .p = p, .fd = fd, .link = link, .target = target };
	struct ck_file *f, *head;
	const struct fd_ops *ops;
	uint32_t at = 0;
	bool first = false;
	int err;

	snprintf(link, sizeof(link), "/proc/%d/fd/%d", p->rec.pid, fd);
	err = io_readlink(link, target, sizeof(target));
	if (!err && stat(link, &pr.st))
		err = -errno;
	if (!err) {
		snprintf(kindbuf, sizeof(kindbuf), "/proc/%d/fdinfo/%d", p->rec.pid, fd);
		err = io_slurp(kindbuf, &text, NULL);
	}
	if (!err)
		err = proc_parse_fdinfo(text, &pr.fi);
	if (err) {
		log_err("pid %d fd %d: cannot inspect it: %s", p->rec.pid, fd, strerror(-err));
		goto out;
	}
	pr.fdinfo = text;
	pr.kind = kind_of_link(target, kindbuf, sizeof(kindbuf));
	if (pr.fi.flags & O_CLOEXEC)
		rec.flags |= CKPT_FD_CLOEXEC;
	ops = kind_of_probe(&pr);
	if (!ops) {
		err = external(p, &rec, &pr);
		goto out;
	}
	head = (struct ck_file *)objhash_find(&ctx->img->objs, OBJ_FILE, pr.st.st_dev, pr.st.st_ino,
					      is_head, NULL);
	f = NULL;
	if (head)
		err = find_peer(head, p->rec.pid, fd, &f, &at);
	if (!err && !f) {
		first = true;
		err = collect_new(ctx, &pr, pidfd, ops, &f);
		if (!err)
			err = add_peer(head ? head : f, f, at);
	} else if (!err && f->ops->reach) {
		err = f->ops->reach(ctx, &pr, f);
	}
	if (!err)
		err = fd_owner_reach(ctx->img, &pr, f);
	if (!err && pr.fi.has_locks)
		err = fd_locks_collect(ctx->img, &pr, f, first);
	/* after the locks: a lease sets O_ASYNC, and is the better reason */
	if (!err && pr.fi.flags & O_ASYNC)
		err = fd_refuse(&pr, target, "O_ASYNC signal-driven I/O is not supported");
	if (!err) {
		rec.file_id = f->obj.id;
		err = add_fd(p, &rec, f);
	}
out:
	free(text);
	return err;
}

static int collect(struct dump_ctx *ctx, struct ck_proc *p)
{
	int *fds, pidfd, err = 0;
	size_t n;

	err = proc_list_fds(p->rec.pid, &fds, &n);
	if (err) {
		log_err("pid %d: cannot list its descriptors: %s", p->rec.pid, strerror(-err));
		return err;
	}
	pidfd = (int)syscall(SYS_pidfd_open, p->rec.pid, 0);
	if (pidfd < 0) {
		err = -errno;
		log_err("pid %d: cannot open a pidfd of it: %s", p->rec.pid, strerror(errno));
	}
	for (size_t i = 0; i < n && !err; i++)
		err = collect_one(ctx, p, pidfd, fds[i]);
	if (pidfd >= 0)
		close(pidfd);
	free(fds);
	return err;
}

int fd_write_file(struct img_writer *w, struct ck_file *f)
{
	int err;

	if (f->obj.written)
		return 0;
	err = f->ops->write ? f->ops->write(w, f) : fd_write_plain(w, f);
	if (!err)
		err = fd_owner_write(w, f);
	if (!err)
		f->obj.written = true;
	return err;
}

/* Descriptions whose state names other descriptors of the process that
 * first reached them (an epoll's entries), once each descriptor's fate is
 * settled. */
static int resolve_all(struct ck_image *img)
{
	for (uint32_t i = 0; i < img->nprocs; i++) {
		struct ck_proc *p = &img->procs[i];

		for (uint32_t k = 0; k < p->nfds; k++) {
			struct ck_file *f = p->fds[k].file;
			int err;

			if (!f || !f->ops->resolve || f->dump_pid != p->rec.pid ||
			    f->dump_fd != p->fds[k].rec.fd)
				continue;
			err = f->ops->resolve(p, f->dump_fd, f);
			if (err)
				return err;
		}
	}
	return 0;
}

/* Whether p's descriptor table is shared with another process of the
 * tree (CLONE_FILES). */
static bool shares_table(const struct ck_image *img, const struct ck_proc *p)
{
	if (p->rec.flags & CKPT_PROC_SHARES_FILES)
		return true;
	for (uint32_t i = 0; i < img->nprocs; i++)
		if (img->procs[i].rec.ppid == p->rec.pid &&
		    img->procs[i].rec.flags & CKPT_PROC_SHARES_FILES)
			return true;
	return false;
}

/* A shared table's temporary descriptors are closed by ckpt once every
 * process is restored, which would drop the POSIX locks taken before. */
static int check_shared_table_locks(const struct ck_image *img)
{
	for (uint32_t i = 0; i < img->nprocs; i++) {
		const struct ck_proc *p = &img->procs[i];

		for (uint32_t k = 0; k < p->nlocks; k++) {
			if (p->locks[k].rec.kind != CKPT_LOCK_POSIX || !shares_table(img, p))
				continue;
			log_err("pid %d: '%s': a POSIX lock of a descriptor table shared with "
				"another process (CLONE_FILES) is not supported",
				p->rec.pid, p->locks[k].file->path);
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

/* Descriptors whose fate needs the whole tree: a pipe on 0-2 is external
 * only when its other end is outside the tree. Then the descriptions that
 * name other descriptors find them. */
static int collect_done(struct dump_ctx *ctx)
{
	int err = check_shared_table_locks(ctx->img);

	if (err)
		return err;
	for (uint32_t i = 0; i < ctx->img->nprocs; i++) {
		struct ck_proc *p = &ctx->img->procs[i];

		for (uint32_t k = 0; k < p->nfds; k++) {
			struct ck_fd *d = &p->fds[k];
			int ret;

			if (!d->file || !d->file->ops->settle)
				continue;
			ret = d->file->ops->settle(ctx, p, d);
			if (ret < 0)
				return ret;
			if (ret != FD_EXTERNAL)
				continue;
			if (d->rec.fd > 2)
				return -EINVAL;
			d->rec.flags |= CKPT_FD_EXTERNAL;
			d->rec.ext_kind = S_ISFIFO(d->file->rec.mode)	? CKPT_EXT_PIPE
					  : S_ISSOCK(d->file->rec.mode) ? CKPT_EXT_SOCKET
									: CKPT_EXT_OTHER;
			d->rec.file_id = 0;
			d->file = NULL;
		}
	}
	return resolve_all(ctx->img);
}

static int write_rec(struct img_writer *w, struct ck_image *img, struct ck_proc *p)
{
	(void)img;
	for (uint32_t i = 0; i < p->nfds; i++) {
		struct ck_file *f = p->fds[i].file;
		int err = f ? fd_write_file(w, f) : 0;

		if (err)
			return err;
		err = img_write_rec1(w, CKPT_REC_FD, &p->fds[i].rec, sizeof(p->fds[i].rec));
		if (err)
			return err;
	}
	return fd_locks_write(w, p);
}

/* ---- image to model ---- */

static int read_file(struct ck_image *img, uint32_t type, const void *data, uint32_t len)
{
	const struct ckpt_rec_file *r = data;
	const char *path = (const char *)(r + 1);
	const struct fd_ops *ops;
	struct ck_file *f;
	int err;

	if (type == CKPT_REC_FILE)
		err = res_check_len(type, len, sizeof(*r), len >= sizeof(*r) ? r->path_len : 0);
	else
		err = len < sizeof(*r) ? res_bad(type, "is too short") : 0;
	if (err)
		return err;
	ops = kind_of_rec(type, r->kind);
	if (!ops || r->flags & ~OPEN_FLAGS_KEPT || (type != CKPT_REC_FILE && r->path_len) ||
	    (r->path_len && (path[0] != '/' || memchr(path, 0, r->path_len))))
		return res_bad(type, "is malformed");
	f = new_file(ops);
	if (!f)
		return -ENOMEM;
	f->rec = *r;
	f->obj.id = r->id;
	f->path = r->path_len ? res_strndup(path, r->path_len) : NULL;
	err = r->path_len && !f->path ? -ENOMEM : 0;
	if (!err && ops->read)
		err = ops->read(img, f, data, len);
	if (!err) {
		err = objhash_insert(&img->objs, &f->obj);
		if (err)
			err = res_bad(type, "reuses an object id");
	}
	if (err)
		release_file(&f->obj);
	return err;
}

static int read_rec(struct ck_image *img, struct ck_proc *p, struct ck_thread *t, uint32_t type,
		    const void *data, uint32_t len)
{
	const struct ckpt_rec_fd *r = data;
	struct ck_obj *obj = NULL;
	int err;

	(void)t;
	for (size_t i = 0; fd_kinds[i]; i++)
		for (const uint32_t *k = fd_kinds[i]->more_types; k && *k; k++)
			if (*k == type)
				return fd_kinds[i]->read_more(img, type, data, len);
	if (type == CKPT_REC_LOCKS)
		return fd_locks_read(img, p, data, len);
	if (type == CKPT_REC_FILE_OWNER)
		return fd_owner_read(img, data, len);
	if (type != CKPT_REC_FD)
		return read_file(img, type, data, len);
	err = res_check_len(type, len, sizeof(*r), 0);
	if (err)
		return err;
	if (!p || r->fd < 0 || r->fd >= MAX_FD || r->flags & ~(CKPT_FD_CLOEXEC | CKPT_FD_EXTERNAL))
		return res_bad(type, "is misplaced or malformed");
	for (uint32_t i = 0; i < p->nfds; i++)
		if (p->fds[i].rec.fd == r->fd)
			return res_bad(type, "repeats a descriptor");
	if (r->flags & CKPT_FD_EXTERNAL) {
		if (r->fd > 2 || r->file_id)
			return res_bad(type, "makes a descriptor other than 0-2 external");
	} else {
		obj = objhash_by_id(&img->objs, r->file_id);
		if (!obj || obj->kind != OBJ_FILE)
			return res_bad(type, "refers to an unknown file");
	}
	return add_fd(p, r, (struct ck_file *)obj);
}

static int validate(struct ck_image *img, struct ck_proc *p)
{
	(void)img;
	return fd_locks_validate(p);
}

/* ---- restart ---- */

static int check(struct rst_ctx *ctx, struct ck_proc *p)
{
	(void)ctx;
	for (uint32_t i = 0; i < p->nfds; i++) {
		int fd = p->fds[i].rec.fd;

		if (p->fds[i].file || fcntl(fd, F_GETFD) >= 0)
			continue;
		log_err("pid %d fd %d: it was external (connected outside the tree) and ckpt's own "
			"fd %d, which it would be connected to, is not open",
			p->rec.pid, fd, fd);
		return -EBADF;
	}
	return 0;
}

int fd_open_file(struct rst_ctx *ctx, struct ck_proc *p, int fd, struct ck_file *f)
{
	int err = f->obj.fd < 0 && f->ops->open ? f->ops->open(ctx, p, fd, f) : 0;

	if (!err && f->obj.fd < 0 && !f->ops->plan_open)
		return -EINVAL;
	return err;
}

/* Whether the process opens descriptor i itself (an earlier one of the
 * same description in the process is copied instead). */
static bool opens_itself(const struct ck_proc *p, uint32_t i)
{
	const struct ck_file *f = p->fds[i].file;

	return f && f->obj.fd < 0 && f->ops->plan_open;
}

static int first_fd_of(const struct ck_proc *p, uint32_t i)
{
	for (uint32_t j = 0; j < i; j++)
		if (p->fds[j].file == p->fds[i].file)
			return p->fds[j].rec.fd;
	return -1;
}

int fd_plan_number(struct blob_plan *bp, const struct ck_proc *p, int fd)
{
	uint32_t at = p->nfds;
	bool *taken;
	int n, err;

	for (uint32_t i = 0; i < p->nfds; i++)
		if (p->fds[i].rec.fd == fd)
			at = i;
	if (at == p->nfds)
		return -EINVAL;
	/* every descriptor is installed, or opened (or copied) in fds order;
	 * with nfds taken at most, the lowest free is at most nfds */
	taken = calloc(p->nfds + 1, sizeof(*taken));
	if (!taken)
		return -ENOMEM;
	for (uint32_t i = 0; i < p->nfds; i++)
		if ((uint32_t)p->fds[i].rec.fd <= p->nfds && (i < at || !opens_itself(p, i)))
			taken[p->fds[i].rec.fd] = true;
	for (n = 0; taken[n]; n++)
		;
	free(taken);
	err = plan_call(bp, BLOB_MAY_FAIL, 0, SYS_close, (uint64_t)n, 0, 0, 0, 0, 0,
			"free fd %d for fd %d", n, fd);
	return err ? err : n;
}

int fd_plan_move(struct blob_plan *bp, const struct ck_proc *p, int fd, int at)
{
	const struct ck_fd *d = NULL;
	int err;

	for (uint32_t i = 0; i < p->nfds; i++)
		if (p->fds[i].rec.fd == fd)
			d = &p->fds[i];
	if (!d)
		return -EINVAL;
	if (at == fd)
		return plan_call(bp, 0, 0, SYS_fcntl, (uint64_t)fd, F_SETFD,
				 d->rec.flags & CKPT_FD_CLOEXEC ? FD_CLOEXEC : 0, 0, 0, 0,
				 "set fd %d's close-on-exec flag", fd);
	err = plan_call(bp, 0, 0, SYS_dup3, (uint64_t)at, (uint64_t)fd,
			d->rec.flags & CKPT_FD_CLOEXEC ? O_CLOEXEC : 0, 0, 0, 0, "move fd %d to %d",
			at, fd);
	return err ? err
		   : plan_call(bp, 0, 0, SYS_close, (uint64_t)at, 0, 0, 0, 0, 0, "close fd %d", at);
}

static int prepare(struct rst_ctx *ctx, struct ck_proc *p)
{
	for (uint32_t i = 0; i < p->nfds; i++) {
		struct ck_fd *d = &p->fds[i];
		bool cloexec = d->rec.flags & CKPT_FD_CLOEXEC;
		int src = d->rec.fd, err = 0;

		if (d->file) {
			err = fd_open_file(ctx, p, d->rec.fd, d->file);
			if (!err && d->file->obj.fd < 0)
				continue; /* the process opens it itself */
			src = d->file->obj.fd;
		}
		if (!err)
			err = res_temp_register(ctx, src);
		if (!err)
			err = res_add_install(p->rst, d->rec.fd, src, cloexec);
		if (err)
			return err;
	}
	return fd_locks_prepare(p);
}

/* Each descriptor is a copy of the temporary one the process inherited,
 * or opened by the process itself; one that has its parent's descriptor
 * table leaves them to the parent. Once the temporaries are closed, the
 * process takes its POSIX locks (fd_locks.c). */
static int plan(struct rst_ctx *ctx, struct ck_proc *p, struct blob_plan *bp, enum plan_phase phase)
{
	int err = 0;

	if (phase == PLAN_FINAL)
		return fd_locks_plan(p, bp);
	if (phase != PLAN_SETUP || p->rec.flags & CKPT_PROC_SHARES_FILES)
		return 0;
	for (size_t i = 0; i < p->rst->ninstalls && !err; i++) {
		const struct fd_install *in = &p->rst->installs[i];

		err = plan_call(bp, 0, 0, SYS_dup3, res_temp(ctx, in->src), in->fd,
				in->cloexec ? O_CLOEXEC : 0, 0, 0, 0, "install fd %d", in->fd);
	}
	for (uint32_t i = 0; i < p->nfds && !err; i++) {
		struct ck_fd *d = &p->fds[i];
		int first = first_fd_of(p, i);

		if (!opens_itself(p, i))
			continue;
		if (first >= 0)
			err = plan_call(bp, 0, 0, SYS_dup3, (uint64_t)first, (uint64_t)d->rec.fd,
					d->rec.flags & CKPT_FD_CLOEXEC ? O_CLOEXEC : 0, 0, 0, 0,
					"copy fd %d to %d", first, d->rec.fd);
		else
			err = d->file->ops->plan_open(ctx, p, d->rec.fd, d->file, bp);
	}
	for (uint32_t i = 0; i < p->nfds && !err; i++)
		if (p->fds[i].file && first_fd_of(p, i) < 0)
			err = fd_owner_plan(ctx->img, p, &p->fds[i], bp);
	return err;
}

/* ---- show ---- */

static const char *access_name(uint32_t flags)
{
	if (flags & O_PATH)
		return "path";
	switch (flags & O_ACCMODE) {
	case O_RDONLY:
		return "read";
	case O_WRONLY:
		return "write";
	default:
		return "read-write";
	}
}

static void show(struct show_ctx *s, struct ck_image *img, struct ck_proc *p)
{
	static const char *const ext[] = { "?", "tty", "pipe", "socket", "other" };

	(void)img;
	show_list_begin(s, "fds");
	for (uint32_t i = 0; i < p->nfds; i++) {
		const struct ck_fd *d = &p->fds[i];

		show_obj_begin(s, NULL, true);
		show_i64(s, "fd", d->rec.fd);
		if (!d->file) {
			show_str(s, "external", ext[d->rec.ext_kind <= 4 ? d->rec.ext_kind : 0]);
		} else {
			show_str(s, "kind", d->file->ops->name);
			if (d->file->ops->show)
				d->file->ops->show(s, d->file);
			show_str(s, "access", access_name(d->file->rec.flags));
			if (d->file->rec.flags & O_APPEND)
				show_bool(s, "append", true);
			if (d->file->rec.flags & O_NONBLOCK)
				show_bool(s, "nonblock", true);
			show_u64(s, "file", d->file->obj.id);
			fd_owner_show(s, d->file);
		}
		if (d->rec.flags & CKPT_FD_CLOEXEC)
			show_bool(s, "cloexec", true);
		show_obj_end(s);
	}
	show_list_end(s);
	fd_locks_show(s, p);
}

/* every record of a descriptor kind (see files.h) */
static const uint32_t types[] = {
	CKPT_REC_FILE,
	CKPT_REC_FD,
	CKPT_REC_FILE_OWNER,
	CKPT_REC_FILE_ID,
	CKPT_REC_PIPE,
	CKPT_REC_EVENTFD,
	CKPT_REC_SIGNALFD,
	CKPT_REC_TIMERFD,
	CKPT_REC_EPOLL,
	CKPT_REC_INOTIFY,
	CKPT_REC_FILE_PIDFD,
	CKPT_REC_FILE_PROC,
	CKPT_REC_FILE_DELETED,
	CKPT_REC_DELETED,
	CKPT_REC_DELETED_DATA,
	CKPT_REC_LOCKS,
	CKPT_REC_MQUEUE,
	CKPT_REC_UNIX,
	0,
};

const struct res_ops files_ops = {
	.name = "files",
	.types = types,
	.collect = collect,
	.collect_done = collect_done,
	.write = write_rec,
	.read = read_rec,
	.validate = validate,
	.check = check,
	.prepare = prepare,
	.plan = plan,
	.show = show,
};
