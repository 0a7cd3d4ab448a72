/*
 * files.c: the descriptor table of each process, and the open file
 * descriptions behind it.
 *
 * Each descriptor is a number, its close-on-exec flag and the description
 * it reaches. A description (OBJ_FILE in the objhash) is saved once however
 * many descriptors and processes share it (dup, fork: kcmp tells the same
 * description apart from another open of the same file), with its access
 * mode, status flags and offset; what else it holds belongs to its kind,
 * one file per kind behind struct fd_ops (files.h), chosen in fd_kinds
 * order. A terminal, pipe or socket on descriptor 0, 1 or 2 whose kind
 * does not take it is external: restart connects the descriptor of the
 * same number of the restarting ckpt. Everything else is refused at
 * checkpoint, naming the descriptor and its kind.
 *
 * At restart ckpt opens each description once (or the process itself
 * opens it, for kinds that name a process); the new processes inherit
 * them and install their own copies at the saved numbers.
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

extern const struct fd_ops fd_reg_ops;
extern const struct fd_ops fd_mqueue_ops;

/* Checkpoint asks each kind in this order whether a description is its. */
static const struct fd_ops *const fd_kinds[] = {
	&fd_mqueue_ops,
	&fd_reg_ops,
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

struct same_file {
	pid_t pid;
	int fd;
};

static bool is_same_file(struct ck_obj *obj, void *arg)
{
	struct ck_file *f = (struct ck_file *)obj;
	struct same_file *s = arg;

	return syscall(SYS_kcmp, f->dump_pid, s->pid, KCMP_FILE, f->dump_fd, s->fd) == 0;
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
		return fd_refuse(pr, S_ISCHR(st->st_mode) ? pr->target : pr->kind,
				 "not supported");
	rec->flags |= CKPT_FD_EXTERNAL;
	rec->ext_kind = S_ISFIFO(st->st_mode)	? CKPT_EXT_PIPE
			: S_ISSOCK(st->st_mode) ? CKPT_EXT_SOCKET
						: CKPT_EXT_TTY;
	return add_fd(p, rec, NULL);
}

static int collect_new(struct dump_ctx *ctx, const struct fd_probe *pr, const struct fd_ops *ops,
		       struct ck_file **ret)
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
		err = objhash_add(&ctx->img->objs, &f->obj);
	if (err) {
		release_file(&f->obj);
		return err;
	}
	*ret = f;
	return 0;
}

static int collect_one(struct dump_ctx *ctx, struct ck_proc *p, int fd)
{
	struct ckpt_rec_fd rec = { .fd = fd };
	char link[64], target[4096], kindbuf[64], *text = NULL;
	struct fd_probe pr = { .p = p, .fd = fd, .link = link, .target = target };
	struct same_file same = { .pid = p->rec.pid, .fd = fd };
	const struct fd_ops *ops;
	struct ck_file *f;
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
	if (pr.fi.has_locks) {
		err = fd_refuse(&pr, target, "file locks are not supported");
		goto out;
	}
	if (pr.fi.flags & O_ASYNC) {
		err = fd_refuse(&pr, target, "O_ASYNC signal-driven I/O is not supported");
		goto out;
	}
	f = (struct ck_file *)objhash_find(&ctx->img->objs, OBJ_FILE, pr.st.st_dev, pr.st.st_ino,
					   is_same_file, &same);
	if (!f)
		err = collect_new(ctx, &pr, ops, &f);
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
	int *fds, err = 0;
	size_t n;

	err = proc_list_fds(p->rec.pid, &fds, &n);
	if (err) {
		log_err("pid %d: cannot list its descriptors: %s", p->rec.pid, strerror(-err));
		return err;
	}
	for (size_t i = 0; i < n && !err; i++)
		err = collect_one(ctx, p, fds[i]);
	free(fds);
	return err;
}

static int write_rec(struct img_writer *w, struct ck_image *img, struct ck_proc *p)
{
	(void)img;
	for (uint32_t i = 0; i < p->nfds; i++) {
		struct ck_file *f = p->fds[i].file;
		int err;

		if (f && !f->obj.written) {
			err = f->ops->write ? f->ops->write(w, f) : fd_write_plain(w, f);
			if (err)
				return err;
			f->obj.written = true;
		}
		err = img_write_rec1(w, CKPT_REC_FD, &p->fds[i].rec, sizeof(p->fds[i].rec));
		if (err)
			return err;
	}
	return 0;
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
	return f->obj.fd < 0 ? f->ops->open(ctx, p, fd, f) : 0;
}

static int prepare(struct rst_ctx *ctx, struct ck_proc *p)
{
	for (uint32_t i = 0; i < p->nfds; i++) {
		struct ck_fd *d = &p->fds[i];
		bool cloexec = d->rec.flags & CKPT_FD_CLOEXEC;
		int src = d->rec.fd, err = 0;

		if (d->file && d->file->ops->plan_open)
			continue; /* the process opens it itself */
		if (d->file) {
			err = fd_open_file(ctx, p, d->rec.fd, d->file);
			src = d->file->obj.fd;
		}
		if (!err)
			err = res_temp_register(ctx, src);
		if (!err)
			err = res_add_install(p->rst, d->rec.fd, src, cloexec);
		if (err)
			return err;
	}
	return 0;
}

/* Each descriptor is a copy of the temporary one the process inherited,
 * or opened by the process itself. */
static int plan(struct rst_ctx *ctx, struct ck_proc *p, struct blob_plan *bp, enum plan_phase phase)
{
	int err = 0;

	if (phase != PLAN_SETUP)
		return 0;
	for (size_t i = 0; i < p->rst->ninstalls && !err; i++) {
		const struct fd_install *in = &p->rst->installs[i];

		err = plan_call(bp, 0, 0, SYS_dup3, res_temp(ctx, in->src), in->fd,
				in->cloexec ? O_CLOEXEC : 0, 0, 0, 0, "install fd %d", in->fd);
	}
	for (uint32_t i = 0; i < p->nfds && !err; i++) {
		struct ck_fd *d = &p->fds[i];

		if (d->file && d->file->ops->plan_open)
			err = d->file->ops->plan_open(ctx, p, d->rec.fd, d->file, bp);
	}
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
		}
		if (d->rec.flags & CKPT_FD_CLOEXEC)
			show_bool(s, "cloexec", true);
		show_obj_end(s);
	}
	show_list_end(s);
}

static const uint32_t types[] = {
	CKPT_REC_FILE,
	CKPT_REC_FD,
	CKPT_REC_MQUEUE,
	0,
};

const struct res_ops files_ops = {
	.name = "files",
	.types = types,
	.collect = collect,
	.write = write_rec,
	.read = read_rec,
	.check = check,
	.prepare = prepare,
	.plan = plan,
	.show = show,
};
