/*
 * files.c: file descriptors and the open file descriptions behind them.
 *
 * Handled: regular files and directories (path, access mode, flags,
 * offset, close-on-exec, at any descriptor number, shared descriptions kept
 * shared), the stateless character devices null, zero, full, random and
 * urandom, and shared memory objects (memfds, files of /dev/shm: their
 * contents are an object of shmem.c, which restart creates; each open
 * description of one is opened again from it). A terminal, pipe or socket
 * on descriptor 0, 1 or 2 is external: restart connects the descriptor of
 * the same number of the restarting ckpt.
 * Everything else is refused at checkpoint, naming the descriptor and kind.
 *
 * At restart ckpt opens each description once; the new processes inherit
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
#include "res/res.h"
#include "res/shmem.h"
#include "util/io.h"
#include "util/log.h"

#define MAX_FD (1 << 20)
#define OPEN_FLAGS_KEPT                                                                            \
	(O_ACCMODE | O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME | O_SYNC | O_DSYNC | O_PATH |    \
	 O_DIRECTORY | O_NOFOLLOW | O_LARGEFILE)

static const struct {
	unsigned int minor;
	const char *name;
} mem_devices[] = {
	{ 3, "null" }, { 5, "zero" }, { 7, "full" }, { 8, "random" }, { 9, "urandom" },
};

static const char *mem_device(dev_t rdev)
{
	if (major(rdev) != 1)
		return NULL;
	for (size_t i = 0; i < sizeof(mem_devices) / sizeof(mem_devices[0]); i++)
		if (minor(rdev) == mem_devices[i].minor)
			return mem_devices[i].name;
	return NULL;
}

static bool is_tty_major(unsigned int maj)
{
	return maj == 4 || maj == 5 || (maj >= 136 && maj <= 143);
}

static void release_file(struct ck_obj *obj)
{
	struct ck_file *f = (struct ck_file *)obj;

	if (obj->fd >= 0)
		close(obj->fd);
	free(f->path);
	free(f);
}

static struct ck_file *new_file(void)
{
	struct ck_file *f = calloc(1, sizeof(*f));

	if (f) {
		f->obj.kind = OBJ_FILE;
		f->obj.fd = -1;
		f->obj.release = release_file;
	}
	return f;
}

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

static int refuse(struct ck_proc *p, int fd, const char *kind, const char *why)
{
	log_err("pid %d fd %d: %s: %s", p->rec.pid, fd, kind, why);
	return -EOPNOTSUPP;
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

static int collect_one(struct dump_ctx *ctx, struct ck_proc *p, int fd)
{
	struct ckpt_rec_fd rec = { .fd = fd };
	char link[64], target[4096], kindbuf[64];
	struct proc_fdinfo fi;
	struct stat st;
	struct ck_file *f;
	struct same_file same = { .pid = p->rec.pid, .fd = fd };
	struct ck_shmem *shm = NULL;
	const char *kind;
	uint32_t shm_kind;
	int err, ftype;

	snprintf(link, sizeof(link), "/proc/%d/fd/%d", p->rec.pid, fd);
	err = io_readlink(link, target, sizeof(target));
	if (!err && stat(link, &st))
		err = -errno;
	if (!err)
		err = proc_read_fdinfo(p->rec.pid, fd, &fi);
	if (err) {
		log_err("pid %d fd %d: cannot inspect it: %s", p->rec.pid, fd, strerror(-err));
		return err;
	}
	if (fi.flags & O_CLOEXEC)
		rec.flags |= CKPT_FD_CLOEXEC;
	kind = kind_of_link(target, kindbuf, sizeof(kindbuf));
	if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) ||
	    (S_ISCHR(st.st_mode) && !mem_device(st.st_rdev))) {
		bool tty = S_ISCHR(st.st_mode) && is_tty_major(major(st.st_rdev));

		if (fd > 2 || (S_ISCHR(st.st_mode) && !tty))
			return refuse(p, fd, S_ISCHR(st.st_mode) ? target : kind, "not supported");
		rec.flags |= CKPT_FD_EXTERNAL;
		rec.ext_kind = S_ISFIFO(st.st_mode)   ? CKPT_EXT_PIPE
			       : S_ISSOCK(st.st_mode) ? CKPT_EXT_SOCKET
						      : CKPT_EXT_TTY;
		return add_fd(p, &rec, NULL);
	}
	if (S_ISREG(st.st_mode))
		ftype = CKPT_FILE_REG;
	else if (S_ISDIR(st.st_mode))
		ftype = CKPT_FILE_DIR;
	else if (S_ISCHR(st.st_mode))
		ftype = CKPT_FILE_CHR;
	else
		return refuse(p, fd, kind, "not supported");
	if (target[0] != '/')
		return refuse(p, fd, kind, "not supported");
	if (fi.has_locks)
		return refuse(p, fd, target, "file locks are not supported");
	if (fi.flags & O_ASYNC)
		return refuse(p, fd, target, "O_ASYNC signal-driven I/O is not supported");
	shm_kind = shmem_kind_of(target, &st);
	if (shm_kind) {
		char what[32];

		snprintf(what, sizeof(what), "fd %d", fd);
		err = shmem_collect(ctx, p, link, shm_kind, what, &shm);
		if (err)
			return err;
		ftype = CKPT_FILE_SHM;
	}

	f = (struct ck_file *)objhash_find(&ctx->img->objs, OBJ_FILE, st.st_dev, st.st_ino,
					   is_same_file, &same);
	if (!f) {
		char *path = NULL;

		err = shm ? 0 : res_link_path(link, &path, NULL);
		if (err == -ENOENT)
			return refuse(p, fd, target,
				      "file was deleted or is not reachable from ckpt's root");
		if (err)
			return err;
		f = new_file();
		if (!f) {
			free(path);
			return -ENOMEM;
		}
		f->path = path;
		f->shmem = shm;
		f->dump_pid = p->rec.pid;
		f->dump_fd = fd;
		f->obj.key[0] = st.st_dev;
		f->obj.key[1] = st.st_ino;
		f->rec.kind = ftype;
		f->rec.flags = fi.flags & OPEN_FLAGS_KEPT;
		f->rec.pos = fi.pos;
		f->rec.rdev = ftype == CKPT_FILE_CHR ? st.st_rdev : 0;
		f->rec.mode = st.st_mode;
		f->rec.path_len = path ? strlen(path) : 0;
		err = objhash_add(&ctx->img->objs, &f->obj);
		if (err) {
			release_file(&f->obj);
			return err;
		}
	}
	rec.file_id = f->obj.id;
	return add_fd(p, &rec, f);
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
			struct iovec iov[2] = {
				{ .iov_base = &f->rec, .iov_len = sizeof(f->rec) },
				{ .iov_base = f->path, .iov_len = f->rec.path_len },
			};

			f->rec.id = f->obj.id;
			f->rec.obj_id = f->shmem ? f->shmem->obj.id : 0;
			err = img_write_rec(w, CKPT_REC_FILE, iov, 2);
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

static int read_file(struct ck_image *img, uint32_t type, const void *data, uint32_t len)
{
	const struct ckpt_rec_file *r = data;
	const char *path = (const char *)(r + 1);
	struct ck_shmem *shm = NULL;
	struct ck_file *f;
	int err;

	err = res_check_len(type, len, sizeof(*r), len >= sizeof(*r) ? r->path_len : 0);
	if (err)
		return err;
	if (r->kind < CKPT_FILE_REG || r->kind > CKPT_FILE_SHM || r->flags & ~OPEN_FLAGS_KEPT ||
	    (r->kind == CKPT_FILE_SHM) != !r->path_len ||
	    (r->kind == CKPT_FILE_SHM) != !!r->obj_id ||
	    (r->path_len && (path[0] != '/' || memchr(path, 0, r->path_len))))
		return res_bad(type, "is malformed");
	if (r->kind == CKPT_FILE_CHR && !mem_device(r->rdev))
		return res_bad(type, "names an unsupported device");
	if (r->kind == CKPT_FILE_SHM) {
		struct ck_obj *o = objhash_by_id(&img->objs, r->obj_id);

		shm = o && o->kind == OBJ_SHMEM ? (struct ck_shmem *)o : NULL;
		if (!shm || shm->rec.kind == CKPT_SHMEM_ANON)
			return res_bad(type, "refers to an unknown shared memory object");
	}
	f = new_file();
	if (!f)
		return -ENOMEM;
	f->rec = *r;
	f->obj.id = r->id;
	f->shmem = shm;
	f->path = r->path_len ? res_strndup(path, r->path_len) : NULL;
	if (r->path_len && !f->path) {
		release_file(&f->obj);
		return -ENOMEM;
	}
	err = objhash_insert(&img->objs, &f->obj);
	if (err) {
		release_file(&f->obj);
		return res_bad(type, "reuses an object id");
	}
	return 0;
}

static int read_rec(struct ck_image *img, struct ck_proc *p, struct ck_thread *t, uint32_t type,
		    const void *data, uint32_t len)
{
	const struct ckpt_rec_fd *r = data;
	struct ck_obj *obj = NULL;
	int err;

	(void)t;
	if (type == CKPT_REC_FILE)
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

static int open_file(struct ck_proc *p, int fd, struct ck_file *f)
{
	const char *name = !f->shmem	    ? f->path
			   : f->shmem->name ? f->shmem->name
					    : "System V shared memory";
	struct stat st;
	int ofd, err;
	bool ok;

	if (f->shmem)
		ofd = shmem_reopen(f->shmem, f->rec.flags); /* created by shmem.c's prepare */
	else
		ofd = open(f->path, f->rec.flags | O_CLOEXEC | O_NOCTTY);
	if (ofd < 0) {
		err = f->shmem ? ofd : -errno;
		log_err("pid %d fd %d: cannot reopen '%s': %s", p->rec.pid, fd, name,
			strerror(-err));
		return err;
	}
	if (fstat(ofd, &st)) {
		err = -errno;
		goto out_close;
	}
	ok = f->rec.kind == CKPT_FILE_REG || f->rec.kind == CKPT_FILE_SHM ? S_ISREG(st.st_mode)
	     : f->rec.kind == CKPT_FILE_DIR				  ? S_ISDIR(st.st_mode)
					    : S_ISCHR(st.st_mode) && st.st_rdev == f->rec.rdev;
	if (!ok) {
		log_err("pid %d fd %d: '%s' is no longer the kind of file it was", p->rec.pid, fd,
			name);
		err = -ESTALE;
		goto out_close;
	}
	if (f->rec.kind != CKPT_FILE_CHR && !(f->rec.flags & O_PATH) &&
	    lseek(ofd, (off_t)f->rec.pos, SEEK_SET) < 0) {
		err = -errno;
		log_err("pid %d fd %d: cannot seek '%s' to %llu: %s", p->rec.pid, fd, name,
			(unsigned long long)f->rec.pos, strerror(errno));
		goto out_close;
	}
	f->obj.fd = ofd;
	return 0;
