/*
 * fs.c: the working directory, the root directory and the umask. The new
 * process enters them just before its blob runs, once every file it
 * inherits has been opened by path from ckpt's own root.
 *
 * A working directory that was removed (/proc/PID/cwd reads "PATH
 * (deleted)" and the directory has no links left) is empty and can never
 * be reached by path again: what a process sees of it is its permissions,
 * its owner and its name in /proc. Restart makes an empty directory at
 * PATH (and its missing parents), gives it the saved permissions and owner,
 * opens it and removes it again (and the parents it made) before any
 * process exists, so the process is in a removed directory that
 * /proc/PID/cwd shows as it was; getcwd() fails with ENOENT as before.
 * When PATH is taken by then, the directory is made beside it, as
 * "PATH.ckpt-XXXXXX", which /proc shows instead. Processes that were in
 * the same removed directory are in the same one again.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "res/res.h"
#include "util/io.h"
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

#define DELETED_SUFFIX " (deleted)"

/* A removed working directory: its path as it was, its permissions,
 * owner and identity. -ENOENT when it is not one. */
static int collect_gone_cwd(struct ck_proc *p)
{
	const size_t sl = strlen(DELETED_SUFFIX);
	char link[64], buf[PATH_MAX];
	struct stat st;
	size_t len;
	int err;

	snprintf(link, sizeof(link), "/proc/%d/cwd", p->rec.pid);
	err = io_readlink(link, buf, sizeof(buf));
	if (err)
		return err;
	len = strlen(buf);
	if (stat(link, &st))
		return -errno;
	if (len <= sl + 1 || buf[0] != '/' || strcmp(buf + len - sl, DELETED_SUFFIX) ||
	    !S_ISDIR(st.st_mode) || st.st_nlink)
		return -ENOENT;
	p->cwd = strndup(buf, len - sl);
	if (!p->cwd)
		return -ENOMEM;
	p->fs.flags |= CKPT_FS_CWD_DELETED;
	p->fs.cwd_mode = st.st_mode & 07777;
	p->fs.cwd_uid = st.st_uid;
	p->fs.cwd_gid = st.st_gid;
	p->fs.cwd_dev = st.st_dev;
	p->fs.cwd_ino = st.st_ino;
	return 0;
}

