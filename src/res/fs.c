/*
 * fs.c: the working directory, the root directory and the umask. The new
 * process enters them just before its blob runs, once every file it
 * inherits has been opened by path from ckpt's own root.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "res/res.h"
#include "util/log.h"

static int link_dir(struct ck_proc *p, const char *what, char **ret)
{
	char link[64];
	int err;

	snprintf(link, sizeof(link), "/proc/%d/%s", p->rec.pid, what);
	err = res_link_path(link, ret, NULL);
	if (err == -ENOENT) {
		log_err("pid %d: %s: directory was deleted or is not reachable from ckpt's root: "
			"not supported",
			p->rec.pid, what);
		return -EOPNOTSUPP;
	} else if (err)
		log_err("pid %d: %s: %s", p->rec.pid, what, strerror(-err));
	return err;
}

static int collect(struct dump_ctx *ctx, struct ck_proc *p)
{
	int err;

	(void)ctx;
	p->fs.umask = p->live->status.umask;
	err = link_dir(p, "cwd", &p->cwd);
	if (!err)
		err = link_dir(p, "root", &p->root);
	if (err)
		return err;
	p->fs.cwd_len = strlen(p->cwd);
	p->fs.root_len = strlen(p->root);
	p->have |= 1U << CK_HAVE_FS;
	return 0;
}

static int write_rec(struct img_writer *w, struct ck_image *img, struct ck_proc *p)
{
	struct iovec iov[3] = {
		{ .iov_base = &p->fs, .iov_len = sizeof(p->fs) },
		{ .iov_base = p->cwd, .iov_len = p->fs.cwd_len },
		{ .iov_base = p->root, .iov_len = p->fs.root_len },
	};

	(void)img;
	return img_write_rec(w, CKPT_REC_FS, iov, 3);
}

static int read_rec(struct ck_image *img, struct ck_proc *p, struct ck_thread *t, uint32_t type,
		    const void *data, uint32_t len)
{
	const struct ckpt_rec_fs *f = data;
	const char *tail = (const char *)(f + 1);
	int err;

	(void)img;
	(void)t;
	if (!p || p->have & (1U << CK_HAVE_FS))
		return res_bad(type, "outside a process or repeated");
	err = res_check_len(type, len, sizeof(*f),
			    len >= sizeof(*f) ? (uint64_t)f->cwd_len + f->root_len : 0);
	if (err)
		return err;
	if (!f->cwd_len || !f->root_len || tail[0] != '/' || tail[f->cwd_len] != '/' ||
	    memchr(tail, 0, f->cwd_len + f->root_len) || f->umask > 0777)
		return res_bad(type, "holds a bad path or umask");
	p->fs = *f;
	p->cwd = res_strndup(tail, f->cwd_len);
	p->root = res_strndup(tail + f->cwd_len, f->root_len);
	if (!p->cwd || !p->root)
		return -ENOMEM;
	p->have |= 1U << CK_HAVE_FS;
	return 0;
}

static int check_dir(struct ck_proc *p, const char *what, const char *path)
{
	struct stat st;

	if (stat(path, &st)) {
		log_err("pid %d: %s '%s': %s", p->rec.pid, what, path, strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode)) {
		log_err("pid %d: %s '%s' is not a directory", p->rec.pid, what, path);
		return -ENOTDIR;
	}
	return 0;
}

static int check(struct rst_ctx *ctx, struct ck_proc *p)
{
	int err;

	(void)ctx;
	err = check_dir(p, "working directory", p->cwd);
	return err ? err : check_dir(p, "root directory", p->root);
}

/* ckpt's O_PATH descriptor of a directory, opened once for the tree. */
static int open_dir(struct rst_ctx *ctx, struct ck_proc *p, const char *path, int *ret_fd)
{
	int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct stat st;
	int err;

	if (fd < 0 || fstat(fd, &st)) {
		err = -errno;
		log_err("pid %d: cannot open directory '%s': %s", p->rec.pid, path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return err;
	}
	err = res_keep_fd(ctx, OBJ_DIR, st.st_dev, st.st_ino, &fd);
	if (err < 0)
		return err;
	*ret_fd = fd;
	return err ? res_temp_register(ctx, fd) : 0;
}

static int prepare(struct rst_ctx *ctx, struct ck_proc *p)
{
	int err = open_dir(ctx, p, p->cwd, &p->rst->cwd_src);

	return err ? err : open_dir(ctx, p, p->root, &p->rst->root_src);
}

static int plan(struct rst_ctx *ctx, struct ck_proc *p, struct blob_plan *bp, enum plan_phase phase)
{
	int err = 0;

	if (phase != PLAN_SETUP)
		return 0;
	if (strcmp(p->root, "/")) {
		int64_t dot = plan_data(bp, ".", 2);

		if (dot < 0)
			return -ENOMEM;
		err = plan_call(bp, 0, 0, SYS_fchdir, res_temp(ctx, p->rst->root_src), 0, 0, 0, 0,
				0, "enter root directory '%s'", p->root);
		if (!err)
			err = plan_call(bp, 0, 1U << 0, SYS_chroot, dot, 0, 0, 0, 0, 0,
					"change root to '%s'", p->root);
	}
	if (!err)
		err = plan_call(bp, 0, 0, SYS_fchdir, res_temp(ctx, p->rst->cwd_src), 0, 0, 0, 0, 0,
				"enter working directory '%s'", p->cwd);
	if (!err)
		err = plan_call(bp, 0, 0, SYS_umask, p->fs.umask, 0, 0, 0, 0, 0, "set the umask");
	return err;
}

static void show(struct show_ctx *s, struct ck_image *img, struct ck_proc *p)
{
	(void)img;
	show_str(s, "cwd", p->cwd);
	show_str(s, "root", p->root);
	show_fmt(s, "umask", "%04o", p->fs.umask);
}

static const uint32_t types[] = { CKPT_REC_FS, 0 };

const struct res_ops fs_ops = {
	.name = "fs",
	.types = types,
	.collect = collect,
	.write = write_rec,
	.read = read_rec,
	.check = check,
	.prepare = prepare,
	.plan = plan,
	.show = show,
};