out_close:
	close(ofd);
	return err;
}

static int prepare(struct rst_ctx *ctx, struct ck_proc *p)
{
	for (uint32_t i = 0; i < p->nfds; i++) {
		struct ck_fd *d = &p->fds[i];
		bool cloexec = d->rec.flags & CKPT_FD_CLOEXEC;
		int src = d->rec.fd, err = 0;

		if (d->file) {
			err = d->file->obj.fd < 0 ? open_file(p, d->rec.fd, d->file) : 0;
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

/* Each descriptor is a copy of the temporary one the process inherited. */
static int plan(struct rst_ctx *ctx, struct ck_proc *p, struct blob_plan *bp, enum plan_phase phase)
{
	if (phase != PLAN_SETUP)
		return 0;
	for (size_t i = 0; i < p->rst->ninstalls; i++) {
		const struct fd_install *in = &p->rst->installs[i];
		int err = plan_call(bp, 0, 0, SYS_dup3, res_temp(ctx, in->src), in->fd,
				    in->cloexec ? O_CLOEXEC : 0, 0, 0, 0, "install fd %d", in->fd);

		if (err)
			return err;
	}
	return 0;
}

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
			if (d->file->shmem) {
				show_u64(s, "shm", d->file->shmem->obj.id);
				if (d->file->shmem->name)
					show_str(s, "name", d->file->shmem->name);
			} else {
				show_str(s, "path", d->file->path);
			}
			show_str(s, "access", access_name(d->file->rec.flags));
			if (d->file->rec.flags & O_APPEND)
				show_bool(s, "append", true);
			if (d->file->rec.kind != CKPT_FILE_CHR)
				show_u64(s, "pos", d->file->rec.pos);
			show_u64(s, "file", d->file->obj.id);
		}
		if (d->rec.flags & CKPT_FD_CLOEXEC)
			show_bool(s, "cloexec", true);
		show_obj_end(s);
	}
	show_list_end(s);
}

static const uint32_t types[] = { CKPT_REC_FILE, CKPT_REC_FD, 0 };

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