static int collect(struct dump_ctx *ctx, struct ck_proc *p)
{
	int err;

	(void)ctx;
	p->fs.umask = p->live->status.umask;
	err = collect_gone_cwd(p);
	if (err == -ENOENT)
		err = link_dir(p, "cwd", &p->cwd);
	else if (err)
		log_err("pid %d: cwd: %s", p->rec.pid, strerror(-err));
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

/* An absolute path, not "/", with no empty, "." or ".." component: a
 * removed directory restart may make again. */
static bool is_plain_path(const char *path)
{
	const char *c = path;

	if (path[0] != '/' || !path[1])
		return false;
	while (*c == '/') {
		size_t n = strcspn(c + 1, "/");

		if (!n || (n == 1 && c[1] == '.') || (n == 2 && c[1] == '.' && c[2] == '.'))
			return false;
		c += 1 + n;
	}
	return !*c;
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
	    memchr(tail, 0, f->cwd_len + f->root_len) || f->umask > 0777 ||
	    f->flags & ~CKPT_FS_FLAGS_ALL || f->cwd_mode > 07777 || f->pad)
		return res_bad(type, "holds a bad path or umask");
	p->fs = *f;
	p->cwd = res_strndup(tail, f->cwd_len);
	p->root = res_strndup(tail + f->cwd_len, f->root_len);
	if (!p->cwd || !p->root)
		return -ENOMEM;
	if (f->flags & CKPT_FS_CWD_DELETED && !is_plain_path(p->cwd))
		return res_bad(type, "holds a bad path for a removed directory");
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
	err = p->fs.flags & CKPT_FS_CWD_DELETED ? 0 : check_dir(p, "working directory", p->cwd);
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

/* Removes the directories made for a removed one, deepest first. */
static void unmake(char **made, size_t n)
{
	while (n-- > 0) {
		rmdir(made[n]);
		free(made[n]);
	}
}

/* Makes path's missing parents (each added to made) and then path, or a
 * directory beside it when path is taken; its name goes to ret_leaf. */
static int make_dirs(struct ck_proc *p, const char *path, char **made, size_t *nmade,
		     char **ret_leaf)
{
	char *dir = strdup(path), *leaf;
	int err = dir ? 0 : -ENOMEM;

	for (char *c = dir ? strchr(dir + 1, '/') : NULL; c && !err; c = strchr(c + 1, '/')) {
		*c = '\0';
		if (!mkdir(dir, 0700)) {
			made[*nmade] = strdup(dir);
			if (made[*nmade]) {
				(*nmade)++;
			} else {
				rmdir(dir);
				err = -ENOMEM;
			}
		} else if (errno != EEXIST) {
			err = -errno;
			log_err("pid %d: cannot make '%s' for its removed working directory: %s",
				p->rec.pid, dir, strerror(errno));
		}
		*c = '/';
	}
	free(dir);
	if (err)
		return err;
	leaf = strdup(path);
	if (!leaf)
		return -ENOMEM;
	if (!mkdir(leaf, 0700)) {
		*ret_leaf = leaf;
		return 0;
	}
	if (errno == EEXIST) {
		free(leaf);
		if (asprintf(&leaf, "%s.ckpt-XXXXXX", path) < 0)
			return -ENOMEM;
		if (mkdtemp(leaf)) {
			*ret_leaf = leaf;
			return 0;
		}
	}
	err = -errno;
	log_err("pid %d: cannot make its removed working directory '%s': %s", p->rec.pid, leaf,
		strerror(errno));
	free(leaf);
	return err;
}

/* ckpt's descriptor of an empty, removed directory with the saved
 * permissions and owner, made at the saved path (see the top). */
static int make_gone_dir(struct ck_proc *p, int *ret_fd)
{
	size_t depth = 1, nmade = 0;
	char **made, *leaf = NULL;
	int err, fd = -1;

	for (const char *c = p->cwd; *c; c++)
		depth += *c == '/';
	made = calloc(depth, sizeof(*made));
	if (!made)
		return -ENOMEM;
	err = make_dirs(p, p->cwd, made, &nmade, &leaf);
	if (!err) {
		fd = open(leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fchown(fd, p->fs.cwd_uid, p->fs.cwd_gid) ||
		    fchmod(fd, p->fs.cwd_mode) || rmdir(leaf)) {
			err = -errno;
			log_err("pid %d: cannot make its removed working directory '%s': %s",
				p->rec.pid, leaf, strerror(errno));
			rmdir(leaf);
		}
	}
	unmake(made, nmade);
	free(made);
	free(leaf);
	if (err) {
		if (fd >= 0)
			close(fd);
		return err;
	}
	*ret_fd = fd;
	return 0;
}

/* The removed working directory of p, made once for every process that
 * was in it. */
static int open_gone_dir(struct rst_ctx *ctx, struct ck_proc *p, int *ret_fd)
{
	struct ck_obj *o = objhash_find(&ctx->img->objs, OBJ_GONE_DIR, p->fs.cwd_dev, p->fs.cwd_ino,
					NULL, NULL);
	int fd, err;

	if (o) {
		*ret_fd = o->fd;
		return 0;
	}
	err = make_gone_dir(p, &fd);
	if (!err)
		err = res_keep_fd(ctx, OBJ_GONE_DIR, p->fs.cwd_dev, p->fs.cwd_ino, &fd);
	if (err < 0)
		return err;
	*ret_fd = fd;
	return res_temp_register(ctx, fd);
}

static int prepare(struct rst_ctx *ctx, struct ck_proc *p)
{
	int err = p->fs.flags & CKPT_FS_CWD_DELETED ? open_gone_dir(ctx, p, &p->rst->cwd_src)
						    : open_dir(ctx, p, p->cwd, &p->rst->cwd_src);

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
	if (p->fs.flags & CKPT_FS_CWD_DELETED) {
		show_bool(s, "cwd_deleted", true);
		show_fmt(s, "cwd_mode", "%04o", p->fs.cwd_mode);
		show_u64(s, "cwd_uid", p->fs.cwd_uid);
		show_u64(s, "cwd_gid", p->fs.cwd_gid);
	}
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
